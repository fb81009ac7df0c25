//! A durable outbox: an edit and its operation are written to IndexedDB together before
//! the user is told it is saved; every operation carries an id the server applies once,
//! and the version of the field it was based on. A field someone else changed since is
//! a conflict the server refuses and the device shows the user; the server's value stays.

use std::cell::{Cell, RefCell};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::local::{begin_edit, fetch_runs};
use super::mutants::Mutant;
use super::usage_row;
use super::Local;
use faultline::backend::{AuthApi, Backend, Request};
use faultline::system::ClientCtx;

/// Where the outbox lives on the device.
const OUTBOX_KEY: &str = "outbox";

/// Added to an op by the mutant that sends a refused edit again.
const RESEND: u32 = 1_000_000;

/// One pending operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    op: u32,
    /// Set one field of a run (`record`, `field`, `value`), or log usage (`credits`).
    edit: Option<(String, String, String)>,
    credits: u64,
    /// The field's server version the edit was made on.
    base: i64,
}

impl Pending {
    fn id(&self) -> String {
        format!("op-{}", self.op)
    }

    fn touches(&self, record: &str, field: &str) -> bool {
        matches!(&self.edit, Some((r, f, _)) if r == record && f == field)
    }
}

/// The outbox of one boot of the device.
pub struct Outbox {
    items: RefCell<Vec<Pending>>,
    syncing: Cell<bool>,
    /// One of the mutant suite's single bugs ([`Mutant`]); `None` is the reference.
    bug: Option<Mutant>,
}

