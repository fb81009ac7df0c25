//! A correct design: a save goes into the browser's durable outbox first; one worker per
//! browser sends entries in order as upserts on the unique (user, video, loop) key, each
//! carrying its entry's idempotency key, through the browser's one session (refreshed
//! single-flight, so tabs never present a rotated refresh token). A save not delivered
//! promptly is shown as queued, and the worker keeps going, signing in again if the session
//! was revoked, until the outbox is empty.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use super::mutants::Mutant;
use super::{Browser, LoopSave, LOOP_KEY, SYNC_OP, TABLE};
use faultline::backend::{AuthApi, Backend, DbError, Request};
use faultline::client::retry::RetryPolicy;
use faultline::system::{ClientCtx, OpScope};

/// The mutant `KeyWithoutVideo`'s idea of what names a loop.
pub const KEY_WITHOUT_VIDEO: [&str; 2] = ["user_id", "loop_id"];

/// How long a tab waits for its save to be delivered before showing it as queued.
const PROMPT_MS: u64 = 3000;

/// Backoff between failed deliveries; the worker never gives up, so attempts are unbounded.
const POLICY: RetryPolicy = RetryPolicy {
    cap_ms: 2000,
    ..RetryPolicy::DEFAULT
};

/// Queues the loop durably, then shows "saved" once it is delivered or "queued" if it is
/// still pending after a moment.
/// `bug` is one of the mutant suite's single bugs ([`Mutant`]); `None` is the reference.
pub async fn save<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    browser: &Browser,
    op: u32,
    save: LoopSave,
    bug: Option<Mutant>,
) {
    let scope = ctx.begin(op, "save", save.invoke());
    if bug == Some(Mutant::RefuseAll) {
        let shown = json!({"loop": save.loop_id, "video": save.video, "shown": "failed"});
        return scope.fail(shown, &DbError::Unreachable("offline".into()));
    }
    let payload = json!({"op": op, "save": save}).to_string();
    let same_loop = |e: &faultline::client::Entry| {
        let queued: Value = serde_json::from_str(&e.payload).unwrap_or(Value::Null);
        queued["save"]["video"] == json!(save.video)
            && queued["save"]["loop_id"] == json!(save.loop_id)
    };
    let folded = match bug {
        Some(Mutant::DedupeByLoop) => browser.outbox.pending().into_iter().find(same_loop),
        _ => None,
    };
    let entry = folded.unwrap_or_else(|| browser.outbox.enqueue(&payload));
    browser.work.notify_one();
    if bug == Some(Mutant::SavedOnEnqueue) {
        return scope.ok(
            json!({"loop": save.loop_id, "video": save.video, "shown": "saved", "key": entry.key}),
        );
    }
    let prompt = if bug == Some(Mutant::PromptInSeconds) {
        PROMPT_MS / 1000
    } else {
        PROMPT_MS
    };
    let deadline = ctx.now_ms() + prompt;
    loop {
        // Registered before looking, so a delivery in between still wakes this tab.
        let woken = browser.synced.notified();
        let mine = if bug == Some(Mutant::SavedOnPreviousDelivery) {
            entry.seq.saturating_sub(1).max(1)
        } else {
            entry.seq
        };
        if let Some(id) = browser.delivered.borrow().get(&mine) {
            return scope.ok(json!({"loop": save.loop_id, "video": save.video, "shown": "saved", "id": id, "key": entry.key}));
        }
        let now = ctx.now_ms();
        if now >= deadline {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(deadline - now), woken).await;
    }
    let why = browser
        .last_sync_error
        .borrow()
        .clone()
        .unwrap_or(DbError::Timeout(PROMPT_MS));
    if bug == Some(Mutant::SpinnerTimeout) {
        return scope.silent(
            json!({"loop": save.loop_id, "video": save.video, "key": entry.key}),
            true,
        );
    }
    scope.info(
        json!({"loop": save.loop_id, "video": save.video, "shown": "queued", "key": entry.key}),
        &why,
    );
}

/// The browser's outbox worker: delivers entries one at a time, oldest first, and stops
/// once every tab has closed and nothing is pending.
/// `bug` is one of the mutant suite's single bugs ([`Mutant`]); `None` is the reference.
pub async fn sync_worker<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    browser: &Browser,
    bug: Option<Mutant>,
) {
    let mut open: BTreeMap<u64, OpScope<'_>> = BTreeMap::new();
    let mut failures = 0u32;
    let mut delay = 0u64;
    loop {
        let woken = browser.work.notified();
        let Some(entry) = browser.outbox.claim() else {
            if !browser.tabs_open() && browser.outbox.pending().is_empty() {
                return;
            }
            woken.await;
            continue;
        };
        let queued: Value = serde_json::from_str(&entry.payload).unwrap_or(Value::Null);
        let save: Option<LoopSave> = serde_json::from_value(queued["save"].clone()).ok();
        let Some(save) = save else {
            // Nothing this build can send: drop it rather than block the queue forever.
            browser.outbox.finish(entry.seq, true);
            continue;
        };
        let op = queued["op"].as_u64().unwrap_or(0) as u32 + SYNC_OP;
        open.entry(entry.seq).or_insert_with(|| {
            ctx.begin(
                op,
                "sync",
                json!({"video": save.video, "loop": save.loop_id, "key": entry.key}),
            )
        });
        let mut row = save.row(&ctx.user);
        row.insert("idempotency_key".into(), json!(entry.key));
        let request = match bug {
            Some(Mutant::InsertDuplicateIsSaved) => Request::insert(TABLE, row),
            Some(Mutant::KeyWithoutVideo) => Request::upsert(TABLE, row, &KEY_WITHOUT_VIDEO),
            _ => Request::upsert(TABLE, row, &LOOP_KEY),
        };
        let outcome = match ctx.call(request).await {
            // "Already there": the insert's duplicate key is taken as an earlier delivery.
            Err(e) if bug == Some(Mutant::InsertDuplicateIsSaved) && e.code() == Some("23505") => {
                Ok(faultline::backend::Response::Rows(Vec::new()))
            }
            other => other,
        };
        match outcome {
            Ok(resp) => {
                let id = resp
                    .rows()
                    .first()
                    .and_then(|r| r.get("id").cloned())
                    .unwrap_or(Value::Null);
                browser.outbox.finish(entry.seq, true);
                if bug == Some(Mutant::ClearOnSuccess) {
                    for rest in browser.outbox.pending() {
                        let _ = browser.outbox.claim();
                        browser.outbox.finish(rest.seq, true);
                    }
                }
                browser.delivered.borrow_mut().insert(entry.seq, id.clone());
                browser.synced.notify_waiters();
                if let Some(scope) = open.remove(&entry.seq) {
                    scope.ok(json!({"id": id, "key": entry.key}));
                }
                failures = 0;
                delay = 0;
            }
            Err(e) => {
                // The entry stays at the head with its key; a repeat of a request that did
                // commit only upserts the same row again.
                browser
                    .outbox
                    .finish(entry.seq, bug == Some(Mutant::DropOnError));
                *browser.last_sync_error.borrow_mut() = Some(e);
                if bug == Some(Mutant::StopAfterFailure) {
                    return;
                }
                failures += 1;
                if bug == Some(Mutant::GiveUpAfterRetries) && failures >= POLICY.max_attempts {
                    browser.outbox.finish(entry.seq, true);
                    failures = 0;
                }
                delay = POLICY.delay_ms(failures, delay, &mut ctx.rng.borrow_mut());
                ctx.sleep_ms(delay.max(POLICY.base_ms)).await;
            }
        }
    }
}
