//! `failures_justified`: refusal is not safety. Every failure a user was shown (an
//! operation that completed `fail`, or `info` with an error category: "not sent", "not
//! saved yet", "outcome unknown") must be explained by something the history shows
//! happened to that user while it was in flight:
//!
//! - a fault that struck the client (a link of its, its device) or a server (a fault whose
//!   places name no client of the run, such as an outage), from the fault to its healing;
//! - a fault of that kind that struck another operation of the same client which was still
//!   in flight beside this one (a browser's sync worker still retrying what a partition
//!   interrupted, while a tab waits for it);
//! - for an `auth` error, a revocation of sessions before it was shown: the revoked session
//!   fails its next refresh, however much later that comes;
//! - for the categories a scenario says contention can cause (a `conflict`, for a
//!   compare-and-set), another client's operation of a contending function on the same key
//!   in flight at the same time.
//!
//! An access token merely expiring is no excuse: the history does not record it, and a
//! client refreshes it without bothering the user. Code that shows every operation as
//! failed, or gives up where nobody contended, is caught here although it never loses or
//! duplicates anything. Identity (the key) comes from the invoke values, never from what
//! the client wrote. A failure the user was not shown (no category) is left to
//! `no_silent_failure`.

use std::collections::BTreeSet;

use super::moments::{self, end_us, overlap, span, Window};
use super::{secs, show, Verdict, Witness};
use crate::backend::ErrorCategory;
use crate::history::{EntryType, History, Operation};

/// The invariant's usual name.
pub const NAME: &str = "failures_justified";

/// Faults that can make a request fail, each with the fault that heals it.
pub const FAULTS: [(&str, &str); 9] = [
    ("partition", "repair"),
    ("partition_oneway", "repair_oneway"),
    ("hold", "release"),
    ("slow", "restore"),
    ("disconnect", "reconnect"),
    ("offline", "online"),
    ("crash", "restart"),
    ("outage", "recover"),
    ("replica_lag", "replica_restore"),
];

/// The fault that takes a user's sessions away; it has no healing.
pub const REVOCATION: &str = "revoke_sessions";

/// Operations of `by` (other clients') that can make an operation of `f` fail with one of
/// `shows` when they are in flight at once on the same `key`.
#[derive(Debug, Clone)]
struct Contention {
    f: String,
    by: Vec<String>,
    key: Option<String>,
    shows: Vec<ErrorCategory>,
}

/// Which operations are judged and what contention may excuse; see the module's text.
///
/// ```
/// use faultline::backend::ErrorCategory;
/// use faultline::check::refusals::Refusals;
/// let rule = Refusals::of(&["send", "reauth"])
///     .contended_by("send", &["send"], None, &[ErrorCategory::Conflict]);
/// # let _ = rule;
/// ```
#[derive(Debug, Clone)]
pub struct Refusals {
    fs: Vec<String>,
    contention: Vec<Contention>,
}

impl Refusals {
    /// Judges every failure shown for operations of the functions `fs`; with no
    /// contention declared, only faults and revocations excuse one.
    pub fn of(fs: &[&str]) -> Self {
        Self {
            fs: fs.iter().map(|f| f.to_string()).collect(),
            contention: Vec::new(),
        }
    }

    /// Declares that another client's operation of one of `by`, in flight at the same time
    /// as an operation of `f` and (when `key` names an invoke field) on the same value of
    /// it, may make that operation fail with one of `shows`. `key: None` means every such
    /// operation contends (one shared record).
    pub fn contended_by(
        mut self,
        f: &str,
        by: &[&str],
        key: Option<&str>,
        shows: &[ErrorCategory],
    ) -> Self {
        self.contention.push(Contention {
            f: f.to_string(),
            by: by.iter().map(|b| b.to_string()).collect(),
            key: key.map(str::to_string),
            shows: shows.to_vec(),
        });
        self
    }

