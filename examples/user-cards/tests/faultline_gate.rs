//! The team's CI gate: `cargo test` runs their two versions side by side through
//! faultline's business-cards scenario, asserting the shipped one is caught losing updates
//! (also as a card field that is not a linearisable register) and creating duplicates and
//! the fix holds. Set FAULTLINE_SEEDS for a deeper nightly run.

use faultline_seeds::business_cards::variant;
use user_cards::{FixedCards, ShippedCards};

#[test]
fn shipped_is_caught_and_fix_holds() -> faultline::Result<()> {
    let report = faultline_seeds::harness("business_cards")
        .variant(variant("shipped", ShippedCards))
        .variant(variant("fixed", FixedCards))
        .expect_violates(
            "shipped",
            &[
                "no_lost_updates",
                "no_duplicate_create",
                "card_fields_linearizable",
            ],
        )
        .expect_holds("fixed")
        .seeds(64)
        .run()?;
    report.assert_as_expected();
    let shipped = report.variant("shipped").expect("shipped ran");
    let lost = shipped
        .invariants
        .iter()
        .find(|t| t.invariant == "no_lost_updates")
        .expect("checked");
    assert!(lost.violated > 0, "{}", report.text);
    assert!(
        report.text.contains("FAULTLINE_SEED=") && report.text.contains("--exact"),
        "failures say how to replay this very test: {}",
        report.text
    );
    let evidence = report
        .evidence
        .iter()
        .find(|e| e.variant == "shipped")
        .expect("the first failure leaves evidence");
    for path in [
        &evidence.plan,
        &evidence.history,
        &evidence.timeline,
        evidence.shrunk.as_ref().expect("shrunk on the simulator"),
    ] {
        assert!(path.exists(), "{} was written", path.display());
    }
    Ok(())
}
