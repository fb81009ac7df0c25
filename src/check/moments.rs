//! Building blocks for [`crate::system::Situation`]s: when faults were active and when
//! operations were in flight, read from a history (what the world did, not what the code
//! under test says about it).

use serde_json::Value;

use crate::history::{EntryType, History, Operation};

/// The fields of a fault's value that say where it struck; a fault and its healing
/// (`hold` and `release`, `crash` and `restart`) share them.
const PLACE: [&str; 8] = [
    "a", "b", "from", "to", "host", "client", "server", "replica",
];

/// A fault from the moment the nemesis applied it to its healing (or the liveness
/// phase, or the end of the run).
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// The fault's verb (`hold`, `partition_oneway`, `crash`, ...).
    pub verb: String,
    /// When it began, simulated microseconds.
    pub start_us: u64,
    /// When it was healed.
    pub end_us: u64,
    /// The fault's details, as the history records them.
    pub value: Value,
}

impl Window {
    /// True when the fault struck `host` (either end of a link, a device, a server).
    pub fn involves(&self, host: &str) -> bool {
        PLACE
            .iter()
            .any(|k| self.value.get(k).and_then(Value::as_str) == Some(host))
    }

    /// True when it was active at some moment of `[start_us, end_us]`.
    pub fn during(&self, (start_us, end_us): (u64, u64)) -> bool {
        self.start_us <= end_us && start_us <= self.end_us
    }
}

fn place(v: &Value) -> Vec<Option<&str>> {
    PLACE
        .iter()
        .map(|k| v.get(k).and_then(Value::as_str))
        .collect()
}

/// The time of the history's last entry: where unfinished operations and unhealed
/// faults end.
pub fn end_us(history: &History) -> u64 {
    history.entries.last().map_or(0, |e| e.time_us)
}

/// Faults that cut, drop, hold or slow messages between hosts, with their healings.
pub const LINK_FAULTS: [(&str, &str); 5] = [
    ("partition", "repair"),
    ("partition_oneway", "repair_oneway"),
    ("hold", "release"),
    ("slow", "restore"),
    ("disconnect", "reconnect"),
];

/// Every window of the `kinds` faults, each a `(fault, healing)` pair as in
/// [`LINK_FAULTS`].
pub fn windows(history: &History, kinds: &[(&str, &str)]) -> Vec<Window> {
    kinds
        .iter()
        .flat_map(|(verb, healed)| fault_windows(history, verb, healed))
        .collect()
}

/// Every fault of kind `verb` with the window until its healing fault `healed_by` at the
/// same place (or the liveness phase, which heals every fault, or the end of the run).
pub fn fault_windows(history: &History, verb: &str, healed_by: &str) -> Vec<Window> {
    let mut out: Vec<Window> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for e in history
        .entries
        .iter()
        .filter(|e| e.kind == EntryType::Fault)
    {
        if e.f == verb {
            open.push(out.len());
            out.push(Window {
                verb: verb.to_string(),
                start_us: e.time_us,
                end_us: u64::MAX,
                value: e.value.clone(),
            });
        } else if e.f == healed_by {
            let at = place(&e.value);
            if let Some(i) = open.iter().position(|&w| place(&out[w].value) == at) {
                out[open.remove(i)].end_us = e.time_us;
            }
        } else if e.f == "liveness" {
            for w in open.drain(..) {
                out[w].end_us = e.time_us;
            }
        }
    }
    let end = end_us(history);
    for w in open {
        out[w].end_us = end;
    }
    out
}

/// When `op` was in flight: from its invoke to its completion, or to `end_us` when it
/// never completed.
pub fn span(op: &Operation<'_>, end_us: u64) -> (u64, u64) {
    (
        op.invoke.time_us,
        op.completion.map_or(end_us, |c| c.time_us),
    )
}

/// True when two spans share a moment.
pub fn overlap(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Entry;
    use serde_json::json;

    fn fault(t: u64, f: &str, value: Value) -> Entry {
        Entry {
            index: 0,
            time_us: t,
            process: "nemesis".into(),
            kind: EntryType::Fault,
            f: f.into(),
            op: None,
            value,
            error: None,
        }
    }

    #[test]
    fn windows_close_at_their_own_healing_or_the_liveness_phase() {
        let mut h = History::default();
        h.push(fault(10, "hold", json!({"a": "c1", "b": "store"})));
        h.push(fault(20, "hold", json!({"a": "c2", "b": "store"})));
        h.push(fault(30, "release", json!({"a": "c2", "b": "store"})));
        h.push(fault(50, "liveness", json!({})));
        let w = fault_windows(&h, "hold", "release");
        assert_eq!(w.len(), 2);
        assert_eq!((w[0].start_us, w[0].end_us), (10, 50));
        assert_eq!((w[1].start_us, w[1].end_us), (20, 30));
        assert!(w[1].involves("c2") && w[1].involves("store") && !w[1].involves("c1"));
        assert!(w[1].during((30, 40)) && w[1].during((0, 20)) && !w[1].during((31, 40)));
        assert!(!w[1].during((0, 19)));
        let mut open = History::default();
        open.push(fault(5, "crash", json!({"host": "d"})));
        open.push(fault(9, "edit", json!({})));
        assert_eq!(fault_windows(&open, "crash", "restart")[0].end_us, 9);
        assert!(overlap((1, 2), (2, 3)) && !overlap((1, 2), (3, 4)) && !overlap((3, 4), (1, 2)));
    }

    #[test]
    fn only_the_liveness_phase_closes_every_window() {
        let mut h = History::default();
        h.push(fault(10, "hold", json!({"a": "c1", "b": "store"})));
        h.push(fault(20, "slow", json!({"a": "c2", "b": "store", "ms": 9})));
        h.push(fault(50, "liveness", json!({})));
        h.push(fault(70, "restore", json!({"a": "c2", "b": "store"})));
        let w = fault_windows(&h, "hold", "release");
        assert_eq!(
            (w[0].start_us, w[0].end_us),
            (10, 50),
            "closed by liveness, not later"
        );
    }

    #[test]
    fn a_span_runs_from_invoke_to_completion_or_the_end() {
        let entry = |t: u64, kind: EntryType, op: u32| Entry {
            index: 0,
            time_us: t,
            process: "c1".into(),
            kind,
            f: "save".into(),
            op: Some(op),
            value: json!({}),
            error: None,
        };
        let mut h = History::default();
        h.push(entry(3, EntryType::Invoke, 1));
        h.push(entry(8, EntryType::Ok, 1));
        h.push(entry(12, EntryType::Invoke, 2));
        let ops = h.operations();
        assert_eq!(span(&ops[0], 99), (3, 8));
        assert_eq!(span(&ops[1], 99), (12, 99));
    }
}
