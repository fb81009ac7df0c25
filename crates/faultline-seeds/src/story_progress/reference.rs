//! A design that is correct under replica lag: session consistency. Each client carries
//! the highest LSN it has written or read at (a tab keeps it in sessionStorage, so it
//! survives a reload) and reads only from a host that has replayed it; a replica that has
//! not is skipped for the primary. Writes go through a server function that never moves
//! progress backwards and answers the commit's LSN.

use serde_json::{json, Value};

use super::mutants::Mutant;
use super::{poll_value, read_status, unchanged, Tab, STORY};
use faultline::backend::{AuthApi, Backend, DbError, ReadFrom, Request};
use faultline::system::ClientCtx;

/// Attempts per write; the update is idempotent, so retrying an unknown outcome is safe.
const WRITE_ATTEMPTS: u32 = 6;
/// Backoff base between write attempts.
const WRITE_BASE_MS: u64 = 200;

/// Records `progress` with the monotonic function and reads it back at the write's LSN.
/// `bug` is one of the mutant suite's single bugs ([`Mutant`]); `None` is the reference.
pub async fn write<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    session_lsn: &mut u64,
    op: u32,
    progress: u64,
    bug: Option<Mutant>,
) {
    let scope = ctx.begin(op, "write", json!({"progress": progress}));
    let before = *session_lsn;
    let args = json!({"id": STORY, "progress": progress});
    let mut unknown = false;
    let mut outcome = Err(DbError::Unreachable("no attempt made".into()));
    let attempts = if bug == Some(Mutant::WriteOnce) {
        1
    } else {
        WRITE_ATTEMPTS
    };
    for attempt in 0..attempts {
        if attempt > 0 {
            ctx.sleep_ms(WRITE_BASE_MS << (attempt - 1)).await;
        }
        let req = Request::rpc("update_story_progress_monotonic", args.clone());
        outcome = ctx.call(req).await.map(|r| r.value());
        match &outcome {
            Ok(_) => break,
            Err(e) => unknown |= e.outcome_unknown(),
        }
    }
    match outcome {
        Ok(v) => {
            let lsn = v.get("lsn").and_then(Value::as_u64).unwrap_or(0);
            *session_lsn = (*session_lsn).max(lsn);
            scope.ok(json!({"progress": progress, "stored": v["progress"], "lsn": lsn}));
        }
        Err(e) if unknown => return scope.info(json!({"progress": progress}), &e),
        Err(e) => return scope.fail(json!({"progress": progress}), &e),
    }
    let scope = ctx.begin(op + super::VERIFY_OP, "verify", json!({"expect": progress}));
    let from = match bug {
        Some(Mutant::VerifyAnyHost) => ReadFrom::Any,
        // The read-back was prepared with the session as it was before this write.
        Some(Mutant::VerifyAtOldLsn) => ReadFrom::AtLeast { lsn: before },
        _ => ReadFrom::AtLeast { lsn: *session_lsn },
    };
    match read_status(ctx, from).await {
        Ok(s) => {
            *session_lsn = (*session_lsn).max(s.lsn.unwrap_or(0));
            scope.ok(json!({"read": s.progress, "host": s.host, "lsn": s.lsn}))
        }
        Err(e) => scope.fail(json!({}), &e),
    }
}

/// Polls from any host that has replayed the tab's session LSN.
/// `bug` is one of the mutant suite's single bugs ([`Mutant`]); `None` is the reference.
pub async fn poll<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    tab: &mut Tab,
    bug: Option<Mutant>,
) {
    if bug == Some(Mutant::LsnInPageMemory) && tab.shown.is_none() {
        // The LSN lived in component state, which a reload wipes.
        tab.session_lsn = 0;
    }
    let (op, mut invoke) = tab.next_poll();
    invoke["session_lsn"] = json!(tab.session_lsn);
    let scope = ctx.begin(op, "poll", invoke);
    let lsn = if bug == Some(Mutant::LsnOffByOne) {
        tab.session_lsn.saturating_sub(1)
    } else {
        tab.session_lsn
    };
    let mut read = read_status(ctx, ReadFrom::AtLeast { lsn }).await;
    if read.is_err() && bug == Some(Mutant::FallbackAnyHost) {
        read = read_status(ctx, ReadFrom::Any).await;
    }
    match read {
        Ok(s) => {
            if bug != Some(Mutant::ReadLsnDropped) {
                tab.session_lsn = tab.session_lsn.max(s.lsn.unwrap_or(0));
            }
            tab.shown = Some(s.progress);
            scope.ok(poll_value(&s, s.progress, 1));
        }
        Err(e) if bug == Some(Mutant::FailedPollResetsBar) => {
            tab.shown = Some(0);
            scope.fail(unchanged(tab), &e)
        }
        Err(e) if bug == Some(Mutant::ErrorClearsSession) => {
            tab.session_lsn = 0;
            scope.fail(unchanged(tab), &e)
        }
        Err(e) => scope.fail(unchanged(tab), &e),
    }
}
