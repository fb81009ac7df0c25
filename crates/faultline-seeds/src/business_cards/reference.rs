//! A design that is actually correct: an idempotent atomic create keyed by the form, and
//! optimistic updates that send only the changed fields and, on a conflict, rebase the
//! change onto the fresh row, surfacing a true conflict instead of overwriting it.

use serde_json::{json, Map, Value};

use super::mutants::Mutant;
use super::{create_invoke, edit_invoke, load_card, slugify, whole_form, FIELDS, TABLE};
use faultline::backend::{filter, AuthApi, Backend, DbError, Request, Row};
use faultline::client::retry::{retryable, RetryPolicy};
use faultline::system::ClientCtx;

/// The shared retry policy: full jitter, 100 ms base, 2 s cap, 5 attempts.
const POLICY: RetryPolicy = RetryPolicy::DEFAULT;
const MAX_ATTEMPTS: u32 = POLICY.max_attempts;

fn backoff_ms<B, A>(ctx: &ClientCtx<B, A>, attempt: u32) -> u64 {
    POLICY.delay_ms(attempt, 0, &mut ctx.rng.borrow_mut())
}

/// Network errors are retried: with the form id as idempotency key (create) or the
/// expected version (update) a duplicate delivery cannot apply twice.
fn transient(e: &DbError) -> bool {
    matches!(e, DbError::Timeout(_) | DbError::Unreachable(_)) && retryable(e, true, false)
}

/// Creates the card with the form id as idempotency key, retrying network failures.
/// `bug` is one of the mutant suite's single bugs ([`Mutant`]); `None` is the reference.
pub async fn create<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    op: u32,
    form_id: &str,
    name: &str,
    bug: Option<Mutant>,
) {
    let scope = ctx.begin(op, "create", create_invoke(form_id, name));
    let mut args = json!({"user_id": ctx.user, "name": name, "base_slug": slugify(name), "form_id": form_id, "fields": {}});
    let mut unknown = false;
    if bug == Some(Mutant::TakenNameRefused) && slug_taken(ctx, &slugify(name)).await {
        let taken = DbError::Conflict(format!("a card called {name} already exists"));
        return scope.fail(json!({"attempts": 0}), &taken);
    }
    for attempt in 1..=MAX_ATTEMPTS {
        if bug == Some(Mutant::KeyPerRequest) {
            args["form_id"] = json!(format!("{form_id}/{op}/{attempt}"));
        }
        match ctx
            .call(Request::rpc("create_card_idempotent", args.clone()))
            .await
        {
            Ok(resp) => {
                let v = resp.value();
                if bug == Some(Mutant::ExistingShownTaken) && v["existing"] == json!(true) {
                    let taken = DbError::Conflict("this card already exists".into());
                    return scope.fail(json!({"attempts": attempt}), &taken);
                }
                let slug = if bug == Some(Mutant::RequestedSlug) {
                    json!(slugify(name))
                } else {
                    v["slug"].clone()
                };
                return scope.ok(
                    json!({"id": v["id"], "slug": slug, "form_id": form_id, "attempts": attempt}),
                );
            }
            Err(e) if transient(&e) && attempt < MAX_ATTEMPTS => {
                unknown |= e.outcome_unknown();
                ctx.sleep_ms(backoff_ms(ctx, attempt)).await;
            }
            Err(e) if bug == Some(Mutant::TimeoutShownFailed) => {
                return scope.fail(json!({"attempts": attempt}), &e)
            }
            Err(e) if unknown || e.outcome_unknown() => {
                return scope.info(json!({"attempts": attempt}), &e)
            }
            Err(e) => return scope.error(json!({"attempts": attempt}), &e),
        }
    }
}

/// The mutant [`Mutant::TakenNameRefused`]'s check: some card already has `slug`.
async fn slug_taken<B: Backend, A: AuthApi>(ctx: &ClientCtx<B, A>, slug: &str) -> bool {
    let found = ctx
        .call(Request::select(TABLE, filter([("slug", json!(slug))])))
        .await;
    found.is_ok_and(|r| !r.rows().is_empty())
}

fn version_of(row: &Row) -> Value {
    row.get("version").cloned().unwrap_or(Value::Null)
}

