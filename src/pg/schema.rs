//! The schema a run owns: created fresh, loaded from the system's SQL files, and
//! dropped afterwards whatever happens: on success, on failure, on a panic (the guard's
//! `Drop`) and on Ctrl-C or SIGTERM (a handler that drops every live schema before
//! exiting).
//!
//! The handler and schema creation cannot race: a name is registered in the live set
//! (under the lock the handler takes) before `create schema` is sent, registration is
//! refused once shutdown has begun, and the handler waits for creations in flight before
//! it drops what the set holds, with `drop schema if exists` for names whose creation
//! failed.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgErrorPosition};
use sqlx::{Connection, PgConnection, Row as _};

use super::files::SqlFile;
use super::sql::{Catalog, PrimaryKey};
use super::statements::Statement;
use crate::error::{line_col, Error, Result};

/// Schemas created by this process and not yet dropped, for the signal handler.
static LIVE: Mutex<Live> = Mutex::new(Live {
    shutting_down: false,
    schemas: Vec::new(),
});
/// `create schema` statements sent and not yet answered.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static HANDLER: Once = Once::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The comment every schema faultline creates carries, so `faultline pg cleanup` drops
/// only schemas that are provably faultline's, never a user's that matches the pattern.
pub const MARKER: &str = "faultline run schema: safe to drop";

/// The live set and whether a signal has begun shutting the process down.
struct Live {
    shutting_down: bool,
    schemas: Vec<(PgConnectOptions, String)>,
}

/// A schema created for one run.
pub struct RunSchema {
    /// Its name.
    pub name: String,
    /// Its tables.
    pub catalog: Catalog,
    options: PgConnectOptions,
    dropped: bool,
}

/// A schema name unique to this process and run: `fl_<logic>_<variant>_<seed>_<pid>_<n>`.
pub fn run_name(logic: &str, variant: &str, seed: u64) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let raw = format!("fl_{logic}_{variant}_{seed}_{}_{n}", std::process::id());
    let clean: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    // PostgreSQL truncates names at 63 bytes; keep the unique tail instead.
    let skip = clean.len().saturating_sub(63);
    clean[skip..].to_string()
}

impl RunSchema {
    /// Creates `name` and loads `files` into it over `conn`, leaving `conn`'s search path
    /// on the new schema. On any error the schema is dropped again before returning.
    pub async fn create(
        conn: &mut PgConnection,
        options: &PgConnectOptions,
        name: &str,
        files: &[SqlFile],
        twin: &[String],
        audited: &[String],
    ) -> Result<Self> {
        install_interrupt_handler();
        {
            let mut live = lock_live();
            if live.shutting_down {
                return Err(Error::Harness(format!(
                    "not creating schema {name}: the process is shutting down"
                )));
            }
            // Registered before it exists, so a signal arriving mid-creation still drops it.
            live.schemas.push((options.clone(), name.to_string()));
            IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        }
        let quoted = format!("\"{name}\"");
        let created = sqlx::raw_sql(&format!(
            "create schema {quoted}; comment on schema {quoted} is '{MARKER}'; \
             set search_path to {quoted}"
        ))
        .execute(&mut *conn)
        .await;
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        if let Err(e) = created {
            lock_live().schemas.retain(|(_, n)| n != name);
            return Err(Error::Harness(format!("creating schema {name}: {e}")));
        }
        let mut schema = RunSchema {
            name: name.to_string(),
            catalog: Catalog::default(),
            options: options.clone(),
            dropped: false,
        };
        let loaded = async {
            for f in files {
                // One statement at a time, so a refusal names the statement's line.
                for statement in super::statements::split(&f.text) {
                    sqlx::raw_sql(statement.text)
                        .execute(&mut *conn)
                        .await
                        .map_err(|e| file_error(f, &statement, &e))?;
                }
            }
            for table in audited {
                attach_audit(conn, table).await?;
            }
            super::functions::agree(conn, name, files, twin).await?;
            catalog(conn, name).await
        }
        .await;
        match loaded {
            Ok(catalog) => {
                schema.catalog = catalog;
                Ok(schema)
            }
            Err(e) => {
                schema.drop_with(conn).await;
                Err(e)
            }
        }
    }

    /// Drops the schema over `conn`; a failure is reported on stderr, and the guard then
    /// tries once more on its own connection.
    pub async fn drop_with(&mut self, conn: &mut PgConnection) {
        if self.dropped {
            return;
        }
        match drop_schema(conn, &self.name).await {
            Ok(()) => self.forget(),
            Err(e) => eprintln!(
                "faultline: could not drop schema {}: {e} (`faultline pg cleanup` drops it later)",
                self.name
            ),
        }
    }

    fn forget(&mut self) {
        self.dropped = true;
        lock_live().schemas.retain(|(_, n)| n != &self.name);
    }
}

impl Drop for RunSchema {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Reached on a panic or an early return: drop the schema from a thread of its own,
        // since this may run inside (or outside) an async runtime.
        let options = self.options.clone();
        let name = self.name.clone();
        let done = std::thread::spawn(move || drop_blocking(&options, &name)).join();
        if !matches!(done, Ok(true)) {
            eprintln!(
                "faultline: schema {} may be left behind; `faultline pg cleanup` drops it",
                self.name
            );
        }
        self.forget();
    }
}

fn lock_live() -> std::sync::MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

async fn drop_schema(conn: &mut PgConnection, name: &str) -> std::result::Result<(), sqlx::Error> {
    sqlx::raw_sql(&format!("drop schema if exists \"{name}\" cascade"))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Connects afresh and drops `name`; true when it is gone.
fn drop_blocking(options: &PgConnectOptions, name: &str) -> bool {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return false;
    };
    rt.block_on(async {
        let attempt = async {
            let mut conn = PgConnection::connect_with(options).await?;
            drop_schema(&mut conn, name).await
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(10), attempt).await,
            Ok(Ok(()))
        )
    })
}