    /// Checks `history`, naming the verdict `name`.
    pub fn check(&self, name: &str, history: &History) -> Verdict {
        let ops = history.operations();
        let end = end_us(history);
        let clients: BTreeSet<&str> = ops.iter().map(|o| o.invoke.process.as_str()).collect();
        let windows: Vec<Window> = moments::windows(history, &FAULTS);
        let revoked: Vec<u64> = history
            .entries
            .iter()
            .filter(|e| e.kind == EntryType::Fault && e.f == REVOCATION)
            .map(|e| e.time_us)
            .collect();
        let struck = |op: &Operation<'_>| {
            let me = op.invoke.process.as_str();
            let s = span(op, end);
            windows
                .iter()
                .any(|w| (w.involves(me) || !clients.iter().any(|c| w.involves(c))) && w.during(s))
        };
        for op in ops.iter().filter(|o| self.fs.contains(&o.invoke.f)) {
            let Some((shown_at, category, message)) = shown_failure(op) else {
                continue;
            };
            let s = span(op, end);
            let beside = ops.iter().any(|o| {
                o.invoke.index != op.invoke.index
                    && o.invoke.process == op.invoke.process
                    && overlap(span(o, end), s)
                    && struck(o)
            });
            let revocation =
                category == ErrorCategory::Auth && revoked.iter().any(|t| *t <= shown_at);
            if struck(op) || beside || revocation || self.contended(op, &ops, end, category) {
                continue;
            }
            let why = format!(
                "{} was told at {} that its `{}` {} failed ({category:?}: {message}), but \
                 nothing in the history explains it: no fault struck {}, a server or another \
                 operation of its own in flight while it was ({}..{}), {}and {}. The work could have been done, and the \
                 user was refused instead.",
                op.invoke.process,
                secs(shown_at),
                op.invoke.f,
                show(&op.invoke.value),
                op.invoke.process,
                secs(s.0),
                secs(s.1),
                if category == ErrorCategory::Auth {
                    "no session had been revoked, "
                } else {
                    ""
                },
                self.nobody(op, category),
            );
            let detail = format!("{} shown {category:?}", op.invoke.f);
            return Verdict::violated(name, why, vec![Witness::of(op, detail)]);
        }
        Verdict::holds(name)
    }

    /// True when another client's contending operation overlapped `op` on its key.
    fn contended(
        &self,
        op: &Operation<'_>,
        ops: &[Operation<'_>],
        end: u64,
        category: ErrorCategory,
    ) -> bool {
        let s = span(op, end);
        self.contention
            .iter()
            .filter(|c| c.f == op.invoke.f && c.shows.contains(&category))
            .any(|c| {
                ops.iter().any(|o| {
                    o.invoke.process != op.invoke.process
                        && c.by.contains(&o.invoke.f)
                        && c.key
                            .as_ref()
                            .is_none_or(|k| o.invoke.value.get(k) == op.invoke.value.get(k))
                        && overlap(span(o, end), s)
                })
            })
    }

    /// Says which contention was looked for and not found.
    fn nobody(&self, op: &Operation<'_>, category: ErrorCategory) -> String {
        let by: Vec<&str> = self
            .contention
            .iter()
            .filter(|c| c.f == op.invoke.f && c.shows.contains(&category))
            .flat_map(|c| c.by.iter().map(String::as_str))
            .collect();
        if by.is_empty() {
            format!(
                "contention cannot cause a {category:?} error of `{}` here",
                op.invoke.f
            )
        } else {
            format!(
                "no other client had a `{}` of the same record in flight",
                by.join("` or `")
            )
        }
    }
}

/// When a failure was shown, its category and message; `None` for an operation that
/// succeeded, never completed, or failed without telling the user.
fn shown_failure<'a>(op: &Operation<'a>) -> Option<(u64, ErrorCategory, &'a str)> {
    let c = op.completion?;
    let e = c.error.as_ref()?;
    (c.kind != EntryType::Ok).then_some((c.time_us, e.category, e.message.as_str()))
}

#[cfg(test)]
#[path = "refusals_tests.rs"]
mod tests;
