//! The simulated twins of the business-cards server functions (the PL/pgSQL functions of
//! the seed document's migration), run atomically by the store.

use serde_json::{json, Value};

use super::{FIELDS, TABLE};
use faultline::backend::{filter, DbError, Row, RAISE_EXCEPTION};
use faultline::store::Store;

/// How many random suffixes `generate_unique_slug` tries before giving up.
const SLUG_ATTEMPTS: usize = 10;

fn arg<'a>(args: &'a Value, name: &str) -> Result<&'a Value, DbError> {
    args.get(name)
        .ok_or_else(|| DbError::sql("42883", format!("missing argument {name}")))
}

fn slug_taken(store: &Store, slug: &str) -> Result<bool, DbError> {
    Ok(!store
        .select(TABLE, &filter([("slug", json!(slug))]))?
        .is_empty())
}

/// Picks the base slug if free, else the base with a random six-character suffix; the
/// check and the insert that follows run in one transaction, so no one can take the slug
/// in between.
pub fn generate_unique_slug(store: &mut Store, base: &str) -> Result<String, DbError> {
    if !slug_taken(store, base)? {
        return Ok(base.to_string());
    }
    for _ in 0..SLUG_ATTEMPTS {
        let candidate = format!("{base}-{}", store.rng.hex(6));
        if !slug_taken(store, &candidate)? {
            return Ok(candidate);
        }
    }
    Err(DbError::sql(
        RAISE_EXCEPTION,
        "could not generate a unique slug",
    ))
}

fn insert_card(store: &mut Store, args: &Value) -> Result<Value, DbError> {
    let base = arg(args, "base_slug")?
        .as_str()
        .unwrap_or("card")
        .to_string();
    let slug = generate_unique_slug(store, &base)?;
    let mut row = Row::new();
    for col in ["user_id", "name", "form_id"] {
        row.insert(col.into(), arg(args, col)?.clone());
    }
    row.insert("slug".into(), json!(slug));
    for f in FIELDS {
        row.insert(
            f.into(),
            args["fields"].get(f).cloned().unwrap_or(Value::Null),
        );
    }
    let row = store.insert(TABLE, row)?;
    Ok(card_answer(&row, false))
}

/// What the create functions answer; a column the row lacks is null (rows written by
/// plain inserts need not have every column).
fn card_answer(row: &Row, existing: bool) -> Value {
    let col = |c: &str| row.get(c).cloned().unwrap_or(Value::Null);
    json!({"id": col("id"), "slug": col("slug"), "name": col("name"), "existing": existing})
}

/// `create_business_card_atomic(user_id, name, base_slug, form_id, fields)`: slug
/// generation and insert in one transaction.
pub fn create_business_card_atomic(store: &mut Store, args: &Value) -> Result<Value, DbError> {
    insert_card(store, args)
}

/// `create_card_idempotent(...)`: like the atomic create, but a second call with the same
/// `form_id` returns the card the first one made.
pub fn create_card_idempotent(store: &mut Store, args: &Value) -> Result<Value, DbError> {
    let key = arg(args, "form_id")?.clone();
    if let Some(row) = store
        .select(TABLE, &filter([("form_id", key)]))?
        .into_iter()
        .next()
    {
        return Ok(card_answer(&row, true));
    }
    insert_card(store, args)
}

/// `update_business_card_optimistic(id, expected_version, fields)`: applies `fields` only
/// if the card is still at `expected_version`; answers `success` and the version now
/// current, as the seed document's function does.
pub fn update_business_card_optimistic(store: &mut Store, args: &Value) -> Result<Value, DbError> {
    let id = arg(args, "id")?.clone();
    let expected = arg(args, "expected_version")?.as_i64();
    let Some(current) = store
        .select(TABLE, &filter([("id", id.clone())]))?
        .into_iter()
        .next()
    else {
        return Ok(json!({"success": false, "new_version": null, "message": "card not found"}));
    };
    let version = current.get("version").and_then(Value::as_i64);
    if version != expected {
        return Ok(
            json!({"success": false, "new_version": version, "message": "version conflict"}),
        );
    }
    let patch: Row = arg(args, "fields")?
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let rows = store.update(TABLE, &filter([("id", id)]), &patch)?;
    let new_version = rows
        .first()
        .and_then(|r| r.get("version"))
        .cloned()
        .unwrap_or(Value::Null);
    Ok(json!({"success": true, "new_version": new_version, "message": "updated"}))
}
