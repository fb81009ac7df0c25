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
        let overwrite = sends
            .iter()
            .filter(|o| o.is_ok() && o.invoke.process != s.invoke.process)
            .find(|o| o.completion.is_some_and(|c| c.time_us > acked_at));
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
        let (out, back) = (
            r.invoke.time_us,
            r.completion.map_or(u64::MAX, |c| c.time_us),
        );
        let before = sends
            .iter()
            .filter(|s| s.is_ok() && s.completion.is_some_and(|c| c.time_us < out))
            .max_by_key(|s| version(s));
        let Some(before) = before else { continue };
        let v0 = version(before);
        let unknown_between = sends
            .iter()
            .any(|s| !s.is_ok() && s.may_have_happened() && s.invoke.time_us < back);
        if unknown_between {
            continue;
        }
        let later: Vec<BTreeSet<String>> = sends
            .iter()
            .filter(|s| {
                s.is_ok() && version(s) > v0 && s.completion.is_some_and(|c| c.time_us < back)
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
mod tests {
    use serde_json::json;

    use super::super::testing::Builder;
    use super::*;
    use crate::history::EntryType;

    fn send(h: &mut Builder, p: &str, op: u32, msg: &str) {
        h.invoke(p, "send", op, json!({"msg": msg}));
        h.complete(
            p,
            EntryType::Ok,
            "send",
            op,
            json!({"msg": msg, "version": op}),
        );
    }

    fn msgs(ids: &[&str]) -> Vec<Value> {
        ids.iter().map(|i| json!({"id": i})).collect()
    }

    #[test]
    fn a_lost_acknowledged_message_is_caught_and_an_unknown_one_is_not() {
        let mut h = Builder::default();
        send(&mut h, "a", 1, "m1");
        send(&mut h, "b", 2, "m2");
        let v = no_lost_messages(&h.history, &msgs(&["m2"]));
        let violation = v.violation.expect("m1 was lost");
        assert_eq!(
            violation.ops.len(),
            2,
            "names the lost send and the overwriting one"
        );
        assert!(no_lost_messages(&h.history, &msgs(&["m1", "m2"])).is_ok());
        let mut u = Builder::default();
        u.invoke("a", "send", 1, json!({"msg": "m1"}));
        u.complete("a", EntryType::Info, "send", 1, json!({"msg": "m1"}));
        assert!(no_lost_messages(&u.history, &msgs(&[])).is_ok());
    }

    #[test]
    fn duplicates_are_caught() {
        assert!(!no_duplicate_messages(&msgs(&["m1", "m2", "m1"])).is_ok());
        assert!(no_duplicate_messages(&msgs(&["m1", "m2"])).is_ok());
    }

    fn save(h: &mut Builder, p: &str, op: u32, msg: &str, saved: &[&str]) {
        h.invoke(p, "send", op, json!({"msg": msg}));
        h.complete(
            p,
            EntryType::Ok,
            "send",
            op,
            json!({"msg": msg, "version": op + 1, "saved": saved}),
        );
    }

    fn reauth(h: &mut Builder, p: &str, op: u32, view: &[&str]) {
        h.invoke(p, "reauth", op, json!({}));
        h.complete(p, EntryType::Ok, "reauth", op, json!({"view": view}));
    }

    #[test]
    fn a_stale_view_after_sign_in_is_caught() {
        let mut h = Builder::default();
        save(&mut h, "a", 1, "m1", &["m1"]);
        reauth(&mut h, "b", 2, &[]);
        assert!(!survives_reauth(&h.history).is_ok());
        let mut g = Builder::default();
        save(&mut g, "a", 1, "m1", &["m1"]);
        reauth(&mut g, "b", 2, &["m1"]);
        assert!(survives_reauth(&g.history).is_ok());
    }

    #[test]
    fn a_message_the_server_lost_meanwhile_is_not_blamed_on_the_sign_in() {
        let mut h = Builder::default();
        save(&mut h, "a", 1, "m1", &["m1"]);
        h.invoke("b", "reauth", 3, json!({}));
        // While b is signed out, c overwrites the array without m1 (a lost message, which
        // is no_lost_messages' business), so b cannot be expected to show it.
        save(&mut h, "c", 2, "m2", &["m2"]);
        h.complete("b", EntryType::Ok, "reauth", 3, json!({"view": ["m2"]}));
        assert!(survives_reauth(&h.history).is_ok());
    }
}
