//! The durable outbox for async code: [`faultline_sync::Outbox`] with a wake-up for its
//! sync worker and sends that stay safe when the worker is cancelled.

use faultline_sync::sync::Arc;
use std::future::Future;

use faultline_sync::{DurableStore, Entry, Outbox};
use tokio::sync::Notify;

/// What one [`AsyncOutbox::drain`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Drained {
    /// Entries the server acknowledged, now gone from the queue and the store.
    pub delivered: usize,
    /// The entry whose send failed; it stays at the head to be retried with its key.
    pub failed: Option<Entry>,
}

/// One client's outbox and the signal its sync worker sleeps on.
#[derive(Debug)]
pub struct AsyncOutbox<S> {
    core: Outbox<S>,
    work: Notify,
}

impl<S: DurableStore> AsyncOutbox<S> {
    /// Opens the outbox of `client` over `store`, recovering what a previous run left.
    pub fn open(store: Arc<S>, client: &str) -> Self {
        Self {
            core: Outbox::open(store, client),
            work: Notify::new(),
        }
    }

    /// Queues `payload`. It is durable when this returns, so the caller may show the user
    /// "queued"; the worker is woken to send it.
    pub fn enqueue(&self, payload: &str) -> Entry {
        let entry = self.core.enqueue(payload);
        self.work.notify_one();
        entry
    }

    /// What the user should see as pending, oldest first.
    pub fn pending(&self) -> Vec<Entry> {
        self.core.pending()
    }

    /// Wakes the worker without queueing anything: after signing in again or reconnecting,
    /// when entries that failed before may now go through.
    pub fn nudge(&self) {
        self.work.notify_one();
    }

    /// Returns once something is pending or [`AsyncOutbox::nudge`] was called.
    pub async fn wait_for_work(&self) {
        // `notify_one` leaves a permit when nobody waits yet, so an enqueue that lands
        // between the check and the await still ends the wait.
        let woken = self.work.notified();
        if !self.core.pending().is_empty() {
            return;
        }
        woken.await;
    }

    /// Sends pending entries oldest first, one at a time, until the queue is empty or a
    /// send fails. `send` returns true when the server acknowledged the entry (including
    /// "already applied" for a key it has seen). Another drain already sending makes this
    /// one return at once: one worker's order is the user's order.
    pub async fn drain<F, Fut>(&self, mut send: F) -> Drained
    where
        F: FnMut(Entry) -> Fut,
        Fut: Future<Output = bool>,
    {
        let mut drained = Drained::default();
        while let Some(entry) = self.core.claim() {
            let attempt = Attempt {
                outbox: &self.core,
                seq: entry.seq,
                ended: false,
            };
            let delivered = send(entry.clone()).await;
            attempt.end(delivered);
            if !delivered {
                drained.failed = Some(entry);
                break;
            }
            drained.delivered += 1;
        }
        drained
    }
}

/// A claimed send. Dropping it before it ends (the worker was cancelled mid-request)
/// releases the claim as failed: the outcome is unknown, so the entry stays queued and is
/// retried with the same idempotency key, which the server deduplicates.
struct Attempt<'a, S: DurableStore> {
    outbox: &'a Outbox<S>,
    seq: u64,
    ended: bool,
}

impl<S: DurableStore> Attempt<'_, S> {
    fn end(mut self, delivered: bool) {
        self.ended = true;
        self.outbox.finish(self.seq, delivered);
    }
}

impl<S: DurableStore> Drop for Attempt<'_, S> {
    fn drop(&mut self) {
        if !self.ended {
            self.outbox.finish(self.seq, false);
        }
    }
}
