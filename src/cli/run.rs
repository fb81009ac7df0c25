//! `faultline run`: many seeds, verdicts against expectations, shrinking, output formats.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::determinism;
use crate::error::Result;
use crate::report::summary::RunDoc;
use crate::report::text;
use crate::runner::{run_many_lazy, run_many_partial, Loaded, Target, VariantSummary};
use crate::scenario::ProfileChoice;
use crate::seeds::Seeds;
use crate::system::Registry;

/// Options of `faultline run`.
pub(super) struct RunOpts {
    pub(super) jobs: usize,
    pub(super) json: bool,
    pub(super) shrink: bool,
    pub(super) check_determinism: bool,
    pub(super) out_dir: PathBuf,
    pub(super) shard: Option<(usize, usize)>,
    pub(super) target: Target,
    pub(super) profile: ProfileChoice,
}

pub(super) fn run(
    arg: &str,
    registry: &Registry,
    variant: &str,
    seeds: Seeds,
    opts: &RunOpts,
) -> Result<RunDoc> {
    let (jobs, json) = (opts.jobs, opts.json);
    let loaded = Loaded::load(arg, registry)?
        .with_target(opts.target.clone())?
        .with_profile(opts.profile.clone())?;
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
    let seeds = match opts.shard {
        Some((k, n)) => seeds.shard(k, n)?,
        None => seeds,
    };
    let seed_at = |i: usize| seeds.get(i as u64);
    let make = || {
        Loaded::new(loaded.scenario.clone(), registry)?
            .with_target(opts.target.clone())?
            .with_profile(opts.profile.clone())
    };
    let (results, failed, elapsed) =
        run_many_partial(&make, &variants, &seed_at, seeds.len(), jobs, &progress)?;
    let summaries: Vec<VariantSummary> = variants
        .iter()
        .map(|v| VariantSummary::new(&loaded, v, &results))
        .collect();
    // A shard cannot know whether the whole run catches what the scenario expects: it
    // fails only on what no shard may see (an unexpected violation), and `report merge`
    // judges the required ones.
    let mut ok = match opts.shard {
        None => summaries.iter().all(VariantSummary::as_expected),
        Some(_) => summaries.iter().all(nothing_unexpected),
    };
    let mut divergences = Vec::new();
    if opts.check_determinism {
        let (again, _) = run_many_lazy(&make, &variants, &seed_at, seeds.len(), jobs, &|_, _| {})?;
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
    let expected = |r: &crate::runner::SeedResult, inv: &str| {
        loaded
            .allowed(&r.variant, &r.knobs)
            .iter()
            .any(|e| e == inv)
    };
    let mut doc = RunDoc::new(
        &loaded.scenario.file.name,
        arg,
        opts.shard.map(|(k, n)| format!("{k}/{n}")),
        jobs,
        elapsed.as_millis() as u64,
        summaries.clone(),
        &results,
        &expected,
    );
    doc.as_expected = ok;
    doc.nondeterministic = divergences.clone();
    if !json {
        print!(
            "{}",
            text::run_report(&loaded, arg, &summaries, &results, elapsed, jobs, &shrunk)
        );
        if opts.target.is_postgres() {
            println!(
                "  backend postgres: histories follow the wall clock, so a replay (add \
                 `--backend postgres`) reruns the same workload and faults, not the same \
                 interleaving"
            );
        }
        if opts.check_determinism && divergences.is_empty() {
            println!("  determinism: every seed ran twice with identical histories");
        }
        for d in &divergences {
            println!("\nNONDETERMINISTIC {d}");
        }
    }
    doc.shrunk = shrunk;
    // The seeds that ran keep their results; each that could not run is named, and the
    // command ends as a harness failure (exit 2) after the report.
    for f in &failed {
        let line = format!("variant {} seed {}: {}", f.variant, f.seed, f.error);
        if !json {
            println!("\nHARNESS FAILURE {line}");
        }
        doc.harness_failures.push(line);
    }
    doc.as_expected &= failed.is_empty();
    Ok(doc)
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
        notes.push(crate::evidence::shrink_and_save(
            loaded,
            &plan,
            &f.verdict.invariant,
            dir,
        )?);
    }
    Ok(notes)
}

/// True when no invariant of `s` was violated where its seed's expectations forbid it.
fn nothing_unexpected(s: &VariantSummary) -> bool {
    s.invariants
        .iter()
        .all(|t| t.unexpected == 0 && (t.expected || t.violated == t.tolerated))
}
