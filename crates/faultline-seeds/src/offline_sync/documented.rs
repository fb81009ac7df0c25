//! The document's sync service: operations are queued in memory and the queue is saved
//! to localStorage; a sync every interval (and when the device comes back online) sends
//! them in order with the whole record; a record changed on both sides is settled by the
//! configured conflict strategy (newest-wins by default, comparing device timestamps);
//! a failed operation is retried with exponential backoff, at most three times.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::local::{begin_edit, fetch_runs};
use super::usage_row;
use super::{Local, Timing, RUNS, USAGE};
use faultline::backend::{filter, AuthApi, Backend, Request};
use faultline::system::ClientCtx;

/// Where the queue is saved.
const QUEUE_KEY: &str = "sync_queue";
/// Where records flagged for manual resolution are saved.
const CONFLICTS_KEY: &str = "sync_conflicts";
/// The document's `maxRetries`.
const MAX_RETRIES: u32 = 3;
/// The document's `batchSize`.
const BATCH: usize = 50;
/// How long after a localStorage write the browser has it on disk: it commits storage
/// changes in batches, so a crash soon after a write loses it.
pub const LOCAL_STORAGE_FLUSH_MS: u64 = 2000;

/// How a record changed on both sides is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Keep the device's version.
    LocalWins,
    /// Keep the server's version.
    RemoteWins,
    /// Keep the version with the later timestamp (the device's clock for local edits).
    NewestWins,
    /// Flag the record for the user to resolve.
    Manual,
}

/// One queued operation, as the service keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct QueuedOp {
    /// The user action's op id.
    op: u32,
    table: String,
    /// `update` of a run, or `create` of a usage row.
    kind: String,
    record: Option<String>,
    /// The whole record at the time of the edit.
    data: Value,
    /// The device's clock at the time of the edit.
    timestamp: u64,
    retries: u32,
    /// Not tried again before this (true time, ms).
    next_at: u64,
}

/// The sync service of one boot of the device.
pub struct SyncService {
    strategy: Strategy,
    timing: Timing,
    queue: RefCell<Vec<QueuedOp>>,
    syncing: std::cell::Cell<bool>,
}

impl SyncService {
    /// Starts with whatever queue localStorage still holds.
    pub fn boot<B: Backend, A: AuthApi>(
        ctx: &ClientCtx<B, A>,
        strategy: Strategy,
        timing: Timing,
    ) -> Self {
        let queue = ctx
            .device
            .disk()
            .read(QUEUE_KEY)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        Self {
            strategy,
            timing,
            queue: RefCell::new(queue),
            syncing: std::cell::Cell::new(false),
        }
    }

