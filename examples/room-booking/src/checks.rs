//! The room-booking invariants: pure functions of a run's history and final state.

use std::collections::BTreeSet;

use faultline::backend::{ErrorCategory, Row};
use faultline::check::{FinalState, Verdict, Witness};
use faultline::history::{EntryType, History, Operation};
use serde_json::Value;

use crate::server::overlaps;
use crate::TABLE;

fn num(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

fn slot(v: &Value) -> (String, u64, u64) {
    let room = v
        .get("room")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    (room, num(v, "start"), num(v, "end"))
}

fn row_slot(r: &Row) -> (String, u64, u64) {
    let room = r
        .get("room")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let n = |k: &str| r.get(k).and_then(Value::as_u64).unwrap_or(0);
    (room, n("start_min"), n("end_min"))
}

fn active(r: &Row) -> bool {
    r.get("status").and_then(Value::as_str) == Some("active")
}

/// The `book` operation that was told it got booking `id`, as a witness.
fn booked_as(history: &History, id: &Value) -> Vec<Witness> {
    history
        .operations_named("book")
        .iter()
        .filter(|op| op.is_ok() && op.result().get("id") == Some(id))
        .map(|op| Witness::of(op, format!("book {:?} -> id {id}", slot(&op.invoke.value))))
        .collect()
}

/// No two active bookings of one room overlap at the end of the run.
pub fn no_double_booking(history: &History, state: &FinalState) -> Verdict {
    let rows: Vec<&Row> = state.rows(TABLE).iter().filter(|r| active(r)).collect();
    for (i, a) in rows.iter().enumerate() {
        for b in &rows[i + 1..] {
            let (room, s, e) = row_slot(a);
            if room == row_slot(b).0 && overlaps(b, s, e) {
                let ids = [
                    a.get("id").cloned().unwrap_or_default(),
                    b.get("id").cloned().unwrap_or_default(),
                ];
                let ops = ids.iter().flat_map(|id| booked_as(history, id)).collect();
                let why = format!("{room} is booked twice for overlapping times (bookings {} and {}): both requests saw it free and nothing on the server refused the second.", ids[0], ids[1]);
                return Verdict::violated("no_double_booking", why, ops);
            }
        }
    }
    Verdict::holds("no_double_booking")
}

/// Every booking row that ever existed answers exactly one request: identified by who asked
/// for which room and time (the history), never by a key the client wrote.
pub fn booked_once(history: &History, state: &FinalState) -> Verdict {
    let audit = state.images(TABLE);
    let mut rows: Vec<&Row> = Vec::new();
    let mut seen = BTreeSet::new();
    for r in audit {
        if seen.insert(r.get("id").map(Value::to_string)) {
            rows.push(r);
        }
    }
    for op in history.operations_named("book") {
        let user = history_user(history, &op);
        let want = slot(&op.invoke.value);
        let made: Vec<&&Row> = rows
            .iter()
            .filter(|r| {
                row_slot(r) == want
                    && r.get("user_id").and_then(Value::as_str) == Some(user.as_str())
            })
            .collect();
        if made.len() > 1 {
            let why = format!("One request by {user} for {want:?} produced {} bookings: a retry after a timeout booked the room again although the first attempt had committed.", made.len());
            return Verdict::violated(
                "booked_once",
                why,
                vec![Witness::of(&op, format!("book {want:?}"))],
            );
        }
    }
    Verdict::holds("booked_once")
}

/// The user a client signs in as is `uN` for `client-N` (the workload's convention).
fn history_user(_history: &History, op: &Operation<'_>) -> String {
    format!("u{}", op.invoke.process.trim_start_matches("client-"))
}

/// Refusal is not safety: a user told "taken" must have asked for a slot that another
/// request could have held at that moment (booked ok or unknown, started before the
/// refusal was shown, and not cancelled before the request began).
pub fn refusals_justified(history: &History, _state: &FinalState) -> Verdict {
    let books = history.operations_named("book");
    let cancels = history.operations_named("cancel");
    let cancelled_before = |id: &Value, t: u64| {
        cancels.iter().any(|c| {
            c.is_ok()
                && c.invoke.value.get("id") == Some(id)
                && c.completion.is_some_and(|e| e.time_us < t)
        })
    };
    for op in &books {
        let refused = op.outcome() == EntryType::Fail
            && op
                .completion
                .and_then(|c| c.error.as_ref())
                .is_some_and(|e| e.category == ErrorCategory::Conflict);
        if !refused {
            continue;
        }
        let (room, s, e) = slot(&op.invoke.value);
        let shown_at = op.completion.map_or(u64::MAX, |c| c.time_us);
        let holder = books.iter().find(|other| {
            let (r, os, oe) = slot(&other.invoke.value);
            other.invoke.index != op.invoke.index
                && other.may_have_happened()
                && r == room
                && os < e
                && s < oe
                && other.invoke.time_us < shown_at
                && !other
                    .result()
                    .get("id")
                    .is_some_and(|id| cancelled_before(id, op.invoke.time_us))
        });
        if holder.is_none() {
            let why = format!("A user was told {room} is taken from {s} to {e}, but no other request could have held it then: the refusal is not justified by anything that happened.");
            return Verdict::violated(
                "refusals_justified",
                why,
                vec![Witness::of(op, format!("book {room} {s}..{e} refused"))],
            );
        }
    }
    Verdict::holds("refusals_justified")
}

/// A cancellation the server acknowledged stays cancelled: its row is not active at the end.
pub fn cancel_durable(history: &History, state: &FinalState) -> Verdict {
    for op in history
        .operations_named("cancel")
        .iter()
        .filter(|c| c.is_ok())
    {
        let id = op.invoke.value.get("id");
        let row = state.rows(TABLE).iter().find(|r| r.get("id") == id);
        if row.is_some_and(active) {
            let why = format!(
                "Booking {} was cancelled and acknowledged, but is active at the end.",
                id.cloned().unwrap_or_default()
            );
            return Verdict::violated("cancel_durable", why, vec![Witness::of(op, "cancel")]);
        }
    }
    Verdict::holds("cancel_durable")
}