/// On the first Ctrl-C or SIGTERM, stops new schemas from being created, waits for the
/// creations in flight, drops every live schema and exits with 128 + the signal number
/// (130 for SIGINT, 143 for SIGTERM), as a shell expects of an interrupted program.
fn install_interrupt_handler() {
    HANDLER.call_once(|| {
        std::thread::spawn(|| {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            let Some(code) = rt.block_on(next_signal()) else {
                return;
            };
            lock_live().shutting_down = true;
            // A creation in flight registered its name already; wait until its statement
            // is answered so the drop below does not run before the create commits.
            let waited = std::time::Instant::now();
            while IN_FLIGHT.load(Ordering::SeqCst) > 0 && waited.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            let live = std::mem::take(&mut lock_live().schemas);
            for (options, name) in &live {
                let gone = drop_blocking(options, name);
                eprintln!(
                    "faultline: interrupted; schema {name} {}",
                    if gone {
                        "dropped"
                    } else {
                        "could not be dropped"
                    }
                );
            }
            std::process::exit(code);
        });
    });
}

/// Waits for SIGINT or SIGTERM; the exit code the process should end with.
async fn next_signal() -> Option<i32> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut int = signal(SignalKind::interrupt()).ok()?;
        let mut term = signal(SignalKind::terminate()).ok()?;
        tokio::select! {
            biased;
            _ = int.recv() => Some(130),
            _ = term.recv() => Some(143),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.ok().map(|_| 130)
    }
}

/// Every schema in the database that faultline made: named `fl_...` and carrying
/// [`MARKER`] as its comment. Schemas that only match the name are left alone.
pub async fn marked_schemas(conn: &mut PgConnection) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "select n.nspname::text from pg_namespace n \
         where n.nspname like 'fl\\_%' and obj_description(n.oid, 'pg_namespace') = $1 \
         order by 1",
    )
    .bind(MARKER)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| Error::Harness(format!("listing faultline schemas: {e}")))?;
    Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
}

/// Drops every schema [`marked_schemas`] finds (only lists them with `dry_run`), and
/// returns their names.
pub async fn cleanup(conn: &mut PgConnection, dry_run: bool) -> Result<Vec<String>> {
    let names = marked_schemas(conn).await?;
    if !dry_run {
        for name in &names {
            drop_schema(conn, name)
                .await
                .map_err(|e| Error::Harness(format!("dropping schema {name}: {e}")))?;
        }
    }
    Ok(names)
}

/// Names the SQL file and the line PostgreSQL complained about.
/// Logs every row image committed to `table` into the prelude's `faultline_audit`.
async fn attach_audit(conn: &mut PgConnection, table: &str) -> Result<()> {
    let quoted = table.replace('"', "\"\"");
    sqlx::raw_sql(&format!(
        "create trigger \"faultline_audit_{quoted}\" after insert or update on \"{quoted}\" \
         for each row execute function faultline_audit_row()"
    ))
    .execute(&mut *conn)
    .await
    .map(|_| ())
    .map_err(|e| {
        Error::Usage(format!(
            "the system audits table `{table}`, but its SQL files do not create it: {e}"
        ))
    })
}

fn file_error(f: &SqlFile, statement: &Statement<'_>, e: &sqlx::Error) -> Error {
    let pg = e
        .as_database_error()
        .and_then(|d| d.try_downcast_ref::<PgDatabaseError>());
    // PostgreSQL counts characters from 1 within the statement it was sent.
    let within = pg.and_then(|p| match p.position() {
        Some(PgErrorPosition::Original(chars)) => statement
            .text
            .char_indices()
            .nth(chars.saturating_sub(1))
            .map(|(i, _)| i),
        _ => None,
    });
    let (line, column) = line_col(&f.text, statement.offset + within.unwrap_or(0));
    let first_line = statement.text.lines().next().unwrap_or_default();
    let what = match pg {
        Some(p) => format!("{} (SQLSTATE {})", p.message(), p.code()),
        None => e.to_string(),
    };
    Error::Input {
        file: f.path.clone().into(),
        line,
        column,
        message: format!("PostgreSQL refused the statement `{first_line}`: {what}"),
    }
}

/// Every table of `schema` with its single-column primary key.
async fn catalog(conn: &mut PgConnection, schema: &str) -> Result<Catalog> {
    let rows = sqlx::query(
        "select c.relname::text, a.attname::text, a.atttypid = 'text'::regtype \
         from pg_index i \
         join pg_class c on c.oid = i.indrelid \
         join pg_namespace n on n.oid = c.relnamespace \
         join pg_attribute a on a.attrelid = c.oid and a.attnum = i.indkey[0] \
         where i.indisprimary and n.nspname = $1",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| Error::Harness(format!("reading the tables of {schema}: {e}")))?;
    let mut catalog = Catalog::default();
    for r in rows {
        catalog.tables.insert(
            r.get::<String, _>(0),
            PrimaryKey {
                column: r.get(1),
                text: r.get(2),
            },
        );
    }
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_identifiers_unique_per_run_and_fit_postgres() {
        let a = run_name("business_cards", "naive", 7);
        let b = run_name("business_cards", "naive", 7);
        assert_ne!(a, b);
        assert!(a.starts_with("fl_business_cards_naive_7_"));
        let long = run_name(&"x".repeat(80), "Reference-2", u64::MAX);
        assert!(long.len() <= 63);
        assert!(long
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
    }
}
