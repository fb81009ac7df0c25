//! Text output for the terminal: run summaries, violations with replay commands, and
//! timelines.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::check::{secs, Verdict};
use crate::history::EntryType;
use crate::plan::Plan;
use crate::runner::{Loaded, SeedResult, VariantSummary};
use crate::sim::RunOutput;

/// `faultline list` lines for one scenario.
pub fn listing(loaded: &Loaded, path: &Path) -> String {
    let f = &loaded.scenario.file;
    let mut s = String::new();
    let _ = writeln!(s, "{}  ({})", f.name, path.display());
    let _ = writeln!(s, "  {}", f.description.trim());
    if let Some(doc) = &f.seed_document {
        let _ = writeln!(s, "  seed document: {doc}");
    }
    let _ = writeln!(s, "  invariants: {}", loaded.invariants().join(", "));
    for v in loaded.variants() {
        let expected = loaded.scenario.expected_violations(&v);
        let what = if expected.is_empty() {
            "holds everything".to_string()
        } else {
            format!("expected to violate {}", expected.join(", "))
        };
        let _ = writeln!(s, "  variant {v:<11} {what}");
    }
    for (name, p) in &f.profiles {
        let _ = writeln!(s, "  profile {name:<20} {}", one_line(&p.description));
    }
    s.push('\n');
    s
}

/// One knob as `name=value`; names (a profile) print bare, as they are typed.
pub fn knob(name: &str, value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(v) => format!("{name}={v}"),
        v => format!("{name}={v}"),
    }
}

static PROGRAM: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names the command replay lines start with (the binary a user's `main_with` built);
/// `faultline` unless set. Only the first call counts.
pub fn set_program(name: &str) {
    let _ = PROGRAM.set(name.to_string());
}

/// The command replay lines start with.
pub fn program() -> &'static str {
    PROGRAM.get().map_or("faultline", String::as_str)
}

/// The command that replays one seed, under the profile it ran with if any.
pub fn replay_command(path: &str, variant: &str, seed: u64, profile: Option<&str>) -> String {
    if path.contains(crate::harness::SEED_SLOT) {
        // A Harness run: `path` is the command that reruns the very test, seed left open.
        path.replace(crate::harness::SEED_SLOT, &seed.to_string())
            .replace(crate::harness::VARIANT_SLOT, variant)
    } else if path.ends_with(".json") {
        format!("{} replay {path}", program())
    } else {
        // A drawn profile is a function of the seed, but naming it keeps the command
        // right for a reader who reruns it with another profile in mind.
        let profile = profile.map_or(String::new(), |p| format!(" --profile {p}"));
        format!(
            "{} replay {path} --variant {variant} --seed {seed}{profile}",
            program()
        )
    }
}

/// A shrunk failure, for the report.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ShrinkNote {
    /// Variant.
    pub variant: String,
    /// Seed it came from.
    pub seed: u64,
    /// Invariant it fails.
    pub invariant: String,
    /// Plan events before.
    pub before: usize,
    /// Plan events after.
    pub after: usize,
    /// Runs spent.
    pub runs: usize,
    /// Where the minimal plan was written.
    pub path: String,
}

/// The first violation of each (variant, invariant), for JSON output.
#[derive(Debug, Serialize)]
pub struct FirstFailure<'a> {
    /// Variant.
    pub variant: &'a str,
    /// Seed.
    pub seed: u64,
    /// The verdict.
    pub verdict: &'a Verdict,
}

/// The first failing seed of each (variant, invariant).
pub fn first_failures(results: &[SeedResult]) -> Vec<FirstFailure<'_>> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for r in results {
        for v in r.violations() {
            if seen.insert((r.variant.as_str(), v.invariant.as_str())) {
                out.push(FirstFailure {
                    variant: &r.variant,
                    seed: r.seed,
                    verdict: v,
                });
            }
        }
    }
    out
}