/// Sends only the fields the user changed, guarded by the version the form was loaded at.
/// On a conflict it re-reads: if another edit changed one of the same fields, that is a
/// true conflict and is shown to the user; otherwise the change is rebased and resent.
/// `bug` is one of the mutant suite's single bugs ([`Mutant`]); `None` is the reference.
pub async fn edit<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    op: u32,
    card: i64,
    intent: &Map<String, Value>,
    think_ms: u64,
    bug: Option<Mutant>,
) {
    let scope = ctx.begin(op, "edit", edit_invoke(card, intent));
    let by_id = filter([("id", json!(card))]);
    let mut base = match load_card(ctx, card).await {
        Ok(row) => row,
        Err(e) => return scope.fail(json!({"key": card}), &e),
    };
    ctx.sleep_ms(think_ms).await;
    let original = base.clone();
    // The form as loaded, with the user's changes: what a "save the form" handler sends.
    let form = whole_form(&original, intent);
    if bug == Some(Mutant::VersionAtSave) {
        match load_card(ctx, card).await {
            Ok(row) => base.insert("version".into(), version_of(&row)),
            Err(e) => return scope.fail(json!({"key": card}), &e),
        };
    }
    let mut sent = if bug == Some(Mutant::VersionAtSave) {
        &form
    } else {
        intent
    };
    // What the mutant [`Mutant::ResendWholeForm`] sends once it has rebased.
    let resend = whole_form(&original, intent);
    let (mut attempts, mut conflicts) = (0u32, 0u32);
    let mut unknown = false;
    let mut last_err = DbError::Conflict("version conflict after retries".into());
    for attempt in 1..=MAX_ATTEMPTS {
        attempts += 1;
        let args = json!({"id": card, "expected_version": version_of(&base), "fields": sent});
        match ctx
            .call(Request::rpc("update_business_card_optimistic", args))
            .await
            .map(|r| r.value())
        {
            Ok(v) if v["success"] == json!(true) => {
                return scope
                    .ok(json!({"key": card, "version": v["new_version"], "written": sent, "attempts": attempts, "conflicts": conflicts}));
            }
            Ok(_) => conflicts += 1,
            Err(DbError::Timeout(_)) if bug == Some(Mutant::SavedOnTimeout) => {
                let guess = version_of(&base)
                    .as_i64()
                    .map_or(Value::Null, |v| json!(v + 1));
                return scope
                    .ok(json!({"key": card, "version": guess, "written": sent, "attempts": attempts, "conflicts": conflicts}));
            }
            Err(e) if transient(&e) => {
                unknown |= e.outcome_unknown();
                last_err = e;
            }
            Err(e) if unknown => {
                return scope.info(
                    json!({"key": card, "attempts": attempts, "conflicts": conflicts}),
                    &e,
                )
            }
            Err(e) => {
                return scope.error(
                    json!({"key": card, "attempts": attempts, "conflicts": conflicts}),
                    &e,
                )
            }
        }
        if attempt < MAX_ATTEMPTS {
            ctx.sleep_ms(backoff_ms(ctx, attempt)).await;
        }
        let fresh = match ctx.call(Request::select(TABLE, by_id.clone())).await {
            Ok(resp) => resp.rows().into_iter().next(),
            Err(e) => {
                last_err = e;
                continue;
            }
        };
        let Some(fresh) = fresh else {
            return scope.fail(
                json!({"key": card, "attempts": attempts, "conflicts": conflicts}),
                &DbError::sql("P0002", "card not found"),
            );
        };
        if intent.iter().all(|(f, v)| fresh.get(f) == Some(v)) {
            // An earlier attempt whose answer was lost did commit.
            return scope
                .ok(json!({"key": card, "version": version_of(&fresh), "written": intent, "attempts": attempts, "conflicts": conflicts}));
        }
        // The fields a change by someone else conflicts with: the user's (the mutant
        // [`Mutant::ConflictOnAnyField`] compares the whole row).
        let mut judged: Vec<&str> = intent.keys().map(String::as_str).collect();
        if bug == Some(Mutant::ConflictOnAnyField) {
            judged = FIELDS.to_vec();
        }
        if let Some(field) = judged
            .into_iter()
            .find(|f| fresh.get(*f) != original.get(*f) && fresh.get(*f) != intent.get(*f))
        {
            let conflict = DbError::Conflict(format!(
                "{field} was changed by someone else; review and save again"
            ));
            return if unknown {
                scope.info(
                    json!({"key": card, "attempts": attempts, "conflicts": conflicts}),
                    &conflict,
                )
            } else {
                scope.fail(json!({"key": card, "conflict": field, "attempts": attempts, "conflicts": conflicts}), &conflict)
            };
        }
        if bug == Some(Mutant::OkAfterRebase) {
            return scope
                .ok(json!({"key": card, "version": version_of(&fresh), "written": intent, "attempts": attempts, "conflicts": conflicts}));
        }
        if bug == Some(Mutant::ResendWholeForm) {
            sent = &resend;
        }
        if bug != Some(Mutant::StaleRebase) {
            base = fresh;
        }
    }
    if unknown {
        scope.info(
            json!({"key": card, "attempts": attempts, "conflicts": conflicts}),
            &last_err,
        )
    } else {
        scope.fail(
            json!({"key": card, "attempts": attempts, "conflicts": conflicts}),
            &last_err,
        )
    }
}
