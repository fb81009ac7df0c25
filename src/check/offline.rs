//! Checkers of the offline-sync invariants.
//!
//! They read the history (edits, generations, pushes, surfaced conflicts, crashes), the
//! final tables, the audit of every row image the server committed, and each device's
//! local storage. Edit values are unique in a run, so a value names the edit that wrote it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{secs, show, FinalState, Verdict, Witness};
use crate::history::{Entry, EntryType, History, Operation};

/// Every device shows what the server has once the liveness phase is over.
pub const CONVERGENCE: &str = "convergence";
/// Every acknowledged edit is on the server, replaced by a later edit of the same field,
/// or reported back to the user as a conflict.
pub const NO_LOST_ACKED_EDIT: &str = "no_lost_acked_edit";
/// An acknowledged edit still on the device when it crashed is sent after the restart.
pub const QUEUE_DURABLE: &str = "queue_durable";
/// No edit or generation takes effect on the server twice.
pub const APPLIED_ONCE: &str = "applied_once";

const RUNS: &str = "runs";
const USAGE: &str = "usage_logs";
/// The fields of a run that edits change.
const FIELDS: [&str; 3] = ["title", "notes", "tags"];

/// The acknowledged user actions and what the history says about each.
struct Facts<'a> {
    edits: Vec<Operation<'a>>,
    generations: Vec<Operation<'a>>,
    /// (process, op, time shown) of edits the device reported as conflicts.
    surfaced: Vec<(String, u32, u64)>,
    /// Every edit any device started, acknowledged or not: what can justify a conflict.
    started: Vec<Operation<'a>>,
    /// Edit value -> the edit that wrote it.
    by_value: BTreeMap<String, Operation<'a>>,
}

impl<'a> Facts<'a> {
    fn of(history: &'a History) -> Self {
        let ops = history.operations();
        let named = |f: &str| -> Vec<Operation<'a>> {
            ops.iter().filter(|o| o.invoke.f == f).copied().collect()
        };
        let edits = named("edit");
        let by_value = edits
            .iter()
            .filter_map(|e| Some((e.invoke.value.get("value")?.as_str()?.to_string(), *e)))
            .collect();
        let surfaced = named("conflict")
            .iter()
            .filter(|c| c.is_ok())
            .filter_map(|c| Some((c.invoke.process.clone(), c.invoke.op?, ack_us(c))))
            .collect();
        Self {
            started: edits.clone(),
            edits: edits.into_iter().filter(|e| e.is_ok()).collect(),
            generations: named("generate")
                .into_iter()
                .filter(|g| g.is_ok())
                .collect(),
            surfaced,
            by_value,
        }
    }

    /// The device told the user this edit lost a conflict, and the conflict was real:
    /// refusal is not safety, so a conflict only excuses a lost edit when another device
    /// had started an edit of the same field before the conflict was shown (the server's
    /// answer, a value the code under test relays, is not trusted for that).
    fn surfaced(&self, op: &Operation<'_>) -> bool {
        let Some(id) = op.invoke.op else {
            return false;
        };
        let (record, field, _) = target(op);
        self.surfaced
            .iter()
            .filter(|(p, o, _)| *p == op.invoke.process && *o == id)
            .any(|(_, _, shown)| {
                self.started.iter().any(|w| {
                    let (r, f, _) = target(w);
                    w.invoke.process != op.invoke.process
                        && r == record
                        && f == field
                        && w.invoke.time_us < *shown
                })
            })
    }
}

fn target(edit: &Operation<'_>) -> (String, String, String) {
    let s = |k: &str| {
        edit.invoke
            .value
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (s("record"), s("field"), s("value"))
}

fn find_row<'a>(rows: &'a [crate::backend::Row], id: &str) -> Option<&'a crate::backend::Row> {
    rows.iter()
        .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
}

fn usage_count(rows: &[crate::backend::Row], op: u32) -> usize {
    rows.iter()
        .filter(|r| {
            r.get("metadata")
                .and_then(|m| m.get("op"))
                .and_then(Value::as_u64)
                == Some(u64::from(op))
        })
        .count()
}

