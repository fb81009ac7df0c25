//! Gating on a system from an ordinary `#[test]`: named variants, each with an
//! expectation, over many seeds, leaving the CLI's evidence behind on a failure.
//!
//! ```no_run
//! use faultline::system::{client_fn, Registry, SystemSpec, Variant};
//! use faultline::Harness;
//!
//! # fn my_system(_: &faultline::scenario::Scenario) -> faultline::Result<SystemSpec> { unimplemented!() }
//! #[test]
//! fn bookings_hold() -> faultline::Result<()> {
//!     let registry = Registry::new().system("room_booking", my_system);
//!     Harness::new(registry)
//!         .scenario("tests/room_booking.toml")
//!         .expect_violates("shipped", &["no_double_booking"])
//!         .expect_holds("fixed")
//!         .seeds(200)
//!         .run()?
//!         .assert_as_expected();
//!     Ok(())
//! }
//! ```
//!
//! Seeds come from `FAULTLINE_SEEDS` when set (a fast PR gate and a deep nightly run from
//! one test); `FAULTLINE_SEED=S` runs just seed `S`, and `FAULTLINE_PLAN=FILE` runs just
//! that saved plan, which is how the replay lines a failure prints work.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::evidence::{self, Evidence};
use crate::plan::Plan;
use crate::report::text;
use crate::runner::Target;
use crate::runner::{run_many_with, Loaded, SeedResult, VariantSummary};
use crate::scenario::{Expectation, Scenario};
use crate::system::{Extended, Registry, System, Variant};

mod backend;
mod replay;

pub use backend::BACKEND_VAR;
use replay::default_evidence_dir;
pub use replay::{replay_template, replay_with_plan};

/// Stands for the seed in a replay command template.
pub const SEED_SLOT: &str = "{seed}";
/// Stands for the variant in a replay command template.
pub const VARIANT_SLOT: &str = "{variant}";

/// What a variant is expected to do over a run's seeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Every invariant holds on every seed.
    Holds,
    /// Each of these invariants is violated on some seed, and no other one ever is.
    Violates(Vec<String>),
}

/// A configured run of one scenario: which systems are known, which scenario, which
/// variants with which expectations, how many seeds.
pub struct Harness {
    registry: Registry,
    scenario: Option<String>,
    variants: Vec<Variant>,
    builtin_variants: bool,
    expectations: BTreeMap<String, Expect>,
    seeds: u64,
    jobs: Option<usize>,
    evidence_dir: PathBuf,
    evidence: bool,
    backend: Option<Target>,
}

impl Harness {
    /// A harness over the systems `registry` knows (a scenario still has to be chosen).
    pub fn new(registry: Registry) -> Self {
        Self {
            registry,
            scenario: None,
            variants: Vec::new(),
            builtin_variants: false,
            expectations: BTreeMap::new(),
            seeds: 100,
            jobs: None,
            evidence_dir: default_evidence_dir(),
            evidence: true,
            backend: None,
        }
    }

    /// The scenario: a name the registry ships, or a scenario file's path.
    pub fn scenario(mut self, name_or_path: &str) -> Self {
        self.scenario = Some(name_or_path.to_string());
        self
    }

    /// Adds a named variant (the user's own client code) to the scenario's system. Once
    /// any is added, only added variants run, unless [`Harness::builtin_variants`] says
    /// otherwise. A variant with no stated expectation must hold everything.
    pub fn variant(mut self, variant: Variant) -> Self {
        self.variants.retain(|v| v.name != variant.name);
        self.variants.push(variant);
        self
    }

    /// Also runs the system's own variants next to the added ones.
    pub fn builtin_variants(mut self, yes: bool) -> Self {
        self.builtin_variants = yes;
        self
    }

    /// `variant` must hold every invariant on every seed.
    pub fn expect_holds(mut self, variant: &str) -> Self {
        self.expectations.insert(variant.to_string(), Expect::Holds);
        self
    }

    /// `variant` must be caught violating each of `invariants` on some seed, and nothing
    /// else on any seed: how a CI test pins that the shipped bug is caught.
    pub fn expect_violates(mut self, variant: &str, invariants: &[&str]) -> Self {
        let list = invariants.iter().map(|s| s.to_string()).collect();
        self.expectations
            .insert(variant.to_string(), Expect::Violates(list));
        self
    }

    /// Runs seeds `1..=n` (unless `FAULTLINE_SEEDS`, `FAULTLINE_SEED` or `FAULTLINE_PLAN`
    /// says otherwise).
    pub fn seeds(mut self, n: u64) -> Self {
        self.seeds = n;
        self
    }

    /// Worker threads (default: every core).
    pub fn jobs(mut self, n: usize) -> Self {
        self.jobs = Some(n.max(1));
        self
    }

