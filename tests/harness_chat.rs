//! Users' own chat logic through the Harness: a correct one holds, a last-write-wins one is
//! caught, each as the variant `custom`.

use faultline::backend::{AuthApi, Backend};
use faultline::logic::chat::{BuiltinChat, ChatLogic, Local};
use faultline::logic::ClientCtx;
use faultline::Harness;

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
fn merging_chat_logic_holds() -> faultline::Result<()> {
    Harness::scenario("chat_persistence")
        .chat_logic(TeamChat(BuiltinChat::Reference))
        .seeds(32)
        .run()?
        .assert_holds();
    Ok(())
}

#[test]
fn last_write_wins_chat_logic_is_caught() -> faultline::Result<()> {
    let report = Harness::scenario("chat_persistence")
        .chat_logic(TeamChat(BuiltinChat::Naive))
        .seeds(32)
        .run()?;
    assert!(!report.ok);
    assert_eq!(report.summaries[0].variant, "custom");
    assert!(report.text.contains("no_lost_messages"), "{}", report.text);
    Ok(())
}

#[test]
fn logic_for_one_scenario_is_refused_by_another() {
    let err = Harness::scenario("business_cards")
        .chat_logic(TeamChat(BuiltinChat::Reference))
        .seeds(1)
        .run()
        .expect_err("mismatch");
    assert!(
        err.to_string().contains("implements `chat_persistence`"),
        "{err}"
    );
}
