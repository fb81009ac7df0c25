//! `no_lost_updates`, judged per field against intent.
//!
//! Each `edit` operation records which fields it meant to change (`intent`) and, when
//! acknowledged, the version it produced and every value it wrote (`written`). A field
//! must end holding the value of the last acknowledged edit (in version order) that meant
//! to change it; and no acknowledged edit may overwrite another's acknowledged change
//! with a value it did not mean to write, which is how a whole form resent with stale
//! values loses someone else's edit even after re-reading the newest version.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{show, FinalState, Verdict, Witness};
use crate::history::{History, Operation};

/// The invariant's name.
pub const NAME: &str = "no_lost_updates";

struct Edit<'a> {
    op: Operation<'a>,
    key: &'a Value,
    intent: &'a Map<String, Value>,
    version: Option<i64>,
    written: Option<&'a Map<String, Value>>,
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

fn edits(history: &History) -> Vec<Edit<'_>> {
    history
        .operations_named("edit")
        .into_iter()
        .filter(|o| o.may_have_happened())
        .map(|op| Edit {
            key: &op.invoke.value["key"],
            intent: op.invoke.value["intent"].as_object().unwrap_or(&EMPTY),
            version: op.result().get("version").and_then(Value::as_i64),
            written: op.result().get("written").and_then(Value::as_object),
            op,
        })
        .collect()
}

fn describe(e: &Edit<'_>) -> String {
    let intent: Vec<String> = e
        .intent
        .iter()
        .map(|(f, v)| format!("{f}={}", show(v)))
        .collect();
    let version = e
        .version
        .map_or(String::new(), |v| format!(" -> version {v}"));
    format!(
        "edit card {} meaning to set {}{version}",
        e.key,
        intent.join(", ")
    )
}

/// Checks every edited field of `table` (primary key `id`).
pub fn check(history: &History, state: &FinalState, table: &str) -> Verdict {
    let all = edits(history);
    let ok: Vec<&Edit<'_>> = all
        .iter()
        .filter(|e| e.op.is_ok() && e.version.is_some())
        .collect();
    // An edit whose outcome is unknown may have been the last writer of a field.
    let unknown_wrote = |key: &Value, field: &str, value: &Value| {
        all.iter()
            .any(|e| !e.op.is_ok() && e.key == key && e.intent.get(field) == Some(value))
    };
    let finals: BTreeMap<String, &crate::backend::Row> = state
        .rows(table)
        .iter()
        .map(|r| (r.get("id").map_or_else(String::new, Value::to_string), r))
        .collect();

    // The final state must show the last acknowledged intended value of every field.
    let mut last: BTreeMap<(String, &str), &Edit<'_>> = BTreeMap::new();
    for e in &ok {
        for field in e.intent.keys() {
            let slot = last.entry((e.key.to_string(), field.as_str())).or_insert(e);
            if e.version > slot.version {
                *slot = e;
            }
        }
    }
    for ((key, field), e) in &last {
        let expected = &e.intent[*field];
        let actual = finals
            .get(key)
            .and_then(|r| r.get(*field))
            .unwrap_or(&Value::Null);
        if actual == expected || unknown_wrote(e.key, field, actual) {
            continue;
        }
        let culprit = all
            .iter()
            .filter(|c| c.key == e.key && !c.intent.contains_key(*field))
            .filter(|c| c.written.and_then(|w| w.get(*field)) == Some(actual))
            .max_by_key(|c| c.version);
        let mut ops = vec![Witness::of(&e.op, describe(e))];
        let how = match culprit {
            Some(c) => {
                ops.push(Witness::of(&c.op, describe(c)));
                format!(
                    " {} at {} wrote {field}={} although it did not mean to change {field}: it sent \
                     the whole form with a value read before the first edit.",
                    c.op.invoke.process,
                    super::secs(c.op.invoke.time_us),
                    show(actual)
                )
            }
            None => String::new(),
        };
        return Verdict::violated(
            NAME,
            format!(
                "Card {key}: {} set {field}={} and was acknowledged, but the final card has \
                 {field}={}.{how}",
                e.op.invoke.process,
                show(expected),
                show(actual)
            ),
            ops,
        );
    }

    // No acknowledged edit may silently replace an acknowledged change it did not intend.
    for e in &ok {
        let Some(written) = e.written else { continue };
        for (field, value) in written.iter().filter(|(f, _)| !e.intent.contains_key(*f)) {
            let before = ok
                .iter()
                .filter(|p| p.key == e.key && p.version < e.version && p.intent.contains_key(field))
                .max_by_key(|p| p.version);
            let Some(p) = before else { continue };
            if &p.intent[field] != value && !unknown_wrote(e.key, field, value) {
                return Verdict::violated(
                    NAME,
                    format!(
                        "Card {}: {} set {field}={} (acknowledged, version {}), then {} wrote \
                         {field}={} at version {} without meaning to change {field}, so the \
                         first edit was lost.",
                        e.key,
                        p.op.invoke.process,
                        show(&p.intent[field]),
                        p.version.unwrap_or_default(),
                        e.op.invoke.process,
                        show(value),
                        e.version.unwrap_or_default()
                    ),
                    vec![
                        Witness::of(&p.op, describe(p)),
                        Witness::of(&e.op, describe(e)),
                    ],
                );
            }
        }
    }
    Verdict::holds(NAME)
}
