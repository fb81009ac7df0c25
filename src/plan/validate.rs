//! Checks a plan against the documented bounds before anything runs: a plan is data a
//! user can edit, and turmoil panics on a duplicate host, an unknown link or an inverted
//! latency range, while a zero tick never advances the clock.

use std::collections::BTreeSet;

use super::{Fault, Plan};
use crate::limits::{
    MAX_CLIENTS, MAX_FAULT_EVENTS, MAX_OPS_PER_CLIENT, MAX_PHASE_MS, MAX_REPLICAS, MAX_TICK_MS,
    MIN_TICK_MS,
};

/// The servers every world has.
pub const SERVERS: &[&str] = &["store", "auth"];

/// A validation failure: the JSON path of the offending field and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Object keys and array indices from the top of the plan.
    pub path: Vec<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

fn bad(path: &[&str], message: String) -> Invalid {
    Invalid {
        path: path.iter().map(|s| s.to_string()).collect(),
        message,
    }
}

fn within(path: &[&str], v: u64, lo: u64, hi: u64) -> Result<(), Invalid> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(bad(
            path,
            format!(
                "{} = {v} is out of bounds; expected {lo} to {hi}",
                path.join(".")
            ),
        ))
    }
}

/// A host name turmoil can register: short, plain ASCII, and not an IP address (turmoil
/// would take it for one).
fn plain_host(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.parse::<std::net::IpAddr>().is_err()
}

impl Plan {
    /// Refuses what would panic, hang or overflow: hosts listed twice or named like a
    /// server, faults naming hosts or users the world lacks, inverted latency ranges,
    /// ticks outside `MIN_TICK_MS..=MAX_TICK_MS`, phases or durations above
    /// `MAX_PHASE_MS`, faults out of time order or after the safety phase, and more
    /// clients, operations or fault events than the bounds of [`crate::limits`].
    pub fn validate(&self) -> Result<(), Invalid> {
        let n = &self.network;
        within(&["network", "tick_ms"], n.tick_ms, MIN_TICK_MS, MAX_TICK_MS)?;
        within(
            &["network", "latency_max_ms"],
            n.latency_max_ms,
            0,
            MAX_PHASE_MS,
        )?;
        within(
            &["network", "latency_min_ms"],
            n.latency_min_ms,
            0,
            n.latency_max_ms,
        )?;
        within(&["network", "timeout_ms"], n.timeout_ms, 0, MAX_PHASE_MS)?;
        within(
            &["auth", "access_ttl_ms"],
            self.auth.access_ttl_ms,
            0,
            MAX_PHASE_MS,
        )?;
        let reuse = self.auth.reuse_interval_ms;
        within(&["auth", "reuse_interval_ms"], reuse, 0, MAX_PHASE_MS)?;
        within(
            &["phases", "safety_ms"],
            self.phases.safety_ms,
            0,
            MAX_PHASE_MS,
        )?;
        within(
            &["phases", "liveness_ms"],
            self.phases.liveness_ms,
            0,
            MAX_PHASE_MS,
        )?;
        let count = |v: usize| v as u64;
        within(&["clients"], count(self.clients.len()), 0, MAX_CLIENTS)?;
        within(&["replicas"], count(self.replicas.len()), 0, MAX_REPLICAS)?;
        let faults = count(self.faults.len());
        within(&["faults"], faults, 0, MAX_FAULT_EVENTS as u64)?;

        let mut hosts: BTreeSet<&str> = SERVERS.iter().copied().collect();
        let mut replicas = BTreeSet::new();
        for (i, r) in self.replicas.iter().enumerate() {
            let i = i.to_string();
            let at = ["replicas", i.as_str(), "name"];
            self.new_host(&mut hosts, &r.name, &at)?;
            replicas.insert(r.name.as_str());
            within(&["replicas", &i, "lag_ms"], r.lag_ms, 0, MAX_PHASE_MS)?;
        }
        let end_ms = self.phases.safety_ms + self.phases.liveness_ms;
        let mut clients = BTreeSet::new();
        let mut users = BTreeSet::new();
        let mut ids = BTreeSet::new();
        for (c, script) in self.clients.iter().enumerate() {
            let c = c.to_string();
            self.new_host(&mut hosts, &script.name, &["clients", &c, "name"])?;
            clients.insert(script.name.as_str());
            users.insert(script.user.as_str());
            let ops = count(script.ops.len());
            within(&["clients", &c, "ops"], ops, 0, MAX_OPS_PER_CLIENT)?;
            for (o, op) in script.ops.iter().enumerate() {
                let o = o.to_string();
                within(&["clients", &c, "ops", &o, "at_ms"], op.at_ms, 0, end_ms)?;
                if !ids.insert(op.id) {
                    return Err(bad(
                        &["clients", &c, "ops", &o, "id"],
                        format!("operation id {} is used twice; expected unique ids", op.id),
                    ));
                }
            }
        }
        let mut last = 0;
        for (i, e) in self.faults.iter().enumerate() {
            let i = i.to_string();
            let at = ["faults", i.as_str(), "at_ms"];
            within(&at, e.at_ms, 0, self.phases.safety_ms)?;
            if e.at_ms < last {
                return Err(bad(
                    &at,
                    format!(
                        "fault at {} ms comes after one at {last} ms; expected faults in time order",
                        e.at_ms
                    ),
                ));
            }
            last = e.at_ms;
            let known = Known {
                hosts: &hosts,
                clients: &clients,
                replicas: &replicas,
                users: &users,
            };
            known.check(&e.fault, &["faults", &i, "fault"])?;
        }
        Ok(())
    }

