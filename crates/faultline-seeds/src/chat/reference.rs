//! A correct design: compare-and-set on the version, and on a conflict merge the server's
//! messages with the local ones by message id, then try again.

use serde_json::{json, Value};

use super::mutants::Mutant;
use super::{load, message, Local, CONVERSATION};
use faultline::backend::{AuthApi, Backend, DbError, Request};
use faultline::client::retry::RetryPolicy;
use faultline::system::ClientCtx;

const POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 8,
    ..RetryPolicy::DEFAULT
};

/// The server's messages in their order, then local ones the server lacks, in local order;
/// a message id appears once.
pub fn merge(server: &[Value], local: &[Value]) -> Vec<Value> {
    merge_on(server, local, "id")
}

/// [`merge`], with messages told apart by `key` (a mutant keys on the text).
fn merge_on(server: &[Value], local: &[Value], key: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(server.len() + local.len());
    for m in server.iter().chain(local) {
        if !out.iter().any(|x| x[key] == m[key]) {
            out.push(m.clone());
        }
    }
    out
}

/// Appends locally, then saves with compare-and-set, merging on every conflict.
/// `bug` is one of the mutant suite's single bugs ([`Mutant`]); `None` is the reference.
pub async fn send<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    local: &Local,
    op: u32,
    msg: &str,
    bug: Option<Mutant>,
) {
    let scope = ctx.begin(op, "send", json!({"msg": msg}));
    if bug == Some(Mutant::RefuseAll) {
        return scope.fail(json!({"msg": msg}), &DbError::Unreachable("offline".into()));
    }
    local.messages.borrow_mut().push(message(ctx, msg));
    let mut unknown = false;
    let mut conflicts = 0u32;
    let mut last = DbError::Conflict("conversation kept changing".into());
    let mut delay = 0;
    // Set by the mutant [`Mutant::ForceOnRetry`] once a save met a network error.
    let mut force = false;
    for attempt in 1..=POLICY.max_attempts {
        let args = json!({
            "id": CONVERSATION,
            "messages": Value::Array(local.messages.borrow().clone()),
            "expected_version": local.version.borrow().clone(),
            "force_overwrite": force,
        });
        match ctx
            .call(Request::rpc("save_conversation", args))
            .await
            .map(|r| r.value())
        {
            Ok(v) if v["success"] == json!(true) || bug == Some(Mutant::AnswerAsSuccess) => {
                *local.version.borrow_mut() = v["version"].clone();
                return scope.ok(json!({"msg": msg, "version": v["version"], "attempts": attempt, "conflicts": conflicts, "saved": local.ids()}));
            }
            Ok(v) => {
                conflicts += 1;
                if bug == Some(Mutant::ConflictGivesUp) {
                    let changed = DbError::Conflict("changed on another device".into());
                    return scope.fail(json!({"msg": msg, "conflicts": conflicts}), &changed);
                }
                let server = v["messages"].as_array().cloned().unwrap_or_default();
                let key = if bug == Some(Mutant::MergeByText) {
                    "text"
                } else {
                    "id"
                };
                if bug != Some(Mutant::VersionOnlyOnConflict) {
                    let merged = merge_on(&server, &local.messages.borrow(), key);
                    *local.messages.borrow_mut() = merged;
                }
                if bug != Some(Mutant::MergeKeepsOldVersion) {
                    *local.version.borrow_mut() = v["version"].clone();
                }
                continue;
            }
            Err(DbError::Timeout(_)) if bug == Some(Mutant::SentOnTimeout) => {
                return scope.ok(json!({"msg": msg, "version": local.version.borrow().clone(), "attempts": attempt, "conflicts": conflicts, "saved": local.ids()}));
            }
            // The save is a compare-and-set of a merge: repeating it cannot apply twice.
            Err(e @ (DbError::Timeout(_) | DbError::Unreachable(_))) => {
                unknown |= e.outcome_unknown();
                last = e;
                if bug == Some(Mutant::AppendOnRetry) {
                    local.messages.borrow_mut().push(message(ctx, msg));
                }
                force |= bug == Some(Mutant::ForceOnRetry);
                if bug == Some(Mutant::ReloadDropsPending) {
                    if let Ok((messages, version)) = load(ctx).await {
                        *local.messages.borrow_mut() = messages;
                        *local.version.borrow_mut() = version;
                    }
                }
            }
            Err(e) if unknown => return scope.info(json!({"msg": msg}), &e),
            Err(e) => return scope.error(json!({"msg": msg}), &e),
        }
        delay = POLICY.delay_ms(attempt, delay, &mut ctx.rng.borrow_mut());
        ctx.sleep_ms(delay).await;
    }
    if unknown {
        scope.info(json!({"msg": msg, "conflicts": conflicts}), &last)
    } else {
        scope.fail(json!({"msg": msg, "conflicts": conflicts}), &last)
    }
}

/// Signs out and in, then shows the server's copy merged with anything local.
/// `bug` is one of the mutant suite's single bugs ([`Mutant`]); `None` is the reference.
pub async fn reauth<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    local: &Local,
    op: u32,
    away_ms: u64,
    bug: Option<Mutant>,
) {
    let scope = ctx.begin(op, "reauth", json!({"away_ms": away_ms}));
    ctx.sign_out();
    ctx.sleep_ms(away_ms).await;
    if bug == Some(Mutant::ReauthFromCache) {
        return scope.ok(json!({"view": local.ids()}));
    }
    let mut last = DbError::Unreachable("not tried".into());
    for attempt in 1..=POLICY.max_attempts {
        match load(ctx).await {
            Ok((messages, version)) => {
                let merged = merge(&messages, &local.messages.borrow());
                *local.messages.borrow_mut() = merged;
                *local.version.borrow_mut() = version;
                return scope.ok(json!({"view": local.ids()}));
            }
            Err(_) if bug == Some(Mutant::ReauthCacheOnError) => {
                return scope.ok(json!({"view": local.ids()}));
            }
            Err(e) => last = e,
        }
        let pause = POLICY.delay_ms(attempt, 0, &mut ctx.rng.borrow_mut());
        ctx.sleep_ms(pause).await;
    }
    scope.fail(json!({}), &last);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_server_order_and_each_id_once() {
        let s = vec![json!({"id": "a"}), json!({"id": "b"})];
        let l = vec![json!({"id": "b"}), json!({"id": "c"})];
        let ids: Vec<Value> = merge(&s, &l).into_iter().map(|m| m["id"].clone()).collect();
        assert_eq!(ids, vec![json!("a"), json!("b"), json!("c")]);
    }
}
