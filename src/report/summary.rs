//! The machine-readable result of `faultline run --json`, and merging shard results.
//!
//! The document is versioned by `format`; fields are only ever added within a format.
//! `docs/json.md` describes every field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::text::{first_failures, replay_command, ShrinkNote};
use crate::check::Verdict;
use crate::runner::{InvariantTally, SeedResult, VariantSummary};

/// The format of [`RunDoc`] this build writes.
pub const RUN_FORMAT: u32 = 1;

/// One scenario's results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunDoc {
    /// Document format version.
    pub format: u32,
    /// Scenario name.
    pub scenario: String,
    /// The scenario file as given on the command line.
    pub path: String,
    /// `K/N` when this is one shard of a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// True when every verdict matched expectations.
    pub as_expected: bool,
    /// Wall time in milliseconds.
    pub wall_ms: u64,
    /// Worker threads.
    pub jobs: usize,
    /// Per variant.
    pub variants: Vec<VariantSummary>,
    /// The first failing seed of each (variant, invariant).
    pub failures: Vec<Failure>,
    /// Shrunk failures.
    #[serde(default)]
    pub shrunk: Vec<ShrinkNote>,
    /// Determinism check failures, if it ran.
    #[serde(default)]
    pub nondeterministic: Vec<String>,
    /// Runs that could not complete (a harness failure, a database gone), one line each
    /// naming the variant and seed; the other seeds' results are still counted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub harness_failures: Vec<String>,
}

/// A failing seed with its verdict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    /// Variant.
    pub variant: String,
    /// Seed.
    pub seed: u64,
    /// Whether the scenario expects this violation.
    pub expected: bool,
    /// The verdict, with explanation and witnesses.
    pub verdict: Verdict,
    /// The command that replays it.
    pub replay: String,
}

impl RunDoc {
    /// Builds the document from a run's results.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        scenario: &str,
        path: &str,
        shard: Option<String>,
        jobs: usize,
        wall_ms: u64,
        variants: Vec<VariantSummary>,
        results: &[SeedResult],
        expected: &dyn Fn(&SeedResult, &str) -> bool,
    ) -> Self {
        let failures = first_failures(results)
            .into_iter()
            .filter_map(|f| {
                let r = results
                    .iter()
                    .find(|r| r.variant == f.variant && r.seed == f.seed)?;
                Some(Failure {
                    variant: f.variant.to_string(),
                    seed: f.seed,
                    expected: expected(r, &f.verdict.invariant),
                    verdict: f.verdict.clone(),
                    replay: replay_command(
                        path,
                        f.variant,
                        f.seed,
                        crate::runner::Loaded::profile_of(&r.knobs),
                    ),
                })
            })
            .collect();
        Self {
            format: RUN_FORMAT,
            scenario: scenario.into(),
            path: path.into(),
            shard,
            as_expected: variants.iter().all(VariantSummary::as_expected),
            wall_ms,
            jobs,
            variants,
            failures,
            shrunk: Vec::new(),
            nondeterministic: Vec::new(),
            harness_failures: Vec::new(),
        }
    }
}

/// Merges shard documents: per scenario, seeds, violation and situation counts add up,
/// the earliest failing seed wins, and expectations (and the situations the run must
/// reach) are judged on the whole.
///
/// Refuses an empty merge, a shard given twice (or a whole run merged with a shard of
/// it, or shards of different splits), and counts no run can produce: more violating
/// seeds than seeds, or totals that overflow.
pub fn merge(docs: Vec<RunDoc>) -> Result<Vec<RunDoc>, String> {
    if docs.is_empty() {
        return Err(
            "nothing to merge: the files hold no runs; expected the output of \
                    `faultline run --json` with at least one run"
                .into(),
        );
    }
    let mut by_scenario: BTreeMap<String, RunDoc> = BTreeMap::new();
    let mut shards: BTreeMap<String, Vec<Option<(usize, usize)>>> = BTreeMap::new();
    for doc in docs {
        if doc.format != RUN_FORMAT {
            return Err(format!(
                "{}: format {} is not supported; expected {RUN_FORMAT}",
                doc.scenario, doc.format
            ));
        }
        check_counts(&doc)?;
        let shard = doc.shard.as_deref().map(parse_shard).transpose()?;
        let seen = shards.entry(doc.scenario.clone()).or_default();
        if let Some(clash) = seen.iter().find(|s| overlaps(**s, shard)) {
            let name = |s: Option<(usize, usize)>| {
                s.map_or("the whole run".to_string(), |(k, n)| {
                    format!("shard {k}/{n}")
                })
            };
            return Err(format!(
                "{}: {} overlaps {} given earlier; expected each shard once, all of one split",
                doc.scenario,
                name(shard),
                name(*clash)
            ));
        }
        seen.push(shard);
        match by_scenario.get_mut(&doc.scenario) {
            None => {
                by_scenario.insert(doc.scenario.clone(), RunDoc { shard: None, ..doc });
            }
            Some(acc) => absorb(acc, doc)?,
        }
    }
    Ok(by_scenario
        .into_values()
        .map(|mut d| {
            d.as_expected = d.variants.iter().all(VariantSummary::as_expected)
                && d.nondeterministic.is_empty()
                && d.harness_failures.is_empty();
            d
        })
        .collect())
}

