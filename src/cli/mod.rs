//! Command-line arguments and the commands behind them (the binary only maps exit codes).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::{Error, Result};
use crate::report::summary::RunDoc;
use crate::report::text;

pub mod check;
mod outputs;
mod pg;
mod replay;
mod report;
mod run;

use crate::runner::{Loaded, Target};
use crate::scenario::{ProfileChoice, Scenario};
use crate::system::Registry;
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
        /// Folder holding scenario files (default `scenarios`, where files of systems this
        /// binary does not register are left out; a folder named here must hold only
        /// systems it has).
        #[arg(long)]
        dir: Option<PathBuf>,
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
        /// Scenarios to report on (files, or names the binary ships); default: every
        /// `.toml` file in `--dir`.
        scenarios: Vec<String>,
        /// Folder of scenario files to report on when none is named (default
        /// `scenarios`, as for `list`).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Leave out the backoff-policy sweep (it is left out anyway when the binary
        /// registers no system for it).
        #[arg(long)]
        no_sweep: bool,
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
        /// The variant (default: `naive` if the scenario runs one, else the first of its
        /// variants that violates an invariant on this seed).
        #[arg(long)]
        variant: Option<String>,
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
    /// PostgreSQL maintenance: `pg cleanup` drops the schemas runs left behind.
    Pg {
        /// What to do.
        #[command(subcommand)]
        action: PgAction,
    },
    /// Re-run one seed (or a saved plan) and print its timeline.
    Replay {
        /// A scenario file or name, or a plan JSON file.
        target: String,
        /// The seed (required with a scenario).
        #[arg(long)]
        seed: Option<u64>,
        /// The variant (default: `reference` if the scenario runs one, else its first).
        #[arg(long)]
        variant: Option<String>,
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

/// `faultline pg` subcommands.
#[derive(Debug, Subcommand)]
pub enum PgAction {
    /// Drop every schema a faultline run left in the database of DATABASE_URL (after a
    /// SIGKILL or a crash): those named `fl_...` that carry faultline's marker comment.
    Cleanup {
        /// Only list what would be dropped.
        #[arg(long)]
        dry_run: bool,
        /// Use the database even if `test` is not a word of its name.
        #[arg(long)]
        allow_any_database: bool,
    },
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
pub fn execute(cli: Cli, registry: &Registry) -> Result<bool> {
    match cli.command {
        Command::Check(args) => check::check(args),
        Command::List { dir } => list(dir.as_deref(), registry),
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
            let on_postgres = target.is_postgres();
            if on_postgres && check_determinism {
                return Err(Error::Usage(
                    "--check-determinism needs --backend sim: a real database runs on the \
                     wall clock, so two runs of one seed interleave differently"
                        .into(),
                ));
            }
            let seeds = match seed {
                Some(s) => crate::seeds::Seeds::one(s),
                None => crate::seeds::Seeds::first_n(seeds)?,
            };
            if let Some((k, n)) = shard {
                seeds.shard(k, n)?;
            }
            let jobs = jobs_of(jobs)?;
            outputs::check_writable(&[junit.as_deref(), markdown.as_deref()])?;
            if !no_shrink && !on_postgres {
                outputs::check_dir(&out_dir)?;
            }
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
                docs.push(run(arg, registry, &variant, seeds, &opts)?);
            }
            if json {
                println!("{}", to_json(&RunSet::new(docs.clone())));
            }
            write_extras(&docs, junit.as_deref(), markdown.as_deref())?;
            let failed: usize = docs.iter().map(|d| d.harness_failures.len()).sum();
            if failed > 0 {
                return Err(Error::Harness(format!(
                    "{failed} run(s) could not complete (listed above as HARNESS FAILURE); \
                     the other seeds' results are reported"
                )));
            }
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
            replay(
                &target,
                registry,
                seed,
                variant.as_deref(),
                &profile,
                outputs,
                on,
            )
        }
        Command::Report {
            action: None,
            scenarios: named,
            out,
            dir,
            no_sweep,
            seeds,
            sweep_seeds,
            clients,
            jobs,
        } => {
            let jobs = jobs_of(jobs)?;
            // Same bounds as `run`: 0 seeds is a usage error, not a silent 1.
            crate::seeds::Seeds::first_n(seeds)?;
            crate::seeds::Seeds::first_n(sweep_seeds)
                .map_err(|e| Error::Usage(format!("--sweep-seeds: {e}")))?;
            if let Some(c) = clients
                .iter()
                .find(|c| !(1..=crate::limits::MAX_CLIENTS).contains(c))
            {
                return Err(Error::Usage(format!(
                    "--clients {c}: expected 1 to {} (MAX_CLIENTS)",
                    crate::limits::MAX_CLIENTS
                )));
            }
            outputs::check_dir(&out)?;
            let scenarios: Vec<Scenario> = if named.is_empty() {
                known_scenarios(dir.as_deref(), registry)?
            } else {
                named
                    .iter()
                    .map(|n| registry.load_scenario(n))
                    .collect::<Result<_>>()?
            };
            let sweep = !no_sweep && registry.sweep_system_factory().is_some();
            if !no_sweep && !sweep {
                eprintln!(
                    "no backoff sweep: this binary registers no system for it \
                     (Registry::sweep_system)"
                );
            }
            let cfg = crate::report::sweep::SweepConfig {
                clients: if sweep { clients } else { Vec::new() },
                seeds: sweep_seeds,
                ..Default::default()
            };
            let report = crate::report::publish::measure(
                registry,
                &scenarios,
                seeds,
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
        Command::Pg {
            action:
                PgAction::Cleanup {
                    dry_run,
                    allow_any_database,
                },
        } => pg::cleanup(dry_run, allow_any_database),
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
        } => report::catch_table(registry, &readme, &dir, seeds, jobs),
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
            let args = replay::ShrinkArgs {
                seed,
                variant: variant.as_deref(),
                profile: &profile,
                invariant,
                out: &out,
                budget,
            };
            shrink_cmd(&scenario, registry, args)
        }
    }
}

