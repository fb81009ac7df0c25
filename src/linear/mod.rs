//! Linearizability checking of concurrent histories against a register, a compare-and-set
//! register or a key-value map: is there one order of the operations, consistent with
//! real time, in which every result is what the sequential object would have returned?
//!
//! The checker is a pure function over data, [`check`], so a user's system can use it as
//! an invariant ("this row behaves as a linearisable register"), and the `faultline check`
//! command runs it on faultline's own JSONL histories, Jepsen EDN histories and the
//! `jepsen.util` log lines older Jepsen tests print (see `docs/linear.md`).
//!
//! # As an invariant
//!
//! [`Linearizable`] says which operations of a run's history act on which object (by
//! function name, key pointer and columns), what each object held before the run, and
//! whether the final state is read last; [`Linearizable::invariant`] makes the
//! [`crate::system::Invariant`] a system checks on every run. Its verdict names the
//! operation that cannot be placed and the longest consistent order in plain words, and a
//! reached limit is a violation starting `Undecided:`, never a silent pass.
//!
//! ```
//! use faultline::check::FinalState;
//! use faultline::history::{Entry, EntryType, History};
//! use faultline::linear::{Linearizable, Model};
//! use serde_json::json;
//!
//! // c1 writes 1 and is acknowledged; afterwards c2 reads the register and gets nothing.
//! let mut history = History::default();
//! for (t, process, kind, f, value) in [
//!     (1, "c1", EntryType::Invoke, "write", json!(1)),
//!     (2, "c1", EntryType::Ok, "write", json!(null)),
//!     (3, "c2", EntryType::Invoke, "read", json!(null)),
//!     (4, "c2", EntryType::Ok, "read", json!(null)),
//! ] {
//!     let op = if process == "c1" { 1 } else { 2 };
//!     history.push(Entry { index: 0, time_us: t, process: process.into(), kind,
//!                          f: f.into(), op: Some(op), value, error: None });
//! }
//! let invariant = Linearizable::new(Model::Register).invariant("register_linearizable");
//! let verdict = invariant.check(&history, &FinalState::default());
//! let why = verdict.violation.expect("a stale read").explanation;
//! assert!(why.contains("#2 (c2 at 0.000s, ok: read -> nil)"), "{why}");
//! assert!(why.contains("it returned nil while the register held 1"), "{why}");
//! ```
//!
//! # Uncertainty
//!
//! - A `fail` operation never took effect: it is dropped.
//! - An `info` operation (and an invoke that never completed) may have taken effect at any
//!   moment after its invoke, or never: its completion is at +infinity, and the search
//!   stops once every `ok` operation is placed, so unplaced `info` operations "never
//!   happened".
//! - A read whose result is unknown constrains nothing and is dropped.
//!
//! # How operations map onto faultline histories
//!
//! In faultline's JSONL format (`src/history.rs`) an operation is an `invoke` entry and its
//! completion, paired by process and `op` id. The entry's `f` names the action: `read` or
//! `get`, `write` or `put`, `cas`, `append`. The invoke's `value` is the argument (a
//! `cas` takes `[old, new]`), an `ok` read's `value` is the result. The key is the entry's
//! top-level `key` field, or a `key` field of an object `value` (whose `value` field is
//! then the argument or result). [`from_history`] does the same with names of your choice.
//!
//! # Speed
//!
//! The search is Wing and Gong's, with Lowe's memoisation of (set of linearised operations,
//! model state) pairs: a configuration reached once never needs to be explored again.
//! Histories are split by key (P-compositionality: a history is linearisable exactly when
//! every key's sub-history is) and the keys are checked on parallel threads. The search
//! keeps its own stack, so a deep history cannot overflow the call stack, and it checks
//! the time and memory limits as it goes, answering [`Outcome::Unknown`] rather than
//! running on.
//!
//! ```
//! use faultline::linear::{check, Action, Limits, Model, Op, Outcome, Status, Value};
//! // A write of 1 completes, then a read returns the old value: a stale read.
//! let ops = vec![
//!     Op::new("a", Action::Write(Value::Int(1)), Status::Ok, 0, Some(1)),
//!     Op::new("b", Action::Read(Some(Value::Nil)), Status::Ok, 2, Some(3)),
//! ];
//! match check(&ops, Model::Register, &Limits::default()).unwrap() {
//!     Outcome::NotLinearizable(w) => assert_eq!(w.breaking, 1),
//!     other => panic!("expected a violation, got {other:?}"),
//! }
//! ```

mod adapter;
pub mod edn;
pub mod html;
pub mod input;
mod invariant;
pub mod jepsen_log;
mod model;
mod parallel;
mod search;
mod value;
mod verdict_words;
mod witness;

use std::time::Duration;

