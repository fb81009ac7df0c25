//! What a "not linearisable" answer shows: the longest order the search could make
//! consistent, and the operation that could not be placed after it, in plain words.

use super::model::Interner;
use super::{Action, Model, Op, Status, Value};

/// Why a history is not linearisable.
#[derive(Debug, Clone, PartialEq)]
pub struct Witness {
    /// The key whose sub-history fails (`None` for a single object).
    pub key: Option<Value>,
    /// The longest linearisable prefix any branch of the search found (the one placing the
    /// most `ok` operations): indices into the checked operations, in the order they take
    /// effect.
    pub prefix: Vec<usize>,
    /// The object's state after the prefix.
    pub state: Value,
    /// The operation that had to take effect next (it completed before every other
    /// unplaced operation) and could not.
    pub breaking: usize,
    /// The other operations that were open when `breaking` completed and were not placed:
    /// the candidates the search tried to put first.
    pub candidates: Vec<usize>,
    /// The failure in plain words.
    pub explanation: String,
}

/// Reads the search's result back as operations and words.
pub(crate) fn build(
    ops: &[Op],
    model: Model,
    members: &[usize],
    prefix: Vec<usize>,
    state: Value,
) -> Witness {
    let relevant = |i: &usize| {
        let o = &ops[*i];
        match o.status {
            Status::Fail => false,
            Status::Info => !matches!(o.action, Action::Read(_)),
            Status::Ok => true,
        }
    };
    let placed: std::collections::HashSet<usize> = prefix.iter().copied().collect();
    let unplaced: Vec<usize> = members
        .iter()
        .copied()
        .filter(relevant)
        .filter(|i| !placed.contains(i))
        .collect();
    // The search backtracks at the earliest completion among unplaced operations.
    let breaking = unplaced
        .iter()
        .copied()
        .filter(|&i| ops[i].status == Status::Ok)
        .min_by_key(|&i| (ops[i].complete.unwrap_or(u64::MAX), i))
        .unwrap_or(members.first().copied().unwrap_or(0));
    let deadline = ops
        .get(breaking)
        .and_then(|o| o.complete)
        .unwrap_or(u64::MAX);
    let candidates: Vec<usize> = unplaced
        .iter()
        .copied()
        .filter(|&i| i != breaking && ops[i].invoke <= deadline)
        .collect();
    let key = members.first().and_then(|&i| ops[i].key.clone());
    let mut w = Witness {
        key,
        prefix,
        state,
        breaking,
        candidates,
        explanation: String::new(),
    };
    w.explanation = explain(ops, model, &w, &|i| name(ops, i), &|i| format!("#{i}"));
    w
}

/// `#12 (process 3, line 40: read -> 2)`.
/// An operation named for people: index, process, source line and what it did.
pub fn name(ops: &[Op], i: usize) -> String {
    let Some(o) = ops.get(i) else {
        return format!("#{i}");
    };
    let line = o.line.map_or(String::new(), |l| format!(", line {l}"));
    format!("#{i} (process {}{line}: {})", o.process, o.describe())
}

/// The witness in words, naming the breaking operation with `long` and the open candidates
/// with `short`, so a caller that knows where the operations came from (history entries,
/// a final read) can name them its own way.
pub(crate) fn explain(
    ops: &[Op],
    model: Model,
    w: &Witness,
    long: &dyn Fn(usize) -> String,
    short: &dyn Fn(usize) -> String,
) -> String {
    let (key, prefix, state, breaking, candidates) =
        (&w.key, &w.prefix, &w.state, w.breaking, &w.candidates);
    let object = match key {
        Some(k) => format!("{} {k}", model.noun()),
        None => format!("the {}", model.noun()),
    };
    let mut s = format!(
        "No order of the operations on {object} agrees with both real time and every result. \
         The longest consistent order found places {} operation(s), after which {object} holds {state}. ",
        prefix.len()
    );
    let Some(b) = ops.get(breaking) else {
        return s;
    };
    s.push_str(&format!(
        "Next, {} must take effect before it completed, but ",
        long(breaking)
    ));
    s.push_str(&why_not(&b.action, state, &object));
    if candidates.is_empty() {
        s.push_str(", and no other operation was open that could have come first.");
    } else {
        let legal: Vec<String> = candidates
            .iter()
            .filter(|&&i| applies(&ops[i].action, state))
            .map(|&i| short(i))
            .collect();
        s.push_str(&format!(
            ". The {} other operation(s) still open then cannot help: ",
            candidates.len()
        ));
        if legal.is_empty() {
            s.push_str("none of them can take effect in that state either.");
        } else {
            s.push_str(&format!(
                "{} can take effect, but every order that starts with one of them contradicts a later result.",
                legal.join(", ")
            ));
        }
    }
    s
}

fn why_not(action: &Action, state: &Value, object: &str) -> String {
    match action {
        Action::Read(Some(v)) if v != state => {
            format!("it returned {v} while {object} held {state}")
        }
        Action::Cas(old, _) if old != state => {
            format!("it succeeded, which needs {object} to hold {old}, and it held {state}")
        }
        _ => "every order that places it here contradicts a later result".into(),
    }
}

fn applies(action: &Action, state: &Value) -> bool {
    let mut interner = Interner::new();
    let s = interner.intern(state);
    interner
        .step(action)
        .is_none_or(|step| interner.apply(s, step).is_some())
}
