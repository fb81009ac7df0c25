//! The "before" code of seed document 003: the generator updates the row and moves on;
//! the status endpoint reads whatever host the load balancer picks, and the page shows it.

use serde_json::json;

use super::{poll_value, read_status, unchanged, Tab, COLUMN, STORY, TABLE};
use faultline::backend::{filter, row, AuthApi, Backend, ReadFrom, Request};
use faultline::system::ClientCtx;

/// A plain `update stories set generation_progress = p`, one attempt.
pub async fn write<B: Backend, A: AuthApi>(ctx: &ClientCtx<B, A>, op: u32, progress: u64) {
    let scope = ctx.begin(op, "write", json!({"progress": progress}));
    let req = Request::update(
        TABLE,
        filter([("id", json!(STORY))]),
        row([(COLUMN, json!(progress))]),
    );
    match ctx.call(req).await {
        Ok(_) => scope.ok(json!({"progress": progress})),
        Err(e) => scope.error(json!({"progress": progress}), &e),
    }
}

/// Reads the status from any host and displays it, stale or not.
pub async fn poll<B: Backend, A: AuthApi>(ctx: &ClientCtx<B, A>, tab: &mut Tab) {
    let (op, invoke) = tab.next_poll();
    let scope = ctx.begin(op, "poll", invoke);
    match read_status(ctx, ReadFrom::Any).await {
        Ok(s) => {
            tab.shown = Some(s.progress);
            scope.ok(poll_value(&s, s.progress, 1));
        }
        Err(e) => scope.fail(unchanged(tab), &e),
    }
}
