//! The simulated store against PostgreSQL, through the same conformance helper users call
//! on their own systems: the same generated sequence of requests from one client must give
//! the same answers on both (rows, SQLSTATEs, zero-row updates, upsert results, version
//! bumps, serial ids) and leave the same rows behind.
//!
//! Needs a database (see `faultline::pg::testing`); skipped with one line without one.

use faultline::backend::{Request, Row};
use faultline::conformance::Conformance;
use faultline::pg::testing::database_for;
use proptest::prelude::*;
use serde_json::{json, Value};

const TABLE: &str = "business_cards";

fn text(pool: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => proptest::sample::select(pool).prop_map(|s| json!(s)),
        1 => Just(Value::Null),
    ]
}

fn id() -> impl Strategy<Value = Value> {
    (1i64..7).prop_map(|n| json!(n))
}

/// Filters on the key, on a unique column, on a plain column, or on nothing.
fn filter() -> impl Strategy<Value = Vec<(String, Value)>> {
    prop_oneof![
        id().prop_map(|v| vec![("id".to_string(), v)]),
        text(&["a", "b", "c"]).prop_map(|v| vec![("slug".to_string(), v)]),
        text(&["x", "y"]).prop_map(|v| vec![("title".to_string(), v)]),
        (id(), text(&["x", "y"]))
            .prop_map(|(i, t)| vec![("id".to_string(), i), ("title".to_string(), t)]),
        Just(Vec::new()),
    ]
}

/// A row of the columns the logic writes; sometimes with an explicit id or version.
fn row() -> impl Strategy<Value = Row> {
    (
        proptest::option::of(id()),
        text(&["a", "b", "c"]),
        text(&["f1", "f2", "f3"]),
        text(&["x", "y"]),
        proptest::option::of((1i64..4).prop_map(|n| json!(n))),
    )
        .prop_map(|(id, slug, form, title, version)| {
            let mut r = Row::new();
            if let Some(id) = id {
                r.insert("id".into(), id);
            }
            r.insert("slug".into(), slug);
            r.insert("form_id".into(), form);
            r.insert("title".into(), title);
            if let Some(v) = version {
                r.insert("version".into(), v);
            }
            r
        })
}

/// A patch of non-key columns, possibly empty, possibly setting NULL.
fn patch() -> impl Strategy<Value = Row> {
    (
        proptest::option::of(text(&["a", "b", "c"])),
        proptest::option::of(text(&["x", "y", "z"])),
        proptest::option::of(text(&["f1", "f2"])),
    )
        .prop_map(|(slug, title, form)| {
            let mut r = Row::new();
            for (c, v) in [("slug", slug), ("title", title), ("form_id", form)] {
                if let Some(v) = v {
                    r.insert(c.into(), v);
                }
            }
            r
        })
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        2 => filter().prop_map(|f| Request::select(TABLE, f)),
        4 => row().prop_map(|r| Request::insert(TABLE, r)),
        3 => (filter(), patch()).prop_map(|(f, p)| Request::update(TABLE, f, p)),
        3 => (row(), proptest::sample::select(&["slug", "form_id", "id", "title"][..]))
            .prop_map(|(r, c)| Request::upsert(TABLE, r, &[c])),
        1 => filter().prop_map(|f| Request::Delete { table: TABLE.into(), filter: f }),
        2 => (id(), 1i64..4, text(&["x", "y", "z"])).prop_map(|(id, v, t)| Request::rpc(
            "update_business_card_optimistic",
            json!({"id": id, "expected_version": v, "fields": {"title": t}}),
        )),
        // The base slug is made unique per request by `fresh_slug`.
        2 => text(&["f1", "f2", "f3"]).prop_map(|form| Request::rpc(
            "create_card_idempotent",
            json!({"user_id": "u", "name": "N", "base_slug": "rpc",
                   "form_id": form, "fields": {"title": "t"}}),
        )),
        1 => Just(Request::select("no_such_table", Vec::new())),
    ]
}

/// Gives each create in a sequence its own base slug: the taken-slug path draws a random
/// suffix, which no two random generators agree on, so only the free-slug path can be
/// compared.
fn fresh_slugs(mut seq: Vec<Request>) -> Vec<Request> {
    for (i, req) in seq.iter_mut().enumerate() {
        if let Request::Rpc { args, .. } = req {
            if args.get("base_slug").is_some() {
                args["base_slug"] = json!(format!("rpc-{i}"));
            }
        }
    }
    seq
}

fn conforms(variant: &str) {
    let test = format!("pg_conformance::{variant}");
    let Some(target) = database_for(&test) else {
        return;
    };
    Conformance::new(
        &faultline_seeds::registry(),
        "scenarios/business_cards.toml",
        variant,
    )
    .expect("scenario")
    .cases(256)
    .check(
        &target,
        proptest::collection::vec(request(), 1..24).prop_map(fresh_slugs),
    )
    .expect("both sides set up")
    .assert_agrees();
}

#[test]
fn the_simulated_store_answers_as_postgres_does_without_constraints() {
    conforms("naive");
}

#[test]
fn the_simulated_store_answers_as_postgres_does_with_unique_keys() {
    conforms("reference");
}
