//! The linearizability checker as an invariant of a system: [`Linearizable`] says which
//! operations of a run's history act on which object, and [`Linearizable::invariant`]
//! makes the [`Invariant`] a [`crate::system::SystemSpec`] or a hand-written
//! [`crate::system::System`] checks on every run.
//!
//! What the run's history cannot say, the spec does: the value a register held before the
//! run ([`Linearizable::initial`]), and the final state as one last read through the
//! primary after every operation has ended ([`Linearizable::final_state`]), which is how a
//! history made only of writes is judged at all.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value as Json;

use super::adapter::{action, Kind};
use super::verdict_words::{describe, order_in_words, short_name, shown, Source};
use super::{check, witness, Limits, Mapping, Model, Op, Outcome, Status, Value};
use crate::check::{FinalState, Verdict};
use crate::history::{EntryType, History, Operation};
use crate::system::Invariant;

type InitialFn = Arc<dyn Fn(&Value) -> Value + Send + Sync>;

/// How the operations of a run's history form one linearisable object or several
/// independent ones (per key, per key and column), and how to judge them.
///
/// Uncertainty follows the history: an `ok` operation took effect between its invoke and
/// its completion, a `fail` one never did, an `info` one (or one that never completed) may
/// have taken effect at any moment after its invoke, or never.
///
/// When the search reaches a [`Limits`] bound first ([`Outcome::Unknown`]) the verdict is
/// a violation whose explanation starts with `Undecided:` and says which bound: a check
/// that did not finish never passes as one that held. The default limits have no time
/// bound, because a verdict that depends on the machine's speed would make the same seed
/// judge differently on two machines; the memory bound (1 GiB) is counted the same way on
/// every machine with one job.
///
/// ```
/// use faultline::linear::{Linearizable, Model, Value};
/// // Each card's `title` and `email` are registers: `edit` writes the fields in its
/// // invoke's `intent` object, the final `cards` table is read after the run, and a
/// // card's fields start as `"-"`.
/// let spec = Linearizable::new(Model::Register)
///     .reads(&[])
///     .writes(&["edit"])
///     .key_at("/key")
///     .argument_at("/intent")
///     .columns(&["title", "email"])
///     .initial(|_key| Value::Str("-".into()))
///     .final_state("cards", "id");
/// let invariant = spec.invariant("card_fields_linearizable");
/// assert_eq!(invariant.tables, vec!["cards"]);
/// ```
#[derive(Clone)]
pub struct Linearizable {
    model: Model,
    names: Mapping,
    key: Option<String>,
    argument: String,
    result: String,
    columns: Vec<String>,
    initial: Option<InitialFn>,
    final_state: Option<(String, String)>,
    final_column: String,
    limits: Limits,
}

impl std::fmt::Debug for Linearizable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linearizable")
            .field("model", &self.model)
            .field("names", &self.names)
            .field("key", &self.key)
            .field("columns", &self.columns)
            .field("final_state", &self.final_state)
            .finish()
    }
}

impl Linearizable {
    /// One object of `model`, with the function names of [`Mapping::default`] (`read`/
    /// `get`, `write`/`put`, `cas`, `append`), the invoke's whole value as the argument and
    /// an `ok` completion's whole value as a read's result.
    pub fn new(model: Model) -> Self {
        Self {
            model,
            names: Mapping::default(),
            key: None,
            argument: String::new(),
            result: String::new(),
            columns: Vec::new(),
            initial: None,
            final_state: None,
            final_column: "value".into(),
            limits: Limits {
                memory_bytes: Some(1 << 30),
                ..Limits::default()
            },
        }
    }

    /// The functions (`f`) that read; replaces the default names.
    pub fn reads(mut self, f: &[&str]) -> Self {
        self.names.read = owned(f);
        self
    }

    /// The functions that write the argument; replaces the default names.
    pub fn writes(mut self, f: &[&str]) -> Self {
        self.names.write = owned(f);
        self
    }

    /// The functions that compare-and-set, with `[old, new]` as the argument.
    pub fn cas(mut self, f: &[&str]) -> Self {
        self.names.cas = owned(f);
        self
    }

    /// The functions that append the argument (key-value model).
    pub fn appends(mut self, f: &[&str]) -> Self {
        self.names.append = owned(f);
        self
    }

    /// The key is at this JSON pointer (`/key`, `/row/id`) of the invoke's value, or of
    /// the completion's when the invoke lacks it: one independent object per key. An
    /// operation with no key there makes the verdict a violation naming it, since it cannot
    /// be placed on any object.
    pub fn key_at(mut self, pointer: &str) -> Self {
        self.key = Some(pointer.to_string());
        self
    }

    /// The argument of a write, cas or append is at this JSON pointer of the invoke's
    /// value (default: the whole value).
    pub fn argument_at(mut self, pointer: &str) -> Self {
        self.argument = pointer.to_string();
        self
    }

