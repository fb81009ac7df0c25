//! Table definitions and row-level constraint checks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::backend::{DbError, Filter, Row, UNIQUE_VIOLATION};

/// The shape of a table, as a migration would create it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDef {
    /// Table name.
    pub name: String,
    /// Primary-key column; when absent from an insert it is assigned from a sequence.
    pub primary_key: String,
    /// Unique constraints, each a list of columns (NULLs never conflict, as in Postgres).
    #[serde(default)]
    pub unique: Vec<Vec<String>>,
    /// A column a `BEFORE UPDATE` trigger increments on every update, starting at 1.
    #[serde(default)]
    pub version_column: Option<String>,
    /// Column defaults (`DEFAULT ...`): the value an insert that omits the column stores.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defaults: BTreeMap<String, Value>,
}

impl TableDef {
    /// A table with a serial primary key `id` and no other constraints.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            primary_key: "id".into(),
            unique: Vec::new(),
            version_column: None,
            defaults: BTreeMap::new(),
        }
    }

    /// Gives `col` a default, as `DEFAULT value` in the migration: an insert that omits
    /// the column stores `value` (one that sets it to NULL keeps the NULL).
    pub fn default_value(mut self, col: &str, value: Value) -> Self {
        self.defaults.insert(col.into(), value);
        self
    }

    /// Makes `col` the primary key instead of `id`.
    pub fn key(mut self, col: &str) -> Self {
        self.primary_key = col.into();
        self
    }

    /// Adds a unique constraint over `cols`.
    pub fn unique(mut self, cols: &[&str]) -> Self {
        self.unique
            .push(cols.iter().map(|c| c.to_string()).collect());
        self
    }

    /// Adds a version column bumped on every update.
    pub fn versioned(mut self, col: &str) -> Self {
        self.version_column = Some(col.into());
        self
    }

    /// The constraint name Postgres would generate for `cols`.
    pub fn constraint_name(&self, cols: &[String]) -> String {
        format!("{}_{}_key", self.name, cols.join("_"))
    }
}

/// A sortable primary-key value: integers sort numerically, before strings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// An integer key.
    Int(i64),
    /// Any other key, by its JSON text.
    Text(String),
}

impl Key {
    /// The key of a JSON value.
    pub fn of(v: &Value) -> Key {
        match v {
            Value::Number(n) if n.is_i64() => Key::Int(n.as_i64().unwrap_or_default()),
            Value::String(s) => Key::Text(s.clone()),
            other => Key::Text(other.to_string()),
        }
    }
}

/// A table's rows, in primary-key order.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Its definition.
    pub def: TableDef,
    /// Rows by primary key.
    pub rows: BTreeMap<Key, Row>,
    /// The next value the serial primary key hands out.
    pub next_id: i64,
}

impl Table {
    /// An empty table.
    pub fn new(def: TableDef) -> Self {
        Self {
            def,
            rows: BTreeMap::new(),
            next_id: 1,
        }
    }

    /// Gives `row` the next serial id when it has none, and moves the sequence past an
    /// explicit integer id, both before any constraint is checked: in PostgreSQL neither
    /// `nextval` nor our serial trigger's `setval` is undone when the insert then fails.
    pub fn assign_key(&mut self, row: &mut Row) {
        let pk = &self.def.primary_key;
        match row.get(pk) {
            None | Some(Value::Null) => {
                row.insert(pk.clone(), Value::from(self.next_id));
                self.next_id += 1;
            }
            Some(v) => {
                if let Key::Int(n) = Key::of(v) {
                    self.next_id = self.next_id.max(n + 1);
                }
            }
        }
    }

    /// Rows matching every filter.
    pub fn matching<'a>(&'a self, filter: &'a Filter) -> impl Iterator<Item = (&'a Key, &'a Row)> {
        self.rows.iter().filter(move |(_, r)| matches(r, filter))
    }

    /// Checks `row` (to be stored under `key`) against the primary key and unique constraints.
    pub fn check_unique(
        &self,
        key: &Key,
        row: &Row,
        replacing: Option<&Key>,
    ) -> Result<(), DbError> {
        if replacing != Some(key) && self.rows.contains_key(key) {
            return Err(self.violation(std::slice::from_ref(&self.def.primary_key), "pkey"));
        }
        for cols in &self.def.unique {
            let vals: Vec<&Value> = cols
                .iter()
                .map(|c| row.get(c).unwrap_or(&Value::Null))
                .collect();
            if vals.iter().any(|v| v.is_null()) {
                continue;
            }
            let clash = self.rows.iter().any(|(k, other)| {
                Some(k) != replacing
                    && cols
                        .iter()
                        .zip(&vals)
                        .all(|(c, v)| other.get(c).unwrap_or(&Value::Null) == *v)
            });
            if clash {
                return Err(self.violation(cols, "key"));
            }
        }
        Ok(())
    }

    fn violation(&self, cols: &[String], suffix: &str) -> DbError {
        let name = if suffix == "pkey" {
            format!("{}_pkey", self.def.name)
        } else {
            self.def.constraint_name(cols)
        };
        DbError::sql(
            UNIQUE_VIOLATION,
            format!("duplicate key value violates unique constraint \"{name}\""),
        )
    }
}

/// True when `row` satisfies every equality filter (a missing column is NULL, and NULL
/// equals nothing, as in SQL).
pub fn matches(row: &Row, filter: &Filter) -> bool {
    filter.iter().all(|(c, v)| match row.get(c) {
        Some(x) if !x.is_null() => x == v,
        _ => false,
    })
}
