//! [`Situation`]: a dangerous moment a scenario claims to exercise (the vacuity guard).
//!
//! An invariant that holds on every seed proves little if the seeds never reached the
//! moment it is about: a green run over seeds where no answer was ever lost says nothing
//! about lost answers. A system declares the situations its scenarios must reach; a run
//! counts on how many seeds each occurred, and a run in which one never occurred for a
//! variant fails, naming it.

use std::sync::Arc;

use crate::check::FinalState;
use crate::history::History;

type CountFn = Arc<dyn Fn(&History, &FinalState) -> usize + Send + Sync>;

/// A dangerous moment that must occur on some seeds of a run: a name, what it is in plain
/// words, and a pure function over one seed's history and final state (audit included)
/// that counts how many times it occurred there.
///
/// The count must come from what the world did (a fault in the history, a commit in the
/// server's audit, two operations overlapping in time), never from a flag the code under
/// test chose to record: the guard is about the test's reach, not the client's opinion.
/// Keep it linear in the history: it runs once per seed.
///
/// ```
/// use faultline::history::EntryType;
/// use faultline::system::Situation;
///
/// // Some operation's outcome was unknown to its client: a timeout or a dropped answer.
/// let unknown = Situation::new(
///     "unknown_outcome",
///     "a client never learnt whether its request took effect",
///     |history, _state| {
///         history.operations().iter().filter(|op| op.outcome() == EntryType::Info).count()
///     },
/// );
/// let empty = faultline::history::History::default();
/// assert_eq!(unknown.count(&empty, &Default::default()), 0);
/// assert!(unknown.applies_to("any variant"));
/// ```
#[derive(Clone)]
pub struct Situation {
    /// The name reports and scenario files (`situations = [...]`) use.
    pub name: String,
    /// What happened, in plain words, for reports.
    pub description: String,
    /// The variants it must occur for; empty means every variant.
    pub variants: Vec<String>,
    /// Tables it reads, checked against the system's own when it is built.
    pub tables: Vec<String>,
    /// Whether only the simulator can make the faults it needs (see
    /// [`Situation::simulated_only`]).
    pub simulated_only: bool,
    count: CountFn,
}

impl Situation {
    /// A situation called `name`, described by `description`, whose occurrences on one
    /// seed `count` counts.
    pub fn new<F>(name: &str, description: &str, count: F) -> Self
    where
        F: Fn(&History, &FinalState) -> usize + Send + Sync + 'static,
    {
        Self {
            name: name.to_string(),
            description: description.to_string(),
            variants: Vec::new(),
            tables: Vec::new(),
            simulated_only: false,
            count: Arc::new(count),
        }
    }

    /// A situation that either occurred on a seed or did not (counted once).
    pub fn when<F>(name: &str, description: &str, occurred: F) -> Self
    where
        F: Fn(&History, &FinalState) -> bool + Send + Sync + 'static,
    {
        Self::new(name, description, move |h, s| usize::from(occurred(h, s)))
    }

    /// Requires it only of these variants (one whose logic never gets there, say, a
    /// variant that keeps no queue cannot crash with entries queued).
    pub fn only_for(mut self, variants: &[&str]) -> Self {
        self.variants = variants.iter().map(|v| v.to_string()).collect();
        self
    }

    /// Declares that the count reads `table`, so a misspelt table is an error when the
    /// system is built, not a situation that silently never occurs.
    pub fn reads(mut self, table: &str) -> Self {
        self.tables.push(table.to_string());
        self
    }

    /// Declares that it needs faults only the simulator makes (between the primary and a
    /// replica, say, which a shared PostgreSQL cluster cannot have per run). On PostgreSQL
    /// it is still counted and shown, but a run that never reached it does not fail for it:
    /// a run there could not have.
    pub fn simulated_only(mut self) -> Self {
        self.simulated_only = true;
        self
    }

    /// True when `variant` must reach it.
    pub fn applies_to(&self, variant: &str) -> bool {
        self.variants.is_empty() || self.variants.iter().any(|v| v == variant)
    }

    /// How many times it occurred on one seed.
    pub fn count(&self, history: &History, state: &FinalState) -> usize {
        (self.count)(history, state)
    }
}

impl std::fmt::Debug for Situation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Situation")
            .field("name", &self.name)
            .field("variants", &self.variants)
            .field("simulated_only", &self.simulated_only)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_situation_counts_and_names_its_variants() {
        let always = Situation::when("a", "always", |_, _| true).only_for(&["x"]);
        let never = Situation::when("n", "never", |_, _| false);
        let (h, s) = (History::default(), FinalState::default());
        assert_eq!(always.count(&h, &s), 1);
        assert_eq!(never.count(&h, &s), 0);
        assert!(always.applies_to("x") && !always.applies_to("y"));
        assert!(never.applies_to("y"));
        let three = Situation::new("t", "thrice", |_, _| 3);
        assert_eq!(three.count(&h, &s), 3);
    }
}
