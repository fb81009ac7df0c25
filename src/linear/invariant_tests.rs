use serde_json::{json, Value as Json};

use super::*;
use crate::check::testing::{state, Builder};
use crate::history::Entry;
use crate::linear::verdict_words::order_in_words;

fn register() -> Linearizable {
    Linearizable::new(Model::Register)
}

fn ok(b: &mut Builder, p: &str, f: &str, op: u32, arg: Json, res: Json) {
    b.invoke(p, f, op, arg);
    b.complete(p, EntryType::Ok, f, op, res);
}

fn judge(spec: &Linearizable, b: &Builder, st: &FinalState) -> Verdict {
    spec.judge("lin", &b.history, st)
}

fn explanation(v: &Verdict) -> String {
    v.violation
        .as_ref()
        .map(|x| x.explanation.clone())
        .unwrap_or_default()
}

#[test]
fn a_stale_read_is_caught_and_named_in_words() {
    let mut b = Builder::default();
    ok(&mut b, "c1", "write", 1, json!(1), json!(null));
    ok(&mut b, "c2", "read", 2, json!(null), json!(null));
    let v = judge(&register(), &b, &FinalState::default());
    let text = explanation(&v);
    assert!(!v.is_ok());
    // The breaking read is history entry #2, named with its process, time and result.
    assert!(
        text.contains("#2 (c2 at 0.003s, ok: read -> nil)"),
        "{text}"
    );
    assert!(
        text.contains("it returned nil while the register held 1"),
        "{text}"
    );
    assert!(text.contains("The longest consistent order: #0."), "{text}");
    let shown: Vec<usize> = v.violation.unwrap().ops.iter().map(|w| w.index).collect();
    assert_eq!(shown, vec![2, 0]);
}

#[test]
fn fresh_and_concurrent_reads_hold() {
    let mut b = Builder::default();
    ok(&mut b, "c1", "write", 1, json!(1), json!(null));
    ok(&mut b, "c2", "read", 2, json!(null), json!(1));
    // A read overlapping a write may see either value.
    b.invoke("c1", "write", 3, json!(2));
    b.invoke("c2", "read", 4, json!(null));
    b.complete("c2", EntryType::Ok, "read", 4, json!(1));
    b.complete("c1", EntryType::Ok, "write", 3, json!(null));
    assert_eq!(
        judge(&register(), &b, &FinalState::default()),
        Verdict::holds("lin")
    );
}

#[test]
fn info_may_have_applied_and_fail_never_did() {
    for (kind, read, holds) in [
        (EntryType::Info, 1, true),
        (EntryType::Info, 0, true),
        (EntryType::Fail, 0, true),
        (EntryType::Fail, 1, false),
    ] {
        let mut b = Builder::default();
        ok(&mut b, "c1", "write", 1, json!(0), json!(null));
        b.invoke("c1", "write", 2, json!(1));
        b.complete("c1", kind, "write", 2, json!(null));
        ok(&mut b, "c2", "read", 3, json!(null), json!(read));
        let v = judge(&register(), &b, &FinalState::default());
        assert_eq!(v.is_ok(), holds, "{kind:?} then read {read}: {v:?}");
    }
    // An invoke that never completed is unknown too.
    let mut b = Builder::default();
    b.invoke("c1", "write", 1, json!(7));
    ok(&mut b, "c2", "read", 2, json!(null), json!(7));
    assert!(judge(&register(), &b, &FinalState::default()).is_ok());
}

#[test]
fn keys_are_independent_objects() {
    let spec = register().key_at("/key").argument_at("/v").result_at("/v");
    let mut b = Builder::default();
    ok(
        &mut b,
        "c1",
        "put",
        1,
        json!({"key": "a", "v": 1}),
        json!({}),
    );
    ok(
        &mut b,
        "c2",
        "get",
        2,
        json!({"key": "b"}),
        json!({"v": null}),
    );
    assert!(judge(&spec, &b, &FinalState::default()).is_ok());
    ok(&mut b, "c2", "get", 3, json!({"key": "a"}), json!({"v": 2}));
    let v = judge(&spec, &b, &FinalState::default());
    assert!(explanation(&v).contains("register \"a\""), "{v:?}");
    // The key may sit only in the completion.
    let mut b = Builder::default();
    ok(&mut b, "c1", "put", 1, json!({"v": 1}), json!({"key": "a"}));
    ok(&mut b, "c2", "get", 2, json!({"key": "a"}), json!({"v": 1}));
    assert!(judge(&spec, &b, &FinalState::default()).is_ok());
}

