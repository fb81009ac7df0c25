//! The fix as seed document 000 describes it: the same save, retried with exponential
//! backoff, and a notification naming the error's category when the last attempt fails.
//! The document names no constraint or idempotency for the check-then-insert, so the
//! save itself is unchanged.

use serde_json::json;

use super::tab::{check_then_insert, kept_locally, Tab};
use super::{Browser, LoopSave};
use faultline::backend::{AuthApi, Backend, DbError, ErrorCategory};
use faultline::system::ClientCtx;

/// Attempts in all, the first included.
const MAX_ATTEMPTS: u32 = 4;
/// The first backoff; each later one doubles.
const BASE_MS: u64 = 250;

/// `saveLoop` with retries and a user-visible failure.
pub async fn save<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    browser: &Browser,
    tab: &Tab,
    op: u32,
    save: LoopSave,
) {
    let scope = ctx.begin(op, "save", save.invoke());
    let mut unknown = false;
    let mut last = DbError::Unreachable("not tried".into());
    for attempt in 1..=MAX_ATTEMPTS {
        let outcome = async {
            let token = tab.refresh_auth_state(ctx, browser).await?;
            check_then_insert(ctx, &token, &save).await
        };
        match outcome.await {
            Ok(id) => {
                return scope.ok(json!({"loop": save.loop_id, "video": save.video, "shown": "saved", "id": id, "attempts": attempt}))
            }
            Err(e) => {
                unknown |= e.outcome_unknown();
                let transient = matches!(e.category(), ErrorCategory::Network | ErrorCategory::Auth);
                last = e;
                if !transient {
                    break;
                }
            }
        }
        if attempt < MAX_ATTEMPTS {
            ctx.sleep_ms(BASE_MS << (attempt - 1)).await;
        }
    }
    // The notification: "Couldn't save your loop (network / auth ...)".
    let shown = kept_locally(browser, &save, "failed");
    if unknown {
        scope.info(shown, &last);
    } else {
        scope.error(shown, &last);
    }
}
