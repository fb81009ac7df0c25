//! Room booking on a real PostgreSQL, with its own SQL files: the twin of `book_room`
//! answers as the PL/pgSQL does, and the same gate as in the simulator holds there.
//!
//! Needs a database: `DATABASE_URL` (`eval "$(bash .ci/postgres.sh)"` starts one); each
//! test is skipped with one line without one, and fails when `FAULTLINE_REQUIRE_POSTGRES=1`.

use faultline::backend::{filter, row, Request};
use faultline::conformance::Conformance;
use faultline::pg::testing::database_for;
use faultline::runner::Target;
use faultline::Harness;
use proptest::prelude::*;
use room_booking::{registry, variant, Fixed};
use serde_json::json;

/// Bookings from a few users for a few overlapping slots, with keys that repeat (a retry),
/// cancellations, direct inserts that bypass the function, and reads.
fn requests() -> impl Strategy<Value = Vec<Request>> {
    let room = proptest::sample::select(vec!["room-1", "room-2"]);
    let book = (1u32..4, room.clone(), 0u64..4, 1u64..3, 1u32..6).prop_map(
        |(user, room, start, len, key)| {
            Request::rpc(
                "book_room",
                json!({"user_id": format!("u{user}"), "room": room,
                       "start_min": start * 30, "end_min": (start + len) * 30,
                       "booking_key": format!("k{key}")}),
            )
        },
    );
    let cancel = (1i64..5).prop_map(|id| {
        Request::update(
            "bookings",
            filter([("id", json!(id))]),
            row([("status", json!("cancelled"))]),
        )
    });
    let insert = (room, 0u64..4).prop_map(|(room, start)| {
        Request::insert(
            "bookings",
            row([
                ("room", json!(room)),
                ("start_min", json!(start * 30)),
                ("end_min", json!(start * 30 + 30)),
            ]),
        )
    });
    let read = Just(Request::select("bookings", Vec::new()));
    proptest::collection::vec(
        prop_oneof![5 => book, 2 => cancel, 1 => insert, 1 => read],
        1..20,
    )
}

#[test]
fn book_room_twin_answers_as_its_plpgsql() {
    let Some(db) = database_for("room_booking conformance") else {
        return;
    };
    Conformance::new(&registry(), "room_booking", "fixed")
        .expect("the system builds")
        .cases(128)
        .check(&db, requests())
        .expect("both sides set up")
        .assert_agrees();
}

/// The scenario sized for a database: the shipped page double-books there as in the
/// simulator, and the fix holds everything, through real connections and real faults.
#[test]
fn shipped_is_caught_and_fix_holds_on_postgres() -> faultline::Result<()> {
    let Some(db) = database_for("room_booking on postgres") else {
        return Ok(());
    };
    let report = Harness::new(registry())
        .scenario("room_booking_contended")
        .backend(Target::Postgres(Box::new(db)))
        .seeds(12)
        .jobs(8)
        .run()?;
    report.assert_as_expected();
    let shipped = report.variant("shipped").expect("shipped ran");
    assert!(shipped.seeds == 12, "{}", report.text);
    let evidence = report
        .evidence
        .iter()
        .find(|e| e.variant == "shipped")
        .expect("the failure left evidence");
    // A real database runs on the wall clock: the plan, history and timeline are kept,
    // but nothing is shrunk.
    assert!(evidence.history.exists() && evidence.timeline.exists());
    assert!(evidence.shrunk.is_none(), "{}", report.text);
    Ok(())
}

/// `FAULTLINE_BACKEND=postgres` moves a test that never mentions a backend onto the
/// database: the child run below is this very test binary, with the variable set.
#[test]
fn the_backend_switch_comes_from_the_environment() {
    let Some(db) = database_for("room_booking FAULTLINE_BACKEND") else {
        return;
    };
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "fixed_holds_wherever_the_environment_says",
            "--include-ignored",
        ])
        .args(["--nocapture", "--test-threads", "1"])
        .env("FAULTLINE_BACKEND", "postgres")
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    assert!(child.status.success(), "{said}");
    assert!(said.contains("runs on PostgreSQL"), "{said}");
}

/// Run by the test above with `FAULTLINE_BACKEND` set; on its own it runs anywhere.
#[test]
#[ignore = "run by the_backend_switch_comes_from_the_environment"]
fn fixed_holds_wherever_the_environment_says() -> faultline::Result<()> {
    let report = Harness::new(registry())
        .scenario("room_booking_contended")
        .variant(variant("fixed_copy", Fixed))
        .expect_holds("fixed_copy")
        .seeds(3)
        .run()?;
    println!("{}", report.text);
    report.assert_as_expected();
    Ok(())
}