    /// An `ok` read's result is at this JSON pointer of its completion's value (default:
    /// the whole value; a missing one reads as null).
    pub fn result_at(mut self, pointer: &str) -> Self {
        self.result = pointer.to_string();
        self
    }

    /// Arguments and results are rows, and each of these columns is an independent object
    /// (keyed `[key column]`). An operation acts only on the columns its row has: an edit
    /// that sets `title` writes nothing to `email`, and a read that returns no `email`
    /// says nothing about it.
    pub fn columns(mut self, columns: &[&str]) -> Self {
        self.columns = owned(columns);
        self
    }

    /// The value each object held before the run (given its key, `[key column]` with
    /// [`Linearizable::columns`]); `nil` when not given. It is placed as a write that
    /// took effect before the first operation.
    pub fn initial<F>(mut self, f: F) -> Self
    where
        F: Fn(&Value) -> Value + Send + Sync + 'static,
    {
        self.initial = Some(Arc::new(f));
        self
    }

    /// Reads `table` of the final state (the primary's, after the liveness phase) as one
    /// more read of every object some operation touched (with [`Linearizable::columns`],
    /// every column of a row some operation touched), after every operation ended: the
    /// row whose `key_column` equals the key (the first row for a single object), in the
    /// object's column (with [`Linearizable::columns`]) or else in the column
    /// [`Linearizable::final_column`] names. A missing row or cell reads as null.
    pub fn final_state(mut self, table: &str, key_column: &str) -> Self {
        self.final_state = Some((table.to_string(), key_column.to_string()));
        self
    }

    /// The column [`Linearizable::final_state`] reads a single-value object from
    /// (default `value`).
    pub fn final_column(mut self, column: &str) -> Self {
        self.final_column = column.to_string();
        self
    }

    /// Bounds on the search (see the type's documentation for what a reached bound means).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The invariant `name`, declaring the final-state table it reads (if any).
    pub fn invariant(self, name: &str) -> Invariant {
        let table = self.final_state.as_ref().map(|(t, _)| t.clone());
        let owned_name = name.to_string();
        let inv = Invariant::new(name, move |h, s| self.judge(&owned_name, h, s));
        match table {
            Some(t) => inv.reads(&t),
            None => inv,
        }
    }

    /// The verdict on one run, as the invariant gives it.
    pub fn judge(&self, name: &str, history: &History, state: &FinalState) -> Verdict {
        let operations = history.operations();
        let (ops, sources) = match self.ops(&operations, state) {
            Ok(x) => x,
            Err(e) => {
                return Verdict::violated(
                    name,
                    format!("Cannot check linearizability: {e}."),
                    vec![],
                )
            }
        };
        let outcome = match check(&ops, self.model, &self.limits) {
            Ok(o) => o,
            Err(e) => {
                let shown = shown(&operations, &sources, &[e.op]);
                return Verdict::violated(
                    name,
                    format!(
                        "Cannot check linearizability: {} is not an operation of the {} model, \
                         which has {}.",
                        describe(&operations, &ops, &sources, e.op),
                        e.model,
                        e.allowed
                    ),
                    shown,
                );
            }
        };
        match outcome {
            Outcome::Linearizable => Verdict::holds(name),
            Outcome::Unknown(why) => Verdict::violated(
                name,
                format!(
                    "Undecided: {why} before the search could decide whether the {} operations \
                     are linearizable; raise the limits to get a verdict.",
                    ops.len()
                ),
                vec![],
            ),
            Outcome::NotLinearizable(w) => {
                let long = |i: usize| describe(&operations, &ops, &sources, i);
                let short = |i: usize| short_name(&operations, &sources, i);
                let mut text = witness::explain(&ops, self.model, &w, &long, &short);
                text.push_str(&order_in_words(&w.prefix, &short));
                let mut named = vec![w.breaking];
                named.extend(&w.candidates);
                named.extend(w.prefix.last());
                Verdict::violated(name, text, shown(&operations, &sources, &named))
            }
        }
    }

