//! Turns a [`Request`] into one SQL statement with JSON parameters, the way PostgREST
//! turns an HTTP request into SQL, and a PostgreSQL error back into a [`DbError`].
//!
//! Rows travel as `jsonb` both ways (`jsonb_populate_record` in, `to_jsonb` out), so the
//! statement text depends only on the table, the column names and the operation, never on
//! the values, and NULL columns are left out of answers as the simulated store leaves out
//! columns it was never given.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::backend::{DbError, Filter, Request, Row};

/// SQLSTATE for a name that is not a plain lower-case identifier.
const INVALID_NAME: &str = "42602";

/// What the harness knows of each table in the run's schema.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Table name to its primary-key column and whether that column is text.
    pub tables: BTreeMap<String, PrimaryKey>,
}

/// A table's primary key.
#[derive(Debug, Clone)]
pub struct PrimaryKey {
    /// The column.
    pub column: String,
    /// Text keys sort bytewise, as the simulated store sorts them.
    pub text: bool,
}

/// One statement ready to run: its text and its `jsonb` parameters, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL.
    pub sql: String,
    /// `$1`, `$2`, ... as `jsonb`.
    pub params: Vec<Value>,
    /// True for an rpc: the single column is the function's answer, not a row.
    pub is_rpc: bool,
}

/// Quotes a column or table name after checking it is a plain identifier; anything else
/// is refused rather than escaped, since no schema of ours uses such names.
pub fn ident(name: &str) -> Result<String, DbError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(format!("\"{name}\""))
    } else {
        Err(DbError::sql(
            INVALID_NAME,
            format!("invalid name \"{name}\": expected lower-case letters, digits and _"),
        ))
    }
}

struct Builder<'a> {
    catalog: &'a Catalog,
    params: Vec<Value>,
}

impl Builder<'_> {
    fn param(&mut self, v: Value) -> String {
        self.params.push(v);
        format!("${}::jsonb", self.params.len())
    }

    fn pk(&self, table: &str) -> Result<&PrimaryKey, DbError> {
        self.catalog
            .tables
            .get(table)
            .ok_or_else(|| DbError::sql("42P01", format!("relation \"{table}\" does not exist")))
    }

    fn order(&self, table: &str, alias: &str) -> Result<String, DbError> {
        let pk = self.pk(table)?;
        let collate = if pk.text { " collate \"C\"" } else { "" };
        Ok(format!("{alias}.{}{collate}", ident(&pk.column)?))
    }

    /// `to_jsonb(t.col) = $n` for every filter: a NULL column equals nothing, as in SQL.
    fn conditions(&mut self, alias: &str, filter: &Filter) -> Result<String, DbError> {
        if filter.is_empty() {
            return Ok("true".into());
        }
        let mut parts = Vec::with_capacity(filter.len());
        for (col, v) in filter {
            let p = self.param(v.clone());
            parts.push(format!("to_jsonb({alias}.{}) = {p}", ident(col)?));
        }
        Ok(parts.join(" and "))
    }

    /// Columns given a value: NULLs are left to the column's default, so a missing id
    /// comes from the sequence and a missing version starts at 1.
    fn given_columns(row: &Row) -> Result<Vec<String>, DbError> {
        row.iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(c, _)| ident(c))
            .collect()
    }

    /// Rows of a data-modifying CTE `w`, in primary-key order. The statement names its
    /// table `t`, and only `t`'s columns come back (an update's `from` adds others).
    fn rows_of(&self, table: &str, modifying: String) -> Result<String, DbError> {
        Ok(format!(
            "with w as ({modifying} returning t.*) select jsonb_strip_nulls(to_jsonb(w)) from w order by {}",
            self.order(table, "w")?
        ))
    }

    fn insert(&mut self, table: &str, row: &Row, tail: &str) -> Result<String, DbError> {
        let t = ident(table)?;
        let cols = Self::given_columns(row)?;
        let values: Row = row
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(c, v)| (c.clone(), v.clone()))
            .collect();
        let p = self.param(Value::Object(values));
        if cols.is_empty() {
            return Ok(format!("insert into {t} as t default values{tail}"));
        }
        let list = cols.join(", ");
        Ok(format!(
            "insert into {t} as t ({list}) select {list} from jsonb_populate_record(null::{t}, {p}){tail}"
        ))
    }
}

