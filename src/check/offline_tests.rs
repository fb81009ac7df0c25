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
    edit(&mut b, "client-2", 1, "e2");
    edit(&mut b, "client-1", 1, "e1");
    let s = state("e2", &[], json!([]), &[]);
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

/// Refusal is not safety: a conflict no other device's edit could have caused (the device's
/// own earlier edit, or another field, or an edit started after it was shown) excuses nothing.
#[test]
fn a_conflict_excuses_a_lost_edit_only_when_another_device_edited_the_field_first() {
    let conflict = |b: &mut Builder| {
        b.invoke("client-1", "conflict", 1, json!({"record": "r1"}));
        b.complete(
            "client-1",
            EntryType::Ok,
            "conflict",
            1,
            json!({"kept": "e0"}),
        );
    };
    let s = state("r1.title.0", &[], json!([]), &[]);
    let mut own = Builder::default();
    edit(&mut own, "client-1", 2, "e0");
    edit(&mut own, "client-1", 1, "e1");
    conflict(&mut own);
    let own_kept = state("e0", &[], json!([]), &[]);
    let v = no_lost_acked_edit(&own.history, &own_kept)
        .violation
        .expect("its own edit");
    assert_eq!(v.ops[0].detail, "set r1.title='e1'");
    let mut other_field = Builder::default();
    edit(&mut other_field, "client-1", 1, "e1");
    let notes = json!({"record": "r1", "field": "notes", "value": "n9"});
    other_field.invoke("client-2", "edit", 2, notes.clone());
    other_field.complete("client-2", EntryType::Ok, "edit", 2, notes);
    conflict(&mut other_field);
    let lost = |b: &Builder, s: &FinalState| {
        let v = no_lost_acked_edit(&b.history, s).violation;
        v.map(|v| v.ops[0].process.clone())
    };
    assert_eq!(
        lost(&other_field, &s).as_deref(),
        Some("client-1"),
        "another field"
    );
    let mut after = Builder::default();
    edit(&mut after, "client-1", 1, "e1");
    conflict(&mut after);
    edit(&mut after, "client-2", 2, "e2");
    assert_eq!(
        lost(&after, &s).as_deref(),
        Some("client-1"),
        "started after"
    );
    let mut real = Builder::default();
    edit(&mut real, "client-2", 2, "e2");
    edit(&mut real, "client-1", 1, "e1");
    conflict(&mut real);
    let kept = state("e2", &[], json!([]), &[]);
    assert!(
        no_lost_acked_edit(&real.history, &kept).is_ok(),
        "a real conflict"
    );
    assert_eq!(lost(&other_field, &kept).as_deref(), Some("client-1"));
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

fn push(b: &mut Builder, process: &str, op: u32, kind: EntryType, value: Value) {
    b.invoke(process, "push", op, json!({}));
    b.complete(process, kind, "push", op, value);
}

fn crash<'a>(b: &'a mut Builder, host: &str) -> &'a mut Builder {
    b.fault("crash", json!({"kind": "crash", "host": host}))
}

fn lost_ops(v: &Verdict) -> Vec<usize> {
    let why = v.violation.as_ref().expect("a violation");
    why.ops.iter().map(|w| w.index).collect()
}

#[test]
fn queue_durable_names_the_lost_edit_and_when_it_was_acknowledged_and_lost() {
    let mut b = Builder::default();
    edit(&mut b, "client-1", 1, "e1");
    crash(&mut b, "client-1");
    let v = queue_durable(&b.history, &state("r1.title.0", &[], json!([]), &[]));
    assert_eq!(lost_ops(&v), [0]);
    let why = v.violation.unwrap();
    assert!(
        why.explanation.starts_with(
            "client-1's edit set r1.title='e1' was acknowledged at 0.002s and had not reached the server when the device crashed at 0.003s;"
        ),
        "{}",
        why.explanation
    );
    assert_eq!(why.ops[0].detail, "edit set r1.title='e1'");
}

#[test]
fn queue_durable_orders_the_crash_and_the_acknowledgement_by_the_history() {
    let never = state("r1.title.0", &[], json!([]), &[]);
    // The crash right after the acknowledgement, within the same tick of the clock.
    let mut b = Builder::default();
    edit(&mut b, "client-1", 1, "e1");
    crash(&mut b, "client-1").same_instant();
    assert_eq!(lost_ops(&queue_durable(&b.history, &never)), [0]);
    // An edit acknowledged after the restart was never in the queue the crash emptied.
    let mut after = Builder::default();
    crash(&mut after, "client-1");
    edit(&mut after, "client-1", 1, "e1");
    assert!(queue_durable(&after.history, &never).is_ok());
}

#[test]
fn queue_durable_excuses_an_action_given_up_before_the_crash_but_not_one_merely_tried() {
    let never = state("r1.title.0", &[], json!([]), &[]);
    let mut gave_up = Builder::default();
    edit(&mut gave_up, "client-1", 1, "e1");
    push(
        &mut gave_up,
        "client-1",
        1,
        EntryType::Fail,
        json!({"given_up": true}),
    );
    crash(&mut gave_up, "client-1");
    assert!(queue_durable(&gave_up.history, &never).is_ok());

    let mut tried = Builder::default();
    edit(&mut tried, "client-1", 1, "e1");
    push(
        &mut tried,
        "client-1",
        1,
        EntryType::Info,
        json!({"given_up": false}),
    );
    crash(&mut tried, "client-1");
    assert_eq!(lost_ops(&queue_durable(&tried.history, &never)), [0]);
}

