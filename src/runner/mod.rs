//! Runs scenarios over many seeds, on several cores, and compares verdicts with the
//! scenario's expectations.

mod situations;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::check::Verdict;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::scenario::{profile, ProfileChoice, Scenario};
use crate::sim::{run_plan, RunOutput, RunStats};
use crate::system::{self as logic, Registry, Situation, System as ScenarioLogic};
pub use situations::SituationTally;

/// A scenario with its logic, ready to run.
pub struct Loaded {
    /// The scenario.
    pub scenario: Scenario,
    /// Its logic.
    pub logic: Box<dyn ScenarioLogic>,
    /// Where runs happen.
    pub target: Target,
    /// Which profile each seed runs under; set through [`Loaded::with_profile`], which
    /// checks the scenario declares it.
    choice: ProfileChoice,
    /// Each declared profile's scenario and logic, overrides applied.
    profiles: std::collections::BTreeMap<String, Profiled>,
}

/// A scenario under one profile's overrides, with the logic built from it.
struct Profiled {
    scenario: Scenario,
    logic: Box<dyn ScenarioLogic>,
}

/// Where a run's logic meets its database.
#[derive(Debug, Clone, Default)]
pub enum Target {
    /// The simulated world: deterministic, no database needed.
    #[default]
    Sim,
    /// A real PostgreSQL, one fresh schema per run, on the wall clock.
    #[cfg(feature = "postgres")]
    Postgres(Box<crate::pg::PgTarget>),
}

impl Target {
    /// True on a real database (histories follow the wall clock, not the seed).
    pub fn is_postgres(&self) -> bool {
        match self {
            Target::Sim => false,
            #[cfg(feature = "postgres")]
            Target::Postgres(_) => true,
        }
    }
}

/// The outcome of one (variant, seed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedResult {
    /// The variant.
    pub variant: String,
    /// The seed.
    pub seed: u64,
    /// One verdict per checked invariant.
    pub verdicts: Vec<Verdict>,
    /// Stable hash of the history.
    pub history_hash: String,
    /// Operations invoked.
    pub ops: usize,
    /// Run counters.
    pub stats: RunStats,
    /// Wall-clock time of the run (simulation and checking), for throughput figures only.
    pub wall_us: u64,
    /// The knobs drawn for this seed.
    pub knobs: std::collections::BTreeMap<String, serde_json::Value>,
    /// How many times each situation that applies to the variant occurred on this seed.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub situations: std::collections::BTreeMap<String, usize>,
}

impl SeedResult {
    /// Verdicts that are violations.
    pub fn violations(&self) -> impl Iterator<Item = &Verdict> {
        self.verdicts.iter().filter(|v| !v.is_ok())
    }
}

impl Loaded {
    /// Validates the scenario against the system `registry` has for its `logic`.
    pub fn new(scenario: Scenario, registry: &Registry) -> Result<Self> {
        Self::with_logic(scenario, &|s| registry.build(s))
    }

    /// Like [`Loaded::new`], with `build` making the logic of the scenario and of each of
    /// its profiles (users' own logic comes from a factory).
    pub fn with_logic(
        scenario: Scenario,
        build: &dyn Fn(&Scenario) -> Result<Box<dyn ScenarioLogic>>,
    ) -> Result<Self> {
        let logic = build(&scenario)?;
        let mut profiles = std::collections::BTreeMap::new();
        for name in scenario.file.profiles.keys() {
            let scenario = scenario.with_profile(name)?;
            let logic = build(&scenario)?;
            profiles.insert(name.clone(), Profiled { scenario, logic });
        }
        Ok(Self {
            scenario,
            logic,
            target: Target::Sim,
            choice: ProfileChoice::Drawn,
            profiles,
        })
    }

    /// Runs every seed under `choice` from now on; refuses a profile the scenario lacks.
    pub fn with_profile(mut self, choice: ProfileChoice) -> Result<Self> {
        self.scenario.check_profile(&choice)?;
        self.choice = choice;
        Ok(self)
    }

    /// Which profile each seed runs under.
    pub fn choice(&self) -> &ProfileChoice {
        &self.choice
    }

    /// The profile a plan was drawn under, from its knobs (`None` for plans of scenarios
    /// without profiles, and for plans made before profiles existed).
    pub fn profile_of(
        knobs: &std::collections::BTreeMap<String, serde_json::Value>,
    ) -> Option<&str> {
        knobs.get(profile::KNOB).and_then(|v| v.as_str())
    }

    /// The logic that generates and runs plans of `profile`.
    fn logic_for(&self, profile: Option<&str>) -> &dyn ScenarioLogic {
        match profile.and_then(|p| self.profiles.get(p)) {
            Some(p) => p.logic.as_ref(),
            None => self.logic.as_ref(),
        }
    }

