//! Read replicas: copies of the primary's tables that replay its write-ahead log late.
//!
//! A replica starts from a base backup of the primary and then applies each [`WalRecord`]
//! once `commit_ms + lag` has passed, in LSN order, never skipping one: like a streaming
//! standby with `recovery_min_apply_delay`. It does not pull the log itself; whoever owns
//! the world calls [`Replica::catch_up`] with the current time, the lag in force and whether
//! the replica can reach the primary. Keeping the clock and the faults outside makes the
//! replica a plain value, so the same inputs always give the same table contents.
//!
//! [`WalRecord`]: super::WalRecord

use std::collections::BTreeMap;

use crate::backend::{DbError, Request, Response, Row};
use crate::store::{Store, Table};

/// SQLSTATE Postgres answers a write sent to a hot standby with.
pub const READ_ONLY_TRANSACTION: &str = "25006";

/// One read replica's state.
#[derive(Debug, Clone)]
pub struct Replica {
    tables: BTreeMap<String, Table>,
    replayed: u64,
}

impl Replica {
    /// A replica made from a base backup of `primary` as it is now.
    pub fn base_backup(primary: &Store) -> Self {
        Self {
            tables: primary.tables().clone(),
            replayed: primary.lsn(),
        }
    }

    /// The LSN up to which this replica has applied the log (`pg_last_wal_replay_lsn()`).
    pub fn replayed_lsn(&self) -> u64 {
        self.replayed
    }

    /// Applies every record of `primary`'s log that committed at least `lag_ms` before
    /// `now_ms`, stopping at the first that is too young (the log is applied in order).
    /// While `streaming` is false (partitioned from the primary) nothing arrives; on repair
    /// the backlog that is old enough applies at once.
    pub fn catch_up(&mut self, primary: &Store, now_ms: u64, lag_ms: u64, streaming: bool) {
        if !streaming {
            return;
        }
        for rec in primary.wal_after(self.replayed) {
            if rec.commit_ms.saturating_add(lag_ms) > now_ms {
                break;
            }
            if let Some(table) = self.tables.get_mut(&rec.table) {
                match &rec.row {
                    Some(row) => {
                        table.rows.insert(rec.key.clone(), row.clone());
                    }
                    None => {
                        table.rows.remove(&rec.key);
                    }
                }
            }
            self.replayed = rec.lsn;
        }
    }

    /// Serves a read-only request; anything that writes is refused as on a hot standby.
    pub fn read(&self, request: &Request) -> Result<Response, DbError> {
        match request {
            Request::Select { table, filter } => {
                let t = self.tables.get(table).ok_or_else(|| {
                    DbError::sql("42P01", format!("relation \"{table}\" does not exist"))
                })?;
                let rows: Vec<Row> = t.matching(filter).map(|(_, r)| r.clone()).collect();
                Ok(Response::Rows(rows))
            }
            _ => Err(DbError::sql(
                READ_ONLY_TRANSACTION,
                "cannot execute a write in a read-only transaction",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::backend::{filter, row};
    use crate::rng::SimRng;
    use crate::store::TableDef;

    fn progress(r: &Replica) -> serde_json::Value {
        r.read(&Request::select("t", filter([("id", json!(1))])))
            .unwrap()
            .rows()[0]["p"]
            .clone()
    }

    #[test]
    fn applies_the_log_in_order_after_the_lag_and_not_while_cut_off() {
        let mut p = Store::new(SimRng::root(1));
        p.create_table(TableDef::new("t"));
        p.insert("t", row([("id", json!(1)), ("p", json!(0))]))
            .unwrap();
        let mut r = Replica::base_backup(&p);
        assert_eq!(r.replayed_lsn(), 1);
        p.set_clock(100);
        p.update("t", &filter([("id", json!(1))]), &row([("p", json!(10))]))
            .unwrap();
        p.set_clock(200);
        p.update("t", &filter([("id", json!(1))]), &row([("p", json!(20))]))
            .unwrap();
        r.catch_up(&p, 149, 50, true);
        assert_eq!((r.replayed_lsn(), progress(&r)), (1, json!(0)));
        r.catch_up(&p, 150, 50, true);
        assert_eq!((r.replayed_lsn(), progress(&r)), (2, json!(10)));
        r.catch_up(&p, 1000, 50, false);
        assert_eq!(r.replayed_lsn(), 2, "a partitioned replica stands still");
        r.catch_up(&p, 1000, 50, true);
        assert_eq!((r.replayed_lsn(), progress(&r)), (3, json!(20)));
        let write = Request::insert("t", row([("p", json!(1))]));
        assert_eq!(
            r.read(&write).unwrap_err().code(),
            Some(READ_ONLY_TRANSACTION)
        );
    }
}
