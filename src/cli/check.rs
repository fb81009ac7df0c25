//! `faultline check HISTORY --model MODEL`: is a recorded history linearisable?
//!
//! Exit codes: 0 linearisable, 1 not, 2 bad input, 3 unknown because a limit was reached.
//! The library returns the verdict; only this edge turns "unknown" into exit code 3.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;

use crate::error::{Error, Result};
use crate::linear::input::{self, Format, Independent, Options};
use crate::linear::{self, Limits, Mapping, Model, Outcome};

/// Exit code for "a limit was reached before an answer".
pub const EXIT_UNKNOWN: u8 = 3;

/// Arguments of `faultline check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The history: faultline JSON Lines, Jepsen EDN, or jepsen.util log lines.
    pub history: PathBuf,
    /// The object the history is checked against: `register`, `cas-register` or `kv`.
    #[arg(long)]
    pub model: String,
    /// Insist on a format (`jsonl`, `edn`, `jepsen-log`) instead of recognising it.
    #[arg(long)]
    pub format: Option<String>,
    /// Values are `[key value]` pairs (Jepsen's independent checker): `auto`, `yes`, `no`.
    #[arg(long, default_value = "auto")]
    pub independent: String,
    /// Give up with "unknown" (exit 3) after this many seconds.
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Give up with "unknown" (exit 3) when the search's memory estimate passes this many MB.
    #[arg(long)]
    pub memory_limit: Option<f64>,
    /// Keys checked in parallel; default: every core.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Write an HTML timeline of the history and the verdict to this file.
    #[arg(long)]
    pub html: Option<PathBuf>,
}

/// Runs the check and prints the verdict; `Ok(true)` when linearisable, `Ok(false)` when
/// not. An unknown answer exits the process with [`EXIT_UNKNOWN`] after printing.
pub fn check(args: CheckArgs) -> Result<bool> {
    let model = Model::from_name(&args.model).ok_or_else(|| {
        Error::Usage(format!(
            "unknown model `{}`; expected register, cas-register or kv",
            args.model
        ))
    })?;
    let format = match args.format.as_deref() {
        None | Some("auto") => None,
        Some(name) => Some(Format::from_name(name).ok_or_else(|| {
            Error::Usage(format!(
                "unknown format `{name}`; expected jsonl, edn or jepsen-log"
            ))
        })?),
    };
    let independent = match args.independent.as_str() {
        "auto" => Independent::Auto,
        "yes" | "true" => Independent::Yes,
        "no" | "false" => Independent::No,
        other => {
            return Err(Error::Usage(format!(
                "unknown --independent `{other}`; expected auto, yes or no"
            )))
        }
    };
    let positive = |name: &str, v: Option<f64>| -> Result<Option<f64>> {
        match v {
            Some(x) if !(x.is_finite() && x >= 0.0) => Err(Error::Usage(format!(
                "{name} must be a non-negative number, not {x}"
            ))),
            other => Ok(other),
        }
    };
    let limits = Limits {
        time: positive("--time-limit", args.time_limit)?.map(Duration::from_secs_f64),
        memory_bytes: positive("--memory-limit", args.memory_limit)?
            .map(|mb| (mb * 1024.0 * 1024.0) as usize),
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
    };
    let opts = Options {
        model,
        format,
        independent,
        mapping: Mapping::default(),
    };
    let started = Instant::now();
    let parsed = input::read_file(&args.history, &opts)?;
    let read_in = started.elapsed();
    let searching = Instant::now();
    let report = linear::check_report(&parsed.ops, model, &limits).map_err(|e| {
        // The reader already refuses these with a line; this covers the library's own check.
        Error::Usage(e.to_string())
    })?;
    let elapsed = searching.elapsed();
    let name = args.history.display().to_string();
    println!(
        "{name}: {} history, {} operations, {} key(s){}, model {model}",
        parsed.format.name(),
        parsed.ops.len(),
        report.partitions,
        if parsed.independent {
            " (independent keys)"
        } else {
            ""
        },
    );
    let cost = format!(
        "{} operations checked in {:.2} ms (history read in {:.2} ms), {} search steps",
        report.ops_checked,
        elapsed.as_secs_f64() * 1e3,
        read_in.as_secs_f64() * 1e3,
        report.steps
    );
    if let Some(path) = &args.html {
        let page = linear::html::render(&name, &parsed, model, &report.outcome);
        std::fs::write(path, page).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    }
    match &report.outcome {
        Outcome::Linearizable => {
            println!("linearizable: {cost}");
            Ok(true)
        }
        Outcome::NotLinearizable(w) => {
            println!("NOT linearizable: {cost}");
            println!("{}", w.explanation);
            println!("longest consistent order ({} operations):", w.prefix.len());
            const SHOWN: usize = 30;
            if w.prefix.len() > SHOWN {
                println!("  ... {} earlier operations", w.prefix.len() - SHOWN);
            }
            let skip = w.prefix.len().saturating_sub(SHOWN);
            for (n, &i) in w.prefix.iter().enumerate().skip(skip) {
                println!("  {:>4}. {}", n + 1, linear::witness_name(&parsed.ops, i));
            }
            println!(
                "cannot be placed next: {}",
                linear::witness_name(&parsed.ops, w.breaking)
            );
            for &i in &w.candidates {
                println!("  also open: {}", linear::witness_name(&parsed.ops, i));
            }
            Ok(false)
        }
        Outcome::Unknown(reason) => {
            println!("unknown: {reason} ({cost})");
            std::process::exit(i32::from(EXIT_UNKNOWN));
        }
    }
}
