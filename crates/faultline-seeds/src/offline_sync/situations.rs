//! The dangerous moments every offline-sync run must reach on some seeds.

use std::collections::BTreeMap;

use faultline::check::moments::fault_windows;
use faultline::check::FinalState;
use faultline::history::{EntryType, History, Operation};
use faultline::system::Situation;

/// A device crashed with work the server had not yet acknowledged.
pub const CRASH_WITH_UNSYNCED_WORK: &str = "crash_with_unsynced_work";
/// Two devices edited one field before either's edit reached the server.
pub const CONFLICTING_EDITS: &str = "conflicting_edits_of_one_field";

/// When each (device, op id) first had a push acknowledged by the server.
fn synced_at<'a>(ops: &[Operation<'a>]) -> BTreeMap<(&'a str, u32), u64> {
    let mut out = BTreeMap::new();
    for op in ops.iter().filter(|op| op.invoke.f == "push") {
        if let (Some(id), Some(c)) = (op.invoke.op, op.completion) {
            if c.kind == EntryType::Ok {
                out.entry((op.invoke.process.as_str(), id))
                    .or_insert(c.time_us);
            }
        }
    }
    out
}

fn is_work(op: &Operation<'_>) -> bool {
    matches!(op.invoke.f.as_str(), "edit" | "generate")
}

/// Crashes of a device that had begun an edit or a generation the server had not yet
/// acknowledged a push of: what survives is only what its local storage made durable.
pub fn crash_with_unsynced_work(history: &History, _state: &FinalState) -> usize {
    let ops = history.operations();
    let synced = synced_at(&ops);
    fault_windows(history, "crash", "restart")
        .iter()
        .filter(|crash| {
            ops.iter().filter(|op| is_work(op)).any(|op| {
                let device = op.invoke.process.as_str();
                crash.involves(device)
                    && op.invoke.time_us <= crash.start_us
                    && op.invoke.op.is_some_and(|id| {
                        synced
                            .get(&(device, id))
                            .is_none_or(|t| *t > crash.start_us)
                    })
            })
        })
        .count()
}

/// Edits of one record's field by two devices where the later began before the server
/// acknowledged the earlier: a true conflict, which sync must resolve without losing an
/// acknowledged edit.
pub fn conflicting_edits(history: &History, _state: &FinalState) -> usize {
    let ops = history.operations();
    let synced = synced_at(&ops);
    // Per field, the edits not yet known to be synced, pruned as the sweep passes them.
    let mut pending: BTreeMap<(String, String), Vec<(&str, u64)>> = BTreeMap::new();
    let mut count = 0;
    for op in ops.iter().filter(|op| op.invoke.f == "edit") {
        let (Some(id), Some(record), Some(field)) = (
            op.invoke.op,
            op.invoke.value["record"].as_str(),
            op.invoke.value["field"].as_str(),
        ) else {
            continue;
        };
        let device = op.invoke.process.as_str();
        let now = op.invoke.time_us;
        let list = pending
            .entry((record.to_string(), field.to_string()))
            .or_default();
        list.retain(|(_, until)| *until > now);
        count += list.iter().filter(|(d, _)| *d != device).count();
        list.push((
            device,
            synced.get(&(device, id)).copied().unwrap_or(u64::MAX),
        ));
    }
    count
}

/// Both, for [`faultline::system::System::situations`].
pub fn all() -> Vec<Situation> {
    vec![
        Situation::new(
            CRASH_WITH_UNSYNCED_WORK,
            "a device crashed with an edit or generation the server had not acknowledged",
            crash_with_unsynced_work,
        ),
        Situation::new(
            CONFLICTING_EDITS,
            "two devices edited one field of a record before the server acknowledged the \
             first edit",
            conflicting_edits,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moments::testing::{fault, op};
    use faultline::history::EntryType::Ok;
    use serde_json::json;

    fn edit(h: &mut History, d: &str, id: u32, t: u64, field: &str) {
        let v = json!({"record": "r1", "field": field, "value": format!("e{id}")});
        op(h, d, "edit", id, t, v, t, Ok, json!({}));
    }

    #[test]
    fn a_crash_before_the_push_was_acknowledged_counts() {
        let mut h = History::default();
        edit(&mut h, "d1", 1, 10, "title");
        op(&mut h, "d1", "push", 1, 20, json!({}), 30, Ok, json!({}));
        fault(&mut h, 40, "crash", json!({"host": "d1"}));
        fault(&mut h, 50, "restart", json!({"host": "d1"}));
        edit(&mut h, "d2", 2, 60, "title");
        fault(&mut h, 70, "crash", json!({"host": "d1"}));
        assert_eq!(crash_with_unsynced_work(&h, &FinalState::default()), 0);
        fault(&mut h, 80, "crash", json!({"host": "d2"}));
        op(&mut h, "d2", "push", 2, 90, json!({}), 95, Ok, json!({}));
        assert_eq!(crash_with_unsynced_work(&h, &FinalState::default()), 1);
    }

    #[test]
    fn edits_of_one_field_before_the_first_synced_count() {
        let mut h = History::default();
        edit(&mut h, "d1", 1, 10, "title");
        edit(&mut h, "d2", 2, 20, "notes");
        edit(&mut h, "d1", 3, 25, "title");
        op(&mut h, "d1", "push", 1, 30, json!({}), 40, Ok, json!({}));
        op(&mut h, "d1", "push", 3, 30, json!({}), 40, Ok, json!({}));
        edit(&mut h, "d2", 4, 50, "title");
        assert_eq!(conflicting_edits(&h, &FinalState::default()), 0);
        edit(&mut h, "d3", 5, 60, "title");
        assert_eq!(conflicting_edits(&h, &FinalState::default()), 1);
    }
}
