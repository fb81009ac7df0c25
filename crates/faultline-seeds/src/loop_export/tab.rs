//! A tab of the "before" code: its own in-memory copy of the session, and the
//! check-then-insert save both the naive and the documented variants use.

use std::cell::RefCell;

use serde_json::{json, Value};

use super::{Browser, LoopSave, TABLE};
use faultline::backend::{filter, AuthApi, Backend, DbError, Request};
use faultline::store::auth::Session;
use faultline::system::ClientCtx;

/// One tab.
#[derive(Debug)]
pub struct Tab {
    /// `tab-N`.
    pub name: String,
    /// The session this tab holds in memory. It is copied from the browser's storage when
    /// the tab first needs it and written back after the tab refreshes it, but never
    /// re-read: a tab that stayed idle while others rotated the refresh token presents a
    /// token that is no longer current, which auth treats as reuse.
    session: RefCell<Option<Session>>,
}

impl Tab {
    /// A tab with nothing in memory yet.
    pub fn new(name: String) -> Self {
        Self {
            name,
            session: RefCell::new(None),
        }
    }

    /// `refreshAuthState()`: "force refresh auth state to get latest session", as the
    /// document's handler does before every save, with the refresh token this tab holds.
    /// With nobody signed in, the user signs in first (the extension shows its login
    /// page). A refused refresh signs the whole browser out.
    pub async fn refresh_auth_state<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        browser: &Browser,
    ) -> Result<String, DbError> {
        if self.session.borrow().is_none() {
            *self.session.borrow_mut() = browser.session.borrow().clone();
        }
        let held = self.session.borrow().clone();
        let session = match held {
            None => ctx.auth.sign_in(&ctx.user).await?,
            Some(s) => match ctx.auth.refresh(&s.refresh_token).await {
                Ok(fresh) => fresh,
                Err(e) => {
                    if matches!(e, DbError::Unauthorized(_)) {
                        *self.session.borrow_mut() = None;
                        *browser.session.borrow_mut() = None;
                    }
                    return Err(e);
                }
            },
        };
        let token = session.access_token.clone();
        *browser.session.borrow_mut() = Some(session.clone());
        *self.session.borrow_mut() = Some(session);
        Ok(token)
    }
}

/// The document's save: look for a row of this loop, update it if found, else insert.
/// Two requests with nothing tying them together, and no constraint behind them.
/// Returns the row id.
pub async fn check_then_insert<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    token: &str,
    save: &LoopSave,
) -> Result<Value, DbError> {
    let existing = ctx
        .db
        .call(
            token,
            Request::select(
                TABLE,
                filter([
                    ("user_id", json!(ctx.user)),
                    ("video_id", json!(save.video)),
                    ("loop_id", json!(save.loop_id)),
                ]),
            ),
        )
        .await?
        .rows();
    let written = match existing.first() {
        Some(found) => {
            let id = found.get("id").cloned().unwrap_or(Value::Null);
            ctx.db
                .call(
                    token,
                    Request::update(TABLE, filter([("id", id)]), save.row(&ctx.user)),
                )
                .await?
        }
        None => {
            ctx.db
                .call(token, Request::insert(TABLE, save.row(&ctx.user)))
                .await?
        }
    };
    Ok(written
        .rows()
        .first()
        .and_then(|r| r.get("id").cloned())
        .unwrap_or(Value::Null))
}

/// The value a `save` completes with when the loop went to `chrome.storage` instead.
pub fn kept_locally(browser: &Browser, save: &LoopSave, shown: &str) -> Value {
    browser.kept_locally.borrow_mut().push(save.invoke());
    json!({"loop": save.loop_id, "video": save.video, "shown": shown, "kept": "local"})
}
