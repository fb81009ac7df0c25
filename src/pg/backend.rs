//! [`Backend`] over a PostgreSQL schema and [`AuthApi`] in the harness's own process.
//!
//! Each request is one auto-committed statement on a pooled connection that runs through
//! the client's fault proxy. Outcomes are classified as on the simulated network: no
//! connection means the request certainly did not commit (`Unreachable`); silence or a
//! dropped connection after it was sent means it may have (`Timeout`, recorded as `info`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row as _};
use tokio::sync::watch;
use tokio::time::Instant;

use super::proxy::LinkState;
use super::sql::{statement, Catalog, Statement};
use crate::backend::{AuthApi, Backend, DbError, ReadFrom, Request, Response, Served};
use crate::rng::SimRng;
use crate::store::auth::{AuthService, Claims, Session};

/// SQLSTATE of a statement cancelled by `statement_timeout`.
const QUERY_CANCELED: &str = "57014";
/// SQLSTATE of a session terminated by `pg_terminate_backend` or a fast shutdown.
const ADMIN_SHUTDOWN: &str = "57P01";
/// SQLSTATE of a session lost to another backend's crash.
const CRASH_SHUTDOWN: &str = "57P02";

/// Milliseconds since the run started, on the wall clock.
pub type Clock = Rc<dyn Fn() -> u64>;

/// One client's data API on PostgreSQL.
pub struct PgBackend {
    /// Connections through this client's proxy.
    pub pool: PgPool,
    /// The run schema's tables.
    pub catalog: Rc<Catalog>,
    /// The run's clock, for checking access tokens as the API gateway would.
    pub clock: Clock,
    /// How long the client waits for an answer.
    pub timeout: Duration,
    /// Statements PostgreSQL refused, by SQLSTATE, shared by every client of the run.
    pub errors: Rc<RefCell<BTreeMap<String, u64>>>,
    /// The streaming replica behind the load balancer, for worlds with replicas.
    pub replica: Option<ReplicaRoute>,
}

/// The load balancer's view of a real replica: the names the plan gives its replica hosts
/// (all served by the one replica cluster) and the balancer's draws.
pub struct ReplicaRoute {
    /// Connections to the replica, in the run's schema.
    pub pool: PgPool,
    /// The plan's replica host names, as histories record them.
    pub names: Vec<String>,
    /// The balancer's picks: the primary and every replica name equally likely.
    pub balancer: RefCell<SimRng>,
}

/// How far a host's log has come, in bytes since the start of the log: the replica's
/// replayed position, or the primary's written one.
const REPLAY_LSN: &str = "select (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint";
const PRIMARY_LSN: &str = "select (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint";

impl PgBackend {
    async fn execute(&self, st: &Statement) -> Result<Response, DbError> {
        let started = Instant::now();
        let mut conn = match tokio::time::timeout(self.timeout, self.pool.acquire()).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(DbError::Unreachable(e.to_string())),
            Err(_) => {
                return Err(DbError::Unreachable(format!(
                    "no connection within {} ms",
                    self.timeout.as_millis()
                )))
            }
        };
        let left = self.timeout.saturating_sub(started.elapsed());
        let waited = || started.elapsed().as_millis() as u64;
        match tokio::time::timeout(left, fetch(&mut conn, st)).await {
            Ok(Ok(rows)) => decode(rows, st.is_rpc),
            Ok(Err(sqlx::Error::Database(e))) => {
                let err = database_error(e.as_ref());
                let code = err.code().unwrap_or_default().to_string();
                *self.errors.borrow_mut().entry(code.clone()).or_default() += 1;
                match code.as_str() {
                    // The server cancelled the statement at the client's timeout: the
                    // transaction rolled back, so this one is a certain failure.
                    QUERY_CANCELED => Err(DbError::Unreachable(format!(
                        "statement cancelled by statement_timeout after {} ms",
                        waited()
                    ))),
                    // The session was terminated (pg_terminate_backend, a shutdown) or the
                    // connection failed: when is not known, so neither is the outcome.
                    c if c.starts_with("08") || c == ADMIN_SHUTDOWN || c == CRASH_SHUTDOWN => {
                        drop(conn.detach());
                        Err(DbError::Timeout(waited()))
                    }
                    _ => Err(err),
                }
            }
            // The request was sent and the connection broke: it may have committed. The
            // connection is not returned to the pool in whatever state it is in.
            Ok(Err(_)) | Err(_) => {
                drop(conn.detach());
                Err(DbError::Timeout(waited()))
            }
        }
    }
}

