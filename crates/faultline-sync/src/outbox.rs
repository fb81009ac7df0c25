//! A durable outbox: persist, then acknowledge; drain in order; retry with the same key.

use std::collections::VecDeque;

use crate::sync::{lock, Arc, Mutex};

/// One queued operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the queue, increasing.
    pub seq: u64,
    /// Idempotency key, fixed at enqueue and kept across retries and crashes.
    pub key: String,
    /// The operation itself, opaque to the outbox.
    pub payload: String,
}

/// Storage that survives a crash of the client (IndexedDB, a file, localStorage).
pub trait DurableStore: Send + Sync {
    /// Stores an entry; it must be durable when this returns.
    fn append(&self, entry: &Entry);
    /// Forgets an entry the server has acknowledged.
    fn remove(&self, seq: u64);
    /// Every stored entry, in any order.
    fn load(&self) -> Vec<Entry>;
    /// The highest sequence number ever appended, removed entries included (0 if none):
    /// a reopened outbox continues after it, so no key is ever handed out twice.
    fn last_seq(&self) -> u64;
}

/// A durable store in memory: it outlives the [`Outbox`] that uses it, which is exactly
/// what a crash test needs (drop the outbox, keep the store, reopen).
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<Vec<Entry>>,
    last: Mutex<u64>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl DurableStore for MemoryStore {
    fn append(&self, entry: &Entry) {
        lock(&self.entries).push(entry.clone());
        let mut last = lock(&self.last);
        *last = (*last).max(entry.seq);
    }

    fn remove(&self, seq: u64) {
        lock(&self.entries).retain(|e| e.seq != seq);
    }

    fn load(&self) -> Vec<Entry> {
        lock(&self.entries).clone()
    }

    fn last_seq(&self) -> u64 {
        *lock(&self.last)
    }
}

#[derive(Debug)]
struct State {
    queue: VecDeque<Entry>,
    next_seq: u64,
    in_flight: Option<u64>,
}

/// The outbox of one client.
#[derive(Debug)]
pub struct Outbox<S> {
    store: Arc<S>,
    client: String,
    state: Mutex<State>,
}

impl<S: DurableStore> Outbox<S> {
    /// Opens the outbox of `client` over `store`, recovering what a previous run left.
    pub fn open(store: Arc<S>, client: &str) -> Self {
        let mut queue: Vec<Entry> = store.load();
        queue.sort_by_key(|e| e.seq);
        // Keys of entries already delivered and removed must not come back either.
        let next_seq = queue.last().map_or(0, |e| e.seq).max(store.last_seq()) + 1;
        Self {
            store,
            client: client.to_string(),
            state: Mutex::new(State {
                queue: queue.into(),
                next_seq,
                in_flight: None,
            }),
        }
    }

    /// Queues an operation. It is durable before this returns, so the acknowledgement the
    /// caller shows the user ("queued") can never be lost by a crash.
    pub fn enqueue(&self, payload: &str) -> Entry {
        let mut st = lock(&self.state);
        let entry = Entry {
            seq: st.next_seq,
            key: format!("{}-{}", self.client, st.next_seq),
            payload: payload.to_string(),
        };
        // Persisting under the lock keeps durable order equal to sequence order.
        self.store.append(&entry);
        st.next_seq += 1;
        st.queue.push_back(entry.clone());
        entry
    }

    /// Claims the oldest entry for sending, unless one is already in flight (one at a
    /// time keeps the server's order equal to the user's).
    pub fn claim(&self) -> Option<Entry> {
        let mut st = lock(&self.state);
        if st.in_flight.is_some() {
            return None;
        }
        let head = st.queue.front().cloned()?;
        st.in_flight = Some(head.seq);
        Some(head)
    }

    /// Ends the attempt on `seq`: delivered entries leave the queue and the store; failed
    /// ones stay at the head to be retried with the same key.
    pub fn finish(&self, seq: u64, delivered: bool) {
        let mut st = lock(&self.state);
        if st.in_flight == Some(seq) {
            st.in_flight = None;
        }
        if delivered && st.queue.front().is_some_and(|e| e.seq == seq) {
            st.queue.pop_front();
            self.store.remove(seq);
        }
    }

    /// What the user should see as pending.
    pub fn pending(&self) -> Vec<Entry> {
        lock(&self.state).queue.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_a_crash_and_keeps_keys() {
        let store = Arc::new(MemoryStore::new());
        let outbox = Outbox::open(store.clone(), "c1");
        let a = outbox.enqueue("a");
        let b = outbox.enqueue("b");
        let first = outbox.claim().unwrap();
        assert_eq!(first, a);
        assert!(outbox.claim().is_none(), "one in flight at a time");
        outbox.finish(a.seq, false);
        assert_eq!(outbox.claim().unwrap().key, a.key, "a retry keeps its key");
        drop(outbox); // crash with `a` in flight
        let reopened = Outbox::open(store, "c1");
        assert_eq!(reopened.pending(), vec![a.clone(), b.clone()]);
        let again = reopened.claim().unwrap();
        assert_eq!(again.key, a.key);
        reopened.finish(again.seq, true);
        assert_eq!(reopened.pending(), vec![b]);
        assert_eq!(reopened.enqueue("c").seq, 3);
    }
}
