//! The simulated backend: a Postgres-like store as a Supabase/PostgREST client sees it.
//!
//! Requests execute one at a time against in-memory tables, each as its own transaction:
//! a failed statement or server function leaves no trace. Every committed write gets an
//! LSN and a record in the write-ahead log, which replicas replay after a lag.

pub mod auth;
pub mod replica;
pub mod table;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::backend::{DbError, Filter, Request, Response, Row, RAISE_EXCEPTION, UNDEFINED_OBJECT};
use crate::rng::SimRng;
pub use replica::Replica;
pub use table::{Key, Table, TableDef};

/// A server function: runs atomically against the store with the function's arguments.
pub type ServerFn = fn(&mut Store, &Value) -> Result<Value, DbError>;

/// One committed change, as streamed to replicas.
#[derive(Debug, Clone, PartialEq)]
pub struct WalRecord {
    /// Its log sequence number.
    pub lsn: u64,
    /// The table changed.
    pub table: String,
    /// The primary key of the changed row.
    pub key: Key,
    /// The row after the change, or `None` when it was deleted.
    pub row: Option<Row>,
    /// When it committed, in simulated milliseconds: replicas apply it once their lag
    /// has passed since then.
    pub commit_ms: u64,
}

/// The primary's state.
#[derive(Debug, Clone)]
pub struct Store {
    tables: BTreeMap<String, Table>,
    functions: BTreeMap<String, ServerFn>,
    lsn: u64,
    wal: Vec<WalRecord>,
    now_ms: u64,
    /// Failed statements by SQLSTATE, for reports (unique violations and the like).
    pub errors: BTreeMap<String, u64>,
    /// Randomness for server functions (random slug suffixes), forked from the plan.
    pub rng: SimRng,
}

impl Store {
    /// An empty store with no tables.
    pub fn new(rng: SimRng) -> Self {
        Self {
            tables: BTreeMap::new(),
            functions: BTreeMap::new(),
            lsn: 0,
            wal: Vec::new(),
            now_ms: 0,
            errors: BTreeMap::new(),
            rng,
        }
    }

    /// Creates a table (a migration).
    pub fn create_table(&mut self, def: TableDef) {
        self.tables.insert(def.name.clone(), Table::new(def));
    }

    /// Inserts the rows of a plan's `setup` (a JSON array of row objects) into `table`.
    pub fn insert_setup(&mut self, table: &str, setup: &Value) -> crate::error::Result<()> {
        for row in setup.as_array().into_iter().flatten() {
            let row = row.as_object().cloned().unwrap_or_default();
            self.insert(table, row)
                .map_err(|e| crate::error::Error::Harness(format!("setup row of {table}: {e}")))?;
        }
        Ok(())
    }

    /// Registers a server function under `name`.
    pub fn register(&mut self, name: &str, f: ServerFn) {
        self.functions.insert(name.into(), f);
    }

    /// The names of the server functions registered so far.
    pub fn function_names(&self) -> Vec<String> {
        self.functions.keys().cloned().collect()
    }

    /// Sets the time that commits from now on are stamped with; the server host calls it
    /// before each request, so the store itself never reads a clock.
    pub fn set_clock(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
    }

    /// Every table, for a replica's base backup.
    pub fn tables(&self) -> &BTreeMap<String, Table> {
        &self.tables
    }

    /// The last committed LSN.
    pub fn lsn(&self) -> u64 {
        self.lsn
    }

    /// Log records after `lsn`.
    pub fn wal_after(&self, lsn: u64) -> &[WalRecord] {
        let start = self.wal.partition_point(|r| r.lsn <= lsn);
        &self.wal[start..]
    }

    /// A table's rows in key order (empty if it does not exist).
    pub fn rows(&self, table: &str) -> Vec<Row> {
        self.tables
            .get(table)
            .map(|t| t.rows.values().cloned().collect())
            .unwrap_or_default()
    }

