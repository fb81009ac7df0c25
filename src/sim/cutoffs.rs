//! Faults that cut more than one link at once: a client losing its whole network (the
//! seed document's "network is disconnected") and the service itself going down ("a
//! Supabase service interruption").
//!
//! Drawn after every other kind and only when the profile allows some, so scenarios that
//! never ask for them draw exactly what they drew before these existed.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::plan::{Fault, FaultEvent};
use crate::rng::SimRng;
use crate::scenario::FaultProfile;

/// The server hosts an interruption takes down together: data and auth are one service
/// to the client, as a Supabase project is.
pub const SERVICE: [&str; 2] = ["store", "auth"];

/// Appends disconnections and service interruptions to `events`.
pub fn generate(
    profile: &FaultProfile,
    rng: &mut SimRng,
    clients: &[String],
    safety_ms: u64,
    knobs: &mut BTreeMap<String, Value>,
    events: &mut Vec<FaultEvent>,
) {
    let mut enabled = |name: &str, allowed: bool, rng: &mut SimRng| -> bool {
        if !allowed {
            return false;
        }
        let on = !profile.swarm || rng.chance(0.5);
        knobs.insert(format!("fault.{name}"), on.into());
        on
    };
    let cuts_on = enabled(
        "disconnections",
        profile.disconnections.bounds().1 > 0 && !clients.is_empty(),
        rng,
    );
    let outages_on = enabled("outages", profile.outages.bounds().1 > 0, rng);
    let window = |len: crate::scenario::Span<u64>, rng: &mut SimRng| {
        let dur = len.draw(rng);
        let at = rng.range(0, safety_ms.saturating_sub(dur));
        (at, (at + dur).min(safety_ms))
    };
    if cuts_on {
        let n = profile.disconnections.draw(rng);
        knobs.insert("disconnections".into(), n.into());
        for _ in 0..n {
            let client = clients[rng.index(clients.len())].clone();
            let (at, end) = window(profile.disconnection_ms, rng);
            events.push(FaultEvent {
                at_ms: at,
                fault: Fault::Disconnect {
                    client: client.clone(),
                },
            });
            events.push(FaultEvent {
                at_ms: end,
                fault: Fault::Reconnect { client },
            });
        }
    }
    if outages_on {
        let n = profile.outages.draw(rng);
        knobs.insert("outages".into(), n.into());
        for _ in 0..n {
            let drop = rng.chance(profile.outage_drop);
            let (at, end) = window(profile.outage_ms, rng);
            for server in SERVICE {
                events.push(FaultEvent {
                    at_ms: at,
                    fault: Fault::Outage {
                        server: server.into(),
                        drop,
                    },
                });
            }
            for server in SERVICE {
                events.push(FaultEvent {
                    at_ms: end,
                    fault: Fault::Recover {
                        server: server.into(),
                    },
                });
            }
        }
    }
}
