//! Running scenario logic against a real PostgreSQL: the same clients, plans, histories
//! and checkers as the simulated world, with the store replaced by a schema created for
//! the run and the simulated network replaced by an in-process fault proxy.

pub mod backend;
pub mod files;
pub mod proxy;
pub mod sql;

pub use backend::{LocalAuth, PgBackend};
