//! The logic under test, one module per seed system, each with its variants.

pub mod business_cards;
pub mod chat;
pub mod ctx;
pub mod loop_export;
pub mod offline_sync;
pub mod story_progress;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::check::{FinalState, Verdict};
use crate::endpoint::{AnyAuth, AnyBackend};
use crate::error::{Error, Result};
use crate::history::History;
use crate::plan::{ClientScript, Workload};
use crate::rng::SimRng;
use crate::scenario::Scenario;
use crate::store::Store;
pub use ctx::{ClientCtx, OpScope, Recorder};

/// A client host's software in the simulated world.
pub type ClientFuture = Pin<Box<dyn Future<Output = turmoil::Result>>>;

/// A seed system: its workload, schema, variants and checkers.
pub trait ScenarioLogic {
    /// The logic's name, as scenario files refer to it.
    fn name(&self) -> &'static str;
    /// Every variant it implements.
    fn variants(&self) -> &'static [&'static str];
    /// Every invariant it can check.
    fn invariants(&self) -> &'static [&'static str];
    /// Draws the workload for one seed, recording drawn knobs.
    fn workload(
        &self,
        rng: SimRng,
        safety_ms: u64,
        knobs: &mut BTreeMap<String, Value>,
    ) -> Result<Workload>;
    /// Creates the variant's schema and functions, and the initial rows.
    fn install(&self, variant: &str, store: &mut Store, setup: &Value) -> Result<()>;
    /// Which of the logic's migrations `variant` runs against: names the variant's SQL
    /// file in `sql/LOGIC/` and says which table gets the plan's setup rows. Users' own
    /// logic picks one of the built-in schemas.
    fn schema_of(&self, variant: &str) -> String {
        variant.to_string()
    }
    /// Tables whose every committed row image the final state keeps (an audit log), for
    /// checkers that must know what ever reached the server, not only what is left.
    fn audited_tables(&self) -> &'static [&'static str] {
        &[]
    }
    /// The table a plan's `setup` rows go into, if any.
    fn setup_table(&self) -> Option<&'static str> {
        None
    }
    /// The software of one client host.
    fn client(
        &self,
        variant: &str,
        ctx: ClientCtx<AnyBackend, AnyAuth>,
        script: ClientScript,
    ) -> ClientFuture;
    /// Checks one invariant.
    fn check(&self, invariant: &str, history: &History, state: &FinalState) -> Verdict;
}

/// Names of every built-in logic.
pub const LOGICS: &[&str] = &[
    "business_cards",
    "chat_persistence",
    "loop_export",
    "offline_sync",
    "story_progress",
];

/// Builds the logic a scenario names and validates the scenario against it.
pub fn build(scenario: &Scenario) -> Result<Box<dyn ScenarioLogic>> {
    let f = &scenario.file;
    let logic: Box<dyn ScenarioLogic> = match f.logic.as_str() {
        "business_cards" => Box::new(business_cards::BusinessCards::from_scenario(scenario)?),
        "chat_persistence" => Box::new(chat::Chat::from_scenario(scenario)?),
        "story_progress" => Box::new(story_progress::StoryProgress::from_scenario(scenario)?),
        "loop_export" => Box::new(loop_export::LoopExport::from_scenario(scenario)?),
        "offline_sync" => Box::new(offline_sync::OfflineSync::from_scenario(scenario)?),
        other => {
            return Err(scenario.error_at(
                &["logic"],
                format!(
                    "unknown logic `{other}`; expected one of: {}",
                    LOGICS.join(", ")
                ),
            ))
        }
    };
    let known = |list: &[&str], name: &str| list.contains(&name);
    // Profiles' own expectations are checked like the scenario's.
    let expects = || {
        f.expect
            .iter()
            .chain(f.profiles.values().flat_map(|p| p.expect.iter()))
    };
    for v in f.variants.iter().chain(expects().map(|(v, _)| v)) {
        if !known(logic.variants(), v) {
            return Err(scenario.error_at(
                &scenario.path_naming(v),
                format!(
                    "unknown variant `{v}`; expected one of: {}",
                    logic.variants().join(", ")
                ),
            ));
        }
    }
    let invariants = selected_invariants(scenario, logic.as_ref());
    for i in f
        .invariants
        .iter()
        .chain(expects().flat_map(|(_, e)| e.violates.iter().chain(e.may_violate.iter())))
    {
        if !known(logic.invariants(), i) {
            return Err(scenario.error_at(
                &scenario.path_naming(i),
                format!(
                    "unknown invariant `{i}`; expected one of: {}",
                    logic.invariants().join(", ")
                ),
            ));
        }
        if !invariants.contains(i) {
            return Err(scenario.error_at(
                &scenario.path_naming(i),
                format!("invariant `{i}` is expected but not checked; add it to `invariants`"),
            ));
        }
    }
    Ok(logic)
}

/// The variants a scenario runs: its list, or all of the logic's.
///
/// Users' own logic brings its own variant, so names the logic does not know are skipped.
pub fn selected_variants(scenario: &Scenario, logic: &dyn ScenarioLogic) -> Vec<String> {
    let listed: Vec<String> = scenario
        .file
        .variants
        .iter()
        .filter(|v| logic.variants().contains(&v.as_str()))
        .cloned()
        .collect();
    if listed.is_empty() {
        logic.variants().iter().map(|s| s.to_string()).collect()
    } else {
        listed
    }
}

/// The invariants a scenario checks: its list, or all of the logic's.
pub fn selected_invariants(scenario: &Scenario, logic: &dyn ScenarioLogic) -> Vec<String> {
    if scenario.file.invariants.is_empty() {
        logic.invariants().iter().map(|s| s.to_string()).collect()
    } else {
        scenario.file.invariants.clone()
    }
}

/// Turns an unparseable planned action into a harness error.
pub fn bad_action(logic: &str, e: serde_json::Error) -> Error {
    Error::Harness(format!(
        "{logic}: plan action does not match this logic: {e}"
    ))
}
