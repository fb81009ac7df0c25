//! The team's CI gate: the shipped booking code is caught double-booking and booking twice
//! on retries, the fix holds everything, and a "fix" that refuses every booking is caught
//! too (refusal is not safety).

use faultline::Harness;
use room_booking::{registry, variant, RefusesAll};

#[test]
fn shipped_is_caught_and_fix_holds() -> faultline::Result<()> {
    let report = Harness::new(registry())
        .scenario("room_booking")
        .expect_violates("shipped", &["no_double_booking", "booked_once"])
        .expect_holds("fixed")
        .seeds(64)
        .run()?;
    report.assert_as_expected();
    let evidence = report
        .evidence
        .iter()
        .find(|e| e.variant == "shipped")
        .expect("evidence");
    assert!(evidence.timeline.exists() && evidence.shrunk.as_ref().is_some_and(|s| s.exists()));
    assert!(report.text.contains("--exact"), "{}", report.text);
    Ok(())
}

#[test]
fn refusing_every_booking_is_caught() -> faultline::Result<()> {
    let report = Harness::new(registry())
        .scenario("room_booking")
        .variant(variant("refuses_all", RefusesAll))
        .expect_violates("refuses_all", &["refusals_justified"])
        .seeds(16)
        .evidence_dir(None)
        .run()?;
    report.assert_as_expected();
    Ok(())
}
