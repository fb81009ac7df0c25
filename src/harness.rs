//! Running users' own logic inside an ordinary `#[test]`.
//!
//! ```no_run
//! use faultline::logic::business_cards::{Builtin, CardsLogic};
//! # #[derive(Clone)] struct MyLogic;
//! # impl CardsLogic for MyLogic {
//! #   async fn create<B: faultline::backend::Backend, A: faultline::backend::AuthApi>(&self, ctx: &faultline::logic::ClientCtx<B, A>, op: u32, form_id: &str, name: &str) { Builtin::Reference.create(ctx, op, form_id, name).await }
//! #   async fn edit<B: faultline::backend::Backend, A: faultline::backend::AuthApi>(&self, ctx: &faultline::logic::ClientCtx<B, A>, op: u32, card: i64, intent: &serde_json::Map<String, serde_json::Value>, think_ms: u64) { Builtin::Reference.edit(ctx, op, card, intent, think_ms).await }
//! # }
//! #[test]
//! fn my_cards_hold() -> faultline::Result<()> {
//!     faultline::Harness::scenario("business_cards").logic(MyLogic).seeds(500).run()?.assert_holds();
//!     Ok(())
//! }
//! ```
//!
//! Seeds come from `FAULTLINE_SEEDS` when set (a fast PR gate and a deep nightly run from
//! one test), and `FAULTLINE_SEED=S` runs just seed `S`, which is how a failure is replayed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::logic::business_cards::{BusinessCards, CardsLogic, CUSTOM};
use crate::logic::chat::{Chat, ChatLogic};
use crate::logic::ScenarioLogic;
use crate::report::text;
use crate::runner::{run_many_with, Loaded, SeedResult, VariantSummary};
use crate::scenario::Scenario;

type Factory = Arc<dyn Fn(&Scenario) -> Result<Box<dyn ScenarioLogic>> + Send + Sync>;

/// Scenario files that ship inside the crate, so `Harness::scenario("business_cards")`
/// works from any crate.
const BUILTIN: &[(&str, &str)] = &[
    (
        "business_cards",
        include_str!("../scenarios/business_cards.toml"),
    ),
    (
        "chat_persistence",
        include_str!("../scenarios/chat_persistence.toml"),
    ),
];

/// A configured run of one scenario.
pub struct Harness {
    scenario: Result<Scenario>,
    factory: Option<(&'static str, Factory)>,
    seeds: u64,
    jobs: Option<usize>,
}

impl Harness {
    /// A built-in scenario by name, or a scenario file by path.
    pub fn scenario(name_or_path: &str) -> Self {
        let scenario = match BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            Some((name, text)) => Scenario::parse(
                &PathBuf::from(format!("scenarios/{name}.toml")),
                text.to_string(),
            ),
            None => Scenario::load(Path::new(name_or_path)),
        };
        Self {
            scenario,
            factory: None,
            seeds: 100,
            jobs: None,
        }
    }

    /// Runs `logic` (as the variant `custom`) instead of the built-in variants. The
    /// scenario must use the `business_cards` logic.
    pub fn logic<L: CardsLogic + Send + Sync>(mut self, logic: L) -> Self {
        let make: Factory = Arc::new(move |s: &Scenario| {
            let built = BusinessCards::with_logic(s, Some(logic.clone()))?;
            Ok(Box::new(built) as Box<dyn ScenarioLogic>)
        });
        self.factory = Some(("business_cards", make));
        self
    }

    /// Runs `logic` (as the variant `custom`) in a `chat_persistence` scenario.
    pub fn chat_logic<L: ChatLogic + Send + Sync>(mut self, logic: L) -> Self {
        let make: Factory = Arc::new(move |s: &Scenario| {
            let built = Chat::with_logic(s, Some(logic.clone()))?;
            Ok(Box::new(built) as Box<dyn ScenarioLogic>)
        });
        self.factory = Some(("chat_persistence", make));
        self
    }

    /// Runs seeds `1..=n` (unless `FAULTLINE_SEEDS` or `FAULTLINE_SEED` says otherwise).
    pub fn seeds(mut self, n: u64) -> Self {
        self.seeds = n;
        self
    }

    /// Worker threads (default: every core).
    pub fn jobs(mut self, n: usize) -> Self {
        self.jobs = Some(n.max(1));
        self
    }

    fn seed_list(&self) -> Result<Vec<u64>> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if let Some(s) = env("FAULTLINE_SEED") {
            let seed = s
                .trim()
                .parse()
                .map_err(|_| Error::Usage(format!("FAULTLINE_SEED={s}: expected a number")))?;
            return Ok(vec![seed]);
        }
        let n = match env("FAULTLINE_SEEDS") {
            Some(s) => s
                .trim()
                .parse()
                .map_err(|_| Error::Usage(format!("FAULTLINE_SEEDS={s}: expected a number")))?,
            None => self.seeds,
        };
        Ok((1..=n).collect())
    }

    /// Runs every seed and compares verdicts with the scenario's expectations (user logic,
    /// which has none, must hold every invariant).
    pub fn run(self) -> Result<Report> {
        let seeds = self.seed_list()?;
        let scenario = self.scenario?;
        let jobs = self
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let make = |scenario: &Scenario| -> Result<Loaded> {
            match &self.factory {
                None => Loaded::new(scenario.clone()),
                Some((logic, factory)) => {
                    if scenario.file.logic != *logic {
                        return Err(scenario.error_at(
                            &["logic"],
                            format!(
                                "this logic implements `{logic}`, but the scenario runs `{}`",
                                scenario.file.logic
                            ),
                        ));
                    }
                    Loaded::with_logic(scenario.clone(), &|s| factory(s))
                }
            }
        };
        let loaded = make(&scenario)?;
        let variants = loaded.variants();
        let (results, elapsed) =
            run_many_with(&|| make(&scenario), &variants, &seeds, jobs, &|_, _| {})?;
        let summaries: Vec<VariantSummary> = variants
            .iter()
            .map(|v| VariantSummary::new(&loaded, v, &results))
            .collect();
        // The replay line for user logic is this very test, pinned to one seed.
        let replay = if self.factory.is_some() {
            std::thread::current()
                .name()
                .unwrap_or("<test name>")
                .to_string()
        } else {
            loaded.scenario.path.to_string_lossy().into_owned()
        };
        let text = text::run_report(&loaded, &replay, &summaries, &results, elapsed, jobs, &[]);
        Ok(Report {
            ok: summaries.iter().all(VariantSummary::as_expected),
            summaries,
            results,
            elapsed,
            text,
        })
    }
}

/// The outcome of [`Harness::run`].
#[derive(Debug, Clone)]
pub struct Report {
    /// True when every verdict matched expectations.
    pub ok: bool,
    /// Per variant.
    pub summaries: Vec<VariantSummary>,
    /// Per (variant, seed).
    pub results: Vec<SeedResult>,
    /// Wall time.
    pub elapsed: Duration,
    /// The same text `faultline run` prints.
    pub text: String,
}

impl Report {
    /// Panics with the full report, violations and replay commands when any verdict
    /// differs from expectations.
    #[track_caller]
    pub fn assert_holds(&self) {
        assert!(self.ok, "faultline found violations:\n{}", self.text);
    }
}

/// True for the variant name user logic runs under.
pub fn is_custom(variant: &str) -> bool {
    variant == CUSTOM
}
