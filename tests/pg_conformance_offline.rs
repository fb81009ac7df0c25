//! offline_sync's server functions, simulated and in PL/pgSQL, against each other: the
//! same generated calls of `apply_op` and `log_usage` (repeated op ids, stale and current
//! base versions, unknown fields and runs) must give the same answers and leave the same
//! runs, usage rows and applied op ids on both.
//!
//! Needs a database (see `faultline::pg::testing`); skipped with one line without one.

use std::cell::RefCell;

use faultline::backend::Request;
use faultline::pg::testing::{comparable, database_for, PgSession};
use faultline::rng::SimRng;
use faultline::runner::Loaded;
use faultline::store::Store;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::json;

/// A call of one of the two functions, from a small pool of op ids so repeats are common.
fn call() -> impl Strategy<Value = Request> {
    let op = (1u32..6).prop_map(|n| format!("op-{n}"));
    let edit = (
        op.clone(),
        proptest::sample::select(vec!["r1", "r2", "r9"]),
        proptest::sample::select(vec!["title", "notes", "tags", "version"]),
        proptest::sample::select(vec!["a", "b", "c"]),
        0i64..5,
    )
        .prop_map(|(op, record, field, value, base)| {
            Request::rpc(
                "apply_op",
                json!({"op_id": op, "record": record, "field": field, "value": value, "base_version": base}),
            )
        });
    let usage = (op, 1u64..9).prop_map(|(op, credits)| {
        let row = json!({"user_id": "u1", "provider": "gemini", "action": "generate",
                         "credits_consumed": credits, "metadata": {"op": op}});
        Request::rpc("log_usage", json!({"op_id": op, "row": row}))
    });
    prop_oneof![3 => edit, 1 => usage]
}

fn setup() -> Vec<Request> {
    ["r1", "r2"]
        .iter()
        .map(|id| {
            let row = json!({"id": id, "user_id": "u1", "title": "t0", "notes": "n0", "tags": "g0", "updated_at": 0});
            Request::insert("runs", row.as_object().cloned().unwrap_or_default())
        })
        .collect()
}

#[test]
fn offline_sync_server_functions_answer_as_their_plpgsql_twins() {
    let Some(target) = database_for("pg_conformance_offline") else {
        return;
    };
    let loaded = Loaded::load("scenarios/offline_sync.toml", &faultline_seeds::registry())
        .expect("scenario");
    let session = RefCell::new(
        PgSession::open(
            &target,
            faultline::runner::Loaded::load("offline_sync", &faultline_seeds::registry())
                .expect("scenario")
                .logic
                .as_ref(),
            "reference",
        )
        .expect("schema"),
    );
    let config = Config {
        cases: 128,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let result = runner.run(&proptest::collection::vec(call(), 1..20), |calls| {
        let mut pg = session.borrow_mut();
        pg.reset().expect("reset");
        let mut sim = Store::new(SimRng::root(0));
        loaded
            .logic
            .install("reference", &mut sim, &json!([]))
            .expect("install");
        for req in setup() {
            sim.execute(&req).expect("setup on the simulated store");
            pg.execute(&req).expect("setup on PostgreSQL");
        }
        for (i, req) in calls.iter().enumerate() {
            prop_assert_eq!(
                comparable(sim.execute(req)),
                comparable(pg.execute(req)),
                "call #{} {:?}: simulated (left) vs PostgreSQL (right)",
                i,
                req
            );
        }
        for table in ["runs", "usage_logs", "applied_ops"] {
            let all = Request::select(table, Vec::new());
            prop_assert_eq!(
                comparable(sim.execute(&all)),
                comparable(pg.execute(&all)),
                "final rows of {}",
                table
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("pg_conformance_offline: {e}");
    }
}
