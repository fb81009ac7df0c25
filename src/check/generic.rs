//! Generic checkers, configured for a system's own tables and operations, each returned as
//! an [`Invariant`] ready for [`crate::system::SystemSpec::invariant`]. Their history
//! conventions are those of `docs/conventions.md`: an operation's invoke value says what
//! the user asked for, its completion value what they were shown.
//!
//! ```
//! use faultline::check::generic;
//! let unique = generic::unique_values("one_slug_per_card", "cards", "slug");
//! let ryw = generic::read_your_writes("sees_own_save", ("save", "value"), ("load", "value"));
//! # let _ = (unique, ryw);
//! ```

use std::collections::BTreeMap;

use serde_json::Value;

use super::{FinalState, Verdict, Witness};
use crate::history::{EntryType, History, Operation};
use crate::system::Invariant;

/// No two rows of `table` in the final state hold the same non-null `column`.
pub fn unique_values(name: &str, table: &str, column: &str) -> Invariant {
    let (n, t, c) = (name.to_string(), table.to_string(), column.to_string());
    Invariant::new(name, move |_h, state: &FinalState| {
        let mut seen: BTreeMap<String, Value> = BTreeMap::new();
        for row in state.rows(&t) {
            let Some(v) = row.get(&c).filter(|v| !v.is_null()) else {
                continue;
            };
            let id = row.get("id").cloned().unwrap_or(Value::Null);
            if let Some(first) = seen.insert(v.to_string(), id.clone()) {
                let why = format!(
                    "rows {first} and {id} of {t} both hold {c} = {v}, which must be unique"
                );
                return Verdict::violated(&n, why, vec![]);
            }
        }
        Verdict::holds(&n)
    })
    .reads(table)
}

/// True when `row` holds, for each `(field, column)` pair, the invoke's `field` in `column`.
fn matches(
    op: &Operation<'_>,
    row: &serde_json::Map<String, Value>,
    pairs: &[(String, String)],
) -> bool {
    pairs.iter().all(|(f, c)| {
        op.invoke
            .value
            .get(f)
            .is_some_and(|v| row.get(c) == Some(v))
    })
}

/// At most one row of `table` ever committed (the audit, or the final rows when the table
/// is not audited) per operation `f` that may have happened, a row belonging to an
/// operation when its `columns` hold the invoke's `fields`. The logical identity is what the
/// user asked for, taken from the history, never a key the client wrote.
pub fn one_row_per_operation(
    name: &str,
    f: &str,
    table: &str,
    pairs: &[(&str, &str)],
) -> Invariant {
    let (n, fname, t) = (name.to_string(), f.to_string(), table.to_string());
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    Invariant::new(name, move |history: &History, state: &FinalState| {
        let rows = state.audit.get(&t).map_or_else(|| state.rows(&t), Vec::as_slice);
        // Audit images repeat a row once per update; a row is its id.
        let mut ids: BTreeMap<String, &serde_json::Map<String, Value>> = BTreeMap::new();
        for r in rows {
            ids.entry(r.get("id").map_or_else(|| format!("{r:?}"), Value::to_string)).or_insert(r);
        }
        for op in history.operations_named(&fname).iter().filter(|o| o.may_have_happened()) {
            let mine: Vec<&String> = ids.iter().filter(|(_, r)| matches(op, r, &pairs)).map(|(id, _)| id).collect();
            if mine.len() > 1 {
                let ids: Vec<&str> = mine.iter().map(|s| s.as_str()).collect();
                let why = format!(
                    "one `{fname}` the user asked for once produced {} rows of {t} (ids {}): a retry or a double submit wrote it again",
                    mine.len(),
                    ids.join(", ")
                );
                return Verdict::violated(&n, why, vec![Witness::of(op, op.invoke.value.to_string())]);
            }
        }
        Verdict::holds(&n)
    })
    .reads(table)
}

/// Every operation `f` the user was told succeeded has its row in the final state of
/// `table` (its `columns` holding the invoke's `fields`).
pub fn acked_durable(name: &str, f: &str, table: &str, pairs: &[(&str, &str)]) -> Invariant {
    let (n, fname, t) = (name.to_string(), f.to_string(), table.to_string());
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    Invariant::new(name, move |history: &History, state: &FinalState| {
        for op in history
            .operations_named(&fname)
            .iter()
            .filter(|o| o.is_ok())
        {
            if !state.rows(&t).iter().any(|r| matches(op, r, &pairs)) {
                let why =
                    format!("a `{fname}` the user was told succeeded is not in {t} at the end");
                return Verdict::violated(
                    &n,
                    why,
                    vec![Witness::of(op, op.invoke.value.to_string())],
                );
            }
        }
        Verdict::holds(&n)
    })
    .reads(table)
}

/// Every operation `f` ends ok, or with an error category the user was shown: none fails
/// or is left unknown without telling the user why.
pub fn no_silent_failure(name: &str, f: &str) -> Invariant {
    let (n, fname) = (name.to_string(), f.to_string());
    Invariant::new(name, move |history: &History, _state: &FinalState| {
        for op in history.operations_named(&fname) {
            let silent = match op.completion {
                Some(c) => c.kind != EntryType::Ok && c.error.is_none(),
                None => false,
            };
            if silent {
                let why = format!(
                    "a `{fname}` ended {:?} and the user was shown no error",
                    op.outcome()
                );
                return Verdict::violated(&n, why, vec![Witness::of(&op, "no category")]);
            }
        }
        Verdict::holds(&n)
    })
}

