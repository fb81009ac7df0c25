//! Splitting a history by key and checking the keys on parallel threads.
//!
//! Linearizability is local (Herlihy and Wing's P-compositionality): a history is
//! linearisable exactly when each object's sub-history is, so each key is searched alone,
//! which turns one exponential search into many small ones.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::search::{search, Control, Found};
use super::{witness, Limits, Model, Op, Outcome, Report, Status, Value};

pub(crate) fn run(ops: &[Op], model: Model, limits: &Limits) -> Report {
    let mut by_key: BTreeMap<Option<&Value>, Vec<usize>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        by_key.entry(op.key.as_ref()).or_default().push(i);
    }
    let partitions: Vec<(Option<&Value>, Vec<usize>)> = by_key.into_iter().collect();
    let ops_checked = ops
        .iter()
        .filter(|o| {
            o.status == Status::Ok
                || (o.status == Status::Info && !matches!(o.action, super::Action::Read(_)))
        })
        .count();
    let ctl = Control {
        deadline: limits.time.map(|t| Instant::now() + t),
        memory_limit: limits.memory_bytes,
        memory_used: AtomicUsize::new(0),
        first_failure: AtomicUsize::new(usize::MAX),
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Found>>> =
        Mutex::new((0..partitions.len()).map(|_| None).collect());
    let steps = AtomicUsize::new(0);
    let worker = || {
        let mut my_steps = 0u64;
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= partitions.len() {
                break;
            }
            let found = if ctl.first_failure.load(Ordering::Relaxed) < i {
                Found::Stopped
            } else {
                search(ops, &partitions[i].1, &ctl, i, &mut my_steps)
            };
            if matches!(found, Found::Not { .. }) {
                ctl.first_failure.fetch_min(i, Ordering::Relaxed);
            }
            if let Ok(mut r) = results.lock() {
                r[i] = Some(found);
            }
        }
        steps.fetch_add(my_steps as usize, Ordering::Relaxed);
    };
    let jobs = limits.jobs.clamp(1, partitions.len().max(1));
    if jobs == 1 {
        worker();
    } else {
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(worker);
            }
        });
    }
    let results = results.into_inner().unwrap_or_default();
    let mut unknown = None;
    let mut outcome = Outcome::Linearizable;
    for (i, found) in results.into_iter().enumerate() {
        match found {
            Some(Found::Not { prefix, state }) => {
                let members = &partitions[i].1;
                outcome = Outcome::NotLinearizable(Box::new(witness::build(
                    ops, model, members, prefix, state,
                )));
                break;
            }
            Some(Found::Unknown(reason)) => {
                unknown.get_or_insert(reason);
            }
            Some(Found::Linearizable) | Some(Found::Stopped) | None => {}
        }
    }
    if let (Outcome::Linearizable, Some(reason)) = (&outcome, unknown) {
        outcome = Outcome::Unknown(reason);
    }
    Report {
        outcome,
        partitions: partitions.len(),
        ops_checked,
        steps: steps.load(Ordering::Relaxed) as u64,
    }
}
