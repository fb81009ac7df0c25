//! `faultline replay` and `faultline shrink`: one seed or one plan, in detail.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::report::text;
use crate::runner::{Loaded, Target};
use crate::scenario::ProfileChoice;
use crate::system::Registry;

/// What `faultline shrink` was asked for.
pub(super) struct ShrinkArgs<'a> {
    pub(super) seed: u64,
    pub(super) variant: &'a str,
    pub(super) profile: &'a ProfileChoice,
    pub(super) invariant: Option<String>,
    pub(super) out: &'a std::path::Path,
    pub(super) budget: usize,
}

pub(super) fn shrink_cmd(arg: &str, registry: &Registry, args: ShrinkArgs<'_>) -> Result<bool> {
    let ShrinkArgs {
        seed,
        variant,
        profile,
        invariant,
        out,
        budget,
    } = args;
    let loaded = Loaded::load(arg, registry)?.with_profile(profile.clone())?;
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
        "minimal plan written to {}; replay it with: {} replay {}",
        out.display(),
        crate::report::text::program(),
        out.display()
    );
    Ok(true)
}

/// Files `faultline replay` may write besides its report.
pub(super) struct Outputs {
    pub(super) history: Option<PathBuf>,
    pub(super) plan_out: Option<PathBuf>,
    pub(super) timeline: Option<PathBuf>,
}

pub(super) fn replay(
    target: &str,
    registry: &Registry,
    seed: Option<u64>,
    variant: &str,
    profile: &ProfileChoice,
    outputs: Outputs,
    on: Target,
) -> Result<bool> {
    let Outputs {
        history,
        plan_out,
        timeline,
    } = outputs;
    let (loaded, plan, shown) = if target.ends_with(".json") {
        let plan = Plan::load(target.as_ref())?;
        // The file it was made from, else the built-in scenario of that name.
        let source = plan
            .scenario_path
            .clone()
            .filter(|p| std::path::Path::new(p).exists())
            .unwrap_or_else(|| plan.scenario.clone());
        let loaded = Loaded::load(&source, registry)?.with_target(on)?;
        let shown = target.to_string();
        (loaded, plan, shown)
    } else {
        let seed =
            seed.ok_or_else(|| Error::Usage("replay of a scenario needs --seed S".into()))?;
        let loaded = Loaded::load(target, registry)?
            .with_target(on)?
            .with_profile(profile.clone())?;
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
    let expected = loaded.allowed(&plan.variant, &plan.knobs);
    let as_expected = result.violations().all(|v| expected.contains(&v.invariant));
    Ok(as_expected)
}
