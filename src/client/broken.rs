//! A deliberately broken twin of the outbox worker, compiled only for tests, so the model
//! check in `tests/loom_client.rs` is known to catch what it exists for. (The twins of the
//! state machines themselves live in `faultline_sync::broken`.)

use faultline_sync::sync::{lock, Mutex};
use faultline_sync::{DurableStore, Entry, Outbox};

/// An outbox worker with "limited retries" (seed 001's `maxRetries`): after `max_retries`
/// failed sends an entry is dropped, although the user was told it was queued.
pub struct GiveUpOutbox<S> {
    /// The real outbox underneath.
    pub outbox: Outbox<S>,
    max_retries: u32,
    failures: Mutex<u32>,
}

impl<S: DurableStore> GiveUpOutbox<S> {
    /// Wraps `outbox`, giving up on an entry after `max_retries` failures.
    pub fn new(outbox: Outbox<S>, max_retries: u32) -> Self {
        Self {
            outbox,
            max_retries,
            failures: Mutex::new(0),
        }
    }

    /// Sends the head entry once; a failure past the limit forgets the entry.
    pub fn send_one(&self, send: impl FnOnce(&Entry) -> bool) -> Option<bool> {
        let entry = self.outbox.claim()?;
        let ok = send(&entry);
        let mut failures = lock(&self.failures);
        if ok {
            *failures = 0;
            self.outbox.finish(entry.seq, true);
        } else if *failures >= self.max_retries {
            *failures = 0;
            // "Done" as far as the queue knows: the entry leaves the store unsent.
            self.outbox.finish(entry.seq, true);
        } else {
            *failures += 1;
            self.outbox.finish(entry.seq, false);
        }
        Some(ok)
    }
}
