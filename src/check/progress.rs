//! The progress invariants: `monotonic_progress`, `read_your_writes` and
//! `eventually_complete`, judged on `poll`, `verify` and `write` operations whose values
//! carry `read` (what a read returned), `shown` (what a tab displays afterwards) and
//! `progress` (what a write stored).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{secs, Verdict, Witness};
use crate::history::{History, Operation};

/// Each poller's displayed progress never decreases.
pub const MONOTONIC_PROGRESS: &str = "monotonic_progress";
/// A client that wrote progress v never reads back less than v afterwards.
pub const READ_YOUR_WRITES: &str = "read_your_writes";
/// After the liveness phase every poller shows 100.
pub const EVENTUALLY_COMPLETE: &str = "eventually_complete";

fn number(op: &Operation<'_>, key: &str) -> Option<u64> {
    op.result().get(key).and_then(Value::as_u64)
}

fn end_us(op: &Operation<'_>) -> u64 {
    op.completion.map_or(u64::MAX, |c| c.time_us)
}

fn host(op: &Operation<'_>) -> String {
    op.result()
        .get("host")
        .and_then(Value::as_str)
        .map_or(String::new(), |h| format!(" from {h}"))
}

fn reloaded(op: &Operation<'_>) -> &'static str {
    if op.invoke.value.get("reload") == Some(&Value::Bool(true)) {
        ", first poll after the page loaded"
    } else {
        ""
    }
}

/// Checks `monotonic_progress`: per poller, in completion order, each completed poll
/// leaves the page showing at least the most any earlier poll showed. A failed poll is
/// judged too: its `shown` is what the page displays after the error, and an error
/// handler that resets the bar moves it backwards as surely as a stale read does (a
/// failed poll that reports no `shown` changed nothing the checker can see).
pub fn monotonic_progress(history: &History) -> Verdict {
    let mut polls = history.operations_named("poll");
    polls.retain(|o| o.completion.is_some());
    polls.sort_by_key(|o| (o.invoke.process.clone(), end_us(o)));
    let mut best: BTreeMap<&str, (u64, &Operation<'_>)> = BTreeMap::new();
    for op in &polls {
        let Some(shown) = number(op, "shown") else {
            continue;
        };
        let process = op.invoke.process.as_str();
        match best.get(process) {
            Some(&(high, earlier)) if shown < high => {
                let why = if op.is_ok() {
                    "a read was served by a host that had not yet replayed the newer progress"
                } else {
                    "the poll failed and the page replaced what it showed"
                };
                return Verdict::violated(
                    MONOTONIC_PROGRESS,
                    format!(
                        "{process} showed progress {high} at {}, then {shown} at {}{}: the \
                         display went backwards because {why}.",
                        secs(end_us(earlier)),
                        secs(end_us(op)),
                        host(op),
                    ),
                    vec![
                        Witness::of(earlier, format!("showed {high}{}", host(earlier))),
                        Witness::of(op, format!("showed {shown}{}{}", host(op), reloaded(op))),
                    ],
                );
            }
            Some(&(high, _)) if shown == high => {}
            _ => {
                best.insert(process, (shown, op));
            }
        }
    }
    Verdict::holds(MONOTONIC_PROGRESS)
}

/// Checks `read_your_writes`: a read by a client that began after one of its own writes
/// was acknowledged returns at least what that write stored.
pub fn read_your_writes(history: &History) -> Verdict {
    let ops = history.operations();
    let mut written: BTreeMap<&str, (u64, &Operation<'_>)> = BTreeMap::new();
    // Entries are in time order, so visiting operations by the time of their invoke or
    // completion replays what each client knew when.
    let mut events: Vec<(u64, bool, &Operation<'_>)> = Vec::new();
    for op in &ops {
        match op.invoke.f.as_str() {
            "write" if op.is_ok() => events.push((end_us(op), false, op)),
            "poll" | "verify" if op.is_ok() => events.push((op.invoke.time_us, true, op)),
            _ => {}
        }
    }
    // At equal times an acknowledgement comes before a read that starts then.
    events.sort_by_key(|(t, is_read, op)| (*t, *is_read, op.invoke.index));
    for (_, is_read, op) in events {
        let process = op.invoke.process.as_str();
        if !is_read {
            let p = op
                .invoke
                .value
                .get("progress")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            if written.get(process).is_none_or(|(w, _)| p > *w) {
                written.insert(process, (p, op));
            }
            continue;
        }
        let (Some(read), Some(&(w, write))) = (number(op, "read"), written.get(process)) else {
            continue;
        };
        if read < w {
            return Verdict::violated(
                READ_YOUR_WRITES,
                format!(
                    "{process} wrote progress {w} (acknowledged at {}), then read {read} back at \
                     {}{}: its own acknowledged write was invisible to it.",
                    secs(end_us(write)),
                    secs(op.invoke.time_us),
                    host(op),
                ),
                vec![
                    Witness::of(write, format!("wrote {w}")),
                    Witness::of(op, format!("{} read {read}{}", op.invoke.f, host(op))),
                ],
            );
        }
    }
    Verdict::holds(READ_YOUR_WRITES)
}

/// Checks `eventually_complete`: the last completed poll of every poller leaves it
/// showing `done`.
pub fn eventually_complete(history: &History, done: u64) -> Verdict {
    let polls = history.operations_named("poll");
    let mut last: BTreeMap<&str, &Operation<'_>> = BTreeMap::new();
    for op in polls.iter().filter(|o| o.completion.is_some()) {
        last.insert(op.invoke.process.as_str(), op);
    }
    for (process, op) in last {
        let shown = number(op, "shown");
        if shown != Some(done) {
            let what = shown.map_or("nothing".to_string(), |s| format!("progress {s}"));
            return Verdict::violated(
                EVENTUALLY_COMPLETE,
                format!(
                    "When the run ended {process} still showed {what}: its last poll at {} \
                     did not bring it to {done}, though every fault had healed.",
                    secs(op.invoke.time_us)
                ),
                vec![Witness::of(op, format!("left the page showing {what}"))],
            );
        }
    }
    Verdict::holds(EVENTUALLY_COMPLETE)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::check::testing::Builder;
    use crate::history::EntryType;

    fn poll(h: &mut Builder, who: &str, op: u32, read: u64, shown: u64) {
        h.invoke(who, "poll", op, json!({"reload": false}));
        h.complete(
            who,
            EntryType::Ok,
            "poll",
            op,
            json!({"read": read, "host": "replica-1", "shown": shown}),
        );
    }

    fn write(h: &mut Builder, who: &str, op: u32, p: u64) {
        h.invoke(who, "write", op, json!({"progress": p}));
        h.complete(who, EntryType::Ok, "write", op, json!({"progress": p}));
    }

    #[test]
    fn monotonic_catches_a_display_going_back_and_passes_per_tab_order() {
        let mut bad = Builder::default();
        poll(&mut bad, "tab-a", 1, 85, 85);
        poll(&mut bad, "tab-b", 2, 10, 10);
        poll(&mut bad, "tab-a", 3, 10, 10);
        let v = monotonic_progress(&bad.history);
        let why = v.violation.expect("85 then 10 on one tab");
        assert_eq!(why.ops.len(), 2);
        assert!(why.explanation.contains("85"), "{}", why.explanation);

        // Another tab being behind is not this tab going backwards; failed polls show nothing.
        let mut good = Builder::default();
        poll(&mut good, "tab-a", 1, 85, 85);
        poll(&mut good, "tab-b", 2, 10, 10);
        good.invoke("tab-a", "poll", 3, json!({}));
        good.complete("tab-a", EntryType::Fail, "poll", 3, json!({"shown": 85}));
        poll(&mut good, "tab-a", 4, 90, 90);
        assert!(monotonic_progress(&good.history).is_ok());
    }

    #[test]
    fn read_your_writes_catches_a_stale_read_back_and_ignores_reads_begun_earlier() {
        let mut bad = Builder::default();
        write(&mut bad, "gen", 1, 40);
        bad.invoke("gen", "verify", 2, json!({"expect": 40}));
        bad.complete(
            "gen",
            EntryType::Ok,
            "verify",
            2,
            json!({"read": 25, "host": "replica-2"}),
        );
        let why = read_your_writes(&bad.history)
            .violation
            .expect("read 25 after writing 40");
        assert!(
            why.explanation.contains("wrote progress 40"),
            "{}",
            why.explanation
        );

        let mut good = Builder::default();
        // A read that began before the write was acknowledged may miss it.
        good.invoke("gen", "verify", 1, json!({}));
        write(&mut good, "gen", 2, 40);
        good.complete("gen", EntryType::Ok, "verify", 1, json!({"read": 25}));
        // Other clients never wrote anything, so their stale reads are not this invariant.
        poll(&mut good, "tab", 3, 10, 10);
        good.invoke("gen", "verify", 4, json!({}));
        good.complete("gen", EntryType::Ok, "verify", 4, json!({"read": 40}));
        assert!(read_your_writes(&good.history).is_ok());
    }

    #[test]
    fn eventually_complete_needs_every_poller_at_100() {
        let mut bad = Builder::default();
        poll(&mut bad, "tab-a", 1, 100, 100);
        poll(&mut bad, "tab-b", 2, 85, 85);
        let why = eventually_complete(&bad.history, 100)
            .violation
            .expect("tab-b stopped at 85");
        assert!(why.explanation.contains("tab-b"), "{}", why.explanation);

        let mut good = Builder::default();
        poll(&mut good, "tab-a", 1, 100, 100);
        poll(&mut good, "tab-b", 2, 85, 85);
        poll(&mut good, "tab-b", 3, 100, 100);
        assert!(eventually_complete(&good.history, 100).is_ok());
    }

    fn indices(v: &Verdict) -> Vec<usize> {
        let why = v.violation.as_ref().expect("a violation");
        why.ops.iter().map(|w| w.index).collect()
    }

    #[test]
    fn monotonic_blames_the_first_poll_that_showed_the_high_and_lets_a_display_stay_put() {
        let mut h = Builder::default();
        poll(&mut h, "tab", 1, 10, 10);
        poll(&mut h, "tab", 2, 50, 50);
        // Showing the same value again is not going backwards, and the earlier poll that
        // first showed it stays the witness.
        poll(&mut h, "tab", 3, 50, 50);
        poll(&mut h, "tab", 4, 30, 30);
        let v = monotonic_progress(&h.history);
        assert_eq!(indices(&v), [2, 6]);
        let why = v.violation.unwrap();
        // Times are completions: the display changes when a poll returns.
        assert!(
            why.explanation
                .starts_with("tab showed progress 50 at 0.004s, then 30 at 0.008s from replica-1:"),
            "{}",
            why.explanation
        );
        assert_eq!(why.ops[0].detail, "showed 50 from replica-1");
        assert_eq!(why.ops[1].detail, "showed 30 from replica-1");

        let mut flat = Builder::default();
        poll(&mut flat, "tab", 1, 50, 50);
        poll(&mut flat, "tab", 2, 50, 50);
        assert!(monotonic_progress(&flat.history).is_ok());
    }

    #[test]
    fn monotonic_follows_completion_order_and_says_when_the_page_had_just_loaded() {
        // The first poll is overtaken: what the tab showed last is the older poll's answer.
        let mut h = Builder::default();
        h.invoke("tab", "poll", 1, json!({"reload": true}));
        h.invoke("tab", "poll", 2, json!({"reload": false}));
        h.complete("tab", EntryType::Ok, "poll", 2, json!({"shown": 50}));
        h.complete("tab", EntryType::Ok, "poll", 1, json!({"shown": 40}));
        let v = monotonic_progress(&h.history);
        assert_eq!(indices(&v), [1, 0]);
        let why = v.violation.unwrap();
        assert_eq!(why.ops[0].detail, "showed 50");
        assert_eq!(
            why.ops[1].detail,
            "showed 40, first poll after the page loaded"
        );

        // A failed poll's `shown` is what the page displays after the error: keeping the
        // bar holds, resetting it (an error handler showing 0) went backwards, and a
        // failure that reports nothing shown is not judged.
        let failed = |shown: Value| {
            let mut b = Builder::default();
            poll(&mut b, "tab", 1, 85, 85);
            b.invoke("tab", "poll", 2, json!({}));
            b.complete("tab", EntryType::Fail, "poll", 2, json!({ "shown": shown }));
            poll(&mut b, "tab", 3, 90, 90);
            monotonic_progress(&b.history)
        };
        assert!(failed(json!(85)).is_ok());
        assert!(failed(Value::Null).is_ok());
        let reset = failed(json!(0)).violation.expect("the bar reset to 0");
        assert!(
            reset.explanation.contains("poll failed"),
            "{}",
            reset.explanation
        );
        assert_eq!(reset.ops[1].detail, "showed 0");
    }

    fn verify(h: &mut Builder, who: &str, op: u32, kind: EntryType, read: u64) {
        h.invoke(who, "verify", op, json!({}));
        h.complete(
            who,
            kind,
            "verify",
            op,
            json!({"read": read, "host": "replica-2"}),
        );
    }

    #[test]
    fn read_your_writes_holds_a_client_to_its_highest_acknowledged_write() {
        let mut h = Builder::default();
        write(&mut h, "gen", 1, 40);
        // A lower write later does not lower what the client may expect to read.
        write(&mut h, "gen", 2, 30);
        verify(&mut h, "gen", 3, EntryType::Ok, 35);
        let v = read_your_writes(&h.history);
        assert_eq!(indices(&v), [0, 4]);
        let why = v.violation.unwrap();
        assert!(
            why.explanation.starts_with(
                "gen wrote progress 40 (acknowledged at 0.002s), then read 35 back at 0.005s from replica-2:"
            ),
            "{}",
            why.explanation
        );
        assert_eq!(why.ops[0].detail, "wrote 40");
        assert_eq!(why.ops[1].detail, "verify read 35 from replica-2");

        let mut higher = Builder::default();
        write(&mut higher, "gen", 1, 40);
        write(&mut higher, "gen", 2, 50);
        verify(&mut higher, "gen", 3, EntryType::Ok, 45);
        assert_eq!(indices(&read_your_writes(&higher.history)), [2, 4]);

        // Writing the same value again keeps the first write as the one that set it.
        let mut again = Builder::default();
        write(&mut again, "gen", 1, 40);
        write(&mut again, "gen", 2, 40);
        verify(&mut again, "gen", 3, EntryType::Ok, 30);
        assert_eq!(indices(&read_your_writes(&again.history)), [0, 4]);
    }

    #[test]
    fn read_your_writes_accepts_reading_exactly_the_write_and_ignores_what_did_not_happen() {
        let mut exact = Builder::default();
        write(&mut exact, "gen", 1, 40);
        verify(&mut exact, "gen", 2, EntryType::Ok, 40);
        assert!(read_your_writes(&exact.history).is_ok());

        // A failed write promised nothing, and a failed read showed nothing.
        let mut h = Builder::default();
        write(&mut h, "gen", 1, 40);
        h.invoke("gen", "write", 2, json!({"progress": 90}));
        h.complete("gen", EntryType::Fail, "write", 2, json!({}));
        verify(&mut h, "gen", 3, EntryType::Fail, 10);
        verify(&mut h, "gen", 4, EntryType::Ok, 40);
        assert!(read_your_writes(&h.history).is_ok());
    }

    #[test]
    fn read_your_writes_counts_an_acknowledgement_in_the_same_instant_as_the_read() {
        let mut h = Builder::default();
        write(&mut h, "gen", 1, 40);
        h.invoke("gen", "poll", 2, json!({})).same_instant();
        h.complete("gen", EntryType::Ok, "poll", 2, json!({"read": 25}));
        assert_eq!(indices(&read_your_writes(&h.history)), [0, 2]);
    }

    #[test]
    fn eventually_complete_judges_each_pollers_last_completed_poll() {
        let mut h = Builder::default();
        poll(&mut h, "tab-a", 1, 100, 100);
        poll(&mut h, "tab-b", 2, 85, 85);
        // A poll cut off by the end of the run showed nothing new.
        h.invoke("tab-a", "poll", 3, json!({}));
        let v = eventually_complete(&h.history, 100);
        assert_eq!(indices(&v), [2]);
        let why = v.violation.unwrap();
        assert!(
            why.explanation.starts_with(
                "When the run ended tab-b still showed progress 85: its last poll at 0.003s"
            ),
            "{}",
            why.explanation
        );

        let mut blank = Builder::default();
        blank.invoke("tab", "poll", 1, json!({}));
        blank.complete("tab", EntryType::Info, "poll", 1, json!({}));
        let why = eventually_complete(&blank.history, 100).violation.unwrap();
        assert_eq!(why.ops[0].detail, "left the page showing nothing");
    }
}
