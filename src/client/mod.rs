//! Client-side primitives the reference logic relies on.

pub mod retry;
pub mod session;

pub use faultline_sync::{Coalescer, DurableStore, MemoryStore, Outbox, SingleFlight};