fn field_version(run: Option<&serde_json::Map<String, Value>>, field: &str) -> i64 {
    run.and_then(|r| r.get("field_versions"))
        .and_then(|v| v.get(field))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

impl Outbox {
    /// Reopens the outbox from IndexedDB.
    pub fn boot<B: Backend, A: AuthApi>(ctx: &ClientCtx<B, A>) -> Self {
        Self::boot_with(ctx, None)
    }

    /// [`Outbox::boot`], with one of the mutant suite's bugs.
    pub fn boot_with<B: Backend, A: AuthApi>(ctx: &ClientCtx<B, A>, bug: Option<Mutant>) -> Self {
        let items = ctx
            .device
            .disk()
            .read(OUTBOX_KEY)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        Self {
            items: RefCell::new(items),
            syncing: Cell::new(false),
            bug,
        }
    }

    fn persist<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>) {
        let v = serde_json::to_value(&*self.items.borrow()).unwrap_or(Value::Null);
        ctx.device.write(OUTBOX_KEY, v);
    }

    /// Writes the edit and its operation durably, then tells the user it is saved.
    pub fn edit<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        record: &str,
        field: &str,
    ) {
        let base = field_version(local.get(record).as_ref(), field);
        let (scope, value, _) = begin_edit(ctx, local, op, record, field, false);
        if self.bug == Some(Mutant::CoalesceByRecord) {
            // Meant to fold repeated edits of one field into the newest.
            self.items
                .borrow_mut()
                .retain(|p| !matches!(&p.edit, Some((r, _, _)) if r == record));
        }
        self.items.borrow_mut().push(Pending {
            op,
            edit: Some((record.into(), field.into(), value.clone())),
            credits: 0,
            base,
        });
        if self.bug != Some(Mutant::OutboxNotPersisted) {
            self.persist(ctx);
        }
        scope.ok(json!({"record": record, "field": field, "value": value}));
    }

    /// Writes the usage operation durably, then shows the images.
    pub fn generate<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, op: u32, credits: u64) {
        let scope = ctx.begin(op, "generate", json!({"credits": credits}));
        self.items.borrow_mut().push(Pending {
            op,
            edit: None,
            credits,
            base: 0,
        });
        if self.bug != Some(Mutant::OutboxNotPersisted) {
            self.persist(ctx);
        }
        scope.ok(json!({"credits": credits}));
    }

    /// Sends pending operations in order, stopping at the first that gets no answer
    /// (it is tried again next time, under the same id), then pulls.
    pub async fn sync<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, local: &Local) {
        if self.syncing.replace(true) {
            return;
        }
        loop {
            let next = if self.bug == Some(Mutant::NewestFirst) {
                self.items.borrow().last().cloned()
            } else {
                self.items.borrow().first().cloned()
            };
            let Some(item) = next else {
                break;
            };
            if !self.send(ctx, local, &item).await {
                break;
            }
        }
        self.pull(ctx, local).await;
        self.syncing.set(false);
    }

    async fn send<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        item: &Pending,
    ) -> bool {
        let op_id = if self.bug == Some(Mutant::IdPerAttempt) {
            format!("{}-{}", item.id(), ctx.now_ms())
        } else {
            item.id()
        };
        let scope = ctx.begin(item.op, "push", json!({"op_id": op_id}));
        let request = match &item.edit {
            Some((record, field, value)) => Request::rpc(
                "apply_op",
                json!({"op_id": op_id, "record": record, "field": field, "value": value, "base_version": item.base}),
            ),
            None => {
                let op_id = if self.bug == Some(Mutant::UsageIdFromContent) {
                    format!("usage-{}-{}", ctx.user, item.credits)
                } else {
                    op_id.clone()
                };
                Request::rpc(
                    "log_usage",
                    json!({"op_id": op_id, "row": usage_row(&ctx.user, item.op, item.credits)}),
                )
            }
        };
        // The outbox as it was before the request, kept only for the mutant that writes it back.
        let before =
            (self.bug == Some(Mutant::StaleOutboxWrite)).then(|| self.items.borrow().clone());
        let answer = match ctx.call(request).await {
            Ok(r) => r.value(),
            Err(e) => {
                scope.error(json!({"op_id": op_id}), &e);
                if self.bug == Some(Mutant::DropOnError) {
                    self.items.borrow_mut().retain(|p| p.op != item.op);
                    self.persist(ctx);
                }
                return false;
            }
        };
        match self.bug {
            Some(Mutant::ClearOnSuccess) => self.items.borrow_mut().clear(),
            Some(Mutant::StaleOutboxWrite) => {
                *self.items.borrow_mut() = before
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| p.op != item.op)
                    .collect()
            }
            _ => self.items.borrow_mut().retain(|p| p.op != item.op),
        }
        if let Some((record, field, value)) = &item.edit {
            let fv = answer
                .get("field_version")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let later = self.items.borrow().iter().any(|p| p.touches(record, field));
            if answer["status"] == json!("applied") && self.bug == Some(Mutant::StaleBase) {
                // Later edits keep the base they were made on.
            } else if answer["status"] == json!("applied") {
                // Later edits of this field on this device were made on top of this one.
                for p in self.items.borrow_mut().iter_mut() {
                    if p.touches(record, field) {
                        p.base = fv;
                    }
                }
            } else if self.bug != Some(Mutant::ConflictNotShown) {
                let kept = answer.get("value").cloned().unwrap_or(Value::Null);
                let c = ctx.begin(
                    item.op,
                    "conflict",
                    json!({"record": record, "field": field}),
                );
                c.ok(json!({"record": record, "field": field, "yours": value, "kept": kept}));
                if self.bug == Some(Mutant::ConflictResend) && item.op < RESEND {
                    // A new id, or the server would answer with the stored refusal.
                    let mut again = item.clone();
                    again.op += RESEND;
                    again.base = fv;
                    self.items.borrow_mut().insert(0, again);
                    self.persist(ctx);
                    scope.ok(answer);
                    return true;
                }
            }
            local.update(&ctx.device, record, |run| {
                if !later {
                    run.insert(
                        field.clone(),
                        answer.get("value").cloned().unwrap_or(Value::Null),
                    );
                }
                let versions = run.entry("field_versions").or_insert_with(|| json!({}));
                versions[field.as_str()] = json!(fv);
            });
        }
        self.persist(ctx);
        scope.ok(answer);
        true
    }

    /// Takes the server's value of every field the outbox holds nothing for.
    async fn pull<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, local: &Local) {
        let Some(rows) = fetch_runs(ctx).await else {
            return;
        };
        for (id, remote) in rows {
            let pending: Vec<String> = super::FIELDS
                .iter()
                .filter(|f| self.items.borrow().iter().any(|p| p.touches(&id, f)))
                .map(|f| f.to_string())
                .collect();
            local.update(&ctx.device, &id, |run| {
                for (k, v) in &remote {
                    if !pending.contains(k) && k != "field_versions" {
                        run.insert(k.clone(), v.clone());
                    }
                }
                let versions = run.entry("field_versions").or_insert_with(|| json!({}));
                for (f, v) in remote
                    .get("field_versions")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if !pending.contains(f) {
                        versions[f.as_str()] = v.clone();
                    }
                }
            });
        }
    }
}
