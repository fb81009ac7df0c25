//! The simulated twins of the reference schema's server functions: every operation
//! carries an id, and the server applies each id once, assigning versions itself.

use serde_json::{json, Value};

use super::{APPLIED, FIELDS, RUNS, USAGE};
use faultline::backend::{filter, row, DbError, RAISE_EXCEPTION};
use faultline::store::Store;

fn op_id(args: &Value) -> Result<String, DbError> {
    args.get("op_id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| DbError::sql(RAISE_EXCEPTION, "op_id is required"))
}

/// The stored result of an operation already applied, if any.
fn replay(store: &Store, op: &str) -> Result<Option<Value>, DbError> {
    Ok(store
        .select(APPLIED, &filter([("op_id", json!(op))]))?
        .into_iter()
        .next()
        .map(|r| r.get("result").cloned().unwrap_or(Value::Null)))
}

/// `apply_op(op_id, record, field, value, base_version)`: sets one field of a run unless
/// someone else changed that field after the version the device based its edit on, in
/// which case nothing changes and the answer says what the server has. Either way the
/// result is stored under the op id, so a repeated call answers the same.
pub fn apply_op(store: &mut Store, args: &Value) -> Result<Value, DbError> {
    let op = op_id(args)?;
    let field = args
        .get("field")
        .and_then(Value::as_str)
        .filter(|f| FIELDS.contains(f))
        .ok_or_else(|| DbError::sql(RAISE_EXCEPTION, "field must be title, notes or tags"))?
        .to_string();
    if let Some(result) = replay(store, &op)? {
        return Ok(result);
    }
    let id = args.get("record").cloned().unwrap_or(Value::Null);
    let base = args
        .get("base_version")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let current = store
        .select(RUNS, &filter([("id", id.clone())]))?
        .into_iter()
        .next()
        .ok_or_else(|| DbError::sql("P0002", "run not found"))?;
    let mut versions = current
        .get("field_versions")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let seen = versions.get(&field).and_then(Value::as_i64).unwrap_or(0);
    let result = if seen > base {
        json!({"status": "conflict", "value": current.get(&field), "field_version": seen})
    } else {
        let next = current.get("version").and_then(Value::as_i64).unwrap_or(0) + 1;
        versions.insert(field.clone(), json!(next));
        let value = args.get("value").cloned().unwrap_or(Value::Null);
        store.update(
            RUNS,
            &filter([("id", id)]),
            &row([
                (field.as_str(), value.clone()),
                ("field_versions", Value::Object(versions)),
            ]),
        )?;
        json!({"status": "applied", "value": value, "field_version": next})
    };
    store.insert(
        APPLIED,
        row([("op_id", json!(op)), ("result", result.clone())]),
    )?;
    Ok(result)
}

/// `log_usage(op_id, credits, ...)`: inserts the usage row once per op id.
pub fn log_usage(store: &mut Store, args: &Value) -> Result<Value, DbError> {
    let op = op_id(args)?;
    if let Some(result) = replay(store, &op)? {
        return Ok(result);
    }
    let usage = args
        .get("row")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| DbError::sql(RAISE_EXCEPTION, "row is required"))?;
    store.insert(USAGE, usage)?;
    let result = json!({"status": "applied"});
    store.insert(
        APPLIED,
        row([("op_id", json!(op)), ("result", result.clone())]),
    )?;
    Ok(result)
}
