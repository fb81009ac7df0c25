//! The device a client runs on, as the world controls it: power, connectivity, its wall
//! clock and its local storage.
//!
//! Local storage follows a simple durability model, our equivalent of turmoil's
//! `unstable-fs`: a durable write (an IndexedDB transaction committed with strict
//! durability) survives any crash once it returns; a lazy write (localStorage, which
//! browsers write to disk in batches) is visible at once but only reaches the disk
//! `flush_ms` later, and a crash before then loses it.

use std::cell::{Cell, Ref, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use tokio::sync::Notify;

use serde_json::Value;

#[derive(Debug, Clone)]
struct Pending {
    due_ms: u64,
    key: String,
    value: Value,
}

/// A device's local storage.
#[derive(Debug, Clone, Default)]
pub struct Disk {
    durable: BTreeMap<String, Value>,
    pending: Vec<Pending>,
}

impl Disk {
    /// What the software reads: the newest write of `key`, flushed or not.
    pub fn read(&self, key: &str) -> Option<&Value> {
        self.pending
            .iter()
            .rev()
            .find(|p| p.key == key)
            .map(|p| &p.value)
            .or_else(|| self.durable.get(key))
    }

    /// A write that is durable when it returns; it also supersedes unflushed lazy writes
    /// of the same key.
    pub fn write(&mut self, key: &str, value: Value) {
        self.pending.retain(|p| p.key != key);
        self.durable.insert(key.into(), value);
    }

    /// A write that reaches the disk `flush_ms` after `now_ms`.
    pub fn write_lazy(&mut self, key: &str, value: Value, now_ms: u64, flush_ms: u64) {
        self.pending.push(Pending {
            due_ms: now_ms + flush_ms,
            key: key.into(),
            value,
        });
    }

    /// Power loss at `now_ms`: writes already due are on disk, the rest are gone.
    fn crash(&mut self, now_ms: u64) {
        for p in std::mem::take(&mut self.pending) {
            if p.due_ms <= now_ms {
                self.durable.insert(p.key, p.value);
            }
        }
    }

    /// Every key with the value the software would read.
    pub fn view(&self) -> BTreeMap<String, Value> {
        let mut out = self.durable.clone();
        for p in &self.pending {
            out.insert(p.key.clone(), p.value.clone());
        }
        out
    }
}

#[derive(Debug)]
struct State {
    online: Cell<bool>,
    powered: Cell<bool>,
    boots: Cell<u32>,
    skew_ms: Cell<i64>,
    disk: RefCell<Disk>,
    /// Wakes the software waiting on the power switch.
    switched: Notify,
}

/// A handle on one device, shared by the world (which flips its switches) and the
/// software running on it. Clones share the device.
#[derive(Debug, Clone)]
pub struct Device(Rc<State>);

impl Default for Device {
    fn default() -> Self {
        Self(Rc::new(State {
            online: Cell::new(true),
            powered: Cell::new(true),
            boots: Cell::new(1),
            skew_ms: Cell::new(0),
            disk: RefCell::new(Disk::default()),
            switched: Notify::new(),
        }))
    }
}

impl Device {
    /// Whether the device believes it has a network (`navigator.onLine`).
    pub fn online(&self) -> bool {
        self.0.online.get()
    }

    /// Whether the device is running.
    pub fn powered(&self) -> bool {
        self.0.powered.get()
    }

    /// How many times the device has booted, 1 at the start.
    pub fn boots(&self) -> u32 {
        self.0.boots.get()
    }

    /// The device's wall clock at true time `now_ms`: skewed, never below zero.
    pub fn clock_ms(&self, now_ms: u64) -> u64 {
        (now_ms as i64 + self.0.skew_ms.get()).max(0) as u64
    }

    /// Local storage, for reading.
    pub fn disk(&self) -> Ref<'_, Disk> {
        self.0.disk.borrow()
    }

    /// A durable write; nothing is written once the power is off.
    pub fn write(&self, key: &str, value: Value) {
        if self.powered() {
            self.0.disk.borrow_mut().write(key, value);
        }
    }

    /// A lazy write; nothing is written once the power is off.
    pub fn write_lazy(&self, key: &str, value: Value, now_ms: u64, flush_ms: u64) {
        if self.powered() {
            self.0
                .disk
                .borrow_mut()
                .write_lazy(key, value, now_ms, flush_ms);
        }
    }

    /// The world: the network comes or goes.
    pub fn set_online(&self, online: bool) {
        self.0.online.set(online);
    }

    /// The world: sets the clock's offset from true time.
    pub fn set_skew(&self, ms: i64) {
        self.0.skew_ms.set(ms);
    }

    /// The world: power loss at `now_ms`.
    pub fn crash(&self, now_ms: u64) {
        if self.powered() {
            self.0.powered.set(false);
            self.0.disk.borrow_mut().crash(now_ms);
            self.0.switched.notify_waiters();
        }
    }

    /// The world: the device boots again.
    pub fn restart(&self) {
        if !self.powered() {
            self.0.powered.set(true);
            self.0.boots.set(self.0.boots.get() + 1);
            self.0.switched.notify_waiters();
        }
    }

    /// Resolves when the boot that is running now ends in a crash.
    pub async fn crashed(&self) {
        let boot = self.boots();
        loop {
            // Created before the check, so a switch between the check and the wait wakes it.
            let switched = self.0.switched.notified();
            if !self.powered() || self.boots() != boot {
                return;
            }
            switched.await;
        }
    }

    /// Resolves once the device is powered again.
    pub async fn booted(&self) {
        loop {
            let switched = self.0.switched.notified();
            if self.powered() {
                return;
            }
            switched.await;
        }
    }
}

/// What each device's local storage holds, for the devices that stored anything: the
/// devices' part of a run's final state.
pub fn disks_of(devices: &BTreeMap<String, Device>) -> BTreeMap<String, Value> {
    devices
        .iter()
        .filter_map(|(name, d)| {
            let view = d.disk().view();
            (!view.is_empty()).then(|| {
                (
                    name.clone(),
                    serde_json::to_value(view).unwrap_or(Value::Null),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_crash_keeps_durable_and_flushed_writes_and_loses_the_rest() {
        let d = Device::default();
        d.write("a", json!(1));
        d.write_lazy("b", json!(2), 100, 50);
        d.write_lazy("c", json!(3), 120, 50);
        assert_eq!(d.disk().read("c"), Some(&json!(3)));
        d.crash(160);
        assert_eq!(d.disk().read("a"), Some(&json!(1)));
        assert_eq!(d.disk().read("b"), Some(&json!(2)));
        assert_eq!(d.disk().read("c"), None);
        d.write("d", json!(4));
        assert_eq!(d.disk().read("d"), None, "no writes while the power is off");
        d.restart();
        assert_eq!(d.boots(), 2);
    }

    #[test]
    fn a_durable_write_supersedes_pending_lazy_ones() {
        let d = Device::default();
        d.write_lazy("q", json!([1]), 0, 1000);
        d.write("q", json!([]));
        d.crash(10);
        assert_eq!(d.disk().read("q"), Some(&json!([])));
    }

    #[test]
    fn the_clock_is_skewed_and_never_negative() {
        let d = Device::default();
        d.set_skew(-500);
        assert_eq!(d.clock_ms(2000), 1500);
        assert_eq!(d.clock_ms(100), 0);
    }
}
