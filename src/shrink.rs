//! Shrinking: from a failing plan to a smallest plan that still fails the same invariant.
//!
//! Delta debugging (ddmin) removes chunks of workload operations and fault events while
//! the invariant still fails, then a one-at-a-time pass makes the result 1-minimal (no
//! single remaining event can go), and a last pass simplifies what is left (think times to
//! zero, double submits to single ones). Every candidate is a full deterministic run, so a
//! kept reduction is one the real simulation confirmed.

use serde_json::Value;

use crate::error::Result;
use crate::plan::Plan;
use crate::runner::Loaded;

/// What shrinking achieved.
#[derive(Debug, Clone)]
pub struct Shrunk {
    /// The smallest failing plan found.
    pub plan: Plan,
    /// The invariant it still fails.
    pub invariant: String,
    /// Plan size (operations plus fault events) before.
    pub before: usize,
    /// Plan size after.
    pub after: usize,
    /// Simulation runs spent.
    pub runs: usize,
}

/// One removable piece of a plan: a workload operation or a fault event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Client index, operation index.
    Op(usize, usize),
    /// Fault event index.
    Fault(usize),
}

/// Every removable piece of `plan`, operations first.
pub(crate) fn units(plan: &Plan) -> Vec<Unit> {
    let ops = plan
        .clients
        .iter()
        .enumerate()
        .flat_map(|(c, s)| (0..s.ops.len()).map(move |i| Unit::Op(c, i)));
    ops.chain((0..plan.faults.len()).map(Unit::Fault)).collect()
}

/// `original` with only the `kept` pieces.
pub(crate) fn build(original: &Plan, kept: &[Unit]) -> Plan {
    let mut plan = original.clone();
    for (c, script) in plan.clients.iter_mut().enumerate() {
        let ops = std::mem::take(&mut script.ops);
        script.ops = ops
            .into_iter()
            .enumerate()
            .filter(|(i, _)| kept.contains(&Unit::Op(c, *i)))
            .map(|(_, o)| o)
            .collect();
    }
    plan.faults = original
        .faults
        .iter()
        .enumerate()
        .filter(|(i, _)| kept.contains(&Unit::Fault(*i)))
        .map(|(_, f)| f.clone())
        .collect();
    plan
}

struct Oracle<'a> {
    loaded: &'a Loaded,
    invariant: &'a str,
    runs: usize,
    budget: usize,
}

impl Oracle<'_> {
    fn fails(&mut self, plan: &Plan) -> Result<bool> {
        self.runs += 1;
        self.loaded.violates(plan, self.invariant)
    }

    fn exhausted(&self) -> bool {
        self.runs >= self.budget
    }
}

/// Shrinks `plan`, which must fail `invariant`, spending at most `budget` runs.
pub fn shrink(loaded: &Loaded, plan: &Plan, invariant: &str, budget: usize) -> Result<Shrunk> {
    let mut oracle = Oracle {
        loaded,
        invariant,
        runs: 0,
        budget,
    };
    let before = plan.size();
    let mut kept = units(plan);
    let mut n = 2usize;
    while kept.len() >= 2 && !oracle.exhausted() {
        let chunk = kept.len().div_ceil(n);
        let mut reduced = false;
        for start in (0..kept.len()).step_by(chunk) {
            let candidate: Vec<Unit> = kept
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < start || *i >= start + chunk)
                .map(|(_, u)| *u)
                .collect();
            if oracle.fails(&build(plan, &candidate))? {
                kept = candidate;
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
            if oracle.exhausted() {
                break;
            }
        }
        if !reduced {
            if n >= kept.len() {
                break;
            }
            n = (n * 2).min(kept.len());
        }
    }
    // One at a time, until no single event can be removed.
    let mut i = 0;
    while i < kept.len() && !oracle.exhausted() {
        let mut candidate = kept.clone();
        candidate.remove(i);
        if oracle.fails(&build(plan, &candidate))? {
            kept = candidate;
        } else {
            i += 1;
        }
    }
    let mut best = build(plan, &kept);
    simplify(&mut best, &mut oracle)?;
    // Clients left with nothing to do still take part in the world (hosts, network
    // draws), so dropping them is one more candidate that must still fail, not a given.
    let mut pruned = best.clone();
    pruned
        .clients
        .retain(|c| !c.ops.is_empty() || best.faults.iter().any(|f| mentions(f, &c.name)));
    if pruned.clients.len() < best.clients.len() && oracle.fails(&pruned)? {
        best = pruned;
    }
    let after = best.size();
    Ok(Shrunk {
        plan: best,
        invariant: invariant.to_string(),
        before,
        after,
        runs: oracle.runs,
    })
}

fn mentions(fault: &crate::plan::FaultEvent, host: &str) -> bool {
    serde_json::to_value(&fault.fault)
        .map(|v| v.as_object().is_some_and(|o| o.values().any(|x| x == host)))
        .unwrap_or(false)
}

/// Tries smaller values for waiting times and repeat counts inside actions.
fn simplify(plan: &mut Plan, oracle: &mut Oracle<'_>) -> Result<()> {
    for c in 0..plan.clients.len() {
        for i in 0..plan.clients[c].ops.len() {
            let Some(fields) = plan.clients[c].ops[i]
                .action
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
            else {
                continue;
            };
            for key in fields {
                let simpler = match (&plan.clients[c].ops[i].action[&key], key.as_str()) {
                    (Value::Number(n), k) if k.ends_with("_ms") && n.as_u64() != Some(0) => {
                        Value::from(0)
                    }
                    (Value::Number(n), "submits") if n.as_u64() > Some(1) => Value::from(1),
                    _ => continue,
                };
                if oracle.exhausted() {
                    return Ok(());
                }
                let mut candidate = plan.clone();
                candidate.clients[c].ops[i].action[&key] = simpler;
                if oracle.fails(&candidate)? {
                    *plan = candidate;
                }
            }
        }
    }
    Ok(())
}