fn ack_us(op: &Operation<'_>) -> u64 {
    op.completion.map_or(op.invoke.time_us, |c| c.time_us)
}

fn describe_edit(op: &Operation<'_>) -> String {
    let (r, f, v) = target(op);
    format!("set {r}.{f}={}", show(&Value::String(v)))
}

/// `convergence`: each device's stored runs show the server's fields.
pub fn convergence(state: &FinalState) -> Verdict {
    let server = state.rows(RUNS);
    for (device, disk) in &state.clients {
        let Some(runs) = disk.get("runs").and_then(Value::as_object) else {
            continue;
        };
        for row in server {
            let Some(id) = row.get("id").and_then(Value::as_str) else {
                continue;
            };
            let mine = runs.get(id);
            for f in FIELDS {
                let theirs = row.get(f).cloned().unwrap_or(Value::Null);
                let shown = mine.and_then(|m| m.get(f)).cloned().unwrap_or(Value::Null);
                if shown != theirs {
                    return Verdict::violated(
                        CONVERGENCE,
                        format!(
                            "After the liveness phase {device} still shows {id}.{f}={} while the server has {}: the device and the server never agreed again.",
                            show(&shown),
                            show(&theirs)
                        ),
                        vec![],
                    );
                }
            }
        }
    }
    Verdict::holds(CONVERGENCE)
}

/// `no_lost_acked_edit`: see [`NO_LOST_ACKED_EDIT`]; generations must be charged.
pub fn no_lost_acked_edit(history: &History, state: &FinalState) -> Verdict {
    let facts = Facts::of(history);
    let server = state.rows(RUNS);
    for e in &facts.edits {
        let (record, field, value) = target(e);
        let fin = find_row(server, &record)
            .and_then(|r| r.get(&field))
            .cloned()
            .unwrap_or(Value::Null);
        if fin.as_str() == Some(value.as_str()) || facts.surfaced(e) {
            continue;
        }
        let writer = fin.as_str().and_then(|v| facts.by_value.get(v));
        // Later in the history, not merely later on the clock: a restarted device runs the
        // actions it missed within one instant.
        if writer.is_some_and(|w| e.last().precedes(w.invoke)) {
            continue;
        }
        let mut ops = vec![Witness::of(e, describe_edit(e))];
        let why = match writer {
            Some(w) => {
                ops.push(Witness::of(w, describe_edit(w)));
                format!(
                    "written by {}'s edit at {}, made before this one was saved",
                    w.invoke.process,
                    secs(w.invoke.time_us)
                )
            }
            None if reached(e, state) => {
                "the run's value from before the edits: the edit took effect, then a write of a stale copy of the whole run put the old value back".into()
            }
            None => "the run's value from before the edits: this edit never reached the server".into(),
        };
        return Verdict::violated(
            NO_LOST_ACKED_EDIT,
            format!(
                "{} saved {record}.{field}={} at {} and was told it was saved, but the server ends with {} ({why}), and the device never said the edit lost a conflict.",
                e.invoke.process,
                show(&Value::String(value.clone())),
                secs(ack_us(e)),
                show(&fin)
            ),
            ops,
        );
    }
    let usage = state.rows(USAGE);
    for g in &facts.generations {
        let Some(op) = g.invoke.op else { continue };
        if usage_count(usage, op) == 0 {
            return Verdict::violated(
                NO_LOST_ACKED_EDIT,
                format!(
                    "{}'s generation (op {op}) at {} was shown as done, but no usage row for it ever reached the server: its credits were never charged.",
                    g.invoke.process,
                    secs(g.invoke.time_us)
                ),
                vec![Witness::of(g, format!("generate {}", g.invoke.value))],
            );
        }
    }
    Verdict::holds(NO_LOST_ACKED_EDIT)
}

/// Whether any row image the server committed carries the action.
fn reached(op: &Operation<'_>, state: &FinalState) -> bool {
    if op.invoke.f == "generate" {
        let audit = state.images(USAGE);
        return op.invoke.op.is_some_and(|id| usage_count(audit, id) > 0);
    }
    let (record, field, value) = target(op);
    state.images(RUNS).iter().any(|r| {
        r.get("id").and_then(Value::as_str) == Some(record.as_str())
            && r.get(&field).and_then(Value::as_str) == Some(value.as_str())
    })
}

