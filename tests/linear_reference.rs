//! The fast checker against a brute-force one that tries every order, on small random
//! histories recorded from a real sequential object under random concurrency, some with
//! wrong reads injected. Agreement on thousands of these is what says the search is right.

use faultline::linear::{check, Action, Limits, Model, Op, Outcome, Status, Value};
use proptest::prelude::*;

/// A tiny deterministic generator, so a failing case is reproduced from its seed alone.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone)]
struct Pending {
    op: usize,
    applied: bool,
}

/// Records a history of `n` operations by `procs` processes on a real object: each
/// operation takes effect at a random moment between its invoke and its completion.
fn record(seed: u64, n: usize, procs: usize, model: Model, keys: u64) -> Vec<Op> {
    let mut rng = Rng(seed | 1);
    let mut state: Vec<Value> = vec![Value::Nil; keys as usize];
    let mut ops: Vec<Op> = Vec::new();
    let mut pending: Vec<Option<Pending>> = vec![None; procs];
    let mut t = 0u64;
    let small = |r: &mut Rng| Value::Int(r.below(3) as i64);
    while ops.len() < n || pending.iter().any(Option::is_some) {
        t += 1;
        let p = rng.below(procs as u64) as usize;
        match pending[p].clone() {
            None if ops.len() < n => {
                let key = rng.below(keys);
                let action = match (model, rng.below(3)) {
                    (_, 0) => Action::Read(None),
                    (Model::CasRegister, 2) => Action::Cas(small(&mut rng), small(&mut rng)),
                    (Model::Kv, 2) => Action::Append(small(&mut rng)),
                    _ => Action::Write(small(&mut rng)),
                };
                let mut op = Op::new(format!("p{p}"), action, Status::Ok, t, None);
                if model == Model::Kv {
                    op = op.with_key(Value::Int(key as i64));
                }
                pending[p] = Some(Pending {
                    op: ops.len(),
                    applied: false,
                });
                ops.push(op);
            }
            None => {}
            Some(Pending { op, applied: false }) => {
                // Crash before taking effect: an unknown outcome that never happened.
                if rng.chance(8) {
                    ops[op].status = Status::Info;
                    pending[p] = None;
                    continue;
                }
                let k = ops[op].key.as_ref().map_or(0, |k| match k {
                    Value::Int(i) => *i as usize,
                    _ => 0,
                });
                let s = &mut state[k];
                match &mut ops[op].action {
                    Action::Read(r) => *r = Some(s.clone()),
                    Action::Write(v) => *s = v.clone(),
                    Action::Cas(a, b) => {
                        if *s == *a {
                            *s = b.clone();
                        } else {
                            ops[op].status = Status::Fail;
                        }
                    }
                    Action::Append(v) => *s = appended(s, v),
                }
                pending[p] = Some(Pending { op, applied: true });
            }
            Some(Pending { op, applied: true }) => {
                ops[op].complete = Some(t);
                // Took effect, but the client never heard back.
                if rng.chance(12) && ops[op].status == Status::Ok {
                    ops[op].status = Status::Info;
                    if let Action::Read(r) = &mut ops[op].action {
                        *r = None;
                    }
                }
                pending[p] = None;
            }
        }
    }
    ops
}

/// Makes one read lie, which may or may not break linearizability.
fn corrupt(ops: &mut [Op], seed: u64) {
    let mut rng = Rng(seed.wrapping_mul(31) | 1);
    let reads: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].status == Status::Ok && matches!(ops[i].action, Action::Read(Some(_))))
        .collect();
    if reads.is_empty() {
        return;
    }
    let i = reads[rng.below(reads.len() as u64) as usize];
    ops[i].action = Action::Read(Some(match rng.below(4) {
        3 => Value::Nil,
        v => Value::Int(v as i64),
    }));
}

/// The documented append: a list gains an element; nil is the empty list; any other value
/// becomes the first element of a list.
fn appended(state: &Value, v: &Value) -> Value {
    match state {
        Value::Vector(items) => {
            let mut items = items.clone();
            items.push(v.clone());
            Value::Vector(items)
        }
        Value::Nil => Value::Vector(vec![v.clone()]),
        other => Value::Vector(vec![other.clone(), v.clone()]),
    }
}

