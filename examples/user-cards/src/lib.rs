//! A team's own card-saving code, written against faultline's `Backend` the way it would
//! be written against supabase-js, in two versions: the one that shipped, and the fix.

use faultline::backend::{filter, AuthApi, Backend, DbError, Request, Row};
use faultline::system::ClientCtx;
use faultline_seeds::business_cards::CardsLogic;
use serde_json::{json, Map, Value};

const TABLE: &str = "business_cards";

async fn load<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    card: i64,
) -> Result<Option<Row>, DbError> {
    let resp = ctx
        .call(Request::select(TABLE, filter([("id", json!(card))])))
        .await?;
    Ok(resp.rows().into_iter().next())
}

/// What shipped: creates through the atomic function, saves with a version check, and on
/// a conflict "just retries" with the fresh version and the form the user filled in.
#[derive(Debug, Clone, Copy)]
pub struct ShippedCards;

impl CardsLogic for ShippedCards {
    fn schema(&self) -> &'static str {
        "documented"
    }

    async fn create<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        op: u32,
        form_id: &str,
        name: &str,
    ) {
        let scope = ctx.begin(op, "create", json!({"form_id": form_id, "name": name}));
        let base = name.to_lowercase().replace(' ', "-");
        let args = json!({"user_id": ctx.user, "name": name, "base_slug": base, "form_id": form_id, "fields": {}});
        match ctx
            .call(Request::rpc("create_business_card_atomic", args))
            .await
        {
            Ok(resp) => {
                let v = resp.value();
                scope.ok(json!({"id": v["id"], "slug": v["slug"], "form_id": form_id}))
            }
            Err(e) => scope.error(json!({}), &e),
        }
    }

    async fn edit<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        op: u32,
        card: i64,
        intent: &Map<String, Value>,
        think_ms: u64,
    ) {
        let scope = ctx.begin(op, "edit", json!({"key": card, "intent": intent}));
        let row = match load(ctx, card).await {
            Ok(Some(row)) => row,
            Ok(None) => return scope.fail(json!({"key": card}), &DbError::sql("P0002", "no card")),
            Err(e) => return scope.fail(json!({"key": card}), &e),
        };
        ctx.sleep_ms(think_ms).await;
        // The page posts every field of the form.
        let mut form = Map::new();
        for f in ["title", "email", "phone", "company"] {
            form.insert(
                f.into(),
                intent.get(f).or(row.get(f)).cloned().unwrap_or(Value::Null),
            );
        }
        let mut version = row["version"].clone();
        for _ in 0..3 {
            let args = json!({"id": card, "expected_version": version, "fields": form});
            match ctx
                .call(Request::rpc("update_business_card_optimistic", args))
                .await
                .map(|r| r.value())
            {
                Ok(v) if v["success"] == json!(true) => {
                    return scope
                        .ok(json!({"key": card, "version": v["new_version"], "written": form}))
                }
                Ok(v) => version = v["new_version"].clone(),
                Err(e) => return scope.error(json!({"key": card}), &e),
            }
        }
        scope.fail(
            json!({"key": card}),
            &DbError::Conflict("still conflicting".into()),
        )
    }
}

/// The fix: the create is keyed by the form so a retry cannot create twice, and a save
/// sends only the fields the user changed, re-checking them after a conflict.
#[derive(Debug, Clone, Copy)]
pub struct FixedCards;

impl CardsLogic for FixedCards {
    async fn create<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        op: u32,
        form_id: &str,
        name: &str,
    ) {
        let scope = ctx.begin(op, "create", json!({"form_id": form_id, "name": name}));
        let base = name.to_lowercase().replace(' ', "-");
        let args = json!({"user_id": ctx.user, "name": name, "base_slug": base, "form_id": form_id, "fields": {}});
        let mut unknown = false;
        for attempt in 0..4 {
            match ctx
                .call(Request::rpc("create_card_idempotent", args.clone()))
                .await
            {
                Ok(resp) => {
                    let v = resp.value();
                    return scope.ok(json!({"id": v["id"], "slug": v["slug"], "form_id": form_id}));
                }
                Err(e @ (DbError::Timeout(_) | DbError::Unreachable(_))) if attempt < 3 => {
                    unknown |= e.outcome_unknown();
                    ctx.sleep_ms(200 << attempt).await;
                }
                Err(e) if unknown => return scope.info(json!({}), &e),
                Err(e) => return scope.error(json!({}), &e),
            }
        }
    }

    async fn edit<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        op: u32,
        card: i64,
        intent: &Map<String, Value>,
        think_ms: u64,
    ) {
        let scope = ctx.begin(op, "edit", json!({"key": card, "intent": intent}));
        let original = match load(ctx, card).await {
            Ok(Some(row)) => row,
            Ok(None) => return scope.fail(json!({"key": card}), &DbError::sql("P0002", "no card")),
            Err(e) => return scope.fail(json!({"key": card}), &e),
        };
        ctx.sleep_ms(think_ms).await;
        let mut base = original.clone();
        let mut unknown = false;
        // What the user is told on giving up: a conflict only if the last try met one.
        let mut last = DbError::Conflict("gave up after retries".into());
        for _ in 0..5 {
            let args = json!({"id": card, "expected_version": base["version"], "fields": intent});
            match ctx
                .call(Request::rpc("update_business_card_optimistic", args))
                .await
                .map(|r| r.value())
            {
                Ok(v) if v["success"] == json!(true) => {
                    return scope
                        .ok(json!({"key": card, "version": v["new_version"], "written": intent}))
                }
                Ok(_) => last = DbError::Conflict("gave up after retries".into()),
                Err(e) if e.outcome_unknown() => {
                    unknown = true;
                    last = e;
                }
                // An earlier try whose answer was lost may have saved the change.
                Err(e) if unknown => return scope.info(json!({"key": card}), &e),
                Err(e) => return scope.error(json!({"key": card}), &e),
            }
            let fresh = match load(ctx, card).await {
                Ok(Some(fresh)) => fresh,
                Ok(None) => continue,
                Err(e) => {
                    last = e;
                    continue;
                }
            };
            if intent.iter().all(|(f, v)| fresh.get(f) == Some(v)) {
                return scope
                    .ok(json!({"key": card, "version": fresh["version"], "written": intent}));
            }
            if intent.keys().any(|f| fresh.get(f) != original.get(f)) {
                let conflict = DbError::Conflict("someone else changed this field".into());
                return if unknown {
                    scope.info(json!({"key": card}), &conflict)
                } else {
                    scope.fail(json!({"key": card}), &conflict)
                };
            }
            base = fresh;
        }
        if unknown {
            scope.info(json!({"key": card}), &last)
        } else {
            scope.fail(json!({"key": card}), &last)
        }
    }
}
