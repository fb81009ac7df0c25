//! Tests of the chat invariants.

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

/// A send acknowledged after the sign-in finished, with `attempts` attempts.
fn late_save(h: &mut Builder, p: &str, op: u32, saved: &[&str], attempts: u32) {
    h.complete(
        p,
        EntryType::Ok,
        "send",
        op,
        json!({"msg": "mx", "version": op + 1, "saved": saved, "attempts": attempts}),
    );
}

#[test]
fn a_save_in_flight_over_the_sign_in_may_have_removed_a_message() {
    // b signs out after m1 is saved; c's save is in flight when b's sign-in finishes.
    let run = |saved: &[&str], attempts: u32| {
        let mut h = Builder::default();
        save(&mut h, "a", 1, "m1", &["m1"]);
        h.invoke("b", "reauth", 2, json!({}));
        h.invoke("c", "send", 3, json!({"msg": "mx"}));
        h.complete("b", EntryType::Ok, "reauth", 2, json!({"view": ["mx"]}));
        late_save(&mut h, "c", 3, saved, attempts);
        survives_reauth(&h.history)
    };
    // Its one commit held m1: m1 was on the server throughout, so b's view is stale.
    assert!(!run(&["m1", "mx"], 1).is_ok());
    // Its one commit dropped m1 (another checker's business), perhaps before b's read.
    assert!(run(&["mx"], 1).is_ok());
    // A retried save may have written anything on its first attempt.
    assert!(run(&["m1", "mx"], 3).is_ok());
}

#[test]
fn a_save_acknowledged_before_the_sign_in_finished_is_not_in_flight() {
    let mut h = Builder::default();
    save(&mut h, "a", 1, "m1", &["m1"]);
    h.invoke("b", "reauth", 2, json!({}));
    h.invoke("c", "send", 3, json!({"msg": "mx"}));
    late_save(&mut h, "c", 3, &["m1", "mx"], 3);
    h.complete("b", EntryType::Ok, "reauth", 2, json!({"view": ["mx"]}));
    assert!(
        !survives_reauth(&h.history).is_ok(),
        "c's last write, acknowledged before b's sign-in finished, held m1"
    );
}
