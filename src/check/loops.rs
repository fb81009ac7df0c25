//! The loop-export invariants: `no_duplicate_rows`, `acked_durable`, `no_silent_failure`
//! and `queued_eventually_synced`, judged on `save` operations and the final rows.
//!
//! A `save` invokes with `{video, loop, start_s, end_s}` and completes with `shown`: what
//! the user saw (`saved`, `queued`, `failed`; anything else, or no category on an error,
//! means the user was told nothing).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{secs, FinalState, Verdict, Witness};
use crate::backend::Row;
use crate::history::{EntryType, History, Operation};

/// At most one row per loop.
pub const NO_DUPLICATE_ROWS: &str = "no_duplicate_rows";
/// Every save the user was told succeeded is on the server.
pub const ACKED_DURABLE: &str = "acked_durable";
/// Every save ends saved, queued, or failed with a category.
pub const NO_SILENT_FAILURE: &str = "no_silent_failure";
/// Every save the user saw as queued reaches the server by the end of the run.
pub const QUEUED_EVENTUALLY_SYNCED: &str = "queued_eventually_synced";

/// Witnesses listed at most, so a report stays readable.
const MAX_WITNESSES: usize = 4;

/// A loop's identity: (video, loop).
type LoopKey = (String, String);

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn op_key(op: &Operation<'_>) -> LoopKey {
    let v = &op.invoke.value;
    (text(v.get("video")), text(v.get("loop")))
}

fn row_key(row: &Row) -> LoopKey {
    (text(row.get("video_id")), text(row.get("loop_id")))
}

fn shown(op: &Operation<'_>) -> String {
    text(op.result().get("shown"))
}

fn describe(op: &Operation<'_>) -> String {
    let (video, lp) = op_key(op);
    let tab = text(op.invoke.value.get("tab"));
    let outcome = match op.completion {
        None => "never finished".to_string(),
        Some(c) => match (&c.error, shown(op).as_str()) {
            (Some(e), s) if !s.is_empty() => format!("shown {s} ({:?})", e.category),
            (Some(e), _) => format!("{:?} error", e.category),
            (None, "") | (None, "nothing") => "shown nothing".to_string(),
            (None, s) => format!("shown {s}"),
        },
    };
    format!("save {lp} of {video} from {tab}: {outcome}")
}

/// Rows per loop in the final state, in key order.
fn rows_by_loop(rows: &[Row]) -> BTreeMap<LoopKey, Vec<&Row>> {
    let mut by: BTreeMap<LoopKey, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        by.entry(row_key(r)).or_default().push(r);
    }
    by
}

/// True when `row` holds the bounds `save` asked for.
fn holds_content(row: &Row, save: &Operation<'_>) -> bool {
    let v = &save.invoke.value;
    row.get("start_s") == v.get("start_s") && row.get("end_s") == v.get("end_s")
}

/// Every row image the server committed to the loops' table, and when, as the final
/// state's audit holds them: ground truth for what a save shown saved or queued ever
/// wrote, which the end state alone hides once a later save replaced it.
#[derive(Debug, Clone, Copy)]
pub struct Commits<'a> {
    images: &'a [Row],
    /// Commit times in milliseconds, image for image; empty when the backend keeps none.
    at_ms: &'a [u64],
}

impl<'a> Commits<'a> {
    /// The audit of `table` in `state`.
    pub fn of(state: &'a FinalState, table: &str) -> Self {
        Self {
            images: state.images(table),
            at_ms: state.audit_ms.get(table).map_or(&[], Vec::as_slice),
        }
    }

    /// True when some committed image held `save`'s loop with its bounds, no later than
    /// `by_us` when commit times are known.
    fn wrote(&self, save: &Operation<'_>, by_us: Option<u64>) -> bool {
        // The key is built once, and only for images with the save's bounds: building keys
        // allocates, and a long run audits thousands of images.
        let key = op_key(save);
        self.images.iter().enumerate().any(|(i, r)| {
            let in_time = match (by_us, self.at_ms.get(i)) {
                (Some(by), Some(ms)) => ms.saturating_mul(1000) <= by,
                _ => true,
            };
            in_time && holds_content(r, save) && row_key(r) == key
        })
    }
}

