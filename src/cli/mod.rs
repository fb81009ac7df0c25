//! Command-line arguments and the commands behind them (the binary only maps exit codes).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::{Error, Result};
use crate::report::summary::RunDoc;
use crate::report::text;

pub mod check;
mod replay;
mod report;
mod run;

use crate::runner::{Loaded, Target};
use crate::scenario::ProfileChoice;
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
        /// A fault profile of the scenario (`[profiles.NAME]`), `base` for the scenario's
        /// own knobs, or `all` (the default) for one drawn per seed.
        #[arg(long)]
        profile: Option<String>,
        /// Where the logic runs: `sim` (the simulated world) or `postgres` (the database
        /// in DATABASE_URL, through fault proxies).
        #[arg(long, default_value = "sim")]
        backend: String,
        /// With `--backend postgres`: use the database even if its name lacks `test`.
        #[arg(long)]
        allow_any_database: bool,
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
        /// Run only shard K of N (every Nth seed starting at the Kth), e.g. `--shard 2/4`.
        #[arg(long)]
        shard: Option<String>,
        /// Also write JUnit XML (a test case per variant and invariant) to this file.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Also write a Markdown summary (for a CI job summary) to this file.
        #[arg(long)]
        markdown: Option<PathBuf>,
    },
    /// Conflict and retry reports with the backoff sweep; `report merge` combines shards.
    #[command(args_conflicts_with_subcommands = true)]
    Report {
        /// `merge`, or nothing to measure and write reports.
        #[command(subcommand)]
        action: Option<ReportAction>,
        /// Where to write the reports.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
        /// Folder of scenario files to report on.
        #[arg(long, default_value = "scenarios")]
        dir: PathBuf,
        /// Seeds per variant.
        #[arg(long, default_value_t = 200)]
        seeds: u64,
        /// Seeds per point of the backoff sweep.
        #[arg(long, default_value_t = 5)]
        sweep_seeds: u64,
        /// Contending client counts of the sweep.
        #[arg(long, value_delimiter = ',', default_value = "2,4,8,16,32,64")]
        clients: Vec<u64>,
        /// Worker threads; default: every core.
        #[arg(long)]
        jobs: Option<usize>,
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
        /// A fault profile of the scenario (`[profiles.NAME]`), `base` for the scenario's
        /// own knobs, or `all` (the default) for one drawn per seed.
        #[arg(long)]
        profile: Option<String>,
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
        /// A fault profile of the scenario (`[profiles.NAME]`), `base` for the scenario's
        /// own knobs, or `all` (the default) for one drawn per seed.
        #[arg(long)]
        profile: Option<String>,
        /// Write the history as JSON Lines to this file.
        #[arg(long)]
        history: Option<PathBuf>,
        /// Write the plan as JSON to this file.
        #[arg(long)]
        plan_out: Option<PathBuf>,
        /// Write a self-contained HTML timeline to this file.
        #[arg(long)]
        timeline: Option<PathBuf>,
        /// `sim` or `postgres` (reruns the plan's workload and faults on the database in
        /// DATABASE_URL; the interleaving follows the wall clock).
        #[arg(long, default_value = "sim")]
        backend: String,
        /// With `--backend postgres`: use the database even if its name lacks `test`.
        #[arg(long)]
        allow_any_database: bool,
    },
    /// Check a history (faultline JSONL, Jepsen EDN or log) for linearizability.
    Check(check::CheckArgs),
}

/// `faultline report` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReportAction {
    /// Merge the `--json` outputs of sharded runs and judge the whole.
    Merge {
        /// JSON files written by `faultline run --json`.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the merged JSON instead of Markdown.
        #[arg(long)]
        json: bool,
        /// Also write JUnit XML to this file.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
    /// Per caught variant, the share of seeds that catch it and the median seeds to first
    /// failure, as a Markdown table written between the README's catch-table markers.
    CatchTable {
        /// The file holding `<!-- catch-table:start -->` and `<!-- catch-table:end -->`.
        #[arg(long, default_value = "README.md")]
        readme: PathBuf,
        /// Folder of scenario files; every one is measured.
        #[arg(long, default_value = "scenarios")]
        dir: PathBuf,
        /// Seeds per variant (seeds 1..=N).
        #[arg(long, default_value_t = 200)]
        seeds: u64,
        /// Worker threads; default: every core.
        #[arg(long)]
        jobs: Option<usize>,
    },
}