    /// The checkable operations of a run with where each came from, in time order (history
    /// times shifted by one so the initial writes come strictly first).
    fn ops(
        &self,
        operations: &[Operation<'_>],
        state: &FinalState,
    ) -> Result<(Vec<Op>, Vec<Source>), String> {
        let mut ops = Vec::new();
        let mut sources = Vec::new();
        let mut last = 0u64;
        let mut objects: BTreeSet<Object> = BTreeSet::new();
        for (n, o) in operations.iter().enumerate() {
            let Some(kind) = self.names.kind_of(&o.invoke.f) else {
                continue;
            };
            let status = match o.outcome() {
                EntryType::Ok => Status::Ok,
                EntryType::Fail => Status::Fail,
                _ => Status::Info,
            };
            let at = |e: &crate::history::Entry| format!("entry #{} ({})", e.index, e.f);
            let key = match &self.key {
                None => None,
                Some(p) => Some(
                    o.invoke
                        .value
                        .pointer(p)
                        .or_else(|| o.result().pointer(p))
                        .map(Value::from_json)
                        .ok_or_else(|| format!("{} has no key at `{p}`", at(o.invoke)))?,
                ),
            };
            let invoked = self.part(&o.invoke.value, &self.argument, kind != Kind::Read);
            let invoked = invoked.ok_or_else(|| {
                format!("{} has no argument at `{}`", at(o.invoke), self.argument)
            })?;
            let completed = self
                .part(o.result(), &self.result, false)
                .unwrap_or(Value::Nil);
            let complete = o.completion.map(|c| c.time_us + 1);
            for (object, arg, res) in self.split(key.clone(), invoked, completed, kind) {
                let action = action(kind, status, &arg, &res)
                    .map_err(|e| format!("{}: {e}", at(o.invoke)))?;
                objects.insert(object.clone());
                let invoke = o.invoke.time_us + 1;
                last = last.max(invoke).max(complete.unwrap_or(0));
                ops.push(Op {
                    process: o.invoke.process.clone(),
                    key: object_key(&object),
                    action,
                    status,
                    invoke,
                    complete,
                    // The verdict names operations by their history entry (`describe`), so
                    // a source line would be shown nowhere.
                    line: None,
                });
                sources.push(Source::History(n));
            }
        }
        // Every column of a touched row is judged, so a column the run changed although no
        // operation wrote it shows.
        let rows: BTreeSet<Option<Value>> = objects.iter().map(|(k, _)| k.clone()).collect();
        for key in rows {
            for c in &self.columns {
                objects.insert((key.clone(), Some(c.clone())));
            }
        }
        let mut first = Vec::new();
        for object in &objects {
            let key = object_key(object);
            if let Some(initial) = &self.initial {
                let v = initial(key.as_ref().unwrap_or(&Value::Nil));
                let op = Op::new("initial", super::Action::Write(v), Status::Ok, 0, Some(0));
                first.push((
                    Op {
                        key: key.clone(),
                        ..op
                    },
                    Source::Initial,
                ));
            }
            if let Some(read) = self.final_read(object, state) {
                // One instant after everything else, so it follows every operation.
                let after = last + 1;
                let op = Op::new("final state", read, Status::Ok, after, Some(after));
                ops.push(Op {
                    key: key.clone(),
                    ..op
                });
                sources.push(Source::Final);
            }
        }
        let (init_ops, init_src): (Vec<Op>, Vec<Source>) = first.into_iter().unzip();
        Ok((
            init_ops.into_iter().chain(ops).collect(),
            init_src.into_iter().chain(sources).collect(),
        ))
    }

    /// The value at `pointer`, `None` when it is missing and `required`.
    fn part(&self, json: &Json, pointer: &str, required: bool) -> Option<Value> {
        match json.pointer(pointer) {
            Some(v) => Some(Value::from_json(v)),
            None if required => None,
            None => Some(Value::Nil),
        }
    }

    /// One (object, argument, result) per object an operation acts on: itself, or each
    /// of the configured columns its row has.
    fn split(
        &self,
        key: Option<Value>,
        invoked: Value,
        completed: Value,
        kind: Kind,
    ) -> Vec<(Object, Value, Value)> {
        if self.columns.is_empty() {
            return vec![((key, None), invoked, completed)];
        }
        let row = if kind == Kind::Read {
            &completed
        } else {
            &invoked
        };
        self.columns
            .iter()
            .filter_map(|c| {
                let cell = row.get(&Value::Str(c.clone()))?;
                Some(((key.clone(), Some(c.clone())), cell.clone(), cell.clone()))
            })
            .collect()
    }

    /// The final state's read of one object: the row whose key column holds the object's
    /// key (the table's first row for a single object), in the object's column.
    fn final_read(&self, object: &Object, state: &FinalState) -> Option<super::Action> {
        let (table, key_column) = self.final_state.as_ref()?;
        let (key, column) = object;
        let rows = state.rows(table);
        let row = match key {
            Some(k) => rows
                .iter()
                .find(|r| r.get(key_column).map(Value::from_json).as_ref() == Some(k)),
            None => rows.first(),
        };
        let column = column.as_deref().unwrap_or(&self.final_column);
        let value = row
            .and_then(|r| r.get(column))
            .map_or(Value::Nil, Value::from_json);
        Some(super::Action::Read(Some(value)))
    }
}

/// The key of one object, before it is spelt as a [`Value`]: the operation's key (if the
/// spec has one) and the column (with [`Linearizable::columns`]).
type Object = (Option<Value>, Option<String>);

/// An object's key as checked operations carry it: the key, or `[key column]`.
fn object_key(object: &Object) -> Option<Value> {
    match object {
        (key, None) => key.clone(),
        (key, Some(c)) => Some(Value::Vector(vec![
            key.clone().unwrap_or(Value::Nil),
            Value::Str(c.clone()),
        ])),
    }
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
#[path = "invariant_tests.rs"]
mod tests;
