//! The CI gate on a real PostgreSQL: every scenario with a PostgreSQL mode meets the same
//! expected verdicts there as in the simulator, through real connections, real
//! constraints and real faults from the fault proxies.
//!
//! Runs take wall-clock time (a few seconds each), so the gate runs fewer seeds than the
//! simulated one and many at once: clients spend their time waiting, not computing.
//! Needs a database; skipped with one line without one.

use faultline::pg::testing::database_for;
use faultline::runner::{run_many_with, Loaded, Target, VariantSummary};

/// Seeds per variant; `FAULTLINE_PG_SEEDS` raises it for a deeper run.
fn seeds() -> Vec<u64> {
    let n = std::env::var("FAULTLINE_PG_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    (1..=n).collect()
}

fn gate(path: &str) {
    let Some(target) = database_for(&format!("pg_gate {path}")) else {
        return;
    };
    let target = Target::Postgres(Box::new(target));
    let loaded = Loaded::load(path)
        .and_then(|l| l.with_target(target.clone()))
        .expect("scenario loads");
    let variants = loaded.variants();
    let make = || Loaded::load(path)?.with_target(target.clone());
    let (results, _) = run_many_with(&make, &variants, &seeds(), 8, &|_, _| {}).expect("runs");
    let mut problems = Vec::new();
    for v in &variants {
        let summary = VariantSummary::new(&loaded, v, &results);
        for t in summary.invariants.iter().filter(|t| !t.as_expected()) {
            problems.push(format!(
                "{path} {v} {} on PostgreSQL: violated on {}/{} seeds (first seed {:?}), expected {}",
                t.invariant,
                t.violated,
                summary.seeds,
                t.first_seed,
                if t.expected { "a violation" } else { "none" }
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "verdicts on PostgreSQL differ from expectations:\n{}",
        problems.join("\n")
    );
}

#[test]
fn business_cards_on_postgres() {
    gate("scenarios/business_cards.toml");
}

#[test]
fn chat_persistence_on_postgres() {
    gate("scenarios/chat_persistence.toml");
}

#[test]
fn loop_export_on_postgres() {
    gate("scenarios/loop_export.toml");
}

/// Reads go through the load balancer to the real streaming replica started next to the
/// primary (`FAULTLINE_REPLICA_URL`), which applies the log `recovery_min_apply_delay`
/// late: real stale reads.
#[test]
fn story_progress_on_postgres_with_a_lagging_replica() {
    gate("scenarios/story_progress.toml");
}
