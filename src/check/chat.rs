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
        let acked = s.last().index;
        let overwrite = sends
            .iter()
            .filter(|o| o.is_ok() && o.invoke.process != s.invoke.process)
            .find(|o| o.completion.is_some_and(|c| c.index > acked));
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
        let (out, back) = (r.invoke.index, r.completion.map_or(usize::MAX, |c| c.index));
        let before = sends
            .iter()
            .filter(|s| s.is_ok() && s.completion.is_some_and(|c| c.index < out))
            .max_by_key(|s| version(s));
        let Some(before) = before else { continue };
        let v0 = version(before);
        let unknown_between = sends
            .iter()
            .any(|s| !s.is_ok() && s.may_have_happened() && s.invoke.index < back);
        if unknown_between {
            continue;
        }
        let later: Vec<BTreeSet<String>> = sends
            .iter()
            .filter(|s| {
                s.is_ok() && version(s) > v0 && s.completion.is_some_and(|c| c.index < back)
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

    fn indices(v: &Verdict) -> Vec<usize> {
        let why = v.violation.as_ref().expect("a violation");
        why.ops.iter().map(|w| w.index).collect()
    }

    #[test]
    fn a_lost_message_names_the_first_later_save_by_another_device() {
        let mut h = Builder::default();
        // Acknowledged before m1: it cannot have overwritten it.
        send(&mut h, "b", 1, "m0");
        send(&mut h, "a", 1, "m1");
        // m1's own device saved again, with m1 in its array.
        send(&mut h, "a", 2, "m3");
        h.invoke("b", "send", 2, json!({"msg": "m4"}));
        h.complete("b", EntryType::Fail, "send", 2, json!({}));
        send(&mut h, "c", 1, "m2");
        let v = no_lost_messages(&h.history, &msgs(&["m0", "m2", "m3"]));
        assert_eq!(indices(&v), [2, 8]);
        let why = v.violation.unwrap();
        assert_eq!(
            why.explanation,
            "Message \"m1\" from a was acknowledged at 0.004s but is not in the final \
             conversation. c then saved its whole message array, built without it, over the \
             server's copy."
        );
        assert_eq!(why.ops[0].detail, "send \"m1\", acknowledged");
        assert_eq!(
            why.ops[1].detail,
            "send \"m2\" saved its own copy of the whole array"
        );
    }

    #[test]
    fn a_stale_view_names_the_save_the_server_held_and_the_sign_in() {
        let mut h = Builder::default();
        save(&mut h, "a", 1, "m1", &["m1"]);
        reauth(&mut h, "b", 1, &[]);
        let v = survives_reauth(&h.history);
        assert_eq!(indices(&v), [0, 2]);
        let why = v.violation.unwrap();
        assert!(
            why.explanation
                .starts_with("After signing back in, b did not show message \"m1\","),
            "{}",
            why.explanation
        );
        assert_eq!(
            why.ops[0].detail,
            "send \"m1\": the server's copy before the sign-out holds \"m1\""
        );
        assert_eq!(why.ops[1].detail, "sign out and in; shows 0 messages");
    }

    #[test]
    fn survives_reauth_orders_saves_and_sign_ins_in_one_instant_by_the_history() {
        // Acknowledged in the tick the sign-out began, but before it.
        let mut h = Builder::default();
        save(&mut h, "a", 1, "m1", &["m1"]);
        h.invoke("b", "reauth", 1, json!({})).same_instant();
        h.complete("b", EntryType::Ok, "reauth", 1, json!({"view": []}));
        assert_eq!(indices(&survives_reauth(&h.history)), [0, 2]);

        // c's save that dropped m1 was acknowledged before the sign-in finished, in its tick.
        let mut g = Builder::default();
        save(&mut g, "a", 1, "m1", &["m1"]);
        g.invoke("b", "reauth", 1, json!({}));
        save(&mut g, "c", 2, "m2", &["m2"]);
        g.complete("b", EntryType::Ok, "reauth", 1, json!({"view": ["m2"]}))
            .same_instant();
        assert!(survives_reauth(&g.history).is_ok());

        // A save of unknown outcome begun in the tick the sign-in finished, but before it.
        let mut u = Builder::default();
        save(&mut u, "a", 1, "m1", &["m1"]);
        u.invoke("b", "reauth", 1, json!({}));
        u.invoke("c", "send", 1, json!({"msg": "m2"}));
        u.complete("b", EntryType::Ok, "reauth", 1, json!({"view": []}))
            .same_instant();
        assert!(survives_reauth(&u.history).is_ok());
    }

    #[test]
    fn only_a_save_that_may_have_happened_before_the_sign_in_excuses_a_missing_message() {
        let during = |kind: EntryType| {
            let mut h = Builder::default();
            save(&mut h, "a", 1, "m1", &["m1"]);
            h.invoke("b", "reauth", 1, json!({}));
            h.invoke("c", "send", 1, json!({"msg": "m2"}));
            h.complete("c", kind, "send", 1, json!({}));
            h.complete("b", EntryType::Ok, "reauth", 1, json!({"view": []}));
            survives_reauth(&h.history)
        };
        assert!(during(EntryType::Info).is_ok());
        assert_eq!(indices(&during(EntryType::Fail)), [0, 2]);

        let mut after = Builder::default();
        save(&mut after, "a", 1, "m1", &["m1"]);
        reauth(&mut after, "b", 1, &[]);
        after.invoke("c", "send", 1, json!({"msg": "m2"}));
        after.complete("c", EntryType::Info, "send", 1, json!({}));
        assert_eq!(indices(&survives_reauth(&after.history)), [0, 2]);
    }

    #[test]
    fn only_a_newer_save_acknowledged_before_the_sign_in_finished_can_drop_a_message() {
        // An older save without m1 says nothing about the server's copy after m1.
        let mut older = Builder::default();
        save(&mut older, "a", 1, "m0", &["m0"]);
        save(&mut older, "a", 2, "m1", &["m0", "m1"]);
        reauth(&mut older, "b", 1, &["m0"]);
        assert_eq!(indices(&survives_reauth(&older.history)), [2, 4]);

        // A save with the same version is not newer: the server's copy is the one held.
        let mut same = Builder::default();
        save(&mut same, "a", 1, "m1", &["m1"]);
        save(&mut same, "c", 1, "m2", &["m2"]);
        reauth(&mut same, "b", 1, &[]);
        let v = survives_reauth(&same.history);
        assert_eq!(indices(&v), [2, 4]);
        assert!(v.violation.unwrap().explanation.contains("\"m2\""));

        // A save acknowledged after the sign-in cannot excuse what the device showed then.
        let mut late = Builder::default();
        save(&mut late, "a", 1, "m1", &["m1"]);
        reauth(&mut late, "b", 1, &[]);
        save(&mut late, "c", 2, "m2", &["m2"]);
        assert_eq!(indices(&survives_reauth(&late.history)), [0, 2]);
    }

    #[test]
    fn a_save_acknowledged_after_the_sign_out_is_not_what_the_server_held() {
        let mut h = Builder::default();
        save(&mut h, "a", 1, "m1", &["m1"]);
        reauth(&mut h, "b", 1, &["m1"]);
        save(&mut h, "a", 3, "m9", &["m1", "m9"]);
        assert!(survives_reauth(&h.history).is_ok());
    }
}