async fn fetch(conn: &mut PgConnection, st: &Statement) -> Result<Vec<PgRow>, sqlx::Error> {
    let mut query = sqlx::query(&st.sql);
    for p in &st.params {
        query = query.bind(Json(p));
    }
    query.fetch_all(conn).await
}

/// A refusal from PostgreSQL as the simulated store reports it: its SQLSTATE and message.
pub fn database_error(e: &dyn sqlx::error::DatabaseError) -> DbError {
    let code = e
        .code()
        .map(|c| c.to_string())
        .unwrap_or_else(|| "XX000".into());
    DbError::sql(&code, e.message())
}

/// Turns the statement's `jsonb` column into the response the simulated store gives.
fn decode(rows: Vec<PgRow>, is_rpc: bool) -> Result<Response, DbError> {
    let mut values = Vec::with_capacity(rows.len());
    for row in &rows {
        let v: Option<Json<Value>> = row
            .try_get(0)
            .map_err(|e| DbError::sql("XX000", format!("undecodable answer: {e}")))?;
        values.push(v.map(|j| j.0).unwrap_or(Value::Null));
    }
    if is_rpc {
        return Ok(Response::Value(values.pop().unwrap_or(Value::Null)));
    }
    Ok(Response::Rows(
        values
            .into_iter()
            .filter_map(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .collect(),
    ))
}

/// Runs `request` on `conn` with no faults and no timeout: for setup rows, tests and
/// benchmarks, which talk to the database directly.
pub async fn execute_on(
    conn: &mut PgConnection,
    catalog: &Catalog,
    request: &Request,
) -> Result<Response, DbError> {
    let st = statement(catalog, request)?;
    match fetch(conn, &st).await {
        Ok(rows) => decode(rows, st.is_rpc),
        Err(sqlx::Error::Database(e)) => Err(database_error(e.as_ref())),
        Err(e) => Err(DbError::Unreachable(e.to_string())),
    }
}

impl PgBackend {
    /// Runs `st` on a replica connection after reading how far the replica has replayed;
    /// `None` when it has not reached `min_lsn` (the caller then goes to the primary).
    async fn on_replica(
        &self,
        route: &ReplicaRoute,
        st: &Statement,
        min_lsn: u64,
    ) -> Result<Option<(Response, u64)>, DbError> {
        let work = async {
            let mut conn = route.pool.acquire().await?;
            let replayed: Option<i64> =
                sqlx::query_scalar(REPLAY_LSN).fetch_one(&mut *conn).await?;
            let replayed = replayed.unwrap_or(0).max(0) as u64;
            if replayed < min_lsn {
                return Ok(None);
            }
            let rows = fetch(&mut conn, st).await?;
            // Reported after the read, so the session carries at least what it saw; the
            // position before could be older than the rows the read returned.
            let after: Option<i64> = sqlx::query_scalar(REPLAY_LSN).fetch_one(&mut *conn).await?;
            Ok::<_, sqlx::Error>(Some((rows, after.unwrap_or(0).max(0) as u64)))
        };
        match tokio::time::timeout(self.timeout, work).await {
            Ok(Ok(Some((rows, lsn)))) => Ok(Some((decode(rows, st.is_rpc)?, lsn))),
            Ok(Ok(None)) => Ok(None),
            Ok(Err(sqlx::Error::Database(e))) => Err(database_error(e.as_ref())),
            // A read changes nothing, so a lost one is simply a failed read.
            Ok(Err(e)) => Err(DbError::Unreachable(e.to_string())),
            Err(_) => Err(DbError::Timeout(self.timeout.as_millis() as u64)),
        }
    }

    /// The primary's log position now, for answers that carry an LSN.
    async fn primary_lsn(&self) -> Result<u64, DbError> {
        let started = Instant::now();
        let timed_out = || DbError::Timeout(self.timeout.as_millis() as u64);
        let mut conn = tokio::time::timeout(self.timeout, self.pool.acquire())
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| DbError::Unreachable(e.to_string()))?;
        // The same deadline as the statement: a link that swallows the query (a hold, a
        // partition) must not leave the client waiting for ever.
        let left = self.timeout.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, sqlx::query_scalar(PRIMARY_LSN).fetch_one(&mut *conn))
            .await
        {
            Ok(Ok(lsn)) => {
                let lsn: Option<i64> = lsn;
                Ok(lsn.unwrap_or(0).max(0) as u64)
            }
            Ok(Err(e)) => Err(DbError::Unreachable(e.to_string())),
            Err(_) => {
                drop(conn.detach());
                Err(timed_out())
            }
        }
    }
}

