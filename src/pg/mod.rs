//! Running scenario logic against a real PostgreSQL: the same clients, plans, histories
//! and checkers as the simulated world, with the store replaced by a schema created for
//! the run (loaded from `sql/`) and the simulated network replaced by an in-process fault
//! proxy per client.
//!
//! What maps, and how:
//!
//! | plan fault | on PostgreSQL |
//! |---|---|
//! | `partition` client-store | the client's proxy blackholes both directions |
//! | `partition_oneway` | the proxy drops requests (from the client) or answers (from the server) |
//! | `hold` / `slow` | the proxy holds bytes until released / adds latency per chunk |
//! | client-auth faults | the in-process auth link drops, holds or slows calls |
//! | `revoke_sessions` | the auth service revokes the user's sessions |
//! | store-replica faults, replica lag | not mapped (recorded as `unmapped`) |
//!
//! Reads that a logic routes through the load balancer go to the primary or to the
//! streaming replica in `FAULTLINE_REPLICA_URL`, which applies the log late.
//!
//! A request that got no answer is an unknown outcome (`info`) exactly as in the
//! simulator; the server's `statement_timeout` is the client's timeout, so nothing runs on
//! long after the client gave up.

pub mod backend;
#[cfg(feature = "testcontainers")]
mod container;
mod devices;
pub mod files;
pub mod functions;
pub mod proxy;
pub mod schema;
pub mod sql;
mod statements;
pub mod target;
pub mod testing;
mod watchdog;
pub mod world;

pub use backend::{LocalAuth, PgBackend};
pub use target::PgTarget;
pub use world::run_plan_pg;
