//! The sequential specifications a history is checked against, and the compact form the
//! search runs them in (values interned to integers so a state is one `u32`).

use std::collections::HashMap;
use std::fmt;

use super::{Action, Value};

/// A sequential object whose concurrent history is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// A register: `read` returns the last value written (`nil` before any write).
    Register,
    /// A register with compare-and-set: `cas [old new]` writes `new` only if the register
    /// holds `old`; a cas that reported failure changed nothing and is dropped.
    CasRegister,
    /// A key-value map: `get`, `put` and `append` per key; keys are independent.
    Kv,
}

impl Model {
    /// Parses the CLI spelling: `register`, `cas-register` or `kv`.
    pub fn from_name(name: &str) -> Option<Model> {
        match name {
            "register" => Some(Model::Register),
            "cas-register" | "cas_register" => Some(Model::CasRegister),
            "kv" => Some(Model::Kv),
            _ => None,
        }
    }

    /// The CLI spelling.
    pub fn name(self) -> &'static str {
        match self {
            Model::Register => "register",
            Model::CasRegister => "cas-register",
            Model::Kv => "kv",
        }
    }

    /// Whether an action belongs to this model; a history using an operation its model
    /// does not have is almost always a wrong `--model`, so it is refused, not ignored.
    pub fn allows(self, action: &Action) -> bool {
        matches!(
            (self, action),
            (_, Action::Read(_) | Action::Write(_))
                | (Model::CasRegister, Action::Cas(..))
                | (Model::Kv, Action::Append(_))
        )
    }

    /// The operations this model has, for error messages.
    pub fn operations(self) -> &'static str {
        match self {
            Model::Register => "read and write",
            Model::CasRegister => "read, write and cas",
            Model::Kv => "get (read), put (write) and append",
        }
    }

    /// What the object is called in explanations.
    pub fn noun(self) -> &'static str {
        match self {
            Model::Kv => "key",
            _ => "register",
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An action with its values replaced by interned ids.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    /// Legal only when the state is this value.
    Read(u32),
    /// Sets the state.
    Write(u32),
    /// Sets the state to `.1` when it is `.0`.
    Cas(u32, u32),
    /// Extends the state (a vector gains an element, a string is concatenated).
    Append(u32),
}

/// Every value a partition mentions, each once; id 0 is `nil`, the initial state.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    ids: HashMap<Value, u32>,
    values: Vec<Value>,
}

impl Interner {
    pub(crate) fn new() -> Self {
        let mut i = Interner::default();
        i.intern(&Value::Nil);
        i
    }

    pub(crate) fn intern(&mut self, v: &Value) -> u32 {
        if let Some(&id) = self.ids.get(v) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(v.clone());
        self.ids.insert(v.clone(), id);
        id
    }

    pub(crate) fn value(&self, id: u32) -> &Value {
        &self.values[id as usize]
    }

    /// Bytes held, for the memory limit.
    pub(crate) fn approx_bytes(&self) -> usize {
        self.values.len() * 96
    }

    /// The step for an action, or `None` for a read with an unknown result, which
    /// constrains nothing.
    pub(crate) fn step(&mut self, action: &Action) -> Option<Step> {
        Some(match action {
            Action::Read(None) => return None,
            Action::Read(Some(v)) => Step::Read(self.intern(v)),
            Action::Write(v) => Step::Write(self.intern(v)),
            Action::Cas(old, new) => Step::Cas(self.intern(old), self.intern(new)),
            Action::Append(v) => Step::Append(self.intern(v)),
        })
    }

    /// The state after `step` from `state`, or `None` when the step is illegal there.
    pub(crate) fn apply(&mut self, state: u32, step: Step) -> Option<u32> {
        match step {
            Step::Read(v) => (v == state).then_some(state),
            Step::Write(v) => Some(v),
            Step::Cas(old, new) => (old == state).then_some(new),
            Step::Append(v) => {
                let next = appended(self.value(state), self.value(v));
                Some(self.intern(&next))
            }
        }
    }
}

/// Strings concatenate (the key-value stores of the Raft labs); everything else is a list
/// that gains one element (Jepsen's list-append), starting from `nil` as the empty list.
fn appended(state: &Value, v: &Value) -> Value {
    match (state, v) {
        (Value::Nil, Value::Str(s)) => Value::Str(s.clone()),
        (Value::Str(a), Value::Str(b)) => Value::Str(format!("{a}{b}")),
        (Value::Vector(items), _) => {
            let mut items = items.clone();
            items.push(v.clone());
            Value::Vector(items)
        }
        (Value::Nil, _) => Value::Vector(vec![v.clone()]),
        (other, _) => Value::Vector(vec![other.clone(), v.clone()]),
    }
}
