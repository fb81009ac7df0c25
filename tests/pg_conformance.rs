//! The simulated store against PostgreSQL: the same generated sequence of requests from
//! one client must give the same answers on both (rows, SQLSTATEs, zero-row updates,
//! upsert results, version bumps, serial ids) and leave the same rows behind.
//!
//! Needs a database (see `faultline::pg::testing`); skipped with one line without one.

use std::cell::RefCell;

use faultline::backend::{Request, Row};
use faultline::pg::testing::{comparable, database_for, PgSession};
use faultline::rng::SimRng;
use faultline::runner::Loaded;
use faultline::store::Store;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
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

/// Gives a create its own base slug: the taken-slug path draws a random suffix, which no
/// two random generators agree on, so only the free-slug path can be compared.
fn fresh_slug(req: &Request, i: usize) -> Request {
    let mut req = req.clone();
    if let Request::Rpc { args, .. } = &mut req {
        if args.get("base_slug").is_some() {
            args["base_slug"] = json!(format!("rpc-{i}"));
        }
    }
    req
}

fn sim_store(loaded: &Loaded, schema_variant: &str) -> Store {
    let mut store = Store::new(SimRng::root(0));
    loaded
        .logic
        .install(schema_variant, &mut store, &json!([]))
        .expect("install");
    store
}

fn conforms(schema_variant: &str) {
    let test = format!("pg_conformance::{schema_variant}");
    let Some(target) = database_for(&test) else {
        return;
    };
    let loaded = Loaded::load(
        "scenarios/business_cards.toml",
        &faultline_seeds::registry(),
    )
    .expect("scenario");
    let session = RefCell::new(
        PgSession::open(&target, loaded.logic.as_ref(), schema_variant).expect("schema"),
    );
    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };
    // A fixed generator, so a CI failure is the same failure on a laptop.
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let result = runner.run(&proptest::collection::vec(request(), 1..24), |requests| {
        let mut pg = session.borrow_mut();
        pg.reset().expect("reset");
        let mut sim = sim_store(&loaded, schema_variant);
        for (i, req) in requests.iter().enumerate() {
            let req = &fresh_slug(req, i);
            let s = comparable(sim.execute(req));
            let p = comparable(pg.execute(req));
            prop_assert_eq!(
                &s,
                &p,
                "request #{} {:?}: simulated store (left) vs PostgreSQL (right)",
                i,
                req
            );
        }
        let all = Request::select(TABLE, Vec::new());
        prop_assert_eq!(
            comparable(sim.execute(&all)),
            comparable(pg.execute(&all)),
            "final rows"
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{test}: {e}");
    }
}

#[test]
fn the_simulated_store_answers_as_postgres_does_without_constraints() {
    conforms("naive");
}

#[test]
fn the_simulated_store_answers_as_postgres_does_with_unique_keys() {
    conforms("reference");
}
