//! What a failure leaves behind: for the first failing seed of each variant, its plan, its
//! history, the shrunk plan and an HTML timeline, so nobody has to rerun anything to see
//! what happened.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::report::text;
use crate::runner::{Loaded, SeedResult};

/// Runs a shrink may spend on one failure.
pub const SHRINK_BUDGET: usize = 1000;

/// The files written for one failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Variant.
    pub variant: String,
    /// The failing seed.
    pub seed: u64,
    /// The invariant it violated first.
    pub invariant: String,
    /// The seed's full plan.
    pub plan: PathBuf,
    /// Its history as JSON Lines.
    pub history: PathBuf,
    /// A self-contained HTML timeline of the run.
    pub timeline: PathBuf,
    /// The shrunk plan that still violates the invariant; `None` on PostgreSQL, where
    /// shrinking would rerun the plan hundreds of times on the wall clock.
    pub shrunk: Option<PathBuf>,
    /// Plan events before and after shrinking.
    pub shrunk_from_to: Option<(usize, usize)>,
}

impl Evidence {
    /// Lines for a report: where each file is and how to replay the minimal plan.
    pub fn describe(&self, replay_template: &str) -> String {
        let head = format!(
            "\nEVIDENCE  variant {}  seed {}  invariant {}\n  plan:     {}\n  history:  {}\n  \
             timeline: {}\n",
            self.variant,
            self.seed,
            self.invariant,
            self.plan.display(),
            self.history.display(),
            self.timeline.display(),
        );
        match (&self.shrunk, self.shrunk_from_to) {
            (Some(shrunk), Some((before, after))) => format!(
                "{head}  shrunk:   {} ({before} -> {after} plan events)\n  \
                 replay the minimal plan: {}\n",
                shrunk.display(),
                crate::harness::replay_with_plan(replay_template, shrunk),
            ),
            _ => format!(
                "{head}  not shrunk (PostgreSQL runs on the wall clock)\n  replay the plan: {}\n",
                crate::harness::replay_with_plan(replay_template, &self.plan),
            ),
        }
    }
}

/// Writes the evidence of the first failure of each variant in `results` under `dir`.
pub fn first_failures(
    loaded: &Loaded,
    results: &[SeedResult],
    dir: &Path,
) -> Result<Vec<Evidence>> {
    let mut out: Vec<Evidence> = Vec::new();
    for f in text::first_failures(results) {
        if out.iter().any(|e| e.variant == f.variant) {
            continue;
        }
        out.push(write_one(
            loaded,
            f.variant,
            f.seed,
            &f.verdict.invariant,
            dir,
        )?);
    }
    Ok(out)
}

fn write_one(
    loaded: &Loaded,
    variant: &str,
    seed: u64,
    invariant: &str,
    dir: &Path,
) -> Result<Evidence> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let stem = format!("{}-{variant}-seed{seed}", loaded.scenario.file.name);
    let plan = loaded.plan(variant, seed)?;
    let (result, run) = loaded.execute(&plan)?;
    let plan_path = dir.join(format!("{stem}.plan.json"));
    plan.save(&plan_path)?;
    let history_path = dir.join(format!("{stem}.history.jsonl"));
    let file = std::fs::File::create(&history_path).map_err(io(&history_path))?;
    run.history
        .write_jsonl(std::io::BufWriter::new(file))
        .map_err(io(&history_path))?;
    let timeline_path = dir.join(format!("{stem}.timeline.html"));
    let html = crate::report::timeline::html(loaded, &plan, &result, &run);
    std::fs::write(&timeline_path, html).map_err(io(&timeline_path))?;
    let shrunk = if loaded.target.is_postgres() {
        None
    } else {
        Some(shrink_and_save(loaded, &plan, invariant, dir)?)
    };
    Ok(Evidence {
        variant: variant.to_string(),
        seed,
        invariant: invariant.to_string(),
        plan: plan_path,
        history: history_path,
        timeline: timeline_path,
        shrunk_from_to: shrunk.as_ref().map(|s| (s.before, s.after)),
        shrunk: shrunk.map(|s| PathBuf::from(s.path)),
    })
}

/// Shrinks the failing `plan` to the fewest events that still violate `invariant` and
/// saves the minimal plan under `dir` as `SCENARIO-VARIANT-seedS-INVARIANT.json`.
pub fn shrink_and_save(
    loaded: &Loaded,
    plan: &crate::plan::Plan,
    invariant: &str,
    dir: &Path,
) -> Result<text::ShrinkNote> {
    let shrunk = crate::shrink::shrink(loaded, plan, invariant, SHRINK_BUDGET)?;
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join(format!(
        "{}-{}-seed{}-{invariant}.json",
        loaded.scenario.file.name, plan.variant, plan.seed
    ));
    shrunk.plan.save(&path)?;
    Ok(text::ShrinkNote {
        variant: plan.variant.clone(),
        seed: plan.seed,
        invariant: invariant.to_string(),
        before: shrunk.before,
        after: shrunk.after,
        runs: shrunk.runs,
        path: path.to_string_lossy().into_owned(),
    })
}
