//! The devices' own faults on PostgreSQL (offline periods, crashes, skewed clocks), and
//! the parts of the final state that come from the devices and the audit table.

use std::collections::BTreeMap;

use serde_json::Value;

use super::world::{cut_off, Links};
use crate::backend::Row;
use crate::client::Device;
use crate::plan::Fault;

/// The table a logic's schema logs committed row images into, if it audits any.
const AUDIT: &str = "faultline_audit";

/// Applies a device fault at `now_ms`: the device's switches, and its links through
/// [`cut_off`]; false for any other fault or an unknown host.
pub fn apply(
    fault: &Fault,
    links: &BTreeMap<String, Links>,
    devices: &BTreeMap<String, Device>,
    now_ms: u64,
) -> bool {
    let device = |host: &str| devices.get(host);
    match fault {
        Fault::Offline { host } | Fault::Online { host } => {
            let offline = matches!(fault, Fault::Offline { .. });
            device(host).is_some_and(|d| {
                d.set_online(!offline);
                cut_off(links, host, offline)
            })
        }
        Fault::Crash { host } => device(host).is_some_and(|d| {
            d.crash(now_ms);
            cut_off(links, host, true)
        }),
        Fault::Restart { host } => device(host).is_some_and(|d| {
            d.restart();
            cut_off(links, host, !d.online())
        }),
        Fault::Skew { host, ms } => device(host).is_some_and(|d| {
            d.set_skew(*ms);
            true
        }),
        _ => false,
    }
}

/// The liveness phase: every device is on and online (the links are restored by the caller).
pub fn heal(devices: &BTreeMap<String, Device>) {
    for d in devices.values() {
        d.set_online(true);
        d.restart();
    }
}

/// Moves the audit table out of `tables`: the images of each audited table, in the order
/// the audit logged them.
pub fn take_audit(
    tables: &mut BTreeMap<String, Vec<Row>>,
    audited: &[String],
) -> BTreeMap<String, Vec<Row>> {
    let mut out: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for entry in tables.remove(AUDIT).unwrap_or_default() {
        let table = entry.get("tbl").and_then(Value::as_str).unwrap_or_default();
        if let (true, Some(Value::Object(image))) =
            (audited.iter().any(|a| a == table), entry.get("image"))
        {
            out.entry(table.to_string())
                .or_default()
                .push(image.clone());
        }
    }
    out
}