/// True when the final state holds `op`'s loop with the content it saved, or with the
/// content of another save of the same loop that may have been written after `op`: one
/// that may have happened and was not already promised before `op` began. A re-save with
/// new bounds replaces the old ones; an older save the server had acknowledged before
/// `op` started cannot legitimately end on top of it, and neither can a save the same
/// browser began before `op` and showed as queued: a browser that queues saves has their
/// order in hand (it queued them as the user made them), so what it queued first must not
/// land last.
fn stored(
    op: &Operation<'_>,
    by_loop: &BTreeMap<LoopKey, Vec<&Row>>,
    saves: &[Operation<'_>],
) -> bool {
    let Some(rows) = by_loop.get(&op_key(op)) else {
        return false;
    };
    let settled_before = |w: &Operation<'_>| {
        let acked_before = w.is_ok()
            && shown(w) == "saved"
            && w.completion.is_some_and(|c| c.time_us < op.invoke.time_us);
        let queued_before = shown(w) == "queued"
            && w.invoke.process == op.invoke.process
            && w.invoke.precedes(op.invoke);
        acked_before || queued_before
    };
    rows.iter().any(|r| {
        holds_content(r, op)
            || saves.iter().any(|w| {
                w.invoke.index != op.invoke.index
                    && op_key(w) == op_key(op)
                    && w.may_have_happened()
                    && !settled_before(w)
                    && holds_content(r, w)
            })
    })
}

/// Checks `no_duplicate_rows`: the final state has at most one row per (video, loop).
pub fn no_duplicate_rows(history: &History, rows: &[Row]) -> Verdict {
    let by_loop = rows_by_loop(rows);
    let Some((key, dupes)) = by_loop.iter().find(|(_, r)| r.len() > 1) else {
        return Verdict::holds(NO_DUPLICATE_ROWS);
    };
    let saves = history.operations_named("save");
    let mine: Vec<&Operation<'_>> = saves
        .iter()
        .filter(|o| op_key(o) == *key && o.may_have_happened())
        .collect();
    let overlapping = mine.iter().enumerate().any(|(i, a)| {
        mine[i + 1..].iter().any(|b| {
            let a_end = a.completion.map_or(u64::MAX, |c| c.time_us);
            b.invoke.time_us < a_end
        })
    });
    let ids: Vec<String> = dupes.iter().map(|r| text(r.get("id"))).collect();
    let how = if overlapping {
        "saves of it ran at the same time, each looked for an existing row, found none and \
         inserted one"
    } else {
        "an insert that outlived its save's timeout landed after a later save had looked \
         for the row and found nothing"
    };
    Verdict::violated(
        NO_DUPLICATE_ROWS,
        format!(
            "Loop {} of {} has {} rows (ids {}): {how}; nothing on the server makes a loop \
             unique.",
            key.1,
            key.0,
            dupes.len(),
            ids.join(", ")
        ),
        mine.iter()
            .take(MAX_WITNESSES)
            .map(|o| Witness::of(o, describe(o)))
            .collect(),
    )
}

