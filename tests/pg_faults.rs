//! Real faults between a client and PostgreSQL, and how the harness records them: a
//! request whose fate the client cannot know is an unknown outcome (`info`), one that
//! certainly did not commit is a failure, exactly as on the simulated network.
//!
//! Needs a database; skipped with one line without one.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use faultline::backend::{Backend, DbError, Request, Response};
use faultline::pg::proxy::Proxy;
use faultline::pg::testing::{database_for, PgSession};
use faultline::pg::PgBackend;
use faultline::rng::SimRng;
use faultline::store::auth::{AuthConfig, AuthService};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, Row};

/// A statement that writes a row, then takes `seconds`: a fault can land after the write
/// and before the answer.
const SLOW_WRITE: &str = "
create function slow_write(args jsonb) returns jsonb language plpgsql as $$
begin
  insert into business_cards (title) values (args ->> 'tag');
  perform pg_sleep((args ->> 'seconds')::float);
  return '{}';
end $$;";

struct Rig {
    session: PgSession,
    proxy: Proxy,
    backend: PgBackend,
    token: String,
}

fn rig(test: &str, client_timeout_ms: u64, statement_timeout_ms: u64) -> Option<Rig> {
    let target = database_for(test)?;
    let mut session = PgSession::open(
        &target,
        faultline::runner::Loaded::load("business_cards", &faultline_seeds::registry())
            .expect("scenario")
            .logic
            .as_ref(),
        "reference",
    )
    .expect("schema");
    session.sql(SLOW_WRITE).expect("slow function");
    let server = target.server_addr().expect("server address");
    let options = session
        .options()
        .clone()
        .host("127.0.0.1")
        .application_name(test)
        .options([("statement_timeout", statement_timeout_ms.to_string())]);
    let (proxy, backend) = session.runtime().block_on(async {
        let proxy = Proxy::start(server, (0, 0), SimRng::root(1))
            .await
            .expect("proxy");
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .test_before_acquire(false)
            .connect_lazy_with(options.port(proxy.addr.port()));
        let backend = PgBackend {
            pool,
            catalog: Rc::new(session_catalog()),
            clock: Rc::new(|| 0),
            timeout: Duration::from_millis(client_timeout_ms),
            errors: Rc::new(RefCell::new(BTreeMap::new())),
            replica: None,
        };
        (proxy, backend)
    });
    let config = AuthConfig {
        access_ttl_ms: 3_600_000,
        reuse_interval_ms: 0,
    };
    let token = AuthService::new(config).sign_in("u", 0).access_token;
    Some(Rig {
        session,
        proxy,
        backend,
        token,
    })
}

fn session_catalog() -> faultline::pg::sql::Catalog {
    let mut c = faultline::pg::sql::Catalog::default();
    c.tables.insert(
        "business_cards".into(),
        faultline::pg::sql::PrimaryKey {
            column: "id".into(),
            text: false,
        },
    );
    c
}

fn slow_write(tag: &str, seconds: f64) -> Request {
    Request::rpc("slow_write", json!({"tag": tag, "seconds": seconds}))
}

/// Rows the slow write with `tag` left behind, read directly (no proxy).
fn rows_tagged(rig: &mut Rig, tag: &str) -> usize {
    match rig.session.execute(&Request::select(
        "business_cards",
        vec![("title".into(), json!(tag))],
    )) {
        Ok(Response::Rows(r)) => r.len(),
        other => panic!("reading back: {other:?}"),
    }
}

/// Runs `request` while `fault` fires `after_ms` into it.
fn call_with_fault(
    rig: &Rig,
    request: Request,
    after_ms: u64,
    fault: impl AsyncFnOnce(),
) -> Result<Response, DbError> {
    rig.session.runtime().block_on(async {
        let call = rig.backend.call(&rig.token, request);
        let inject = async {
            tokio::time::sleep(Duration::from_millis(after_ms)).await;
            fault().await;
            std::future::pending::<()>().await;
        };
        tokio::select! {
            r = call => r,
            _ = inject => unreachable!(),
        }
    })
}

