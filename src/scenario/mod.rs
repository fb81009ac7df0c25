//! Scenario files: TOML that says which logic runs, with which actors, workload, faults,
//! invariants and expected verdicts.
//!
//! Parsing is strict: an unknown key or a malformed value is an [`Error::Input`] naming
//! the file, line and column, so a typo never silently turns a fault off.

mod bounds;
mod locate;
pub mod profile;
mod span;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use locate::span_of;
pub use profile::{ProfileChoice, ProfileSpec};
pub use span::Span;

/// The top level of a scenario file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Short name, used in replay commands.
    pub name: String,
    /// One paragraph for `faultline list`.
    pub description: String,
    /// The seed document the scenario models, under `shared/seeds/`.
    #[serde(default)]
    pub seed_document: Option<String>,
    /// Which built-in logic runs (`business_cards`, ...).
    pub logic: String,
    /// The variants to run; defaults to every variant of the logic.
    #[serde(default)]
    pub variants: Vec<String>,
    /// The invariants to check; defaults to every invariant of the logic.
    #[serde(default)]
    pub invariants: Vec<String>,
    /// The situations a run must reach on some seeds; defaults to every situation the
    /// logic declares, and `[]` turns the guard off for this scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub situations: Option<Vec<String>>,
    /// Network parameters.
    #[serde(default)]
    pub network: NetworkSpec,
    /// Auth parameters.
    #[serde(default)]
    pub auth: AuthSpec,
    /// Phase lengths.
    #[serde(default)]
    pub phases: PhaseSpec,
    /// Read replicas behind the load balancer; none by default.
    #[serde(default)]
    pub replicas: ReplicaSpec,
    /// The fault profile the nemesis draws from.
    #[serde(default)]
    pub faults: FaultProfile,
    /// Logic-specific workload knobs, validated by the logic.
    #[serde(default)]
    pub workload: toml::Table,
    /// Expected verdicts per variant; a variant not listed must hold everything.
    #[serde(default)]
    pub expect: BTreeMap<String, Expectation>,
    /// Named fault profiles, each overriding some of the knobs above.
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileSpec>,
}

/// Network knobs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkSpec {
    /// Simulation tick: the resolution of simulated time.
    pub tick_ms: u64,
    /// One-way message latency range.
    pub latency_ms: Span<u64>,
    /// Client request timeout, after which an outcome is unknown.
    pub timeout_ms: Span<u64>,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        Self {
            tick_ms: 10,
            latency_ms: Span::Range([1, 20]),
            timeout_ms: Span::Fixed(1500),
        }
    }
}

/// Auth knobs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSpec {
    /// Access-token lifetime.
    pub access_ttl_ms: Span<u64>,
    /// Refresh-token reuse interval.
    pub reuse_interval_ms: u64,
}

impl Default for AuthSpec {
    fn default() -> Self {
        Self {
            access_ttl_ms: Span::Fixed(3_600_000),
            reuse_interval_ms: 10_000,
        }
    }
}

/// Phase lengths.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhaseSpec {
    /// Workload and faults.
    pub safety_ms: u64,
    /// Faults healed; the run ends when every client finishes or this runs out.
    pub liveness_ms: u64,
}

impl Default for PhaseSpec {
    fn default() -> Self {
        Self {
            safety_ms: 20_000,
            liveness_ms: 30_000,
        }
    }
}

/// Read replicas: how many, and how far behind the primary they usually are.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplicaSpec {
    /// Number of `replica-N` hosts.
    pub count: u64,
    /// Each replica's usual apply delay after a commit, drawn per replica and seed.
    pub lag_ms: Span<u64>,
}

impl Default for ReplicaSpec {
    fn default() -> Self {
        Self {
            count: 0,
            lag_ms: Span::Range([10, 500]),
        }
    }
}

