//! `faultline report`: statistics, the backoff sweep, and the files it writes.

use faultline::report::publish;
use faultline::report::stats;
use faultline::report::sweep::{self, SweepConfig};
use faultline::scenario::Scenario;

#[test]
fn statistics_reflect_what_each_variant_does() {
    let scenario = Scenario::load("scenarios/business_cards.toml".as_ref()).unwrap();
    let all = stats::collect(&faultline_seeds::registry(), &scenario, 24, 2, &|_, _| {}).unwrap();
    let get = |v: &str| all.iter().find(|s| s.variant == v).unwrap();
    let (naive, documented, reference) = (get("naive"), get("documented"), get("reference"));
    for s in [naive, documented, reference] {
        assert_eq!(s.seeds, 24);
        assert_eq!(s.ok + s.fail + s.info, s.operations);
        assert_eq!(s.retries_histogram.values().sum::<u64>(), s.operations);
        assert!(s.latency_p50_ms <= s.latency_p99_ms);
    }
    assert_eq!(naive.retried, 0, "naive never retries");
    assert_eq!(naive.version_conflicts, 0, "naive never checks a version");
    assert!(documented.version_conflicts > 0 && reference.version_conflicts > 0);
    assert!(documented.attempts > documented.operations);
    let targets = stats::targets("business_cards", documented);
    assert_eq!(targets.len(), 3);
    assert!(stats::targets("other", documented).is_empty());
}

#[test]
fn the_sweep_measures_every_policy_and_more_clients_mean_more_work() {
    let cfg = SweepConfig {
        clients: vec![2, 16],
        seeds: 2,
        ..SweepConfig::default()
    };
    let registry = faultline_seeds::registry();
    let contention = registry
        .sweep_system_factory()
        .expect("the seeds register one");
    let points = sweep::run(contention, &cfg, 2, &|_, _| {}).unwrap();
    assert_eq!(points.len(), 2 * 5);
    for policy in [
        "none",
        "exponential",
        "full_jitter",
        "equal_jitter",
        "decorrelated_jitter",
    ] {
        let at = |c| {
            points
                .iter()
                .find(|p| p.policy == policy && p.clients == c)
                .unwrap()
        };
        let (small, big) = (at(2), at(16));
        assert!(small.attempts >= 2.0, "every client writes at least once");
        assert!(
            big.attempts > small.attempts * 4.0,
            "{policy}: work grows faster than clients"
        );
        assert!(big.conflict_rate > small.conflict_rate);
        assert_eq!(big.gave_up, 0.0);
    }
}

#[test]
fn report_files_are_written_with_charts_and_a_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SweepConfig {
        clients: vec![2, 8],
        seeds: 1,
        ..SweepConfig::default()
    };
    let r = publish::measure(
        &faultline_seeds::registry(),
        &[faultline::scenario::Scenario::load("scenarios/business_cards.toml".as_ref()).unwrap()],
        4,
        cfg,
        2,
        &|_| Box::new(|_, _| {}),
    )
    .unwrap();
    let files = publish::write(&r, dir.path()).unwrap();
    assert_eq!(files.len(), 6);
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("| documented |") && md.contains("version conflict rate"));
    assert!(md.contains("At 8 contending clients"), "{md}");
    let svg = std::fs::read_to_string(dir.path().join("sweep-attempts.svg")).unwrap();
    assert_eq!(svg.matches("<polyline").count(), 5, "one line per policy");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["format"], 1);
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 3);
}
