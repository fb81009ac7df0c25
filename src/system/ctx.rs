//! What a client's logic has at hand: its backend, its session, its randomness, and the
//! recorder that writes its operations into the history.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::Value;

use faultline_sync::{RefreshError, Token};

use crate::backend::{AuthApi, Backend, DbError, ReadFrom, Request, Response, Served};
use crate::client::device::Device;
use crate::client::session::AsyncSingleFlight;
use crate::history::{Entry, EntryType, History, OpError};
use crate::rng::SimRng;
use crate::store::auth::Session;

/// Writes operations into a shared history with the current simulated time.
#[derive(Clone)]
pub struct Recorder {
    history: Rc<RefCell<History>>,
    clock: Rc<dyn Fn() -> u64>,
}

impl Recorder {
    /// A recorder over `history` reading time (microseconds) from `clock`.
    pub fn new(history: Rc<RefCell<History>>, clock: Rc<dyn Fn() -> u64>) -> Self {
        Self { history, clock }
    }

    /// Records an entry of any type.
    pub fn record(
        &self,
        process: &str,
        kind: EntryType,
        f: &str,
        op: Option<u32>,
        value: Value,
        error: Option<OpError>,
    ) {
        let time_us = (self.clock)();
        self.history.borrow_mut().push(Entry {
            index: 0,
            time_us,
            process: process.into(),
            kind,
            f: f.into(),
            op,
            value,
            error,
        });
    }
}

/// One operation in flight: records its invoke on creation and exactly one completion.
pub struct OpScope<'a> {
    recorder: &'a Recorder,
    process: String,
    f: &'static str,
    op: u32,
}

impl OpScope<'_> {
    /// The operation's id.
    pub fn op(&self) -> u32 {
        self.op
    }

    /// The operation took effect.
    pub fn ok(self, value: Value) {
        self.recorder.record(
            &self.process,
            EntryType::Ok,
            self.f,
            Some(self.op),
            value,
            None,
        );
    }

    /// The operation certainly did not take effect; `category` is what the user saw. Also
    /// right for a timed-out read before anything was written: a read changes nothing.
    pub fn fail(self, value: Value, error: &DbError) {
        if let DbError::Timeout(ms) = error {
            // Only reads may end here with a timeout: nothing was written, so say so.
            let err = OpError {
                category: error.category(),
                message: format!("a read timed out after {ms} ms; nothing was written"),
            };
            let (process, f, op) = (self.process.clone(), self.f, self.op);
            return self
                .recorder
                .record(&process, EntryType::Fail, f, Some(op), value, Some(err));
        }
        self.complete_err(EntryType::Fail, value, error);
    }

    /// Completes with `error`: `info` when the outcome is unknown, else `fail`.
    pub fn error(self, value: Value, error: &DbError) {
        let kind = if error.outcome_unknown() {
            EntryType::Info
        } else {
            EntryType::Fail
        };
        self.complete_err(kind, value, error);
    }

    /// Completes as unknown even though the last error was definite, because an earlier
    /// attempt's outcome is still unknown (a retried request may have committed).
    pub fn info(self, value: Value, error: &DbError) {
        self.complete_err(EntryType::Info, value, error);
    }

    /// The logic swallowed an error and told the user nothing. Recorded with no error
    /// category (as `info` when the outcome is unknown, else `fail`), which is exactly
    /// what `no_silent_failure` looks for; use it only to model code that does this.
    pub fn silent(self, value: Value, unknown: bool) {
        let kind = if unknown {
            EntryType::Info
        } else {
            EntryType::Fail
        };
        self.recorder
            .record(&self.process, kind, self.f, Some(self.op), value, None);
    }

    fn complete_err(self, kind: EntryType, value: Value, error: &DbError) {
        let err = OpError {
            category: error.category(),
            message: error.to_string(),
        };
        self.recorder
            .record(&self.process, kind, self.f, Some(self.op), value, Some(err));
    }
}

/// A client's view of the world.
pub struct ClientCtx<B, A> {
    /// Host name, e.g. `client-2`.
    pub name: String,
    /// The user it is signed in as.
    pub user: String,
    /// The data API.
    pub db: B,
    /// The auth API.
    pub auth: A,
    /// The client's own randomness (random slug suffixes, jitter), forked from the plan.
    pub rng: RefCell<SimRng>,
    /// The device it runs on: power, connectivity, clock and local storage.
    pub device: Device,
    recorder: Recorder,
    session: RefCell<Option<Session>>,
    refresher: AsyncSingleFlight,
    refresh_error: RefCell<Option<DbError>>,
}

