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

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use device::{run_client, DeviceLogic, Engine};
pub use documented::Strategy;
use faultline::check::offline;
use faultline::error::Result;
use faultline::scenario::{read_workload, Scenario};
use faultline::store::TableDef;
use faultline::system::{client_fn, ClientFn, Invariant, SystemSpec, Variant as UserVariant};
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

/// The workload and the devices' timing `scenario` sets.
fn read(scenario: &Scenario) -> Result<(OfflineWorkload, Timing)> {
    let workload: OfflineWorkload = read_workload(scenario)?;
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
    Ok((workload, timing))
}

/// The offline-sync system for `scenario`: the server's tables and functions, the
/// devices' workload and timing, the built-in variants and the mutant suite's,
/// invariants and situations. Users' own code runs as further named variants made with
/// [`variant`].
pub fn system(scenario: &Scenario) -> Result<SystemSpec> {
    let (workload, timing) = read(scenario)?;
    let runs = initial_runs(timing.records);
    let spec = SystemSpec::new("offline_sync")
        .table(TableDef::new(RUNS).versioned("version"))
        .table(TableDef::new(USAGE))
        .table(TableDef::new(APPLIED).key("op_id"))
        .function("apply_op", server::apply_op)
        .function("log_usage", server::log_usage)
        .setup_table(RUNS)
        .audit(RUNS)
        .audit(USAGE)
        .workload(move |rng, safety_ms, knobs| {
            Ok(workload.generate(rng, safety_ms, runs.clone(), knobs))
        })
        .invariants_from(invariants())
        .situations_from(situations::all());
    let fixed = |name: &str, client| UserVariant::new(name, client).for_logic("offline_sync");
    let builtins = VARIANTS
        .iter()
        .filter_map(|n| Variant::named(n).map(|v| fixed(n, client_with(v, timing))));
    let mutants = mutants::MUTANTS.map(|(m, e)| fixed(e.name, client_with(m, timing)));
    Ok(crate::sql::onto(
        spec.variants_from(builtins).variants_from(mutants),
        "offline_sync",
    ))
}

fn invariants() -> [Invariant; 4] {
    [
        Invariant::new(offline::CONVERGENCE, |_, s| offline::convergence(s)),
        Invariant::new(offline::NO_LOST_ACKED_EDIT, offline::no_lost_acked_edit),
        Invariant::new(offline::QUEUE_DURABLE, offline::queue_durable),
        Invariant::new(offline::APPLIED_ONCE, offline::applied_once),
    ]
    .map(|i| i.reads(RUNS))
}

/// Runs `logic` on every device as the variant `name`, with the timing the scenario's
/// `[workload]` and phases set (all variants share one schema).
pub fn variant<L: DeviceLogic + Send + Sync>(name: &str, logic: L) -> UserVariant {
    UserVariant::per_scenario(name, move |scenario| {
        let (_, timing) = read(scenario)?;
        Ok(client_with(logic.clone(), timing))
    })
    .for_logic("offline_sync")
}

/// The client software of [`variant`] for timing already read (the built-in variants'
/// path, which must not parse the scenario again for each of them).
fn client_with<L: DeviceLogic + Send + Sync>(logic: L, timing: Timing) -> ClientFn {
    client_fn(move |ctx, script| {
        let logic = logic.clone();
        async move { run_client(&logic, timing, &ctx, script).await }
    })
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
