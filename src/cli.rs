//! Command-line arguments and the commands behind them (the binary only maps exit codes).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::determinism;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::report::text;
use crate::runner::{run_many, Loaded, VariantSummary};

/// faultline: deterministic fault-injection testing for data-sync and locking logic.
#[derive(Debug, Parser)]
#[command(name = "faultline", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List scenarios with their variants and invariants.
    List {
        /// Folder holding scenario files.
        #[arg(long, default_value = "scenarios")]
        dir: PathBuf,
    },
    /// Run scenarios over many seeds and compare verdicts with expectations.
    Run {
        /// Scenario files (or names under scenarios/).
        #[arg(required = true)]
        scenarios: Vec<String>,
        /// A variant, or `all`.
        #[arg(long, default_value = "all")]
        variant: String,
        /// Run seeds 1..=N.
        #[arg(long, default_value_t = 100, conflicts_with = "seed")]
        seeds: u64,
        /// Run exactly this seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Where the logic runs; only `sim` exists in this build.
        #[arg(long, default_value = "sim")]
        backend: String,
        /// Worker threads (one simulation per thread); default: every core.
        #[arg(long)]
        jobs: Option<usize>,
        /// Print results as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Do not shrink the first failure of each variant.
        #[arg(long)]
        no_shrink: bool,
        /// Run every seed twice and fail on any difference between the two histories.
        #[arg(long)]
        check_determinism: bool,
        /// Where minimal plans are written.
        #[arg(long, default_value = "target/faultline")]
        out_dir: PathBuf,
    },
    /// Shrink a failing seed to a minimal plan that still fails the same invariant.
    Shrink {
        /// Scenario file or name.
        scenario: String,
        /// The failing seed.
        #[arg(long)]
        seed: u64,
        /// The variant.
        #[arg(long, default_value = "naive")]
        variant: String,
        /// The invariant to keep failing (default: the first one violated).
        #[arg(long)]
        invariant: Option<String>,
        /// Where to write the minimal plan.
        #[arg(short = 'o', long = "out", default_value = "plan.json")]
        out: PathBuf,
        /// At most this many simulation runs.
        #[arg(long, default_value_t = 2000)]
        budget: usize,
    },
    /// Re-run one seed (or a saved plan) and print its timeline.
    Replay {
        /// A scenario file or name, or a plan JSON file.
        target: String,
        /// The seed (required with a scenario).
        #[arg(long)]
        seed: Option<u64>,
        /// The variant.
        #[arg(long, default_value = "reference")]
        variant: String,
        /// Write the history as JSON Lines to this file.
        #[arg(long)]
        history: Option<PathBuf>,
        /// Write the plan as JSON to this file.
        #[arg(long)]
        plan_out: Option<PathBuf>,
        /// Write a self-contained HTML timeline to this file.
        #[arg(long)]
        timeline: Option<PathBuf>,
    },
}

/// Executes a command; `Ok(false)` means some verdict differed from expectations.
pub fn execute(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::List { dir } => list(&dir),
        Command::Run {
            scenarios,
            variant,
            seeds,
            seed,
            backend,
            jobs,
            json,
            no_shrink,
            check_determinism,
            out_dir,
        } => {
            if backend != "sim" {
                return Err(Error::Usage(format!(
                    "backend `{backend}` is not available in this build; expected `sim`"
                )));
            }
            let seeds: Vec<u64> = match seed {
                Some(s) => vec![s],
                None => (1..=seeds).collect(),
            };
            let jobs =
                jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let mut all_ok = true;
            for arg in &scenarios {
                let opts = RunOpts {
                    jobs,
                    json,
                    shrink: !no_shrink,
                    check_determinism,
                    out_dir: out_dir.clone(),
                };
                all_ok &= run(arg, &variant, &seeds, &opts)?;
            }
            Ok(all_ok)
        }
        Command::Replay {
            target,
            seed,
            variant,
            history,
            plan_out,
            timeline,
        } => replay(&target, seed, &variant, history, plan_out, timeline),
        Command::Shrink {
            scenario,
            seed,
            variant,
            invariant,
            out,
            budget,
        } => shrink_cmd(&scenario, seed, &variant, invariant, &out, budget),
    }
}

