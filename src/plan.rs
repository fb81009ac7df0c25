//! Plans: everything one run needs, derived from (scenario, seed) and nothing else.
//!
//! A plan is explicit data (workload operations and fault events with their simulated
//! times, the drawn knobs, network parameters) so it can be printed, saved, replayed on
//! another machine and shrunk. Generation draws from one root RNG forked per subsystem by
//! name.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

pub(crate) mod json_span;
mod validate;
use crate::rng::SimRng;
use crate::scenario::{ReplicaSpec, Scenario};
use crate::sim::nemesis;
use crate::store::auth::AuthConfig;
use crate::system::System as ScenarioLogic;
pub use validate::{Invalid, SERVERS};

/// The plan format this build reads and writes.
pub const PLAN_FORMAT: u32 = 1;

/// How long after the last planned operation starts faults may still begin.
const FAULT_TAIL_MS: u64 = 2_000;

/// Everything one run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Format version; plans from another version are refused.
    pub format: u32,
    /// Scenario name.
    pub scenario: String,
    /// The scenario file the plan was made from, so replay can find it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_path: Option<String>,
    /// Which variant of the logic runs.
    pub variant: String,
    /// The seed it came from.
    pub seed: u64,
    /// Every knob drawn for this seed (swarm testing), printed with a failure.
    pub knobs: BTreeMap<String, Value>,
    /// Network parameters.
    pub network: NetParams,
    /// Auth timing.
    pub auth: AuthConfig,
    /// Phase lengths.
    pub phases: Phases,
    /// Logic-specific initial data (rows that exist before the run).
    pub setup: Value,
    /// Read replicas behind the load balancer (absent from plans of worlds without any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<ReplicaParams>,
    /// Each client's operations.
    pub clients: Vec<ClientScript>,
    /// Fault events in time order.
    pub faults: Vec<FaultEvent>,
}

/// Drawn network parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetParams {
    /// Simulation tick.
    pub tick_ms: u64,
    /// Minimum one-way latency.
    pub latency_min_ms: u64,
    /// Maximum one-way latency.
    pub latency_max_ms: u64,
    /// Client request timeout.
    pub timeout_ms: u64,
}

/// Phase lengths.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phases {
    /// When the safety phase ends and every fault is healed.
    pub safety_ms: u64,
    /// How long after that clients may take to finish.
    pub liveness_ms: u64,
}

/// One read replica.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicaParams {
    /// Host name, `replica-N`.
    pub name: String,
    /// How long after a commit the replica applies it, outside lag spikes.
    pub lag_ms: u64,
}

/// One client's script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientScript {
    /// Host name, `client-N`.
    pub name: String,
    /// The user it signs in as.
    pub user: String,
    /// Operations, run one after another.
    pub ops: Vec<PlannedOp>,
}

/// One workload operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedOp {
    /// Operation id, unique within the plan.
    pub id: u32,
    /// Earliest start, in simulated milliseconds (later if the client is still busy).
    pub at_ms: u64,
    /// What to do, in the logic's own vocabulary.
    pub action: Value,
}

/// A fault at a simulated time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultEvent {
    /// When it is applied.
    pub at_ms: u64,
    /// What it does.
    pub fault: Fault,
}