pub use adapter::{from_history, Mapping};
pub use invariant::Linearizable;
pub use model::Model;
pub use value::Value;
pub use witness::{name as witness_name, Witness};

/// What an operation did to the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Read (or `get`) the value; `None` when the result is unknown.
    Read(Option<Value>),
    /// Write (or `put`) a value.
    Write(Value),
    /// Compare-and-set: write the second value if the object holds the first.
    Cas(Value, Value),
    /// Append a value (key-value model only).
    Append(Value),
}

impl Action {
    /// The action's name as histories spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Read(_) => "read",
            Action::Write(_) => "write",
            Action::Cas(..) => "cas",
            Action::Append(_) => "append",
        }
    }
}

/// How an operation completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It took effect, between its invoke and its completion.
    Ok,
    /// It did not take effect.
    Fail,
    /// Unknown: it may have taken effect at any time after its invoke, or never.
    Info,
}

/// One operation of a concurrent history.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// Who ran it; an operation's process runs one operation at a time.
    pub process: String,
    /// The key it acts on, if the object has several; each key is an independent object.
    pub key: Option<Value>,
    /// What it did, with its argument and (for an `ok` read) its result.
    pub action: Action,
    /// How it completed.
    pub status: Status,
    /// When it was invoked, in any unit that is consistent across the history.
    pub invoke: u64,
    /// When it completed; `None` when it never did. Ignored for `info` operations, which
    /// the checker treats as completing at +infinity.
    pub complete: Option<u64>,
    /// The source line of the invoke, when read from a file.
    pub line: Option<usize>,
}

impl Op {
    /// An operation with no key and no source line.
    pub fn new(
        process: impl Into<String>,
        action: Action,
        status: Status,
        invoke: u64,
        complete: Option<u64>,
    ) -> Self {
        Op {
            process: process.into(),
            key: None,
            action,
            status,
            invoke,
            complete,
            line: None,
        }
    }

    /// The same operation on `key`.
    pub fn with_key(mut self, key: Value) -> Self {
        self.key = Some(key);
        self
    }

    /// The operation in words: `read -> 3`, `cas [1 4]`, `write 2`.
    pub fn describe(&self) -> String {
        let key = self
            .key
            .as_ref()
            .map_or(String::new(), |k| format!(" key {k}"));
        match &self.action {
            Action::Read(Some(v)) => format!("read{key} -> {v}"),
            Action::Read(None) => format!("read{key} -> ?"),
            Action::Write(v) => format!("write{key} {v}"),
            Action::Cas(a, b) => format!("cas{key} [{a} {b}]"),
            Action::Append(v) => format!("append{key} {v}"),
        }
    }
}

/// Bounds on a check; the answer is [`Outcome::Unknown`] when one is reached.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock time for the whole check.
    pub time: Option<Duration>,
    /// Memory for the search's caches and stacks, in bytes (an estimate kept as it runs).
    pub memory_bytes: Option<usize>,
    /// Keys checked at once, on that many threads.
    pub jobs: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time: None,
            memory_bytes: None,
            jobs: 1,
        }
    }
}

/// The answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Some order consistent with real time explains every result.
    Linearizable,
    /// No order does; the witness shows how far the best attempt got.
    NotLinearizable(Box<Witness>),
    /// A limit was reached first; the reason says which.
    Unknown(String),
}

/// The answer with what it cost.
#[derive(Debug, Clone)]
pub struct Report {
    /// The answer.
    pub outcome: Outcome,
    /// Independent keys checked.
    pub partitions: usize,
    /// Operations the search considered (failed operations and unknown reads excluded).
    pub ops_checked: usize,
    /// Search steps (attempts to linearise an operation), over all keys.
    pub steps: u64,
}

/// A history the model cannot judge: an operation the model does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("operation {op} ({action}) is not an operation of the {model} model, which has {allowed}")]
pub struct Unsupported {
    /// Index of the operation in the slice given to [`check`].
    pub op: usize,
    /// Its action's name.
    pub action: &'static str,
    /// The model.
    pub model: Model,
    /// What the model does have.
    pub allowed: &'static str,
}

/// Checks `ops` against `model` within `limits`.
pub fn check(ops: &[Op], model: Model, limits: &Limits) -> Result<Outcome, Unsupported> {
    check_report(ops, model, limits).map(|r| r.outcome)
}

/// [`check`], with the size of the work done.
pub fn check_report(ops: &[Op], model: Model, limits: &Limits) -> Result<Report, Unsupported> {
    if let Some((i, op)) = ops
        .iter()
        .enumerate()
        .find(|(_, o)| !model.allows(&o.action))
    {
        return Err(Unsupported {
            op: i,
            action: op.action.name(),
            model,
            allowed: model.operations(),
        });
    }
    Ok(parallel::run(ops, model, limits))
}