impl Backend for PgBackend {
    async fn call(&self, token: &str, request: Request) -> Result<Response, DbError> {
        Claims::verify(token, (self.clock)()).map_err(DbError::Unauthorized)?;
        let st = statement(&self.catalog, &request)?;
        let mut out = self.execute(&st).await?;
        // A function cannot see its own commit record, so an answer that reports the
        // primary's LSN gets it now that the commit is done.
        if let Response::Value(Value::Object(m)) = &mut out {
            if m.contains_key("lsn") {
                // The write committed; failing to read the position only loses precision.
                let lsn = self
                    .primary_lsn()
                    .await
                    .map(Value::from)
                    .unwrap_or(Value::Null);
                m.insert("lsn".into(), lsn);
            }
        }
        Ok(out)
    }

    async fn read(&self, token: &str, request: Request, from: ReadFrom) -> Result<Served, DbError> {
        Claims::verify(token, (self.clock)()).map_err(DbError::Unauthorized)?;
        let st = statement(&self.catalog, &request)?;
        let picked = match (&self.replica, from) {
            (Some(route), ReadFrom::Any | ReadFrom::AtLeast { .. }) => {
                let i = route.balancer.borrow_mut().index(route.names.len() + 1);
                (i > 0).then(|| (route, route.names[i - 1].clone()))
            }
            _ => None,
        };
        if let Some((route, host)) = picked {
            let min_lsn = match from {
                ReadFrom::AtLeast { lsn } => lsn,
                _ => 0,
            };
            if let Some((response, lsn)) = self.on_replica(route, &st, min_lsn).await? {
                return Ok(Served {
                    response,
                    host,
                    lsn: Some(lsn),
                });
            }
        }
        // The position after the read covers every commit the read could have seen.
        let response = self.execute(&st).await?;
        let lsn = self.primary_lsn().await?;
        Ok(Served {
            response,
            host: "store".into(),
            lsn: Some(lsn),
        })
    }
}

/// The auth service, shared by a run's clients, each reaching it over its own link.
pub struct LocalAuth {
    /// The service.
    pub service: Rc<RefCell<AuthService>>,
    /// The run's clock.
    pub clock: Clock,
    /// This client's link to auth, as the plan's faults set it.
    pub link: watch::Receiver<LinkState>,
    /// How long the client waits for an answer.
    pub timeout: Duration,
}

impl LocalAuth {
    /// Runs `f` against the service the way a request over the link would: a held link
    /// delays it, a cut request never arrives, a cut answer is lost after the service
    /// acted (a refresh token rotated that the client never learns of).
    async fn ask<T>(
        &self,
        f: impl FnOnce(&mut AuthService, u64) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let started = Instant::now();
        let mut link = self.link.clone();
        let waited = tokio::time::timeout(self.timeout, async {
            while link.borrow_and_update().held {
                if link.changed().await.is_err() {
                    break;
                }
            }
        })
        .await;
        if waited.is_err() {
            return Err(DbError::Unreachable("auth held past the timeout".into()));
        }
        let state = link.borrow().clone();
        if state.drop_up {
            return Err(DbError::Unreachable("auth unreachable".into()));
        }
        if state.slow_ms > 0 {
            tokio::time::sleep(Duration::from_millis(state.slow_ms)).await;
        }
        let out = {
            let mut service = self.service.borrow_mut();
            f(&mut service, (self.clock)())
        };
        if state.drop_down {
            tokio::time::sleep(self.timeout.saturating_sub(started.elapsed())).await;
            return Err(DbError::Timeout(self.timeout.as_millis() as u64));
        }
        out
    }
}

impl AuthApi for LocalAuth {
    async fn sign_in(&self, user: &str) -> Result<Session, DbError> {
        self.ask(|s, now| Ok(s.sign_in(user, now))).await
    }

    async fn refresh(&self, refresh_token: &str) -> Result<Session, DbError> {
        self.ask(|s, now| {
            s.refresh(refresh_token, now)
                .map_err(|e| DbError::Unauthorized(e.to_string()))
        })
        .await
    }
}
