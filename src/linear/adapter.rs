//! From faultline's own [`History`] to checkable operations, with a [`Mapping`] that says
//! which functions are reads, writes, compare-and-sets and appends, and where the key and
//! the value live, so any table a user's system touches can be judged as a register.

use crate::history::{EntryType, History};

use super::{Action, Op, Status, Value};

/// Which history functions are which actions, and where keys and values live.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Functions that read (an `ok` completion's value is what was read).
    pub read: Vec<String>,
    /// Functions that write the invoke's value.
    pub write: Vec<String>,
    /// Functions that compare-and-set: the invoke's value is `[old, new]`.
    pub cas: Vec<String>,
    /// Functions that append the invoke's value.
    pub append: Vec<String>,
    /// When a value is an object with this field, the field is the key.
    pub key_field: String,
    /// When a value is an object holding the key, this field is the argument or result.
    pub value_field: String,
}

impl Default for Mapping {
    /// `read`/`get`, `write`/`put`, `cas`, `append`; the key in a `key` field and the value
    /// in a `value` field of an object value.
    fn default() -> Self {
        let v = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
        Mapping {
            read: v(&["read", "get"]),
            write: v(&["write", "put"]),
            cas: v(&["cas"]),
            append: v(&["append"]),
            key_field: "key".into(),
            value_field: "value".into(),
        }
    }
}

/// The four kinds of action, before their values are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Read,
    Write,
    Cas,
    Append,
}

impl Mapping {
    pub(crate) fn kind_of(&self, f: &str) -> Option<Kind> {
        let has = |names: &[String]| names.iter().any(|n| n == f);
        if has(&self.read) {
            Some(Kind::Read)
        } else if has(&self.write) {
            Some(Kind::Write)
        } else if has(&self.cas) {
            Some(Kind::Cas)
        } else if has(&self.append) {
            Some(Kind::Append)
        } else {
            None
        }
    }

    /// The function names this mapping knows, for error messages.
    pub(crate) fn names(&self) -> String {
        let all: Vec<&str> = [&self.read, &self.write, &self.cas, &self.append]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        all.join(", ")
    }

    /// Splits an object value holding the key into (key, value).
    pub(crate) fn split(&self, v: Value) -> (Option<Value>, Value) {
        let key_name = Value::Str(self.key_field.clone());
        match v.get(&key_name).cloned() {
            Some(key) => {
                let inner = v
                    .get(&Value::Str(self.value_field.clone()))
                    .cloned()
                    .unwrap_or(Value::Nil);
                (Some(key), inner)
            }
            None => (None, v),
        }
    }
}

/// The action of an operation of `kind` from its invoke and completion values.
pub(crate) fn action(
    kind: Kind,
    status: Status,
    invoked: &Value,
    completed: &Value,
) -> Result<Action, String> {
    Ok(match kind {
        Kind::Read => Action::Read((status == Status::Ok).then(|| completed.clone())),
        Kind::Write => Action::Write(invoked.clone()),
        Kind::Append => Action::Append(invoked.clone()),
        Kind::Cas => match invoked.as_pair() {
            Some((a, b)) => Action::Cas(a.clone(), b.clone()),
            None => return Err(format!("expected a cas value [old new], found {invoked}")),
        },
    })
}

/// The operations of `history` that `mapping` names, in invoke order; others are ignored,
/// so one table's operations can be checked out of a mixed history. Times are the
/// entries' simulated microseconds. An error names the entry index and what was expected.
pub fn from_history(history: &History, mapping: &Mapping) -> Result<Vec<Op>, String> {
    let mut ops = Vec::new();
    for o in history.operations() {
        let Some(kind) = mapping.kind_of(&o.invoke.f) else {
            continue;
        };
        let status = match o.outcome() {
            EntryType::Ok => Status::Ok,
            EntryType::Fail => Status::Fail,
            _ => Status::Info,
        };
        let (key, invoked) = mapping.split(Value::from_json(&o.invoke.value));
        let (ckey, completed) = mapping.split(Value::from_json(o.result()));
        let action = action(kind, status, &invoked, &completed)
            .map_err(|e| format!("entry {}: {e}", o.invoke.index))?;
        ops.push(Op {
            process: o.invoke.process.clone(),
            key: key.or(ckey),
            action,
            status,
            invoke: o.invoke.time_us,
            complete: o.completion.map(|c| c.time_us),
            line: Some(o.invoke.index + 1),
        });
    }
    Ok(ops)
}
