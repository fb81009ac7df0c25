//! Checkers: pure functions from (history, final state) to a verdict for one invariant.

pub mod chat;
pub mod chat_moment;
pub mod conflicts;
pub mod duplicate_create;
pub mod generic;
pub mod loops;
pub mod lost_updates;
pub mod moments;
pub mod offline;
pub mod progress;
pub mod refusals;
pub mod unique_slugs;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::backend::Row;
use crate::history::{EntryType, Operation};

/// The state read after the liveness phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FinalState {
    /// Every table of the primary, rows in key order.
    pub tables: BTreeMap<String, Vec<Row>>,
    /// Each client's local state, for logic that keeps one.
    #[serde(default)]
    pub clients: BTreeMap<String, Value>,
    /// Every row image committed to the tables the logic audits, in commit order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub audit: BTreeMap<String, Vec<Row>>,
    /// When each image of `audit` committed, in simulated milliseconds, image for image:
    /// an acknowledgement can then be checked against a commit the server made, not only
    /// the end state. Empty where the backend keeps only the order (PostgreSQL).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub audit_ms: BTreeMap<String, Vec<u64>>,
}

impl FinalState {
    /// Rows of `table` (empty if missing).
    pub fn rows(&self, table: &str) -> &[Row] {
        self.tables.get(table).map_or(&[], Vec::as_slice)
    }

    /// Every image committed to `table`, in commit order (empty when it is not audited).
    pub fn images(&self, table: &str) -> &[Row] {
        self.audit.get(table).map_or(&[], Vec::as_slice)
    }
}

/// An operation named by a violation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Witness {
    /// History index of its invoke.
    pub index: usize,
    /// The client.
    pub process: String,
    /// Invoke time, simulated microseconds.
    pub time_us: u64,
    /// Completion time, if it completed.
    pub end_us: Option<u64>,
    /// Function.
    pub f: String,
    /// How it completed.
    pub outcome: EntryType,
    /// Its arguments and result, in short.
    pub detail: String,
}

impl Witness {
    /// Describes an operation with a short detail line.
    pub fn of(op: &Operation<'_>, detail: impl Into<String>) -> Self {
        Self {
            index: op.invoke.index,
            process: op.invoke.process.clone(),
            time_us: op.invoke.time_us,
            end_us: op.completion.map(|c| c.time_us),
            f: op.invoke.f.clone(),
            outcome: op.outcome(),
            detail: detail.into(),
        }
    }
}

/// Why an invariant does not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// One or two plain sentences.
    pub explanation: String,
    /// The fewest operations that show it.
    pub ops: Vec<Witness>,
}

/// The verdict on one invariant for one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The invariant's name.
    pub invariant: String,
    /// `None` when it holds.
    pub violation: Option<Violation>,
}

impl Verdict {
    /// The invariant holds.
    pub fn holds(invariant: &str) -> Self {
        Self {
            invariant: invariant.into(),
            violation: None,
        }
    }

    /// The invariant is violated.
    pub fn violated(invariant: &str, explanation: String, ops: Vec<Witness>) -> Self {
        Self {
            invariant: invariant.into(),
            violation: Some(Violation { explanation, ops }),
        }
    }

    /// True when the invariant holds.
    pub fn is_ok(&self) -> bool {
        self.violation.is_none()
    }
}

/// Renders a JSON value compactly for explanations (strings without quotes).
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        Value::Null => "nothing".into(),
        other => other.to_string(),
    }
}

/// Simulated microseconds as seconds with millisecond precision, e.g. `3.250s`.
pub fn secs(us: u64) -> String {
    format!("{}.{:03}s", us / 1_000_000, (us / 1000) % 1000)
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
