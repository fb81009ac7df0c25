//! The business-cards workload: tabs of one user creating cards with colliding names and
//! editing the same seeded cards.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{slugify, Action, FIELDS};
use faultline::error::Result;
use faultline::plan::{ClientScript, PlannedOp, Workload};
use faultline::rng::SimRng;
use faultline::scenario::{Scenario, Span, WorkloadKnobs};

/// `[workload]` knobs of a business-cards scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CardsWorkload {
    /// Concurrent tabs (clients), all signed in as the same user.
    pub clients: Span<u64>,
    /// Operations per tab.
    pub ops_per_client: Span<u64>,
    /// Cards that exist before the run and that edits target.
    pub seeded_cards: Span<u64>,
    /// Share of operations that create a card (the rest edit one).
    pub create_share: Span<f64>,
    /// Chance that a create is submitted twice at once.
    pub double_submit: Span<f64>,
    /// Card names to create; few names means many slug collisions.
    pub names: Vec<String>,
    /// Time between loading an edit form and saving it.
    pub think_ms: Span<u64>,
    /// Pause between a tab's operations.
    pub gap_ms: Span<u64>,
    /// Fields changed per edit.
    pub fields_per_edit: Span<u64>,
}

impl Default for CardsWorkload {
    fn default() -> Self {
        Self {
            clients: Span::Range([2, 4]),
            ops_per_client: Span::Range([2, 5]),
            seeded_cards: Span::Range([1, 2]),
            create_share: Span::Range([0.2, 0.6]),
            double_submit: Span::Range([0.0, 0.3]),
            names: vec!["My Card".into(), "Jane Doe".into(), "Acme".into()],
            think_ms: Span::Range([50, 1500]),
            gap_ms: Span::Range([0, 1500]),
            fields_per_edit: Span::Range([1, 2]),
        }
    }
}

impl WorkloadKnobs for CardsWorkload {
    /// Rejects empty or inverted settings, pointing at the key.
    fn validate(&self, scenario: &Scenario) -> Result<()> {
        let ranges = [
            (
                "clients",
                self.clients.bounds().0 >= 1 && self.clients.is_ordered(),
            ),
            ("ops_per_client", self.ops_per_client.is_ordered()),
            (
                "seeded_cards",
                self.seeded_cards.bounds().0 >= 1 && self.seeded_cards.is_ordered(),
            ),
            (
                "create_share",
                self.create_share.is_ordered() && self.create_share.bounds().1 <= 1.0,
            ),
            (
                "double_submit",
                self.double_submit.is_ordered() && self.double_submit.bounds().1 <= 1.0,
            ),
            ("think_ms", self.think_ms.is_ordered()),
            ("gap_ms", self.gap_ms.is_ordered()),
            (
                "fields_per_edit",
                self.fields_per_edit.bounds().0 >= 1
                    && self.fields_per_edit.bounds().1 <= FIELDS.len() as u64,
            ),
        ];
        scenario.check_workload(&ranges)?;
        if self.names.is_empty() || self.names.iter().any(|n| slugify(n).is_empty()) {
            return Err(scenario.error_at(
                &["workload", "names"],
                "`workload.names`: expected names with at least one letter or digit".into(),
            ));
        }
        Ok(())
    }
}

impl CardsWorkload {
    /// Draws one seed's workload.
    pub fn generate(
        &self,
        mut rng: SimRng,
        safety_ms: u64,
        knobs: &mut BTreeMap<String, Value>,
    ) -> Workload {
        let clients = self.clients.draw(&mut rng);
        let cards = self.seeded_cards.draw(&mut rng);
        let create_share = self.create_share.draw(&mut rng);
        let double_submit = self.double_submit.draw(&mut rng);
        knobs.insert("clients".into(), clients.into());
        knobs.insert("seeded_cards".into(), cards.into());
        knobs.insert(
            "create_share".into(),
            json!((create_share * 100.0).round() / 100.0),
        );
        knobs.insert(
            "double_submit".into(),
            json!((double_submit * 100.0).round() / 100.0),
        );
        let setup: Vec<Value> = (1..=cards)
            .map(|i| {
                let mut row = json!({"id": i, "user_id": "u1", "name": format!("Seed {i}"), "slug": format!("seed-{i}"), "form_id": format!("seed-{i}")});
                for f in FIELDS {
                    row[f] = json!(super::seeded_value(f));
                }
                row
            })
            .collect();
        let mut next_id = 1u32;
        let mut scripts = Vec::new();
        for c in 1..=clients {
            let name = format!("client-{c}");
            let mut crng = rng.fork(&name);
            let n = self.ops_per_client.draw(&mut crng);
            let mut at = crng.range(0, 500);
            let mut ops = Vec::new();
            for _ in 0..n {
                if at >= safety_ms {
                    break;
                }
                let id = next_id;
                next_id += 1;
                let action = if crng.chance(create_share) {
                    Action::Create {
                        form_id: format!("form-{id}"),
                        name: self.names[crng.index(self.names.len())].clone(),
                        submits: if crng.chance(double_submit) { 2 } else { 1 },
                    }
                } else {
                    let k = self.fields_per_edit.draw(&mut crng) as usize;
                    let mut fields: Vec<&str> = FIELDS.to_vec();
                    let mut intent = Map::new();
                    for _ in 0..k.min(fields.len()) {
                        let f = fields.remove(crng.index(fields.len()));
                        intent.insert(f.into(), json!(format!("{f}:{name}#{id}")));
                    }
                    Action::Edit {
                        card: crng.range(1, cards) as i64,
                        intent,
                        think_ms: self.think_ms.draw(&mut crng),
                    }
                };
                ops.push(PlannedOp {
                    id,
                    at_ms: at,
                    action: serde_json::to_value(action).expect("actions serialise"),
                });
                at += self.gap_ms.draw(&mut crng) + 200;
            }
            scripts.push(ClientScript {
                name,
                user: "u1".into(),
                ops,
            });
        }
        Workload {
            setup: Value::Array(setup),
            clients: scripts,
        }
    }
}
