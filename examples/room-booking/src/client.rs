//! The client code under test: what shipped, the fix, and an over-cautious "fix" that
//! refuses everything (which must not pass for safe).

use std::cell::RefCell;

use faultline::backend::{filter, row, AuthApi, Backend, DbError, Request, EXCLUSION_VIOLATION};
use faultline::plan::ClientScript;
use faultline::system::{ClientCtx, OpScope};
use serde_json::{json, Value};

use crate::server::overlaps;
use crate::{Action, TABLE};

/// One version of the booking page's code. The run loop records what the user asked for
/// (the invoke, from the plan); the code completes `scope` with what the user was shown.
#[allow(async_fn_in_trait)]
pub trait BookingLogic: Clone + 'static {
    /// Books `[start, end)` in `room`; returns the booking's id when it took.
    async fn book<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        scope: OpScope<'_>,
        room: &str,
        start: u64,
        end: u64,
    ) -> Option<i64>;
}

/// What shipped: reads the room's bookings, and if the slot looks free inserts a row,
/// inserting again once if the first insert timed out.
#[derive(Debug, Clone, Copy)]
pub struct Shipped;

/// The fix: one call to `book_room` with a key per request, retried with the same key.
#[derive(Debug, Clone, Copy)]
pub struct Fixed;

/// Tells every user the room is taken without asking the server.
#[derive(Debug, Clone, Copy)]
pub struct RefusesAll;

fn taken() -> DbError {
    DbError::sql(EXCLUSION_VIOLATION, "the room is taken")
}

fn id_of(v: &Value) -> Option<i64> {
    v.get("id").and_then(Value::as_i64)
}

impl BookingLogic for Shipped {
    async fn book<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        scope: OpScope<'_>,
        room: &str,
        start: u64,
        end: u64,
    ) -> Option<i64> {
        let active = filter([("room", json!(room)), ("status", json!("active"))]);
        // The bug: a check, then an insert, with nothing on the server between them.
        let free = match ctx.call(Request::select(TABLE, active)).await {
            Ok(r) => !r.rows().iter().any(|b| overlaps(b, start, end)),
            Err(e) => {
                scope.error(json!({}), &e);
                return None;
            }
        };
        if !free {
            scope.fail(json!({}), &taken());
            return None;
        }
        let new = row([
            ("user_id", json!(ctx.user)),
            ("room", json!(room)),
            ("start_min", json!(start)),
            ("end_min", json!(end)),
            ("status", json!("active")),
        ]);
        // The bug the fix removes: a timed-out insert may have committed, and the retry
        // books the room a second time.
        for attempt in 0..3u32 {
            if attempt > 0 {
                ctx.sleep_ms(500).await;
            }
            // Each completion says how many inserts were sent (the reports' `attempts`).
            let sent = json!({"attempts": attempt + 1});
            match ctx.call(Request::insert(TABLE, new.clone())).await {
                Ok(r) => {
                    let id = r
                        .rows()
                        .first()
                        .and_then(|b| b.get("id"))
                        .and_then(Value::as_i64);
                    scope.ok(json!({"id": id, "attempts": attempt + 1}));
                    return id;
                }
                Err(e) if e.outcome_unknown() && attempt < 2 => continue,
                Err(e) if attempt > 0 => {
                    scope.info(sent, &e);
                    return None;
                }
                Err(e) => {
                    scope.error(sent, &e);
                    return None;
                }
            }
        }
        None
    }
}

impl BookingLogic for Fixed {
    async fn book<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        scope: OpScope<'_>,
        room: &str,
        start: u64,
        end: u64,
    ) -> Option<i64> {
        let key = format!("{}-{}", ctx.name, scope.op());
        let args = json!({"user_id": ctx.user, "room": room, "start_min": start, "end_min": end, "booking_key": key});
        // The same key on every attempt: the server answers a retry with the booking it
        // already made, so an attempt that timed out but committed is not booked again.
        let mut unknown = false;
        for attempt in 1..=4u32 {
            let sent = json!({"attempts": attempt});
            match ctx.call(Request::rpc("book_room", args.clone())).await {
                Ok(r) => {
                    let id = id_of(&r.value());
                    scope.ok(json!({"id": id, "attempts": attempt}));
                    return id;
                }
                Err(e) if e.outcome_unknown() => unknown = true,
                Err(e) if unknown => {
                    scope.info(sent, &e);
                    return None;
                }
                Err(e) => {
                    scope.error(sent, &e);
                    return None;
                }
            }
        }
        scope.info(json!({"attempts": 4}), &DbError::Timeout(0));
        None
    }
}

impl BookingLogic for RefusesAll {
    async fn book<B: Backend, A: AuthApi>(
        &self,
        _ctx: &ClientCtx<B, A>,
        scope: OpScope<'_>,
        _room: &str,
        _start: u64,
        _end: u64,
    ) -> Option<i64> {
        scope.fail(json!({}), &taken());
        None
    }
}

/// Cancels the latest booking this colleague holds, by id.
async fn cancel<B: Backend, A: AuthApi>(ctx: &ClientCtx<B, A>, op: u32, id: i64) {
    let scope = ctx.begin(op, "cancel", json!({"id": id}));
    let patch = row([("status", json!("cancelled"))]);
    match ctx
        .call(Request::update(TABLE, filter([("id", json!(id))]), patch))
        .await
    {
        Ok(_) => scope.ok(json!({"id": id})),
        Err(e) => scope.error(json!({}), &e),
    }
}

/// Runs one colleague's script with `logic`.
pub async fn run<L: BookingLogic, B: Backend, A: AuthApi>(
    logic: &L,
    ctx: &ClientCtx<B, A>,
    script: ClientScript,
) -> Result<(), String> {
    let held: RefCell<Vec<i64>> = RefCell::new(Vec::new());
    for planned in script.ops {
        ctx.wait_until(planned.at_ms).await;
        match serde_json::from_value(planned.action).map_err(|e| e.to_string())? {
            Action::Book { room, start, end } => {
                let asked = json!({"room": room, "start": start, "end": end});
                let scope = ctx.begin(planned.id, "book", asked);
                if let Some(id) = logic.book(ctx, scope, &room, start, end).await {
                    held.borrow_mut().push(id);
                }
            }
            Action::Cancel => {
                let last = held.borrow_mut().pop();
                if let Some(id) = last {
                    cancel(ctx, planned.id, id).await;
                }
            }
        }
    }
    Ok(())
}
