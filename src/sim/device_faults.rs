//! Faults of the devices themselves: offline periods they notice, crashes with restarts,
//! and wall clocks set wrong.
//!
//! Drawn from their own fork of the nemesis's randomness and only when the profile allows
//! some, so scenarios without device faults draw exactly what they drew before.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::plan::{Fault, FaultEvent};
use crate::rng::SimRng;
use crate::scenario::{FaultProfile, Span};

/// Appends the device faults of one run to `events`.
pub fn generate(
    profile: &FaultProfile,
    rng: &SimRng,
    clients: &[String],
    safety_ms: u64,
    knobs: &mut BTreeMap<String, Value>,
    events: &mut Vec<FaultEvent>,
) {
    let kinds: [(&str, Span<u64>); 3] = [
        ("offline", profile.offline),
        ("crashes", profile.crashes),
        ("skews", profile.skews),
    ];
    for (name, count) in kinds {
        if clients.is_empty() || count.bounds().1 == 0 {
            continue;
        }
        let mut rng = rng.fork(name);
        let on = !profile.swarm || rng.chance(0.5);
        knobs.insert(format!("fault.{name}"), on.into());
        if !on {
            continue;
        }
        let n = count.draw(&mut rng);
        knobs.insert(name.into(), n.into());
        for _ in 0..n {
            let host = clients[rng.index(clients.len())].clone();
            match name {
                "offline" => window(
                    &mut rng,
                    profile.offline_ms,
                    safety_ms,
                    Fault::Offline { host: host.clone() },
                    Fault::Online { host },
                    events,
                ),
                "crashes" => window(
                    &mut rng,
                    profile.crash_ms,
                    safety_ms,
                    Fault::Crash { host: host.clone() },
                    Fault::Restart { host },
                    events,
                ),
                _ => {
                    let size = profile.skew_ms.draw(&mut rng) as i64;
                    let ms = if rng.chance(0.5) { size } else { -size };
                    knobs.insert(format!("skew.{host}"), ms.into());
                    // The clock is wrong from the start: the device was set up that way.
                    events.push(FaultEvent {
                        at_ms: 0,
                        fault: Fault::Skew { host, ms },
                    });
                }
            }
        }
    }
}

/// Appends `start` at a drawn moment of the safety phase and `end` a drawn `len` later.
pub(super) fn window(
    rng: &mut SimRng,
    len: Span<u64>,
    safety_ms: u64,
    start: Fault,
    end: Fault,
    events: &mut Vec<FaultEvent>,
) {
    let dur = len.draw(rng);
    let at = rng.range(0, safety_ms.saturating_sub(dur));
    events.push(FaultEvent {
        at_ms: at,
        fault: start,
    });
    events.push(FaultEvent {
        at_ms: (at + dur).min(safety_ms),
        fault: end,
    });
}
