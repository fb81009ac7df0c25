//! The fix as seed document 004 describes it: the atomic create function wrapped in
//! `retryDatabaseOperation`, optimistic locking on update, and on a 409 the client
//! fetches the latest version and resends the whole form.

use std::future::Future;

use serde_json::{json, Map, Value};

use super::{create_invoke, edit_invoke, load_card, slugify, whole_form, TABLE};
use faultline::backend::{
    filter, AuthApi, Backend, DbError, Request, DEADLOCK_DETECTED, SERIALIZATION_FAILURE,
    UNIQUE_VIOLATION,
};
use faultline::system::ClientCtx;

const MAX_ATTEMPTS: u32 = 3;
const BASE_DELAY_MS: u64 = 100;

/// The document's retryable errors: unique violations, serialization failures,
/// deadlocks, and transient network errors (a fetch that failed or timed out).
fn retryable(e: &DbError) -> bool {
    match e {
        DbError::Sql { code, .. } => {
            [UNIQUE_VIOLATION, SERIALIZATION_FAILURE, DEADLOCK_DETECTED].contains(&code.as_str())
        }
        DbError::Timeout(_) | DbError::Unreachable(_) => true,
        _ => false,
    }
}

/// `retryDatabaseOperation`: exponential backoff (100, 200, 400 ms); returns the last
/// result, the attempts made, and whether any attempt's outcome was unknown.
async fn retry_database_operation<B, A, T, F, Fut>(
    ctx: &ClientCtx<B, A>,
    mut f: F,
) -> (Result<T, DbError>, u32, bool)
where
    B: Backend,
    A: AuthApi,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, DbError>>,
{
    let mut unknown = false;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let out = f().await;
        match out {
            Err(e) if retryable(&e) && attempt < MAX_ATTEMPTS => {
                unknown |= e.outcome_unknown();
                ctx.sleep_ms(BASE_DELAY_MS << (attempt - 1)).await;
            }
            Err(e) => {
                let unknown = unknown || e.outcome_unknown();
                return (Err(e), attempt, unknown);
            }
            Ok(v) => return (Ok(v), attempt, unknown),
        }
    }
}

/// Calls `create_business_card_atomic` through the retry helper; no idempotency key, so a
/// retried request whose first attempt committed creates a second card.
pub async fn create<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    op: u32,
    form_id: &str,
    name: &str,
) {
    let scope = ctx.begin(op, "create", create_invoke(form_id, name));
    let args = json!({"user_id": ctx.user, "name": name, "base_slug": slugify(name), "form_id": form_id, "fields": {}});
    let (out, attempts, unknown) = retry_database_operation(ctx, || async {
        ctx.call(Request::rpc("create_business_card_atomic", args.clone()))
            .await
            .map(|r| r.value())
    })
    .await;
    match out {
        Ok(v) => scope.ok(
            json!({"id": v["id"], "slug": v["slug"], "form_id": form_id, "attempts": attempts}),
        ),
        Err(e) if unknown => scope.info(json!({"attempts": attempts}), &e),
        Err(e) => scope.error(json!({"attempts": attempts}), &e),
    }
}

/// Optimistic update; on a version conflict, re-read the card for its version and send
/// the same whole form again, up to three times (`updateCardWithRetry`).
pub async fn edit<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    op: u32,
    card: i64,
    intent: &Map<String, Value>,
    think_ms: u64,
) {
    let scope = ctx.begin(op, "edit", edit_invoke(card, intent));
    let by_id = filter([("id", json!(card))]);
    let loaded = match load_card(ctx, card).await {
        Ok(row) => row,
        Err(e) => return scope.fail(json!({"key": card}), &e),
    };
    ctx.sleep_ms(think_ms).await;
    let form = whole_form(&loaded, intent);
    let mut version = loaded.get("version").cloned().unwrap_or(Value::Null);
    let mut unknown = false;
    let (mut attempts, mut conflicts) = (0u32, 0u32);
    for attempt in 0..MAX_ATTEMPTS {
        let args = json!({"id": card, "expected_version": version, "fields": form});
        let (out, sent, unk) = retry_database_operation(ctx, || async {
            ctx.call(Request::rpc(
                "update_business_card_optimistic",
                args.clone(),
            ))
            .await
            .map(|r| r.value())
        })
        .await;
        unknown |= unk;
        attempts += sent;
        let result = match out {
            Ok(v) => v,
            Err(e) if unknown => {
                return scope.info(
                    json!({"key": card, "attempts": attempts, "conflicts": conflicts}),
                    &e,
                )
            }
            Err(e) => {
                return scope.error(
                    json!({"key": card, "attempts": attempts, "conflicts": conflicts}),
                    &e,
                )
            }
        };
        if result["success"] == json!(true) {
            return scope
                .ok(json!({"key": card, "version": result["new_version"], "written": form, "attempts": attempts, "conflicts": conflicts}));
        }
        conflicts += 1;
        if attempt + 1 == MAX_ATTEMPTS {
            break;
        }
        ctx.sleep_ms(BASE_DELAY_MS << attempt).await;
        // "Refresh data and retry": only the version is taken from the fresh read.
        match ctx.call(Request::select(TABLE, by_id.clone())).await {
            Ok(resp) => {
                if let Some(fresh) = resp.rows().into_iter().next() {
                    version = fresh.get("version").cloned().unwrap_or(Value::Null);
                }
            }
            Err(e) if unknown => {
                return scope.info(
                    json!({"key": card, "attempts": attempts, "conflicts": conflicts}),
                    &e,
                )
            }
            Err(e) => {
                return scope.fail(
                    json!({"key": card, "attempts": attempts, "conflicts": conflicts}),
                    &e,
                )
            }
        }
    }
    let conflict = DbError::Conflict("Update failed: version conflict after retries".into());
    if unknown {
        scope.info(
            json!({"key": card, "attempts": attempts, "conflicts": conflicts}),
            &conflict,
        )
    } else {
        scope.fail(
            json!({"key": card, "attempts": attempts, "conflicts": conflicts}),
            &conflict,
        )
    }
}