    /// Where a failure's plan, history, shrunk plan and timeline are written (default
    /// `faultline/` in the workspace's target directory); `None` writes nothing.
    pub fn evidence_dir(mut self, dir: Option<PathBuf>) -> Self {
        match dir {
            Some(d) => {
                self.evidence_dir = d;
                self.evidence = true;
            }
            None => self.evidence = false,
        }
        self
    }

    /// Runs on `target`: [`Target::Sim`] (the default) or a real PostgreSQL, where each
    /// run gets a fresh schema loaded from the system's SQL files and dropped afterwards.
    /// Without this call, `FAULTLINE_BACKEND=postgres` (with `DATABASE_URL`) picks
    /// PostgreSQL, so one test gates on both. On PostgreSQL, runs follow the wall clock,
    /// a seed replays its workload and faults but not its exact interleaving, and a
    /// failure's evidence is not shrunk (shrinking reruns a plan hundreds of times).
    pub fn backend(mut self, target: Target) -> Self {
        self.backend = Some(target);
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
        if n == 0 {
            return Err(Error::Usage("a Harness run needs at least one seed".into()));
        }
        Ok((1..=n).collect())
    }

    /// The scenario with the Harness's expectations written into it, so reports, exit
    /// decisions and replay lines treat them as the scenario's own. Expectations the file
    /// states for variants that do not run (a built-in's, when only added variants run)
    /// are dropped, and the Harness's own replace the file's for the same variant.
    fn scenario_with_expectations(
        &self,
        mut scenario: Scenario,
        names: &[String],
    ) -> Result<Scenario> {
        for variant in self.expectations.keys() {
            if !names.contains(variant) {
                return Err(Error::Usage(format!(
                    "Harness: an expectation names variant `{variant}`, which does not run; \
                     running: {}",
                    names.join(", ")
                )));
            }
        }
        let keep = |v: &String| names.contains(v) && !self.expectations.contains_key(v);
        let f = &mut scenario.file;
        f.variants.retain(|v| names.contains(v));
        f.expect.retain(|v, _| keep(v));
        for p in f.profiles.values_mut() {
            p.expect.retain(|v, _| keep(v));
        }
        for (variant, expect) in &self.expectations {
            let violates = match expect {
                Expect::Holds => Vec::new(),
                Expect::Violates(list) => list.clone(),
            };
            f.expect.insert(
                variant.clone(),
                Expectation {
                    violates,
                    ..Default::default()
                },
            );
        }
        Ok(scenario)
    }

    /// The system of `scenario` with the added variants, not yet validated.
    fn system(&self, scenario: &Scenario) -> Result<Box<dyn System>> {
        let factory = self
            .registry
            .factory_of(&scenario.file.logic)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "Harness: no system is registered for logic `{}`; registered: {}",
                    scenario.file.logic,
                    self.registry.logics().join(", ")
                ))
            })?;
        let inner = factory(scenario)?;
        Ok(if self.variants.is_empty() {
            inner
        } else {
            Box::new(Extended::new(
                inner,
                self.variants.clone(),
                !self.builtin_variants,
                scenario,
            )?)
        })
    }

    /// The system of `scenario` with the added variants, validated against it.
    fn build(&self, scenario: &Scenario) -> Result<Box<dyn System>> {
        let system = self.system(scenario)?;
        system.self_check()?;
        crate::system::validate(scenario, system.as_ref())?;
        Ok(system)
    }

    /// The scenario with the Harness's variants and expectations, and the backend.
    fn prepared(&self) -> Result<(Scenario, Target, bool)> {
        let arg = self.scenario.as_deref().ok_or_else(|| {
            Error::Usage("Harness: choose a scenario with `.scenario(name_or_path)`".into())
        })?;
        let plain = self.registry.load_scenario(arg)?;
        // The file's list (or every variant the system shows: only the added ones unless
        // the system's own were asked for), and every added variant, whatever the file lists.
        let mut names = crate::system::selected_variants(&plain, self.system(&plain)?.as_ref());
        for v in &self.variants {
            if !names.contains(&v.name) {
                names.push(v.name.clone());
            }
        }
        let scenario = self.scenario_with_expectations(plain, &names)?;
        let (target, from_env) = match &self.backend {
            Some(t) => (t.clone(), false),
            None => match backend::from_env()? {
                Some(t) => (t, true),
                None => (Target::Sim, false),
            },
        };
        Ok((scenario, target, from_env))
    }

    /// The scenario loaded with this Harness's variants, expectations and backend, without
    /// running it: for a property test over plans of a variant added here
    /// ([`crate::strategy::plans_of`]), or for running single plans by hand.
    pub fn load(&self) -> Result<Loaded> {
        let (scenario, target, _) = self.prepared()?;
        self.loaded(&scenario, &target)
    }

    /// `scenario` with this Harness's system, on `target`.
    fn loaded(&self, scenario: &Scenario, target: &Target) -> Result<Loaded> {
        Loaded::with_logic(scenario.clone(), &|s| self.build(s))?.with_target(target.clone())
    }

    /// Runs every seed of every variant and compares verdicts with expectations.
    pub fn run(self) -> Result<Report> {
        let (scenario, target, from_env) = self.prepared()?;
        let make = || self.loaded(&scenario, &target);
        let loaded = make()?;
        for (variant, expect) in &self.expectations {
            if let Expect::Violates(list) = expect {
                for inv in list {
                    if !loaded.invariants().contains(inv) {
                        return Err(Error::Usage(format!(
                            "Harness: variant `{variant}` is expected to violate `{inv}`, \
                             which the scenario does not check; it checks: {}",
                            loaded.invariants().join(", ")
                        )));
                    }
                }
            }
        }
        let jobs = self
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let mut replay = replay_template();
        if from_env && target.is_postgres() {
            // The test itself runs on the simulator; the replay must pick the same backend.
            replay = format!("{BACKEND_VAR}=postgres {replay}");
        }
        if let Some(path) = std::env::var_os("FAULTLINE_PLAN").filter(|p| !p.is_empty()) {
            return run_plan_file(&loaded, &PathBuf::from(path), &replay);
        }
        let replaying = std::env::var("FAULTLINE_SEED").is_ok_and(|v| !v.trim().is_empty());
        let seeds = self.seed_list()?;
        let variants = loaded.variants();
        let (results, elapsed) = run_many_with(&make, &variants, &seeds, jobs, &|_, _| {})?;
        let summaries: Vec<VariantSummary> = variants
            .iter()
            .map(|v| VariantSummary::new(&loaded, v, &results))
            .collect();
        let mut text = text::run_report(&loaded, &replay, &summaries, &results, elapsed, jobs, &[]);
        let evidence = if self.evidence {
            evidence::first_failures(&loaded, &results, &self.evidence_dir)?
        } else {
            Vec::new()
        };
        for e in &evidence {
            text.push_str(&e.describe(&replay));
        }
        Ok(Report {
            ok: summaries.iter().all(|v| judged(v, replaying)),
            summaries,
            results,
            elapsed,
            text,
            evidence,
        })
    }
}