    fn save_queue<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>) {
        let q = serde_json::to_value(&*self.queue.borrow()).unwrap_or(Value::Null);
        ctx.device
            .write_lazy(QUEUE_KEY, q, ctx.now_ms(), LOCAL_STORAGE_FLUSH_MS);
    }

    fn enqueue<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, op: QueuedOp) {
        self.queue.borrow_mut().push(op);
        self.save_queue(ctx);
    }

    /// Saves the edit on the device, queues the record, and tells the user it is saved.
    pub fn edit<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        record: &str,
        field: &str,
    ) {
        let (scope, value, at) = begin_edit(ctx, local, op, record, field, true);
        let data = local.get(record).map(Value::Object).unwrap_or(Value::Null);
        self.enqueue(
            ctx,
            QueuedOp {
                op,
                table: RUNS.into(),
                kind: "update".into(),
                record: Some(record.into()),
                data,
                timestamp: at,
                retries: 0,
                next_at: 0,
            },
        );
        scope.ok(json!({"record": record, "field": field, "value": value, "at": at}));
    }

    /// Queues the usage row and shows the images.
    pub fn generate<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, op: u32, credits: u64) {
        let scope = ctx.begin(op, "generate", json!({"credits": credits}));
        self.enqueue(
            ctx,
            QueuedOp {
                op,
                table: USAGE.into(),
                kind: "create".into(),
                record: None,
                data: usage_row(&ctx.user, op, credits),
                timestamp: ctx.device_clock_ms(),
                retries: 0,
                next_at: 0,
            },
        );
        scope.ok(json!({"credits": credits}));
    }

    /// Sends the queue, then pulls the server's records.
    pub async fn sync<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, local: &Local) {
        if self.syncing.replace(true) {
            return;
        }
        let batch: Vec<QueuedOp> = self.queue.borrow().iter().take(BATCH).cloned().collect();
        for item in batch {
            if item.next_at > ctx.now_ms() {
                continue;
            }
            let sent = self.send(ctx, local, &item).await;
            let mut queue = self.queue.borrow_mut();
            let Some(pos) = queue.iter().position(|q| q.op == item.op) else {
                continue;
            };
            if sent {
                queue.remove(pos);
            } else {
                let q = &mut queue[pos];
                q.retries += 1;
                if q.retries >= MAX_RETRIES {
                    queue.remove(pos);
                } else {
                    q.next_at = ctx.now_ms() + self.timing.retry_delay_ms * (1 << q.retries);
                }
            }
            drop(queue);
            self.save_queue(ctx);
        }
        self.pull(ctx, local).await;
        self.syncing.set(false);
    }

    /// One attempt at one queued operation; true when it is done with.
    async fn send<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        item: &QueuedOp,
    ) -> bool {
        let scope = ctx.begin(
            item.op,
            "push",
            json!({"table": item.table, "attempt": item.retries + 1}),
        );
        let last = item.retries + 1 >= MAX_RETRIES;
        let result = if item.kind == "create" {
            let row = item.data.as_object().cloned().unwrap_or_default();
            ctx.call(Request::insert(&item.table, row))
                .await
                .map(|_| "sent")
        } else {
            self.send_update(ctx, local, item).await
        };
        match result {
            Ok(outcome) => {
                scope.ok(json!({"table": item.table, "outcome": outcome}));
                true
            }
            Err(e) if last => {
                scope.error(json!({"table": item.table, "given_up": true}), &e);
                false
            }
            Err(e) => {
                scope.error(json!({"table": item.table}), &e);
                false
            }
        }
    }

    /// Sends a queued record, settling a change on both sides by the strategy.
    async fn send_update<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        item: &QueuedOp,
    ) -> Result<&'static str, faultline::backend::DbError> {
        let id = item.record.clone().unwrap_or_default();
        let remote = ctx
            .call(Request::select(RUNS, filter([("id", json!(id))])))
            .await?
            .rows()
            .into_iter()
            .next();
        let synced = local.get(&id).map_or(0, |r| ts(&r, "synced_at"));
        // Changed on the server since this device last saw it.
        if let Some(remote) = remote.filter(|r| ts(r, "updated_at") != synced) {
            let remote_ts = ts(&remote, "updated_at");
            let keep_local = match self.strategy {
                Strategy::LocalWins => true,
                Strategy::RemoteWins => false,
                Strategy::NewestWins => item.timestamp > remote_ts,
                Strategy::Manual => {
                    self.flag(ctx, item, &remote);
                    return Ok("flagged");
                }
            };
            if !keep_local {
                adopt(ctx, local, &id, remote);
                return Ok("kept remote");
            }
        }
        let mut row = item.data.as_object().cloned().unwrap_or_default();
        row.insert("user_id".into(), json!(ctx.user));
        row.insert("updated_at".into(), json!(item.timestamp));
        row.remove("version");
        row.remove("synced_at");
        ctx.call(Request::upsert(RUNS, row, &["id"])).await?;
        local.update(&ctx.device, &id, |run| {
            run.insert("synced_at".into(), json!(item.timestamp));
        });
        Ok("sent")
    }

    /// Manual strategy: the record keeps the device's version and waits for the user,
    /// who is told.
    fn flag<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        item: &QueuedOp,
        remote: &Map<String, Value>,
    ) {
        let mut flagged: Vec<Value> = ctx
            .device
            .disk()
            .read(CONFLICTS_KEY)
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        flagged.push(json!({"op": item.op, "record": item.record, "remote": remote}));
        ctx.device.write_lazy(
            CONFLICTS_KEY,
            Value::Array(flagged),
            ctx.now_ms(),
            LOCAL_STORAGE_FLUSH_MS,
        );
        let scope = ctx.begin(item.op, "conflict", json!({"record": item.record}));
        scope.ok(json!({"record": item.record, "resolution": "manual"}));
    }

    /// Brings in records changed on the server, by the strategy where the device has its
    /// own change that is no longer queued.
    async fn pull<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, local: &Local) {
        let Some(rows) = fetch_runs(ctx).await else {
            return;
        };
        for (id, remote) in rows {
            if self
                .queue
                .borrow()
                .iter()
                .any(|q| q.record.as_deref() == Some(&id))
            {
                continue;
            }
            let Some(mine) = local.get(&id) else {
                adopt(ctx, local, &id, remote);
                continue;
            };
            let dirty = ts(&mine, "updated_at") != ts(&mine, "synced_at");
            let take = !dirty
                || match self.strategy {
                    Strategy::RemoteWins => true,
                    Strategy::LocalWins | Strategy::Manual => false,
                    Strategy::NewestWins => ts(&remote, "updated_at") > ts(&mine, "updated_at"),
                };
            if take {
                adopt(ctx, local, &id, remote);
            }
        }
    }
}

/// A timestamp column of a run, 0 when absent.
fn ts(run: &Map<String, Value>, column: &str) -> u64 {
    run.get(column).and_then(Value::as_u64).unwrap_or(0)
}

/// The device takes the server's version of a record.
fn adopt<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    local: &Local,
    id: &str,
    remote: Map<String, Value>,
) {
    let at = remote.get("updated_at").cloned().unwrap_or(json!(0));
    local.update(&ctx.device, id, |run| {
        *run = remote;
        run.insert("synced_at".into(), at);
    });
}
