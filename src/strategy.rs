//! A proptest [`Strategy`] over plans, for users' own property tests.
//!
//! Each generated value is the plan of a seed drawn from proptest's runner, so proptest's
//! regression file pins failing cases; shrinking removes workload operations and fault
//! events one at a time, keeping each removal only while the property still fails.
//!
//! ```no_run
//! use faultline::runner::Loaded;
//! use proptest::prelude::*;
//! # fn my_registry() -> faultline::system::Registry { faultline::system::Registry::new() }
//!
//! proptest! {
//!     #[test]
//!     fn reference_holds(plan in faultline::strategy::plans(&my_registry(), "scenarios/business_cards.toml", "reference")) {
//!         let loaded = Loaded::load("scenarios/business_cards.toml", &my_registry()).unwrap();
//!         let (result, _) = loaded.execute(&plan).unwrap();
//!         prop_assert!(result.violations().next().is_none());
//!     }
//! }
//! ```

use std::rc::Rc;

use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use crate::plan::Plan;
use crate::runner::Loaded;
use crate::shrink::{build, units, Unit};
use crate::system::Registry;

/// Generates plans of one scenario variant.
#[derive(Clone)]
pub struct PlanStrategy {
    /// The scenario loaded once, or why it could not be: the error surfaces when the
    /// first value is generated.
    loaded: Result<Rc<Loaded>, String>,
    variant: String,
}

impl std::fmt::Debug for PlanStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scenario = match &self.loaded {
            Ok(l) => l.scenario.file.name.clone(),
            Err(e) => e.clone(),
        };
        f.debug_struct("PlanStrategy")
            .field("scenario", &scenario)
            .field("variant", &self.variant)
            .finish()
    }
}

/// Plans for `variant` of a scenario loaded with [`crate::Harness::load`], so a variant
/// the Harness added (the user's own client code in a built-in scenario) gets plans too.
/// An unknown variant surfaces when the first value is generated.
pub fn plans_of(loaded: Rc<Loaded>, variant: &str) -> PlanStrategy {
    PlanStrategy {
        loaded: Ok(loaded),
        variant: variant.to_string(),
    }
}

/// Plans for `variant` of the scenario at `path` (a file, or a name `registry` ships),
/// run by the system `registry` has for it; loading errors surface when the first value
/// is generated, as a proptest error naming the file.
pub fn plans(registry: &Registry, path: &str, variant: &str) -> PlanStrategy {
    PlanStrategy {
        loaded: Loaded::load(path, registry)
            .map(Rc::new)
            .map_err(|e| e.to_string()),
        variant: variant.to_string(),
    }
}

impl Strategy for PlanStrategy {
    type Tree = PlanTree;
    type Value = Plan;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let loaded = self.loaded.clone()?;
        let seed = proptest::num::u64::ANY.new_tree(runner)?.current();
        let plan = loaded
            .plan(&self.variant, seed)
            .map_err(|e| e.to_string())?;
        Ok(PlanTree::new(plan))
    }
}

/// A plan and the pieces shrinking has removed from it so far.
#[derive(Debug, Clone)]
pub struct PlanTree {
    original: Plan,
    units: Vec<Unit>,
    kept: Vec<bool>,
    next: usize,
    last: Option<usize>,
}

impl PlanTree {
    fn new(original: Plan) -> Self {
        let units = units(&original);
        let kept = vec![true; units.len()];
        Self {
            original,
            units,
            kept,
            next: 0,
            last: None,
        }
    }
}

impl ValueTree for PlanTree {
    type Value = Plan;

    fn current(&self) -> Plan {
        let kept: Vec<Unit> = self
            .units
            .iter()
            .zip(&self.kept)
            .filter(|(_, k)| **k)
            .map(|(u, _)| *u)
            .collect();
        build(&self.original, &kept)
    }

    fn simplify(&mut self) -> bool {
        while self.next < self.units.len() {
            let i = self.next;
            self.next += 1;
            if self.kept[i] {
                self.kept[i] = false;
                self.last = Some(i);
                return true;
            }
        }
        false
    }

    fn complicate(&mut self) -> bool {
        match self.last.take() {
            Some(i) => {
                self.kept[i] = true;
                true
            }
            None => false,
        }
    }
}
