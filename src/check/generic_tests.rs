use serde_json::json;

use super::*;
use crate::backend::ErrorCategory;
use crate::check::testing::{state, Builder};
use crate::history::OpError;

fn verdict(inv: &Invariant, b: &Builder, st: &FinalState) -> Verdict {
    inv.check(&b.history, st)
}

#[test]
fn unique_values_flags_a_repeated_value_and_ignores_nulls() {
    let inv = unique_values("u", "cards", "slug");
    let b = Builder::default();
    let ok = state(
        "cards",
        json!([{"id": 1, "slug": "a"}, {"id": 2, "slug": "b"}, {"id": 3, "slug": null}, {"id": 4, "slug": null}]),
    );
    assert!(verdict(&inv, &b, &ok).is_ok());
    let bad = state(
        "cards",
        json!([{"id": 1, "slug": "a"}, {"id": 2, "slug": "a"}]),
    );
    let v = verdict(&inv, &b, &bad);
    assert_eq!(v.invariant, "u");
    let why = v.violation.expect("violated").explanation;
    assert!(
        why.contains("rows 1 and 2") && why.contains("\"a\""),
        "{why}"
    );
    assert_eq!(inv.tables, vec!["cards"]);
}

fn booking(b: &mut Builder, p: &str, op: u32, room: &str, kind: EntryType) {
    b.invoke(p, "book", op, json!({"room": room}))
        .complete(p, kind, "book", op, json!({}));
}

#[test]
fn one_row_per_operation_counts_rows_by_what_was_asked() {
    let inv = one_row_per_operation("once", "book", "bookings", &[("room", "room")]);
    let mut b = Builder::default();
    booking(&mut b, "client-1", 1, "r1", EntryType::Info);
    booking(&mut b, "client-2", 2, "r2", EntryType::Ok);
    let one_each = state(
        "bookings",
        json!([{"id": 1, "room": "r1"}, {"id": 2, "room": "r2"}]),
    );
    assert!(verdict(&inv, &b, &one_each).is_ok());
    // The unknown one committed twice: its retry wrote a second row.
    let twice = state(
        "bookings",
        json!([{"id": 1, "room": "r1"}, {"id": 3, "room": "r1"}, {"id": 2, "room": "r2"}]),
    );
    let v = verdict(&inv, &b, &twice).violation.expect("violated");
    assert_eq!(v.ops.len(), 1);
    assert_eq!(v.ops[0].process, "client-1");
    assert!(
        v.explanation.contains("2 rows") && v.explanation.contains("1, 3"),
        "{}",
        v.explanation
    );
    // A failed request owns nothing, so rows like it are not its duplicates.
    let mut failed = Builder::default();
    booking(&mut failed, "client-1", 1, "r1", EntryType::Fail);
    assert!(verdict(&inv, &failed, &twice).is_ok());
}

#[test]
fn one_row_per_operation_reads_the_audit_and_counts_an_updated_row_once() {
    let inv = one_row_per_operation("once", "book", "bookings", &[("room", "room")]);
    let mut b = Builder::default();
    booking(&mut b, "client-1", 1, "r1", EntryType::Ok);
    let mut st = state("bookings", json!([]));
    let image = |id: i64, v: i64| {
        json!({"id": id, "room": "r1", "version": v})
            .as_object()
            .cloned()
            .unwrap()
    };
    st.audit
        .insert("bookings".into(), vec![image(1, 1), image(1, 2)]);
    assert!(
        verdict(&inv, &b, &st).is_ok(),
        "one row updated twice is one row"
    );
    st.audit.get_mut("bookings").unwrap().push(image(2, 1));
    assert!(
        !verdict(&inv, &b, &st).is_ok(),
        "a deleted duplicate still shows in the audit"
    );
}

#[test]
fn acked_durable_wants_every_acknowledged_row_at_the_end() {
    let inv = acked_durable("durable", "book", "bookings", &[("room", "room")]);
    let mut b = Builder::default();
    booking(&mut b, "client-1", 1, "r1", EntryType::Ok);
    booking(&mut b, "client-1", 2, "r2", EntryType::Info);
    assert!(verdict(
        &inv,
        &b,
        &state("bookings", json!([{"id": 1, "room": "r1"}]))
    )
    .is_ok());
    let v = verdict(
        &inv,
        &b,
        &state("bookings", json!([{"id": 1, "room": "r2"}])),
    );
    assert_eq!(v.violation.expect("violated").ops[0].index, 0);
}

#[test]
fn no_silent_failure_wants_a_category_on_every_failure() {
    let inv = no_silent_failure("told", "book");
    let mut b = Builder::default();
    booking(&mut b, "client-1", 1, "r1", EntryType::Ok);
    booking(&mut b, "client-1", 2, "r1", EntryType::Fail);
    let st = FinalState::default();
    let v = verdict(&inv, &b, &st)
        .violation
        .expect("a fail with no category");
    assert_eq!(v.ops[0].index, 2);
    b.history.entries.last_mut().unwrap().error = Some(OpError {
        category: ErrorCategory::Conflict,
        message: "taken".into(),
    });
    assert!(verdict(&inv, &b, &st).is_ok());
    // An operation the run never completed is unknown, not silent.
    let mut open = Builder::default();
    open.invoke("client-1", "book", 1, json!({}));
    assert!(verdict(&inv, &open, &st).is_ok());
}

