//! PostgreSQL for tests: finding a database, and a synchronous session on a fresh schema.
//!
//! Provisioning follows one order: `DATABASE_URL` if set; a throwaway container when built
//! with the `testcontainers` feature and a Docker daemon answers; otherwise the test is
//! skipped with one line saying why. `FAULTLINE_REQUIRE_POSTGRES=1` (set by `.ci/run`)
//! turns that skip into a failure, so CI cannot pass by skipping.

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use super::backend::execute_on;
use super::files;
use super::schema::{run_name, RunSchema};
use super::target::{PgTarget, DATABASE_URL};
use crate::backend::{DbError, Request, Response};
use crate::error::{Error, Result};

/// The variable that makes a missing database a failure instead of a skip.
pub const REQUIRE: &str = "FAULTLINE_REQUIRE_POSTGRES";

/// The database tests should use, or `None` after printing why the caller is skipped.
///
/// Panics (failing the test) when the database is required but absent, or when
/// `DATABASE_URL` is set but unusable: a test must never quietly pass on a typo.
pub fn database_for(test: &str) -> Option<PgTarget> {
    if std::env::var_os(DATABASE_URL).is_some() {
        return match PgTarget::from_env(false) {
            Ok(t) => Some(t),
            Err(e) => panic!("{test}: {DATABASE_URL} is set but unusable: {e}"),
        };
    }
    #[cfg(feature = "testcontainers")]
    if let Some(t) = super::container::start() {
        return Some(t);
    }
    let why = format!(
        "no PostgreSQL: {DATABASE_URL} is unset{}",
        if cfg!(feature = "testcontainers") {
            " and no Docker daemon answered"
        } else {
            " (or build with --features testcontainers and run Docker)"
        }
    );
    if std::env::var(REQUIRE).is_ok_and(|v| v == "1") {
        panic!("{test}: {REQUIRE}=1 but {why}; `eval \"$(bash .ci/postgres.sh)\"` starts one");
    }
    // libtest captures `eprintln!` of passing tests, so nobody would see the skip; a
    // direct write to the stderr handle is not captured.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
    None
}

/// A connection with its own fresh schema holding one logic's tables and functions,
/// driven synchronously; the schema is dropped when the session is.
pub struct PgSession {
    rt: tokio::runtime::Runtime,
    conn: PgConnection,
    schema: RunSchema,
    options: PgConnectOptions,
}

impl PgSession {
    /// Creates a schema holding `system`'s tables and functions as `variant` runs them,
    /// and connects to it.
    pub fn open(
        target: &PgTarget,
        system: &dyn crate::system::System,
        variant: &str,
    ) -> Result<Self> {
        let logic = system.name().to_string();
        let schema_variant = system.schema_of(variant);
        let schema_variant = schema_variant.as_str();
        let files = files::for_variant(system, variant)
            .ok_or_else(|| Error::Usage(format!("logic `{logic}` has no PostgreSQL files")))?;
        let twin = files::twin_functions(system, variant)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Harness(format!("starting a runtime: {e}")))?;
        let name = run_name(&logic, schema_variant, 0);
        let (conn, schema) = rt.block_on(async {
            let mut conn = PgConnection::connect_with(&target.options)
                .await
                .map_err(|e| Error::Usage(format!("cannot connect to {}: {e}", target.url)))?;
            let schema = RunSchema::create(
                &mut conn,
                &target.options,
                &name,
                &files,
                &twin,
                &system.audited_tables(),
            )
            .await?;
            Ok::<_, Error>((conn, schema))
        })?;
        let options = target
            .options
            .clone()
            .options([("search_path", schema.name.clone())]);
        Ok(Self {
            rt,
            conn,
            schema,
            options,
        })
    }

    /// Runs one request as its own transaction.
    pub fn execute(&mut self, request: &Request) -> Result<Response, DbError> {
        self.rt
            .block_on(execute_on(&mut self.conn, &self.schema.catalog, request))
    }

    /// Runs SQL text (several statements allowed) on the session's connection.
    pub fn sql(&mut self, text: &str) -> Result<()> {
        self.rt
            .block_on(sqlx::raw_sql(text).execute(&mut self.conn))
            .map(|_| ())
            .map_err(|e| Error::Harness(format!("{text}: {e}")))
    }

    /// Empties every table and restarts its sequences, for the next test case.
    pub fn reset(&mut self) -> Result<()> {
        let tables: Vec<String> = self.schema.catalog.tables.keys().cloned().collect();
        if tables.is_empty() {
            return Ok(());
        }
        let list = tables
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", ");
        self.sql(&format!("truncate {list} restart identity"))
    }

    /// Connection options that land in this session's schema, for tests that need more
    /// than one connection (isolation anomalies need two).
    pub fn options(&self) -> &PgConnectOptions {
        &self.options
    }

    /// The schema's name.
    pub fn schema_name(&self) -> &str {
        &self.schema.name
    }

    /// The schema's tables.
    pub fn catalog(&self) -> &super::sql::Catalog {
        &self.schema.catalog
    }

    /// The runtime the session runs on, for such tests' own async code.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.rt
    }
}

impl Drop for PgSession {
    fn drop(&mut self) {
        let PgSession {
            rt, conn, schema, ..
        } = self;
        rt.block_on(schema.drop_with(conn));
    }
}

/// What must agree between the simulated store and PostgreSQL: rows without NULL columns
/// (PostgreSQL has no "column never given"), function answers as they are, and errors by
/// SQLSTATE.
pub fn comparable(
    out: std::result::Result<crate::backend::Response, crate::backend::DbError>,
) -> std::result::Result<serde_json::Value, String> {
    let strip = |r: &crate::backend::Row| -> crate::backend::Row {
        r.iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    match out {
        Ok(Response::Rows(rows)) => Ok(serde_json::Value::Array(
            rows.iter()
                .map(|r| serde_json::Value::Object(strip(r)))
                .collect(),
        )),
        Ok(Response::Value(v)) => Ok(v),
        Err(DbError::Sql { code, .. }) => Err(format!("SQLSTATE {code}")),
        Err(other) => Err(format!("not an SQL answer: {other}")),
    }
}
