//! Command-line arguments and the commands behind them (the binary only maps exit codes).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
                all_ok &= run(arg, &variant, &seeds, jobs, json)?;
            }
            Ok(all_ok)
        }
        Command::Replay {
            target,
            seed,
            variant,
            history,
            plan_out,
        } => replay(&target, seed, &variant, history, plan_out),
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

fn run(arg: &str, variant: &str, seeds: &[u64], jobs: usize, json: bool) -> Result<bool> {
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
    let ok = summaries.iter().all(VariantSummary::as_expected);
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
        });
        println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
    } else {
        print!(
            "{}",
            text::run_report(&loaded, arg, &summaries, &results, elapsed, jobs)
        );
    }
    Ok(ok)
}

fn replay(
    target: &str,
    seed: Option<u64>,
    variant: &str,
    history: Option<PathBuf>,
    plan_out: Option<PathBuf>,
) -> Result<bool> {
    let (loaded, plan, shown) = if target.ends_with(".json") {
        let plan = Plan::load(target.as_ref())?;
        let loaded = Loaded::load(&plan.scenario)?;
        let shown = format!("scenarios/{}.toml", plan.scenario);
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
    print!(
        "{}",
        text::replay_report(&loaded, &shown, &plan, &result, &out)
    );
    let expected = loaded.scenario.expected_violations(&plan.variant);
    let as_expected = result.violations().all(|v| expected.contains(&v.invariant));
    Ok(as_expected)
}