fn read(b: &mut Builder, p: &str, op: u32, v: i64) {
    b.invoke(p, "poll", op, json!({}))
        .complete(p, EntryType::Ok, "poll", op, json!({"shown": v}));
}

#[test]
fn monotonic_reads_is_per_client_and_allows_equal_values() {
    let inv = monotonic_reads("mono", "poll", "shown");
    let st = FinalState::default();
    let mut b = Builder::default();
    read(&mut b, "client-1", 1, 10);
    read(&mut b, "client-1", 2, 10);
    read(&mut b, "client-2", 3, 5);
    read(&mut b, "client-1", 4, 30);
    assert!(verdict(&inv, &b, &st).is_ok());
    read(&mut b, "client-1", 5, 20);
    let v = verdict(&inv, &b, &st).violation.expect("went back");
    assert_eq!(v.ops.len(), 2);
    assert_eq!((v.ops[0].index, v.ops[1].index), (6, 8));
    assert!(v.explanation.contains("30") && v.explanation.contains("20"));
}

#[test]
fn monotonic_reads_orders_by_completion_and_skips_failed_reads() {
    let inv = monotonic_reads("mono", "poll", "shown");
    let st = FinalState::default();
    let mut b = Builder::default();
    // Op 1 starts first but completes after op 2: completion order is what was shown.
    b.invoke("client-1", "poll", 1, json!({}))
        .invoke("client-1", "poll", 2, json!({}))
        .complete("client-1", EntryType::Ok, "poll", 2, json!({"shown": 5}))
        .complete("client-1", EntryType::Ok, "poll", 1, json!({"shown": 7}));
    b.invoke("client-1", "poll", 3, json!({})).complete(
        "client-1",
        EntryType::Fail,
        "poll",
        3,
        json!({"shown": 1}),
    );
    assert!(verdict(&inv, &b, &st).is_ok());
}

#[test]
fn read_your_writes_wants_a_client_to_see_its_own_acknowledged_write() {
    let inv = read_your_writes("ryw", ("write", "progress"), ("poll", "shown"));
    let st = FinalState::default();
    let mut b = Builder::default();
    b.invoke("client-1", "write", 1, json!({"progress": 50}))
        .complete("client-1", EntryType::Ok, "write", 1, json!({}));
    read(&mut b, "client-2", 2, 10); // another client may lag
    read(&mut b, "client-1", 3, 50); // exactly what it wrote is fine
    assert!(verdict(&inv, &b, &st).is_ok());
    read(&mut b, "client-1", 4, 49);
    let v = verdict(&inv, &b, &st).violation.expect("stale own read");
    assert_eq!((v.ops[0].index, v.ops[1].index), (0, 6));
}

#[test]
fn read_your_writes_ignores_reads_begun_before_the_write_was_acknowledged() {
    let inv = read_your_writes("ryw", ("write", "progress"), ("poll", "shown"));
    let st = FinalState::default();
    let mut b = Builder::default();
    b.invoke("client-1", "write", 1, json!({"progress": 50}))
        .invoke("client-1", "poll", 2, json!({}))
        .complete("client-1", EntryType::Ok, "write", 1, json!({}))
        .complete("client-1", EntryType::Ok, "poll", 2, json!({"shown": 10}));
    b.invoke("client-1", "write", 3, json!({"progress": 90}))
        .complete("client-1", EntryType::Fail, "write", 3, json!({}));
    read(&mut b, "client-1", 4, 50);
    assert!(verdict(&inv, &b, &st).is_ok());
}

#[test]
fn convergence_wants_every_copy_to_equal_the_server() {
    let inv = convergence("conv", "runs", "runs");
    let b = Builder::default();
    let mut st = state(
        "runs",
        json!([{"id": "r1", "title": "a", "version": 3}, {"id": "r2", "title": "b", "version": 1}]),
    );
    // A copy may keep fewer columns, but every row and the server's value in each.
    st.clients.insert(
        "client-1".into(),
        json!({"runs": [{"id": "r1", "title": "a"}, {"id": "r2", "title": "b"}]}),
    );
    st.clients.insert("client-2".into(), json!({"other": 1}));
    assert!(verdict(&inv, &b, &st).is_ok());
    let mut stale = st.clone();
    stale.clients.insert(
        "client-3".into(),
        json!({"runs": [{"id": "r1", "title": "old"}, {"id": "r2", "title": "b"}]}),
    );
    let why = verdict(&inv, &b, &stale)
        .violation
        .expect("stale")
        .explanation;
    assert!(
        why.contains("client-3") && why.contains("\"old\"") && why.contains("\"a\""),
        "{why}"
    );
    let mut missing = st.clone();
    missing.clients.insert(
        "client-3".into(),
        json!({"runs": [{"id": "r1", "title": "a"}]}),
    );
    assert!(verdict(&inv, &b, &missing)
        .violation
        .expect("missing")
        .explanation
        .contains("1 rows"));
    let mut extra = st;
    extra.clients.insert(
        "client-3".into(),
        json!({"runs": [{"id": "r1", "title": "a"}, {"id": "r2", "title": "b"}, {"id": "r9"}]}),
    );
    assert!(verdict(&inv, &b, &extra)
        .violation
        .expect("extra")
        .explanation
        .contains("r9"));
}