fn number(v: &Value, field: &str) -> Option<f64> {
    v.get(field).and_then(Value::as_f64)
}

/// Per client, the `field` of successive ok `f` results (in completion order) never
/// decreases: what a user was shown does not go back in time.
pub fn monotonic_reads(name: &str, f: &str, field: &str) -> Invariant {
    let (n, fname, fld) = (name.to_string(), f.to_string(), field.to_string());
    Invariant::new(name, move |history: &History, _state: &FinalState| {
        let mut ops: Vec<Operation<'_>> = history
            .operations_named(&fname)
            .into_iter()
            .filter(|o| o.is_ok())
            .collect();
        ops.sort_by_key(|o| o.completion.map_or(usize::MAX, |c| c.index));
        let mut best: BTreeMap<&str, (f64, Operation<'_>)> = BTreeMap::new();
        for op in ops {
            let Some(v) = number(op.result(), &fld) else {
                continue;
            };
            match best.get(op.invoke.process.as_str()) {
                Some((hi, earlier)) if v < *hi => {
                    let why = format!(
                        "{} was shown {fld} = {hi}, then {v}: a later read went back",
                        op.invoke.process
                    );
                    let w = vec![
                        Witness::of(earlier, format!("{fld} = {hi}")),
                        Witness::of(&op, format!("{fld} = {v}")),
                    ];
                    return Verdict::violated(&n, why, w);
                }
                // An equal value moves the witness to the latest read that showed it.
                _ => {
                    best.insert(op.invoke.process.as_str(), (v, op));
                }
            }
        }
        Verdict::holds(&n)
    })
}

/// A client that was told its write `write.0` stored `write.1` = v never afterwards reads
/// (`read.0`, result field `read.1`) less than v: it sees its own writes.
pub fn read_your_writes(name: &str, write: (&str, &str), read: (&str, &str)) -> Invariant {
    let n = name.to_string();
    let (wf, wfld, rf, rfld) = (
        write.0.to_string(),
        write.1.to_string(),
        read.0.to_string(),
        read.1.to_string(),
    );
    Invariant::new(name, move |history: &History, _state: &FinalState| {
        let writes: Vec<Operation<'_>> = history
            .operations_named(&wf)
            .into_iter()
            .filter(|o| o.is_ok())
            .collect();
        for r in history.operations_named(&rf).iter().filter(|o| o.is_ok()) {
            let Some(got) = number(r.result(), &rfld) else {
                continue;
            };
            let own_before = writes.iter().filter(|w| {
                w.invoke.process == r.invoke.process
                    && w.completion.is_some_and(|c| c.precedes(r.invoke))
            });
            for w in own_before {
                if let Some(wrote) = number(&w.invoke.value, &wfld) {
                    if got < wrote {
                        let why = format!(
                            "{} was told it stored {wfld} = {wrote}, then read {rfld} = {got}",
                            r.invoke.process
                        );
                        let ws = vec![
                            Witness::of(w, format!("wrote {wrote}")),
                            Witness::of(r, format!("read {got}")),
                        ];
                        return Verdict::violated(&n, why, ws);
                    }
                }
            }
        }
        Verdict::holds(&n)
    })
}

/// Every failure shown to the user for the operations `rule` judges is justified by the
/// history: a fault that struck the client or a server while it was in flight, a
/// revocation (for an `auth` error), or the contention `rule` declares
/// ([`super::refusals`]). An implementation that refuses work nobody contended for is
/// caught, though it never loses anything.
pub fn failures_justified(name: &str, rule: super::refusals::Refusals) -> Invariant {
    let n = name.to_string();
    Invariant::new(name, move |history: &History, _state: &FinalState| {
        rule.check(&n, history)
    })
}

/// After the liveness phase, every client's local copy (`state.clients[client][field]`, an
/// array of rows) holds exactly the rows of `table`, by `id`, with the server's value in
/// every column the copy keeps.
pub fn convergence(name: &str, table: &str, field: &str) -> Invariant {
    let (n, t, fld) = (name.to_string(), table.to_string(), field.to_string());
    Invariant::new(name, move |_history: &History, state: &FinalState| {
        let server: BTreeMap<String, &serde_json::Map<String, Value>> = state
            .rows(&t)
            .iter()
            .map(|r| (r.get("id").map_or_else(String::new, Value::to_string), r))
            .collect();
        for (client, local) in &state.clients {
            let Some(copy) = local.get(&fld).and_then(Value::as_array) else {
                continue;
            };
            let mut seen = 0;
            for row in copy.iter().filter_map(Value::as_object) {
                let id = row.get("id").map_or_else(String::new, Value::to_string);
                let differs = match server.get(&id) {
                    None => Some(format!("{client} shows row {id}, which {t} does not have")),
                    Some(s) => {
                        row.iter()
                            .find(|(k, v)| s.get(k.as_str()) != Some(v))
                            .map(|(k, v)| {
                                format!(
                                    "{client} shows {k} = {v} for row {id}; {t} holds {}",
                                    s.get(k.as_str()).cloned().unwrap_or(Value::Null)
                                )
                            })
                    }
                };
                if let Some(why) = differs {
                    return Verdict::violated(&n, why, vec![]);
                }
                seen += 1;
            }
            if seen != server.len() {
                let why = format!(
                    "{client} shows {seen} rows of {t}, which holds {}",
                    server.len()
                );
                return Verdict::violated(&n, why, vec![]);
            }
        }
        Verdict::holds(&n)
    })
    .reads(table)
}

#[cfg(test)]
#[path = "generic_tests.rs"]
mod tests;
