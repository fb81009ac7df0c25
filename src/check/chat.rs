//! The chat invariants: `no_lost_messages`, `no_duplicate_messages`, `survives_reauth`,
//! judged against the final conversation (a JSON array of messages with an `id`).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Verdict, Witness};
use crate::history::History;

/// Every acknowledged message is in the final conversation.
pub const NO_LOST_MESSAGES: &str = "no_lost_messages";
/// No message id appears twice in the final conversation.
pub const NO_DUPLICATE_MESSAGES: &str = "no_duplicate_messages";
/// After signing back in, a device shows every message acknowledged before it signed in
/// that the server still has.
pub const SURVIVES_REAUTH: &str = "survives_reauth";

fn ids(messages: &[Value]) -> BTreeSet<String> {
    messages.iter().map(|m| m["id"].to_string()).collect()
}

/// Checks `no_lost_messages`.
pub fn no_lost_messages(history: &History, messages: &[Value]) -> Verdict {
    let present = ids(messages);
    let sends = history.operations_named("send");
    for s in sends.iter().filter(|o| o.is_ok()) {
        let msg = &s.invoke.value["msg"];
        if present.contains(&msg.to_string()) {
            continue;
        }
        let acked_at = s.completion.map_or(0, |c| c.time_us);
        // The first acknowledged save by another device after this one: the likely overwrite.
        // After in the history, since saves acknowledged in one tick share a time.
        let overwrite = sends
            .iter()
            .filter(|o| o.is_ok() && o.invoke.process != s.invoke.process)
            .find(|o| o.completion.is_some_and(|c| s.last().precedes(c)));
        let mut ops = vec![Witness::of(s, format!("send {msg}, acknowledged"))];
        let how = match overwrite {
            Some(o) => {
                ops.push(Witness::of(
                    o,
                    format!(
                        "send {} saved its own copy of the whole array",
                        o.invoke.value["msg"]
                    ),
                ));
                format!(
                    " {} then saved its whole message array, built without it, over the server's copy.",
                    o.invoke.process
                )
            }
            None => String::new(),
        };
        return Verdict::violated(
            NO_LOST_MESSAGES,
            format!(
                "Message {msg} from {} was acknowledged at {} but is not in the final conversation.{how}",
                s.invoke.process,
                super::secs(acked_at)
            ),
            ops,
        );
    }
    Verdict::holds(NO_LOST_MESSAGES)
}

/// Checks `no_duplicate_messages`.
pub fn no_duplicate_messages(messages: &[Value]) -> Verdict {
    let mut seen = BTreeSet::new();
    for m in messages {
        let id = m["id"].to_string();
        if !seen.insert(id.clone()) {
            return Verdict::violated(
                NO_DUPLICATE_MESSAGES,
                format!("Message {id} appears more than once in the final conversation: a merge or a retried append added it again."),
                vec![],
            );
        }
    }
    Verdict::holds(NO_DUPLICATE_MESSAGES)
}

/// Checks `survives_reauth`: the server's content when the device signed out is known
/// from the acknowledged save with the highest version before then (`saved`); every
/// message in it must be shown after signing back in, unless a later acknowledged save
/// (or one with an unknown outcome) before the sign-in finished could have removed it.
/// A save still in flight when the sign-in finished may have committed before the
/// reload read: with one attempt (`attempts`, see the history conventions) its one
/// commit wrote its `saved`; with more, or none known, an earlier attempt may have
/// written anything, so that sign-in cannot be judged.
/// Before means earlier in the history: the clock ticks, so a save and a sign-in often
/// share an instant, and only the history says which came first.
pub fn survives_reauth(history: &History) -> Verdict {
    let sends = history.operations_named("send");
    let version = |o: &crate::history::Operation<'_>| o.result()["version"].as_i64();
    let saved = |o: &crate::history::Operation<'_>| -> BTreeSet<String> {
        o.result()["saved"]
            .as_array()
            .map(|v| v.iter().map(Value::to_string).collect())
            .unwrap_or_default()
    };
    for r in history
        .operations_named("reauth")
        .iter()
        .filter(|o| o.is_ok())
    {
        // An ok sign-in has a completion: the moment the device is back.
        let Some(back) = r.completion else { continue };
        let before = sends
            .iter()
            .filter(|s| s.is_ok() && s.completion.is_some_and(|c| c.precedes(r.invoke)))
            .max_by_key(|s| version(s));
        let Some(before) = before else { continue };
        let v0 = version(before);
        let in_flight = |s: &crate::history::Operation<'_>| {
            s.invoke.precedes(back) && s.completion.is_none_or(|c| back.precedes(c))
        };
        let one_attempt = |s: &crate::history::Operation<'_>| s.result()["attempts"] == 1;
        let unknown_between = sends.iter().any(|s| {
            let unknown = !s.is_ok() && s.may_have_happened() && s.invoke.precedes(back);
            unknown || (s.is_ok() && in_flight(s) && !one_attempt(s))
        });
        if unknown_between {
            continue;
        }
        let later: Vec<BTreeSet<String>> = sends
            .iter()
            .filter(|s| {
                let done = s.completion.is_some_and(|c| c.precedes(back));
                s.is_ok() && version(s) > v0 && (done || in_flight(s))
            })
            .map(saved)
            .collect();
        let view: BTreeSet<String> = r.result()["view"]
            .as_array()
            .map(|v| v.iter().map(Value::to_string).collect())
            .unwrap_or_default();
        let missing = saved(before)
            .into_iter()
            .find(|m| !view.contains(m) && later.iter().all(|l| l.contains(m)));
        if let Some(msg) = missing {
            return Verdict::violated(
                SURVIVES_REAUTH,
                format!(
                    "After signing back in, {} did not show message {msg}, which the server held when it signed out and still held when it signed in: the device rebuilt its screen from stale local data.",
                    r.invoke.process
                ),
                vec![
                    Witness::of(before, format!("send {}: the server's copy before the sign-out holds {msg}", before.invoke.value["msg"])),
                    Witness::of(r, format!("sign out and in; shows {} messages", view.len())),
                ],
            );
        }
    }
    Verdict::holds(SURVIVES_REAUTH)
}

#[cfg(test)]
#[path = "chat_tests.rs"]
mod tests;
