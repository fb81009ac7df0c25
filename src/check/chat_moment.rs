//! The chat invariants judged at every commit, not only on the final conversation: what a
//! device was shown when it was shown it, and what the server held at each version, from
//! the audit of every committed image of the conversation.
//!
//! - a send shown as sent must have been saved: the image of the version its save reported
//!   holds the message (a send that reports no version needs some image holding it);
//! - no committed image, not only the last one, holds a message twice;
//! - a send shown as failed was not saved before the failure was shown.

use std::collections::BTreeSet;

use serde_json::Value;

use super::chat::{NO_DUPLICATE_MESSAGES, NO_LOST_MESSAGES};
use super::{secs, Verdict, Witness};
use crate::backend::Row;
use crate::history::{EntryType, History};

fn messages(image: &Row) -> &[Value] {
    image
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn holds(image: &Row, msg: &Value) -> bool {
    messages(image).iter().any(|m| &m["id"] == msg)
}

/// `no_lost_messages` at the moment of the acknowledgement: every send shown as sent was
/// in the image of the version it reported (or, reporting none, in some image). `images`
/// are the conversation's committed images in commit order; with none (no audit) there
/// is nothing to judge.
pub fn sent_was_saved(history: &History, images: &[Row]) -> Verdict {
    if images.is_empty() {
        return Verdict::holds(NO_LOST_MESSAGES);
    }
    for s in history
        .operations_named("send")
        .iter()
        .filter(|o| o.is_ok())
    {
        let msg = &s.invoke.value["msg"];
        let claimed = s.result().get("version").filter(|v| !v.is_null());
        let backed = images.iter().any(|image| {
            claimed.is_none_or(|v| image.get("version") == Some(v)) && holds(image, msg)
        });
        if !backed {
            let at = claimed.map_or("any version".to_string(), |v| format!("version {v}"));
            return Verdict::violated(
                NO_LOST_MESSAGES,
                format!(
                    "{} was shown message {msg} as sent at {}, but the server never held it \
                     at {at}: the device said \"sent\" before any save of it was acknowledged.",
                    s.invoke.process,
                    secs(s.completion.map_or(0, |c| c.time_us)),
                ),
                vec![Witness::of(s, format!("send {msg}, shown as sent"))],
            );
        }
    }
    Verdict::holds(NO_LOST_MESSAGES)
}

/// A send shown as failed ("not sent") must not have been saved before the device said so:
/// no image the server had committed by then holds its message. What had been committed
/// by the moment of the failure is known from the history alone: the highest version any
/// acknowledged send reported before it (each such version's image was committed by
/// then, and images commit in version order). A message exists only on its own device
/// until one of that device's saves commits it, so an image holding it that early means
/// the failing send's own save committed, and the user, told it was not sent, sends it
/// again. A failed message saved later (with the device's next send) is not judged.
/// Reported under `name` (the scenario's `failures_justified`).
pub fn failed_was_not_saved(history: &History, images: &[Row], name: &str) -> Verdict {
    if images.is_empty() {
        return Verdict::holds(name);
    }
    let sends = history.operations_named("send");
    for s in sends.iter().filter(|o| o.outcome() == EntryType::Fail) {
        let Some(shown) = s.completion else { continue };
        let msg = &s.invoke.value["msg"];
        let committed = sends
            .iter()
            .filter(|o| o.is_ok() && o.completion.is_some_and(|c| c.precedes(shown)))
            .filter_map(|o| o.result().get("version").and_then(Value::as_i64))
            .max();
        let Some(committed) = committed else { continue };
        let early = images.iter().find(|image| {
            image
                .get("version")
                .and_then(Value::as_i64)
                .is_some_and(|v| v <= committed)
                && holds(image, msg)
        });
        if let Some(image) = early {
            return Verdict::violated(
                name,
                format!(
                    "{} was told at {} that message {msg} was not sent, but the server already \
                     held it (version {}): a save of it had committed, and the user will send \
                     it again.",
                    s.invoke.process,
                    secs(shown.time_us),
                    image.get("version").unwrap_or(&Value::Null),
                ),
                vec![Witness::of(s, format!("send {msg}, shown as not sent"))],
            );
        }
    }
    Verdict::holds(name)
}

/// `no_duplicate_messages` on every committed image: a duplicate a later merge removed was
/// still shown to every device that loaded the conversation in between.
pub fn never_duplicated(images: &[Row]) -> Verdict {
    for (n, image) in images.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for m in messages(image) {
            let id = m["id"].to_string();
            if !seen.insert(id.clone()) {
                return Verdict::violated(
                    NO_DUPLICATE_MESSAGES,
                    format!(
                        "Message {id} appears twice in the conversation as committed at \
                         version {} (commit {} of the run): a retried append added it again.",
                        image.get("version").unwrap_or(&Value::Null),
                        n + 1
                    ),
                    vec![],
                );
            }
        }
    }
    Verdict::holds(NO_DUPLICATE_MESSAGES)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::check::testing::Builder;
    use crate::history::EntryType;

    fn image(version: i64, ids: &[&str]) -> Row {
        let msgs: Vec<Value> = ids.iter().map(|i| json!({"id": i})).collect();
        json!({"id": "c1", "version": version, "messages": msgs})
            .as_object()
            .cloned()
            .unwrap()
    }

    fn sent(b: &mut Builder, op: u32, msg: &str, version: Value) {
        b.invoke("d1", "send", op, json!({"msg": msg}));
        b.complete(
            "d1",
            EntryType::Ok,
            "send",
            op,
            json!({"msg": msg, "version": version}),
        );
    }

    #[test]
    fn a_send_shown_as_sent_must_be_in_the_version_it_reported() {
        let mut b = Builder::default();
        sent(&mut b, 1, "m1", json!(2));
        let saved = [image(1, &[]), image(2, &["m1"])];
        assert!(sent_was_saved(&b.history, &saved).is_ok());
        // Reported the version it had before its save: that image lacks it, even though a
        // later save put it on the server.
        let early = [image(1, &[]), image(2, &[]), image(3, &["m1"])];
        let v = sent_was_saved(&b.history, &early)
            .violation
            .expect("shown too early");
        assert!(v.explanation.contains("version 2"), "{}", v.explanation);
        assert!(
            sent_was_saved(&b.history, &[]).is_ok(),
            "no audit, nothing to judge"
        );
        let mut unversioned = Builder::default();
        sent(&mut unversioned, 1, "m1", Value::Null);
        assert!(sent_was_saved(&unversioned.history, &early).is_ok());
        assert!(!sent_was_saved(&unversioned.history, &[image(1, &[])]).is_ok());
    }

    #[test]
    fn a_send_shown_as_failed_must_not_have_been_saved_by_then() {
        // d1's send of m1 fails after d2's send was acknowledged at version 3.
        let judge = |images: &[Row]| {
            let mut b = Builder::default();
            b.invoke("d1", "send", 1, json!({"msg": "m1"}));
            b.invoke("d2", "send", 2, json!({"msg": "m2"}));
            b.complete("d2", EntryType::Ok, "send", 2, json!({"version": 3}));
            b.complete("d1", EntryType::Fail, "send", 1, json!({}));
            failed_was_not_saved(&b.history, images, "failures_justified")
        };
        let lied = [image(2, &["m1"]), image(3, &["m1", "m2"])];
        let verdict = judge(&lied);
        assert_eq!(verdict.invariant, "failures_justified");
        let v = verdict
            .violation
            .expect("m1 was saved before it was shown failed");
        assert!(v.explanation.contains("version 2"), "{}", v.explanation);
        // Saved only after the failure was shown (the device's next send carried it).
        assert!(judge(&[image(3, &["m2"]), image(4, &["m2", "m1"])]).is_ok());
        // ... even when that next send's acknowledgement, after the failure, is in the
        // history: only what was acknowledged before the failure was shown counts.
        let mut later = Builder::default();
        later.invoke("d1", "send", 1, json!({"msg": "m1"}));
        later.invoke("d2", "send", 2, json!({"msg": "m2"}));
        later.complete("d2", EntryType::Ok, "send", 2, json!({"version": 3}));
        later.complete("d1", EntryType::Fail, "send", 1, json!({}));
        later.invoke("d1", "send", 3, json!({"msg": "m3"}));
        later.complete("d1", EntryType::Ok, "send", 3, json!({"version": 4}));
        let resent = [image(3, &["m2"]), image(4, &["m2", "m1", "m3"])];
        assert!(failed_was_not_saved(&later.history, &resent, "f").is_ok());
        assert!(judge(&[]).is_ok(), "no audit, nothing to judge");
        // An unknown outcome may have been saved; only a definite failure is judged.
        let mut unknown = Builder::default();
        unknown.invoke("d1", "send", 1, json!({"msg": "m1"}));
        unknown.invoke("d2", "send", 2, json!({"msg": "m2"}));
        unknown.complete("d2", EntryType::Ok, "send", 2, json!({"version": 3}));
        unknown.complete("d1", EntryType::Info, "send", 1, json!({}));
        assert!(failed_was_not_saved(&unknown.history, &lied, "f").is_ok());
        // With nothing acknowledged before the failure, nothing is known committed by then.
        let mut alone = Builder::default();
        alone.invoke("d1", "send", 1, json!({"msg": "m1"}));
        alone.complete("d1", EntryType::Fail, "send", 1, json!({}));
        assert!(failed_was_not_saved(&alone.history, &lied, "f").is_ok());
    }

    #[test]
    fn a_duplicate_in_any_committed_image_is_caught() {
        assert!(never_duplicated(&[image(1, &["a"]), image(2, &["a", "b"])]).is_ok());
        let healed = [image(1, &["a", "a"]), image(2, &["a"])];
        assert!(!never_duplicated(&healed).is_ok());
    }
}