/// `queue_durable`: an acknowledged action that never reached the server, whose device
/// crashed after acknowledging it, must have been tried again after the restart (unless
/// the device had given it up for good before the crash, which is another invariant's
/// business).
pub fn queue_durable(history: &History, state: &FinalState) -> Verdict {
    let facts = Facts::of(history);
    // Before and after are history order, not the clock: the simulator's clock ticks, so an
    // acknowledgement and the crash right after it often share an instant.
    let crashes: Vec<&Entry> = history
        .entries
        .iter()
        .filter(|e| e.kind == EntryType::Fault && e.f == "crash")
        .collect();
    let pushes = history.operations_named("push");
    for a in facts.edits.iter().chain(&facts.generations) {
        if reached(a, state) || facts.surfaced(a) {
            continue;
        }
        let host = a.invoke.process.as_str();
        let Some(crash) = crashes.iter().find(|c| {
            c.value.get("host").and_then(Value::as_str) == Some(host) && a.last().precedes(c)
        }) else {
            continue;
        };
        let crash_us = crash.time_us;
        let mine = |p: &&Operation<'_>| p.invoke.process == host && p.invoke.op == a.invoke.op;
        let given_up = pushes.iter().filter(mine).any(|p| {
            p.invoke.precedes(crash) && p.result().get("given_up") == Some(&Value::Bool(true))
        });
        let retried = pushes.iter().filter(mine).any(|p| crash.precedes(p.invoke));
        if given_up || retried {
            continue;
        }
        let what = if a.invoke.f == "generate" {
            format!("generation (op {:?})", a.invoke.op.unwrap_or(0))
        } else {
            format!("edit {}", describe_edit(a))
        };
        return Verdict::violated(
            QUEUE_DURABLE,
            format!(
                "{host}'s {what} was acknowledged at {} and had not reached the server when the device crashed at {}; after the restart it was never sent: the crash lost it from the queue.",
                secs(ack_us(a)),
                secs(crash_us)
            ),
            vec![Witness::of(a, what.clone())],
        );
    }
    Verdict::holds(QUEUE_DURABLE)
}

/// `applied_once`: no usage row is charged twice, and no edit's value is written, replaced,
/// and written again.
pub fn applied_once(history: &History, state: &FinalState) -> Verdict {
    let facts = Facts::of(history);
    let usage = state.rows(USAGE);
    let all_generations = history.operations_named("generate");
    for g in &all_generations {
        let Some(op) = g.invoke.op else { continue };
        let n = usage_count(usage, op);
        if n > 1 {
            return Verdict::violated(
                APPLIED_ONCE,
                format!(
                    "{}'s generation (op {op}) was charged {n} times: the usage row was sent again after an attempt whose answer never came back, and the server took both.",
                    g.invoke.process
                ),
                vec![Witness::of(g, format!("generate {}", g.invoke.value))],
            );
        }
    }
    let audit = state.images(RUNS);
    let mut seen: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for image in audit {
        let Some(id) = image.get("id").and_then(Value::as_str) else {
            continue;
        };
        for f in FIELDS {
            let Some(v) = image.get(f).and_then(Value::as_str) else {
                continue;
            };
            let values = seen.entry((id.to_string(), f.to_string())).or_default();
            if values.last().map(String::as_str) == Some(v) {
                continue;
            }
            if values.iter().any(|x| x == v) {
                if let Some(e) = facts.by_value.get(v) {
                    let replaced = values.last().cloned().unwrap_or_default();
                    return Verdict::violated(
                        APPLIED_ONCE,
                        format!(
                            "{}'s edit {id}.{f}={} took effect, was replaced by {}, and then took effect again: a stale or repeated write of the whole record put it back.",
                            e.invoke.process,
                            show(&Value::String(v.into())),
                            show(&Value::String(replaced))
                        ),
                        vec![Witness::of(e, describe_edit(e))],
                    );
                }
            }
            values.push(v.to_string());
        }
    }
    Verdict::holds(APPLIED_ONCE)
}

#[cfg(test)]
#[path = "offline_tests.rs"]
mod tests;