/// A variant's verdict. Replaying one seed or one plan cannot show every violation the
/// variant is required to show somewhere, nor reach every situation the scenario must
/// reach on some seed, so then only unexpected violations fail.
fn judged(v: &VariantSummary, replaying: bool) -> bool {
    if replaying {
        v.invariants.iter().all(|t| t.unexpected == 0)
    } else {
        v.as_expected()
    }
}

/// Runs one saved plan (`FAULTLINE_PLAN`) and reports it like a one-seed run.
fn run_plan_file(loaded: &Loaded, path: &std::path::Path, replay: &str) -> Result<Report> {
    let plan = Plan::load(path)?;
    let (result, out) = loaded.execute(&plan)?;
    let mut text = text::replay_report(loaded, &path.to_string_lossy(), &plan, &result, &out);
    text.push_str(&format!(
        "  (replayed from {}; rerun with: {})\n",
        path.display(),
        replay_with_plan(replay, path)
    ));
    let summaries = vec![VariantSummary::new(
        loaded,
        &plan.variant,
        std::slice::from_ref(&result),
    )];
    Ok(Report {
        ok: summaries.iter().all(|v| judged(v, true)),
        summaries,
        results: vec![result],
        elapsed: Duration::ZERO,
        text,
        evidence: Vec::new(),
    })
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
    /// The same text `faultline run` prints, with replay lines for this test and the
    /// paths of the evidence written.
    pub text: String,
    /// What was written for the first failure of each variant.
    pub evidence: Vec<Evidence>,
}

impl Report {
    /// Panics with the full report, violations, replay commands and evidence paths when
    /// any verdict differs from expectations, or naming each situation the scenario must
    /// reach that no seed of a variant reached (not on a one-seed replay).
    #[track_caller]
    pub fn assert_as_expected(&self) {
        if self.ok {
            return;
        }
        let missed: Vec<String> = self
            .summaries
            .iter()
            .flat_map(|v| {
                v.missed_situations()
                    .map(move |t| format!("`{}` for variant {}", t.situation, v.variant))
            })
            .collect();
        let verdicts_ok = self
            .summaries
            .iter()
            .all(VariantSummary::verdicts_as_expected);
        if verdicts_ok && !missed.is_empty() {
            panic!(
                "faultline: the run never reached situation {} on any seed, so it does not \
                 exercise what the scenario claims:\n{}",
                missed.join(", "),
                self.text
            );
        }
        panic!(
            "faultline: verdicts differ from expectations:\n{}",
            self.text
        );
    }

    /// Same as [`Report::assert_as_expected`]: with no stated expectations, every variant
    /// must hold everything.
    #[track_caller]
    pub fn assert_holds(&self) {
        self.assert_as_expected()
    }

    /// The summary of `variant`, if it ran.
    pub fn variant(&self, variant: &str) -> Option<&VariantSummary> {
        self.summaries.iter().find(|s| s.variant == variant)
    }
}