/// The statement for `request` against the tables in `catalog`.
pub fn statement(catalog: &Catalog, request: &Request) -> Result<Statement, DbError> {
    let mut b = Builder {
        catalog,
        params: Vec::new(),
    };
    let sql = match request {
        Request::Select { table, filter } => {
            let cond = b.conditions("t", filter)?;
            format!(
                "select jsonb_strip_nulls(to_jsonb(t)) from {} t where {cond} order by {}",
                ident(table)?,
                b.order(table, "t")?
            )
        }
        Request::Insert { table, row } => {
            let insert = b.insert(table, row, "")?;
            b.rows_of(table, insert)?
        }
        Request::Update {
            table,
            filter,
            patch,
        } => {
            let t = ident(table)?;
            let pk = ident(&b.pk(table)?.column)?;
            let p = b.param(Value::Object(patch.clone()));
            // An empty patch still "updates" (and so bumps the version), as PostgREST's
            // PATCH with an empty body does nothing else either.
            let set = if patch.is_empty() {
                format!("{pk} = t.{pk}")
            } else {
                patch
                    .keys()
                    .map(|c| ident(c).map(|c| format!("{c} = p.{c}")))
                    .collect::<Result<Vec<_>, _>>()?
                    .join(", ")
            };
            let cond = b.conditions("t", filter)?;
            b.rows_of(
                table,
                format!(
                    "update {t} as t set {set} from jsonb_populate_record(null::{t}, {p}) p where {cond}"
                ),
            )?
        }
        Request::Upsert {
            table,
            row,
            on_conflict,
        } => {
            let pk = b.pk(table)?.column.clone();
            let target = on_conflict
                .iter()
                .map(|c| ident(c))
                .collect::<Result<Vec<_>, _>>()?
                .join(", ");
            let updates: Vec<String> = row
                .keys()
                .filter(|c| !on_conflict.contains(c) && **c != pk)
                .map(|c| ident(c).map(|c| format!("{c} = excluded.{c}")))
                .collect::<Result<_, _>>()?;
            // With nothing else to set, a no-op assignment still takes the update path,
            // so the version trigger fires as it does on the simulated store.
            let set = if updates.is_empty() {
                let first = on_conflict.first().map(String::as_str).unwrap_or(&pk);
                let c = ident(first)?;
                format!("{c} = t.{c}")
            } else {
                updates.join(", ")
            };
            let tail = format!(" on conflict ({target}) do update set {set}");
            let insert = b.insert(table, row, &tail)?;
            b.rows_of(table, insert)?
        }
        Request::Delete { table, filter } => {
            let cond = b.conditions("t", filter)?;
            b.rows_of(
                table,
                format!("delete from {} as t where {cond}", ident(table)?),
            )?
        }
        Request::Rpc { name, args } => {
            let p = b.param(args.clone());
            return Ok(Statement {
                sql: format!("select to_jsonb({}({p}))", ident(name)?),
                params: b.params,
                is_rpc: true,
            });
        }
    };
    Ok(Statement {
        sql,
        params: b.params,
        is_rpc: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{filter, row};
    use serde_json::json;

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        c.tables.insert(
            "cards".into(),
            PrimaryKey {
                column: "id".into(),
                text: false,
            },
        );
        c
    }

    #[test]
    fn values_travel_as_parameters_never_as_text() {
        let req = Request::select(
            "cards",
            filter([("slug", json!("x'; drop table cards; --"))]),
        );
        let st = statement(&catalog(), &req).unwrap();
        assert!(!st.sql.contains("drop table"), "{}", st.sql);
        assert_eq!(st.params, vec![json!("x'; drop table cards; --")]);
    }

    #[test]
    fn names_that_are_not_plain_identifiers_are_refused() {
        let req = Request::insert("cards", row([("a\"b", json!(1))]));
        let err = statement(&catalog(), &req).unwrap_err();
        assert_eq!(err.code(), Some(INVALID_NAME));
        let req = Request::select("Cards", vec![]);
        assert_eq!(
            statement(&catalog(), &req).unwrap_err().code(),
            Some(INVALID_NAME)
        );
    }

    #[test]
    fn unknown_tables_are_undefined_relations() {
        let req = Request::select("nope", vec![]);
        assert_eq!(
            statement(&catalog(), &req).unwrap_err().code(),
            Some("42P01")
        );
    }

    #[test]
    fn an_upsert_sets_every_column_but_the_conflict_target_and_the_key() {
        let req = Request::upsert(
            "cards",
            row([("id", json!(1)), ("slug", json!("a")), ("name", json!("n"))]),
            &["slug"],
        );
        let st = statement(&catalog(), &req).unwrap();
        assert!(st
            .sql
            .contains("on conflict (\"slug\") do update set \"name\" = excluded.\"name\""));
        assert!(!st.sql.contains("\"id\" = excluded"));
    }
}
