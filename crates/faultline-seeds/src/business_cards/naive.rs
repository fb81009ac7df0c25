//! The "before" code of seed document 004: check the slug, then insert; save the whole
//! form with an unconditional update.

use serde_json::{json, Map, Value};

use super::{create_invoke, edit_invoke, load_card, slugify, whole_form, TABLE};
use faultline::backend::{filter, AuthApi, Backend, DbError, Request};
use faultline::system::ClientCtx;

/// Looks for a free slug (the base, then random suffixes), then inserts; another tab can
/// take the slug between the check and the insert.
pub async fn create<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    op: u32,
    form_id: &str,
    name: &str,
) {
    let scope = ctx.begin(op, "create", create_invoke(form_id, name));
    let base = slugify(name);
    let mut slug = base.clone();
    for _ in 0..5 {
        let found = ctx
            .call(Request::select(TABLE, filter([("slug", json!(slug))])))
            .await;
        match found.map(|r| r.rows()) {
            Ok(rows) if rows.is_empty() => break,
            Ok(_) => slug = format!("{base}-{}", ctx.rng.borrow_mut().hex(6)),
            Err(e) => return scope.error(json!({}), &e),
        }
    }
    let mut row = faultline::backend::row([
        ("user_id", json!(ctx.user)),
        ("name", json!(name)),
        ("slug", json!(slug)),
        ("form_id", json!(form_id)),
    ]);
    for f in super::FIELDS {
        row.insert(f.into(), Value::Null);
    }
    match ctx.call(Request::insert(TABLE, row)).await {
        Ok(resp) => {
            let row = resp.rows().into_iter().next().unwrap_or_default();
            scope.ok(json!({"id": row.get("id"), "slug": slug, "form_id": form_id}))
        }
        Err(e) => scope.error(json!({}), &e),
    }
}

/// Loads the card, lets the user type, then writes every field of the form back with no
/// version check: last write wins, field by field.
pub async fn edit<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    op: u32,
    card: i64,
    intent: &Map<String, Value>,
    think_ms: u64,
) {
    let scope = ctx.begin(op, "edit", edit_invoke(card, intent));
    let loaded = match load_card(ctx, card).await {
        Ok(row) => row,
        Err(e) => return scope.fail(json!({"key": card}), &e),
    };
    ctx.sleep_ms(think_ms).await;
    let form = whole_form(&loaded, intent);
    match ctx
        .call(Request::update(
            TABLE,
            filter([("id", json!(card))]),
            form.clone(),
        ))
        .await
    {
        Ok(resp) => match resp.rows().into_iter().next() {
            Some(row) => {
                scope.ok(json!({"key": card, "version": row.get("version"), "written": form}))
            }
            None => scope.fail(
                json!({"key": card}),
                &DbError::sql("P0002", "card not found"),
            ),
        },
        Err(e) => scope.error(json!({"key": card}), &e),
    }
}
