//! Room booking under proptest: plans of the team's own system and variant names are a
//! `Strategy` like any other, shrinking included.

use faultline::runner::Loaded;
use faultline::strategy::plans;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestError, TestRunner};
use room_booking::registry;

proptest! {
    #![proptest_config(Config { cases: 12, failure_persistence: None, ..Config::default() })]

    #[test]
    fn the_fix_holds_on_generated_plans(plan in plans(&registry(), "room_booking", "fixed")) {
        let loaded = Loaded::load("room_booking", &registry()).unwrap();
        let (result, _) = loaded.execute(&plan).unwrap();
        let broken: Vec<&str> = result.violations().map(|v| v.invariant.as_str()).collect();
        prop_assert!(broken.is_empty(), "violated: {:?}", broken);
    }
}

#[test]
fn proptest_finds_and_shrinks_a_double_booking() {
    let loaded = Loaded::load("room_booking", &registry()).unwrap();
    let config = Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    };
    // A fixed generator, so the bound below does not depend on the run.
    let rng = proptest::test_runner::TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let outcome = runner.run(&plans(&registry(), "room_booking", "shipped"), |plan| {
        prop_assert!(!loaded.violates(&plan, "no_double_booking").unwrap());
        Ok(())
    });
    match outcome {
        Err(TestError::Fail(_, minimal)) => {
            assert!(loaded.violates(&minimal, "no_double_booking").unwrap());
            let ops: usize = minimal.clients.iter().map(|c| c.ops.len()).sum();
            // Two bookings race; proptest's one-at-a-time shrinking may keep one or two
            // more whose removal changes the interleaving the race depends on.
            assert!((2..=4).contains(&ops), "{ops} operations left: {minimal:?}");
        }
        other => panic!("shipped should double-book within 200 plans: {other:?}"),
    }
}

#[test]
fn an_unknown_variant_is_an_error_not_a_pass() {
    let mut runner = TestRunner::default();
    let strategy = plans(&registry(), "room_booking", "no_such_variant");
    let Err(err) = strategy.new_tree(&mut runner) else {
        panic!("a variant the system does not have generated plans");
    };
    assert!(err.to_string().contains("no_such_variant"), "{err}");
}
