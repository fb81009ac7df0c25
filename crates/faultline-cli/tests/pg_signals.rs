//! A run interrupted by SIGINT or SIGTERM leaves no schema behind, and `faultline pg
//! cleanup` drops what a killed run left, never a schema that only looks like one.
//! Skipped without PostgreSQL, like every PostgreSQL test (see `pg::testing`).

mod common;

use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use faultline::pg::schema::MARKER;
use faultline::pg::testing::database_for;
use faultline::pg::PgTarget;
use sqlx::{Connection, PgConnection, Row as _};

/// `pg cleanup` drops every marked schema of the database, so the tests of this file take
/// turns rather than drop each other's.
static SERIAL: Mutex<()> = Mutex::new(());

fn query(target: &PgTarget, sql: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut conn = PgConnection::connect_with(&target.options).await.unwrap();
        let rows = sqlx::raw_sql(sql).fetch_all(&mut conn).await.unwrap();
        rows.iter()
            .filter_map(|r| r.try_get::<String, _>(0).ok())
            .collect()
    })
}

/// Schemas of the run with process id `pid` (their names end in `_<pid>_<n>`).
fn schemas_of(target: &PgTarget, pid: u32) -> Vec<String> {
    query(
        target,
        &format!("select nspname::text from pg_namespace where nspname ~ '^fl_.*_{pid}_[0-9]+$'"),
    )
}

fn interrupted_run_leaves_nothing(signal: &str, code: i32) {
    let test = format!("pg_signals {signal}");
    let Some(target) = database_for(&test) else {
        return;
    };
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "run",
            "scenarios/business_cards.toml",
            "--backend",
            "postgres",
            "--seeds",
            "64",
            "--jobs",
            "4",
            "--no-shrink",
        ])
        .env("CI", "1")
        .env("DATABASE_URL", &target.url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let started = Instant::now();
    while schemas_of(&target, pid).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no schema appeared"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before any schema"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let a few more runs start, so creations are in flight when the signal lands.
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(code), "{err}");
    assert_eq!(schemas_of(&target, pid), Vec::<String>::new(), "{err}");
}

#[test]
fn sigint_drops_every_schema_of_the_run() {
    common::at_root();
    interrupted_run_leaves_nothing("INT", 130);
}

#[test]
fn sigterm_drops_every_schema_of_the_run() {
    common::at_root();
    interrupted_run_leaves_nothing("TERM", 143);
}

#[test]
fn cleanup_drops_marked_schemas_only() {
    common::at_root();
    let Some(target) = database_for("pg_signals cleanup") else {
        return;
    };
    let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    let (marked, decoy) = (format!("fl_left_{pid}_1"), format!("fl_user_{pid}_2"));
    query(
        &target,
        &format!(
            "create schema {marked}; comment on schema {marked} is '{MARKER}'; \
             create schema {decoy}; comment on schema {decoy} is 'my own data'"
        ),
    );
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(args)
            .env("DATABASE_URL", &target.url)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let listed = cli(&["pg", "cleanup", "--dry-run"]);
    assert!(
        listed.contains(&format!("would drop schema {marked}")),
        "{listed}"
    );
    assert!(!listed.contains(&decoy), "{listed}");
    assert_eq!(schemas_of(&target, pid).len(), 2, "a dry run drops nothing");
    let dropped = cli(&["pg", "cleanup"]);
    assert!(
        dropped.contains(&format!("dropped schema {marked}")),
        "{dropped}"
    );
    assert_eq!(schemas_of(&target, pid), vec![decoy.clone()]);
    query(&target, &format!("drop schema {decoy}"));
}
