//! The simulated world on turmoil: a `store` host, `replica-N` hosts, an `auth` host and
//! `client-N` hosts, with the nemesis applying the plan's faults between simulation steps.

pub mod client;
pub mod cutoffs;
mod device_faults;
pub mod nemesis;
pub mod net;
pub mod replica_links;
pub mod replication;
pub mod servers;
mod world;

pub use world::{run_plan, RunOutput, RunStats};
