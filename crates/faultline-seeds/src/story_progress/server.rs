//! The simulated twin of the reference's server function: a progress update that never
//! moves a story backwards, however late or often a write arrives.

use serde_json::{json, Value};

use super::{COLUMN, TABLE};
use faultline::backend::{filter, row, DbError};
use faultline::store::Store;

/// `update_story_progress_monotonic(id, progress)`: `update stories set
/// generation_progress = greatest(generation_progress, progress)`. Answers the progress now
/// stored and the primary's LSN after the call (`pg_current_wal_lsn()`), which a session
/// carries so that its later reads wait for a replica that has the write.
pub fn update_story_progress_monotonic(store: &mut Store, args: &Value) -> Result<Value, DbError> {
    let id = args
        .get("id")
        .cloned()
        .ok_or_else(|| DbError::sql("42883", "missing argument id"))?;
    let wanted = args
        .get("progress")
        .and_then(Value::as_u64)
        .filter(|p| *p <= 100)
        .ok_or_else(|| DbError::sql("23514", "progress must be between 0 and 100"))?;
    let current = store
        .select(TABLE, &filter([("id", id.clone())]))?
        .into_iter()
        .next()
        .ok_or_else(|| DbError::sql("P0002", "story not found"))?;
    let stored = current.get(COLUMN).and_then(Value::as_u64).unwrap_or(0);
    // A stale write changes nothing, so it commits nothing either.
    if wanted > stored {
        store.update(
            TABLE,
            &filter([("id", id)]),
            &row([(COLUMN, json!(wanted))]),
        )?;
    }
    Ok(json!({"progress": wanted.max(stored), "lsn": store.lsn()}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline::rng::SimRng;
    use faultline::store::TableDef;

    #[test]
    fn progress_never_goes_back() {
        let mut s = Store::new(SimRng::root(1));
        s.create_table(TableDef::new(TABLE));
        s.insert(TABLE, row([("id", json!("s1")), (COLUMN, json!(0))]))
            .unwrap();
        let call = |s: &mut Store, p: u64| {
            update_story_progress_monotonic(s, &json!({"id": "s1", "progress": p})).unwrap()
        };
        assert_eq!(call(&mut s, 40), json!({"progress": 40, "lsn": 2}));
        assert_eq!(call(&mut s, 25), json!({"progress": 40, "lsn": 2}));
        assert_eq!(call(&mut s, 100)["progress"], json!(100));
        assert!(
            update_story_progress_monotonic(&mut s, &json!({"id": "s1", "progress": 101})).is_err()
        );
    }
}