fn list(dir: &std::path::Path) -> Result<bool> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for p in paths {
        let loaded = Loaded::load(&p.to_string_lossy())?;
        print!("{}", text::listing(&loaded, &p));
    }
    Ok(true)
}

/// Options of `faultline run`.
struct RunOpts {
    jobs: usize,
    json: bool,
    shrink: bool,
    check_determinism: bool,
    out_dir: PathBuf,
}

fn run(arg: &str, variant: &str, seeds: &[u64], opts: &RunOpts) -> Result<bool> {
    let (jobs, json) = (opts.jobs, opts.json);
    let loaded = Loaded::load(arg)?;
    let variants = if variant == "all" {
        loaded.variants()
    } else {
        loaded.check_variant(variant)?;
        vec![variant.to_string()]
    };
    let show_progress =
        std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() && !json;
    let progress = |done: usize, total: usize| {
        if show_progress && (done % 16 == 0 || done == total) {
            eprint!("\r{}: {done}/{total} runs", loaded.scenario.file.name);
            if done == total {
                eprintln!();
            }
        }
    };
    let (results, elapsed) = run_many(&loaded.scenario, &variants, seeds, jobs, &progress)?;
    let summaries: Vec<VariantSummary> = variants
        .iter()
        .map(|v| VariantSummary::new(&loaded, v, &results))
        .collect();
    let mut ok = summaries.iter().all(VariantSummary::as_expected);
    let mut divergences = Vec::new();
    if opts.check_determinism {
        let (again, _) = run_many(&loaded.scenario, &variants, seeds, jobs, &|_, _| {})?;
        for (a, b) in results.iter().zip(&again) {
            if a.history_hash != b.history_hash {
                let plan = loaded.plan(&a.variant, a.seed)?;
                divergences.push(determinism::first_divergence(&loaded, &plan)?);
            }
        }
        ok &= divergences.is_empty();
    }
    let shrunk = if opts.shrink {
        shrink_first_failures(&loaded, &results, &opts.out_dir)?
    } else {
        Vec::new()
    };
    if json {
        let doc = serde_json::json!({
            "format": 1,
            "scenario": loaded.scenario.file.name,
            "path": arg,
            "as_expected": ok,
            "wall_ms": elapsed.as_millis() as u64,
            "jobs": jobs,
            "variants": summaries,
            "failures": text::first_failures(&results),
            "shrunk": shrunk,
            "nondeterministic": divergences,
        });
        println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
    } else {
        print!(
            "{}",
            text::run_report(&loaded, arg, &summaries, &results, elapsed, jobs, &shrunk)
        );
        if opts.check_determinism && divergences.is_empty() {
            println!("  determinism: every seed ran twice with identical histories");
        }
        for d in &divergences {
            println!("\nNONDETERMINISTIC {d}");
        }
    }
    Ok(ok)
}

/// Shrinks the first failure of each variant and writes the minimal plans.
fn shrink_first_failures(
    loaded: &Loaded,
    results: &[crate::runner::SeedResult],
    dir: &std::path::Path,
) -> Result<Vec<text::ShrinkNote>> {
    let mut notes: Vec<text::ShrinkNote> = Vec::new();
    for f in text::first_failures(results) {
        if notes.iter().any(|n| n.variant == f.variant) {
            continue;
        }
        let plan = loaded.plan(f.variant, f.seed)?;
        let shrunk = crate::shrink::shrink(loaded, &plan, &f.verdict.invariant, SHRINK_BUDGET)?;
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(format!(
            "{}-{}-seed{}-{}.json",
            loaded.scenario.file.name, f.variant, f.seed, f.verdict.invariant
        ));
        shrunk.plan.save(&path)?;
        notes.push(text::ShrinkNote {
            variant: f.variant.to_string(),
            seed: f.seed,
            invariant: f.verdict.invariant.clone(),
            before: shrunk.before,
            after: shrunk.after,
            runs: shrunk.runs,
            path: path.to_string_lossy().into_owned(),
        });
    }
    Ok(notes)
}

