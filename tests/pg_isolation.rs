//! The published isolation results, reproduced on the real database through the harness's
//! own error mapping: a read-modify-write at READ COMMITTED loses updates, and the same
//! code at REPEATABLE READ is refused with serialization failures (40001) instead.
//!
//! Every writer reads before any of them writes (a barrier), so the anomaly does not
//! depend on timing. Needs a database; skipped with one line without one.

use std::sync::Arc;

use faultline::backend::DbError;
use faultline::pg::backend::database_error;
use faultline::pg::testing::{database_for, PgSession};
use sqlx::{Connection, PgConnection, Row};
use tokio::sync::Barrier;

const WRITERS: usize = 6;

/// What the writers' transactions came to.
#[derive(Debug)]
struct Outcome {
    committed: usize,
    serialization_failures: usize,
    final_value: i64,
}

fn classify(e: sqlx::Error) -> DbError {
    match e {
        sqlx::Error::Database(d) => database_error(d.as_ref()),
        other => DbError::Unreachable(other.to_string()),
    }
}

/// One transaction: read the counter, wait for every writer to have read, write read + 1.
async fn increment(
    mut conn: PgConnection,
    isolation: &'static str,
    barrier: Arc<Barrier>,
) -> Result<(), DbError> {
    let mut tx = conn.begin().await.map_err(classify)?;
    sqlx::query(&format!("set transaction isolation level {isolation}"))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    let read: i64 = sqlx::query("select n from counter where id = 1")
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?
        .get(0);
    barrier.wait().await;
    sqlx::query("update counter set n = $1 where id = 1")
        .bind(read + 1)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    tx.commit().await.map_err(classify)
}

fn race(session: &mut PgSession, isolation: &'static str) -> Outcome {
    session
        .sql("drop table if exists counter; create table counter (id int primary key, n bigint not null); insert into counter values (1, 0)")
        .expect("counter table");
    let options = session.options().clone();
    session.runtime().block_on(async {
        let barrier = Arc::new(Barrier::new(WRITERS));
        let mut tasks = Vec::new();
        for _ in 0..WRITERS {
            let conn = PgConnection::connect_with(&options).await.expect("connect");
            tasks.push(tokio::spawn(increment(conn, isolation, barrier.clone())));
        }
        let (mut committed, mut serialization_failures) = (0, 0);
        for t in tasks {
            match t.await.expect("writer task") {
                Ok(()) => committed += 1,
                Err(DbError::Sql { code, .. }) if code == "40001" => serialization_failures += 1,
                Err(other) => panic!("unexpected error at {isolation}: {other}"),
            }
        }
        let mut conn = PgConnection::connect_with(&options).await.expect("connect");
        let final_value: i64 = sqlx::query("select n from counter where id = 1")
            .fetch_one(&mut conn)
            .await
            .expect("read back")
            .get(0);
        Outcome {
            committed,
            serialization_failures,
            final_value,
        }
    })
}

#[test]
fn read_committed_loses_updates_and_repeatable_read_refuses_them_with_40001() {
    let Some(target) = database_for("pg_isolation") else {
        return;
    };
    let mut session = PgSession::open(
        &target,
        faultline::runner::Loaded::load("business_cards", &faultline_seeds::registry())
            .expect("scenario")
            .logic
            .as_ref(),
        "naive",
    )
    .expect("schema");

    let rc = race(&mut session, "read committed");
    // Every writer was told its increment committed, yet the counter moved once.
    assert_eq!(rc.committed, WRITERS, "{rc:?}");
    assert_eq!(rc.serialization_failures, 0, "{rc:?}");
    assert_eq!(
        rc.final_value, 1,
        "all but one acknowledged increment lost: {rc:?}"
    );

    let rr = race(&mut session, "repeatable read");
    // The first writer wins; each other one is refused instead of overwriting it.
    assert_eq!(rr.committed, 1, "{rr:?}");
    assert_eq!(rr.serialization_failures, WRITERS - 1, "{rr:?}");
    assert_eq!(
        rr.final_value, rr.committed as i64,
        "no acknowledged increment lost: {rr:?}"
    );
}