    /// Invariants `variant` must be caught violating somewhere in a run: a named
    /// profile's own expectation, or the scenario's when seeds draw their profiles.
    pub fn required(&self, variant: &str) -> Vec<String> {
        let named = match &self.choice {
            ProfileChoice::Named(p) => Some(p.as_str()),
            ProfileChoice::Drawn => None,
        };
        self.scenario.expectation(variant, named).violates
    }

    /// Invariants `variant` may violate on a seed whose plan has `knobs` without that
    /// being a finding: what that seed's profile expects, or may see.
    pub fn allowed(
        &self,
        variant: &str,
        knobs: &std::collections::BTreeMap<String, serde_json::Value>,
    ) -> Vec<String> {
        let e = self.scenario.expectation(variant, Self::profile_of(knobs));
        e.violates.into_iter().chain(e.may_violate).collect()
    }

    /// Loads a scenario file, `scenarios/NAME.toml` for a bare name, or a scenario the
    /// registry ships under that name.
    pub fn load(arg: &str, registry: &Registry) -> Result<Self> {
        Self::new(registry.load_scenario(arg)?, registry)
    }

    /// Runs on `target` from now on; refuses a logic without a PostgreSQL mode.
    pub fn with_target(mut self, target: Target) -> Result<Self> {
        if target.is_postgres() {
            for v in self.variants() {
                if self.logic.sql_files(&self.logic.schema_of(&v)).is_none() {
                    return Err(Error::Usage(format!(
                        "scenario {} (logic `{}`) has no PostgreSQL mode for variant `{v}`: \
                         its system gives no SQL files for schema `{}`",
                        self.scenario.file.name,
                        self.logic.name(),
                        self.logic.schema_of(&v)
                    )));
                }
            }
        }
        self.target = target;
        Ok(self)
    }

    /// Runs `plan` on this scenario's target.
    pub fn run(&self, plan: &Plan) -> Result<RunOutput> {
        let logic = self.logic_for(Self::profile_of(&plan.knobs));
        match &self.target {
            Target::Sim => run_plan(plan, logic),
            #[cfg(feature = "postgres")]
            Target::Postgres(t) => crate::pg::run_plan_pg(plan, logic, t),
        }
    }

    /// Variants the scenario runs.
    pub fn variants(&self) -> Vec<String> {
        logic::selected_variants(&self.scenario, self.logic.as_ref())
    }

    /// Invariants the scenario checks.
    pub fn invariants(&self) -> Vec<String> {
        logic::selected_invariants(&self.scenario, self.logic.as_ref())
    }

    /// Situations the run must reach (each on some seed of every variant it applies to):
    /// the named profile's list, or the scenario's when seeds draw their profiles.
    pub fn situations(&self) -> Vec<Situation> {
        match &self.choice {
            ProfileChoice::Named(p) => match self.profiles.get(p) {
                Some(p) => logic::selected_situations(&p.scenario, p.logic.as_ref()),
                None => logic::selected_situations(&self.scenario, self.logic.as_ref()),
            },
            ProfileChoice::Drawn => logic::selected_situations(&self.scenario, self.logic.as_ref()),
        }
    }

    /// Checks that `variant` exists.
    pub fn check_variant(&self, variant: &str) -> Result<()> {
        if self.logic.variants().iter().any(|v| v == variant) {
            Ok(())
        } else {
            Err(Error::Usage(format!(
                "scenario {} has no variant `{variant}`; expected one of: {}",
                self.scenario.file.name,
                self.logic.variants().join(", ")
            )))
        }
    }

    /// The plan for (variant, seed).
    pub fn plan(&self, variant: &str, seed: u64) -> Result<Plan> {
        self.check_variant(variant)?;
        let name = self.choice.for_seed(&self.scenario, seed);
        let mut plan = match name.as_deref().and_then(|n| self.profiles.get(n)) {
            Some(p) => Plan::generate(&p.scenario, p.logic.as_ref(), variant, seed)?,
            None => Plan::generate(&self.scenario, self.logic.as_ref(), variant, seed)?,
        };
        if let Some(name) = name {
            plan.knobs.insert(profile::KNOB.into(), name.into());
        }
        Ok(plan)
    }

