//! Describing a system under test: the one public way faultline runs anybody's logic.
//!
//! A *system* is the code a team ships and the server it talks to: tables with keys,
//! unique constraints and version columns, server functions (the simulated twins of its
//! SQL functions), a workload drawn per seed from the scenario's `[workload]`, client logic
//! per named variant, and invariants checked on every run's history and final state.
//!
//! There are two ways to describe one, and the engine sees no difference:
//! - [`SystemSpec`], a builder: tables, functions, a workload closure, variants,
//!   invariants and situations as closures (the quickest start, see `examples/room-booking`);
//! - the [`System`] trait, implemented by hand (what the five seed systems in the
//!   `faultline-seeds` crate do, with nothing private to them).
//!
//! A [`Registry`] maps the `logic = "..."` names of scenario files to factories of
//! systems; the CLI ([`crate::cli::main_with`]) and the [`crate::Harness`] take one.
//! Extra named variants ([`Variant`]) can be added to any system, built-in or not, which is
//! how a user runs their own client code in a built-in scenario.

mod ctx;
mod registry;
mod situation;
mod spec;
mod variants;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::check::{FinalState, Verdict};
use crate::error::Error;
use crate::history::History;
use crate::plan::Workload;
use crate::rng::SimRng;
use crate::store::Store;
pub use ctx::{ClientCtx, OpScope, Recorder};
pub use registry::{
    resolve, selected_invariants, selected_situations, selected_variants, validate, Factory,
    Registry, SweepFactory,
};
pub use situation::Situation;
pub use spec::{Invariant, SystemSpec};
pub use variants::{client_fn, ClientFactory, ClientFn, Extended, Variant};

/// A client host's software in the simulated world.
pub type ClientFuture = Pin<Box<dyn Future<Output = turmoil::Result>>>;

/// The context every client gets: generic logic is written against `ClientCtx<B, A>`, and
/// the engine hands it this one pair, which reaches the simulator or PostgreSQL.
pub type AnyCtx = ClientCtx<crate::endpoint::AnyBackend, crate::endpoint::AnyAuth>;

/// One SQL file a system loads into a PostgreSQL run's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFile {
    /// Where it came from, for error messages (a repository path or a file on disk).
    pub path: String,
    /// The statements.
    pub text: String,
}

impl SqlFile {
    /// A file given by its path and text (for `include_str!` files).
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }

    /// Reads a file from disk.
    pub fn read(path: impl AsRef<std::path::Path>) -> crate::Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::new(path.to_string_lossy(), text))
    }
}

/// A system under test, as the engine runs it.
///
/// Objects are built per worker thread (simulated hosts are single-threaded), from a
/// validated scenario, by the factory a [`Registry`] holds.
pub trait System {
    /// The logic's name, as scenario files refer to it (`logic = "..."`).
    fn name(&self) -> &str;
    /// Every variant it implements, in report order.
    fn variants(&self) -> Vec<String>;
    /// Every invariant it can check.
    fn invariants(&self) -> Vec<String>;
    /// Draws the workload for one seed, recording every drawn knob in `knobs`.
    fn workload(
        &self,
        rng: SimRng,
        safety_ms: u64,
        knobs: &mut BTreeMap<String, Value>,
    ) -> crate::Result<Workload>;
    /// Creates the variant's tables and server functions, and the plan's initial rows.
    fn install(&self, variant: &str, store: &mut Store, setup: &Value) -> crate::Result<()>;
    /// Which schema (set of constraints and migrations) `variant` runs against. Variants
    /// that share a schema share its SQL files on PostgreSQL.
    fn schema_of(&self, variant: &str) -> String {
        variant.to_string()
    }
    /// Tables whose every committed row image the final state keeps (an audit log), for
    /// checkers that must know what ever reached the server, not only what is left.
    fn audited_tables(&self) -> Vec<String> {
        Vec::new()
    }
    /// The table a plan's `setup` rows go into, if any.
    fn setup_table(&self) -> Option<String> {
        None
    }
    /// The SQL files (tables, constraints, functions) of the schema `schema` on
    /// PostgreSQL, in load order; `None` when the system has no PostgreSQL mode.
    fn sql_files(&self, schema: &str) -> Option<Vec<SqlFile>> {
        let _ = schema;
        None
    }
    /// The software of one client host running `variant`.
    fn client(&self, variant: &str, ctx: AnyCtx, script: crate::plan::ClientScript)
        -> ClientFuture;
    /// Checks one invariant on a run's history and final state.
    fn check(&self, invariant: &str, history: &History, state: &FinalState) -> Verdict;
    /// The dangerous situations its scenarios must reach on some seeds (see
    /// [`Situation`]); a run in which one never occurred for a variant it applies to
    /// fails. None by default.
    fn situations(&self) -> Vec<Situation> {
        Vec::new()
    }
    /// Checks the description itself before anything runs (an invariant reading a table
    /// the system does not have, a system with no variant); by default
    /// [`System::definition_check`].
    fn self_check(&self) -> crate::Result<()> {
        self.definition_check()
    }
    /// Everything [`System::self_check`] checks except that the system has variants of
    /// its own, for a system whose variants are all added from outside (a Harness's).
    fn definition_check(&self) -> crate::Result<()> {
        Ok(())
    }
}

/// The name the seed systems were written against before the trait was public; kept so
/// older code compiles.
pub use System as ScenarioLogic;

/// Turns an unparseable planned action into a harness error.
pub fn bad_action(logic: &str, e: serde_json::Error) -> Error {
    Error::Harness(format!(
        "{logic}: plan action does not match this logic: {e}"
    ))
}

/// A client future that fails at once with `message` (a variant a system does not have).
pub fn failing_client(message: String) -> ClientFuture {
    Box::pin(async move { Err(message.into()) })
}

/// Owned names from a static list, for [`System::variants`] and [`System::invariants`].
pub fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}
