//! The story-progress workload: one generator stepping progress up to 100, and tabs that
//! open, poll and sometimes get reloaded while it runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{Action, COLUMN, DONE, STORY};
use faultline::error::Result;
use faultline::plan::{ClientScript, PlannedOp, Workload};
use faultline::rng::SimRng;
use faultline::scenario::{Scenario, Span, WorkloadKnobs};

/// `[workload]` knobs of a story-progress scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProgressWorkload {
    /// Browser tabs watching the story (the generator is one more client).
    pub tabs: Span<u64>,
    /// How much progress one generation step adds.
    pub step: Span<u64>,
    /// Time between the generator's writes.
    pub write_gap_ms: Span<u64>,
    /// When each tab opens.
    pub open_ms: Span<u64>,
    /// Each tab's polling interval.
    pub poll_ms: Span<u64>,
    /// How often each user reloads a tab while the story generates.
    pub reloads: Span<u64>,
}

impl Default for ProgressWorkload {
    fn default() -> Self {
        Self {
            tabs: Span::Range([1, 3]),
            step: Span::Range([5, 30]),
            write_gap_ms: Span::Range([200, 900]),
            open_ms: Span::Range([0, 1500]),
            poll_ms: Span::Range([200, 800]),
            reloads: Span::Range([0, 2]),
        }
    }
}

impl WorkloadKnobs for ProgressWorkload {
    /// Rejects empty or inverted settings, pointing at the key.
    fn validate(&self, scenario: &Scenario) -> Result<()> {
        let checks = [
            ("tabs", self.tabs.is_ordered() && self.tabs.bounds().0 >= 1),
            ("step", self.step.is_ordered() && self.step.bounds().0 >= 1),
            ("write_gap_ms", self.write_gap_ms.is_ordered()),
            ("open_ms", self.open_ms.is_ordered()),
            (
                "poll_ms",
                self.poll_ms.is_ordered() && self.poll_ms.bounds().0 >= 1,
            ),
            ("reloads", self.reloads.is_ordered()),
        ];
        scenario.check_workload(&checks)?;
        Ok(())
    }
}

impl ProgressWorkload {
    /// Draws one seed's workload.
    pub fn generate(
        &self,
        mut rng: SimRng,
        safety_ms: u64,
        knobs: &mut BTreeMap<String, Value>,
    ) -> Workload {
        let tabs = self.tabs.draw(&mut rng);
        knobs.insert("tabs".into(), tabs.into());
        let mut next = 1u32;
        let mut id = || {
            next += 1;
            next - 1
        };
        let op = |id: u32, at_ms: u64, action: Action| PlannedOp {
            id,
            at_ms,
            action: serde_json::to_value(action).expect("actions serialise"),
        };

        let mut g = rng.fork("generator");
        let mut at = g.range(0, 300);
        let mut progress = 0;
        let mut writes = Vec::new();
        while progress < DONE && at < safety_ms {
            progress = (progress + self.step.draw(&mut g)).min(DONE);
            writes.push(op(id(), at, Action::Write { progress }));
            at += self.write_gap_ms.draw(&mut g);
        }
        let generation_ends = writes.last().map_or(0, |w| w.at_ms);
        let mut clients = vec![ClientScript {
            name: "client-1".into(),
            user: "u1".into(),
            ops: writes,
        }];

        for t in 1..=tabs {
            let name = format!("client-{}", t + 1);
            let mut r = rng.fork(&name);
            let opens = self.open_ms.draw(&mut r);
            let poll_ms = self.poll_ms.draw(&mut r);
            let mut times = vec![opens];
            // Reloads land while the story generates and a little after.
            let last = (generation_ends + 1500).min(safety_ms).max(opens + 300);
            for _ in 0..self.reloads.draw(&mut r) {
                times.push(r.range(opens + 300, last));
            }
            times.sort_unstable();
            let ops = times
                .into_iter()
                .map(|at| op(id(), at, Action::Open { poll_ms }))
                .collect();
            clients.push(ClientScript {
                name,
                user: "u1".into(),
                ops,
            });
        }
        Workload {
            setup: json!([{"id": STORY, "title": "The story", COLUMN: 0}]),
            clients,
        }
    }
}
