//! Users' own chat logic through the Harness as named variants: a correct one holds, a
//! last-write-wins one is caught, and chat code is refused by another system's scenario.

use faultline::backend::{AuthApi, Backend};
use faultline::system::ClientCtx;
use faultline_seeds::chat::{variant, BuiltinChat, ChatLogic, Local};

/// A team's chat code that happens to behave like one of the built-in variants.
#[derive(Clone)]
struct TeamChat(BuiltinChat);

impl ChatLogic for TeamChat {
    async fn send<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        msg: &str,
    ) {
        self.0.send(ctx, local, op, msg).await
    }

    async fn reauth<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        away_ms: u64,
    ) {
        self.0.reauth(ctx, local, op, away_ms).await
    }
}

#[test]
fn merging_chat_holds_and_last_write_wins_is_caught() -> faultline::Result<()> {
    let report = faultline_seeds::harness("chat_persistence")
        .variant(variant("merging", TeamChat(BuiltinChat::Reference)))
        .variant(variant("last_write_wins", TeamChat(BuiltinChat::Naive)))
        .expect_holds("merging")
        .expect_violates("last_write_wins", &["no_lost_messages"])
        .seeds(32)
        .evidence_dir(None)
        .run()?;
    // no_lost_messages is required; survives_reauth may or may not show in 32 seeds, so
    // judge the required one and that nothing else broke for the merging variant.
    let lww = report.variant("last_write_wins").expect("ran");
    let lost = lww
        .invariants
        .iter()
        .find(|t| t.invariant == "no_lost_messages")
        .expect("checked");
    assert!(lost.violated > 0, "{}", report.text);
    let merging = report.variant("merging").expect("ran");
    assert!(merging.as_expected(), "{}", report.text);
    Ok(())
}

#[test]
fn an_expectation_for_a_variant_that_does_not_run_is_refused() {
    let err = faultline_seeds::harness("chat_persistence")
        .variant(variant("merging", TeamChat(BuiltinChat::Reference)))
        .expect_holds("typo")
        .seeds(1)
        .run()
        .expect_err("unknown variant");
    assert!(err.to_string().contains("`typo`"), "{err}");
}

#[test]
fn logic_for_one_scenario_is_refused_by_another() {
    let err = faultline_seeds::harness("business_cards")
        .variant(variant("mine", TeamChat(BuiltinChat::Reference)))
        .seeds(1)
        .run()
        .expect_err("mismatch");
    assert!(
        err.to_string().contains("implements `chat_persistence`"),
        "{err}"
    );
}
