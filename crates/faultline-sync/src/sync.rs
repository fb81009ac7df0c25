//! The synchronisation types the primitives use: std's normally, loom's under `--cfg loom`,
//! so the same code is what loom explores.

#[cfg(loom)]
pub use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Locks, recovering the data of a poisoned lock: a panicking caller must not wedge every
/// other client of the primitive.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
