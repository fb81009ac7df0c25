use serde_json::json;

use super::*;
use crate::backend::{filter, row, UNIQUE_VIOLATION};

fn store() -> Store {
    let mut s = Store::new(SimRng::root(1));
    s.create_table(
        TableDef::new("cards")
            .unique(&["slug"])
            .versioned("version"),
    );
    s
}

#[test]
fn insert_assigns_ids_versions_and_lsns() {
    let mut s = store();
    let a = s.insert("cards", row([("slug", json!("a"))])).unwrap();
    let b = s.insert("cards", row([("slug", json!("b"))])).unwrap();
    assert_eq!(
        (a["id"].clone(), a["version"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(b["id"], json!(2));
    assert_eq!(s.lsn(), 2);
    assert_eq!(s.wal_after(1).len(), 1);
}

#[test]
fn unique_violation_is_23505_and_leaves_no_trace() {
    let mut s = store();
    s.insert("cards", row([("slug", json!("a"))])).unwrap();
    let err = s.insert("cards", row([("slug", json!("a"))])).unwrap_err();
    assert_eq!(err.code(), Some(UNIQUE_VIOLATION));
    assert_eq!(s.rows("cards").len(), 1);
    assert_eq!(s.lsn(), 1);
    // NULLs never conflict.
    s.insert("cards", row([("title", json!("x"))])).unwrap();
    s.insert("cards", row([("title", json!("y"))])).unwrap();
}

#[test]
fn update_bumps_version_and_zero_rows_is_not_an_error() {
    let mut s = store();
    s.insert("cards", row([("slug", json!("a"))])).unwrap();
    let out = s
        .update(
            "cards",
            &filter([("id", json!(1))]),
            &row([("title", json!("t"))]),
        )
        .unwrap();
    assert_eq!(out[0]["version"], json!(2));
    let none = s
        .update(
            "cards",
            &filter([("id", json!(9))]),
            &row([("title", json!("t"))]),
        )
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn upsert_inserts_then_updates_on_conflict() {
    let mut s = store();
    let on = vec!["slug".to_string()];
    let first = s
        .upsert("cards", row([("slug", json!("a")), ("t", json!(1))]), &on)
        .unwrap();
    let second = s
        .upsert("cards", row([("slug", json!("a")), ("t", json!(2))]), &on)
        .unwrap();
    assert_eq!(first["id"], second["id"]);
    assert_eq!(second["t"], json!(2));
    assert_eq!(second["version"], json!(2));
    let bad = s.upsert("cards", row([("t", json!(3))]), &["t".to_string()]);
    assert_eq!(bad.unwrap_err().code(), Some("42P10"));
}

#[test]
fn failed_rpc_rolls_back_everything() {
    fn half_then_fail(s: &mut Store, _: &Value) -> Result<Value, DbError> {
        s.insert("cards", row([("slug", json!("half"))]))?;
        s.insert("cards", row([("slug", json!("a"))]))?;
        Ok(Value::Null)
    }
    let mut s = store();
    s.insert("cards", row([("slug", json!("a"))])).unwrap();
    s.register("f", half_then_fail);
    assert!(s.rpc("f", &Value::Null).is_err());
    assert_eq!(s.rows("cards").len(), 1);
    assert_eq!(s.lsn(), 1);
    assert_eq!(
        s.rpc("nope", &Value::Null).unwrap_err().code(),
        Some(UNDEFINED_OBJECT)
    );
}
