//! The schema a run owns: created fresh, loaded from the repository's SQL files, and
//! dropped afterwards whatever happens: on success, on failure, on a panic (the guard's
//! `Drop`) and on Ctrl-C (a handler that drops every live schema before exiting).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgErrorPosition};
use sqlx::{Connection, PgConnection, Row as _};

use super::files::SqlFile;
use super::sql::{Catalog, PrimaryKey};
use crate::error::{line_col, Error, Result};

/// Schemas created by this process and not yet dropped, for the Ctrl-C handler.
static LIVE: Mutex<Vec<(PgConnectOptions, String)>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

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
    ) -> Result<Self> {
        install_interrupt_handler();
        let quoted = format!("\"{name}\"");
        sqlx::raw_sql(&format!(
            "create schema {quoted}; set search_path to {quoted}"
        ))
        .execute(&mut *conn)
        .await
        .map_err(|e| Error::Harness(format!("creating schema {name}: {e}")))?;
        lock_live().push((options.clone(), name.to_string()));
        let mut schema = RunSchema {
            name: name.to_string(),
            catalog: Catalog::default(),
            options: options.clone(),
            dropped: false,
        };
        let loaded = async {
            for f in files {
                sqlx::raw_sql(&f.text)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| file_error(f, &e))?;
            }
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
            Err(e) => eprintln!("faultline: could not drop schema {}: {e}", self.name),
        }
    }

    fn forget(&mut self) {
        self.dropped = true;
        lock_live().retain(|(_, n)| n != &self.name);
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
                "faultline: schema {} may be left behind; drop it with `drop schema {} cascade`",
                self.name, self.name
            );
        }
        self.forget();
    }
}

fn lock_live() -> std::sync::MutexGuard<'static, Vec<(PgConnectOptions, String)>> {
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

/// On the first Ctrl-C, drops every live schema and exits with 130, as a shell expects of
/// an interrupted program.
fn install_interrupt_handler() {
    HANDLER.call_once(|| {
        std::thread::spawn(|| {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            if rt.block_on(tokio::signal::ctrl_c()).is_err() {
                return;
            }
            let live = std::mem::take(&mut *lock_live());
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
            std::process::exit(130);
        });
    });
}

/// Names the SQL file and the line PostgreSQL complained about.
fn file_error(f: &SqlFile, e: &sqlx::Error) -> Error {
    let pg = e
        .as_database_error()
        .and_then(|d| d.try_downcast_ref::<PgDatabaseError>());
    let offset = pg.and_then(|p| match p.position() {
        Some(PgErrorPosition::Original(chars)) => Some(chars),
        _ => None,
    });
    match offset {
        Some(chars) => {
            let byte = f
                .text
                .char_indices()
                .nth(chars.saturating_sub(1))
                .map_or(f.text.len(), |(i, _)| i);
            let (line, column) = line_col(&f.text, byte);
            Error::Input {
                file: f.path.clone().into(),
                line,
                column,
                message: format!("PostgreSQL refused this file: {e}"),
            }
        }
        None => Error::Harness(format!("{}: PostgreSQL refused this file: {e}", f.path)),
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