/// Explains one violation with its witnesses.
pub fn violation_block(
    scenario: &str,
    path: &str,
    variant: &str,
    seed: u64,
    verdict: &Verdict,
    knobs: Option<&std::collections::BTreeMap<String, serde_json::Value>>,
    profile: Option<&str>,
) -> String {
    let mut s = String::new();
    let Some(v) = &verdict.violation else {
        return s;
    };
    let _ = writeln!(
        s,
        "VIOLATION  scenario {scenario}  variant {variant}  seed {seed}  invariant {}",
        verdict.invariant
    );
    let _ = writeln!(s, "  {}", v.explanation);
    for w in &v.ops {
        let end = w.end_us.map_or("never".to_string(), secs);
        let _ = writeln!(
            s,
            "    #{:<4} {:<10} {:>9} .. {:>9}  {:<6} {:<4}  {}",
            w.index,
            w.process,
            secs(w.time_us),
            end,
            w.f,
            outcome(w.outcome),
            w.detail
        );
    }
    if let Some(knobs) = knobs {
        let k: Vec<String> = knobs.iter().map(|(k, v)| knob(k, v)).collect();
        let _ = writeln!(s, "  knobs: {}", k.join(" "));
    }
    let _ = writeln!(
        s,
        "  replay: {}",
        replay_command(path, variant, seed, profile)
    );
    s
}

fn outcome(t: EntryType) -> &'static str {
    match t {
        EntryType::Invoke => "...",
        EntryType::Ok => "ok",
        EntryType::Fail => "fail",
        EntryType::Info => "info",
        EntryType::Fault => "fault",
    }
}

/// The summary of `faultline run` for one scenario.
pub fn run_report(
    loaded: &Loaded,
    path: &str,
    summaries: &[VariantSummary],
    results: &[SeedResult],
    elapsed: Duration,
    jobs: usize,
    shrunk: &[ShrinkNote],
) -> String {
    let mut s = String::new();
    let name = &loaded.scenario.file.name;
    let seeds = summaries.first().map_or(0, |v| v.seeds);
    let _ = writeln!(
        s,
        "{name}: {seeds} seeds x {} variants, {jobs} jobs",
        summaries.len()
    );
    let invs = loaded.invariants();
    let width = invs.iter().map(|i| i.len()).max().unwrap_or(10).max(12);
    let _ = write!(s, "  {:<11}", "variant");
    for inv in &invs {
        let _ = write!(s, " {inv:<width$}");
    }
    let _ = writeln!(s, " verdict");
    for v in summaries {
        let _ = write!(s, "  {:<11}", v.variant);
        for t in &v.invariants {
            let cell = if t.violated == 0 {
                "holds".to_string()
            } else {
                format!("caught {}/{}", t.violated, v.seeds)
            };
            let mark = if t.as_expected() { "" } else { "!" };
            let _ = write!(s, " {:<width$}", format!("{cell}{mark}"));
        }
        let _ = writeln!(s, " {}", super::situations::verdict(v));
    }
    s.push_str(&super::situations::text(summaries));
    let runs: usize = summaries.iter().map(|v| v.seeds).sum();
    let sim_ms: u64 = summaries.iter().map(|v| v.sim_ms).sum();
    let wall_us: u64 = summaries.iter().map(|v| v.wall_us).sum::<u64>().max(1);
    if loaded.target.is_postgres() {
        // Real runs take as long as their workload does; a ratio to simulated time says
        // nothing there.
        let _ = writeln!(
            s,
            "  speed: {runs} runs on PostgreSQL in {:.1} s on {jobs} jobs ({:.1} s per run)",
            elapsed.as_secs_f64(),
            wall_us as f64 / 1e6 / runs.max(1) as f64
        );
    } else {
        let _ = writeln!(
            s,
            "  speed: {:.0} runs/s on {jobs} jobs; {:.0}x simulated/wall time per core",
            runs as f64 / elapsed.as_secs_f64().max(1e-9),
            sim_ms as f64 * 1000.0 / wall_us as f64
        );
    }
    for v in summaries.iter().filter(|v| v.unfinished > 0) {
        let _ = writeln!(
            s,
            "  note: {} seeds of {} had clients still busy when the liveness phase ended",
            v.unfinished, v.variant
        );
    }
    let mut last_variant = "";
    for f in first_failures(results) {
        let knobs = results
            .iter()
            .find(|r| r.variant == f.variant && r.seed == f.seed)
            .map(|r| &r.knobs);
        if f.variant != last_variant {
            last_variant = f.variant;
            let why = loaded
                .scenario
                .file
                .expect
                .get(f.variant)
                .map(|e| one_line(&e.why))
                .unwrap_or_default();
            if !why.is_empty() {
                let _ = writeln!(s, "\n{} is expected to be caught: {why}", f.variant);
            }
        }
        let empty = Default::default();
        let knobs_or_none = knobs.unwrap_or(&empty);
        let expected = loaded
            .allowed(f.variant, knobs_or_none)
            .contains(&f.verdict.invariant);
        s.push('\n');
        if !expected {
            s.push_str("UNEXPECTED ");
        }
        s.push_str(&violation_block(
            name,
            path,
            f.variant,
            f.seed,
            f.verdict,
            knobs,
            Loaded::profile_of(knobs_or_none),
        ));
        let note = shrunk.iter().find(|n| {
            n.variant == f.variant && n.seed == f.seed && n.invariant == f.verdict.invariant
        });
        if let Some(n) = note {
            let _ = writeln!(
                s,
                "  shrunk: {} -> {} plan events in {} runs; minimal plan: {} replay {}",
                n.before,
                n.after,
                n.runs,
                program(),
                n.path
            );
        }
    }
    for v in summaries {
        for t in v
            .invariants
            .iter()
            .filter(|t| t.expected && t.violated == 0)
        {
            let _ = writeln!(
                s,
                "\nMISSED  {} was expected to violate {} but held on all {} seeds",
                v.variant, t.invariant, v.seeds
            );
        }
        // The first failure shown above may be one its profile allowed; say how many were not.
        let profiled = !loaded.scenario.file.profiles.is_empty();
        for t in v.invariants.iter().filter(|t| profiled && t.unexpected > 0) {
            let _ = writeln!(
                s,
                "\nUNEXPECTED  {} violated {} on {} of {} seeds whose profile does not allow it",
                v.variant, t.invariant, t.unexpected, v.seeds
            );
        }
    }
    s
}

