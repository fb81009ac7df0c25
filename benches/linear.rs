//! Linearizability checking speed on generated histories: a cas register recorded from a
//! real sequential object under random concurrency (every history is linearisable, so the
//! search does its full work), one with a stale read at the end (a failing search), and a
//! key-value history split over many keys (P-compositionality and threads).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use faultline::linear::{check, Action, Limits, Model, Op, Outcome, Status, Value};

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// `n` operations by `procs` processes; each takes effect at a random moment between its
/// invoke and completion; `info_percent` of completions are lost (info).
fn history(
    n: usize,
    procs: usize,
    keys: u64,
    model: Model,
    seed: u64,
    info_percent: u64,
) -> Vec<Op> {
    let mut rng = Rng(seed | 1);
    let mut state = vec![Value::Nil; keys as usize];
    let mut ops: Vec<Op> = Vec::with_capacity(n);
    // (op, applied)
    let mut pending: Vec<Option<(usize, bool)>> = vec![None; procs];
    let mut t = 0;
    while ops.len() < n || pending.iter().any(Option::is_some) {
        t += 1;
        let p = rng.below(procs as u64) as usize;
        match pending[p] {
            None if ops.len() < n => {
                let v = Value::Int(rng.below(5) as i64);
                let action = match rng.below(3) {
                    0 => Action::Read(None),
                    1 if model == Model::CasRegister => {
                        Action::Cas(Value::Int(rng.below(5) as i64), v)
                    }
                    _ => Action::Write(v),
                };
                let key = Value::Int(rng.below(keys) as i64);
                ops.push(Op::new(p.to_string(), action, Status::Ok, t, None).with_key(key));
                pending[p] = Some((ops.len() - 1, false));
            }
            None => {}
            Some((i, false)) => {
                let k = match ops[i].key {
                    Some(Value::Int(k)) => k as usize,
                    _ => 0,
                };
                match &mut ops[i].action {
                    Action::Read(r) => *r = Some(state[k].clone()),
                    Action::Write(v) => state[k] = v.clone(),
                    Action::Cas(a, b) => {
                        if state[k] == *a {
                            state[k] = b.clone();
                        } else {
                            ops[i].status = Status::Fail;
                        }
                    }
                    Action::Append(_) => {}
                }
                pending[p] = Some((i, true));
            }
            Some((i, true)) => {
                ops[i].complete = Some(t);
                if rng.below(100) < info_percent && ops[i].status == Status::Ok {
                    ops[i].status = Status::Info;
                    if let Action::Read(r) = &mut ops[i].action {
                        *r = None;
                    }
                }
                pending[p] = None;
            }
        }
    }
    ops
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("linear");
    g.sample_size(10);
    for &n in &[1_000usize, 10_000] {
        let ops = history(n, 5, 1, Model::CasRegister, 7, 5);
        assert_eq!(
            check(&ops, Model::CasRegister, &limits).unwrap(),
            Outcome::Linearizable
        );
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("cas_register_ok", n), &ops, |b, ops| {
            b.iter(|| check(ops, Model::CasRegister, &limits).unwrap())
        });
        // Proving a history wrong means exhausting every configuration, and each unknown
        // operation stays open to the end and doubles them: so no unknowns here.
        let mut stale = history(n, 5, 1, Model::CasRegister, 7, 0);
        let t = stale.iter().filter_map(|o| o.complete).max().unwrap_or(0);
        // On the same key as the rest, so every earlier operation must be placed first.
        let key = Value::Int(0);
        let write = Action::Write(Value::Int(99));
        stale.push(Op::new("z", write, Status::Ok, t + 1, Some(t + 2)).with_key(key.clone()));
        let read = Action::Read(Some(Value::Nil));
        stale.push(Op::new("z", read, Status::Ok, t + 3, Some(t + 4)).with_key(key));
        g.bench_with_input(
            BenchmarkId::new("cas_register_stale", n),
            &stale,
            |b, ops| {
                b.iter(|| {
                    let o = check(ops, Model::CasRegister, &limits).unwrap();
                    assert!(matches!(o, Outcome::NotLinearizable(_)));
                })
            },
        );
    }
    let n = 100_000;
    let ops = history(n, 20, 200, Model::Kv, 11, 5);
    g.throughput(Throughput::Elements(n as u64));
    for jobs in [1usize, 2] {
        let limits = Limits {
            jobs,
            ..Limits::default()
        };
        g.bench_with_input(
            BenchmarkId::new(format!("kv_200_keys_jobs{jobs}"), n),
            &ops,
            |b, ops| b.iter(|| check(ops, Model::Kv, &limits).unwrap()),
        );
    }
    // How closely a time limit is honoured: a history whose refutation is hopelessly
    // expensive (forty overlapping writes, forty overlapping reads, then an impossible
    // read), checked with a 100 ms limit; the time measured is the overrun's upper bound.
    let mut hard: Vec<Op> = (0..40)
        .map(|i| {
            Op::new(
                format!("w{i}"),
                Action::Write(Value::Int(i)),
                Status::Ok,
                0,
                Some(1000),
            )
        })
        .collect();
    hard.extend((0..40).map(|i| {
        Op::new(
            format!("r{i}"),
            Action::Read(Some(Value::Int(i))),
            Status::Ok,
            0,
            Some(1000),
        )
    }));
    hard.push(Op::new(
        "z",
        Action::Read(Some(Value::Int(99))),
        Status::Ok,
        2000,
        Some(2001),
    ));
    let limited = Limits {
        time: Some(std::time::Duration::from_millis(100)),
        ..Limits::default()
    };
    g.throughput(Throughput::Elements(1));
    g.bench_function("time_limit_100ms", |b| {
        b.iter(|| {
            let o = check(&hard, Model::Register, &limited).unwrap();
            assert!(matches!(o, Outcome::Unknown(_)));
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
