//! Hand-written histories with known answers, one per classic case, for every model.

use faultline::history::{Entry, EntryType, History};
use faultline::linear::{
    check, from_history, Action, Limits, Mapping, Model, Op, Outcome, Status, Value,
};

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn ok(p: &str, action: Action, invoke: u64, complete: u64) -> Op {
    Op::new(p, action, Status::Ok, invoke, Some(complete))
}

fn read(v: Option<i64>) -> Action {
    Action::Read(Some(v.map_or(Value::Nil, int)))
}

fn answer(ops: &[Op], model: Model) -> Outcome {
    check(ops, model, &Limits::default()).unwrap()
}

fn linearizable(ops: &[Op], model: Model) -> bool {
    match answer(ops, model) {
        Outcome::Linearizable => true,
        Outcome::NotLinearizable(_) => false,
        Outcome::Unknown(r) => panic!("unknown: {r}"),
    }
}

#[test]
fn stale_read_after_a_completed_write_is_caught_with_a_witness() {
    let ops = [
        ok("a", Action::Write(int(1)), 0, 10),
        ok("b", read(Some(1)), 11, 12),
        ok("c", read(None), 13, 14),
    ];
    let Outcome::NotLinearizable(w) = answer(&ops, Model::Register) else {
        panic!("a read of nil after the write of 1 completed must be caught");
    };
    assert_eq!(w.prefix, vec![0, 1]);
    assert_eq!(w.breaking, 2);
    assert_eq!(w.state, int(1));
    assert!(w.explanation.contains("returned nil"), "{}", w.explanation);
}

#[test]
fn concurrent_write_and_reads_that_can_be_ordered() {
    // The write overlaps both reads: old value then new value is a valid order.
    let ops = [
        ok("a", Action::Write(int(1)), 0, 100),
        ok("b", read(None), 10, 20),
        ok("c", read(Some(1)), 30, 40),
        ok("b", read(Some(1)), 50, 60),
    ];
    assert!(linearizable(&ops, Model::Register));
    // But once a read has seen the new value, a later read cannot see the old one.
    let ops = [
        ok("a", Action::Write(int(1)), 0, 100),
        ok("b", read(Some(1)), 10, 20),
        ok("c", read(None), 30, 40),
    ];
    assert!(!linearizable(&ops, Model::Register));
}

#[test]
fn an_info_write_may_take_effect_later_or_never() {
    let info_write = Op::new("a", Action::Write(int(2)), Status::Info, 0, None);
    // Seen long after its invoke: it took effect late.
    let late = [
        info_write.clone(),
        ok("b", read(None), 10, 20),
        ok("b", read(Some(2)), 1000, 1010),
    ];
    assert!(linearizable(&late, Model::Register));
    // Never seen: it never happened.
    let never = [info_write.clone(), ok("b", read(None), 1000, 1010)];
    assert!(linearizable(&never, Model::Register));
    // But it cannot take effect twice, nor before its invoke.
    let before = [
        ok("b", read(Some(2)), 0, 5),
        Op::new("a", Action::Write(int(2)), Status::Info, 10, None),
    ];
    assert!(!linearizable(&before, Model::Register));
}

#[test]
fn a_failed_operation_never_took_effect() {
    let ops = [
        ok("a", Action::Write(int(1)), 0, 1),
        Op::new("b", Action::Cas(int(1), int(5)), Status::Fail, 2, Some(3)),
        ok("c", read(Some(1)), 4, 5),
    ];
    assert!(linearizable(&ops, Model::CasRegister));
    let seen = [
        ok("a", Action::Write(int(1)), 0, 1),
        Op::new("b", Action::Cas(int(1), int(5)), Status::Fail, 2, Some(3)),
        ok("c", read(Some(5)), 4, 5),
    ];
    assert!(!linearizable(&seen, Model::CasRegister));
}

#[test]
fn cas_register_cases() {
    let ok_cas = [
        ok("a", Action::Write(int(1)), 0, 1),
        ok("b", Action::Cas(int(1), int(4)), 2, 3),
        ok("c", read(Some(4)), 4, 5),
    ];
    assert!(linearizable(&ok_cas, Model::CasRegister));
    // A cas cannot succeed from a value the register never held.
    let impossible = [
        ok("a", Action::Write(int(1)), 0, 1),
        ok("b", Action::Cas(int(2), int(4)), 2, 3),
    ];
    let Outcome::NotLinearizable(w) = answer(&impossible, Model::CasRegister) else {
        panic!("expected a violation");
    };
    assert!(
        w.explanation.contains("needs the register to hold 2"),
        "{}",
        w.explanation
    );
    // Two concurrent cas from the same old value cannot both succeed.
    let both = [
        ok("a", Action::Write(int(0)), 0, 1),
        ok("b", Action::Cas(int(0), int(1)), 2, 10),
        ok("c", Action::Cas(int(0), int(2)), 3, 11),
    ];
    assert!(!linearizable(&both, Model::CasRegister));
    // An info cas may have happened.
    let maybe = [
        ok("a", Action::Write(int(0)), 0, 1),
        Op::new("b", Action::Cas(int(0), int(7)), Status::Info, 2, None),
        ok("c", read(Some(7)), 20, 21),
        ok("c", read(Some(7)), 22, 23),
    ];
    assert!(linearizable(&maybe, Model::CasRegister));
}

