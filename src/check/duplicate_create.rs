//! `no_duplicate_create` (and `no_duplicate_rows`): at most one row per logical create,
//! however often it was retried or double-submitted.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{FinalState, Verdict, Witness};
use crate::history::History;
use crate::store::Key;

/// The invariant's name.
pub const NAME: &str = "no_duplicate_create";

/// Groups the final rows of `table` by `key_col` (the logical create's key, e.g. the form
/// instance a user submitted) and flags any key with more than one row. Witnesses are the
/// `create` operations whose invoke value carries that key under `key_col`.
pub fn check(
    history: &History,
    state: &FinalState,
    table: &str,
    key_col: &str,
    name: &str,
) -> Verdict {
    let mut rows: BTreeMap<Key, (&Value, Vec<&Value>)> = BTreeMap::new();
    for row in state.rows(table) {
        if let Some(key) = row.get(key_col).filter(|v| !v.is_null()) {
            let slot = rows.entry(Key::of(key)).or_insert((key, Vec::new()));
            slot.1.push(row.get("id").unwrap_or(&Value::Null));
        }
    }
    let Some((key, ids)) = rows.values().find(|(_, ids)| ids.len() > 1) else {
        return Verdict::holds(name);
    };
    let (key, ids): (String, Vec<String>) =
        (key.to_string(), ids.iter().map(|v| v.to_string()).collect());
    let ops: Vec<Witness> = history
        .operations_named("create")
        .iter()
        .filter(|o| {
            o.invoke.value.get(key_col).map(Value::to_string).as_deref() == Some(key.as_str())
        })
        .map(|o| {
            let attempts = o
                .result()
                .get("attempts")
                .map_or(String::new(), |a| format!(", {a} attempts"));
            Witness::of(o, format!("create {key_col}={key}{attempts}"))
        })
        .collect();
    let how = if ops.len() > 1 {
        "the same submission was sent more than once (a double submit)"
    } else {
        "a request that timed out had in fact committed, and the retry created the card again"
    };
    Verdict::violated(
        name,
        format!(
            "One logical create ({key_col} {key}) produced {} rows (ids {}): {how}, and nothing \
             made the create idempotent.",
            ids.len(),
            ids.join(", ")
        ),
        ops,
    )
}
