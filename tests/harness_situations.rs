//! The vacuity guard through the Harness: a scenario whose seeds never reach a situation
//! it must exercise fails `assert_as_expected` naming it, though every verdict holds.

/// business_cards with the reference only and every fault off: no create can commit
/// while its tab's link to the store is faulted.
fn faultless(dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string("scenarios/business_cards.toml").unwrap();
    let faults = text.find("[faults]").unwrap();
    let workload = text.find("[workload]").unwrap();
    let cut = text.find("[expect.naive]").unwrap();
    let head = text[..faults].replace(
        "variants = [\"naive\", \"documented\", \"reference\"]",
        "variants = [\"reference\"]",
    );
    let path = dir.join("faultless.toml");
    let body = format!("{head}[faults]\nswarm = false\n\n{}", &text[workload..cut]);
    std::fs::write(&path, body).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_situation_no_seed_reached_fails_the_harness_by_name() -> faultline::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let report = faultline_seeds::harness(&faultless(dir.path()))
        .seeds(6)
        .evidence_dir(None)
        .run()?;
    assert!(!report.ok, "{}", report.text);
    let reference = report.variant("reference").expect("ran");
    assert!(reference.verdicts_as_expected(), "{}", report.text);
    let missed: Vec<&str> = reference
        .missed_situations()
        .map(|t| t.situation.as_str())
        .collect();
    assert_eq!(missed, ["create_committed_under_link_fault"]);
    let reached = reference
        .situations
        .iter()
        .find(|t| t.situation == "concurrent_edits_of_one_card")
        .expect("counted");
    assert!(reached.seeds > 0 && reached.seeds <= 6);
    let panic = std::panic::catch_unwind(|| report.assert_as_expected()).expect_err("fails");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains(
            "never reached situation `create_committed_under_link_fault` for variant reference"
        ),
        "{message}"
    );
    Ok(())
}

#[test]
fn the_seed_systems_reach_their_situations_in_their_scenarios() -> faultline::Result<()> {
    // Fewer seeds than the gate, on one scenario, so a run that reaches every situation
    // passes the same assertion the failing one above trips.
    let report = faultline_seeds::harness("chat_persistence")
        .seeds(32)
        .evidence_dir(None)
        .run()?;
    for v in &report.summaries {
        assert_eq!(v.situations.len(), 2, "{}", report.text);
        assert!(v.missed_situations().next().is_none(), "{}", report.text);
    }
    report.assert_as_expected();
    Ok(())
}

#[test]
fn a_variant_added_through_the_harness_must_reach_the_same_situations() -> faultline::Result<()> {
    use faultline_seeds::business_cards::{variant, Builtin};
    let dir = tempfile::tempdir().unwrap();
    let report = faultline_seeds::harness(&faultless(dir.path()))
        .variant(variant("mine", Builtin::Reference))
        .seeds(6)
        .evidence_dir(None)
        .run()?;
    let mine = report.variant("mine").expect("ran");
    assert_eq!(mine.situations.len(), 2, "{}", report.text);
    let missed: Vec<&str> = mine
        .missed_situations()
        .map(|t| t.situation.as_str())
        .collect();
    assert_eq!(
        missed,
        ["create_committed_under_link_fault"],
        "{}",
        report.text
    );
    assert!(!report.ok, "{}", report.text);
    Ok(())
}
