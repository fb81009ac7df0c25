use serde_json::{json, Value};

use super::*;
use crate::check::testing::{state, Builder};
use crate::history::OpError;

/// Gives the last entry the time `us`: the boundary tests need exact instants.
fn at(b: &mut Builder, us: u64) -> &mut Builder {
    b.history.entries.last_mut().expect("an entry").time_us = us;
    b
}

fn invoke(b: &mut Builder, p: &str, f: &str, op: u32, value: Value, us: u64) {
    b.invoke(p, f, op, value);
    at(b, us);
}

fn done(
    b: &mut Builder,
    p: &str,
    f: &str,
    op: u32,
    kind: EntryType,
    shown: Option<ErrorCategory>,
    us: u64,
) {
    b.complete(p, kind, f, op, json!({}));
    at(b, us).history.entries.last_mut().unwrap().error = shown.map(|category| OpError {
        category,
        message: "try again".into(),
    });
}

/// `p`'s `f` from `from` to `to`, failed with `shown`.
fn failed(b: &mut Builder, p: &str, f: &str, op: u32, shown: ErrorCategory, from: u64, to: u64) {
    invoke(b, p, f, op, json!({"key": 1}), from);
    done(b, p, f, op, EntryType::Fail, Some(shown), to);
}

fn fault(b: &mut Builder, verb: &str, value: Value, us: u64) {
    b.fault(verb, value);
    at(b, us);
}

fn chat() -> Refusals {
    Refusals::of(&["send", "reauth"]).contended_by(
        "send",
        &["send"],
        None,
        &[ErrorCategory::Conflict],
    )
}

fn holds(rule: &Refusals, b: &Builder) -> bool {
    rule.check(NAME, &b.history).is_ok()
}

const NET: ErrorCategory = ErrorCategory::Network;

#[test]
fn a_failure_with_nothing_behind_it_is_caught_and_explained() {
    let mut b = Builder::default();
    failed(
        &mut b,
        "client-1",
        "send",
        1,
        ErrorCategory::Conflict,
        1_000_000,
        2_500_000,
    );
    let v = chat().check(NAME, &b.history);
    assert_eq!(v.invariant, NAME);
    let v = v.violation.expect("an unjustified failure");
    assert_eq!(v.ops.len(), 1);
    assert_eq!(
        (v.ops[0].process.as_str(), v.ops[0].f.as_str()),
        ("client-1", "send")
    );
    let why = &v.explanation;
    for part in [
        "client-1 was told at 2.500s",
        "`send`",
        "Conflict: try again",
        "(1.000s..2.500s)",
        "no other client had a `send`",
    ] {
        assert!(why.contains(part), "{part}: {why}");
    }
    assert!(!why.contains("revoked"), "{why}");
    let none = Refusals::of(&["save"]);
    let mut save = Builder::default();
    failed(&mut save, "b1", "save", 1, ErrorCategory::Auth, 10, 20);
    let why = none
        .check("x", &save.history)
        .violation
        .expect("refused")
        .explanation;
    assert!(
        why.contains("no session had been revoked")
            && why.contains("contention cannot cause a Auth error of `save`"),
        "{why}"
    );
}

#[test]
fn only_failures_shown_to_the_user_of_judged_functions_count() {
    let mut b = Builder::default();
    invoke(&mut b, "client-1", "send", 1, json!({}), 10);
    done(&mut b, "client-1", "send", 1, EntryType::Ok, Some(NET), 20);
    invoke(&mut b, "client-1", "send", 2, json!({}), 30);
    done(&mut b, "client-1", "send", 2, EntryType::Fail, None, 40);
    failed(&mut b, "client-1", "load", 3, NET, 50, 60);
    invoke(&mut b, "client-1", "send", 4, json!({}), 70);
    assert!(holds(&chat(), &b), "ok, silent, not judged, unfinished");
    invoke(&mut b, "client-2", "reauth", 5, json!({}), 80);
    done(
        &mut b,
        "client-2",
        "reauth",
        5,
        EntryType::Info,
        Some(NET),
        90,
    );
    assert!(
        !holds(&chat(), &b),
        "an unknown outcome shown with an error counts"
    );
}

