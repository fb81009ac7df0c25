//! The offline-sync workload: a few devices of one user editing the same few runs, and
//! now and then generating images that cost credits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{Action, FIELDS};
use faultline::error::Result;
use faultline::plan::{ClientScript, PlannedOp, Workload};
use faultline::rng::SimRng;
use faultline::scenario::{Scenario, Span, WorkloadKnobs};

/// `[workload]` knobs of an offline-sync scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OfflineWorkload {
    /// Devices signed in as the same user.
    pub devices: Span<u64>,
    /// Runs every device starts with (fixed, so each device can hold them from the start).
    pub records: u64,
    /// User actions per device.
    pub ops_per_device: Span<u64>,
    /// Chance that an action is a generation instead of an edit.
    pub generate_share: Span<f64>,
    /// Pause between a device's actions.
    pub gap_ms: Span<u64>,
    /// How often a device syncs while online (the document's 30 s, scaled to the run).
    pub sync_interval_ms: u64,
    /// Base retry delay of a failed queue item (the document's 5 s, scaled the same way).
    pub retry_delay_ms: u64,
    /// How long into the liveness phase the user keeps the app open.
    pub settle_ms: u64,
}

impl Default for OfflineWorkload {
    fn default() -> Self {
        Self {
            devices: Span::Range([2, 3]),
            records: 2,
            ops_per_device: Span::Range([4, 10]),
            generate_share: Span::Range([0.1, 0.3]),
            gap_ms: Span::Range([200, 2500]),
            sync_interval_ms: 2000,
            retry_delay_ms: 350,
            settle_ms: 20000,
        }
    }
}

impl WorkloadKnobs for OfflineWorkload {
    /// Rejects empty or inverted settings, pointing at the key.
    fn validate(&self, scenario: &Scenario) -> Result<()> {
        let checks = [
            (
                "devices",
                self.devices.is_ordered() && self.devices.bounds().0 >= 1,
            ),
            ("records", (1..=100).contains(&self.records)),
            ("ops_per_device", self.ops_per_device.is_ordered()),
            (
                "generate_share",
                self.generate_share.is_ordered()
                    && self.generate_share.bounds().0 >= 0.0
                    && self.generate_share.bounds().1 <= 1.0,
            ),
            ("gap_ms", self.gap_ms.is_ordered()),
            ("sync_interval_ms", self.sync_interval_ms >= 10),
        ];
        scenario.check_workload(&checks)
    }
}

impl OfflineWorkload {
    /// Draws one seed's workload; `runs` are the rows the server starts with.
    pub fn generate(
        &self,
        mut rng: SimRng,
        safety_ms: u64,
        runs: Vec<Value>,
        knobs: &mut BTreeMap<String, Value>,
    ) -> Workload {
        let devices = self.devices.draw(&mut rng);
        let share = self.generate_share.draw(&mut rng);
        knobs.insert("devices".into(), devices.into());
        knobs.insert(
            "generate_share".into(),
            json!((share * 100.0).round() / 100.0),
        );
        let mut next = 1u32;
        let clients = (1..=devices)
            .map(|d| {
                let name = format!("client-{d}");
                let mut r = rng.fork(&name);
                let mut at = r.range(0, 800);
                let mut ops = Vec::new();
                for _ in 0..self.ops_per_device.draw(&mut r) {
                    if at >= safety_ms {
                        break;
                    }
                    let action = if r.chance(share) {
                        Action::Generate {
                            credits: r.range(1, 10),
                        }
                    } else {
                        Action::Edit {
                            record: format!("r{}", r.range(1, self.records)),
                            field: FIELDS[r.index(FIELDS.len())].to_string(),
                        }
                    };
                    ops.push(PlannedOp {
                        id: next,
                        at_ms: at,
                        action: serde_json::to_value(action).expect("actions serialise"),
                    });
                    next += 1;
                    at += self.gap_ms.draw(&mut r);
                }
                ClientScript {
                    name,
                    user: "u1".into(),
                    ops,
                }
            })
            .collect();
        Workload {
            setup: Value::Array(runs),
            clients,
        }
    }
}
