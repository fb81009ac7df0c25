//! The simulated twin of `book_room` in `sql/functions.sql`: the overlap check and the
//! insert run in one transaction, and a request's key makes a retry return the booking it
//! already made.

use faultline::backend::{filter, row, DbError, EXCLUSION_VIOLATION};
use faultline::store::Store;
use serde_json::{json, Value};

use crate::TABLE;

/// True when `[start, end)` overlaps the booking `r`.
pub fn overlaps(r: &serde_json::Map<String, Value>, start: u64, end: u64) -> bool {
    let (s, e) = (
        r["start_min"].as_u64().unwrap_or(0),
        r["end_min"].as_u64().unwrap_or(0),
    );
    s < end && start < e
}

fn arg(args: &Value, name: &str) -> Result<Value, DbError> {
    args.get(name)
        .cloned()
        .ok_or_else(|| DbError::sql("42883", format!("book_room: missing argument {name}")))
}

/// `book_room(user_id, room, start_min, end_min, booking_key)`.
pub fn book_room(store: &mut Store, args: &Value) -> Result<Value, DbError> {
    let key = arg(args, "booking_key")?;
    if let Some(done) = store
        .select(TABLE, &filter([("booking_key", key.clone())]))?
        .pop()
    {
        return Ok(Value::Object(done));
    }
    let room = arg(args, "room")?;
    let (start, end) = (arg(args, "start_min")?, arg(args, "end_min")?);
    let (s, e) = (start.as_u64().unwrap_or(0), end.as_u64().unwrap_or(0));
    let active = store.select(
        TABLE,
        &filter([("room", room.clone()), ("status", json!("active"))]),
    )?;
    if active.iter().any(|r| overlaps(r, s, e)) {
        return Err(DbError::sql(
            EXCLUSION_VIOLATION,
            "the room is booked for an overlapping time",
        ));
    }
    let new = row([
        ("user_id", arg(args, "user_id")?),
        ("room", room),
        ("start_min", start),
        ("end_min", end),
        ("booking_key", key),
        ("status", json!("active")),
    ]);
    Ok(Value::Object(store.insert(TABLE, new)?))
}
