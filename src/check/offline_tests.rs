use serde_json::{json, Value};

use super::*;
use crate::check::testing::Builder;
use crate::check::FinalState;

fn rows(v: Value) -> Vec<crate::backend::Row> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().cloned().unwrap())
        .collect()
}

fn run(title: &str) -> Value {
    json!({"id": "r1", "title": title, "notes": "n0", "tags": "t0"})
}

/// The server's final runs and usage rows, the audit, and what each device stores.
fn state(
    final_title: &str,
    audit_titles: &[&str],
    usage: Value,
    devices: &[(&str, &str)],
) -> FinalState {
    let mut s = FinalState::default();
    s.tables
        .insert("runs".into(), rows(json!([run(final_title)])));
    s.tables.insert("usage_logs".into(), rows(usage.clone()));
    let images: Vec<Value> = audit_titles.iter().map(|t| run(t)).collect();
    s.audit.insert("runs".into(), rows(Value::Array(images)));
    s.audit.insert("usage_logs".into(), rows(usage));
    for (name, title) in devices {
        s.clients
            .insert(name.to_string(), json!({"runs": {"r1": run(title)}}));
    }
    s
}

fn edit(b: &mut Builder, process: &str, op: u32, value: &str) {
    let v = json!({"record": "r1", "field": "title", "value": value});
    b.invoke(process, "edit", op, v.clone());
    b.complete(process, EntryType::Ok, "edit", op, v);
}

fn generate(b: &mut Builder, process: &str, op: u32) {
    b.invoke(process, "generate", op, json!({"credits": 3}));
    b.complete(
        process,
        EntryType::Ok,
        "generate",
        op,
        json!({"credits": 3}),
    );
}

fn usage(ops: &[u32]) -> Value {
    Value::Array(
        ops.iter()
            .enumerate()
            .map(|(i, op)| json!({"id": i + 1, "credits_consumed": 3, "metadata": {"op": op}}))
            .collect(),
    )
}

#[test]
fn convergence_passes_devices_that_show_the_server_and_catches_one_that_does_not() {
    let agreed = state(
        "e2",
        &["e2"],
        json!([]),
        &[("client-1", "e2"), ("client-2", "e2")],
    );
    assert!(convergence(&agreed).is_ok());
    let apart = state(
        "e2",
        &["e2"],
        json!([]),
        &[("client-1", "e2"), ("client-2", "e1")],
    );
    let v = convergence(&apart);
    let why = v
        .violation
        .expect("a device that disagrees is caught")
        .explanation;
    assert!(why.contains("client-2") && why.contains("'e1'"), "{why}");
}

#[test]
fn an_edit_replaced_by_a_later_edit_is_not_lost() {
    let mut b = Builder::default();
    edit(&mut b, "client-1", 1, "e1");
    edit(&mut b, "client-2", 2, "e2");
    let s = state("e2", &["e1", "e2"], json!([]), &[]);
    assert!(no_lost_acked_edit(&b.history, &s).is_ok());
}

#[test]
fn an_older_edit_that_wins_over_a_later_one_is_a_lost_edit() {
    let mut b = Builder::default();
    edit(&mut b, "client-1", 1, "e1");
    edit(&mut b, "client-2", 2, "e2");
    // client-1 synced last with the older edit: e2 was saved, then silently replaced.
    let s = state("e1", &["e2", "e1"], json!([]), &[]);
    let v = no_lost_acked_edit(&b.history, &s)
        .violation
        .expect("the later edit is lost");
    assert!(v.explanation.contains("'e2'"), "{}", v.explanation);
    assert_eq!(
        v.ops.len(),
        2,
        "names the lost edit and the one that replaced it"
    );
}

