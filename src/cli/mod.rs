//! Command-line arguments and the commands behind them (the binary only maps exit codes).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::{Error, Result};
use crate::report::text;

mod replay;
mod run;

use crate::runner::Loaded;
use replay::{replay, shrink_cmd};
use run::{run, RunOpts};

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
