//! `no_lost_updates`, judged per field against intent.
//!
//! Each `edit` operation records which fields it meant to change (`intent`) and, when
//! acknowledged, the version it produced and every value it wrote (`written`). A field
//! must end holding the value of the last acknowledged edit (in version order) that meant
//! to change it; and no acknowledged edit may overwrite another's acknowledged change
//! with a value it did not mean to write, which is how a whole form resent with stale
//! values loses someone else's edit even after re-reading the newest version.

use std::collections::{BTreeMap, BTreeSet};

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

/// Checks every edited field of `table` (primary key `id`), in O(n log n) for n edits.
pub fn check(history: &History, state: &FinalState, table: &str) -> Verdict {
    let all = edits(history);
    let keys: Vec<String> = all.iter().map(|e| e.key.to_string()).collect();
    // An edit whose outcome is unknown may have been the last writer of a field.
    let mut unknown: BTreeSet<(&str, &str, String)> = BTreeSet::new();
    // Per (card, field): the acknowledged edits that meant to change it, in version order.
    let mut chains: BTreeMap<(&str, &str), Vec<(i64, usize)>> = BTreeMap::new();
    for (i, e) in all.iter().enumerate() {
        for (field, value) in e.intent {
            match (e.op.is_ok(), e.version) {
                (true, Some(v)) => chains.entry((&keys[i], field)).or_default().push((v, i)),
                (true, None) => {}
                (false, _) => {
                    unknown.insert((&keys[i], field, value.to_string()));
                }
            }
        }
    }
    for chain in chains.values_mut() {
        chain.sort_unstable();
    }
    let unknown_wrote =
        |key: &str, field: &str, value: &Value| unknown.contains(&(key, field, value.to_string()));
    let finals: BTreeMap<String, &crate::backend::Row> = state
        .rows(table)
        .iter()
        .map(|r| (r.get("id").map_or_else(String::new, Value::to_string), r))
        .collect();

    // The final state must show the last acknowledged intended value of every field.
    for (&(key, field), chain) in &chains {
        let Some(&(_, last)) = chain.last() else {
            continue;
        };
        let e = &all[last];
        let expected = &e.intent[field];
        let actual = finals
            .get(key)
            .and_then(|r| r.get(field))
            .unwrap_or(&Value::Null);
        if actual == expected || unknown_wrote(key, field, actual) {
            continue;
        }
        return final_state_violation(&all, e, field, expected, actual);
    }

    // No acknowledged edit may silently replace an acknowledged change it did not intend.
    for (i, e) in all.iter().enumerate() {
        let (true, Some(version), Some(written)) = (e.op.is_ok(), e.version, e.written) else {
            continue;
        };
        for (field, value) in written.iter().filter(|(f, _)| !e.intent.contains_key(*f)) {
            let Some(chain) = chains.get(&(keys[i].as_str(), field.as_str())) else {
                continue;
            };
            let before = chain.partition_point(|&(v, _)| v < version);
            let Some(&(_, p)) = before.checked_sub(1).and_then(|j| chain.get(j)) else {
                continue;
            };
            let p = &all[p];
            if &p.intent[field] != value && !unknown_wrote(&keys[i], field, value) {
                return Verdict::violated(
                    NAME,
                    format!(
                        "Card {}: {} set {field}={} (acknowledged, version {}), then {} wrote \
                         {field}={} at version {version} without meaning to change {field}, so the \
                         first edit was lost.",
                        e.key,
                        p.op.invoke.process,
                        show(&p.intent[field]),
                        p.version.unwrap_or_default(),
                        e.op.invoke.process,
                        show(value),
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

fn final_state_violation(
    all: &[Edit<'_>],
    e: &Edit<'_>,
    field: &str,
    expected: &Value,
    actual: &Value,
) -> Verdict {
    let culprit = all
        .iter()
        .filter(|c| c.key == e.key && !c.intent.contains_key(field))
        .filter(|c| c.written.and_then(|w| w.get(field)) == Some(actual))
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
    Verdict::violated(
        NAME,
        format!(
            "Card {}: {} set {field}={} and was acknowledged, but the final card has \
             {field}={}.{how}",
            e.key,
            e.op.invoke.process,
            show(expected),
            show(actual)
        ),
        ops,
    )
}
