//! The server functions a schema's SQL defines must be exactly the ones the system's
//! simulated twin has, or the two worlds would run different programs: a function only the
//! twin has fails every call on PostgreSQL, and one only the SQL has was never simulated.
//!
//! A function counts as callable when it takes one `jsonb` argument and returns `jsonb`
//! (the shape PostgREST's rpc endpoint calls). Helpers are exempt when their name starts
//! with `_` or `faultline_`, which is how a system's SQL keeps internals of its own.

use std::collections::BTreeSet;

use sqlx::PgConnection;

use super::files::SqlFile;
use crate::error::{line_col, Error, Result};

/// True for a name the agreement leaves out: an internal helper.
pub fn is_internal(name: &str) -> bool {
    name.starts_with('_') || name.starts_with("faultline_")
}

/// Checks that the callable functions of `schema` are exactly `twin`'s.
pub async fn agree(
    conn: &mut PgConnection,
    schema: &str,
    files: &[SqlFile],
    twin: &[String],
) -> Result<()> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select p.proname::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace \
         where n.nspname = $1 and p.prorettype = 'jsonb'::regtype and p.pronargs = 1 \
         and p.proargtypes[0] = 'jsonb'::regtype",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| Error::Harness(format!("listing the functions of schema {schema}: {e}")))?;
    let sql: BTreeSet<String> = rows
        .into_iter()
        .map(|(n,)| n)
        .filter(|n| !is_internal(n))
        .collect();
    let twin: BTreeSet<String> = twin.iter().filter(|n| !is_internal(n)).cloned().collect();
    compare(&sql, &twin, files)
}

/// The error for the first disagreement between the SQL's functions and the twin's.
fn compare(sql: &BTreeSet<String>, twin: &BTreeSet<String>, files: &[SqlFile]) -> Result<()> {
    if let Some(extra) = sql.difference(twin).next() {
        let (file, line, column) = defined_at(files, extra).unwrap_or_default();
        return Err(Error::Input {
            file: file.into(),
            line,
            column,
            message: format!(
                "function `{extra}(jsonb)` is defined here but the system's simulated twin \
                 has no such server function (it has: {}); register it on the system, or \
                 name an internal helper with a leading `_` or `faultline_`",
                list(twin)
            ),
        });
    }
    if let Some(missing) = twin.difference(sql).next() {
        let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        return Err(Error::Usage(format!(
            "the system's simulated twin has server function `{missing}`, but its SQL files \
             ({}) define no `{missing}(args jsonb) returns jsonb` (they define: {})",
            names.join(", "),
            list(sql)
        )));
    }
    Ok(())
}

fn list(names: &BTreeSet<String>) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// Where `function NAME` first appears in `files`: file, line, column.
fn defined_at(files: &[SqlFile], name: &str) -> Option<(String, usize, usize)> {
    files.iter().find_map(|f| {
        let lower = f.text.to_ascii_lowercase();
        let needle = format!("function {}", name.to_ascii_lowercase());
        let at = lower.match_indices(&needle).map(|(i, _)| i).find(|&i| {
            let after = lower[i + needle.len()..].trim_start();
            after.starts_with('(')
        })?;
        let (line, column) = line_col(&f.text, at);
        Some((f.path.clone(), line, column))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn file() -> Vec<SqlFile> {
        vec![SqlFile::new(
            "sql/f.sql",
            "-- one\ncreate function book(args jsonb) returns jsonb as $$ select args $$ \
             language sql;\ncreate or replace function cancel (args jsonb) returns jsonb \
             as $$ select args $$ language sql;\n",
        )]
    }

    #[test]
    fn the_same_functions_agree() {
        assert!(compare(
            &set(&["book", "cancel"]),
            &set(&["book", "cancel"]),
            &file()
        )
        .is_ok());
        assert!(compare(&set(&[]), &set(&[]), &file()).is_ok());
    }

    #[test]
    fn a_function_only_the_sql_has_is_named_at_its_definition() {
        let err = compare(&set(&["book", "cancel"]), &set(&["book"]), &file()).unwrap_err();
        match err {
            Error::Input {
                file,
                line,
                column,
                message,
            } => {
                assert_eq!(file.to_string_lossy(), "sql/f.sql");
                assert_eq!((line, column), (3, 19), "{message}");
                assert!(message.contains("`cancel(jsonb)`") && message.contains("has: book"));
            }
            other => panic!("expected a positioned error, got {other}"),
        }
    }

    #[test]
    fn a_function_only_the_twin_has_names_the_files() {
        let err = compare(&set(&["book"]), &set(&["book", "refund"]), &file()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::Usage(_)), "{text}");
        assert!(
            text.contains("`refund`")
                && text.contains("sql/f.sql")
                && text.contains("define: book"),
            "{text}"
        );
    }

    #[test]
    fn helpers_are_internal_by_name() {
        assert!(is_internal("_slug") && is_internal("faultline_card_insert"));
        assert!(!is_internal("book_room") && !is_internal("faultlinex"));
    }
}