/// Runs a shrink spends at most when `faultline run` shrinks a failure.
const SHRINK_BUDGET: usize = 1000;

fn shrink_cmd(
    arg: &str,
    seed: u64,
    variant: &str,
    invariant: Option<String>,
    out: &std::path::Path,
    budget: usize,
) -> Result<bool> {
    let loaded = Loaded::load(arg)?;
    let plan = loaded.plan(variant, seed)?;
    let (result, _) = loaded.execute(&plan)?;
    let invariant = match invariant {
        Some(i) => {
            if !loaded.invariants().contains(&i) {
                return Err(Error::Usage(format!(
                    "scenario {} does not check `{i}`",
                    loaded.scenario.file.name
                )));
            }
            i
        }
        None => match result.violations().next() {
            Some(v) => v.invariant.clone(),
            None => {
                println!(
                    "{} {variant} seed {seed} violates nothing; there is nothing to shrink",
                    loaded.scenario.file.name
                );
                return Ok(true);
            }
        },
    };
    if !result.violations().any(|v| v.invariant == invariant) {
        return Err(Error::Usage(format!(
            "seed {seed} of {variant} does not violate {invariant}"
        )));
    }
    let shrunk = crate::shrink::shrink(&loaded, &plan, &invariant, budget)?;
    shrunk.plan.save(out)?;
    println!(
        "{} {variant} seed {seed} {invariant}: plan shrunk from {} to {} events ({} operations, {} faults) in {} runs",
        loaded.scenario.file.name,
        shrunk.before,
        shrunk.after,
        shrunk.plan.size() - shrunk.plan.faults.len(),
        shrunk.plan.faults.len(),
        shrunk.runs
    );
    println!(
        "minimal plan written to {}; replay it with: faultline replay {}",
        out.display(),
        out.display()
    );
    Ok(true)
}

fn replay(
    target: &str,
    seed: Option<u64>,
    variant: &str,
    history: Option<PathBuf>,
    plan_out: Option<PathBuf>,
    timeline: Option<PathBuf>,
) -> Result<bool> {
    let (loaded, plan, shown) = if target.ends_with(".json") {
        let plan = Plan::load(target.as_ref())?;
        // The file it was made from, else the built-in scenario of that name.
        let source = plan
            .scenario_path
            .clone()
            .filter(|p| std::path::Path::new(p).exists())
            .unwrap_or_else(|| plan.scenario.clone());
        let loaded = Loaded::load(&source)?;
        let shown = target.to_string();
        (loaded, plan, shown)
    } else {
        let seed =
            seed.ok_or_else(|| Error::Usage("replay of a scenario needs --seed S".into()))?;
        let loaded = Loaded::load(target)?;
        let plan = loaded.plan(variant, seed)?;
        (loaded, plan, target.to_string())
    };
    let (result, out) = loaded.execute(&plan)?;
    if let Some(path) = &history {
        let file = std::fs::File::create(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        out.history
            .write_jsonl(std::io::BufWriter::new(file))
            .map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
    }
    if let Some(path) = &plan_out {
        plan.save(path)?;
    }
    if let Some(path) = &timeline {
        let html = crate::report::timeline::html(&loaded, &plan, &result, &out);
        std::fs::write(path, html).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    }
    print!(
        "{}",
        text::replay_report(&loaded, &shown, &plan, &result, &out)
    );
    let expected = loaded.scenario.expected_violations(&plan.variant);
    let as_expected = result.violations().all(|v| expected.contains(&v.invariant));
    Ok(as_expected)
}