#[test]
fn a_fault_on_the_clients_link_or_a_server_justifies_it_one_elsewhere_does_not() {
    for (value, justified) in [
        (json!({"a": "client-1", "b": "store"}), true),
        (json!({"a": "client-2", "b": "store"}), false),
        (json!({"a": "store", "b": "replica-1"}), true),
    ] {
        let mut b = Builder::default();
        invoke(&mut b, "client-2", "send", 9, json!({}), 10);
        fault(&mut b, "partition", value.clone(), 100);
        failed(&mut b, "client-1", "send", 1, NET, 200, 300);
        assert_eq!(holds(&chat(), &b), justified, "{value}");
    }
    let mut outage = Builder::default();
    fault(
        &mut outage,
        "outage",
        json!({"server": "store", "drop": true}),
        100,
    );
    fault(&mut outage, "recover", json!({"server": "store"}), 150);
    failed(&mut outage, "client-1", "send", 1, NET, 120, 300);
    assert!(holds(&chat(), &outage));
}

/// Partition `client-1`'s link from `from` to `to` (never healed when `None`), around a
/// send failed from 1000 to 2000.
fn window(from: u64, to: Option<u64>) -> Builder {
    let link = json!({"a": "client-1", "b": "store"});
    let mut b = Builder::default();
    let mut events: Vec<(u64, u8)> = vec![(from, 0), (1000, 2), (2000, 3)];
    events.extend(to.map(|t| (t, 1)));
    events.sort();
    for (t, what) in events {
        match what {
            0 => fault(&mut b, "partition", link.clone(), t),
            1 => fault(&mut b, "repair", link.clone(), t),
            2 => invoke(&mut b, "client-1", "send", 1, json!({}), t),
            _ => done(&mut b, "client-1", "send", 1, EntryType::Fail, Some(NET), t),
        }
    }
    b
}

#[test]
fn a_fault_window_counts_up_to_and_including_both_ends() {
    assert!(
        holds(&chat(), &window(500, Some(1000))),
        "healed as it began"
    );
    assert!(
        !holds(&chat(), &window(500, Some(999))),
        "healed just before"
    );
    assert!(
        holds(&chat(), &window(2000, None)),
        "struck as it was shown"
    );
    assert!(!holds(&chat(), &window(2001, None)), "struck just after");
    assert!(holds(&chat(), &window(1500, Some(1600))), "inside");
}

#[test]
fn a_struck_operation_of_the_same_client_in_flight_beside_it_justifies_it() {
    let rule = Refusals::of(&["save"]);
    // The worker's sync runs `sync_from..sync_to`, struck at 600; the save fails 1000..2000.
    let case = |client: &str, sync_to: u64, struck: &str| {
        let mut b = Builder::default();
        invoke(&mut b, "b2", "save", 9, json!({}), 400);
        invoke(&mut b, client, "sync", 1, json!({}), 500);
        fault(&mut b, "hold", json!({"a": struck, "b": "store"}), 600);
        fault(&mut b, "release", json!({"a": struck, "b": "store"}), 700);
        failed(&mut b, "b1", "save", 2, NET, 1000, 2000);
        b.complete(client, EntryType::Ok, "sync", 1, json!({}));
        at(&mut b, sync_to);
        b
    };
    assert!(holds(&rule, &case("b1", 3000, "b1")));
    assert!(
        holds(&rule, &case("b1", 1000, "b1")),
        "finished as the save began"
    );
    assert!(
        !holds(&rule, &case("b1", 999, "b1")),
        "finished just before"
    );
    assert!(!holds(&rule, &case("b2", 3000, "b2")), "another client's");
    assert!(!holds(&rule, &case("b1", 3000, "b2")), "not struck itself");
}

#[test]
fn a_revocation_excuses_an_auth_error_shown_at_or_after_it() {
    let case = |revoked: u64, shown: ErrorCategory| {
        let mut b = Builder::default();
        invoke(&mut b, "client-1", "send", 1, json!({}), 1000);
        fault(&mut b, REVOCATION, json!({"user": "u1"}), revoked);
        done(
            &mut b,
            "client-1",
            "send",
            1,
            EntryType::Fail,
            Some(shown),
            2000,
        );
        b
    };
    assert!(holds(&chat(), &case(1500, ErrorCategory::Auth)));
    assert!(
        holds(&chat(), &case(2000, ErrorCategory::Auth)),
        "revoked as it was shown"
    );
    assert!(
        !holds(&chat(), &case(2001, ErrorCategory::Auth)),
        "revoked after"
    );
    assert!(
        !holds(&chat(), &case(1500, NET)),
        "a revocation causes auth errors only"
    );
    let mut early = Builder::default();
    fault(&mut early, REVOCATION, json!({"user": "u1"}), 10);
    failed(
        &mut early,
        "client-1",
        "send",
        1,
        ErrorCategory::Auth,
        5000,
        6000,
    );
    assert!(
        holds(&chat(), &early),
        "the dead session fails its next refresh, later"
    );
}