/// The nemesis's vocabulary: paired verbs, as in turmoil.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Drop every message between two hosts.
    Partition {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// End a partition.
    Repair {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// Drop messages from `from` to `to` only: with `from` a server, requests still
    /// commit but their answers are lost, the classic source of unknown outcomes.
    PartitionOneway {
        /// The sender whose messages are dropped.
        from: String,
        /// The receiver.
        to: String,
    },
    /// End a one-way partition.
    RepairOneway {
        /// The sender.
        from: String,
        /// The receiver.
        to: String,
    },
    /// Delay every message between two hosts until released.
    Hold {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// Deliver held messages.
    Release {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// Make every message between two hosts take `ms` one way.
    Slow {
        /// One side.
        a: String,
        /// The other side.
        b: String,
        /// One-way latency during the spike.
        ms: u64,
    },
    /// Return a slowed link to the plan's normal latency range.
    Restore {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// Revoke every session of a user.
    RevokeSessions {
        /// The user.
        user: String,
    },
    /// A replica falls further behind: it applies the log `ms` after each commit instead
    /// of its usual lag, until restored. (A cut between the primary and a replica is a
    /// [`Fault::Partition`] between `store` and `replica-N`: replication stops.)
    ReplicaLag {
        /// The replica host.
        replica: String,
        /// Apply delay during the spike.
        ms: u64,
    },
    /// Return a replica to its usual lag; the backlog that is old enough applies at once.
    ReplicaRestore {
        /// The replica host.
        replica: String,
    },
    /// A device goes offline and knows it (the browser's `offline` event): every link
    /// from it to a server is cut until [`Fault::Online`].
    Offline {
        /// The client host.
        host: String,
    },
    /// The device is back online (the `online` event fires).
    Online {
        /// The client host.
        host: String,
    },
    /// The device crashes: its software stops mid-step, memory is lost, and only what
    /// its local storage had made durable survives.
    Crash {
        /// The client host.
        host: String,
    },
    /// The crashed device boots again and its software starts from local storage.
    Restart {
        /// The client host.
        host: String,
    },
    /// The device's wall clock is set `ms` off the true time (negative: behind).
    Skew {
        /// The client host.
        host: String,
        /// Offset of its clock from true time.
        ms: i64,
    },
    /// Cut a client off from every server host at once (the device goes offline), as
    /// opposed to a [`Fault::Partition`] of one link.
    Disconnect {
        /// The client host.
        client: String,
    },
    /// End a disconnection.
    Reconnect {
        /// The client host.
        client: String,
    },
    /// A service interruption: `server` takes no request until it recovers. It refuses
    /// each with a 503 (the client knows nothing happened) or, with `drop`, closes the
    /// connection unanswered (the client cannot tell).
    Outage {
        /// The server host.
        server: String,
        /// Close connections without an answer instead of refusing.
        drop: bool,
    },
    /// End a service interruption.
    Recover {
        /// The server host.
        server: String,
    },
}

impl Fault {
    /// The fault's verb, as histories and timelines name it.
    pub fn verb(&self) -> &'static str {
        match self {
            Fault::Partition { .. } => "partition",
            Fault::Repair { .. } => "repair",
            Fault::PartitionOneway { .. } => "partition_oneway",
            Fault::RepairOneway { .. } => "repair_oneway",
            Fault::Hold { .. } => "hold",
            Fault::Release { .. } => "release",
            Fault::Slow { .. } => "slow",
            Fault::Restore { .. } => "restore",
            Fault::RevokeSessions { .. } => "revoke_sessions",
            Fault::ReplicaLag { .. } => "replica_lag",
            Fault::ReplicaRestore { .. } => "replica_restore",
            Fault::Offline { .. } => "offline",
            Fault::Online { .. } => "online",
            Fault::Crash { .. } => "crash",
            Fault::Restart { .. } => "restart",
            Fault::Skew { .. } => "skew",
            Fault::Disconnect { .. } => "disconnect",
            Fault::Reconnect { .. } => "reconnect",
            Fault::Outage { .. } => "outage",
            Fault::Recover { .. } => "recover",
        }
    }
}

impl Plan {
    /// Derives the plan for `seed` (the plan does not depend on the variant, so every
    /// variant faces the same workload and faults).
    pub fn generate(
        scenario: &Scenario,
        logic: &dyn ScenarioLogic,
        variant: &str,
        seed: u64,
    ) -> Result<Plan> {
        let root = SimRng::root(seed);
        let f = &scenario.file;
        let mut knobs = BTreeMap::new();
        let mut net_rng = root.fork("network");
        let (lat_lo, lat_hi) = f.network.latency_ms.bounds();
        let latency_max_ms = net_rng.range(lat_lo, lat_hi);
        let network = NetParams {
            tick_ms: f.network.tick_ms,
            latency_min_ms: lat_lo.min(latency_max_ms),
            latency_max_ms,
            timeout_ms: f.network.timeout_ms.draw(&mut net_rng),
        };
        knobs.insert("latency_max_ms".into(), latency_max_ms.into());
        knobs.insert("timeout_ms".into(), network.timeout_ms.into());
        let mut auth_rng = root.fork("auth");
        let auth = AuthConfig {
            access_ttl_ms: f.auth.access_ttl_ms.draw(&mut auth_rng),
            reuse_interval_ms: f.auth.reuse_interval_ms,
        };
        knobs.insert("access_ttl_ms".into(), auth.access_ttl_ms.into());
        let phases = Phases {
            safety_ms: f.phases.safety_ms,
            liveness_ms: f.phases.liveness_ms,
        };
        let replicas = draw_replicas(&f.replicas, root.fork("replicas"), &mut knobs);
        let workload = logic.workload(root.fork("workload"), phases.safety_ms, &mut knobs)?;
        let names: Vec<String> = workload.clients.iter().map(|c| c.name.clone()).collect();
        let users: Vec<String> = workload.clients.iter().map(|c| c.user.clone()).collect();
        // Faults land while the workload is running, not after every client is done.
        let last_op = workload
            .clients
            .iter()
            .flat_map(|c| c.ops.iter().map(|o| o.at_ms))
            .max()
            .unwrap_or(0);
        let window_ms = last_op.saturating_add(FAULT_TAIL_MS).min(phases.safety_ms);
        let replica_names: Vec<String> = replicas.iter().map(|r| r.name.clone()).collect();
        let faults = nemesis::generate(
            &f.faults,
            root.fork("nemesis"),
            &nemesis::Targets {
                clients: &names,
                users: &users,
                replicas: &replica_names,
            },
            window_ms,
            &mut knobs,
        );
        Ok(Plan {
            format: PLAN_FORMAT,
            scenario: f.name.clone(),
            // A relative path only means something from the folder the plan was made
            // in; an absolute one replays from anywhere on this machine (elsewhere,
            // replay falls back to the plan's folder and the scenario's name).
            scenario_path: Some(
                scenario
                    .path
                    .canonicalize()
                    .unwrap_or_else(|_| scenario.path.clone())
                    .to_string_lossy()
                    .into_owned(),
            ),
            variant: variant.into(),
            seed,
            knobs,
            network,
            auth,
            phases,
            setup: workload.setup,
            replicas,
            clients: workload.clients,
            faults,
        })
    }

    /// Number of workload operations plus fault events: the size shrinking reduces.
    pub fn size(&self) -> usize {
        self.clients.iter().map(|c| c.ops.len()).sum::<usize>() + self.faults.len()
    }

    /// Reads a plan file, refusing other formats, foreign or truncated files and plans
    /// outside the documented bounds ([`Plan::validate`]) with a message that names the
    /// file, line and column.
    pub fn load(path: &Path) -> Result<Plan> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => t,
            Err(e) => {
                let good = e.valid_up_to();
                let prefix = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
                return Err(Error::at_offset(
                    path,
                    prefix,
                    good,
                    "invalid UTF-8; expected a faultline plan (JSON)".into(),
                ));
            }
        };
        Self::parse(path, text)
    }

    /// Parses and validates plan text that came from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Plan> {
        let value: Value = serde_json::from_str(text).map_err(|e| json_error(path, &e))?;
        let at = |p: &[&str], message: String| {
            let p: Vec<String> = p.iter().map(|s| s.to_string()).collect();
            Error::at_offset(path, text, json_span::offset_of(text, &p), message)
        };
        match value.get("format") {
            Some(v) if v.as_u64() == Some(u64::from(PLAN_FORMAT)) => {}
            Some(v) => {
                return Err(at(
                    &["format"],
                    format!(
                        "plan format {v} is not supported; this build reads format {PLAN_FORMAT}"
                    ),
                ))
            }
            None => {
                return Err(at(
                    &[],
                    "expected a faultline plan (a JSON object with \"format\")".into(),
                ))
            }
        }
        let plan: Plan = serde_json::from_str(text).map_err(|e| json_error(path, &e))?;
        plan.validate().map_err(|Invalid { path: p, message }| {
            Error::at_offset(path, text, json_span::offset_of(text, &p), message)
        })?;
        Ok(plan)
    }

    /// True when `text` is a plan by its content, whatever the file is called: it is a
    /// JSON object, which no TOML scenario can be (so a truncated plan still reads as a
    /// plan, and is refused as one).
    pub fn looks_like_plan(text: &[u8]) -> bool {
        let start = text.iter().position(|b| !b.is_ascii_whitespace());
        start.is_some_and(|i| text[i] == b'{')
    }

    /// The scenario file this plan was made from, as seen from here: its path as saved
    /// (relative to where it was made), else that path under the plan file's folder or
    /// any folder above it, else the built-in scenario of the plan's name.
    pub fn scenario_source(&self, plan_file: &Path) -> String {
        if let Some(p) = &self.scenario_path {
            let saved = Path::new(p);
            if saved.exists() {
                return p.clone();
            }
            if saved.is_relative() {
                let dir = plan_file.canonicalize().ok();
                let found = dir
                    .iter()
                    .flat_map(|d| d.ancestors().skip(1))
                    .map(|d| d.join(saved))
                    .find(|c| c.exists());
                if let Some(found) = found {
                    return found.to_string_lossy().into_owned();
                }
            }
        }
        self.scenario.clone()
    }

    /// Writes the plan as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("plans always serialise");
        std::fs::write(path, text + "\n").map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Draws each replica's usual lag from its own fork, so the count does not reshuffle
/// anything else and worlds without replicas draw nothing.
fn draw_replicas(
    spec: &ReplicaSpec,
    rng: SimRng,
    knobs: &mut BTreeMap<String, Value>,
) -> Vec<ReplicaParams> {
    (1..=spec.count)
        .map(|i| {
            let name = format!("replica-{i}");
            let lag_ms = spec.lag_ms.draw(&mut rng.fork(&name));
            knobs.insert(format!("{name}.lag_ms"), lag_ms.into());
            ReplicaParams { name, lag_ms }
        })
        .collect()
}

fn json_error(path: &Path, e: &serde_json::Error) -> Error {
    Error::Input {
        file: path.into(),
        line: e.line().max(1),
        column: e.column().max(1),
        message: format!("expected a faultline plan: {e}"),
    }
}

/// What a logic's workload generator returns.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Initial data.
    pub setup: Value,
    /// Client scripts.
    pub clients: Vec<ClientScript>,
}
