//! The single-flight session refresher for async code (the simulator's hosts and the
//! Postgres backend): [`faultline_sync::SingleFlight`], woken through a tokio `Notify`.

use std::future::Future;

use faultline_sync::{Claim, RefreshError, SingleFlight, Token};
use tokio::sync::Notify;

/// Concurrent tasks needing a fresh token share one refresh.
#[derive(Debug)]
pub struct AsyncSingleFlight {
    core: SingleFlight,
    done: Notify,
}

impl Default for AsyncSingleFlight {
    fn default() -> Self {
        Self::new(None)
    }
}

impl AsyncSingleFlight {
    /// Starts with `token`, if any.
    pub fn new(token: Option<Token>) -> Self {
        Self {
            core: SingleFlight::new(token),
            done: Notify::new(),
        }
    }

    /// Starts over after signing in.
    pub fn reset(&self, token: Option<Token>) {
        self.core.reset(token);
    }

    /// The server rejected `stale`: the next caller refreshes unless someone already did.
    pub fn invalidate(&self, stale: &str) {
        self.core.invalidate(stale);
    }

    /// A token valid at `now`; at most one `refresh` runs at a time, and its failure
    /// reaches every task that waited for it.
    ///
    /// `now` is read again when the refresh returns, so a simulated clock that moved while
    /// the request was held is honoured: a token already expired by then is an error, not
    /// a token.
    pub async fn get<F, Fut>(
        &self,
        now: impl Fn() -> u64,
        refresh: F,
    ) -> Result<Token, RefreshError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Token, RefreshError>>,
    {
        let mut refresh = Some(refresh);
        loop {
            // Registered before the state is read, so a refresh that ends in between
            // still wakes this task.
            let notified = self.done.notified();
            match self.core.try_claim(now()) {
                Claim::Ready(token) => return Ok(token),
                Claim::Refresh => {
                    let Some(f) = refresh.take() else {
                        return Err(RefreshError("refreshed token expired at once".into()));
                    };
                    let flight = Flight {
                        owner: self,
                        landed: false,
                    };
                    let result = match f().await {
                        // A response held in the network can arrive after the token it
                        // carries has expired; handing that out would only earn a 401.
                        Ok(token) if token.expires_at <= now() => Err(RefreshError(format!(
                            "the refreshed token expired at {} ms, before it arrived",
                            token.expires_at
                        ))),
                        other => other,
                    };
                    flight.land(result.clone());
                    return result;
                }
                Claim::Wait(gen) => {
                    notified.await;
                    if let Some(e) = self.core.failure_after(gen) {
                        return Err(e);
                    }
                }
            }
        }
    }
}

/// The one refresh in flight, owned by the task that claimed it.
///
/// If that task is dropped mid-refresh (a timeout, a `select!`, a closed tab), nobody would
/// ever complete the claim and every later caller would wait forever; dropping the flight
/// ends it with an error instead. The refresh token may already be spent at the server, so
/// an error, not a silent retry, is the honest outcome.
struct Flight<'a> {
    owner: &'a AsyncSingleFlight,
    landed: bool,
}

impl Flight<'_> {
    fn land(mut self, result: Result<Token, RefreshError>) {
        self.landed = true;
        self.owner.core.complete(result);
        self.owner.done.notify_waiters();
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        if !self.landed {
            self.owner
                .core
                .complete(Err(RefreshError("the refresh was abandoned".into())));
            self.owner.done.notify_waiters();
        }
    }
}

// Under `--cfg loom` the core's locks are loom's, which only work inside a model.
#[cfg(all(test, not(loom)))]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;

    #[test]
    fn concurrent_tasks_share_one_refresh_and_its_failure() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            for fail in [false, true] {
                let sf = Rc::new(AsyncSingleFlight::new(Some(Token {
                    value: "old".into(),
                    expires_at: 0,
                })));
                let calls = Rc::new(Cell::new(0));
                let tasks = (0..8).map(|_| {
                    let (sf, calls) = (sf.clone(), calls.clone());
                    async move {
                        sf.get(
                            || 10,
                            || async move {
                                calls.set(calls.get() + 1);
                                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                                if fail {
                                    Err(RefreshError("revoked".into()))
                                } else {
                                    Ok(Token {
                                        value: "new".into(),
                                        expires_at: 100,
                                    })
                                }
                            },
                        )
                        .await
                    }
                });
                let results = futures_join_all(tasks.collect()).await;
                assert_eq!(calls.get(), 1, "one refresh for eight tasks");
                assert!(results.iter().all(|r| r.is_err() == fail), "{results:?}");
            }
        });
    }

    /// Polls every future to completion on the current task (no extra dependency).
    async fn futures_join_all<F: Future + 'static>(futs: Vec<F>) -> Vec<F::Output>
    where
        F::Output: 'static,
    {
        let local = tokio::task::LocalSet::new();
        let handles: Vec<_> = futs.into_iter().map(|f| local.spawn_local(f)).collect();
        local.await;
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.expect("task ran"));
        }
        out
    }
}
