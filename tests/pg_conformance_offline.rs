//! offline_sync's server functions, simulated and in PL/pgSQL, against each other: the
//! same generated calls of `apply_op` and `log_usage` (repeated op ids, stale and current
//! base versions, unknown fields and runs) must give the same answers and leave the same
//! runs, usage rows and applied op ids on both.
//!
//! Needs a database (see `faultline::pg::testing`); skipped with one line without one.

use faultline::backend::Request;
use faultline::conformance::Conformance;
use faultline::pg::testing::database_for;
use proptest::prelude::*;
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
    // Every sequence starts from the same two runs; only the calls after them shrink.
    let calls = proptest::collection::vec(call(), 1..20)
        .prop_map(|calls| setup().into_iter().chain(calls).collect::<Vec<_>>());
    Conformance::new(&faultline_seeds::registry(), "offline_sync", "reference")
        .expect("scenario")
        .cases(128)
        .seed(11)
        .check(&target, calls)
        .expect("both sides set up")
        .assert_agrees();
}