    /// Runs a plan and checks every invariant, keeping the full output.
    pub fn execute(&self, plan: &Plan) -> Result<(SeedResult, RunOutput)> {
        if plan.scenario != self.scenario.file.name {
            return Err(Error::Usage(format!(
                "the plan is for scenario `{}`, not `{}`",
                plan.scenario, self.scenario.file.name
            )));
        }
        self.check_variant(&plan.variant)?;
        // Plans built in code (shrinking, user strategies) get the same checks as loaded
        // ones, so nothing out of bounds reaches the simulator.
        plan.validate().map_err(|e| {
            Error::Usage(format!("invalid plan: {}: {}", e.path.join("."), e.message))
        })?;
        let started = Instant::now();
        let out = self.run(plan)?;
        let logic = self.logic_for(Self::profile_of(&plan.knobs));
        let verdicts = self
            .invariants()
            .iter()
            .map(|inv| logic.check(inv, &out.history, &out.state))
            .collect();
        // Every declared situation is counted, selected or not: which ones the run must
        // reach is the summary's business.
        let situations =
            situations::count(&logic.situations(), &plan.variant, &out.history, &out.state);
        let result = SeedResult {
            variant: plan.variant.clone(),
            seed: plan.seed,
            verdicts,
            history_hash: out.history.hash(),
            ops: out.history.operations().len(),
            stats: out.stats,
            wall_us: started.elapsed().as_micros() as u64,
            knobs: plan.knobs.clone(),
            situations,
        };
        Ok((result, out))
    }

    /// Runs a plan and checks only `invariant`: true when it is violated (for shrinking).
    pub fn violates(&self, plan: &Plan, invariant: &str) -> Result<bool> {
        let out = self.run(plan)?;
        Ok(!self
            .logic_for(Self::profile_of(&plan.knobs))
            .check(invariant, &out.history, &out.state)
            .is_ok())
    }

    /// Runs one seed of one variant.
    pub fn run_seed(&self, variant: &str, seed: u64) -> Result<SeedResult> {
        let plan = self.plan(variant, seed)?;
        Ok(self.execute(&plan)?.0)
    }
}

pub use crate::system::resolve;

/// Runs every (variant, seed) pair on `jobs` threads, one single-threaded simulation per
/// thread; results come back in (variant, seed) order whatever the thread count.
pub fn run_many(
    scenario: &Scenario,
    registry: &Registry,
    variants: &[String],
    seeds: &[u64],
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Vec<SeedResult>, Duration)> {
    run_many_with(
        &|| Loaded::new(scenario.clone(), registry),
        variants,
        seeds,
        jobs,
        progress,
    )
}

/// Like [`run_many`], with each worker thread building its own [`Loaded`] through `make`
/// (logic objects are single-threaded, as simulated hosts are).
pub fn run_many_with(
    make: &(dyn Fn() -> Result<Loaded> + Sync),
    variants: &[String],
    seeds: &[u64],
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Vec<SeedResult>, Duration)> {
    run_many_lazy(make, variants, &|i| seeds[i], seeds.len(), jobs, progress)
}

/// Like [`run_many_with`] over `count` seeds given by position (`seed_at(0)` first), so
/// a range of seeds is never collected up front.
pub fn run_many_lazy(
    make: &(dyn Fn() -> Result<Loaded> + Sync),
    variants: &[String],
    seed_at: &(dyn Fn(usize) -> u64 + Sync),
    count: usize,
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Vec<SeedResult>, Duration)> {
    let (results, failed, elapsed) =
        run_many_partial(make, variants, seed_at, count, jobs, progress)?;
    match failed.into_iter().next() {
        Some(f) => Err(f.error),
        None => Ok((results, elapsed)),
    }
}

/// A run that failed for a reason outside the logic under test (a harness failure, a
/// database gone), reported per seed so the other seeds' results are kept.
#[derive(Debug)]
pub struct SeedFailure {
    /// The variant.
    pub variant: String,
    /// The seed.
    pub seed: u64,
    /// Why the run failed.
    pub error: Error,
}