#[test]
fn kv_keys_are_independent() {
    let k = |s: &str| Value::Str(s.into());
    let ops = [
        ok("a", Action::Write(int(1)), 0, 1).with_key(k("x")),
        ok("b", Action::Write(int(2)), 0, 1).with_key(k("y")),
        ok("c", read(Some(1)), 2, 3).with_key(k("x")),
        ok("c", read(Some(2)), 4, 5).with_key(k("y")),
        ok("a", Action::Append(int(9)), 6, 7).with_key(k("z")),
        ok("b", Action::Read(Some(Value::Vector(vec![int(9)]))), 8, 9).with_key(k("z")),
    ];
    assert!(linearizable(&ops, Model::Kv));
    // The same values read under the other key are stale.
    let mut crossed = ops.to_vec();
    crossed[2].action = read(Some(2));
    let Outcome::NotLinearizable(w) = answer(&crossed, Model::Kv) else {
        panic!("a read of y's value from x must be caught");
    };
    assert_eq!(w.key, Some(k("x")));
    // With many keys on many threads the answer is the same, and so is the witness.
    let limits = Limits {
        jobs: 4,
        ..Limits::default()
    };
    assert_eq!(
        check(&crossed, Model::Kv, &limits).unwrap(),
        Outcome::NotLinearizable(w)
    );
}

#[test]
fn a_model_refuses_operations_it_does_not_have() {
    let ops = [ok("a", Action::Cas(int(1), int(2)), 0, 1)];
    let err = check(&ops, Model::Register, &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("read and write"), "{err}");
    let ops = [ok("a", Action::Append(int(1)), 0, 1)];
    assert!(check(&ops, Model::CasRegister, &Limits::default()).is_err());
}

#[test]
fn a_deep_history_does_not_overflow_the_stack() {
    // Sixteen thousand sequential operations: the search goes sixteen thousand deep.
    let mut ops = Vec::new();
    for i in 0..8_000u64 {
        ops.push(ok("a", Action::Write(int(i as i64)), 4 * i, 4 * i + 1));
        ops.push(ok("b", read(Some(i as i64)), 4 * i + 2, 4 * i + 3));
    }
    assert!(linearizable(&ops, Model::Register));
    ops.last_mut().unwrap().action = read(Some(-1));
    assert!(!linearizable(&ops, Model::Register));
}

#[test]
fn a_tiny_time_limit_answers_unknown() {
    // Many concurrent writes of distinct values and an impossible read at the end keep
    // the search busy far beyond a millisecond.
    let mut ops: Vec<Op> = (0..40)
        .map(|i| ok(&format!("p{i}"), Action::Write(int(i)), 0, 1000))
        .collect();
    ops.extend((0..40).map(|i| ok(&format!("r{i}"), read(Some(i)), 0, 1000)));
    ops.push(ok("z", read(Some(99)), 2000, 2001));
    let limits = Limits {
        time: Some(std::time::Duration::from_millis(1)),
        ..Limits::default()
    };
    assert!(matches!(
        check(&ops, Model::Register, &limits).unwrap(),
        Outcome::Unknown(r) if r.contains("time")
    ));
    let limits = Limits {
        memory_bytes: Some(64 * 1024),
        ..Limits::default()
    };
    assert!(matches!(
        check(&ops, Model::Register, &limits).unwrap(),
        Outcome::Unknown(r) if r.contains("memory")
    ));
}

fn entry(
    process: &str,
    kind: EntryType,
    f: &str,
    op: u32,
    value: serde_json::Value,
    t: u64,
) -> Entry {
    Entry {
        index: 0,
        time_us: t,
        process: process.into(),
        kind,
        f: f.into(),
        op: Some(op),
        value,
        error: None,
    }
}

#[test]
fn a_faultline_history_judged_as_a_register_per_row() {
    use serde_json::json;
    let mut h = History::default();
    // Another table's operations are ignored by the mapping.
    h.push(entry(
        "c1",
        EntryType::Invoke,
        "create",
        1,
        json!({"name": "x"}),
        0,
    ));
    h.push(entry(
        "c1",
        EntryType::Ok,
        "create",
        1,
        json!({"slug": "x"}),
        5,
    ));
    h.push(entry(
        "c1",
        EntryType::Invoke,
        "save",
        2,
        json!({"row": 7, "v": "a"}),
        10,
    ));
    h.push(entry(
        "c2",
        EntryType::Invoke,
        "load",
        3,
        json!({"row": 7}),
        12,
    ));
    h.push(entry("c1", EntryType::Ok, "save", 2, json!({"row": 7}), 20));
    h.push(entry(
        "c2",
        EntryType::Ok,
        "load",
        3,
        json!({"row": 7, "v": null}),
        22,
    ));
    h.push(entry(
        "c2",
        EntryType::Invoke,
        "load",
        4,
        json!({"row": 7}),
        30,
    ));
    h.push(entry(
        "c2",
        EntryType::Ok,
        "load",
        4,
        json!({"row": 7, "v": null}),
        31,
    ));
    let mapping = Mapping {
        read: vec!["load".into()],
        write: vec!["save".into()],
        cas: vec![],
        append: vec![],
        key_field: "row".into(),
        value_field: "v".into(),
    };
    let ops = from_history(&h, &mapping).unwrap();
    assert_eq!(ops.len(), 3);
    assert_eq!(ops[0].key, Some(int(7)));
    // The first load overlaps the save and may see the old value; the second cannot.
    let Outcome::NotLinearizable(w) = answer(&ops, Model::Register) else {
        panic!("the second load is stale");
    };
    assert_eq!(w.breaking, 2);
}