#[test]
fn queue_durable_needs_a_push_of_this_action_by_this_device_after_the_crash() {
    let never = state("r1.title.0", &[], json!([]), &[]);
    let mut other_device = Builder::default();
    edit(&mut other_device, "client-1", 1, "e1");
    crash(&mut other_device, "client-1");
    push(&mut other_device, "client-2", 1, EntryType::Ok, json!({}));
    assert_eq!(lost_ops(&queue_durable(&other_device.history, &never)), [0]);

    let mut other_op = Builder::default();
    edit(&mut other_op, "client-1", 1, "e1");
    crash(&mut other_op, "client-1");
    push(&mut other_op, "client-1", 2, EntryType::Ok, json!({}));
    assert_eq!(lost_ops(&queue_durable(&other_op.history, &never)), [0]);
}

#[test]
fn queue_durable_leaves_a_surfaced_conflict_to_the_user() {
    let mut b = Builder::default();
    edit(&mut b, "client-2", 1, "e2");
    edit(&mut b, "client-1", 1, "e1");
    b.invoke("client-1", "conflict", 1, json!({"record": "r1"}));
    b.complete("client-1", EntryType::Ok, "conflict", 1, json!({}));
    crash(&mut b, "client-1");
    assert!(queue_durable(&b.history, &state("r1.title.0", &[], json!([]), &[])).is_ok());
}

#[test]
fn queue_durable_judges_generations_by_their_usage_rows() {
    let mut b = Builder::default();
    generate(&mut b, "client-1", 7);
    crash(&mut b, "client-1");
    let v = queue_durable(&b.history, &state("r1.title.0", &[], usage(&[]), &[]));
    assert_eq!(lost_ops(&v), [0]);
    assert_eq!(v.violation.unwrap().ops[0].detail, "generation (op 7)");
    let charged = state("r1.title.0", &[], usage(&[7]), &[]);
    assert!(queue_durable(&b.history, &charged).is_ok());
}

#[test]
fn an_edit_reached_the_server_only_if_an_image_of_its_record_carried_its_value() {
    let mut b = Builder::default();
    edit(&mut b, "client-1", 1, "e1");
    crash(&mut b, "client-1");
    // The record was written, but never with this edit's value.
    let other_value = state("r1.title.0", &["e0"], json!([]), &[]);
    assert_eq!(lost_ops(&queue_durable(&b.history, &other_value)), [0]);
    // The value was written, but to another record.
    let mut other_record = state("r1.title.0", &[], json!([]), &[]);
    other_record
        .audit
        .insert("runs".into(), rows(json!([{"id": "r2", "title": "e1"}])));
    assert_eq!(lost_ops(&queue_durable(&b.history, &other_record)), [0]);
}

#[test]
fn a_lost_edit_names_the_older_edit_whose_value_won() {
    let mut b = Builder::default();
    edit(&mut b, "client-1", 1, "e1");
    edit(&mut b, "client-2", 2, "e2");
    let v = no_lost_acked_edit(&b.history, &state("e1", &["e2", "e1"], json!([]), &[]));
    assert_eq!(lost_ops(&v), [2, 0]);
    let why = v.violation.unwrap().explanation;
    assert!(
        why.starts_with(
            "client-2 saved r1.title='e2' at 0.004s and was told it was saved, but the server ends with 'e1' (written by client-1's edit at 0.001s, made before this one was saved)"
        ),
        "{why}"
    );
}

#[test]
fn a_lost_edit_says_whether_it_ever_reached_the_server() {
    let mut b = Builder::default();
    edit(&mut b, "client-1", 1, "e1");
    let put_back = no_lost_acked_edit(&b.history, &state("r1.title.0", &["e1"], json!([]), &[]));
    let why = put_back.violation.unwrap().explanation;
    assert!(
        why.contains("the edit took effect, then a write of a stale copy"),
        "{why}"
    );
    let never = no_lost_acked_edit(&b.history, &state("r1.title.0", &[], json!([]), &[]));
    let why = never.violation.unwrap().explanation;
    assert!(why.contains("this edit never reached the server"), "{why}");
}

#[test]
fn applied_once_counts_every_extra_charge_and_names_the_value_in_between() {
    let mut b = Builder::default();
    generate(&mut b, "client-1", 4);
    let thrice = state("r1.title.0", &[], usage(&[4, 4, 4]), &[]);
    let v = applied_once(&b.history, &thrice);
    assert_eq!(lost_ops(&v), [0]);
    let why = v.violation.unwrap().explanation;
    assert!(why.contains("charged 3 times"), "{why}");

    let mut e = Builder::default();
    edit(&mut e, "client-1", 1, "e1");
    edit(&mut e, "client-2", 2, "e2");
    let v = applied_once(
        &e.history,
        &state("e1", &["e1", "e2", "e1"], json!([]), &[]),
    );
    assert_eq!(lost_ops(&v), [0]);
    let why = v.violation.unwrap().explanation;
    assert!(why.contains("was replaced by 'e2'"), "{why}");
}

#[test]
fn only_a_crash_empties_a_queue() {
    let mut b = Builder::default();
    edit(&mut b, "client-1", 1, "e1");
    b.fault(
        "partition",
        json!({"kind": "partition", "host": "client-1"}),
    );
    assert!(queue_durable(&b.history, &state("r1.title.0", &[], json!([]), &[])).is_ok());
}
