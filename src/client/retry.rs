//! Retry with backoff, in one place for every reference variant.
//!
//! The delays follow the classic formulas (capped exponential, full jitter, equal jitter,
//! decorrelated jitter). Jitter draws from the caller's seeded generator, so a simulated
//! run stays a pure function of its seed. A maintained crate (backon) was considered: its
//! jitter draws from its own generator, and wiring a seeded one through it costs more lines
//! than the formulas themselves, so they are written here.

use serde::{Deserialize, Serialize};

use crate::backend::{
    DbError, ErrorCategory, DEADLOCK_DETECTED, SERIALIZATION_FAILURE, UNIQUE_VIOLATION,
};
use crate::rng::SimRng;

/// How long to wait between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// Retry at once.
    None,
    /// `min(cap, base * 2^attempt)`.
    Exponential,
    /// A uniform draw from `[0, min(cap, base * 2^attempt)]`.
    FullJitter,
    /// Half the exponential delay plus a uniform draw from the other half.
    EqualJitter,
    /// `min(cap, uniform(base, previous * 3))`.
    Decorrelated,
}

impl Backoff {
    /// Every policy, in report order.
    pub const ALL: [Backoff; 5] = [
        Backoff::None,
        Backoff::Exponential,
        Backoff::FullJitter,
        Backoff::EqualJitter,
        Backoff::Decorrelated,
    ];

    /// The policy's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Backoff::None => "none",
            Backoff::Exponential => "exponential",
            Backoff::FullJitter => "full_jitter",
            Backoff::EqualJitter => "equal_jitter",
            Backoff::Decorrelated => "decorrelated_jitter",
        }
    }

    /// The policy called `name`.
    pub fn named(name: &str) -> Option<Backoff> {
        Backoff::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// A retry policy: backoff, its bounds, and how many attempts in all.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// The delay formula.
    pub backoff: Backoff,
    /// Base delay.
    pub base_ms: u64,
    /// Largest delay.
    pub cap_ms: u64,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl RetryPolicy {
    /// Full jitter with a 100 ms base, 2 s cap and 5 attempts: the reference default.
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        backoff: Backoff::FullJitter,
        base_ms: 100,
        cap_ms: 2000,
        max_attempts: 5,
    };

    /// The delay before attempt `attempt + 1` (attempt counts from 1), given the previous
    /// delay (for decorrelated jitter).
    pub fn delay_ms(&self, attempt: u32, previous_ms: u64, rng: &mut SimRng) -> u64 {
        let exp = self
            .base_ms
            .saturating_mul(1u64 << (attempt.saturating_sub(1)).min(20))
            .min(self.cap_ms);
        match self.backoff {
            Backoff::None => 0,
            Backoff::Exponential => exp,
            Backoff::FullJitter => rng.range(0, exp),
            Backoff::EqualJitter => exp / 2 + rng.range(0, exp - exp / 2),
            Backoff::Decorrelated => {
                let upper = previous_ms.max(self.base_ms).saturating_mul(3);
                rng.range(self.base_ms, upper).min(self.cap_ms)
            }
        }
    }
}

/// A token bucket that caps retries at a share of successful calls, so a struggling server
/// is not buried under retries (each success earns `ratio` of a token, each retry costs one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryBudget {
    // Thousandths of a token, so ten successes at 0.1 make exactly one token.
    tokens: u64,
    earn: u64,
    max: u64,
}

impl RetryBudget {
    /// A budget allowing about `ratio` retries per success, holding at most `max` tokens.
    pub fn new(ratio: f64, max: f64) -> Self {
        let milli = |x: f64| (x.max(0.0) * 1000.0).round() as u64;
        Self {
            tokens: milli(max),
            earn: milli(ratio),
            max: milli(max),
        }
    }

    /// Records a successful call.
    pub fn success(&mut self) {
        self.tokens = (self.tokens + self.earn).min(self.max);
    }

