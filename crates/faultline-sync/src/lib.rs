//! Client-side concurrency primitives that correct sync logic relies on, as small
//! synchronous state machines that are safe under real threads and proven with loom.
//!
//! - [`Outbox`]: an operation is persisted before it is acknowledged; a sync worker drains
//!   in order, one at a time, and every attempt of one entry carries the same idempotency
//!   key, so nothing acknowledged is lost across a crash and nothing applies twice.
//! - [`SingleFlight`]: any number of callers needing a fresh session token share one
//!   refresh; nobody is handed an expired token; a failed refresh reaches every waiter.
//! - [`Coalescer`]: debounced saves of one document: the latest local edit wins, at most
//!   one save is in flight, and the last edit is always saved.
//!
//! The crate depends on nothing but `std`, and on loom under `--cfg loom`, so its model
//! checks compile without touching tokio (whose own `cfg(loom)` code would not build):
//! `RUSTFLAGS="--cfg loom" cargo test -p faultline-sync --release --test loom`.
//! The async wrappers the simulator uses live in `faultline::client`.

mod coalescer;
mod outbox;
mod refresher;
pub mod sync;

#[cfg(any(test, loom))]
pub mod broken;

pub use coalescer::{Coalescer, SaveJob};
pub use outbox::{DurableStore, Entry, MemoryStore, Outbox};
pub use refresher::{Claim, RefreshError, SingleFlight, Token};