/// Like [`run_many_lazy`], keeping every seed that ran when some fail: the results of
/// those that ran, and the failures, each in (variant, seed) order.
pub fn run_many_partial(
    make: &(dyn Fn() -> Result<Loaded> + Sync),
    variants: &[String],
    seed_at: &(dyn Fn(usize) -> u64 + Sync),
    count: usize,
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Vec<SeedResult>, Vec<SeedFailure>, Duration)> {
    let total = variants.len().checked_mul(count).ok_or_else(|| {
        Error::Usage(format!(
            "{count} seeds x {} variants is too many runs",
            variants.len()
        ))
    })?;
    let work_at = |i: usize| -> Option<(&String, u64)> {
        (i < total).then(|| (&variants[i / count], seed_at(i % count)))
    };
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<SeedResult>>>> =
        Mutex::new((0..total).map(|_| None).collect());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(total.max(1)) {
            scope.spawn(|| {
                let loaded = match make() {
                    Ok(l) => l,
                    Err(e) => {
                        let mut r = results.lock().unwrap_or_else(|p| p.into_inner());
                        r[0] = Some(Err(e));
                        return;
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((variant, seed)) = work_at(i) else {
                        break;
                    };
                    let r = loaded.run_seed(variant, seed);
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let mut out = Vec::with_capacity(total);
    let mut failed = Vec::new();
    for (i, r) in results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .enumerate()
    {
        match r {
            Some(Ok(r)) => out.push(r),
            // Bad input fails every seed alike: one error, not one per seed.
            Some(Err(e @ (Error::Input { .. } | Error::Usage(_)))) => return Err(e),
            Some(Err(error)) => {
                let (variant, seed) = work_at(i).expect("an index of the work");
                failed.push(SeedFailure {
                    variant: variant.clone(),
                    seed,
                    error,
                });
            }
            None => return Err(Error::Harness("a worker thread stopped early".into())),
        }
    }
    Ok((out, failed, elapsed))
}

/// Per-invariant tally for one variant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvariantTally {
    /// The invariant.
    pub invariant: String,
    /// Seeds on which it was violated.
    pub violated: usize,
    /// The first such seed.
    pub first_seed: Option<u64>,
    /// Whether the scenario expects this variant to violate it somewhere in the run.
    pub expected: bool,
    /// Violating seeds whose profile allowed it although the run does not require it
    /// (a `may_violate`, or another profile's expectation).
    #[serde(default)]
    pub tolerated: usize,
    /// Violating seeds whose profile does not allow it.
    #[serde(default)]
    pub unexpected: usize,
}

impl InvariantTally {
    /// True when what was seen is what the scenario expects: a required violation was
    /// found, and every violating seed's profile allowed it. (Documents written before
    /// profiles carry neither count, and are judged as before: required or never.)
    pub fn as_expected(&self) -> bool {
        self.unexpected == 0
            && (!self.expected || self.violated > 0)
            && (self.expected || self.violated == self.tolerated)
    }
}

/// One variant's results over all seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VariantSummary {
    /// The variant.
    pub variant: String,
    /// Seeds run.
    pub seeds: usize,
    /// Per invariant.
    pub invariants: Vec<InvariantTally>,
    /// Seeds where some client had not finished when the liveness phase ran out.
    pub unfinished: usize,
    /// Per situation the run must reach for this variant: on how many seeds it occurred.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub situations: Vec<SituationTally>,
    /// Total simulated milliseconds.
    pub sim_ms: u64,
    /// Total wall microseconds spent in runs (summed over threads).
    pub wall_us: u64,
}

impl VariantSummary {
    /// Tallies `results` of `variant`.
    pub fn new(loaded: &Loaded, variant: &str, results: &[SeedResult]) -> Self {
        let mine: Vec<&SeedResult> = results.iter().filter(|r| r.variant == variant).collect();
        let required = loaded.required(variant);
        let invariants = loaded
            .invariants()
            .into_iter()
            .map(|inv| {
                let hits: Vec<&SeedResult> = mine
                    .iter()
                    .filter(|r| r.verdicts.iter().any(|v| v.invariant == inv && !v.is_ok()))
                    .copied()
                    .collect();
                let allowed = hits
                    .iter()
                    .filter(|r| loaded.allowed(variant, &r.knobs).contains(&inv))
                    .count();
                let expected = required.contains(&inv);
                InvariantTally {
                    expected,
                    violated: hits.len(),
                    first_seed: hits.first().map(|r| r.seed),
                    tolerated: if expected { 0 } else { allowed },
                    unexpected: hits.len() - allowed,
                    invariant: inv,
                }
            })
            .collect();
        let situations = loaded
            .situations()
            .iter()
            .filter(|s| s.applies_to(variant))
            .map(|s| {
                let t = SituationTally::new(s, &mine);
                if s.simulated_only && loaded.target.is_postgres() {
                    t.not_required()
                } else {
                    t
                }
            })
            .collect();
        Self {
            variant: variant.into(),
            seeds: mine.len(),
            invariants,
            situations,
            unfinished: mine.iter().filter(|r| !r.stats.clients_finished).count(),
            sim_ms: mine.iter().map(|r| r.stats.sim_ms).sum(),
            wall_us: mine.iter().map(|r| r.wall_us).sum(),
        }
    }

    /// True when every invariant behaved as the scenario expects and every situation the
    /// run must reach occurred on some seed.
    pub fn as_expected(&self) -> bool {
        self.verdicts_as_expected() && self.missed_situations().next().is_none()
    }

    /// True when every invariant behaved as the scenario expects, whatever the run
    /// reached.
    pub fn verdicts_as_expected(&self) -> bool {
        self.invariants.iter().all(InvariantTally::as_expected)
    }

    /// Situations the run must reach that occurred on no seed of this variant.
    pub fn missed_situations(&self) -> impl Iterator<Item = &SituationTally> {
        self.situations.iter().filter(|t| t.missed())
    }
}