    /// Takes a token for a retry; false when the budget is spent.
    pub fn try_retry(&mut self) -> bool {
        if self.tokens >= 1000 {
            self.tokens -= 1000;
            true
        } else {
            false
        }
    }
}

/// Whether an error is worth another attempt.
///
/// `idempotent` says whether repeating the request cannot apply it twice (it carries an
/// idempotency key, or an expected version). Serialization failures and deadlocks are
/// always retryable (the transaction rolled back); a unique violation only where the caller
/// can choose a new key; version conflicts after a re-read; timeouts only with an
/// idempotent request. Everything else fails fast with its category.
pub fn retryable(error: &DbError, idempotent: bool, new_key_possible: bool) -> bool {
    match error {
        DbError::Sql { code, .. } if code == SERIALIZATION_FAILURE || code == DEADLOCK_DETECTED => {
            true
        }
        DbError::Sql { code, .. } if code == UNIQUE_VIOLATION => new_key_possible,
        DbError::Conflict(_) => true,
        DbError::Unreachable(_) => true,
        DbError::Timeout(_) => idempotent,
        DbError::Sql { .. } | DbError::Unauthorized(_) => false,
    }
}

/// The category a final failure is shown with.
pub fn category(error: &DbError) -> ErrorCategory {
    error.category()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(backoff: Backoff) -> RetryPolicy {
        RetryPolicy {
            backoff,
            base_ms: 100,
            cap_ms: 1000,
            max_attempts: 10,
        }
    }

    #[test]
    fn delays_follow_their_formulas_and_respect_the_cap() {
        let mut rng = SimRng::root(1);
        let exp: Vec<u64> = (1..=6)
            .map(|a| policy(Backoff::Exponential).delay_ms(a, 0, &mut rng))
            .collect();
        assert_eq!(exp, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(policy(Backoff::None).delay_ms(3, 0, &mut rng), 0);
        for attempt in 1..12 {
            let full = policy(Backoff::FullJitter).delay_ms(attempt, 0, &mut rng);
            let equal = policy(Backoff::EqualJitter).delay_ms(attempt, 0, &mut rng);
            let cap = (100u64 << (attempt - 1).min(20)).min(1000);
            assert!(full <= cap);
            assert!(equal >= cap / 2 && equal <= cap);
            let dec = policy(Backoff::Decorrelated).delay_ms(attempt, 500, &mut rng);
            assert!((100..=1000).contains(&dec));
        }
    }

    #[test]
    fn jitter_is_a_function_of_the_seed() {
        let draw = |seed| {
            let mut rng = SimRng::root(seed);
            (1..8)
                .map(|a| policy(Backoff::FullJitter).delay_ms(a, 0, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }

    #[test]
    fn budget_limits_retries_to_a_share_of_successes() {
        let mut b = RetryBudget::new(0.1, 2.0);
        assert!(b.try_retry() && b.try_retry());
        assert!(!b.try_retry(), "spent");
        for _ in 0..10 {
            b.success();
        }
        assert!(b.try_retry());
        assert!(!b.try_retry());
    }

    #[test]
    fn classification() {
        assert!(retryable(
            &DbError::sql(SERIALIZATION_FAILURE, "x"),
            false,
            false
        ));
        assert!(retryable(
            &DbError::sql(DEADLOCK_DETECTED, "x"),
            false,
            false
        ));
        assert!(!retryable(
            &DbError::sql(UNIQUE_VIOLATION, "x"),
            false,
            false
        ));
        assert!(retryable(&DbError::sql(UNIQUE_VIOLATION, "x"), false, true));
        assert!(
            !retryable(&DbError::Timeout(1), false, false),
            "a timeout without an idempotency key may apply twice"
        );
        assert!(retryable(&DbError::Timeout(1), true, false));
        assert!(!retryable(
            &DbError::Unauthorized("JWT expired".into()),
            true,
            true
        ));
        assert!(!retryable(&DbError::sql("23514", "check"), true, true));
    }
}