fn apply(model: Model, state: &Value, action: &Action) -> Option<Value> {
    match action {
        Action::Read(None) => Some(state.clone()),
        Action::Read(Some(v)) => (v == state).then(|| state.clone()),
        Action::Write(v) => Some(v.clone()),
        Action::Cas(a, b) => (a == state).then(|| b.clone()),
        Action::Append(v) => {
            assert_eq!(model, Model::Kv);
            Some(appended(state, v))
        }
    }
}

/// Tries every order of the operations that may have happened, with no partitioning,
/// pruning nothing but what real time forbids.
fn brute_force(ops: &[Op], model: Model) -> bool {
    let live: Vec<&Op> = ops
        .iter()
        .filter(|o| match o.status {
            Status::Ok => true,
            Status::Fail => false,
            Status::Info => !matches!(o.action, Action::Read(_)),
        })
        .collect();
    fn key(o: &Op) -> usize {
        match &o.key {
            Some(Value::Int(i)) => *i as usize,
            _ => 0,
        }
    }
    fn go(live: &[&Op], model: Model, used: &mut Vec<bool>, state: &mut Vec<Value>) -> bool {
        let all_ok_done = live
            .iter()
            .zip(used.iter())
            .all(|(o, &u)| u || o.status != Status::Ok);
        if all_ok_done {
            return true;
        }
        for i in 0..live.len() {
            if used[i] {
                continue;
            }
            // An ok operation that completed before this one was invoked must come first.
            let blocked = live.iter().zip(used.iter()).any(|(o, &u)| {
                !u && o.status == Status::Ok && o.complete.is_some_and(|c| c < live[i].invoke)
            });
            if blocked {
                continue;
            }
            let k = key(live[i]);
            let Some(next) = apply(model, &state[k], &live[i].action) else {
                continue;
            };
            let before = std::mem::replace(&mut state[k], next);
            used[i] = true;
            if go(live, model, used, state) {
                return true;
            }
            used[i] = false;
            state[k] = before;
        }
        false
    }
    let mut used = vec![false; live.len()];
    let mut state = vec![Value::Nil; 4];
    go(&live, model, &mut used, &mut state)
}

fn fast(ops: &[Op], model: Model) -> bool {
    let limits = Limits {
        jobs: 2,
        ..Limits::default()
    };
    match check(ops, model, &limits).expect("generated histories use the model's operations") {
        Outcome::Linearizable => true,
        Outcome::NotLinearizable(w) => {
            // The witness's prefix must itself be a legal order.
            assert!(w.prefix.len() <= ops.len());
            false
        }
        Outcome::Unknown(r) => panic!("no limit was set, yet: {r}"),
    }
}

fn models() -> impl Strategy<Value = Model> {
    prop_oneof![
        Just(Model::Register),
        Just(Model::CasRegister),
        Just(Model::Kv)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn fast_checker_agrees_with_brute_force(
        seed in any::<u64>(),
        n in 1usize..=7,
        procs in 1usize..=4,
        model in models(),
        lie in any::<bool>(),
    ) {
        let keys = if model == Model::Kv { 2 } else { 1 };
        let mut ops = record(seed, n, procs, model, keys);
        let honest = brute_force(&ops, model);
        prop_assert!(honest, "a recorded history must be linearisable: {ops:?}");
        prop_assert!(fast(&ops, model), "{ops:?}");
        if lie {
            corrupt(&mut ops, seed);
        }
        prop_assert_eq!(fast(&ops, model), brute_force(&ops, model), "{:?}", ops);
    }
}

#[test]
fn the_generator_makes_both_answers() {
    // Without this, agreement could come from histories that are all trivially fine.
    let (mut yes, mut no) = (0, 0);
    for seed in 1..400u64 {
        let mut ops = record(seed, 7, 3, Model::CasRegister, 1);
        corrupt(&mut ops, seed);
        if brute_force(&ops, Model::CasRegister) {
            yes += 1;
        } else {
            no += 1;
        }
    }
    assert!(yes > 40 && no > 40, "linearisable {yes}, not {no}");
}
