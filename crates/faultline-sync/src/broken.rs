//! Deliberately broken twins of the primitives, compiled only for tests, so the loom
//! checks are known to catch the bugs they exist for.

use crate::outbox::{DurableStore, Entry};
use crate::refresher::{RefreshError, Token};
use crate::sync::{lock, Arc, Mutex};

/// Acknowledges before persisting: the queue lives in memory and is written to storage
/// later (on an interval, or at unload), as in seed document 001's first fix.
pub struct LazyOutbox<S> {
    store: Arc<S>,
    queue: Mutex<Vec<Entry>>,
}

impl<S: DurableStore> LazyOutbox<S> {
    /// An empty outbox over `store`.
    pub fn new(store: Arc<S>) -> Self {
        Self {
            store,
            queue: Mutex::new(Vec::new()),
        }
    }

    /// Queues in memory only and acknowledges.
    pub fn enqueue(&self, payload: &str) -> Entry {
        let mut q = lock(&self.queue);
        let seq = q.len() as u64 + 1;
        let e = Entry {
            seq,
            key: format!("lazy-{seq}"),
            payload: payload.to_string(),
        };
        q.push(e.clone());
        e
    }

    /// Writes the memory queue to storage, later.
    pub fn flush(&self) {
        for e in lock(&self.queue).drain(..) {
            self.store.append(&e);
        }
    }
}

/// Refreshes whenever the caller's token is expired, whoever else is refreshing.
pub struct EveryCallerRefreshes {
    token: Mutex<Option<Token>>,
}

impl EveryCallerRefreshes {
    /// Starts with `token`.
    pub fn new(token: Option<Token>) -> Self {
        Self {
            token: Mutex::new(token),
        }
    }

    /// Like `SingleFlight::get`, without the single flight.
    pub fn get(
        &self,
        now: u64,
        refresh: impl FnOnce() -> Result<Token, RefreshError>,
    ) -> Result<Token, RefreshError> {
        if let Some(t) = lock(&self.token).as_ref().filter(|t| t.expires_at > now) {
            return Ok(t.clone());
        }
        let t = refresh()?;
        *lock(&self.token) = Some(t.clone());
        Ok(t)
    }
}

/// Marks the document clean when a save finishes, even if an edit arrived meanwhile.
pub struct DirtyFlagCoalescer<T> {
    state: Mutex<(Option<T>, bool, bool)>,
}

impl<T: Clone> DirtyFlagCoalescer<T> {
    /// No edits yet.
    pub fn new() -> Self {
        Self {
            state: Mutex::new((None, false, false)),
        }
    }

    /// Records an edit; true when no save is in flight.
    pub fn edit(&self, value: T) -> bool {
        let mut st = lock(&self.state);
        st.0 = Some(value);
        st.1 = true;
        !st.2
    }

    /// The value the user sees.
    pub fn local(&self) -> Option<T> {
        lock(&self.state).0.clone()
    }

    /// Saves while dirty, clearing the flag after each save whatever happened meanwhile.
    pub fn drain(&self, mut save: impl FnMut(&T) -> bool) {
        loop {
            let value = {
                let mut st = lock(&self.state);
                if st.2 || !st.1 {
                    return;
                }
                st.2 = true;
                st.0.clone()
            };
            let Some(value) = value else { return };
            save(&value);
            let mut st = lock(&self.state);
            st.2 = false;
            st.1 = false;
        }
    }
}

impl<T: Clone> Default for DirtyFlagCoalescer<T> {
    fn default() -> Self {
        Self::new()
    }
}