/// What the nemesis may do, and how much.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultProfile {
    /// Swarm testing: each fault kind is switched on or off per seed, so some seeds
    /// explore one kind of fault in depth instead of every kind a little.
    pub swarm: bool,
    /// Client-to-store or client-to-auth partitions per run.
    pub partitions: Span<u64>,
    /// One-way partitions per run that drop a server's answers to a client while its
    /// requests still arrive and commit (lost acknowledgements).
    pub oneway_partitions: Span<u64>,
    /// How long each partition lasts.
    pub partition_ms: Span<u64>,
    /// How long each one-way partition lasts, when it differs from `partition_ms`: an
    /// answer lost for longer than a client's whole retry budget is what makes it give up
    /// with the outcome unknown although its request committed, a path shorter faults
    /// never reach. Unset, one-way partitions draw from `partition_ms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oneway_partition_ms: Option<Span<u64>>,
    /// Holds per run: messages delayed, then delivered at release.
    pub holds: Span<u64>,
    /// How long each hold lasts; past the client timeout the outcome becomes unknown.
    pub hold_ms: Span<u64>,
    /// Latency spikes per run on a client's link to a server.
    pub latency_spikes: Span<u64>,
    /// One-way latency during a spike; past half the client timeout, requests commit
    /// after the client gave up on them.
    pub spike_latency_ms: Span<u64>,
    /// How long each spike lasts.
    pub spike_ms: Span<u64>,
    /// Revocations of every session of a user.
    pub revocations: Span<u64>,
    /// Full disconnections per run: one client cut off from every server at once (the
    /// browser going offline), not one link at a time.
    pub disconnections: Span<u64>,
    /// How long each disconnection lasts.
    pub disconnection_ms: Span<u64>,
    /// Service interruptions per run: the store and auth take no requests for a while.
    pub outages: Span<u64>,
    /// How long each interruption lasts.
    pub outage_ms: Span<u64>,
    /// Chance that an interruption drops requests unanswered (the client cannot tell
    /// whether they took effect) rather than refusing them with a 503.
    pub outage_drop: f64,
    /// Partitions per run between the primary and a replica: replication stops, and the
    /// replica catches up on repair. Drawn only when the world has replicas.
    pub replica_partitions: Span<u64>,
    /// How long each primary-replica partition lasts.
    pub replica_partition_ms: Span<u64>,
    /// Lag spikes per run on a replica. Drawn only when the world has replicas.
    pub replica_lag_spikes: Span<u64>,
    /// A replica's apply delay during a spike.
    pub replica_spike_lag_ms: Span<u64>,
    /// How long each lag spike lasts.
    pub replica_spike_ms: Span<u64>,
    /// Faults per run on a client's own link to a replica, each one of: requests lost,
    /// answers lost, messages held, the link slowed (by `spike_latency_ms`). Drawn only
    /// when the world has replicas, so reads served by replicas time out and fall back too.
    pub replica_link_faults: Span<u64>,
    /// How long each fault on a client's link to a replica lasts.
    pub replica_link_ms: Span<u64>,
    /// Periods per run in which a device is offline and knows it.
    pub offline: Span<u64>,
    /// How long each offline period lasts.
    pub offline_ms: Span<u64>,
    /// Device crashes per run; each device restarts after its downtime.
    pub crashes: Span<u64>,
    /// How long a crashed device stays down.
    pub crash_ms: Span<u64>,
    /// Devices whose clocks are set wrong, per run.
    pub skews: Span<u64>,
    /// How far a wrong clock is off, either way.
    pub skew_ms: Span<u64>,
}

impl FaultProfile {
    /// How long each one-way partition lasts: `oneway_partition_ms`, else `partition_ms`.
    pub fn oneway_window_ms(&self) -> Span<u64> {
        self.oneway_partition_ms.unwrap_or(self.partition_ms)
    }
}

impl Default for FaultProfile {
    fn default() -> Self {
        Self {
            swarm: true,
            partitions: Span::Fixed(0),
            oneway_partitions: Span::Fixed(0),
            partition_ms: Span::Range([200, 3000]),
            oneway_partition_ms: None,
            holds: Span::Fixed(0),
            hold_ms: Span::Range([100, 4000]),
            latency_spikes: Span::Fixed(0),
            spike_latency_ms: Span::Range([100, 1500]),
            spike_ms: Span::Range([200, 3000]),
            revocations: Span::Fixed(0),
            disconnections: Span::Fixed(0),
            disconnection_ms: Span::Range([1000, 5000]),
            outages: Span::Fixed(0),
            outage_ms: Span::Range([1000, 5000]),
            outage_drop: 0.5,
            replica_partitions: Span::Fixed(0),
            replica_partition_ms: Span::Range([500, 5000]),
            replica_lag_spikes: Span::Fixed(0),
            replica_spike_lag_ms: Span::Range([1000, 5000]),
            replica_spike_ms: Span::Range([500, 4000]),
            replica_link_faults: Span::Fixed(0),
            replica_link_ms: Span::Range([200, 2000]),
            offline: Span::Fixed(0),
            offline_ms: Span::Range([1000, 6000]),
            crashes: Span::Fixed(0),
            crash_ms: Span::Range([200, 2000]),
            skews: Span::Fixed(0),
            skew_ms: Span::Range([500, 10000]),
        }
    }
}

/// What a variant is expected to do.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Invariants this variant is known to violate; every other one must hold.
    #[serde(default)]
    pub violates: Vec<String>,
    /// Invariants this variant may violate on some seeds without that being a finding:
    /// neither required nor refused (for a profile whose faults only sometimes expose it).
    #[serde(default)]
    pub may_violate: Vec<String>,
    /// Why, in words, for the report.
    #[serde(default)]
    pub why: String,
}

/// A parsed scenario file with its source text, for error positions.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Its contents.
    pub file: ScenarioFile,
    /// The profile whose overrides `file` carries, if any.
    pub profile: Option<String>,
}

