//! The "before" code of seed document 000: refresh the auth state, check then insert, and
//! on any error log it, keep the loop in `chrome.storage` and return nothing.

use serde_json::json;

use super::tab::{check_then_insert, kept_locally, Tab};
use super::{Browser, LoopSave};
use faultline::backend::{AuthApi, Backend};
use faultline::system::ClientCtx;

/// `saveLoop`: every failure, whatever its cause, ends in the same silent fallback.
pub async fn save<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    browser: &Browser,
    tab: &Tab,
    op: u32,
    save: LoopSave,
) {
    let scope = ctx.begin(op, "save", save.invoke());
    let attempt = async {
        let token = tab.refresh_auth_state(ctx, browser).await?;
        check_then_insert(ctx, &token, &save).await
    };
    match attempt.await {
        Ok(id) => {
            scope.ok(json!({"loop": save.loop_id, "video": save.video, "shown": "saved", "id": id}))
        }
        // `console.error(...); return null`: the user is shown nothing.
        Err(e) => scope.silent(kept_locally(browser, &save, "nothing"), e.outcome_unknown()),
    }
}
