//! No queue: an edit is saved on the device and pushed once, right away; a generation's
//! usage is logged once. Errors go to the console. Sync is a pull that replaces what the
//! device holds with the server's copy.

use serde_json::{json, Map, Value};

use super::local::{begin_edit, fetch_runs};
use super::usage_row;
use super::{Local, RUNS, USAGE};
use faultline::backend::{AuthApi, Backend, Request};
use faultline::system::ClientCtx;

/// The naive app.
pub struct Naive;

impl Naive {
    /// Saves locally, tells the user it is saved, then pushes the whole run once.
    pub async fn edit<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        record: &str,
        field: &str,
    ) {
        let (scope, value, at) = begin_edit(ctx, local, op, record, field, true);
        scope.ok(json!({"record": record, "field": field, "value": value, "at": at}));
        if !ctx.device.online() {
            return;
        }
        let Some(run) = local.get(record) else { return };
        push(ctx, op, run).await;
    }

    /// Generates, logs the usage once, and shows the images.
    pub async fn generate<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        op: u32,
        credits: u64,
    ) {
        let scope = ctx.begin(op, "generate", json!({"credits": credits}));
        if ctx.device.online() {
            let row = usage_row(&ctx.user, op, credits);
            let push = ctx.begin(op, "push", json!({"table": USAGE}));
            match ctx
                .call(Request::insert(
                    USAGE,
                    row.as_object().cloned().unwrap_or_default(),
                ))
                .await
            {
                Ok(_) => push.ok(json!({"table": USAGE})),
                Err(e) => push.error(json!({"table": USAGE}), &e),
            }
        }
        scope.ok(json!({"credits": credits}));
    }

    /// Replaces every local run with the server's.
    pub async fn sync<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, local: &Local) {
        let Some(rows) = fetch_runs(ctx).await else {
            return;
        };
        for (id, row) in rows {
            local.update(&ctx.device, &id, |run| *run = row.clone());
        }
    }
}

/// One attempt to upsert the whole run, recorded as a push of `op`.
async fn push<B: Backend, A: AuthApi>(ctx: &ClientCtx<B, A>, op: u32, mut run: Map<String, Value>) {
    run.insert("user_id".into(), json!(ctx.user));
    run.remove("version");
    let scope = ctx.begin(op, "push", json!({"table": RUNS, "record": run["id"]}));
    match ctx.call(Request::upsert(RUNS, run, &["id"])).await {
        Ok(_) => scope.ok(json!({"table": RUNS})),
        Err(e) => scope.error(json!({"table": RUNS}), &e),
    }
}