/// Checks `acked_durable`: every save shown as saved is in the final state, and the
/// server had committed its bounds by the time it was shown saved.
pub fn acked_durable(history: &History, rows: &[Row], commits: Commits<'_>) -> Verdict {
    let by_loop = rows_by_loop(rows);
    let saves = history.operations_named("save");
    let acked = || saves.iter().filter(|o| o.is_ok() && shown(o) == "saved");
    if let Some(o) = acked().find(|o| !commits.wrote(o, o.completion.map(|c| c.time_us))) {
        let (video, lp) = op_key(o);
        let v = &o.invoke.value;
        return Verdict::violated(
            ACKED_DURABLE,
            format!(
                "The user was told loop {lp} of {video} was saved with bounds {}-{} at {}, \
                 but no row the server had committed by then held those bounds: the save was \
                 shown saved before (or without) its own write.",
                text(v.get("start_s")),
                text(v.get("end_s")),
                secs(o.last().time_us)
            ),
            vec![Witness::of(o, describe(o))],
        );
    }
    let lost = acked().find(|o| !stored(o, &by_loop, &saves));
    match lost {
        None => Verdict::holds(ACKED_DURABLE),
        Some(o) => {
            let (video, lp) = op_key(o);
            Verdict::violated(
                ACKED_DURABLE,
                format!(
                    "The user was told loop {lp} of {video} was saved at {}, but the server \
                     does not have it at the end of the run.",
                    secs(o.last().time_us)
                ),
                vec![Witness::of(o, describe(o))],
            )
        }
    }
}

/// Checks `no_silent_failure`: every finished save was shown saved or queued, or failed
/// with a category the user was shown.
pub fn no_silent_failure(history: &History) -> Verdict {
    let saves = history.operations_named("save");
    let silent: Vec<&Operation<'_>> = saves
        .iter()
        .filter(|o| match o.completion {
            None => false,
            Some(c) => match c.kind {
                EntryType::Ok => !matches!(shown(o).as_str(), "saved" | "queued"),
                _ => c.error.is_none() || !matches!(shown(o).as_str(), "queued" | "failed"),
            },
        })
        .collect();
    let Some(first) = silent.first() else {
        return Verdict::holds(NO_SILENT_FAILURE);
    };
    let (video, lp) = op_key(first);
    let n = silent.len();
    Verdict::violated(
        NO_SILENT_FAILURE,
        format!(
            "Saving loop {lp} of {video} from {} failed at {} and the user was told nothing: \
             the error was logged and the loop quietly kept in local storage{}.",
            first.invoke.process,
            secs(first.last().time_us),
            if n > 1 {
                format!(" ({n} saves ended this way)")
            } else {
                String::new()
            }
        ),
        silent
            .iter()
            .take(MAX_WITNESSES)
            .map(|o| Witness::of(o, describe(o)))
            .collect(),
    )
}

