//! Streaming replication in the simulated world.
//!
//! Replicas are turmoil hosts that serve reads from their own copy of the tables, but the
//! log does not travel over simulated TCP: the world's driver loop hands each replica the
//! primary's log between simulation steps (see [`advance`]). That is the simplest design
//! that stays deterministic and still has every property the scenarios need: a record
//! reaches a replica `lag` after it committed, a lag spike or a cut from the primary (a
//! [`Fault::Partition`] between `store` and the replica, kept in the driver's active
//! faults) holds it back, and the backlog applies at once when the fault ends. Resolution is
//! one simulation tick.

use std::cell::RefCell;
use std::rc::Rc;

use crate::plan::{Fault, ReplicaParams};
use crate::store::{Replica, Store};

/// A replica host's shared state: its parameters and its copy of the tables.
#[derive(Debug, Clone)]
pub struct ReplicaHost {
    /// Name and usual lag.
    pub params: ReplicaParams,
    /// The copy its host serves reads from.
    pub state: Rc<RefCell<Replica>>,
}

impl ReplicaHost {
    /// A replica starting from a base backup of `primary`.
    pub fn new(params: ReplicaParams, primary: &Store) -> Self {
        Self {
            params,
            state: Rc::new(RefCell::new(Replica::base_backup(primary))),
        }
    }

    /// The apply delay in force: the largest active spike, else the usual lag.
    fn lag_ms(&self, active: &[Fault]) -> u64 {
        active
            .iter()
            .filter_map(|f| match f {
                Fault::ReplicaLag { replica, ms } if *replica == self.params.name => Some(*ms),
                _ => None,
            })
            .max()
            .map_or(self.params.lag_ms, |ms| ms.max(self.params.lag_ms))
    }

    /// False while a partition separates the replica from the primary.
    fn streaming(&self, active: &[Fault]) -> bool {
        let me = self.params.name.as_str();
        !active.iter().any(|f| match f {
            Fault::Partition { a, b } => (a == "store" && b == me) || (a == me && b == "store"),
            _ => false,
        })
    }
}

/// Lets every replica apply what its lag allows at `now_ms`, given the faults in force.
pub fn advance(replicas: &[ReplicaHost], primary: &Store, now_ms: u64, active: &[Fault]) {
    for r in replicas {
        let lag = r.lag_ms(active);
        let streaming = r.streaming(active);
        r.state
            .borrow_mut()
            .catch_up(primary, now_ms, lag, streaming);
    }
}
