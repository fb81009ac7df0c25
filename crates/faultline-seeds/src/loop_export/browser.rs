//! What the tabs of one browser share: its storage (the session, loops kept locally, the
//! reference's outbox) and the signals between tabs and the outbox worker.

use faultline::client::sync::Arc;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use serde_json::Value;
use tokio::sync::Notify;

use faultline::backend::DbError;
use faultline::client::{MemoryStore, Outbox};
use faultline::store::auth::Session;

/// One browser's shared state.
#[derive(Debug)]
pub struct Browser {
    /// The session as `localStorage` holds it; tabs copy it when they open.
    pub session: RefCell<Option<Session>>,
    /// Loops the "before" code fell back to keeping in `chrome.storage`, which nothing
    /// ever syncs.
    pub kept_locally: RefCell<Vec<Value>>,
    /// The reference's durable outbox: a save is queued here before anything is sent.
    pub outbox: Outbox<MemoryStore>,
    /// Row ids of delivered outbox entries, by sequence number.
    pub delivered: RefCell<BTreeMap<u64, Value>>,
    /// The last error the outbox worker got, shown with a queued save.
    pub last_sync_error: RefCell<Option<DbError>>,
    /// Wakes tabs waiting for their entry to be delivered.
    pub synced: Notify,
    /// Wakes the outbox worker when something was queued or a tab closed.
    pub work: Notify,
    open_tabs: Cell<usize>,
}

impl Browser {
    /// A browser called `name` with `tabs` open tabs and empty storage.
    pub fn new(name: &str, tabs: usize) -> Self {
        Self {
            session: RefCell::new(None),
            kept_locally: RefCell::new(Vec::new()),
            outbox: Outbox::open(Arc::new(MemoryStore::new()), name),
            delivered: RefCell::new(BTreeMap::new()),
            last_sync_error: RefCell::new(None),
            synced: Notify::new(),
            work: Notify::new(),
            open_tabs: Cell::new(tabs),
        }
    }

    /// A tab finished its script.
    pub fn tab_closed(&self) {
        self.open_tabs.set(self.open_tabs.get().saturating_sub(1));
        self.work.notify_one();
    }

    /// True while some tab may still queue a save.
    pub fn tabs_open(&self) -> bool {
        self.open_tabs.get() > 0
    }
}