impl Scenario {
    /// Reads and parses `path` (no logic-specific validation yet).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text =
            String::from_utf8(bytes).map_err(|e| utf8_error(path, e.as_bytes(), e.utf8_error()))?;
        Self::parse(path, text)
    }

    /// Parses scenario text that came from `path`.
    pub fn parse(path: &Path, text: String) -> Result<Self> {
        let file: ScenarioFile = toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))?;
        let s = Scenario {
            path: path.to_path_buf(),
            text,
            file,
            profile: None,
        };
        s.check_spans()?;
        for name in s.file.profiles.keys() {
            if name == profile::BASE || name == profile::ALL {
                return Err(s.error_at(
                    &["profiles", name],
                    format!("`{name}` is a reserved profile name; pick another"),
                ));
            }
            s.with_profile(name)?;
        }
        Ok(s)
    }

    /// What a variant is expected to violate (empty: hold everything).
    pub fn expected_violations(&self, variant: &str) -> Vec<String> {
        self.file
            .expect
            .get(variant)
            .map(|e| e.violates.clone())
            .unwrap_or_default()
    }

    /// Checks `[workload]` knobs: the first `(key, ok)` pair that is not ok becomes an
    /// input error pointing at that key.
    pub fn check_workload(&self, checks: &[(&str, bool)]) -> Result<()> {
        match checks.iter().find(|(_, ok)| !ok) {
            Some((key, _)) => Err(self.error_at(
                &["workload", key],
                format!("`workload.{key}`: expected an ordered range within its limits"),
            )),
            None => Ok(()),
        }
    }
}

/// An input error at the first byte that is not UTF-8.
fn utf8_error(path: &Path, bytes: &[u8], e: std::str::Utf8Error) -> Error {
    let good = e.valid_up_to();
    // The prefix before the bad byte is valid UTF-8 by definition.
    let prefix = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
    Error::at_offset(
        path,
        prefix,
        good,
        format!(
            "invalid UTF-8 (byte 0x{:02x}); expected a UTF-8 text file",
            bytes.get(good).copied().unwrap_or(0)
        ),
    )
}

/// Converts a TOML error into an [`Error::Input`] at its span.
pub fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let offset = e.span().map_or(0, |s| s.start);
    Error::at_offset(path, text, offset, e.message().to_string())
}

/// A system's own `[workload]` knobs: a strict serde type (unknown keys are errors) with
/// defaults, and the checks no serde attribute can state. [`read_workload`] parses and
/// checks them in one call, so every error points at its key.
///
/// ```
/// use faultline::scenario::{Scenario, Span, WorkloadKnobs};
/// #[derive(serde::Deserialize)]
/// #[serde(deny_unknown_fields, default)]
/// struct Knobs { clients: Span<u64> }
/// impl Default for Knobs {
///     fn default() -> Self { Knobs { clients: Span::Range([2, 4]) } }
/// }
/// impl WorkloadKnobs for Knobs {
///     fn validate(&self, scenario: &Scenario) -> faultline::Result<()> {
///         scenario.check_workload(&[("clients", self.clients.within(1, 16))])
///     }
/// }
/// # let _ = faultline::scenario::read_workload::<Knobs>;
/// ```
pub trait WorkloadKnobs: serde::de::DeserializeOwned + Default {
    /// Refuses values no seed could run with (see [`Scenario::check_workload`]).
    fn validate(&self, scenario: &Scenario) -> Result<()>;
}

/// Parses `scenario`'s `[workload]` into `T` and checks it: [`parse_workload`], then
/// [`WorkloadKnobs::validate`].
pub fn read_workload<T: WorkloadKnobs>(scenario: &Scenario) -> Result<T> {
    let knobs: T = parse_workload(scenario)?;
    knobs.validate(scenario)?;
    Ok(knobs)
}

/// Parses the `[workload]` table of `scenario` into a logic's own strict type, keeping
/// positions in error messages.
pub fn parse_workload<T: serde::de::DeserializeOwned + Default>(scenario: &Scenario) -> Result<T> {
    #[derive(Deserialize)]
    struct Outer<T> {
        #[serde(default)]
        workload: Option<T>,
    }
    let outer: Outer<T> = toml::from_str(&scenario.text)
        .map_err(|e| toml_error(&scenario.path, &scenario.text, &e))?;
    let Some(name) = &scenario.profile else {
        return Ok(outer.workload.unwrap_or_default());
    };
    // The merged table has no text to point into, so the profile's key at fault is found
    // by parsing its keys one at a time (the header when no single key fails alone).
    toml::Value::Table(scenario.file.workload.clone())
        .try_into()
        .map_err(|e: toml::de::Error| {
            let alone_fails = |(k, v): &(&String, &toml::Value)| {
                let mut one = toml::Table::new();
                one.insert(k.to_string(), (*v).clone());
                toml::Value::Table(one).try_into::<T>().is_err()
            };
            let culprit = scenario
                .file
                .profiles
                .get(name)
                .and_then(|p| p.workload.iter().find(alone_fails));
            let mut path = vec!["profiles", name.as_str(), "workload"];
            if let Some((k, _)) = culprit {
                path.push(k.as_str());
            }
            scenario.error_at(
                &path,
                format!("profile `{name}` workload: {}", e.message().trim()),
            )
        })
}

#[cfg(test)]
mod tests;
