//! The fix as seed document 002 describes it: `save_conversation` with a version for
//! conflict detection, `retryOnFailure`, and an auth-state manager that clears local state
//! on sign-out and loads from the server on sign-in. The document names no merge for a
//! detected conflict; its only resolution knob is `forceOverwrite`, which this variant
//! uses when a conflict is detected and the save is retried.

use serde_json::{json, Value};

use super::{load, message, Local, CONVERSATION};
use faultline::backend::{AuthApi, Backend, DbError, Request};
use faultline::system::ClientCtx;

const MAX_ATTEMPTS: u32 = 3;

/// Appends locally and saves with conflict detection; on a conflict the retry forces the
/// local array through.
pub async fn send<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    local: &Local,
    op: u32,
    msg: &str,
) {
    let scope = ctx.begin(op, "send", json!({"msg": msg}));
    local.messages.borrow_mut().push(message(ctx, msg));
    let mut force = false;
    let mut unknown = false;
    let mut conflicts = 0u32;
    let mut last = DbError::Conflict("conversation changed elsewhere".into());
    for attempt in 1..=MAX_ATTEMPTS {
        let args = json!({
            "id": CONVERSATION,
            "messages": Value::Array(local.messages.borrow().clone()),
            "expected_version": local.version.borrow().clone(),
            "force_overwrite": force,
        });
        match ctx
            .call(Request::rpc("save_conversation", args))
            .await
            .map(|r| r.value())
        {
            Ok(v) if v["success"] == json!(true) => {
                *local.version.borrow_mut() = v["version"].clone();
                return scope.ok(json!({"msg": msg, "version": v["version"], "attempts": attempt, "conflicts": conflicts, "saved": local.ids()}));
            }
            Ok(_) => {
                force = true;
                conflicts += 1;
            }
            Err(e @ (DbError::Timeout(_) | DbError::Unreachable(_))) => {
                unknown |= e.outcome_unknown();
                last = e;
            }
            Err(e) if unknown => return scope.info(json!({"msg": msg}), &e),
            Err(e) => return scope.error(json!({"msg": msg}), &e),
        }
        ctx.sleep_ms(200 << (attempt - 1)).await;
    }
    if unknown {
        scope.info(json!({"msg": msg, "conflicts": conflicts}), &last)
    } else {
        scope.fail(json!({"msg": msg, "conflicts": conflicts}), &last)
    }
}

/// Signs out (clearing local state), then signs in and loads the server's copy.
pub async fn reauth<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    local: &Local,
    op: u32,
    away_ms: u64,
) {
    let scope = ctx.begin(op, "reauth", json!({"away_ms": away_ms}));
    ctx.sign_out();
    local.messages.borrow_mut().clear();
    ctx.sleep_ms(away_ms).await;
    match load(ctx).await {
        Ok((messages, version)) => {
            *local.messages.borrow_mut() = messages;
            *local.version.borrow_mut() = version;
            scope.ok(json!({"view": local.ids()}))
        }
        Err(e) => scope.fail(json!({}), &e),
    }
}
