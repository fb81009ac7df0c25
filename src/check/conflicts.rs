//! `conflicts_justified`: refusal is not safety. An edit the user was told lost a conflict
//! must have met a real one: another client's edit of the same record that meant to
//! change one of the same fields and overlapped it in time. Code that answers "someone
//! else changed this" to contended but compatible edits (or to everything) is caught here,
//! although every other invariant holds for it.
//!
//! Edits follow the `no_lost_updates` convention: `edit` invokes with `{key, intent}`
//! (the fields the user meant to change), and a conflict shown to the user completes with
//! an error of category `conflict`.

use serde_json::Value;

use super::{secs, Verdict, Witness};
use crate::backend::ErrorCategory;
use crate::history::{History, Operation};

/// The invariant's name.
pub const NAME: &str = "conflicts_justified";

fn fields(op: &Operation<'_>) -> Vec<String> {
    op.invoke
        .value
        .get("intent")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn shown_conflict(op: &Operation<'_>) -> bool {
    op.completion
        .and_then(|c| c.error.as_ref())
        .is_some_and(|e| e.category == ErrorCategory::Conflict)
}

/// Checks that every `edit` shown as a conflict overlapped another client's edit of the
/// same `key` that meant to change a field it meant to change: begun before the conflict
/// was shown, and not finished before this edit began.
pub fn check(history: &History) -> Verdict {
    let edits = history.operations_named("edit");
    for op in edits.iter().filter(|o| shown_conflict(o)) {
        let mine = fields(op);
        let shown_at = op.completion.map_or(u64::MAX, |c| c.time_us);
        let cause = edits.iter().find(|w| {
            w.invoke.process != op.invoke.process
                && w.invoke.value.get("key") == op.invoke.value.get("key")
                && w.invoke.time_us < shown_at
                && w.completion.is_none_or(|c| c.time_us > op.invoke.time_us)
                && fields(w).iter().any(|f| mine.contains(f))
        });
        if cause.is_none() {
            let key = op.invoke.value.get("key").cloned().unwrap_or(Value::Null);
            return Verdict::violated(
                NAME,
                format!(
                    "{} was told at {} that its edit of {key} ({}) conflicted with someone \
                     else's, but no other client was editing those fields of it at the time: \
                     the change could have been saved, and the user was refused instead.",
                    op.invoke.process,
                    secs(shown_at),
                    mine.join(", ")
                ),
                vec![Witness::of(op, format!("edit {key} shown a conflict"))],
            );
        }
    }
    Verdict::holds(NAME)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::check::testing::Builder;
    use crate::history::{EntryType, OpError};

    fn edit(b: &mut Builder, process: &str, op: u32, field: &str) {
        b.invoke(
            process,
            "edit",
            op,
            json!({"key": 1, "intent": {field: "x"}}),
        );
    }

    fn done(b: &mut Builder, process: &str, op: u32) {
        b.complete(process, EntryType::Ok, "edit", op, json!({"key": 1}));
    }

    fn refused(b: &mut Builder, process: &str, op: u32) {
        b.complete(process, EntryType::Fail, "edit", op, json!({"key": 1}));
        b.history.entries.last_mut().unwrap().error = Some(OpError {
            category: ErrorCategory::Conflict,
            message: "changed by someone else".into(),
        });
    }

    #[test]
    fn a_conflict_needs_an_overlapping_edit_of_the_same_field() {
        let mut real = Builder::default();
        edit(&mut real, "a", 1, "title");
        edit(&mut real, "b", 2, "title");
        done(&mut real, "b", 2);
        refused(&mut real, "a", 1);
        assert!(check(&real.history).is_ok());

        let mut other_field = Builder::default();
        edit(&mut other_field, "a", 1, "title");
        edit(&mut other_field, "b", 2, "email");
        done(&mut other_field, "b", 2);
        refused(&mut other_field, "a", 1);
        let v = check(&other_field.history)
            .violation
            .expect("compatible edits");
        assert_eq!(v.ops[0].process, "a");

        let mut earlier = Builder::default();
        edit(&mut earlier, "b", 2, "title");
        done(&mut earlier, "b", 2);
        edit(&mut earlier, "a", 1, "title");
        refused(&mut earlier, "a", 1);
        assert!(!check(&earlier.history).is_ok(), "finished before it began");

        let mut own = Builder::default();
        edit(&mut own, "a", 1, "title");
        edit(&mut own, "a", 2, "title");
        refused(&mut own, "a", 1);
        assert!(!check(&own.history).is_ok(), "the same client");

        let mut later = Builder::default();
        edit(&mut later, "a", 1, "title");
        refused(&mut later, "a", 1);
        edit(&mut later, "b", 2, "title");
        assert!(!check(&later.history).is_ok(), "begun after it was shown");

        let mut unfinished = Builder::default();
        edit(&mut unfinished, "a", 1, "title");
        edit(&mut unfinished, "b", 2, "title");
        refused(&mut unfinished, "a", 1);
        assert!(
            check(&unfinished.history).is_ok(),
            "an edit still in flight"
        );
    }

    #[test]
    fn only_conflicts_shown_to_the_user_are_judged() {
        let mut saved = Builder::default();
        edit(&mut saved, "a", 1, "title");
        done(&mut saved, "a", 1);
        assert!(check(&saved.history).is_ok(), "a saved edit needs no cause");
        let mut lost = Builder::default();
        edit(&mut lost, "a", 1, "title");
        lost.complete("a", EntryType::Fail, "edit", 1, json!({"key": 1}));
        lost.history.entries.last_mut().unwrap().error = Some(OpError {
            category: ErrorCategory::Network,
            message: "connection failed".into(),
        });
        assert!(
            check(&lost.history).is_ok(),
            "a network error is not a conflict"
        );
    }

    #[test]
    fn a_cause_must_begin_before_the_conflict_is_shown_and_end_after_the_edit_began() {
        // b begins in the very instant a is shown its conflict: too late to be its cause.
        let mut same_start = Builder::default();
        edit(&mut same_start, "a", 1, "title");
        refused(&mut same_start, "a", 1);
        edit(&mut same_start, "b", 2, "title");
        same_start.same_instant();
        assert!(!check(&same_start.history).is_ok());
        // b ends in the very instant a begins: it did not overlap a.
        let mut same_end = Builder::default();
        edit(&mut same_end, "b", 2, "title");
        done(&mut same_end, "b", 2);
        edit(&mut same_end, "a", 1, "title");
        same_end.same_instant();
        refused(&mut same_end, "a", 1);
        assert!(!check(&same_end.history).is_ok());
    }
}
