//! `offline_sync` (seed document `001`): devices of one user edit shared records (the
//! app's runs) while they drop offline, crash and restart, and disagree about the time,
//! and sync with the server later.
//!
//! History conventions the checkers rely on:
//! - `edit` invokes with `{"record", "field", "value"}` (each edit writes a value unique in
//!   the run) and completes ok once the device told the user the edit is saved;
//! - `generate` invokes with `{"credits"}` and completes ok once the device told the user
//!   the generation is done; its usage row carries the op id in `metadata.op`;
//! - `push` (same op id as the edit or generation it carries) is one attempt to send it;
//!   a push that gives the operation up for good completes with `"given_up": true`;
//! - `conflict` (same op id as the edit) is the device telling the user that edit lost a
//!   conflict, with what the server kept;
//! - each device's local storage is in the final state: `runs` is what it shows.

mod device;
mod documented;
mod local;
pub mod mutants;
mod naive;
mod reference;
pub mod server;
pub mod situations;
mod workload;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use device::{run_client, DeviceLogic, Engine};
pub use documented::Strategy;
use faultline::check::{offline, FinalState, Verdict};
use faultline::endpoint::{AnyAuth, AnyBackend};
use faultline::error::Result;
use faultline::history::History;
use faultline::plan::{ClientScript, Workload};
use faultline::rng::SimRng;
use faultline::scenario::{parse_workload, Scenario};
use faultline::store::{Store, TableDef};
use faultline::system::{
    client_fn, ClientCtx, ClientFuture, ScenarioLogic, Variant as UserVariant,
};
pub use local::Local;
pub use workload::OfflineWorkload;

/// The shared records: the app's runs.
pub const RUNS: &str = "runs";
/// Credits charged per generation, one row each.
pub const USAGE: &str = "usage_logs";
/// The reference's record of every operation id it applied, with its result.
pub const APPLIED: &str = "applied_ops";
/// The fields of a run the user edits.
pub const FIELDS: [&str; 3] = ["title", "notes", "tags"];

/// One planned action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Change one field of one run.
    Edit {
        /// The run's id.
        record: String,
        /// One of [`FIELDS`].
        field: String,
    },
    /// Generate images, which consumes credits the server must charge once.
    Generate {
        /// Credits consumed.
        credits: u64,
    },
}

/// Which code the devices run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// No queue: edits are pushed once, right away, and pulls overwrite the device.
    Naive,
    /// The document's sync service with one of its conflict strategies.
    Documented(Strategy),
    /// A durable outbox of idempotent operations against server versions.
    Reference,
}

/// Every variant's name, in report order.
pub const VARIANTS: [&str; 6] = [
    "naive",
    "documented",
    "local_wins",
    "remote_wins",
    "manual",
    "reference",
];

impl Variant {
    /// The variant called `name`.
    pub fn named(name: &str) -> Option<Self> {
        Some(match name {
            "naive" => Variant::Naive,
            "documented" => Variant::Documented(Strategy::NewestWins),
            "local_wins" => Variant::Documented(Strategy::LocalWins),
            "remote_wins" => Variant::Documented(Strategy::RemoteWins),
            "manual" => Variant::Documented(Strategy::Manual),
            "reference" => Variant::Reference,
            _ => return None,
        })
    }
}

/// Timing of the devices' software, fixed by the scenario.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How often a device syncs while online.
    pub sync_interval_ms: u64,
    /// Base delay before a failed queue item is tried again (doubled per retry).
    pub retry_delay_ms: u64,
    /// When the user closes the app: a last sync, and the device's state is final.
    pub close_at_ms: u64,
    /// The run ids every device starts with.
    pub records: u64,
}

/// The offline-sync logic.
#[derive(Debug, Clone)]
pub struct OfflineSync {
    workload: OfflineWorkload,
    timing: Timing,
}

impl OfflineSync {
    /// Reads the scenario's `[workload]`.
    pub fn from_scenario(scenario: &Scenario) -> Result<Self> {
        let workload: OfflineWorkload = parse_workload(scenario)?;
        workload.validate(scenario)?;
        let phases = &scenario.file.phases;
        if workload.settle_ms >= phases.liveness_ms {
            return Err(scenario.error_at(
                &["workload", "settle_ms"],
                format!(
                    "`workload.settle_ms` ({}) must be shorter than `phases.liveness_ms` ({})",
                    workload.settle_ms, phases.liveness_ms
                ),
            ));
        }
        let timing = Timing {
            sync_interval_ms: workload.sync_interval_ms,
            retry_delay_ms: workload.retry_delay_ms,
            close_at_ms: phases.safety_ms + workload.settle_ms,
            records: workload.records,
        };
        Ok(Self { workload, timing })
    }
}

