//! Client-side primitives the reference logic relies on.
//!
//! The state machines (durable outbox, single-flight refresher, save coalescer) live in
//! the `faultline-sync` crate, which depends on nothing but `std` so loom can model-check
//! them. The modules here are their async faces for the simulator's hosts: a wake-up for
//! the worker, a simulated clock, and claims that are released when a task is cancelled.

pub mod coalescer;
pub mod device;
pub mod outbox;
pub mod retry;
pub mod session;

pub use coalescer::AsyncCoalescer;
pub use device::{Device, Disk};
pub use faultline_sync::{
    Coalescer, DurableStore, Entry, MemoryStore, Outbox, RefreshError, SaveJob, SingleFlight, Token,
};
pub use outbox::{AsyncOutbox, Drained};
pub use session::AsyncSingleFlight;

/// The `Arc`, `Mutex` and friends the primitives are built on: std's, or loom's under
/// `--cfg loom`. Share a store with an [`Outbox`] through this `Arc`, so the code also
/// compiles when loom stands in.
pub use faultline_sync::sync;

#[cfg(any(test, loom))]
pub mod broken;