#[test]
fn an_operation_that_cannot_be_placed_is_a_violation_not_a_pass() {
    let spec = register().key_at("/key");
    let mut b = Builder::default();
    ok(&mut b, "c1", "write", 1, json!({"v": 1}), json!({}));
    let text = explanation(&judge(&spec, &b, &FinalState::default()));
    assert!(
        text.contains("entry #0 (write) has no key at `/key`"),
        "{text}"
    );
    let spec = register().argument_at("/v");
    let text = explanation(&judge(&spec, &b, &FinalState::default()));
    assert!(text.is_empty(), "the argument is there: {text}");
    let spec = register().argument_at("/w");
    let text = explanation(&judge(&spec, &b, &FinalState::default()));
    assert!(text.contains("has no argument at `/w`"), "{text}");
    // A cas on a plain register is a wrong model, said so.
    let mut b = Builder::default();
    ok(&mut b, "c1", "cas", 1, json!([null, 1]), json!(null));
    let v = judge(&register(), &b, &FinalState::default());
    assert!(
        explanation(&v).contains(
            "#0 (c1 at 0.001s, ok: cas [nil 1]) is not an operation of the register model"
        ),
        "{v:?}"
    );
    assert_eq!(v.violation.unwrap().ops.len(), 1);
    // A cas whose argument is not a pair.
    let spec = Linearizable::new(Model::CasRegister);
    let mut b = Builder::default();
    ok(&mut b, "c1", "cas", 1, json!(3), json!(null));
    assert!(explanation(&judge(&spec, &b, &FinalState::default())).contains("[old new]"));
}

#[test]
fn compare_and_set_follows_the_register() {
    let spec = Linearizable::new(Model::CasRegister);
    let mut b = Builder::default();
    ok(&mut b, "c1", "cas", 1, json!([null, 1]), json!(null));
    b.invoke("c2", "cas", 2, json!([null, 2]));
    b.complete("c2", EntryType::Fail, "cas", 2, json!(null));
    ok(&mut b, "c2", "read", 3, json!(null), json!(1));
    assert!(judge(&spec, &b, &FinalState::default()).is_ok());
    ok(&mut b, "c3", "cas", 4, json!([null, 3]), json!(null));
    let text = explanation(&judge(&spec, &b, &FinalState::default()));
    assert!(
        text.contains("it succeeded, which needs the register to hold nil, and it held 1"),
        "{text}"
    );
}

/// Cards with `title` and `email`, both `"-"` before the run, edited through `intent`.
fn cards() -> Linearizable {
    register()
        .reads(&["load"])
        .writes(&["edit"])
        .key_at("/key")
        .argument_at("/intent")
        .result_at("/row")
        .columns(&["title", "email"])
        .initial(|_| Value::Str("-".into()))
        .final_state("cards", "id")
}

fn edit(b: &mut Builder, p: &str, op: u32, key: i64, intent: Json, kind: EntryType) {
    b.invoke(p, "edit", op, json!({"key": key, "intent": intent}));
    b.complete(p, kind, "edit", op, json!({"key": key}));
}

fn card(id: i64, title: &str, email: &str) -> Json {
    json!({"id": id, "title": title, "email": email})
}

#[test]
fn the_final_state_is_the_last_read_of_every_touched_column() {
    let mut b = Builder::default();
    edit(&mut b, "c1", 1, 1, json!({"title": "a"}), EntryType::Ok);
    edit(&mut b, "c2", 2, 1, json!({"title": "b"}), EntryType::Ok);
    let judged = |rows: Json| judge(&cards(), &b, &state("cards", rows));
    assert!(judged(json!([card(1, "b", "-")])).is_ok());
    // The acknowledged later edit was overwritten by the earlier one.
    let v = judged(json!([card(1, "a", "-")]));
    let text = explanation(&v);
    assert!(
        text.contains("the final state's read after the run (read key [1 \"title\"] -> \"a\")"),
        "{text}"
    );
    assert!(
        text.contains("while register [1 \"title\"] held \"b\""),
        "{text}"
    );
    assert!(
        text.contains("The longest consistent order: the initial value, #0, #2."),
        "{text}"
    );
    assert_eq!(
        v.violation
            .unwrap()
            .ops
            .iter()
            .map(|w| w.index)
            .collect::<Vec<_>>(),
        vec![2]
    );
    // A column nobody edited must keep its value before the run.
    assert!(!judged(json!([card(1, "b", "zz")])).is_ok());
    // A missing card reads as null in every column.
    assert!(!judged(json!([card(2, "b", "-")])).is_ok());
    // A card no operation touched is not judged.
    assert!(judged(json!([card(1, "b", "-"), card(2, "x", "y")])).is_ok());
}

