//! Checks a parsed scenario against the documented bounds of [`crate::limits`]: every
//! range ordered, every count and duration finite and small enough that a run can
//! neither allocate without limit nor overflow, every error at the key that is wrong.

use super::{Scenario, Span};
use crate::error::Result;
use crate::limits::{
    workload_bound, MAX_FAULTS_PER_KIND, MAX_PHASE_MS, MAX_REPLICAS, MAX_TICK_MS, MIN_TICK_MS,
};

/// What a knob counts, which decides its bound.
#[derive(Clone, Copy)]
enum Kind {
    /// Events per run of one fault kind.
    Count,
    /// A duration in milliseconds.
    Duration,
}

impl Scenario {
    /// Refuses inverted ranges and values outside the documented bounds, pointing at the
    /// key (inside `[profiles.NAME]` when the profile set it).
    pub(crate) fn check_spans(&self) -> Result<()> {
        let f = &self.file;
        let x = &f.faults;
        use Kind::{Count, Duration};
        let spans: [(&str, &str, Span<u64>, Kind); 31] = [
            ("network", "latency_ms", f.network.latency_ms, Duration),
            ("network", "timeout_ms", f.network.timeout_ms, Duration),
            ("auth", "access_ttl_ms", f.auth.access_ttl_ms, Duration),
            ("faults", "partitions", x.partitions, Count),
            ("faults", "oneway_partitions", x.oneway_partitions, Count),
            ("faults", "partition_ms", x.partition_ms, Duration),
            (
                "faults",
                "oneway_partition_ms",
                x.oneway_window_ms(),
                Duration,
            ),
            ("faults", "holds", x.holds, Count),
            ("faults", "hold_ms", x.hold_ms, Duration),
            ("faults", "latency_spikes", x.latency_spikes, Count),
            ("faults", "spike_latency_ms", x.spike_latency_ms, Duration),
            ("faults", "spike_ms", x.spike_ms, Duration),
            ("faults", "revocations", x.revocations, Count),
            ("faults", "disconnections", x.disconnections, Count),
            ("faults", "disconnection_ms", x.disconnection_ms, Duration),
            ("faults", "outages", x.outages, Count),
            ("faults", "outage_ms", x.outage_ms, Duration),
            ("faults", "replica_partitions", x.replica_partitions, Count),
            (
                "faults",
                "replica_partition_ms",
                x.replica_partition_ms,
                Duration,
            ),
            ("faults", "replica_lag_spikes", x.replica_lag_spikes, Count),
            (
                "faults",
                "replica_spike_lag_ms",
                x.replica_spike_lag_ms,
                Duration,
            ),
            ("faults", "replica_spike_ms", x.replica_spike_ms, Duration),
            (
                "faults",
                "replica_link_faults",
                x.replica_link_faults,
                Count,
            ),
            ("faults", "replica_link_ms", x.replica_link_ms, Duration),
            ("faults", "offline", x.offline, Count),
            ("faults", "offline_ms", x.offline_ms, Duration),
            ("faults", "crashes", x.crashes, Count),
            ("faults", "crash_ms", x.crash_ms, Duration),
            ("faults", "skews", x.skews, Count),
            ("faults", "skew_ms", x.skew_ms, Duration),
            ("replicas", "lag_ms", f.replicas.lag_ms, Duration),
        ];
        for (section, key, span, kind) in spans {
            if !span.is_ordered() {
                return Err(self.error_at(
                    &[section, key],
                    format!("`{section}.{key}`: expected [low, high] with low <= high"),
                ));
            }
            let (max, what) = match kind {
                Count => (MAX_FAULTS_PER_KIND, "MAX_FAULTS_PER_KIND"),
                Duration => (MAX_PHASE_MS, "MAX_PHASE_MS"),
            };
            if span.bounds().1 > max {
                return Err(self.error_at(
                    &[section, key],
                    format!(
                        "`{section}.{key}`: {} is too large; expected at most {max} ({what})",
                        span.bounds().1
                    ),
                ));
            }
        }
        let scalars = [
            (
                "network",
                "tick_ms",
                f.network.tick_ms,
                MIN_TICK_MS,
                MAX_TICK_MS,
            ),
            (
                "auth",
                "reuse_interval_ms",
                f.auth.reuse_interval_ms,
                0,
                MAX_PHASE_MS,
            ),
            ("phases", "safety_ms", f.phases.safety_ms, 0, MAX_PHASE_MS),
            (
                "phases",
                "liveness_ms",
                f.phases.liveness_ms,
                0,
                MAX_PHASE_MS,
            ),
            ("replicas", "count", f.replicas.count, 0, MAX_REPLICAS),
        ];
        for (section, key, v, lo, hi) in scalars {
            if !(lo..=hi).contains(&v) {
                return Err(self.error_at(
                    &[section, key],
                    format!("`{section}.{key}`: {v} is out of bounds; expected {lo} to {hi}"),
                ));
            }
        }
        if !(0.0..=1.0).contains(&x.outage_drop) {
            return Err(self.error_at(
                &["faults", "outage_drop"],
                "`faults.outage_drop`: expected a chance between 0 and 1".into(),
            ));
        }
        self.check_workload_numbers()
    }

    /// Bounds every number of `[workload]` by what its key means (client counts, shares,
    /// durations, ...; see [`workload_bound`]), refuses NaN and infinities anywhere in it,
    /// and requires every `[low, high]` pair to be ordered, whatever the logic's own
    /// validation checks later.
    fn check_workload_numbers(&self) -> Result<()> {
        for (key, value) in &self.file.workload {
            // Each number with its text as written: an i64 shown as an f64 would round.
            let number = |v: &toml::Value| match v {
                toml::Value::Integer(i) => Some((*i as f64, i.to_string())),
                toml::Value::Float(f) => Some((*f, f.to_string())),
                _ => None,
            };
            let numbers: Vec<(f64, String)> = match value {
                toml::Value::Array(a) => a.iter().filter_map(number).collect(),
                v => match number(v) {
                    Some(n) => vec![n],
                    None => continue,
                },
            };
            let at = |msg: String| self.error_at(&["workload", key.as_str()], msg);
            if numbers.iter().any(|(v, _)| !v.is_finite()) {
                return Err(at(format!(
                    "`workload.{key}`: expected finite numbers, not inf or nan"
                )));
            }
            if numbers.len() == 2 && numbers[0].0 > numbers[1].0 {
                return Err(at(format!(
                    "`workload.{key}`: expected [low, high] with low <= high"
                )));
            }
            if let Some((lo, hi, what)) = workload_bound(key) {
                if let Some((_, v)) = numbers.iter().find(|(v, _)| *v < lo || *v > hi) {
                    return Err(at(format!(
                        "`workload.{key}`: {v} is out of bounds; expected {what} ({lo} to {hi})"
                    )));
                }
            }
        }
        Ok(())
    }
}
