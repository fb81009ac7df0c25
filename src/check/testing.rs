//! Hand-built histories for checker tests.

use serde_json::{json, Value};

use super::FinalState;
use crate::history::{Entry, EntryType, History};

/// Builds a history one operation at a time, with increasing times.
#[derive(Default)]
pub struct Builder {
    pub history: History,
    clock: u64,
}

impl Builder {
    fn push(&mut self, process: &str, kind: EntryType, f: &str, op: u32, value: Value) {
        self.clock += 1000;
        self.history.push(Entry {
            index: 0,
            time_us: self.clock,
            process: process.into(),
            kind,
            f: f.into(),
            op: Some(op),
            value,
            error: None,
        });
    }

    /// Records an invoke.
    pub fn invoke(&mut self, process: &str, f: &str, op: u32, value: Value) -> &mut Self {
        self.push(process, EntryType::Invoke, f, op, value);
        self
    }

    /// Records a completion of the given type.
    pub fn complete(
        &mut self,
        process: &str,
        kind: EntryType,
        f: &str,
        op: u32,
        value: Value,
    ) -> &mut Self {
        self.push(process, kind, f, op, value);
        self
    }

    /// An edit of `key` that meant to set `intent`, acknowledged at `version` having written `written`.
    pub fn edit_ok(
        &mut self,
        process: &str,
        op: u32,
        key: i64,
        intent: Value,
        version: i64,
        written: Value,
    ) -> &mut Self {
        self.invoke(process, "edit", op, json!({"key": key, "intent": intent}));
        self.complete(
            process,
            EntryType::Ok,
            "edit",
            op,
            json!({"key": key, "version": version, "written": written}),
        )
    }

    /// A create of `form_id` acknowledged with `id` and `slug`.
    pub fn create_ok(
        &mut self,
        process: &str,
        op: u32,
        form_id: &str,
        id: i64,
        slug: &str,
    ) -> &mut Self {
        self.invoke(
            process,
            "create",
            op,
            json!({"form_id": form_id, "name": "n"}),
        );
        self.complete(
            process,
            EntryType::Ok,
            "create",
            op,
            json!({"id": id, "slug": slug, "form_id": form_id}),
        )
    }
}

impl Builder {
    /// Gives the last entry the time of the one before it: the simulator's clock ticks, so
    /// entries that happen in order often share an instant, and checkers must not assume
    /// distinct times.
    pub fn same_instant(&mut self) -> &mut Self {
        let n = self.history.entries.len();
        assert!(n >= 2, "needs an entry before the last");
        self.history.entries[n - 1].time_us = self.history.entries[n - 2].time_us;
        self
    }

    /// Records a nemesis fault `f` with `value`, after everything so far.
    pub fn fault(&mut self, f: &str, value: Value) -> &mut Self {
        self.clock += 1000;
        self.history.push(Entry {
            index: 0,
            time_us: self.clock,
            process: "nemesis".into(),
            kind: EntryType::Fault,
            f: f.into(),
            op: None,
            value,
            error: None,
        });
        self
    }
}

/// A final state with one table.
pub fn state(table: &str, rows: Value) -> FinalState {
    let rows = rows
        .as_array()
        .expect("an array of rows")
        .iter()
        .map(|r| r.as_object().cloned().expect("a row object"))
        .collect();
    FinalState {
        tables: [(table.to_string(), rows)].into_iter().collect(),
        clients: Default::default(),
        audit: Default::default(),
        audit_ms: Default::default(),
    }
}
