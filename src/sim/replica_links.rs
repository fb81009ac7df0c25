//! Faults on a client's own link to a read replica: the replica's answer lost, the request
//! lost, messages held past the client's timeout, the link slowed. Without them a read
//! served by a replica never times out, so the code that retries it or falls back to the
//! primary never runs.
//!
//! Drawn after every other kind and only when the world has replicas and the profile
//! allows some, so every other scenario draws exactly what it drew before these existed.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::plan::{Fault, FaultEvent};
use crate::rng::SimRng;
use crate::scenario::FaultProfile;

/// Appends faults between clients and replicas to `events`.
pub fn generate(
    profile: &FaultProfile,
    rng: &mut SimRng,
    clients: &[String],
    replicas: &[String],
    safety_ms: u64,
    knobs: &mut BTreeMap<String, Value>,
    events: &mut Vec<FaultEvent>,
) {
    if clients.is_empty() || replicas.is_empty() || profile.replica_link_faults.bounds().1 == 0 {
        return;
    }
    let on = !profile.swarm || rng.chance(0.5);
    knobs.insert("fault.replica_links".into(), on.into());
    if !on {
        return;
    }
    let n = profile.replica_link_faults.draw(rng);
    knobs.insert("replica_link_faults".into(), n.into());
    for _ in 0..n {
        let client = clients[rng.index(clients.len())].clone();
        let replica = replicas[rng.index(replicas.len())].clone();
        let (start, end) = match rng.index(4) {
            0 => (
                Fault::Partition {
                    a: client.clone(),
                    b: replica.clone(),
                },
                Fault::Repair {
                    a: client,
                    b: replica,
                },
            ),
            // The request reaches the replica; only its answer is lost.
            1 => (
                Fault::PartitionOneway {
                    from: replica.clone(),
                    to: client.clone(),
                },
                Fault::RepairOneway {
                    from: replica,
                    to: client,
                },
            ),
            2 => (
                Fault::Hold {
                    a: client.clone(),
                    b: replica.clone(),
                },
                Fault::Release {
                    a: client,
                    b: replica,
                },
            ),
            _ => (
                Fault::Slow {
                    a: client.clone(),
                    b: replica.clone(),
                    ms: profile.spike_latency_ms.draw(rng),
                },
                Fault::Restore {
                    a: client,
                    b: replica,
                },
            ),
        };
        super::device_faults::window(rng, profile.replica_link_ms, safety_ms, start, end, events);
    }
}