/// `--jobs`, or every core; 0 is a usage error rather than a silent 1.
fn jobs_of(jobs: Option<usize>) -> Result<usize> {
    match jobs {
        Some(0) => Err(Error::Usage(
            "--jobs 0: expected at least one worker thread".into(),
        )),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// The run target a `--backend` names.
fn target_of(backend: &str, allow_any_database: bool) -> Result<Target> {
    match backend {
        "sim" => Ok(Target::Sim),
        #[cfg(feature = "postgres")]
        "postgres" => Ok(Target::Postgres(Box::new(crate::pg::PgTarget::from_env(
            allow_any_database,
        )?))),
        #[cfg(not(feature = "postgres"))]
        "postgres" => {
            let _ = allow_any_database;
            Err(Error::Usage(
                "this binary was built without PostgreSQL support (cargo feature `postgres`)"
                    .into(),
            ))
        }
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

fn list(dir: Option<&std::path::Path>, registry: &Registry) -> Result<bool> {
    for scenario in known_scenarios(dir, registry)? {
        let path = scenario.path.clone();
        let loaded = Loaded::new(scenario, registry)?;
        print!("{}", text::listing(&loaded, &path));
    }
    Ok(true)
}

/// The scenarios a command covers when none is named: those the binary ships, then the
/// scenario files in `dir` (default `scenarios`). In the default folder a file for a
/// system this binary does not have is noted and left out, so a user's binary can run
/// from a workspace that holds other systems' scenarios too; in a folder the user named,
/// it is an error pointing at its `logic =` line.
fn known_scenarios(dir: Option<&std::path::Path>, registry: &Registry) -> Result<Vec<Scenario>> {
    let strict = dir.is_some();
    let dir = dir.unwrap_or(std::path::Path::new("scenarios"));
    let mut out: Vec<Scenario> = registry
        .shipped_scenarios()
        .into_iter()
        .map(|n| registry.load_scenario(n))
        .collect::<Result<_>>()?;
    if !strict && !dir.exists() && !out.is_empty() {
        return Ok(out);
    }
    for path in scenario_files(dir)? {
        let scenario = Scenario::load(&path)?;
        if out.iter().any(|s| s.file.name == scenario.file.name) {
            continue;
        }
        if !strict && registry.factory_of(&scenario.file.logic).is_none() {
            eprintln!(
                "left out {}: logic `{}` is not registered in this binary (it has: {})",
                path.display(),
                scenario.file.logic,
                registry.logics().join(", ")
            );
            continue;
        }
        out.push(scenario);
    }
    Ok(out)
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

/// The whole `faultline` command line over the systems `registry` knows: parses the
/// process's arguments, runs the command, and maps the outcome to the exit code (0 as
/// expected, 1 a verdict differs, 2 bad input or a harness failure).
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     let registry = faultline::system::Registry::new(); // .system("my_logic", my_factory)
///     faultline::cli::main_with(registry)
/// }
/// ```
pub fn main_with(registry: Registry) -> std::process::ExitCode {
    use clap::Parser;
    quiet_on_broken_pipe();
    // Replay lines name the binary that printed them, so a user's own CLI prints its own.
    if let Some(name) = std::env::args_os().next().and_then(|a| {
        std::path::Path::new(&a)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
    }) {
        crate::report::text::set_program(&name);
    }
    let cli = Cli::parse();
    match execute(cli, &registry) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

/// `faultline list | head -1` closes stdout early; Rust ignores SIGPIPE, so `print!`
/// panics on the failed write. A reader that has seen enough is not an error: end
/// quietly with status 0, and leave every other panic to the default hook.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.starts_with("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
