//! Conflict and retry statistics per scenario and variant, from histories.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::history::EntryType;
use crate::runner::Loaded;
use crate::scenario::Scenario;

/// What one variant did over all seeds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VariantStats {
    /// Variant.
    pub variant: String,
    /// Seeds run.
    pub seeds: u64,
    /// Operations invoked.
    pub operations: u64,
    /// Completed ok.
    pub ok: u64,
    /// Failed.
    pub fail: u64,
    /// Unknown outcome (or never completed).
    pub info: u64,
    /// Write attempts (a retried operation counts each attempt).
    pub attempts: u64,
    /// Version conflicts the clients saw.
    pub version_conflicts: u64,
    /// Unique violations (SQLSTATE 23505) the store raised.
    pub unique_violations: u64,
    /// Operations by retries made (0, 1, 2, ... with the last bucket "that many or more").
    pub retries_histogram: BTreeMap<u64, u64>,
    /// Operations that retried at least once.
    pub retried: u64,
    /// Of those, the ones that ended ok.
    pub retried_ok: u64,
    /// Operations that retried and still did not succeed.
    pub give_ups: u64,
    /// Simulated latency, invoke to completion, median (ms).
    pub latency_p50_ms: u64,
    /// 99th percentile (ms).
    pub latency_p99_ms: u64,
}

impl VariantStats {
    /// Version conflicts per write attempt.
    pub fn conflict_rate(&self) -> f64 {
        ratio(self.version_conflicts, self.attempts)
    }

    /// Share of retried operations that ended ok.
    pub fn retry_success_rate(&self) -> f64 {
        if self.retried == 0 {
            1.0
        } else {
            ratio(self.retried_ok, self.retried)
        }
    }

    /// Write attempts per operation.
    pub fn average_attempts(&self) -> f64 {
        ratio(self.attempts, self.operations)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// A target a seed document states for its fix, and whether the run meets it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    /// What is measured.
    pub metric: String,
    /// The document's bound, in words.
    pub bound: String,
    /// The measured value.
    pub value: f64,
    /// Whether it meets the bound.
    pub met: bool,
}

/// The seed document's own targets for a variant, where it states them (`004`: conflict
/// rate under 1%, retry success over 95%, average attempts under 1.5).
pub fn targets(scenario: &str, s: &VariantStats) -> Vec<Target> {
    if scenario != "business_cards" {
        return Vec::new();
    }
    vec![
        Target {
            metric: "version conflict rate".into(),
            bound: "< 1%".into(),
            value: s.conflict_rate(),
            met: s.conflict_rate() < 0.01,
        },
        Target {
            metric: "retry success rate".into(),
            bound: "> 95%".into(),
            value: s.retry_success_rate(),
            met: s.retry_success_rate() > 0.95,
        },
        Target {
            metric: "average attempts".into(),
            bound: "< 1.5".into(),
            value: s.average_attempts(),
            met: s.average_attempts() < 1.5,
        },
    ]
}

const LAST_BUCKET: u64 = 4;

#[derive(Default)]
struct Acc {
    stats: VariantStats,
    latencies_ms: Vec<u64>,
}

fn one_seed(loaded: &Loaded, variant: &str, seed: u64, acc: &mut Acc) -> Result<()> {
    let plan = loaded.plan(variant, seed)?;
    let (_, out) = loaded.execute(&plan)?;
    let s = &mut acc.stats;
    s.seeds += 1;
    s.unique_violations += out.store_errors.get("23505").copied().unwrap_or(0);
    for op in out.history.operations() {
        s.operations += 1;
        match op.outcome() {
            EntryType::Ok => s.ok += 1,
            EntryType::Fail => s.fail += 1,
            _ => s.info += 1,
        }
        let r = op.result();
        let attempts = r
            .get("attempts")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .max(1);
        s.attempts += attempts;
        s.version_conflicts += r.get("conflicts").and_then(Value::as_u64).unwrap_or(0);
        *s.retries_histogram
            .entry((attempts - 1).min(LAST_BUCKET))
            .or_default() += 1;
        if attempts > 1 {
            s.retried += 1;
            if op.is_ok() {
                s.retried_ok += 1;
            } else {
                s.give_ups += 1;
            }
        }
        if let Some(c) = op.completion {
            acc.latencies_ms
                .push((c.time_us - op.invoke.time_us) / 1000);
        }
    }
    Ok(())
}

/// Runs `seeds` seeds of every variant of `scenario` on `jobs` threads.
pub fn collect(
    registry: &crate::system::Registry,
    scenario: &Scenario,
    seeds: u64,
    jobs: usize,
    tick: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<VariantStats>> {
    let variants = Loaded::new(scenario.clone(), registry)?.variants();
    let work: Vec<(usize, u64)> = (0..variants.len())
        .flat_map(|v| (1..=seeds).map(move |s| (v, s)))
        .collect();
    let accs: Mutex<Vec<Acc>> = Mutex::new(variants.iter().map(|_| Acc::default()).collect());
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                let loaded = match Loaded::new(scenario.clone(), registry) {
                    Ok(l) => l,
                    Err(e) => {
                        *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                        return;
                    }
                };
                let mut local: Vec<Acc> = variants.iter().map(|_| Acc::default()).collect();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(v, seed)) = work.get(i) else { break };
                    if let Err(e) = one_seed(&loaded, &variants[v], seed, &mut local[v]) {
                        *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                        break;
                    }
                    tick(done.fetch_add(1, Ordering::Relaxed) + 1, work.len());
                }
                let mut all = accs.lock().unwrap_or_else(|p| p.into_inner());
                for (a, l) in all.iter_mut().zip(local) {
                    merge(a, l);
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let accs = accs.into_inner().unwrap_or_else(|p| p.into_inner());
    Ok(variants
        .into_iter()
        .zip(accs)
        .map(|(variant, acc)| finish(variant, acc))
        .collect())
}

fn merge(into: &mut Acc, from: Acc) {
    let (a, b) = (&mut into.stats, from.stats);
    a.seeds += b.seeds;
    a.operations += b.operations;
    a.ok += b.ok;
    a.fail += b.fail;
    a.info += b.info;
    a.attempts += b.attempts;
    a.version_conflicts += b.version_conflicts;
    a.unique_violations += b.unique_violations;
    a.retried += b.retried;
    a.retried_ok += b.retried_ok;
    a.give_ups += b.give_ups;
    for (k, v) in b.retries_histogram {
        *a.retries_histogram.entry(k).or_default() += v;
    }
    into.latencies_ms.extend(from.latencies_ms);
}

fn finish(variant: String, acc: Acc) -> VariantStats {
    let mut s = acc.stats;
    s.variant = variant;
    let mut h = Histogram::<u64>::new(3).expect("3 significant digits is a valid precision");
    for l in acc.latencies_ms {
        h.saturating_record(l);
    }
    s.latency_p50_ms = h.value_at_quantile(0.5);
    s.latency_p99_ms = h.value_at_quantile(0.99);
    s
}