/// Runs `logic` on every device as the variant `name`, with the timing the scenario's
/// `[workload]` and phases set (all variants share one schema).
pub fn variant<L: DeviceLogic + Send + Sync>(name: &str, logic: L) -> UserVariant {
    UserVariant::per_scenario(name, move |scenario| {
        let timing = OfflineSync::from_scenario(scenario)?.timing;
        let logic = logic.clone();
        Ok(client_fn(move |ctx, script| {
            let logic = logic.clone();
            async move { run_client(&logic, timing, &ctx, script).await }
        }))
    })
    .for_logic("offline_sync")
}

/// The runs every device and the server start with.
pub fn initial_runs(records: u64) -> Vec<Value> {
    (1..=records)
        .map(|i| {
            let mut row = json!({"id": format!("r{i}"), "user_id": "u1", "updated_at": 0});
            for f in FIELDS {
                row[f] = json!(format!("r{i}.{f}.0"));
            }
            row
        })
        .collect()
}

/// The usage row of a generation: the app logs the op id in its metadata.
pub fn usage_row(user: &str, op: u32, credits: u64) -> Value {
    json!({
        "user_id": user,
        "provider": "gemini",
        "action": "generate",
        "credits_consumed": credits,
        "metadata": {"op": op},
    })
}

impl ScenarioLogic for OfflineSync {
    fn name(&self) -> &str {
        "offline_sync"
    }

    fn variants(&self) -> Vec<String> {
        let mut all = faultline::system::names(&VARIANTS);
        all.extend(
            crate::mutants::names_of("offline_sync")
                .iter()
                .map(|n| n.to_string()),
        );
        all
    }

    fn invariants(&self) -> Vec<String> {
        faultline::system::names(&[
            offline::CONVERGENCE,
            offline::NO_LOST_ACKED_EDIT,
            offline::QUEUE_DURABLE,
            offline::APPLIED_ONCE,
        ])
    }

    fn workload(
        &self,
        rng: SimRng,
        safety_ms: u64,
        knobs: &mut BTreeMap<String, Value>,
    ) -> Result<Workload> {
        Ok(self
            .workload
            .generate(rng, safety_ms, initial_runs(self.timing.records), knobs))
    }

    fn install(&self, _variant: &str, store: &mut Store, setup: &Value) -> Result<()> {
        store.create_table(TableDef::new(RUNS).versioned("version"));
        store.create_table(TableDef::new(USAGE));
        store.create_table(TableDef::new(APPLIED).key("op_id"));
        store.register("apply_op", server::apply_op);
        store.register("log_usage", server::log_usage);
        store.insert_setup(RUNS, setup)
    }

    fn setup_table(&self) -> Option<String> {
        Some(RUNS.to_string())
    }

    fn sql_files(&self, schema: &str) -> Option<Vec<faultline::system::SqlFile>> {
        crate::sql::for_schema("offline_sync", schema)
    }

    fn audited_tables(&self) -> Vec<String> {
        faultline::system::names(&[RUNS, USAGE])
    }

    fn client(
        &self,
        variant: &str,
        ctx: ClientCtx<AnyBackend, AnyAuth>,
        script: ClientScript,
    ) -> ClientFuture {
        let timing = self.timing;
        match Variant::named(variant) {
            Some(v) => Box::pin(async move {
                run_client(&v, timing, &ctx, script)
                    .await
                    .map_err(Into::into)
            }),
            None if mutants::Mutant::named(variant).is_some() => {
                let m = mutants::Mutant::named(variant).expect("named");
                Box::pin(async move {
                    run_client(&m, timing, &ctx, script)
                        .await
                        .map_err(Into::into)
                })
            }
            None => {
                let msg = format!("offline_sync has no variant `{variant}`");
                Box::pin(async move { Err(msg.into()) })
            }
        }
    }

    fn situations(&self) -> Vec<faultline::system::Situation> {
        situations::all()
    }

    fn check(&self, invariant: &str, history: &History, state: &FinalState) -> Verdict {
        match invariant {
            offline::CONVERGENCE => offline::convergence(state),
            offline::NO_LOST_ACKED_EDIT => offline::no_lost_acked_edit(history, state),
            offline::QUEUE_DURABLE => offline::queue_durable(history, state),
            offline::APPLIED_ONCE => offline::applied_once(history, state),
            other => Verdict::violated(
                other,
                format!("offline_sync cannot check `{other}`"),
                vec![],
            ),
        }
    }
}
