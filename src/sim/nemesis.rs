//! The nemesis: draws fault schedules from a profile and applies them to the world.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::plan::{Fault, FaultEvent};
use crate::rng::SimRng;
use crate::scenario::FaultProfile;

/// The hosts and users faults may target.
#[derive(Debug, Clone, Copy)]
pub struct Targets<'a> {
    /// Client hosts.
    pub clients: &'a [String],
    /// Users whose sessions may be revoked.
    pub users: &'a [String],
    /// Replica hosts (may be empty).
    pub replicas: &'a [String],
}

/// Draws the fault events of one run.
///
/// With swarm testing on, each fault kind is first switched on or off for this seed, and
/// the choice is recorded in `knobs` so a failing run shows what was active.
pub fn generate(
    profile: &FaultProfile,
    mut rng: SimRng,
    targets: &Targets<'_>,
    safety_ms: u64,
    knobs: &mut BTreeMap<String, Value>,
) -> Vec<FaultEvent> {
    let (clients, users) = (targets.clients, targets.users);
    let mut events = Vec::new();
    if clients.is_empty() {
        return events;
    }
    let mut enabled = |name: &str, rng: &mut SimRng| -> bool {
        let on = !profile.swarm || rng.chance(0.5);
        knobs.insert(format!("fault.{name}"), on.into());
        on
    };
    let partitions_on = enabled("partitions", &mut rng);
    let holds_on = enabled("holds", &mut rng);
    let revocations_on = enabled("revocations", &mut rng);
    let spikes_on = enabled("latency_spikes", &mut rng);

    let windows = |count: u64,
                   len: crate::scenario::Span<u64>,
                   rng: &mut SimRng,
                   start: fn(String, String) -> Fault,
                   end: fn(String, String) -> Fault,
                   events: &mut Vec<FaultEvent>| {
        for _ in 0..count {
            let client = clients[rng.index(clients.len())].clone();
            let server = if rng.chance(0.8) { "store" } else { "auth" }.to_string();
            let dur = len.draw(rng);
            let at = rng.range(0, safety_ms.saturating_sub(dur));
            events.push(FaultEvent {
                at_ms: at,
                fault: start(client.clone(), server.clone()),
            });
            events.push(FaultEvent {
                at_ms: (at + dur).min(safety_ms),
                fault: end(client, server),
            });
        }
    };
    if partitions_on {
        let n = profile.partitions.draw(&mut rng);
        knobs.insert("partitions".into(), n.into());
        // One-way partitions drop only the servers' answers: requests still commit.
        let oneway = profile.oneway_partitions.draw(&mut rng);
        knobs.insert("oneway_partitions".into(), oneway.into());
        windows(
            oneway,
            profile.oneway_window_ms(),
            &mut rng,
            |client, server| Fault::PartitionOneway {
                from: server,
                to: client,
            },
            |client, server| Fault::RepairOneway {
                from: server,
                to: client,
            },
            &mut events,
        );
        windows(
            n,
            profile.partition_ms,
            &mut rng,
            |a, b| Fault::Partition { a, b },
            |a, b| Fault::Repair { a, b },
            &mut events,
        );
    }
    if holds_on {
        let n = profile.holds.draw(&mut rng);
        knobs.insert("holds".into(), n.into());
        windows(
            n,
            profile.hold_ms,
            &mut rng,
            |a, b| Fault::Hold { a, b },
            |a, b| Fault::Release { a, b },
            &mut events,
        );
    }
    if spikes_on {
        let n = profile.latency_spikes.draw(&mut rng);
        knobs.insert("latency_spikes".into(), n.into());
        for _ in 0..n {
            let a = clients[rng.index(clients.len())].clone();
            let b = "store".to_string();
            let ms = profile.spike_latency_ms.draw(&mut rng);
            let dur = profile.spike_ms.draw(&mut rng);
            let at = rng.range(0, safety_ms.saturating_sub(dur));
            events.push(FaultEvent {
                at_ms: at,
                fault: Fault::Slow {
                    a: a.clone(),
                    b: b.clone(),
                    ms,
                },
            });
            events.push(FaultEvent {
                at_ms: (at + dur).min(safety_ms),
                fault: Fault::Restore { a, b },
            });
        }
    }
    if revocations_on && !users.is_empty() {
        let n = profile.revocations.draw(&mut rng);
        knobs.insert("revocations".into(), n.into());
        for _ in 0..n {
            let user = users[rng.index(users.len())].clone();
            events.push(FaultEvent {
                at_ms: rng.range(0, safety_ms),
                fault: Fault::RevokeSessions { user },
            });
        }
    }
    replica_faults(
        profile,
        &mut rng,
        targets.replicas,
        safety_ms,
        knobs,
        &mut events,
    );
    super::device_faults::generate(
        profile,
        &rng.fork("devices"),
        clients,
        safety_ms,
        knobs,
        &mut events,
    );
    super::cutoffs::generate(profile, &mut rng, clients, safety_ms, knobs, &mut events);
    super::replica_links::generate(
        profile,
        &mut rng,
        clients,
        targets.replicas,
        safety_ms,
        knobs,
        &mut events,
    );
    // A stable sort keeps the draw order for events at the same millisecond.
    events.sort_by_key(|e| e.at_ms);
    events
}

