//! The history of a run: operations and fault events in the order they happened.
//!
//! This follows Jepsen's model: each operation is an `invoke` followed by exactly one
//! completion, `ok` (took effect), `fail` (did not take effect) or `info` (unknown), and the
//! nemesis's fault events sit in the same sequence so a reader sees what the network was
//! doing when an operation stalled.

use std::fmt::Write as _;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::backend::ErrorCategory;

/// What kind of history entry this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryType {
    /// An operation began.
    Invoke,
    /// The operation took effect.
    Ok,
    /// The operation did not take effect.
    Fail,
    /// The outcome is unknown: it may or may not have taken effect.
    Info,
    /// The nemesis applied a fault, or the harness changed phase.
    Fault,
}

/// An error attached to a `fail` or `info` completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpError {
    /// The category the user was shown.
    pub category: ErrorCategory,
    /// What went wrong, in words.
    pub message: String,
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the history, from 0.
    pub index: usize,
    /// Simulated time in microseconds since the start of the run.
    pub time_us: u64,
    /// Who did it: a client name, or `nemesis`.
    pub process: String,
    /// Invoke, a completion, or a fault.
    #[serde(rename = "type")]
    pub kind: EntryType,
    /// The operation's function (`create`, `edit`, ...) or the fault's verb.
    pub f: String,
    /// The operation id from the plan, shared by an invoke and its completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<u32>,
    /// Arguments on invoke, results on completion, details for faults.
    #[serde(default)]
    pub value: Value,
    /// Why it failed or is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<OpError>,
}

impl Entry {
    /// True when this entry comes strictly before `other` in the history. Entries of one
    /// simulated instant share a time, so only their indices order them; an entry never
    /// precedes itself.
    pub fn precedes(&self, other: &Entry) -> bool {
        self.index < other.index
    }
}

/// A completed operation: an invoke paired with its completion, if any.
#[derive(Debug, Clone, Copy)]
pub struct Operation<'a> {
    /// The invoke entry.
    pub invoke: &'a Entry,
    /// The completion; `None` if the run ended before it completed (treated as info).
    pub completion: Option<&'a Entry>,
}

impl<'a> Operation<'a> {
    /// The completion's type, `Info` when it never completed.
    pub fn outcome(&self) -> EntryType {
        self.completion.map_or(EntryType::Info, |c| c.kind)
    }

    /// True when the operation certainly took effect.
    pub fn is_ok(&self) -> bool {
        self.outcome() == EntryType::Ok
    }

    /// True when the operation may have taken effect (ok or unknown).
    pub fn may_have_happened(&self) -> bool {
        matches!(self.outcome(), EntryType::Ok | EntryType::Info)
    }

    /// The completion's value, or null.
    pub fn result(&self) -> &'a Value {
        static NULL: Value = Value::Null;
        self.completion.map_or(&NULL, |c| &c.value)
    }

    /// The entry that best describes the operation for people: the completion if any.
    pub fn last(&self) -> &'a Entry {
        self.completion.unwrap_or(self.invoke)
    }
}

/// The ordered record of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Entries in the order they happened.
    pub entries: Vec<Entry>,
}

impl History {
    /// Appends an entry, assigning its index.
    pub fn push(&mut self, mut entry: Entry) {
        entry.index = self.entries.len();
        self.entries.push(entry);
    }

    /// Pairs every invoke with its completion (same process and op id), in invoke order.
    pub fn operations(&self) -> Vec<Operation<'_>> {
        // Only looked up, never iterated, so a hash map cannot make the order vary.
        let mut open: std::collections::HashMap<(&str, u32), usize> = Default::default();
        let mut ops: Vec<Operation<'_>> = Vec::new();
        for e in &self.entries {
            let Some(id) = e.op else { continue };
            match e.kind {
                EntryType::Invoke => {
                    open.insert((e.process.as_str(), id), ops.len());
                    ops.push(Operation {
                        invoke: e,
                        completion: None,
                    });
                }
                EntryType::Ok | EntryType::Fail | EntryType::Info => {
                    if let Some(i) = open.remove(&(e.process.as_str(), id)) {
                        ops[i].completion = Some(e);
                    }
                }
                EntryType::Fault => {}
            }
        }
        ops
    }

    /// Operations whose function is `f`.
    pub fn operations_named(&self, f: &str) -> Vec<Operation<'_>> {
        self.operations()
            .into_iter()
            .filter(|o| o.invoke.f == f)
            .collect()
    }

    /// Writes the history as JSON Lines, one entry per line.
    pub fn write_jsonl(&self, mut out: impl Write) -> std::io::Result<()> {
        for e in &self.entries {
            serde_json::to_writer(&mut out, e)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Reads a history written by [`History::write_jsonl`]; errors name the line.
    pub fn read_jsonl(input: impl BufRead) -> Result<Self, String> {
        let mut h = History::default();
        for (n, line) in input.lines().enumerate() {
            let line = line.map_err(|e| format!("line {}: {e}", n + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let entry: Entry = serde_json::from_str(&line)
                .map_err(|e| format!("line {}: expected a history entry: {e}", n + 1))?;
            h.entries.push(entry);
        }
        Ok(h)
    }

    /// A stable SHA-256 of the JSONL encoding, as 16 hex digits; equal histories hash equal
    /// on any machine because every value is written in insertion order.
    pub fn hash(&self) -> String {
        let mut hasher = Sha256::new();
        let mut buf = Vec::new();
        for e in &self.entries {
            buf.clear();
            serde_json::to_writer(&mut buf, e).expect("serialising to memory cannot fail");
            hasher.update(&buf);
            hasher.update(b"\n");
        }
        let digest = hasher.finalize();
        let mut s = String::with_capacity(16);
        for b in &digest[..8] {
            let _ = write!(s, "{b:02x}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(process: &str, kind: EntryType, op: u32, value: Value) -> Entry {
        Entry {
            index: 0,
            time_us: 0,
            process: process.into(),
            kind,
            f: "edit".into(),
            op: Some(op),
            value,
            error: None,
        }
    }

    #[test]
    fn entries_are_ordered_strictly_by_their_index() {
        let mut h = History::default();
        h.push(entry("c1", EntryType::Invoke, 1, json!(null)));
        h.push(entry("c2", EntryType::Invoke, 2, json!(null)));
        let (a, b) = (&h.entries[0], &h.entries[1]);
        assert!(a.precedes(b));
        assert!(!b.precedes(a));
        // The same instant does not order two entries, and nothing precedes itself.
        assert_eq!(a.time_us, b.time_us);
        assert!(!a.precedes(a));
    }

    #[test]
    fn pairs_invokes_with_completions_and_round_trips() {
        let mut h = History::default();
        h.push(entry("a", EntryType::Invoke, 1, json!({"x": 1})));
        h.push(entry("b", EntryType::Invoke, 1, json!({"x": 2})));
        h.push(entry("b", EntryType::Ok, 1, json!({"v": 2})));
        let ops = h.operations();
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].outcome(), EntryType::Info);
        assert!(ops[1].is_ok());
        let mut buf = Vec::new();
        h.write_jsonl(&mut buf).unwrap();
        let back = History::read_jsonl(&buf[..]).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.hash(), h.hash());
        let err = History::read_jsonl(&b"{\"index\":0}\nnot json\n"[..]).unwrap_err();
        assert!(err.starts_with("line 1"), "{err}");
    }
}
