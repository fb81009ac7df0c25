//! A single-flight session refresher: concurrent callers share one refresh.

use crate::sync::{lock, Condvar, Mutex};

/// An access token and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The bearer token.
    pub value: String,
    /// Expiry, in the caller's clock (milliseconds).
    pub expires_at: u64,
}

/// Why a refresh failed; every waiter of that refresh receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshError(pub String);

/// What a caller should do next (the non-blocking interface, for async wrappers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// A token valid now.
    Ready(Token),
    /// You must refresh, then call [`SingleFlight::complete`].
    Refresh,
    /// Someone else is refreshing; wait until the generation moves past this one.
    Wait(u64),
}

#[derive(Debug)]
struct State {
    token: Option<Token>,
    in_flight: bool,
    generation: u64,
    last_error: Option<RefreshError>,
}

/// Shared by every caller that needs a token (every tab of one session).
#[derive(Debug)]
pub struct SingleFlight {
    state: Mutex<State>,
    done: Condvar,
}

impl SingleFlight {
    /// Starts with `token`, if the session has one.
    pub fn new(token: Option<Token>) -> Self {
        Self {
            state: Mutex::new(State {
                token,
                in_flight: false,
                generation: 0,
                last_error: None,
            }),
            done: Condvar::new(),
        }
    }

    /// A token valid at `now`, refreshing with `refresh` if needed; concurrent callers
    /// wait for the one refresh in flight instead of starting their own (two refreshes
    /// with one refresh token would trip reuse detection and revoke the session).
    pub fn get(
        &self,
        now: u64,
        refresh: impl FnOnce() -> Result<Token, RefreshError>,
    ) -> Result<Token, RefreshError> {
        let mut st = lock(&self.state);
        loop {
            if let Some(t) = st.token.as_ref().filter(|t| t.expires_at > now) {
                return Ok(t.clone());
            }
            if !st.in_flight {
                st.in_flight = true;
                drop(st);
                let result = refresh();
                self.complete(result.clone());
                return result;
            }
            let gen = st.generation;
            while st.generation == gen {
                st = self.done.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            if let Some(e) = &st.last_error {
                return Err(e.clone());
            }
        }
    }

    /// The non-blocking first step of [`SingleFlight::get`].
    pub fn try_claim(&self, now: u64) -> Claim {
        let mut st = lock(&self.state);
        if let Some(t) = st.token.as_ref().filter(|t| t.expires_at > now) {
            return Claim::Ready(t.clone());
        }
        if st.in_flight {
            Claim::Wait(st.generation)
        } else {
            st.in_flight = true;
            Claim::Refresh
        }
    }

    /// Records the outcome of the refresh this caller claimed and wakes every waiter.
    pub fn complete(&self, result: Result<Token, RefreshError>) {
        let mut st = lock(&self.state);
        st.in_flight = false;
        st.generation += 1;
        match result {
            Ok(t) => {
                st.token = Some(t);
                st.last_error = None;
            }
            Err(e) => {
                st.token = None;
                st.last_error = Some(e);
            }
        }
        drop(st);
        self.done.notify_all();
    }

    /// Forgets `stale` if it is still the current token (the server rejected it), so the
    /// next caller refreshes; a token someone already refreshed is kept.
    pub fn invalidate(&self, stale: &str) {
        let mut st = lock(&self.state);
        if st.token.as_ref().is_some_and(|t| t.value == stale) {
            st.token = None;
        }
    }

    /// Starts over with `token` (after signing in again), forgetting any failure.
    pub fn reset(&self, token: Option<Token>) {
        let mut st = lock(&self.state);
        st.token = token;
        st.last_error = None;
    }

    /// After waiting on generation `gen`: the error of the refresh that ended it, if it
    /// failed (`None` means try again: a token should now be ready).
    pub fn failure_after(&self, gen: u64) -> Option<RefreshError> {
        let st = lock(&self.state);
        if st.generation > gen {
            st.last_error.clone()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_tokens_are_returned_without_refreshing() {
        let sf = SingleFlight::new(Some(Token {
            value: "a".into(),
            expires_at: 100,
        }));
        let t = sf.get(50, || panic!("must not refresh")).unwrap();
        assert_eq!(t.value, "a");
        assert_eq!(sf.try_claim(100), Claim::Refresh);
        assert_eq!(sf.try_claim(100), Claim::Wait(0));
        sf.complete(Err(RefreshError("revoked".into())));
        assert_eq!(sf.failure_after(0), Some(RefreshError("revoked".into())));
    }
}