/// Two shards overlap unless they are different shards of the same split.
fn overlaps(a: Option<(usize, usize)>, b: Option<(usize, usize)>) -> bool {
    match (a, b) {
        (Some((ka, na)), Some((kb, nb))) => na != nb || ka == kb,
        _ => true,
    }
}

/// Refuses counts no run can produce.
fn check_counts(doc: &RunDoc) -> Result<(), String> {
    for v in &doc.variants {
        for t in &v.invariants {
            let most = t.violated.max(t.tolerated).max(t.unexpected);
            if most > v.seeds || t.tolerated > t.violated || t.unexpected > t.violated {
                return Err(format!(
                    "{} {}: {} counts {} violating seeds of {} run; expected at most as many \
                     as seeds run",
                    doc.scenario, v.variant, t.invariant, most, v.seeds
                ));
            }
        }
        for t in &v.situations {
            if t.seeds > v.seeds || t.occurrences < t.seeds {
                return Err(format!(
                    "{} {}: situation {} counts {} seeds with {} occurrences of {} run; \
                     expected at most as many seeds as run, each with an occurrence",
                    doc.scenario, v.variant, t.situation, t.seeds, t.occurrences, v.seeds
                ));
            }
        }
        if v.unfinished > v.seeds {
            return Err(format!(
                "{} {}: {} unfinished seeds of {} run; expected at most as many as seeds run",
                doc.scenario, v.variant, v.unfinished, v.seeds
            ));
        }
    }
    Ok(())
}

fn overflow(doc: &RunDoc) -> String {
    format!(
        "{}: the merged seed counts overflow; expected the counts of real runs",
        doc.scenario
    )
}

fn absorb(acc: &mut RunDoc, doc: RunDoc) -> Result<(), String> {
    let too_big = overflow(&doc);
    acc.wall_ms = acc.wall_ms.max(doc.wall_ms);
    for v in doc.variants {
        match acc.variants.iter_mut().find(|a| a.variant == v.variant) {
            None => acc.variants.push(v),
            Some(a) => {
                let add = |x: usize, y: usize| x.checked_add(y).ok_or_else(|| too_big.clone());
                a.seeds = add(a.seeds, v.seeds)?;
                a.unfinished = add(a.unfinished, v.unfinished)?;
                a.sim_ms = a.sim_ms.saturating_add(v.sim_ms);
                a.wall_us = a.wall_us.saturating_add(v.wall_us);
                for t in v.invariants {
                    match a.invariants.iter_mut().find(|x| x.invariant == t.invariant) {
                        None => a.invariants.push(t),
                        Some(x) => add_tally(x, &t).ok_or_else(|| too_big.clone())?,
                    }
                }
                for t in v.situations {
                    match a.situations.iter_mut().find(|x| x.situation == t.situation) {
                        None => a.situations.push(t),
                        Some(x) => x.absorb(&t).ok_or_else(|| too_big.clone())?,
                    }
                }
            }
        }
    }
    for f in doc.failures {
        let slot = acc
            .failures
            .iter_mut()
            .find(|x| x.variant == f.variant && x.verdict.invariant == f.verdict.invariant);
        match slot {
            None => acc.failures.push(f),
            Some(x) if f.seed < x.seed => *x = f,
            Some(_) => {}
        }
    }
    acc.failures
        .sort_by(|a, b| (&a.variant, a.seed).cmp(&(&b.variant, b.seed)));
    acc.shrunk.extend(doc.shrunk);
    acc.nondeterministic.extend(doc.nondeterministic);
    acc.harness_failures.extend(doc.harness_failures);
    Ok(())
}

fn add_tally(x: &mut InvariantTally, t: &InvariantTally) -> Option<()> {
    x.violated = x.violated.checked_add(t.violated)?;
    x.tolerated = x.tolerated.checked_add(t.tolerated)?;
    x.unexpected = x.unexpected.checked_add(t.unexpected)?;
    x.first_seed = match (x.first_seed, t.first_seed) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Some(())
}

/// Which seeds shard `k` of `n` (1-based) runs: every `n`th seed starting at the `k`th.
pub fn shard_seeds(seeds: &[u64], k: usize, n: usize) -> Vec<u64> {
    seeds
        .iter()
        .enumerate()
        .filter(|(i, _)| i % n == k - 1)
        .map(|(_, s)| *s)
        .collect()
}

/// Parses `K/N` with `1 <= K <= N`.
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard {s}: expected K/N with 1 <= K <= N, e.g. 2/4");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_seeds() {
        let seeds: Vec<u64> = (1..=10).collect();
        let mut all: Vec<u64> = (1..=3).flat_map(|k| shard_seeds(&seeds, k, 3)).collect();
        all.sort();
        assert_eq!(all, seeds);
        assert_eq!(shard_seeds(&seeds, 2, 3), vec![2, 5, 8]);
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(
            parse_shard("5/4").is_err() && parse_shard("0/4").is_err() && parse_shard("x").is_err()
        );
    }
}