    fn new_host<'a>(
        &self,
        hosts: &mut BTreeSet<&'a str>,
        name: &'a str,
        at: &[&str],
    ) -> Result<(), Invalid> {
        if !plain_host(name) {
            return Err(bad(
                at,
                format!(
                    "host name `{name}`: expected 1 to 63 letters, digits, `-` or `_`, not an address"
                ),
            ));
        }
        if !hosts.insert(name) {
            return Err(bad(
                at,
                format!(
                    "host `{name}` is listed twice or named like a server (store, auth); \
                     expected a unique client or replica name"
                ),
            ));
        }
        Ok(())
    }
}

/// The names a plan's faults may refer to.
struct Known<'a> {
    hosts: &'a BTreeSet<&'a str>,
    clients: &'a BTreeSet<&'a str>,
    replicas: &'a BTreeSet<&'a str>,
    users: &'a BTreeSet<&'a str>,
}

impl Known<'_> {
    fn check(&self, fault: &Fault, at: &[&str]) -> Result<(), Invalid> {
        let field = |name: &str| {
            let mut p = at.to_vec();
            p.push(name);
            p.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        };
        let fail = |name: &str, message: String| {
            Err(Invalid {
                path: field(name),
                message,
            })
        };
        let host = |name: &str, v: &str, set: &BTreeSet<&str>, what: &str| {
            if set.contains(v) {
                Ok(())
            } else {
                fail(
                    name,
                    format!(
                        "no {what} `{v}` in this plan; expected one of: {}",
                        set.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                )
            }
        };
        let link = |a: &str, b: &str| {
            host("a", a, self.hosts, "host")?;
            host("b", b, self.hosts, "host")?;
            if a == b {
                return fail(
                    "b",
                    format!("a link from `{a}` to itself; expected two hosts"),
                );
            }
            Ok(())
        };
        let duration = |name: &str, ms: u64| {
            if ms > MAX_PHASE_MS {
                fail(
                    name,
                    format!("{ms} ms is too long; expected at most {MAX_PHASE_MS}"),
                )
            } else {
                Ok(())
            }
        };
        let servers: BTreeSet<&str> = SERVERS.iter().copied().collect();
        match fault {
            Fault::Partition { a, b }
            | Fault::Repair { a, b }
            | Fault::Hold { a, b }
            | Fault::Release { a, b }
            | Fault::Restore { a, b } => link(a, b),
            Fault::Slow { a, b, ms } => {
                link(a, b)?;
                duration("ms", *ms)
            }
            Fault::PartitionOneway { from, to } | Fault::RepairOneway { from, to } => {
                host("from", from, self.hosts, "host")?;
                host("to", to, self.hosts, "host")?;
                if from == to {
                    return fail(
                        "to",
                        format!("a link from `{from}` to itself; expected two hosts"),
                    );
                }
                Ok(())
            }
            Fault::RevokeSessions { user } => host("user", user, self.users, "user"),
            Fault::ReplicaLag { replica, ms } => {
                host("replica", replica, self.replicas, "replica")?;
                duration("ms", *ms)
            }
            Fault::ReplicaRestore { replica } => host("replica", replica, self.replicas, "replica"),
            Fault::Offline { host: h }
            | Fault::Online { host: h }
            | Fault::Crash { host: h }
            | Fault::Restart { host: h } => host("host", h, self.clients, "client"),
            Fault::Skew { host: h, ms } => {
                host("host", h, self.clients, "client")?;
                duration("ms", ms.unsigned_abs())
            }
            Fault::Disconnect { client } | Fault::Reconnect { client } => {
                host("client", client, self.clients, "client")
            }
            Fault::Outage { server, .. } | Fault::Recover { server } => {
                host("server", server, &servers, "server")
            }
        }
    }
}