#[test]
fn unknown_edits_may_land_late_and_failed_ones_never_do() {
    let mut b = Builder::default();
    edit(&mut b, "c1", 1, 1, json!({"title": "a"}), EntryType::Ok);
    edit(&mut b, "c2", 2, 1, json!({"title": "b"}), EntryType::Info);
    edit(&mut b, "c1", 3, 1, json!({"email": "e"}), EntryType::Fail);
    b.invoke("c3", "edit", 4, json!({"key": 1, "intent": {"email": "f"}}));
    let judged = |t: &str, e: &str| judge(&cards(), &b, &state("cards", json!([card(1, t, e)])));
    assert!(judged("a", "-").is_ok());
    assert!(judged("b", "-").is_ok());
    // The never-completed edit was invoked after every completion: the final read still
    // comes after it.
    assert!(judged("b", "f").is_ok());
    assert!(!judged("a", "e").is_ok());
}

#[test]
fn reads_of_rows_judge_the_columns_they_return() {
    let mut b = Builder::default();
    edit(&mut b, "c1", 1, 1, json!({"title": "a"}), EntryType::Ok);
    ok(
        &mut b,
        "c2",
        "load",
        2,
        json!({"key": 1}),
        json!({"row": {"title": "a"}}),
    );
    b.invoke("c2", "load", 3, json!({"key": 1}));
    b.complete("c2", EntryType::Fail, "load", 3, json!({}));
    let st = state("cards", json!([card(1, "a", "-")]));
    assert!(judge(&cards(), &b, &st).is_ok());
    ok(
        &mut b,
        "c2",
        "load",
        4,
        json!({"key": 1}),
        json!({"row": {"email": "x"}}),
    );
    let text = explanation(&judge(&cards(), &b, &st));
    assert!(
        text.contains("#6 (c2 at 0.007s, ok: read key [1 \"email\"] -> \"x\")"),
        "{text}"
    );
}

#[test]
fn history_times_come_strictly_after_the_initial_value_and_before_the_final_read() {
    // A write at simulated time 0 still follows the value before the run.
    let mut h = History::default();
    for (kind, f, op, value, t) in [
        (EntryType::Invoke, "write", 1, json!(5), 0),
        (EntryType::Ok, "write", 1, json!(null), 0),
        (EntryType::Invoke, "read", 2, json!(null), 10),
        (EntryType::Ok, "read", 2, json!(1), 10),
    ] {
        h.push(Entry {
            index: 0,
            time_us: t,
            process: format!("c{op}"),
            kind,
            f: f.into(),
            op: Some(op),
            value,
            error: None,
        });
    }
    let spec = register().initial(|_| Value::Int(1));
    assert!(!spec.judge("lin", &h, &FinalState::default()).is_ok());
    // Without an initial value the register starts at nil.
    h.entries[3].value = json!(null);
    assert!(!register().judge("lin", &h, &FinalState::default()).is_ok());
    // A single object's final read is the table's first row, in the `value` column.
    let single = register().final_state("t", "id");
    let rows = |v: i64| state("t", json!([{"id": 9, "value": v}, {"id": 8, "value": 0}]));
    h.entries[3].value = json!(5);
    assert!(single.judge("lin", &h, &rows(5)).is_ok());
    assert!(!single.judge("lin", &h, &rows(0)).is_ok());
    let named = register().final_state("t", "id").final_column("n");
    let row = state("t", json!([{"id": 9, "n": 5, "value": 0}]));
    assert!(named.judge("lin", &h, &row).is_ok());
}

