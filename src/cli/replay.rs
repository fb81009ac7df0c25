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
    pub(super) variant: Option<&'a str>,
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
    super::outputs::check_writable(&[Some(out)])?;
    let loaded = Loaded::load(arg, registry)?.with_profile(profile.clone())?;
    let variant = match variant {
        Some(v) => v.to_string(),
        None => failing_variant(&loaded, seed)?,
    };
    let variant = variant.as_str();
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

/// `name` if the scenario runs a variant of that name (the seed systems' convention),
/// else its first variant: a user's system names its variants as it likes.
fn preferred(loaded: &Loaded, name: &str) -> String {
    let variants = loaded.variants();
    if variants.iter().any(|v| v == name) {
        name.to_string()
    } else {
        variants
            .into_iter()
            .next()
            .unwrap_or_else(|| name.to_string())
    }
}

/// The variant `shrink` works on when none is named: `naive` if the scenario runs it,
/// else the first variant that violates something on `seed`.
fn failing_variant(loaded: &Loaded, seed: u64) -> Result<String> {
    let variants = loaded.variants();
    if variants.iter().any(|v| v == "naive") {
        return Ok("naive".into());
    }
    for v in &variants {
        if loaded.run_seed(v, seed)?.violations().next().is_some() {
            return Ok(v.clone());
        }
    }
    Err(Error::Usage(format!(
        "no variant of {} violates anything on seed {seed} (variants: {}); \
         name one with --variant",
        loaded.scenario.file.name,
        variants.join(", ")
    )))
}

pub(super) fn replay(
    target: &str,
    registry: &Registry,
    seed: Option<u64>,
    variant: Option<&str>,
    profile: &ProfileChoice,
    outputs: Outputs,
    on: Target,
) -> Result<bool> {
    let Outputs {
        history,
        plan_out,
        timeline,
    } = outputs;
    super::outputs::check_writable(&[
        history.as_deref(),
        plan_out.as_deref(),
        timeline.as_deref(),
    ])?;
    let (loaded, plan, shown) = if is_plan_file(target) {
        let plan = Plan::load(target.as_ref())?;
        let source = plan.scenario_source(target.as_ref());
        let loaded = Loaded::load(&source, registry)?.with_target(on)?;
        let shown = target.to_string();
        (loaded, plan, shown)
    } else {
        let seed =
            seed.ok_or_else(|| Error::Usage("replay of a scenario needs --seed S".into()))?;
        let loaded = Loaded::load(target, registry)?
            .with_target(on)?
            .with_profile(profile.clone())?;
        let variant = match variant {
            Some(v) => v.to_string(),
            None => preferred(&loaded, "reference"),
        };
        let plan = loaded.plan(&variant, seed)?;
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

/// A plan is recognised by its content (a JSON object), not its file name, so `plan.JSON`
/// or a plan without an extension replays as a plan.
fn is_plan_file(target: &str) -> bool {
    let path = std::path::Path::new(target);
    if !path.is_file() {
        return false;
    }
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    Plan::looks_like_plan(&head[..n])
}