/// `client-1`'s send fails with `shown` 1000..2000; `who`'s `f` on `key` runs `from..to`
/// (unfinished when `None`).
fn contended(
    who: &str,
    f: &str,
    key: i64,
    from: u64,
    to: Option<u64>,
    shown: ErrorCategory,
) -> Builder {
    let mut b = Builder::default();
    let mut events: Vec<(u64, u8)> = vec![(from, 0), (1000, 2), (2000, 3)];
    events.extend(to.map(|t| (t, 1)));
    events.sort();
    for (t, what) in events {
        match what {
            0 => invoke(&mut b, who, f, 2, json!({"key": key}), t),
            1 => done(&mut b, who, f, 2, EntryType::Ok, None, t),
            2 => invoke(&mut b, "client-1", "send", 1, json!({"key": 1}), t),
            _ => done(
                &mut b,
                "client-1",
                "send",
                1,
                EntryType::Fail,
                Some(shown),
                t,
            ),
        }
    }
    b
}

#[test]
fn another_clients_overlapping_contender_excuses_a_conflict_up_to_both_ends() {
    let c = ErrorCategory::Conflict;
    let rule = chat();
    assert!(holds(
        &rule,
        &contended("client-2", "send", 1, 1500, Some(1600), c)
    ));
    assert!(
        holds(&rule, &contended("client-2", "send", 1, 500, Some(1000), c)),
        "finished as it began"
    );
    assert!(
        !holds(&rule, &contended("client-2", "send", 1, 500, Some(999), c)),
        "finished before"
    );
    assert!(
        holds(
            &rule,
            &contended("client-2", "send", 1, 2000, Some(2500), c)
        ),
        "begun as it was shown"
    );
    assert!(
        !holds(
            &rule,
            &contended("client-2", "send", 1, 2001, Some(2500), c)
        ),
        "begun after"
    );
    assert!(
        holds(&rule, &contended("client-2", "send", 1, 500, None, c)),
        "still in flight"
    );
    assert!(
        !holds(
            &rule,
            &contended("client-1", "send", 1, 1500, Some(1600), c)
        ),
        "its own"
    );
    assert!(
        !holds(
            &rule,
            &contended("client-2", "reauth", 1, 1500, Some(1600), c)
        ),
        "not a contender"
    );
    assert!(
        !holds(
            &rule,
            &contended("client-2", "send", 1, 1500, Some(1600), NET)
        ),
        "not what contention shows"
    );
    let keyed = Refusals::of(&["send"]).contended_by("send", &["send"], Some("key"), &[c]);
    assert!(holds(
        &keyed,
        &contended("client-2", "send", 1, 1500, Some(1600), c)
    ));
    assert!(
        !holds(
            &keyed,
            &contended("client-2", "send", 2, 1500, Some(1600), c)
        ),
        "another record"
    );
    let elsewhere = Refusals::of(&["send"]).contended_by("edit", &["send"], None, &[c]);
    assert!(
        !holds(
            &elsewhere,
            &contended("client-2", "send", 1, 1500, Some(1600), c)
        ),
        "declared for another function"
    );
}

#[test]
fn the_generic_invariant_carries_its_name() {
    let inv = crate::check::generic::failures_justified("sends_refused_for_cause", chat());
    let mut b = Builder::default();
    failed(&mut b, "client-1", "send", 1, NET, 10, 20);
    let v = inv.check(&b.history, &state("t", json!([])));
    assert_eq!(v.invariant, "sends_refused_for_cause");
    assert!(!v.is_ok());
    assert!(inv
        .check(&Builder::default().history, &state("t", json!([])))
        .is_ok());
}

#[test]
fn only_a_revocation_excuses_an_auth_error_not_an_earlier_fault_elsewhere() {
    let mut b = Builder::default();
    invoke(&mut b, "client-2", "send", 9, json!({}), 10);
    fault(
        &mut b,
        "partition",
        json!({"a": "client-2", "b": "auth"}),
        100,
    );
    fault(&mut b, "repair", json!({"a": "client-2", "b": "auth"}), 200);
    failed(
        &mut b,
        "client-1",
        "send",
        1,
        ErrorCategory::Auth,
        1000,
        2000,
    );
    assert!(!holds(&chat(), &b));
}

#[test]
fn the_explanation_names_contention_only_where_it_could_have_caused_the_error() {
    let mut b = Builder::default();
    failed(&mut b, "client-1", "send", 1, NET, 10, 20);
    let why = chat()
        .check(NAME, &b.history)
        .violation
        .expect("refused")
        .explanation;
    assert!(
        why.contains("contention cannot cause a Network error of `send`"),
        "{why}"
    );
}
