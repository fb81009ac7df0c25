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

/// [`check`], and the same judged without trusting the key the client wrote: the rows whose
/// `content_col` (e.g. the card's name) equals what some `create` asked for are counted
/// against the distinct logical creates (invoke `key_col`, the form the user submitted, as
/// the history records it) that asked for that content. More rows than forms means some
/// form produced two, even when the client sent each attempt under a key of its own
/// making. Only forms the user was not told definitively failed count: a form whose every
/// submission completed `fail` ("couldn't create the card") must have made no row, so a
/// create shown as failed after an attempt of it committed is caught too (the user, told
/// it failed, submits it again). Rows present before the run must not share content with
/// a create.
pub fn check_per_form(
    history: &History,
    state: &FinalState,
    table: &str,
    key_col: &str,
    content_col: &str,
    name: &str,
) -> Verdict {
    let keyed = check(history, state, table, key_col, name);
    if !keyed.is_ok() {
        return keyed;
    }
    let creates = history.operations_named("create");
    // Per content: every form submitted, and the forms some submission of which may
    // have taken effect (ok, or an unknown outcome).
    let mut forms: BTreeMap<Key, (&Value, Vec<Key>, Vec<Key>)> = BTreeMap::new();
    for o in &creates {
        let (Some(content), Some(key)) =
            (o.invoke.value.get(content_col), o.invoke.value.get(key_col))
        else {
            continue;
        };
        let slot = forms
            .entry(Key::of(content))
            .or_insert((content, Vec::new(), Vec::new()));
        if !slot.1.contains(&Key::of(key)) {
            slot.1.push(Key::of(key));
        }
        if o.may_have_happened() && !slot.2.contains(&Key::of(key)) {
            slot.2.push(Key::of(key));
        }
    }
    for (content_key, (content, keys, live)) in &forms {
        let made: Vec<String> = state
            .rows(table)
            .iter()
            .filter(|r| {
                r.get(content_col)
                    .is_some_and(|v| Key::of(v) == *content_key)
            })
            .map(|r| r.get("id").unwrap_or(&Value::Null).to_string())
            .collect();
        if made.len() <= live.len() {
            continue;
        }
        let ops: Vec<Witness> = creates
            .iter()
            .filter(|o| o.invoke.value.get(content_col) == Some(content))
            .map(|o| Witness::of(o, format!("create {content_col}={content}")))
            .collect();
        let how = if made.len() <= keys.len() {
            format!(
                "{} of those forms the user was told had failed, yet a submission of one \
                 committed a row",
                keys.len() - live.len()
            )
        } else {
            "a retried or double-submitted create made a row again, under a key the client \
             made up per request rather than one per form"
                .to_string()
        };
        return Verdict::violated(
            name,
            format!(
                "{} form(s) asked for a {content_col} of {content}, and the table holds {} rows \
                 with it (ids {}): {how}.",
                keys.len(),
                made.len(),
                made.join(", ")
            ),
            ops,
        );
    }
    Verdict::holds(name)
}
