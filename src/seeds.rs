//! The seeds of a run as a lazy arithmetic range: `--seeds N` is `1..=N`, a shard keeps
//! every Nth of them, and nothing ever collects them into a list.

use crate::error::{Error, Result};
use crate::limits::MAX_SEEDS;

/// `count` seeds: `first`, `first + step`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeds {
    first: u64,
    step: u64,
    count: u64,
}

impl Seeds {
    /// Exactly `seed`.
    pub fn one(seed: u64) -> Self {
        Self {
            first: seed,
            step: 1,
            count: 1,
        }
    }

    /// Seeds `1..=n`; refuses 0 and more than [`MAX_SEEDS`] as usage errors.
    pub fn first_n(n: u64) -> Result<Self> {
        if n == 0 {
            return Err(Error::Usage(
                "--seeds 0: expected at least one seed (1 to MAX_SEEDS)".into(),
            ));
        }
        if n > MAX_SEEDS {
            return Err(Error::Usage(format!(
                "--seeds {n}: expected at most {MAX_SEEDS} seeds per run (MAX_SEEDS); \
                 split larger runs with --shard K/N over machines, or run several ranges"
            )));
        }
        Ok(Self {
            first: 1,
            step: 1,
            count: n,
        })
    }

    /// Shard `k` of `n` (1-based): every `n`th seed starting at the `k`th. A shard that
    /// gets no seed at all is a usage error, not a run that proves nothing.
    pub fn shard(self, k: usize, n: usize) -> Result<Self> {
        let (k, n) = (k as u64, n as u64);
        let count = self.count.saturating_sub(k - 1).div_ceil(n);
        if count == 0 {
            return Err(Error::Usage(format!(
                "--shard {k}/{n}: this shard gets no seed of the {} given; expected fewer \
                 shards than seeds",
                self.count
            )));
        }
        Ok(Self {
            first: self.get(k - 1),
            step: self.step * n,
            count,
        })
    }

    /// How many seeds.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True when there are none (never, for a value built by this module).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The `i`th seed.
    pub fn get(&self, i: u64) -> u64 {
        self.first.wrapping_add(self.step.wrapping_mul(i))
    }

    /// Every seed, in order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.count).map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_range_lazily() {
        let all = Seeds::first_n(10).unwrap();
        let mut seen: Vec<u64> = (1..=3)
            .flat_map(|k| all.shard(k, 3).unwrap().iter().collect::<Vec<_>>())
            .collect();
        seen.sort();
        assert_eq!(seen, (1..=10).collect::<Vec<_>>());
        assert_eq!(
            all.shard(2, 3).unwrap().iter().collect::<Vec<_>>(),
            vec![2, 5, 8]
        );
        assert!(Seeds::first_n(2).unwrap().shard(3, 3).is_err());
        assert!(Seeds::first_n(0).is_err());
        assert!(Seeds::first_n(u64::MAX).is_err());
        assert_eq!(Seeds::first_n(MAX_SEEDS).unwrap().len() as u64, MAX_SEEDS);
        assert_eq!(
            Seeds::one(u64::MAX).iter().collect::<Vec<_>>(),
            vec![u64::MAX]
        );
    }
}
