//! The CI gate: every scenario's verdicts over many seeds match its expectations, every
//! situation it declares occurs on some seed, and the same seed always produces the same
//! history.

use faultline::runner::{run_many, Loaded, VariantSummary};
use faultline::scenario::Scenario;

/// Seeds per variant in the gate; `FAULTLINE_SEEDS` raises it for a deeper run.
fn seeds() -> Vec<u64> {
    let n = std::env::var("FAULTLINE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    (1..=n).collect()
}

fn gate(path: &str) {
    let scenario = Scenario::load(path.as_ref()).expect("scenario loads");
    let loaded =
        Loaded::new(scenario.clone(), &faultline_seeds::registry()).expect("scenario validates");
    let variants = loaded.variants();
    let (results, _) = run_many(
        &scenario,
        &faultline_seeds::registry(),
        &variants,
        &seeds(),
        2,
        &|_, _| {},
    )
    .expect("runs");
    let mut problems = Vec::new();
    for v in &variants {
        let summary = VariantSummary::new(&loaded, v, &results);
        for t in &summary.invariants {
            if !t.as_expected() {
                problems.push(format!(
                    "{path} {v} {}: violated on {}/{} seeds (first seed {:?}), expected {}",
                    t.invariant,
                    t.violated,
                    summary.seeds,
                    t.first_seed,
                    if t.expected { "a violation" } else { "none" }
                ));
            }
        }
        // A green gate must also prove it reached the situations its scenario claims.
        for t in summary.missed_situations() {
            problems.push(format!(
                "{path} {v}: situation {} ({}) occurred on none of {} seeds",
                t.situation, t.description, summary.seeds
            ));
        }
        if v == "reference" {
            assert_eq!(
                summary.unfinished, 0,
                "{path}: reference clients must finish in the liveness phase"
            );
        }
    }
    assert!(
        problems.is_empty(),
        "verdicts differ from expectations:\n{}",
        problems.join("\n")
    );
}

#[test]
fn business_cards_gate() {
    gate("scenarios/business_cards.toml");
}

#[test]
fn chat_persistence_gate() {
    gate("scenarios/chat_persistence.toml");
}

#[test]
fn loop_export_gate() {
    gate("scenarios/loop_export.toml");
}

#[test]
fn offline_sync_gate() {
    gate("scenarios/offline_sync.toml");
}

#[test]
fn story_progress_gate() {
    gate("scenarios/story_progress.toml");
}

#[test]
fn same_seed_same_history_and_different_seeds_differ() {
    for path in [
        "scenarios/business_cards.toml",
        "scenarios/chat_persistence.toml",
        "scenarios/loop_export.toml",
        "scenarios/offline_sync.toml",
        "scenarios/story_progress.toml",
    ] {
        let loaded = Loaded::load(path, &faultline_seeds::registry()).unwrap();
        for variant in loaded.variants() {
            let a = loaded.run_seed(&variant, 11).unwrap();
            let b = loaded.run_seed(&variant, 11).unwrap();
            let c = loaded.run_seed(&variant, 12).unwrap();
            assert_eq!(
                a.history_hash, b.history_hash,
                "{path} {variant}: same seed, different history"
            );
            assert_ne!(
                a.history_hash, c.history_hash,
                "{path} {variant}: seeds 11 and 12 gave one history"
            );
            assert!(a.ops > 0, "{path} {variant}: the run did nothing");
        }
    }
}

#[test]
fn parallel_runs_match_sequential_runs() {
    let scenario = Scenario::load("scenarios/business_cards.toml".as_ref()).unwrap();
    let variants = vec!["documented".to_string()];
    let seeds: Vec<u64> = (1..=6).collect();
    let (one, _) = run_many(
        &scenario,
        &faultline_seeds::registry(),
        &variants,
        &seeds,
        1,
        &|_, _| {},
    )
    .unwrap();
    let (two, _) = run_many(
        &scenario,
        &faultline_seeds::registry(),
        &variants,
        &seeds,
        2,
        &|_, _| {},
    )
    .unwrap();
    let hashes = |r: &[faultline::runner::SeedResult]| {
        r.iter().map(|x| x.history_hash.clone()).collect::<Vec<_>>()
    };
    assert_eq!(hashes(&one), hashes(&two));
}
