//! Debounced saves of one document: at most one save in flight, the last edit always saved.

use crate::sync::{lock, Mutex};

/// A save to perform: the revision and the value to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveJob<T> {
    /// The local revision being saved.
    pub rev: u64,
    /// Its value.
    pub value: T,
}

#[derive(Debug)]
struct State<T> {
    local: Option<T>,
    rev: u64,
    in_flight: Option<u64>,
    saved: u64,
}

/// The save state of one document.
#[derive(Debug)]
pub struct Coalescer<T> {
    state: Mutex<State<T>>,
}

impl<T: Clone> Default for Coalescer<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> Coalescer<T> {
    /// No edits yet.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State {
                local: None,
                rev: 0,
                in_flight: None,
                saved: 0,
            }),
        }
    }

    /// Records a local edit (it wins locally at once); true when no save is in flight, so
    /// the caller should start the save worker.
    pub fn edit(&self, value: T) -> bool {
        let mut st = lock(&self.state);
        st.rev += 1;
        st.local = Some(value);
        st.in_flight.is_none()
    }

    /// The value the user sees.
    pub fn local(&self) -> Option<T> {
        lock(&self.state).local.clone()
    }

    /// Claims the latest unsaved edit, unless a save is in flight or nothing is unsaved.
    pub fn begin(&self) -> Option<SaveJob<T>> {
        let mut st = lock(&self.state);
        if st.in_flight.is_some() || st.rev == st.saved {
            return None;
        }
        st.in_flight = Some(st.rev);
        Some(SaveJob {
            rev: st.rev,
            value: st.local.clone()?,
        })
    }

    /// Ends the save of `rev`. Only `rev` counts as saved: edits made meanwhile stay
    /// unsaved, and the worker's next [`Coalescer::begin`] picks them up.
    pub fn finish(&self, rev: u64, ok: bool) {
        let mut st = lock(&self.state);
        if st.in_flight == Some(rev) {
            st.in_flight = None;
        }
        if ok {
            st.saved = st.saved.max(rev);
        }
    }

    /// True when the latest edit is saved.
    pub fn is_clean(&self) -> bool {
        let st = lock(&self.state);
        st.saved == st.rev
    }

    /// The worker: saves until nothing is unsaved (or a save fails, left for a retry).
    pub fn drain(&self, mut save: impl FnMut(&SaveJob<T>) -> bool) {
        while let Some(job) = self.begin() {
            let ok = save(&job);
            self.finish(job.rev, ok);
            if !ok {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_during_a_save_is_saved_next() {
        let c = Coalescer::new();
        assert!(c.edit(1));
        let job = c.begin().unwrap();
        assert!(!c.edit(2), "a save is in flight");
        assert!(c.begin().is_none(), "one save at a time");
        c.finish(job.rev, true);
        assert!(!c.is_clean());
        let mut saved = Vec::new();
        c.drain(|j| {
            saved.push(j.value);
            true
        });
        assert_eq!(saved, vec![2]);
        assert!(c.is_clean());
    }
}
