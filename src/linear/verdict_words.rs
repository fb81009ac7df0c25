//! How [`super::Linearizable`] names what it checked: history operations by index,
//! process, time and outcome, and the two operations a history does not hold (the value
//! before the run and the final state's read).

use super::Op;
use crate::check::{secs, Witness as Shown};
use crate::history::{EntryType, Operation};

/// Where one checked operation came from, to name it in a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// The n-th operation of `History::operations()`.
    History(usize),
    /// The value the register held before the run.
    Initial,
    /// The final state, read after every operation ended.
    Final,
}

/// `#40 (client-2 at 4.511s: write key [1 "title"] "x")`, or what the initial value and the
/// final read are.
pub(super) fn describe(
    operations: &[Operation<'_>],
    ops: &[Op],
    sources: &[Source],
    i: usize,
) -> String {
    let what = ops.get(i).map_or(String::new(), Op::describe);
    match sources.get(i) {
        Some(Source::History(n)) => {
            let o = &operations[*n];
            format!(
                "#{} ({} at {}, {}: {what})",
                o.invoke.index,
                o.invoke.process,
                secs(o.invoke.time_us),
                outcome_word(o.outcome())
            )
        }
        Some(Source::Initial) => format!("the value before the run ({what})"),
        Some(Source::Final) => format!("the final state's read after the run ({what})"),
        None => format!("operation {i}"),
    }
}

/// `#40`, `the initial value`, `the final read`.
pub(super) fn short_name(operations: &[Operation<'_>], sources: &[Source], i: usize) -> String {
    match sources.get(i) {
        Some(Source::History(n)) => format!("#{}", operations[*n].invoke.index),
        Some(Source::Initial) => "the initial value".into(),
        Some(Source::Final) => "the final read".into(),
        None => format!("operation {i}"),
    }
}

fn outcome_word(e: EntryType) -> &'static str {
    match e {
        EntryType::Ok => "ok",
        EntryType::Fail => "failed",
        _ => "unknown outcome",
    }
}

/// ` The longest consistent order: #3, #7, #9.` (its last ten, when longer).
pub(super) fn order_in_words(prefix: &[usize], short: &dyn Fn(usize) -> String) -> String {
    const SHOWN: usize = 10;
    if prefix.is_empty() {
        return " The longest consistent order is empty.".into();
    }
    let skip = prefix.len().saturating_sub(SHOWN);
    let names: Vec<String> = prefix[skip..].iter().map(|&i| short(i)).collect();
    let elided = if skip > 0 {
        format!("{skip} earlier, then ")
    } else {
        String::new()
    };
    format!(
        " The longest consistent order: {elided}{}.",
        names.join(", ")
    )
}

/// The history operations among `indices` (distinct: a witness names each operation of
/// its one object once), as a verdict names them; the initial value and the final read
/// are not history entries.
pub(super) fn shown(
    operations: &[Operation<'_>],
    sources: &[Source],
    indices: &[usize],
) -> Vec<Shown> {
    indices
        .iter()
        .filter_map(|&i| match sources.get(i) {
            Some(Source::History(n)) => Some(*n),
            _ => None,
        })
        .map(|n| {
            let o = &operations[n];
            Shown::of(
                o,
                format!("{} {}", o.invoke.f, crate::check::show(&o.invoke.value)),
            )
        })
        .collect()
}