#[test]
fn a_connection_reset_mid_statement_is_an_unknown_outcome() {
    let Some(mut rig) = rig("pg_faults::reset", 3000, 10_000) else {
        return;
    };
    let out = call_with_fault(&rig, slow_write("reset", 0.5), 150, async || {
        rig.proxy.reset_connections()
    });
    assert!(matches!(&out, Err(e) if e.outcome_unknown()), "{out:?}");
    // The server never heard of the reset and finished the write: the outcome really was
    // unknown to the client, and `info` is the only honest record of it.
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(rows_tagged(&mut rig, "reset"), 1);
}

#[test]
fn pg_terminate_backend_mid_statement_is_an_unknown_outcome_that_rolled_back() {
    let Some(mut rig) = rig("pg_faults::terminate", 3000, 10_000) else {
        return;
    };
    let admin = rig.session.options().clone();
    let out = call_with_fault(&rig, slow_write("terminated", 1.0), 200, async || {
        let mut conn = PgConnection::connect_with(&admin).await.expect("admin");
        let n: i64 = sqlx::query(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity \
             where application_name = $1 and state = 'active'",
        )
        .bind("pg_faults::terminate")
        .fetch_one(&mut conn)
        .await
        .expect("terminate")
        .get(0);
        assert_eq!(n, 1, "one active session to terminate");
    });
    assert!(matches!(&out, Err(e) if e.outcome_unknown()), "{out:?}");
    assert_eq!(rows_tagged(&mut rig, "terminated"), 0);
}

#[test]
fn a_statement_timeout_is_a_certain_failure_with_nothing_written() {
    let Some(mut rig) = rig("pg_faults::statement_timeout", 3000, 200) else {
        return;
    };
    let out = call_with_fault(&rig, slow_write("cancelled", 1.0), 10_000, async || {});
    assert!(
        matches!(&out, Err(DbError::Unreachable(m)) if m.contains("statement_timeout")),
        "{out:?}"
    );
    assert_eq!(rows_tagged(&mut rig, "cancelled"), 0);
}

#[test]
fn a_blackholed_request_never_commits_and_a_blackholed_answer_does() {
    let Some(mut rig) = rig("pg_faults::blackhole", 600, 10_000) else {
        return;
    };
    // Open a connection first, so the blackhole cuts a live one, not the handshake.
    let warm = rig.session.runtime().block_on(
        rig.backend
            .call(&rig.token, Request::select("business_cards", vec![])),
    );
    assert!(warm.is_ok(), "{warm:?}");
    // The pool takes the connection back in a task of its own; let it run.
    rig.session
        .runtime()
        .block_on(async { tokio::time::sleep(Duration::from_millis(50)).await });

    rig.proxy.set(|s| s.drop_up = true);
    let out = rig.session.runtime().block_on(
        rig.backend
            .call(&rig.token, slow_write("lost-request", 0.0)),
    );
    assert!(matches!(&out, Err(e) if e.outcome_unknown()), "{out:?}");
    assert_eq!(rows_tagged(&mut rig, "lost-request"), 0);

    // The cut connection was dropped, not returned; warm up a fresh one with the same
    // statement, so it is already prepared and the request goes out in one piece (a first
    // use waits for the server to describe the statement, and a cut answer would stop it
    // there, before anything ran).
    rig.proxy.set(|s| *s = Default::default());
    let warm = rig.session.runtime().block_on(async {
        let r = rig.backend.call(&rig.token, slow_write("warm", 0.0)).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        r
    });
    assert!(warm.is_ok(), "{warm:?}");
    rig.proxy.set(|s| s.drop_down = true);
    let out = rig
        .session
        .runtime()
        .block_on(rig.backend.call(&rig.token, slow_write("lost-answer", 0.0)));
    assert!(matches!(&out, Err(e) if e.outcome_unknown()), "{out:?}");
    assert_eq!(rows_tagged(&mut rig, "lost-answer"), 1);
}
