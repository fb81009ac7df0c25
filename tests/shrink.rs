//! Shrinking, determinism checks and timelines, end to end.

use faultline::runner::Loaded;
use faultline::shrink::shrink;

const SCENARIO: &str = "scenarios/business_cards.toml";

/// The first seed (from 1) on which `variant` violates `invariant`.
fn failing_seed(loaded: &Loaded, variant: &str, invariant: &str) -> u64 {
    (1..=64)
        .find(|s| {
            loaded
                .run_seed(variant, *s)
                .unwrap()
                .violations()
                .any(|v| v.invariant == invariant)
        })
        .expect("the variant is caught within 64 seeds")
}

#[test]
fn every_expected_violation_shrinks_and_still_fails_on_replay() {
    for path in [SCENARIO, "scenarios/chat_persistence.toml"] {
        shrinks_every_expected_violation(path);
    }
}

fn shrinks_every_expected_violation(path: &str) {
    let loaded = Loaded::load(path, &faultline_seeds::registry()).unwrap();
    for variant in loaded.variants() {
        for invariant in loaded.scenario.expected_violations(&variant) {
            let seed = failing_seed(&loaded, &variant, &invariant);
            let plan = loaded.plan(&variant, seed).unwrap();
            let shrunk = shrink(&loaded, &plan, &invariant, 1000).unwrap();
            assert!(
                shrunk.after < shrunk.before,
                "{variant} {invariant} seed {seed}: {} -> {}",
                shrunk.before,
                shrunk.after
            );
            assert_eq!(shrunk.after, shrunk.plan.size());
            // Save and load, as a user replaying the file would.
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("plan.json");
            shrunk.plan.save(&path).unwrap();
            let reloaded = faultline::plan::Plan::load(&path).unwrap();
            let (result, _) = loaded.execute(&reloaded).unwrap();
            assert!(
                result.violations().any(|v| v.invariant == invariant),
                "{variant} {invariant} seed {seed}: the shrunk plan no longer fails"
            );
        }
    }
}

#[test]
fn the_determinism_check_passes_and_names_divergence() {
    let loaded = Loaded::load(SCENARIO, &faultline_seeds::registry()).unwrap();
    let plan = loaded.plan("documented", 5).unwrap();
    let report = faultline::determinism::first_divergence(&loaded, &plan).unwrap();
    assert!(report.contains("two runs agree"), "{report}");
}

#[test]
fn the_timeline_is_one_self_contained_page_with_lanes_and_witnesses() {
    let loaded = Loaded::load(SCENARIO, &faultline_seeds::registry()).unwrap();
    let seed = failing_seed(&loaded, "documented", "no_lost_updates");
    let plan = loaded.plan("documented", seed).unwrap();
    let (result, out) = loaded.execute(&plan).unwrap();
    let html = faultline::report::timeline::html(&loaded, &plan, &result, &out);
    assert!(html.starts_with("<!doctype html>"));
    assert!(
        !html.contains("<script src") && !html.contains("<link "),
        "no outside files"
    );
    for c in &plan.clients {
        assert!(
            html.contains(&format!(">{}</text>", c.name)),
            "lane for {}",
            c.name
        );
    }
    assert!(
        html.contains("op ok witness"),
        "the violating operations are highlighted"
    );
    assert!(html.contains("no_lost_updates</b> violated"));
}
