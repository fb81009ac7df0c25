//! The fix as seed document 003 describes it: every database call goes through
//! `executeWithRetry` (exponential backoff), the status endpoint throws `STALE_DATA` (and
//! so retries, 3 times from 400 ms) while the row is below the `expectedProgress` the page
//! passes, and the generator reads its update back to detect a progress mismatch.
//!
//! What the page passes: the progress it displays, which lives in the page's memory.
//! A freshly loaded page has none, so its first request carries no `expectedProgress` and
//! takes whatever the load balancer returns. The generator's read-back is a direct query,
//! not the status endpoint: a mismatch is logged, not retried.

use serde_json::json;

use super::{poll_value, read_status, unchanged, Status, Tab, COLUMN, STORY, TABLE};
use faultline::backend::{
    filter, row, AuthApi, Backend, DbError, ReadFrom, Request, RAISE_EXCEPTION,
};
use faultline::system::ClientCtx;

/// `executeWithRetry`'s retries after the first attempt.
const MAX_RETRIES: u32 = 3;
/// The status endpoint's base delay.
const STATUS_BASE_MS: u64 = 400;
/// The generation service's base delay.
const UPDATE_BASE_MS: u64 = 300;

/// The update through `executeWithRetry`, then the verification read.
pub async fn write<B: Backend, A: AuthApi>(ctx: &ClientCtx<B, A>, op: u32, progress: u64) {
    let scope = ctx.begin(op, "write", json!({"progress": progress}));
    let mut attempt = 0;
    let mut unknown = false;
    loop {
        let req = Request::update(
            TABLE,
            filter([("id", json!(STORY))]),
            row([(COLUMN, json!(progress))]),
        );
        match ctx.call(req).await {
            Ok(_) => break scope.ok(json!({"progress": progress, "attempts": attempt + 1})),
            Err(e) => {
                unknown |= e.outcome_unknown();
                if attempt == MAX_RETRIES {
                    let value = json!({"progress": progress, "attempts": attempt + 1});
                    return if unknown {
                        scope.info(value, &e)
                    } else {
                        scope.fail(value, &e)
                    };
                }
                ctx.sleep_ms(UPDATE_BASE_MS << attempt).await;
                attempt += 1;
            }
        }
    }
    // The verification read: a direct query with retries on errors only.
    let scope = ctx.begin(op + super::VERIFY_OP, "verify", json!({"expect": progress}));
    let mut attempt = 0;
    loop {
        match read_status(ctx, ReadFrom::Any).await {
            Ok(s) => {
                // "Progress mismatch detected": logged as a warning, nothing more.
                let mismatch = s.progress != progress;
                break scope.ok(json!({"read": s.progress, "host": s.host, "mismatch": mismatch}));
            }
            Err(e) if attempt == MAX_RETRIES => break scope.fail(json!({}), &e),
            Err(_) => {
                ctx.sleep_ms(UPDATE_BASE_MS << attempt).await;
                attempt += 1;
            }
        }
    }
}

/// `GET /api/stories/{id}/status[?expectedProgress=n]`: retried while the row read is
/// below the expected progress; after the last retry the endpoint answers 500 and the
/// page keeps what it showed.
async fn status<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    expected: Option<u64>,
) -> (Result<Status, DbError>, u32) {
    let mut attempt = 0;
    loop {
        let outcome = read_status(ctx, ReadFrom::Any)
            .await
            .and_then(|s| match expected {
                Some(e) if s.progress < e => Err(DbError::sql(
                    RAISE_EXCEPTION,
                    format!("STALE_DATA: read {} below expectedProgress {e}", s.progress),
                )),
                _ => Ok(s),
            });
        if outcome.is_ok() || attempt == MAX_RETRIES {
            return (outcome, attempt + 1);
        }
        ctx.sleep_ms(STATUS_BASE_MS << attempt).await;
        attempt += 1;
    }
}

/// Polls the status endpoint, passing what the page shows as `expectedProgress`.
pub async fn poll<B: Backend, A: AuthApi>(ctx: &ClientCtx<B, A>, tab: &mut Tab) {
    let (op, mut invoke) = tab.next_poll();
    invoke["expected"] = json!(tab.shown);
    let scope = ctx.begin(op, "poll", invoke);
    match status(ctx, tab.shown).await {
        (Ok(s), attempts) => {
            tab.shown = Some(s.progress);
            scope.ok(poll_value(&s, s.progress, attempts));
        }
        (Err(e), _) => scope.fail(unchanged(tab), &e),
    }
}
