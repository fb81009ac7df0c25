//! Using faultline from proptest: generation, shrinking and regression files for free.

use faultline::runner::Loaded;
use faultline::strategy::plans;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestError, TestRunner};

const SCENARIO: &str = "scenarios/business_cards.toml";

proptest! {
    #![proptest_config(Config { cases: 16, failure_persistence: None, ..Config::default() })]

    #[test]
    fn reference_holds_on_generated_plans(plan in plans(&faultline_seeds::registry(), SCENARIO, "reference")) {
        let loaded = Loaded::load(SCENARIO, &faultline_seeds::registry()).unwrap();
        let (result, _) = loaded.execute(&plan).unwrap();
        let broken: Vec<&str> = result.violations().map(|v| v.invariant.as_str()).collect();
        prop_assert!(broken.is_empty(), "violated: {:?}", broken);
    }
}

#[test]
fn proptest_finds_and_shrinks_a_naive_lost_update() {
    let loaded = Loaded::load(SCENARIO, &faultline_seeds::registry()).unwrap();
    // A fixed generator: the property is about shrinking, and a random one made the bound
    // on the shrunk size depend on the run.
    let config = Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = proptest::test_runner::TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let outcome = runner.run(
        &plans(&faultline_seeds::registry(), SCENARIO, "naive"),
        |plan| {
            let lost = loaded.violates(&plan, "no_lost_updates").unwrap();
            prop_assert!(!lost, "lost update");
            Ok(())
        },
    );
    match outcome {
        Err(TestError::Fail(_, minimal)) => {
            assert!(
                loaded.violates(&minimal, "no_lost_updates").unwrap(),
                "the shrunk plan still fails"
            );
            let ops: usize = minimal.clients.iter().map(|c| c.ops.len()).sum();
            assert!(
                ops <= 3,
                "a lost update needs two or three edits, got {ops}: {minimal:?}"
            );
        }
        other => panic!("naive should lose an update within 64 plans: {other:?}"),
    }
}

/// A variant added through a Harness (here the naive code under a name of the user's own)
/// gets plans too, and proptest shrinks its failure the same way.
#[test]
fn a_harness_added_variant_gets_plans_and_shrinks() {
    use faultline_seeds::business_cards::{variant, Builtin};
    let loaded = std::rc::Rc::new(
        faultline_seeds::harness("business_cards")
            .variant(variant("my_cards", Builtin::Naive))
            .load()
            .unwrap(),
    );
    assert_eq!(loaded.variants(), vec!["my_cards"]);
    let config = Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = proptest::test_runner::TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let strategy = faultline::strategy::plans_of(loaded.clone(), "my_cards");
    let outcome = runner.run(&strategy, |plan| {
        prop_assert_eq!(&plan.variant, "my_cards");
        prop_assert!(!loaded.violates(&plan, "no_lost_updates").unwrap());
        Ok(())
    });
    match outcome {
        Err(TestError::Fail(_, minimal)) => {
            assert!(loaded.violates(&minimal, "no_lost_updates").unwrap());
            let ops: usize = minimal.clients.iter().map(|c| c.ops.len()).sum();
            assert!(ops <= 3, "{ops} operations left: {minimal:?}");
        }
        other => panic!("my_cards should lose an update within 64 plans: {other:?}"),
    }
    let mut fresh = TestRunner::default();
    let unknown = faultline::strategy::plans_of(loaded, "naive");
    assert!(
        unknown.new_tree(&mut fresh).is_err(),
        "only added variants run"
    );
}
