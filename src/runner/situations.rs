//! Counting situations (the vacuity guard): on how many seeds of a variant each one the
//! scenario must reach occurred.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SeedResult;
use crate::system::Situation;

/// One situation's count for one variant over a run's seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SituationTally {
    /// The situation.
    pub situation: String,
    /// What it is, in plain words.
    #[serde(default)]
    pub description: String,
    /// Seeds on which it occurred at least once.
    pub seeds: usize,
    /// Occurrences summed over those seeds.
    pub occurrences: usize,
    /// The first seed on which it occurred.
    pub first_seed: Option<u64>,
    /// Whether the run must reach it: false for a situation whose faults this backend
    /// cannot make ([`Situation::simulated_only`] on PostgreSQL).
    #[serde(default = "required_by_default")]
    pub required: bool,
}

fn required_by_default() -> bool {
    true
}

impl SituationTally {
    /// Tallies `situation` over `results` (one variant's seeds, in seed order).
    pub fn new(situation: &Situation, results: &[&SeedResult]) -> Self {
        let counts: Vec<(u64, usize)> = results
            .iter()
            .filter_map(|r| {
                let n = r.situations.get(&situation.name).copied().unwrap_or(0);
                (n > 0).then_some((r.seed, n))
            })
            .collect();
        Self {
            situation: situation.name.clone(),
            description: situation.description.clone(),
            seeds: counts.len(),
            occurrences: counts.iter().map(|(_, n)| n).sum(),
            first_seed: counts.first().map(|(s, _)| *s),
            required: true,
        }
    }

    /// The same tally, no longer required of the run.
    pub fn not_required(self) -> Self {
        Self {
            required: false,
            ..self
        }
    }

    /// True when the run had to reach it and reached it on no seed.
    pub fn missed(&self) -> bool {
        self.required && !self.reached()
    }

    /// True when it occurred on some seed: the run exercised what it claims.
    pub fn reached(&self) -> bool {
        self.seeds > 0
    }

    /// Adds another shard's tally of the same situation; `None` on overflow.
    pub fn absorb(&mut self, other: &SituationTally) -> Option<()> {
        self.seeds = self.seeds.checked_add(other.seeds)?;
        self.occurrences = self.occurrences.checked_add(other.occurrences)?;
        self.first_seed = match (self.first_seed, other.first_seed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Some(())
    }
}

/// Counts each situation that applies to `variant` on one seed.
pub fn count(
    situations: &[Situation],
    variant: &str,
    history: &crate::history::History,
    state: &crate::check::FinalState,
) -> BTreeMap<String, usize> {
    situations
        .iter()
        .filter(|s| s.applies_to(variant))
        .map(|s| (s.name.clone(), s.count(history, state)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::RunStats;

    fn result(seed: u64, n: usize) -> SeedResult {
        SeedResult {
            variant: "v".into(),
            seed,
            verdicts: vec![],
            history_hash: String::new(),
            ops: 0,
            stats: RunStats::default(),
            wall_us: 0,
            knobs: Default::default(),
            situations: [("s".to_string(), n)].into_iter().collect(),
        }
    }

    #[test]
    fn a_tally_counts_seeds_and_occurrences_and_merges() {
        let s = Situation::new("s", "d", |_, _| 0);
        let rs = [result(3, 0), result(4, 2), result(5, 1)];
        let refs: Vec<&SeedResult> = rs.iter().collect();
        let mut t = SituationTally::new(&s, &refs);
        assert_eq!((t.seeds, t.occurrences, t.first_seed), (2, 3, Some(4)));
        assert!(t.reached());
        let none = SituationTally::new(&s, &refs[..1]);
        assert!(!none.reached());
        assert_eq!(none.first_seed, None);
        let other = SituationTally::new(&s, &refs[2..]);
        t.absorb(&other).unwrap();
        assert_eq!((t.seeds, t.occurrences, t.first_seed), (3, 4, Some(4)));
        let mut early = other.clone();
        early.first_seed = Some(1);
        t.absorb(&early).unwrap();
        assert_eq!(t.first_seed, Some(1));
    }
}