/// Executes a command; `Ok(false)` means some verdict differed from expectations.
pub fn execute(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::Check(args) => check::check(args),
        Command::List { dir } => list(&dir),
        Command::Run {
            scenarios,
            variant,
            seeds,
            seed,
            profile,
            backend,
            allow_any_database,
            jobs,
            json,
            no_shrink,
            check_determinism,
            out_dir,
            shard,
            junit,
            markdown,
        } => {
            let shard = shard
                .map(|s| crate::report::summary::parse_shard(&s))
                .transpose()
                .map_err(Error::Usage)?;
            let target = target_of(&backend, allow_any_database)?;
            let on_postgres = matches!(target, Target::Postgres(_));
            if on_postgres && check_determinism {
                return Err(Error::Usage(
                    "--check-determinism needs --backend sim: a real database runs on the \
                     wall clock, so two runs of one seed interleave differently"
                        .into(),
                ));
            }
            let seeds: Vec<u64> = match seed {
                Some(s) => vec![s],
                None => (1..=seeds).collect(),
            };
            let jobs =
                jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let mut docs = Vec::new();
            for arg in &scenarios {
                let opts = RunOpts {
                    jobs,
                    json,
                    // Shrinking reruns a plan hundreds of times; on the simulator that is
                    // seconds, on a real database it would be hours.
                    shrink: !no_shrink && !on_postgres,
                    check_determinism,
                    out_dir: out_dir.clone(),
                    shard,
                    target: target.clone(),
                    profile: ProfileChoice::from_arg(profile.as_deref()),
                };
                docs.push(run(arg, &variant, &seeds, &opts)?);
            }
            if json {
                println!("{}", to_json(&RunSet::new(docs.clone())));
            }
            write_extras(&docs, junit.as_deref(), markdown.as_deref())?;
            Ok(docs.iter().all(|d| d.as_expected))
        }
        Command::Replay {
            target,
            seed,
            variant,
            profile,
            history,
            plan_out,
            timeline,
            backend,
            allow_any_database,
        } => {
            let on = target_of(&backend, allow_any_database)?;
            let outputs = replay::Outputs {
                history,
                plan_out,
                timeline,
            };
            let profile = ProfileChoice::from_arg(profile.as_deref());
            replay(&target, seed, &variant, &profile, outputs, on)
        }
        Command::Report {
            action: None,
            out,
            dir,
            seeds,
            sweep_seeds,
            clients,
            jobs,
        } => {
            let jobs =
                jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let scenarios = scenario_files(&dir)?;
            let cfg = crate::report::sweep::SweepConfig {
                clients,
                seeds: sweep_seeds.max(1),
                ..Default::default()
            };
            let report = crate::report::publish::measure(
                &scenarios,
                seeds.max(1),
                cfg,
                jobs,
                &progress_bar,
            )?;
            for path in crate::report::publish::write(&report, &out)? {
                println!("wrote {}", path.display());
            }
            println!("\n{}", crate::report::publish::comparison(&report));
            Ok(true)
        }
        Command::Report {
            action: Some(ReportAction::Merge { files, json, junit }),
            ..
        } => report::merge(&files, json, junit.as_deref()),
        Command::Report {
            action:
                Some(ReportAction::CatchTable {
                    readme,
                    dir,
                    seeds,
                    jobs,
                }),
            ..
        } => report::catch_table(&readme, &dir, seeds, jobs),
        Command::Shrink {
            scenario,
            seed,
            variant,
            invariant,
            profile,
            out,
            budget,
        } => {
            let profile = ProfileChoice::from_arg(profile.as_deref());
            shrink_cmd(&scenario, seed, &variant, &profile, invariant, &out, budget)
        }
    }
}

/// The run target a `--backend` names.
fn target_of(backend: &str, allow_any_database: bool) -> Result<Target> {
    match backend {
        "sim" => Ok(Target::Sim),
        "postgres" => Ok(Target::Postgres(Box::new(crate::pg::PgTarget::from_env(
            allow_any_database,
        )?))),
        other => Err(Error::Usage(format!(
            "unknown backend `{other}`; expected `sim` or `postgres`"
        ))),
    }
}

/// A progress bar on a terminal, nothing in CI or when output is piped.
fn progress_bar(label: &str) -> Box<dyn Fn(usize, usize) + Sync> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
        return Box::new(|_, _| {});
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>24} [{bar:40}] {pos}/{len} runs ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(label.to_string());
    Box::new(move |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        if done == total {
            bar.finish();
        }
    })
}

fn scenario_files(dir: &std::path::Path) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

fn list(dir: &std::path::Path) -> Result<bool> {
    for p in scenario_files(dir)? {
        let loaded = Loaded::load(&p.to_string_lossy())?;
        print!("{}", text::listing(&loaded, &p));
    }
    Ok(true)
}

/// What `faultline run --json` prints: one document per scenario.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunSet {
    /// Document format version.
    pub format: u32,
    /// One per scenario run.
    pub runs: Vec<RunDoc>,
}

impl RunSet {
    fn new(runs: Vec<RunDoc>) -> Self {
        Self {
            format: crate::report::summary::RUN_FORMAT,
            runs,
        }
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).expect("reports always serialise")
}

fn write_extras(
    docs: &[RunDoc],
    junit: Option<&std::path::Path>,
    markdown: Option<&std::path::Path>,
) -> Result<()> {
    let write = |path: &std::path::Path, text: String| {
        std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    if let Some(p) = junit {
        write(p, crate::report::junit::render(docs))?;
    }
    if let Some(p) = markdown {
        write(p, crate::report::markdown::render(docs))?;
    }
    Ok(())
}