/// Primary-replica partitions and replica lag spikes. Drawn after every other kind, and
/// only when the world has replicas and the profile allows some, so scenarios without
/// replicas draw exactly what they drew before replicas existed.
fn replica_faults(
    profile: &FaultProfile,
    rng: &mut SimRng,
    replicas: &[String],
    safety_ms: u64,
    knobs: &mut BTreeMap<String, Value>,
    events: &mut Vec<FaultEvent>,
) {
    if replicas.is_empty() {
        return;
    }
    let mut enabled = |name: &str, allowed: bool, rng: &mut SimRng| -> bool {
        if !allowed {
            return false;
        }
        let on = !profile.swarm || rng.chance(0.5);
        knobs.insert(format!("fault.{name}"), on.into());
        on
    };
    let cuts_on = enabled(
        "replica_partitions",
        profile.replica_partitions.bounds().1 > 0,
        rng,
    );
    let spikes_on = enabled(
        "replica_lag_spikes",
        profile.replica_lag_spikes.bounds().1 > 0,
        rng,
    );
    let window = |len: crate::scenario::Span<u64>, rng: &mut SimRng| {
        let replica = replicas[rng.index(replicas.len())].clone();
        let dur = len.draw(rng);
        let at = rng.range(0, safety_ms.saturating_sub(dur));
        (replica, at, (at + dur).min(safety_ms))
    };
    if cuts_on {
        let n = profile.replica_partitions.draw(rng);
        knobs.insert("replica_partitions".into(), n.into());
        for _ in 0..n {
            let (replica, at, end) = window(profile.replica_partition_ms, rng);
            let (a, b) = ("store".to_string(), replica);
            events.push(FaultEvent {
                at_ms: at,
                fault: Fault::Partition {
                    a: a.clone(),
                    b: b.clone(),
                },
            });
            events.push(FaultEvent {
                at_ms: end,
                fault: Fault::Repair { a, b },
            });
        }
    }
    if spikes_on {
        let n = profile.replica_lag_spikes.draw(rng);
        knobs.insert("replica_lag_spikes".into(), n.into());
        for _ in 0..n {
            let ms = profile.replica_spike_lag_ms.draw(rng);
            let (replica, at, end) = window(profile.replica_spike_ms, rng);
            events.push(FaultEvent {
                at_ms: at,
                fault: Fault::ReplicaLag {
                    replica: replica.clone(),
                    ms,
                },
            });
            events.push(FaultEvent {
                at_ms: end,
                fault: Fault::ReplicaRestore { replica },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Span;

    fn plan(profile: &FaultProfile) -> Vec<FaultEvent> {
        let clients = ["client-1".to_string(), "client-2".to_string()];
        let targets = Targets {
            clients: &clients,
            users: &[],
            replicas: &[],
        };
        generate(
            profile,
            SimRng::root(7),
            &targets,
            15_000,
            &mut BTreeMap::new(),
        )
    }

    fn span_of(events: &[FaultEvent], start: &str, end: &str) -> Vec<u64> {
        let starts: Vec<u64> = events
            .iter()
            .filter(|e| e.fault.verb() == start)
            .map(|e| e.at_ms)
            .collect();
        let ends: Vec<u64> = events
            .iter()
            .filter(|e| e.fault.verb() == end)
            .map(|e| e.at_ms)
            .collect();
        starts.iter().zip(&ends).map(|(s, e)| e - s).collect()
    }

    /// Unset, the knob draws exactly the plan `partition_ms` drew; set, it lengthens the
    /// one-way partitions and leaves the two-way ones as they were.
    #[test]
    fn oneway_partition_ms_governs_only_oneway_partitions() {
        let base = FaultProfile {
            swarm: false,
            partitions: Span::Fixed(1),
            oneway_partitions: Span::Fixed(1),
            partition_ms: Span::Range([200, 300]),
            ..FaultProfile::default()
        };
        let same = FaultProfile {
            oneway_partition_ms: Some(base.partition_ms),
            ..base.clone()
        };
        assert_eq!(plan(&base), plan(&same));
        let long = FaultProfile {
            oneway_partition_ms: Some(Span::Range([9_000, 10_000])),
            ..base.clone()
        };
        let events = plan(&long);
        let oneway = span_of(&events, "partition_oneway", "repair_oneway");
        assert_eq!(oneway.len(), 1);
        assert!(
            oneway.iter().all(|d| (9_000..=10_000).contains(d)),
            "{oneway:?}"
        );
        let twoway = span_of(&events, "partition", "repair");
        assert_eq!(twoway, span_of(&plan(&base), "partition", "repair"));
    }
}