#[test]
fn an_edit_that_never_reached_the_server_is_lost_unless_surfaced() {
    let mut b = Builder::default();
    edit(&mut b, "client-1", 1, "e1");
    let s = state("r1.title.0", &[], json!([]), &[]);
    assert!(!no_lost_acked_edit(&b.history, &s).is_ok());
    b.invoke("client-1", "conflict", 1, json!({"record": "r1"}));
    b.complete(
        "client-1",
        EntryType::Ok,
        "conflict",
        1,
        json!({"kept": "r1.title.0"}),
    );
    assert!(
        no_lost_acked_edit(&b.history, &s).is_ok(),
        "a conflict the user was told about is not a silent loss"
    );
}

#[test]
fn a_generation_shown_as_done_must_be_charged() {
    let mut b = Builder::default();
    generate(&mut b, "client-1", 7);
    let charged = state("r1.title.0", &[], usage(&[7]), &[]);
    assert!(no_lost_acked_edit(&b.history, &charged).is_ok());
    let missing = state("r1.title.0", &[], usage(&[]), &[]);
    let why = no_lost_acked_edit(&b.history, &missing)
        .violation
        .unwrap()
        .explanation;
    assert!(why.contains("op 7"), "{why}");
}

#[test]
fn a_queue_lost_at_a_crash_is_caught() {
    let mut b = Builder::default();
    edit(&mut b, "client-1", 1, "e1");
    b.fault("crash", json!({"kind": "crash", "host": "client-1"}));
    let never = state("r1.title.0", &[], json!([]), &[]);
    let v = queue_durable(&b.history, &never)
        .violation
        .expect("lost at the crash");
    assert!(v.explanation.contains("crashed"), "{}", v.explanation);
}

#[test]
fn a_queue_that_survives_the_crash_passes() {
    let mut b = Builder::default();
    edit(&mut b, "client-1", 1, "e1");
    b.fault("crash", json!({"kind": "crash", "host": "client-1"}));
    // Tried again after the restart, though a partition kept it from arriving.
    b.invoke("client-1", "push", 1, json!({}));
    b.complete("client-1", EntryType::Info, "push", 1, json!({}));
    let never = state("r1.title.0", &[], json!([]), &[]);
    assert!(queue_durable(&b.history, &never).is_ok());
    // Reached the server before the crash: nothing left to keep.
    let mut c = Builder::default();
    edit(&mut c, "client-1", 1, "e1");
    c.fault("crash", json!({"kind": "crash", "host": "client-1"}));
    let arrived = state("e1", &["e1"], json!([]), &[]);
    assert!(queue_durable(&c.history, &arrived).is_ok());
    // A crash of another device says nothing about this one's queue.
    let mut d = Builder::default();
    edit(&mut d, "client-1", 1, "e1");
    d.fault("crash", json!({"kind": "crash", "host": "client-2"}));
    assert!(queue_durable(&d.history, &never).is_ok());
}

#[test]
fn a_usage_row_charged_twice_is_caught() {
    let mut b = Builder::default();
    generate(&mut b, "client-1", 4);
    let once = state("r1.title.0", &[], usage(&[4]), &[]);
    assert!(applied_once(&b.history, &once).is_ok());
    let twice = state("r1.title.0", &[], usage(&[4, 4]), &[]);
    let why = applied_once(&b.history, &twice)
        .violation
        .unwrap()
        .explanation;
    assert!(why.contains("2 times"), "{why}");
}

#[test]
fn an_edit_put_back_after_it_was_replaced_is_applied_twice() {
    let mut b = Builder::default();
    edit(&mut b, "client-1", 1, "e1");
    edit(&mut b, "client-2", 2, "e2");
    let repeated_in_a_row = state("e2", &["e1", "e1", "e2"], json!([]), &[]);
    assert!(applied_once(&b.history, &repeated_in_a_row).is_ok());
    let put_back = state("e1", &["e1", "e2", "e1"], json!([]), &[]);
    let v = applied_once(&b.history, &put_back)
        .violation
        .expect("e1 came back after e2 replaced it");
    assert!(v.explanation.contains("'e1'"), "{}", v.explanation);
}
