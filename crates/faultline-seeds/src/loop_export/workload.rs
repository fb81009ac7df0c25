//! The loop-export workload: browsers of one user with several tabs each, saving a few
//! loops, often the same loop from every tab at once, sometimes with a double click.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::Action;
use faultline::error::Result;
use faultline::plan::{ClientScript, PlannedOp, Workload};
use faultline::rng::SimRng;
use faultline::scenario::{Scenario, Span, WorkloadKnobs};

/// `[workload]` knobs of a loop-export scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoopWorkload {
    /// Browsers (client hosts) signed in as the same user; each has its own session.
    pub browsers: Span<u64>,
    /// Tabs per browser, sharing that browser's session and storage.
    pub tabs: Span<u64>,
    /// Distinct loops the user saves.
    pub loops: Span<u64>,
    /// Save events per browser.
    pub saves: Span<u64>,
    /// Chance that a save event is the same loop saved from every tab of the browser at
    /// once (the extension broadcasting one save to each tab's handler).
    pub all_tabs_share: Span<f64>,
    /// Chance that a save is clicked twice at once.
    pub double_submit: Span<f64>,
    /// Pause between save events.
    pub gap_ms: Span<u64>,
}

impl Default for LoopWorkload {
    fn default() -> Self {
        Self {
            browsers: Span::Range([1, 2]),
            tabs: Span::Range([2, 3]),
            loops: Span::Range([3, 6]),
            saves: Span::Range([3, 8]),
            all_tabs_share: Span::Range([0.1, 0.5]),
            double_submit: Span::Range([0.0, 0.3]),
            gap_ms: Span::Range([0, 1500]),
        }
    }
}

impl WorkloadKnobs for LoopWorkload {
    /// Rejects empty or inverted settings, pointing at the key.
    fn validate(&self, scenario: &Scenario) -> Result<()> {
        let share = |s: &Span<f64>| s.is_ordered() && s.bounds().0 >= 0.0 && s.bounds().1 <= 1.0;
        let checks = [
            (
                "browsers",
                self.browsers.is_ordered() && self.browsers.bounds().0 >= 1,
            ),
            ("tabs", self.tabs.is_ordered() && self.tabs.bounds().0 >= 1),
            (
                "loops",
                self.loops.is_ordered() && self.loops.bounds().0 >= 1,
            ),
            ("saves", self.saves.is_ordered()),
            ("all_tabs_share", share(&self.all_tabs_share)),
            ("double_submit", share(&self.double_submit)),
            ("gap_ms", self.gap_ms.is_ordered()),
        ];
        scenario.check_workload(&checks)?;
        Ok(())
    }
}

impl LoopWorkload {
    /// Draws one seed's workload.
    pub fn generate(
        &self,
        mut rng: SimRng,
        safety_ms: u64,
        knobs: &mut BTreeMap<String, Value>,
    ) -> Workload {
        let browsers = self.browsers.draw(&mut rng);
        let loops = self.loops.draw(&mut rng);
        let all_tabs = self.all_tabs_share.draw(&mut rng);
        let double = self.double_submit.draw(&mut rng);
        knobs.insert("browsers".into(), browsers.into());
        knobs.insert("loops".into(), loops.into());
        knobs.insert(
            "all_tabs_share".into(),
            json!((all_tabs * 100.0).round() / 100.0),
        );
        knobs.insert(
            "double_submit".into(),
            json!((double * 100.0).round() / 100.0),
        );
        let mut next = 1u32;
        let clients = (1..=browsers)
            .map(|b| {
                let name = format!("client-{b}");
                let mut r = rng.fork(&name);
                let tabs = self.tabs.draw(&mut r);
                knobs.insert(format!("{name}.tabs"), tabs.into());
                let mut at = r.range(0, 500);
                let mut ops = Vec::new();
                for _ in 0..self.saves.draw(&mut r) {
                    if at >= safety_ms {
                        break;
                    }
                    let l = r.range(1, loops);
                    // The same loop id on either video, and a re-save that moves the
                    // bounds, so a key without the video or a stale write shows. Drawn
                    // from a fork so every other draw of the plan stays as it was.
                    let mut vary = r.fork(&format!("save-{next}"));
                    let video = format!("video-{}", vary.range(1, 2));
                    let start_s = 10 * l + vary.range(0, 3);
                    let end_s = start_s + 4 + vary.range(0, 2);
                    let senders: Vec<u64> = if r.chance(all_tabs) {
                        (1..=tabs).collect()
                    } else {
                        vec![r.range(1, tabs)]
                    };
                    for tab in senders {
                        let action = Action::Save {
                            tab: tab as u32,
                            video: video.clone(),
                            loop_id: format!("loop-{l}"),
                            start_s,
                            end_s,
                            submits: if r.chance(double) { 2 } else { 1 },
                        };
                        ops.push(PlannedOp {
                            id: next,
                            at_ms: at,
                            action: serde_json::to_value(action).expect("actions serialise"),
                        });
                        next += 1;
                    }
                    at += self.gap_ms.draw(&mut r) + 100;
                }
                ClientScript {
                    name,
                    user: "u1".into(),
                    ops,
                }
            })
            .collect();
        Workload {
            setup: json!([]),
            clients,
        }
    }
}