impl<B: Backend, A: AuthApi> ClientCtx<B, A> {
    /// A client that is not yet signed in.
    pub fn new(
        name: String,
        user: String,
        db: B,
        auth: A,
        rng: SimRng,
        recorder: Recorder,
    ) -> Self {
        Self {
            name,
            user,
            db,
            auth,
            rng: RefCell::new(rng),
            device: Device::default(),
            recorder,
            session: RefCell::new(None),
            refresher: AsyncSingleFlight::default(),
            refresh_error: RefCell::new(None),
        }
    }

    /// Runs on `device`, which the world controls.
    pub fn with_device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }

    /// The device's wall clock now, in milliseconds (skewed if the world set it wrong).
    pub fn device_clock_ms(&self) -> u64 {
        self.device.clock_ms(self.now_ms())
    }

    /// Starts operation `op` named `f`, recording its invoke with `value`.
    pub fn begin(&self, op: u32, f: &'static str, value: Value) -> OpScope<'_> {
        self.recorder
            .record(&self.name, EntryType::Invoke, f, Some(op), value, None);
        OpScope {
            recorder: &self.recorder,
            process: self.name.clone(),
            f,
            op,
        }
    }

    /// Sends a request with the session's token, signing in first if needed and
    /// refreshing once on "JWT expired", as supabase-js does.
    pub async fn call(&self, request: Request) -> Result<Response, DbError> {
        let token = self.access_token().await?;
        match self.db.call(&token, request.clone()).await {
            Err(DbError::Unauthorized(_)) => {
                let token = self.refresh().await?;
                self.db.call(&token, request).await
            }
            other => other,
        }
    }

    /// Sends a read routed as `from` allows (primary, load balancer, or a host that has
    /// replayed an LSN), with the same sign-in and refresh-once handling as [`Self::call`].
    pub async fn read(&self, request: Request, from: ReadFrom) -> Result<Served, DbError> {
        let token = self.access_token().await?;
        match self.db.read(&token, request.clone(), from).await {
            Err(DbError::Unauthorized(_)) => {
                let token = self.refresh().await?;
                self.db.read(&token, request, from).await
            }
            other => other,
        }
    }

    async fn access_token(&self) -> Result<String, DbError> {
        let current = self.session.borrow().clone();
        match current {
            Some(s) => Ok(s.access_token),
            None => {
                let s = self.auth.sign_in(&self.user).await?;
                let token = s.access_token.clone();
                self.refresher.reset(Some(Token {
                    value: token.clone(),
                    expires_at: s.expires_at_ms,
                }));
                *self.session.borrow_mut() = Some(s);
                Ok(token)
            }
        }
    }

    /// Refreshes the session after the server rejected its token. Concurrent requests of
    /// this client share one refresh (single flight); a refused refresh signs the client
    /// out, and every request that waited for it gets the same error.
    pub async fn refresh(&self) -> Result<String, DbError> {
        let stale = self
            .session
            .borrow()
            .as_ref()
            .map(|s| s.access_token.clone());
        let Some(stale) = stale else {
            return self.access_token().await;
        };
        self.refresher.invalidate(&stale);
        let outcome = self
            .refresher
            .get(
                || self.now_ms(),
                || async {
                    let rt = self
                        .session
                        .borrow()
                        .as_ref()
                        .map(|s| s.refresh_token.clone());
                    let result = match rt {
                        Some(rt) => self.auth.refresh(&rt).await,
                        None => Err(DbError::Unauthorized("signed out".into())),
                    };
                    match result {
                        Ok(s) => {
                            let token = Token {
                                value: s.access_token.clone(),
                                expires_at: s.expires_at_ms,
                            };
                            *self.session.borrow_mut() = Some(s);
                            Ok(token)
                        }
                        Err(e) => {
                            if matches!(e, DbError::Unauthorized(_)) {
                                *self.session.borrow_mut() = None;
                            }
                            let why = RefreshError(e.to_string());
                            *self.refresh_error.borrow_mut() = Some(e);
                            Err(why)
                        }
                    }
                },
            )
            .await;
        match outcome {
            Ok(t) => Ok(t.value),
            // Every waiter reports the error the refresh itself got, category included.
            Err(why) => Err(self
                .refresh_error
                .borrow()
                .clone()
                .unwrap_or(DbError::Unauthorized(why.0))),
        }
    }

    /// Signs out: the session is dropped; the next request signs in again.
    pub fn sign_out(&self) {
        *self.session.borrow_mut() = None;
        self.refresher.reset(None);
    }

    /// The current time in milliseconds since the run started (simulated on the simulator).
    pub fn now_ms(&self) -> u64 {
        (self.recorder.clock)() / 1000
    }

    /// Sleeps until `at_ms` since the run started (at once if that time has passed): a
    /// planned operation starts at its time, or later if the client was still busy.
    pub async fn wait_until(&self, at_ms: u64) {
        let now = self.now_ms();
        if at_ms > now {
            self.sleep_ms(at_ms - now).await;
        }
    }

    /// Sleeps for simulated milliseconds.
    pub async fn sleep_ms(&self, ms: u64) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}