/// Checks `queued_eventually_synced`: every save shown as queued is on the server at the
/// end of the liveness phase, and the server committed its bounds at some point.
pub fn queued_eventually_synced(history: &History, rows: &[Row], commits: Commits<'_>) -> Verdict {
    let by_loop = rows_by_loop(rows);
    let saves = history.operations_named("save");
    let stuck = saves.iter().find(|o| {
        shown(o) == "queued" && (!commits.wrote(o, None) || !stored(o, &by_loop, &saves))
    });
    match stuck {
        None => Verdict::holds(QUEUED_EVENTUALLY_SYNCED),
        Some(o) => {
            let (video, lp) = op_key(o);
            Verdict::violated(
                QUEUED_EVENTUALLY_SYNCED,
                format!(
                    "Loop {lp} of {video} was shown as queued at {}, but it never reached \
                     the server, although every fault was healed for the liveness phase.",
                    secs(o.last().time_us)
                ),
                vec![Witness::of(o, describe(o))],
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::check::testing::{state, Builder};

    fn save(b: &mut Builder, tab: &str, op: u32, lp: &str) {
        b.invoke(
            "client-1",
            "save",
            op,
            json!({"tab": tab, "video": "v1", "loop": lp, "start_s": 10, "end_s": 14}),
        );
    }

    fn row(id: i64, lp: &str) -> Value {
        json!({"id": id, "user_id": "u1", "video_id": "v1", "loop_id": lp, "start_s": 10, "end_s": 14})
    }

    fn rows(v: Value) -> Vec<Row> {
        state("t", v).rows("t").to_vec()
    }

    /// A final state whose table ends as `v` and whose audit holds `committed`, at
    /// `at_ms` when given.
    fn audited(v: Value, committed: Value, at_ms: &[u64]) -> FinalState {
        let mut s = state("t", v);
        s.audit.insert("t".into(), rows(committed));
        if !at_ms.is_empty() {
            s.audit_ms.insert("t".into(), at_ms.to_vec());
        }
        s
    }

    /// `acked_durable` on a table that ends as `v`, every final row also committed.
    fn acked(h: &History, v: Value) -> Verdict {
        let s = audited(v.clone(), v, &[]);
        acked_durable(h, s.rows("t"), Commits::of(&s, "t"))
    }

    /// `queued_eventually_synced` the same way.
    fn queued(h: &History, v: Value) -> Verdict {
        let s = audited(v.clone(), v, &[]);
        queued_eventually_synced(h, s.rows("t"), Commits::of(&s, "t"))
    }

    fn with_error(b: &mut Builder, kind: EntryType, op: u32, value: Value) {
        b.complete("client-1", kind, "save", op, value);
        let last = b.history.entries.last_mut().unwrap();
        last.error = Some(crate::history::OpError {
            category: crate::backend::ErrorCategory::Network,
            message: "timed out".into(),
        });
    }

    #[test]
    fn two_overlapping_inserts_of_one_loop_are_duplicates() {
        let mut b = Builder::default();
        save(&mut b, "tab-1", 1, "l1");
        save(&mut b, "tab-2", 2, "l1");
        b.complete(
            "client-1",
            EntryType::Ok,
            "save",
            1,
            json!({"shown": "saved"}),
        );
        b.complete(
            "client-1",
            EntryType::Ok,
            "save",
            2,
            json!({"shown": "saved"}),
        );
        let v = no_duplicate_rows(&b.history, &rows(json!([row(1, "l1"), row(2, "l1")])));
        let why = v.violation.expect("two rows for one loop");
        assert_eq!(why.ops.len(), 2);
        assert!(why.explanation.contains("same time"), "{}", why.explanation);
        assert!(no_duplicate_rows(&b.history, &rows(json!([row(1, "l1"), row(2, "l2")]))).is_ok());
    }

    #[test]
    fn an_acknowledged_save_must_be_stored() {
        let mut b = Builder::default();
        save(&mut b, "tab-1", 1, "l1");
        b.complete(
            "client-1",
            EntryType::Ok,
            "save",
            1,
            json!({"shown": "saved"}),
        );
        let v = acked(&b.history, json!([]));
        assert_eq!(v.violation.expect("lost").ops[0].index, 0);
        assert!(acked(&b.history, json!([row(7, "l1")])).is_ok());
        // A row with other content is not the acknowledged save.
        let other = json!([{"id": 7, "video_id": "v1", "loop_id": "l1", "start_s": 0, "end_s": 1}]);
        assert!(!acked(&b.history, other).is_ok());
    }

    /// A re-save with new bounds replaces the old ones; an older save that was already
    /// acknowledged before the re-save began cannot end on top of it.
    #[test]
    fn a_later_re_save_supersedes_and_an_earlier_settled_one_does_not() {
        let resave = |b: &mut Builder, op: u32, start: u64| {
            b.invoke(
                "client-1",
                "save",
                op,
                json!({"tab": "tab-1", "video": "v1", "loop": "l1", "start_s": start, "end_s": start + 4}),
            );
        };
        let saved = |b: &mut Builder, op: u32| {
            b.complete(
                "client-1",
                EntryType::Ok,
                "save",
                op,
                json!({"shown": "saved"}),
            );
        };
        // Both saves wrote their bounds; the table ends as given.
        let acked_both = |h: &History, v: Value| {
            let both = json!([row(1, "l1"), {"id": 1, "video_id": "v1", "loop_id": "l1", "start_s": 20, "end_s": 24}]);
            let s = audited(v, both, &[]);
            acked_durable(h, s.rows("t"), Commits::of(&s, "t"))
        };
        let first_bounds = json!([row(1, "l1")]);
        let second_bounds =
            json!([{"id": 1, "video_id": "v1", "loop_id": "l1", "start_s": 20, "end_s": 24}]);
        let mut sequential = Builder::default();
        resave(&mut sequential, 1, 10);
        saved(&mut sequential, 1);
        resave(&mut sequential, 2, 20);
        saved(&mut sequential, 2);
        assert!(acked_both(&sequential.history, second_bounds.clone()).is_ok());
        let v = acked_both(&sequential.history, first_bounds.clone());
        assert_eq!(v.violation.expect("the re-save was lost").ops[0].index, 2);
        let mut overlapping = Builder::default();
        resave(&mut overlapping, 1, 10);
        resave(&mut overlapping, 2, 20);
        saved(&mut overlapping, 1);
        saved(&mut overlapping, 2);
        assert!(acked_both(&overlapping.history, first_bounds.clone()).is_ok());
        assert!(acked_both(&overlapping.history, second_bounds).is_ok());
        // Acknowledged at the very instant the re-save began: the order of the two is not
        // known, so the first save may still end on top.
        let mut same_instant = Builder::default();
        resave(&mut same_instant, 1, 10);
        saved(&mut same_instant, 1);
        resave(&mut same_instant, 2, 20);
        same_instant.same_instant();
        saved(&mut same_instant, 2);
        assert!(acked_both(&same_instant.history, first_bounds).is_ok());
    }

    #[test]
    fn an_error_without_a_category_is_a_silent_failure() {
        let mut b = Builder::default();
        save(&mut b, "tab-1", 1, "l1");
        b.complete(
            "client-1",
            EntryType::Fail,
            "save",
            1,
            json!({"shown": "nothing"}),
        );
        let v = no_silent_failure(&b.history);
        assert!(v
            .violation
            .expect("silent")
            .explanation
            .contains("told nothing"));

        let mut ok = Builder::default();
        save(&mut ok, "tab-1", 1, "l1");
        save(&mut ok, "tab-1", 2, "l2");
        save(&mut ok, "tab-2", 3, "l3");
        ok.complete(
            "client-1",
            EntryType::Ok,
            "save",
            1,
            json!({"shown": "saved"}),
        );
        with_error(&mut ok, EntryType::Fail, 2, json!({"shown": "failed"}));
        with_error(&mut ok, EntryType::Info, 3, json!({"shown": "queued"}));
        assert!(no_silent_failure(&ok.history).is_ok());
    }

    #[test]
    fn a_queued_save_must_reach_the_server() {
        let mut b = Builder::default();
        save(&mut b, "tab-1", 1, "l1");
        with_error(&mut b, EntryType::Info, 1, json!({"shown": "queued"}));
        assert!(!queued(&b.history, json!([])).is_ok());
        assert!(queued(&b.history, json!([row(1, "l1")])).is_ok());
    }

    fn indices(v: &Verdict) -> Vec<usize> {
        let why = v.violation.as_ref().expect("a violation");
        why.ops.iter().map(|w| w.index).collect()
    }

    fn done(b: &mut Builder, kind: EntryType, op: u32, shown: &str) {
        b.complete("client-1", kind, "save", op, json!({ "shown": shown }));
    }

    #[test]
    fn duplicates_name_only_saves_of_that_loop_that_may_have_inserted() {
        let mut b = Builder::default();
        save(&mut b, "tab-1", 1, "l1");
        done(&mut b, EntryType::Ok, 1, "saved");
        save(&mut b, "tab-1", 2, "l1");
        done(&mut b, EntryType::Ok, 2, "saved");
        save(&mut b, "tab-1", 3, "l2");
        done(&mut b, EntryType::Ok, 3, "saved");
        save(&mut b, "tab-2", 4, "l1");
        done(&mut b, EntryType::Fail, 4, "failed");
        let v = no_duplicate_rows(&b.history, &rows(json!([row(1, "l1"), row(2, "l1")])));
        assert_eq!(indices(&v), [0, 2]);
        let why = v.violation.unwrap();
        // One after the other, so the second row came from an insert that outlived its save.
        assert!(
            why.explanation
                .starts_with("Loop l1 of v1 has 2 rows (ids 1, 2): an insert that outlived"),
            "{}",
            why.explanation
        );
    }

    #[test]
    fn a_save_begun_in_the_instant_the_previous_one_finished_did_not_overlap_it() {
        let mut b = Builder::default();
        save(&mut b, "tab-1", 1, "l1");
        done(&mut b, EntryType::Ok, 1, "saved");
        save(&mut b, "tab-2", 2, "l1");
        b.same_instant();
        done(&mut b, EntryType::Ok, 2, "saved");
        let v = no_duplicate_rows(&b.history, &rows(json!([row(1, "l1"), row(2, "l1")])));
        let why = v.violation.expect("two rows for one loop").explanation;
        assert!(why.contains("outlived"), "{why}");
    }

    #[test]
    fn a_save_is_described_by_what_the_user_was_shown() {
        let mut b = Builder::default();
        save(&mut b, "tab-1", 1, "l1");
        with_error(&mut b, EntryType::Info, 1, json!({"shown": "queued"}));
        save(&mut b, "tab-1", 2, "l1");
        with_error(&mut b, EntryType::Fail, 2, json!({}));
        save(&mut b, "tab-1", 3, "l1");
        done(&mut b, EntryType::Ok, 3, "nothing");
        save(&mut b, "tab-1", 4, "l1");
        b.complete("client-1", EntryType::Ok, "save", 4, json!({}));
        save(&mut b, "tab-1", 5, "l1");
        done(&mut b, EntryType::Ok, 5, "saved");
        save(&mut b, "tab-1", 6, "l1");
        let described: Vec<String> = b
            .history
            .operations()
            .iter()
            .map(|o| describe(o).replace("save l1 of v1 from tab-1: ", ""))
            .collect();
        assert_eq!(
            described,
            [
                "shown queued (Network)",
                "Network error",
                "shown nothing",
                "shown nothing",
                "shown saved",
                "never finished"
            ]
        );
    }

    #[test]
    fn only_a_save_shown_as_saved_and_known_ok_must_be_stored_with_its_content() {
        let mut b = Builder::default();
        save(&mut b, "tab-1", 1, "l1");
        done(&mut b, EntryType::Info, 1, "saved");
        save(&mut b, "tab-1", 2, "l2");
        done(&mut b, EntryType::Ok, 2, "queued");
        assert!(acked(&b.history, json!([])).is_ok());

        let mut c = Builder::default();
        save(&mut c, "tab-1", 1, "l1");
        done(&mut c, EntryType::Ok, 1, "saved");
        // The right start but another end is other content.
        let moved =
            json!([{"id": 7, "video_id": "v1", "loop_id": "l1", "start_s": 10, "end_s": 99}]);
        let v = acked(&c.history, moved.clone());
        assert_eq!(indices(&v), [0]);
        let why = v.violation.unwrap().explanation;
        assert!(why.contains("bounds 10-14 at 0.002s"), "{why}");
        // Committed, then moved by nothing in the history: the end state decides.
        let s = audited(
            moved.clone(),
            json!([row(7, "l1"), moved.as_array().unwrap()[0]]),
            &[],
        );
        let v = acked_durable(&c.history, s.rows("t"), Commits::of(&s, "t"));
        let why = v.violation.expect("moved").explanation;
        assert!(why.contains("was saved at 0.002s"), "{why}");
    }

    #[test]
    fn a_failure_needs_both_an_error_category_and_a_message_the_user_saw() {
        let silent = |kind: EntryType, shown: &str, with_category: bool| {
            let mut b = Builder::default();
            save(&mut b, "tab-1", 1, "l1");
            if with_category {
                with_error(&mut b, kind, 1, json!({ "shown": shown }));
            } else {
                done(&mut b, kind, 1, shown);
            }
            !no_silent_failure(&b.history).is_ok()
        };
        assert!(!silent(EntryType::Ok, "queued", false));
        assert!(silent(EntryType::Ok, "failed", false));
        assert!(silent(EntryType::Fail, "failed", false));
        assert!(silent(EntryType::Fail, "nothing", true));
        assert!(!silent(EntryType::Fail, "failed", true));
        assert!(!silent(EntryType::Info, "queued", true));
    }

    #[test]
    fn silent_failures_are_counted_only_when_there_are_several() {
        let mut one = Builder::default();
        save(&mut one, "tab-1", 1, "l1");
        done(&mut one, EntryType::Fail, 1, "nothing");
        // Unfinished saves are not failures yet.
        save(&mut one, "tab-1", 2, "l2");
        let v = no_silent_failure(&one.history);
        assert_eq!(indices(&v), [0]);
        let why = v.violation.unwrap().explanation;
        assert!(
            why.starts_with("Saving loop l1 of v1 from client-1 failed at 0.002s")
                && !why.contains("ended this way"),
            "{why}"
        );

        let mut two = Builder::default();
        save(&mut two, "tab-1", 1, "l1");
        save(&mut two, "tab-1", 2, "l2");
        done(&mut two, EntryType::Fail, 2, "nothing");
        done(&mut two, EntryType::Ok, 1, "nothing");
        let v = no_silent_failure(&two.history);
        assert_eq!(indices(&v), [0, 1]);
        let why = v.violation.unwrap().explanation;
        assert!(why.contains("(2 saves ended this way)"), "{why}");
    }

    #[test]
    fn only_a_save_shown_as_queued_must_sync_eventually() {
        let mut b = Builder::default();
        save(&mut b, "tab-1", 1, "l1");
        done(&mut b, EntryType::Ok, 1, "saved");
        assert!(queued(&b.history, json!([])).is_ok());

        let mut q = Builder::default();
        save(&mut q, "tab-1", 1, "l1");
        with_error(&mut q, EntryType::Info, 1, json!({"shown": "queued"}));
        let v = queued(&q.history, json!([]));
        assert_eq!(indices(&v), [0]);
        let why = v.violation.unwrap().explanation;
        assert!(why.contains("shown as queued at 0.002s"), "{why}");
    }

    fn save_at(b: &mut Builder, process: &str, op: u32, start: u64) {
        b.invoke(
            process,
            "save",
            op,
            json!({"tab": "tab-1", "video": "v1", "loop": "l1", "start_s": start, "end_s": start + 4}),
        );
    }

    fn bounds(start: u64) -> Value {
        json!({"id": 1, "user_id": "u1", "video_id": "v1", "loop_id": "l1", "start_s": start, "end_s": start + 4})
    }

    /// Shown saved means committed by then: the end state alone cannot tell a save shown
    /// saved a moment before its own write landed from one shown after it.
    #[test]
    fn a_save_shown_saved_before_its_bounds_committed_is_not_durable() {
        let mut b = Builder::default();
        save_at(&mut b, "client-1", 1, 10);
        // Shown saved at 2 ms.
        done(&mut b, EntryType::Ok, 1, "saved");
        let late = audited(json!([bounds(10)]), json!([bounds(10)]), &[3]);
        let v = acked_durable(&b.history, late.rows("t"), Commits::of(&late, "t"));
        let why = v
            .violation
            .expect("shown saved before the commit")
            .explanation;
        assert!(why.contains("bounds 10-14"), "{why}");
        let on_time = audited(json!([bounds(10)]), json!([bounds(10)]), &[1]);
        assert!(acked_durable(&b.history, on_time.rows("t"), Commits::of(&on_time, "t")).is_ok());
        // Without commit times only the order is known: committed at all is enough.
        let untimed = audited(json!([bounds(10)]), json!([bounds(10)]), &[]);
        assert!(acked_durable(&b.history, untimed.rows("t"), Commits::of(&untimed, "t")).is_ok());
    }

    /// Two overlapping saves of one loop may end either way, but each one shown saved (or
    /// queued) must have written its own bounds at some point.
    #[test]
    fn a_save_whose_bounds_were_never_written_is_lost_even_if_another_save_covers_it() {
        let mut b = Builder::default();
        save_at(&mut b, "client-1", 1, 10);
        save_at(&mut b, "client-1", 2, 20);
        done(&mut b, EntryType::Ok, 1, "saved");
        b.complete(
            "client-1",
            EntryType::Ok,
            "save",
            2,
            json!({"shown": "saved"}),
        );
        assert_eq!(indices(&acked(&b.history, json!([bounds(10)]))), [1]);
        let both = audited(json!([bounds(10)]), json!([bounds(20), bounds(10)]), &[]);
        assert!(acked_durable(&b.history, both.rows("t"), Commits::of(&both, "t")).is_ok());

        let mut q = Builder::default();
        save_at(&mut q, "client-1", 1, 10);
        save_at(&mut q, "client-1", 2, 20);
        done(&mut q, EntryType::Ok, 1, "saved");
        with_error(&mut q, EntryType::Info, 2, json!({"shown": "queued"}));
        assert_eq!(indices(&queued(&q.history, json!([bounds(10)]))), [1]);
        let both = audited(json!([bounds(10)]), json!([bounds(20), bounds(10)]), &[]);
        assert!(
            queued_eventually_synced(&q.history, both.rows("t"), Commits::of(&both, "t")).is_ok()
        );
    }

    /// A browser's own saves are one sequence: one it began before the next and showed as
    /// queued must not land on top of it, even when the two overlapped. Another browser's
    /// queued save may (nothing orders two browsers' deliveries).
    #[test]
    fn a_queued_save_of_the_same_browser_must_not_end_on_top_of_a_later_one() {
        let history = |second: &str| {
            let mut b = Builder::default();
            save_at(&mut b, "client-1", 1, 10);
            with_error(&mut b, EntryType::Info, 1, json!({"shown": "queued"}));
            save_at(&mut b, second, 2, 20);
            b.complete(second, EntryType::Ok, "save", 2, json!({"shown": "saved"}));
            b.history
        };
        let committed = json!([bounds(20), bounds(10)]);
        let s = audited(json!([bounds(10)]), committed.clone(), &[]);
        let same = history("client-1");
        let v = acked_durable(&same, s.rows("t"), Commits::of(&s, "t"));
        assert_eq!(indices(&v), [2]);
        assert!(acked_durable(&history("client-2"), s.rows("t"), Commits::of(&s, "t")).is_ok());
        let ends_newer = audited(json!([bounds(20)]), committed.clone(), &[]);
        assert!(acked_durable(&same, ends_newer.rows("t"), Commits::of(&ends_newer, "t")).is_ok());
        // Overlapping: the queued save began first, so it still must not end on top.
        let mut b = Builder::default();
        save_at(&mut b, "client-1", 1, 10);
        save_at(&mut b, "client-1", 2, 20);
        with_error(&mut b, EntryType::Info, 1, json!({"shown": "queued"}));
        b.complete(
            "client-1",
            EntryType::Ok,
            "save",
            2,
            json!({"shown": "saved"}),
        );
        let v = acked_durable(&b.history, s.rows("t"), Commits::of(&s, "t"));
        assert_eq!(indices(&v), [1]);
        // The later save queued, the earlier one saved: the later one may still land last.
        let mut c = Builder::default();
        save_at(&mut c, "client-1", 1, 10);
        save_at(&mut c, "client-1", 2, 20);
        done(&mut c, EntryType::Ok, 1, "saved");
        with_error(&mut c, EntryType::Info, 2, json!({"shown": "queued"}));
        assert!(acked_durable(
            &c.history,
            ends_newer.rows("t"),
            Commits::of(&ends_newer, "t")
        )
        .is_ok());
        assert!(queued_eventually_synced(
            &c.history,
            ends_newer.rows("t"),
            Commits::of(&ends_newer, "t")
        )
        .is_ok());
    }
}
