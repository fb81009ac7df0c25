//! Debounced saves for async code: [`faultline_sync::Coalescer`] plus a quiet period, so a
//! burst of edits becomes one save of the last of them.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use faultline_sync::{Coalescer, SaveJob};
use tokio::time::Instant;

/// The save state of one document (keep one per document: the one-save-in-flight rule is
/// per coalescer).
#[derive(Debug)]
pub struct AsyncCoalescer<T> {
    core: Coalescer<T>,
    // tokio's clock, so the simulator's paused time decides when a burst has ended.
    last_edit: Mutex<Option<Instant>>,
}

impl<T: Clone> Default for AsyncCoalescer<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> AsyncCoalescer<T> {
    /// No edits yet.
    pub fn new() -> Self {
        Self {
            core: Coalescer::new(),
            last_edit: Mutex::new(None),
        }
    }

    /// Records a local edit, which the user sees at once. True when no save is in flight,
    /// so the caller should run [`AsyncCoalescer::flush`]; otherwise the save in flight
    /// is followed by one of this edit.
    pub fn edit(&self, value: T) -> bool {
        *self.last_edit.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        self.core.edit(value)
    }

    /// The value the user sees: always the latest edit, whatever the saves are doing.
    pub fn local(&self) -> Option<T> {
        self.core.local()
    }

    /// True when the latest edit is saved.
    pub fn is_clean(&self) -> bool {
        self.core.is_clean()
    }

    /// Saves until the latest edit is saved, waiting before each save until no edit has
    /// come for `quiet`, so the edits of a burst are coalesced into its last. Returns
    /// false when a save failed (the edit stays unsaved for the next flush) and true when
    /// the document is clean or another flush is already saving it.
    pub async fn flush<F, Fut>(&self, quiet: Duration, mut save: F) -> bool
    where
        F: FnMut(SaveJob<T>) -> Fut,
        Fut: Future<Output = bool>,
    {
        loop {
            self.settle(quiet).await;
            let Some(job) = self.core.begin() else {
                return true;
            };
            let attempt = Attempt {
                core: &self.core,
                rev: job.rev,
                ended: false,
            };
            let ok = save(job).await;
            attempt.end(ok);
            if !ok {
                return false;
            }
        }
    }

    async fn settle(&self, quiet: Duration) {
        loop {
            let last = *self.last_edit.lock().unwrap_or_else(|p| p.into_inner());
            match last.map(|t| t + quiet) {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => return,
            }
        }
    }
}

/// A save in flight. Dropped before it ends (the flush was cancelled), it counts as failed:
/// the edit stays unsaved and the next flush saves it, instead of the document being
/// stuck with a save in flight that will never finish.
struct Attempt<'a, T: Clone> {
    core: &'a Coalescer<T>,
    rev: u64,
    ended: bool,
}

impl<T: Clone> Attempt<'_, T> {
    fn end(mut self, ok: bool) {
        self.ended = true;
        self.core.finish(self.rev, ok);
    }
}

impl<T: Clone> Drop for Attempt<'_, T> {
    fn drop(&mut self) {
        if !self.ended {
            self.core.finish(self.rev, false);
        }
    }
}
