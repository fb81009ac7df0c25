//! The chat invariants judged at every commit, not only on the final conversation: what a
//! device was shown when it was shown it, and what the server held at each version, from
//! the audit of every committed image of the conversation.
//!
//! - a send shown as sent must have been saved: the image of the version its save reported
//!   holds the message (a send that reports no version needs some image holding it);
//! - no committed image, not only the last one, holds a message twice.

use std::collections::BTreeSet;

use serde_json::Value;

use super::chat::{NO_DUPLICATE_MESSAGES, NO_LOST_MESSAGES};
use super::{secs, Verdict, Witness};
use crate::backend::Row;
use crate::history::History;

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
    fn a_duplicate_in_any_committed_image_is_caught() {
        assert!(never_duplicated(&[image(1, &["a"]), image(2, &["a", "b"])]).is_ok());
        let healed = [image(1, &["a", "a"]), image(2, &["a"])];
        assert!(!never_duplicated(&healed).is_ok());
    }
}
