//! The backoff-policy sweep: contending clients times retry policies on the
//! optimistic-locking workload, measured in the simulator.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::retry::Backoff;
use crate::error::{Error, Result};
use crate::history::EntryType;
use crate::runner::Loaded;
use crate::scenario::Scenario;
use crate::system::SweepFactory;

const SCENARIO: &str = r#"
name = "{logic}"
description = "Every client makes one optimistic-locking write to the same row, retrying on conflict."
logic = "{logic}"
[network]
tick_ms = 2
latency_ms = [2, 10]
timeout_ms = 10000
[phases]
safety_ms = 600000
liveness_ms = 60000
"#;

/// Sweep settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepConfig {
    /// Contending client counts.
    pub clients: Vec<u64>,
    /// Seeds per (clients, policy) point.
    pub seeds: u64,
    /// Base delay of every policy.
    pub base_ms: u64,
    /// Largest delay.
    pub cap_ms: u64,
}

impl Default for SweepConfig {
    fn default() -> Self {
        Self {
            clients: vec![2, 4, 8, 16, 32, 64],
            seeds: 5,
            base_ms: 10,
            cap_ms: 2000,
        }
    }
}

/// One (clients, policy) point, averaged over seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Contending clients.
    pub clients: u64,
    /// Backoff policy.
    pub policy: String,
    /// Seeds averaged.
    pub seeds: u64,
    /// Guarded writes sent, all clients together, per run.
    pub attempts: f64,
    /// Simulated milliseconds until the last client finished.
    pub completion_ms: f64,
    /// Share of guarded writes that hit a version conflict.
    pub conflict_rate: f64,
    /// Clients that gave up, per run.
    pub gave_up: f64,
}

struct Sample {
    attempts: u64,
    conflicts: u64,
    completion_us: u64,
    gave_up: u64,
}

fn one_run(
    make: &SweepFactory,
    scenario: &Scenario,
    clients: u64,
    policy: Backoff,
    seed: u64,
    cfg: &SweepConfig,
) -> Result<Sample> {
    let (base_ms, cap_ms) = (cfg.base_ms, cfg.cap_ms);
    let loaded = Loaded::with_logic(scenario.clone(), &|_| Ok(make(clients, base_ms, cap_ms)))?;
    let plan = loaded.plan(policy.name(), seed)?;
    let (_, out) = loaded.execute(&plan)?;
    let mut s = Sample {
        attempts: 0,
        conflicts: 0,
        completion_us: 0,
        gave_up: 0,
    };
    for op in out.history.operations() {
        let r = op.result();
        s.attempts += r.get("attempts").and_then(Value::as_u64).unwrap_or(1);
        s.conflicts += r.get("conflicts").and_then(Value::as_u64).unwrap_or(0);
        s.completion_us = s.completion_us.max(op.last().time_us);
        s.gave_up += u64::from(op.outcome() != EntryType::Ok);
    }
    Ok(s)
}

/// Runs the sweep on `jobs` threads; `tick` is called after each run with (done, total).
pub fn run(
    make: &SweepFactory,
    cfg: &SweepConfig,
    jobs: usize,
    tick: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<SweepPoint>> {
    let work: Vec<(u64, Backoff, u64)> = cfg
        .clients
        .iter()
        .flat_map(|&c| {
            Backoff::ALL
                .into_iter()
                .flat_map(move |p| (1..=cfg.seeds).map(move |s| (c, p, s)))
        })
        .collect();
    // The scenario names whichever system the registry marked for the sweep.
    let Some(&first) = cfg.clients.first() else {
        return Ok(Vec::new());
    };
    let logic = make(first, cfg.base_ms, cfg.cap_ms).name().to_string();
    let scenario = Scenario::parse("sweep.toml".as_ref(), SCENARIO.replace("{logic}", &logic))?;
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let samples: Mutex<Vec<Option<Result<Sample>>>> =
        Mutex::new((0..work.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(c, p, s)) = work.get(i) else { break };
                let r = one_run(make, &scenario, c, p, s, cfg);
                samples.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                tick(done.fetch_add(1, Ordering::Relaxed) + 1, work.len());
            });
        }
    });
    let samples = samples.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut points = Vec::new();
    for (chunk, items) in samples
        .chunks(cfg.seeds as usize)
        .zip(work.chunks(cfg.seeds as usize))
    {
        let mut acc = (0.0, 0.0, 0.0, 0.0);
        for s in chunk {
            let s = match s {
                Some(Ok(s)) => s,
                Some(Err(e)) => {
                    let e = format!("{e}");
                    return Err(Error::during("sweep run failed", e.into()));
                }
                None => return Err(Error::Harness("a sweep worker stopped early".into())),
            };
            acc.0 += s.attempts as f64;
            acc.1 += s.conflicts as f64;
            acc.2 += s.completion_us as f64 / 1000.0;
            acc.3 += s.gave_up as f64;
        }
        let n = chunk.len() as f64;
        points.push(SweepPoint {
            clients: items[0].0,
            policy: items[0].1.name().to_string(),
            seeds: cfg.seeds,
            attempts: acc.0 / n,
            completion_ms: acc.2 / n,
            conflict_rate: if acc.0 > 0.0 { acc.1 / acc.0 } else { 0.0 },
            gave_up: acc.3 / n,
        });
    }
    Ok(points)
}
