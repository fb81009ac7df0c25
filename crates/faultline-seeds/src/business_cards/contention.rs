//! The optimistic-locking workload of `business_cards` under growing contention, for the
//! backoff-policy sweep: every client wants to save the same card once, with a version
//! check, and retries on conflict after its policy's delay until it succeeds.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{server, TABLE};
use faultline::backend::{filter, AuthApi, Backend, DbError, Request};
use faultline::check::{FinalState, Verdict};
use faultline::client::retry::{Backoff, RetryPolicy};
use faultline::endpoint::{AnyAuth, AnyBackend};
use faultline::error::Result;
use faultline::history::History;
use faultline::plan::{ClientScript, PlannedOp, Workload};
use faultline::rng::SimRng;
use faultline::store::{Store, TableDef};
use faultline::system::{ClientCtx, ClientFuture, ScenarioLogic};

/// Attempts after which a client gives up, so "no backoff" at high contention still ends.
pub const GIVE_UP_AFTER: u32 = 500;

/// The contention workload with `clients` clients; variants are backoff policy names.
#[derive(Debug, Clone)]
pub struct Contention {
    /// Contending clients.
    pub clients: u64,
    /// Base delay of every policy.
    pub base_ms: u64,
    /// Largest delay.
    pub cap_ms: u64,
}

const NAMES: [&str; 5] = [
    "none",
    "exponential",
    "full_jitter",
    "equal_jitter",
    "decorrelated_jitter",
];

impl ScenarioLogic for Contention {
    fn name(&self) -> &str {
        "business_cards_contention"
    }

    fn variants(&self) -> Vec<String> {
        faultline::system::names(&NAMES)
    }

    fn invariants(&self) -> Vec<String> {
        faultline::system::names(&[])
    }

    fn workload(
        &self,
        _rng: SimRng,
        _safety_ms: u64,
        knobs: &mut BTreeMap<String, Value>,
    ) -> Result<Workload> {
        knobs.insert("clients".into(), self.clients.into());
        let clients = (1..=self.clients)
            .map(|c| ClientScript {
                name: format!("client-{c}"),
                user: "u1".into(),
                ops: vec![PlannedOp {
                    id: c as u32,
                    at_ms: 0,
                    action: json!({"do": "contend", "card": 1}),
                }],
            })
            .collect();
        let row = json!({"id": 1, "user_id": "u1", "name": "Shared", "slug": "shared", "form_id": "seed-1", "title": "title-0"});
        Ok(Workload {
            setup: json!([row]),
            clients,
        })
    }

    fn install(&self, _variant: &str, store: &mut Store, setup: &Value) -> Result<()> {
        store.create_table(TableDef::new(TABLE).versioned("version").unique(&["slug"]));
        store.register(
            "update_business_card_optimistic",
            server::update_business_card_optimistic,
        );
        store.insert_setup(TABLE, setup)
    }

    fn client(
        &self,
        variant: &str,
        ctx: ClientCtx<AnyBackend, AnyAuth>,
        script: ClientScript,
    ) -> ClientFuture {
        let policy = RetryPolicy {
            backoff: Backoff::named(variant).unwrap_or(Backoff::FullJitter),
            base_ms: self.base_ms,
            cap_ms: self.cap_ms,
            max_attempts: GIVE_UP_AFTER,
        };
        Box::pin(async move {
            for op in script.ops {
                contend(&ctx, op.id, policy).await;
            }
            Ok(())
        })
    }

    fn check(&self, invariant: &str, _history: &History, _state: &FinalState) -> Verdict {
        Verdict::holds(invariant)
    }
}

/// Read the version, try the guarded write, back off on conflict; until it lands.
async fn contend<B: Backend, A: AuthApi>(ctx: &ClientCtx<B, A>, op: u32, policy: RetryPolicy) {
    let scope = ctx.begin(op, "edit", json!({"key": 1, "intent": {"title": ctx.name}}));
    let mut conflicts = 0u32;
    let mut previous = 0u64;
    for attempt in 1..=policy.max_attempts {
        let read = ctx
            .call(Request::select(TABLE, filter([("id", json!(1))])))
            .await;
        let version = match read.map(|r| r.rows().into_iter().next()) {
            Ok(Some(row)) => row.get("version").cloned().unwrap_or(Value::Null),
            Ok(None) => {
                return scope.fail(json!({"key": 1}), &DbError::sql("P0002", "card not found"))
            }
            Err(e) => return scope.error(json!({"key": 1, "attempts": attempt}), &e),
        };
        let args = json!({"id": 1, "expected_version": version, "fields": {"title": ctx.name}});
        match ctx
            .call(Request::rpc("update_business_card_optimistic", args))
            .await
            .map(|r| r.value())
        {
            Ok(v) if v["success"] == json!(true) => {
                return scope.ok(json!({"key": 1, "version": v["new_version"], "written": {"title": ctx.name}, "attempts": attempt, "conflicts": conflicts}));
            }
            Ok(_) => conflicts += 1,
            Err(e) => {
                return scope.error(
                    json!({"key": 1, "attempts": attempt, "conflicts": conflicts}),
                    &e,
                )
            }
        }
        previous = policy.delay_ms(attempt, previous, &mut ctx.rng.borrow_mut());
        ctx.sleep_ms(previous).await;
    }
    let gave_up = DbError::Conflict(format!("gave up after {} attempts", policy.max_attempts));
    scope.fail(
        json!({"key": 1, "attempts": policy.max_attempts, "conflicts": conflicts}),
        &gave_up,
    );
}
