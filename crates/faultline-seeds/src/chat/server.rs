//! The simulated twin of the chat schema's `save_conversation` function.

use serde_json::{json, Value};

use super::TABLE;
use faultline::backend::{filter, row, DbError};
use faultline::store::Store;

/// `save_conversation(id, messages, expected_version, force_overwrite)`: writes the
/// whole message array if the stored version is the expected one (or when forced);
/// otherwise answers with the current version and messages so the caller can resolve.
pub fn save_conversation(store: &mut Store, args: &Value) -> Result<Value, DbError> {
    let id = args.get("id").cloned().unwrap_or(Value::Null);
    let current = store
        .select(TABLE, &filter([("id", id.clone())]))?
        .into_iter()
        .next()
        .ok_or_else(|| DbError::sql("P0002", "conversation not found"))?;
    let force = args.get("force_overwrite") == Some(&json!(true));
    if !force && current.get("version") != args.get("expected_version") {
        return Ok(
            json!({"success": false, "version": current["version"], "messages": current["messages"]}),
        );
    }
    let updated = store.update(
        TABLE,
        &filter([("id", id)]),
        &row([("messages", args["messages"].clone())]),
    )?;
    let version = updated
        .first()
        .map_or(Value::Null, |r| r["version"].clone());
    Ok(json!({"success": true, "version": version}))
}
