//! faultline: a deterministic concurrency test harness and fault-injection simulator for
//! the data-sync and locking logic apps write against Postgres-backed platforms.
//!
//! ```text
//! scenario.toml --(seed)--> plan --> world (turmoil: store, replicas, auth, clients running a variant)
//!                                       |  nemesis applies fault events at their times
//!                                       v
//!                         history + final state (read after the liveness phase)
//!                                       v
//!                          checkers --> verdicts + stats --> exit code, report, replay line
//! ```
//!
//! One seed decides everything: the plan (workload, faults, drawn knobs), the simulated
//! network, server-side randomness. The same seed gives the same history, byte for byte.
//! A scenario may declare named fault profiles (`[profiles.NAME]`); a seed then runs under
//! the one a user names, or draws one from itself, and the plan records which.
//!
//! ```
//! use faultline::{runner, scenario::Scenario};
//! let scenario = Scenario::parse(
//!     "inline.toml".as_ref(),
//!     r#"
//!     name = "cards"
//!     description = "tabs editing business cards"
//!     logic = "business_cards"
//!     [expect.naive]
//!     violates = ["unique_slugs", "no_lost_updates", "no_duplicate_create"]
//!     [expect.documented]
//!     violates = ["no_lost_updates", "no_duplicate_create"]
//!     "#
//!     .to_string(),
//! )
//! .unwrap();
//! let loaded = runner::Loaded::new(scenario).unwrap();
//! let result = loaded.run_seed("reference", 7).unwrap();
//! assert!(result.verdicts.iter().all(|v| v.is_ok()));
//! ```

pub mod backend;
pub mod check;
pub mod cli;
pub mod client;
pub mod determinism;
pub mod endpoint;
pub mod error;
pub mod harness;
pub mod history;
pub mod linear;
pub mod logic;
pub mod pg;
pub mod plan;
pub mod report;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod shrink;
pub mod sim;
pub mod store;
#[cfg(feature = "proptest")]
pub mod strategy;

pub use error::{Error, Result};
pub use harness::Harness;
