//! The team's CI gate: `cargo test` runs their logic through faultline's business-cards
//! scenario. Set FAULTLINE_SEEDS for a deeper nightly run.

use faultline::Harness;
use user_cards::{FixedCards, ShippedCards};

#[test]
fn fixed_cards_hold_every_invariant() -> faultline::Result<()> {
    Harness::scenario("business_cards")
        .logic(FixedCards)
        .seeds(64)
        .run()?
        .assert_holds();
    Ok(())
}

#[test]
fn shipped_cards_are_caught_losing_an_update() -> faultline::Result<()> {
    let report = Harness::scenario("business_cards")
        .logic(ShippedCards)
        .seeds(64)
        .run()?;
    assert!(!report.ok, "the shipped code should be caught");
    let lost = &report.summaries[0]
        .invariants
        .iter()
        .find(|t| t.invariant == "no_lost_updates")
        .unwrap();
    assert!(lost.violated > 0, "{}", report.text);
    assert!(
        report.text.contains("FAULTLINE_SEED="),
        "failures say how to replay: {}",
        report.text
    );
    Ok(())
}