/// The output of `faultline replay`: plan knobs, the timeline, verdicts.
pub fn replay_report(
    loaded: &Loaded,
    path: &str,
    plan: &Plan,
    result: &SeedResult,
    out: &RunOutput,
) -> String {
    let mut s = String::new();
    let name = &loaded.scenario.file.name;
    let _ = writeln!(
        s,
        "{name}  variant {}  seed {}  history {}",
        plan.variant, plan.seed, result.history_hash
    );
    let k: Vec<String> = plan.knobs.iter().map(|(k, v)| knob(k, v)).collect();
    let _ = writeln!(s, "knobs: {}", k.join(" "));
    let _ = writeln!(
        s,
        "plan: {} operations, {} fault events; simulated {}",
        plan.size() - plan.faults.len(),
        plan.faults.len(),
        secs(result.stats.sim_ms * 1000)
    );
    if let Some(reached) = super::situations::of_seed(result) {
        let _ = writeln!(s, "situations on this seed: {reached}");
    }
    s.push('\n');
    for e in &out.history.entries {
        let op = e.op.map_or(String::new(), |o| format!("op {o}"));
        let err = e.error.as_ref().map_or(String::new(), |err| {
            format!("  [{:?}: {}]", err.category, err.message).to_lowercase()
        });
        let _ = writeln!(
            s,
            "{:>9}  {:<10} {:<6} {:<16} {:<10} {}{err}",
            secs(e.time_us),
            e.process,
            outcome(e.kind),
            e.f,
            op,
            e.value
        );
    }
    s.push('\n');
    for v in &result.verdicts {
        match &v.violation {
            None => {
                let _ = writeln!(s, "holds     {}", v.invariant);
            }
            Some(_) => s.push_str(&violation_block(
                name,
                path,
                &plan.variant,
                plan.seed,
                v,
                None,
                Loaded::profile_of(&plan.knobs),
            )),
        }
    }
    s
}

/// Collapses whitespace and line breaks into single spaces.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
