//! The chat workload: devices of one user sending messages, sometimes signing out and in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{Action, CONVERSATION};
use faultline::error::Result;
use faultline::plan::{ClientScript, PlannedOp, Workload};
use faultline::rng::SimRng;
use faultline::scenario::{Scenario, Span, WorkloadKnobs};

/// `[workload]` knobs of a chat scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChatWorkload {
    /// Devices signed in as the same user.
    pub devices: Span<u64>,
    /// Operations per device.
    pub ops_per_device: Span<u64>,
    /// Chance that an operation is a sign-out and sign-in instead of a message.
    pub reauth_share: Span<f64>,
    /// How long a device stays signed out.
    pub away_ms: Span<u64>,
    /// Pause between a device's operations.
    pub gap_ms: Span<u64>,
}

impl Default for ChatWorkload {
    fn default() -> Self {
        Self {
            devices: Span::Range([2, 3]),
            ops_per_device: Span::Range([3, 8]),
            reauth_share: Span::Range([0.0, 0.3]),
            away_ms: Span::Range([200, 3000]),
            gap_ms: Span::Range([0, 1500]),
        }
    }
}

impl WorkloadKnobs for ChatWorkload {
    /// Rejects empty or inverted settings, pointing at the key.
    fn validate(&self, scenario: &Scenario) -> Result<()> {
        let checks = [
            (
                "devices",
                self.devices.is_ordered() && self.devices.bounds().0 >= 1,
            ),
            ("ops_per_device", self.ops_per_device.is_ordered()),
            (
                "reauth_share",
                self.reauth_share.is_ordered() && self.reauth_share.bounds().1 <= 1.0,
            ),
            ("away_ms", self.away_ms.is_ordered()),
            ("gap_ms", self.gap_ms.is_ordered()),
        ];
        scenario.check_workload(&checks)?;
        Ok(())
    }
}

impl ChatWorkload {
    /// Draws one seed's workload.
    pub fn generate(
        &self,
        mut rng: SimRng,
        safety_ms: u64,
        knobs: &mut BTreeMap<String, Value>,
    ) -> Workload {
        let devices = self.devices.draw(&mut rng);
        let reauth = self.reauth_share.draw(&mut rng);
        knobs.insert("devices".into(), devices.into());
        knobs.insert(
            "reauth_share".into(),
            json!((reauth * 100.0).round() / 100.0),
        );
        let mut next = 1u32;
        let clients = (1..=devices)
            .map(|d| {
                let name = format!("client-{d}");
                let mut r = rng.fork(&name);
                let mut at = r.range(0, 500);
                let mut ops = Vec::new();
                for _ in 0..self.ops_per_device.draw(&mut r) {
                    if at >= safety_ms {
                        break;
                    }
                    let id = next;
                    next += 1;
                    let action = if r.chance(reauth) {
                        Action::Reauth {
                            away_ms: self.away_ms.draw(&mut r),
                        }
                    } else {
                        Action::Send {
                            msg: format!("m{id}"),
                        }
                    };
                    ops.push(PlannedOp {
                        id,
                        at_ms: at,
                        action: serde_json::to_value(action).expect("actions serialise"),
                    });
                    at += self.gap_ms.draw(&mut r) + 100;
                }
                ClientScript {
                    name,
                    user: "u1".into(),
                    ops,
                }
            })
            .collect();
        let row = json!({"id": CONVERSATION, "user_id": "u1", "title": "Chat", "messages": [], "checksum": null});
        Workload {
            setup: json!([row]),
            clients,
        }
    }
}