    /// All tables' rows, for the final state.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<Row>> {
        self.tables
            .keys()
            .map(|name| (name.clone(), self.rows(name)))
            .collect()
    }

    /// Executes one request as its own transaction.
    pub fn execute(&mut self, req: &Request) -> Result<Response, DbError> {
        let out = self.execute_inner(req);
        if let Err(DbError::Sql { code, .. }) = &out {
            *self.errors.entry(code.clone()).or_default() += 1;
        }
        out
    }

    fn execute_inner(&mut self, req: &Request) -> Result<Response, DbError> {
        match req {
            Request::Select { table, filter } => Ok(Response::Rows(self.select(table, filter)?)),
            Request::Insert { table, row } => {
                Ok(Response::Rows(vec![self.insert(table, row.clone())?]))
            }
            Request::Update {
                table,
                filter,
                patch,
            } => Ok(Response::Rows(self.update(table, filter, patch)?)),
            Request::Upsert {
                table,
                row,
                on_conflict,
            } => Ok(Response::Rows(vec![self.upsert(
                table,
                row.clone(),
                on_conflict,
            )?])),
            Request::Delete { table, filter } => Ok(Response::Rows(self.delete(table, filter)?)),
            Request::Rpc { name, args } => self.rpc(name, args).map(Response::Value),
        }
    }

    /// Runs a server function atomically: on error every change it made is rolled back.
    pub fn rpc(&mut self, name: &str, args: &Value) -> Result<Value, DbError> {
        let f = *self.functions.get(name).ok_or_else(|| {
            DbError::sql(UNDEFINED_OBJECT, format!("function {name} does not exist"))
        })?;
        let saved = (self.tables.clone(), self.lsn, self.wal.len());
        let out = f(self, args);
        if out.is_err() {
            // Sequences are not transactional: ids handed out stay used after a rollback.
            let used: Vec<(String, i64)> = self
                .tables
                .iter()
                .map(|(n, t)| (n.clone(), t.next_id))
                .collect();
            self.tables = saved.0;
            for (n, next) in used {
                if let Some(t) = self.tables.get_mut(&n) {
                    t.next_id = t.next_id.max(next);
                }
            }
            self.lsn = saved.1;
            self.wal.truncate(saved.2);
        }
        out
    }

    fn table(&self, name: &str) -> Result<&Table, DbError> {
        self.tables
            .get(name)
            .ok_or_else(|| DbError::sql("42P01", format!("relation \"{name}\" does not exist")))
    }

    fn table_mut(&mut self, name: &str) -> Result<&mut Table, DbError> {
        self.tables
            .get_mut(name)
            .ok_or_else(|| DbError::sql("42P01", format!("relation \"{name}\" does not exist")))
    }

    /// `SELECT * WHERE filter ORDER BY pk`.
    pub fn select(&self, table: &str, filter: &Filter) -> Result<Vec<Row>, DbError> {
        Ok(self
            .table(table)?
            .matching(filter)
            .map(|(_, r)| r.clone())
            .collect())
    }

    /// `INSERT ... RETURNING *`.
    pub fn insert(&mut self, table: &str, mut row: Row) -> Result<Row, DbError> {
        let t = self.table_mut(table)?;
        let pk = t.def.primary_key.clone();
        t.assign_key(&mut row);
        if let Some(vc) = &t.def.version_column {
            row.entry(vc.clone()).or_insert(json!(1));
        }
        for (c, v) in &t.def.defaults {
            row.entry(c.clone()).or_insert_with(|| v.clone());
        }
        let key = Key::of(&row[&pk]);
        t.check_unique(&key, &row, None)?;
        t.rows.insert(key.clone(), row.clone());
        self.commit(table, key, Some(row.clone()));
        Ok(row)
    }

    /// `UPDATE ... SET patch WHERE filter RETURNING *`; the version trigger bumps versions.
    pub fn update(
        &mut self,
        table: &str,
        filter: &Filter,
        patch: &Row,
    ) -> Result<Vec<Row>, DbError> {
        let t = self.table_mut(table)?;
        let keys: Vec<Key> = t.matching(filter).map(|(k, _)| k.clone()).collect();
        let mut updated = Vec::with_capacity(keys.len());
        for key in &keys {
            let mut row = t.rows[key].clone();
            for (c, v) in patch {
                row.insert(c.clone(), v.clone());
            }
            if let Some(vc) = &t.def.version_column {
                let old = t.rows[key].get(vc).and_then(Value::as_i64).unwrap_or(0);
                row.insert(vc.clone(), json!(old + 1));
            }
            t.check_unique(key, &row, Some(key))?;
            updated.push((key.clone(), row));
        }
        if updated.len() > 1 {
            // Rows changed by one statement must not clash with each other either, as
            // PostgreSQL checks them when the statement ends.
            let mut after = t.clone();
            after.rows.extend(updated.iter().cloned());
            for (key, row) in &updated {
                after.check_unique(key, row, Some(key))?;
            }
        }
        // Only now that every row passed its checks does the statement take effect.
        let mut out = Vec::with_capacity(updated.len());
        for (key, row) in updated {
            self.table_mut(table)?.rows.insert(key.clone(), row.clone());
            self.commit(table, key, Some(row.clone()));
            out.push(row);
        }
        Ok(out)
    }

    /// `INSERT ... ON CONFLICT (cols) DO UPDATE SET <the other columns> RETURNING *`.
    pub fn upsert(
        &mut self,
        table: &str,
        mut row: Row,
        on_conflict: &[String],
    ) -> Result<Row, DbError> {
        let t = self.table_mut(table)?;
        let pk = t.def.primary_key.clone();
        let is_constraint =
            on_conflict == [pk.clone()] || t.def.unique.iter().any(|u| u == on_conflict);
        if !is_constraint {
            return Err(DbError::sql(
                "42P10",
                "there is no unique or exclusion constraint matching the ON CONFLICT specification",
            ));
        }
        // As in PostgreSQL, the proposed row takes its serial id before the conflict is
        // looked for, so an upsert that ends as an update still uses up an id.
        t.assign_key(&mut row);
        let filter: Filter = on_conflict
            .iter()
            .map(|c| (c.clone(), row.get(c).cloned().unwrap_or(Value::Null)))
            .collect();
        let existing = t.matching(&filter).next().map(|(_, r)| r.clone());
        match existing {
            None => self.insert(table, row),
            Some(old) => {
                let patch: Row = row
                    .into_iter()
                    .filter(|(c, _)| !on_conflict.contains(c) && *c != pk)
                    .collect();
                let by_pk = vec![(pk.clone(), old[&pk].clone())];
                let mut rows = self.update(table, &by_pk, &patch)?;
                rows.pop()
                    .ok_or_else(|| DbError::sql(RAISE_EXCEPTION, "upsert lost its row"))
            }
        }
    }

    /// `DELETE WHERE filter RETURNING *`.
    pub fn delete(&mut self, table: &str, filter: &Filter) -> Result<Vec<Row>, DbError> {
        let t = self.table_mut(table)?;
        let keys: Vec<Key> = t.matching(filter).map(|(k, _)| k.clone()).collect();
        let mut out = Vec::new();
        for key in keys {
            if let Some(row) = self.table_mut(table)?.rows.remove(&key) {
                self.commit(table, key, None);
                out.push(row);
            }
        }
        Ok(out)
    }

    fn commit(&mut self, table: &str, key: Key, row: Option<Row>) {
        self.lsn += 1;
        self.wal.push(WalRecord {
            lsn: self.lsn,
            table: table.into(),
            key,
            row,
            commit_ms: self.now_ms,
        });
    }
}

#[cfg(test)]
mod tests;
