//! The "before" code of seed document 002: the whole array is saved, last write wins, and
//! after signing in the device keeps showing what its local storage held.

use serde_json::{json, Value};

use super::{message, Local, CONVERSATION, TABLE};
use faultline::backend::{filter, row, AuthApi, Backend, Request};
use faultline::system::ClientCtx;

/// Appends locally and saves the whole array over whatever the server has.
pub async fn send<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    local: &Local,
    op: u32,
    msg: &str,
) {
    let scope = ctx.begin(op, "send", json!({"msg": msg}));
    local.messages.borrow_mut().push(message(ctx, msg));
    let all = Value::Array(local.messages.borrow().clone());
    let req = Request::update(
        TABLE,
        filter([("id", json!(CONVERSATION))]),
        row([("messages", all)]),
    );
    match ctx.call(req).await {
        Ok(resp) => {
            let version = resp
                .rows()
                .first()
                .map_or(Value::Null, |r| r["version"].clone());
            scope.ok(json!({"msg": msg, "version": version, "saved": local.ids()}))
        }
        Err(e) => scope.error(json!({"msg": msg}), &e),
    }
}

/// Signs out and back in; the chat screen is rebuilt from local storage, not the server.
pub async fn reauth<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    local: &Local,
    op: u32,
    away_ms: u64,
) {
    let scope = ctx.begin(op, "reauth", json!({"away_ms": away_ms}));
    ctx.sign_out();
    ctx.sleep_ms(away_ms).await;
    scope.ok(json!({"view": local.ids()}));
}