#[test]
fn a_reached_limit_is_an_undecided_violation() {
    let mut b = Builder::default();
    for op in 0..6 {
        b.invoke(&format!("c{op}"), "write", op, json!(op));
    }
    for op in 0..6 {
        b.complete(&format!("c{op}"), EntryType::Ok, "write", op, json!(null));
    }
    ok(&mut b, "r", "read", 9, json!(null), json!(99));
    let tight = register().limits(Limits {
        memory_bytes: Some(0),
        ..Limits::default()
    });
    let text = explanation(&judge(&tight, &b, &FinalState::default()));
    assert!(
        text.starts_with("Undecided: the memory limit was reached"),
        "{text}"
    );
    assert!(text.contains("the 7 operations"), "{text}");
    // With room to search the same history has an answer.
    assert!(explanation(&judge(&register(), &b, &FinalState::default())).contains("returned 99"));
}

#[test]
fn the_invariant_carries_its_name_and_table() {
    let inv = cards().invariant("card_fields");
    assert_eq!(inv.name, "card_fields");
    assert_eq!(inv.tables, vec!["cards"]);
    assert!(register().invariant("r").tables.is_empty());
    let mut b = Builder::default();
    edit(&mut b, "c1", 1, 1, json!({"title": "a"}), EntryType::Ok);
    let v = inv.check(&b.history, &state("cards", json!([card(1, "-", "-")])));
    assert_eq!(v.invariant, "card_fields");
    assert!(!v.is_ok());
}

#[test]
fn a_long_order_is_shown_by_its_last_ten() {
    let names = |i: usize| format!("#{i}");
    let long: Vec<usize> = (0..12).collect();
    assert_eq!(
        order_in_words(&long, &names),
        " The longest consistent order: 2 earlier, then #2, #3, #4, #5, #6, #7, #8, #9, #10, #11."
    );
    assert_eq!(
        order_in_words(&long[..10], &names),
        " The longest consistent order: #0, #1, #2, #3, #4, #5, #6, #7, #8, #9."
    );
    assert_eq!(
        order_in_words(&[], &names),
        " The longest consistent order is empty."
    );
}

#[test]
fn operations_that_touch_in_time_are_concurrent() {
    // The second edit starts at the instant the first one is acknowledged, so either may
    // have taken effect last.
    let mut b = Builder::default();
    edit(&mut b, "c1", 1, 1, json!({"title": "a"}), EntryType::Ok);
    b.invoke("c2", "edit", 2, json!({"key": 1, "intent": {"title": "b"}}))
        .same_instant();
    b.complete("c2", EntryType::Ok, "edit", 2, json!({"key": 1}));
    let st = state("cards", json!([card(1, "a", "-")]));
    assert!(judge(&cards(), &b, &st).is_ok());
    // A gap between them orders them.
    let mut b = Builder::default();
    edit(&mut b, "c1", 1, 1, json!({"title": "a"}), EntryType::Ok);
    edit(&mut b, "c2", 2, 1, json!({"title": "b"}), EntryType::Ok);
    assert!(!judge(&cards(), &b, &st).is_ok());
}

#[test]
fn its_debug_form_names_what_it_checks() {
    let text = format!("{:?}", cards());
    for part in [
        "Linearizable",
        "Register",
        "\"/key\"",
        "\"title\"",
        "\"cards\"",
    ] {
        assert!(text.contains(part), "{part} in {text}");
    }
}

#[test]
fn the_final_read_follows_the_last_acknowledgement() {
    // The edit is acknowledged last; a final state without it lost an acknowledged write,
    // however close to the end of the run the acknowledgement came.
    let mut b = Builder::default();
    edit(&mut b, "c1", 1, 1, json!({"title": "a"}), EntryType::Ok);
    let lost = state("cards", json!([card(1, "-", "-")]));
    assert!(!judge(&cards(), &b, &lost).is_ok());
    assert!(judge(&cards(), &b, &state("cards", json!([card(1, "a", "-")]))).is_ok());
    // An edit still unanswered when the run ended may or may not have landed.
    b.invoke("c2", "edit", 2, json!({"key": 1, "intent": {"title": "b"}}));
    for title in ["a", "b"] {
        let st = state("cards", json!([card(1, title, "-")]));
        assert!(judge(&cards(), &b, &st).is_ok(), "{title}");
    }
}
