//! A knob given either as one value or as an inclusive `[low, high]` range.

use serde::{Deserialize, Serialize};

use crate::rng::SimRng;

/// A number the plan draws per seed from `[lo, hi]`; a single value means exactly that.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged, expecting = "a number or a [low, high] pair of numbers")]
pub enum Span<T> {
    /// Always this value.
    Fixed(T),
    /// Drawn uniformly from the inclusive range.
    Range([T; 2]),
}

impl<T: Copy + PartialOrd> Span<T> {
    /// The bounds, low first.
    pub fn bounds(&self) -> (T, T) {
        match *self {
            Span::Fixed(v) => (v, v),
            Span::Range([a, b]) => (a, b),
        }
    }

    /// True when low is not above high.
    pub fn is_ordered(&self) -> bool {
        let (a, b) = self.bounds();
        a <= b
    }

    /// True when low is not above high and both lie in `[lo, hi]`: the usual check of a
    /// knob in [`crate::scenario::WorkloadKnobs::validate`].
    pub fn within(&self, lo: T, hi: T) -> bool {
        let (a, b) = self.bounds();
        self.is_ordered() && a >= lo && b <= hi
    }
}

impl Span<u64> {
    /// Draws a value.
    pub fn draw(&self, rng: &mut SimRng) -> u64 {
        let (a, b) = self.bounds();
        rng.range(a, b)
    }
}

impl Span<f64> {
    /// Draws a value.
    pub fn draw(&self, rng: &mut SimRng) -> f64 {
        let (a, b) = self.bounds();
        rng.range_f64(a, b)
    }
}
