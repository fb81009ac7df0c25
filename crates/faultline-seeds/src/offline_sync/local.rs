//! A device's own copy of the runs, kept in IndexedDB: every change is a durable write.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{initial_runs, RUNS};
use faultline::backend::{filter, AuthApi, Backend, Request};
use faultline::client::Device;
use faultline::system::{ClientCtx, OpScope};

/// Where the runs live on the device.
pub const KEY: &str = "runs";

/// A device's runs by id, each with the fields and the variant's sync bookkeeping.
#[derive(Debug, Default)]
pub struct Local {
    runs: RefCell<BTreeMap<String, Map<String, Value>>>,
}

impl Local {
    /// What the device holds after booting: its stored runs, or on first boot the runs
    /// it synced when the app was installed.
    pub fn boot(device: &Device, records: u64) -> Self {
        let stored = device.disk().read(KEY).cloned();
        let runs = match stored {
            Some(Value::Object(m)) => m
                .into_iter()
                .map(|(k, v)| (k, v.as_object().cloned().unwrap_or_default()))
                .collect(),
            _ => initial_runs(records)
                .into_iter()
                .filter_map(|r| {
                    let id = r["id"].as_str()?.to_string();
                    Some((id, r.as_object().cloned()?))
                })
                .collect(),
        };
        let local = Self {
            runs: RefCell::new(runs),
        };
        local.persist(device);
        local
    }

    /// A copy of run `id`.
    pub fn get(&self, id: &str) -> Option<Map<String, Value>> {
        self.runs.borrow().get(id).cloned()
    }

    /// Changes run `id` with `change` and writes it durably.
    pub fn update(&self, device: &Device, id: &str, change: impl FnOnce(&mut Map<String, Value>)) {
        {
            let mut runs = self.runs.borrow_mut();
            let run = runs.entry(id.to_string()).or_insert_with(|| {
                let mut m = Map::new();
                m.insert("id".into(), Value::String(id.into()));
                m
            });
            change(run);
        }
        self.persist(device);
    }

    fn persist(&self, device: &Device) {
        let snapshot: Map<String, Value> = self
            .runs
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), Value::Object(v.clone())))
            .collect();
        device.write(KEY, Value::Object(snapshot));
    }
}

/// The user's edit on the device: starts the `edit` operation, writes the field (and, when
/// `stamp` is set, the device's clock as `updated_at`) durably, and returns the operation
/// still open, the value written and the timestamp.
pub fn begin_edit<'c, B: Backend, A: AuthApi>(
    ctx: &'c ClientCtx<B, A>,
    local: &Local,
    op: u32,
    record: &str,
    field: &str,
    stamp: bool,
) -> (OpScope<'c>, String, u64) {
    let value = format!("e{op}");
    let scope = ctx.begin(
        op,
        "edit",
        json!({"record": record, "field": field, "value": value}),
    );
    let at = ctx.device_clock_ms();
    local.update(&ctx.device, record, |run| {
        run.insert(field.into(), json!(value));
        if stamp {
            run.insert("updated_at".into(), json!(at));
        }
    });
    (scope, value, at)
}

/// Every run of the user on the server, each with its id; `None` when the read failed
/// (the next sync tries again).
pub async fn fetch_runs<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
) -> Option<Vec<(String, Map<String, Value>)>> {
    let rows = ctx
        .call(Request::select(
            RUNS,
            filter([("user_id", json!(ctx.user))]),
        ))
        .await
        .ok()?
        .rows();
    Some(
        rows.into_iter()
            .filter_map(|r| Some((r.get("id")?.as_str()?.to_string(), r)))
            .collect(),
    )
}
