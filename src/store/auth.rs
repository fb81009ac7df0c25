//! The simulated auth service (GoTrue's behaviour as clients see it).
//!
//! Access tokens are stateless and carry their own expiry, so the store can check them
//! without asking auth, and revoking a session does not recall tokens already handed
//! out. Refresh tokens rotate on every use; presenting the previous one again within the
//! reuse interval returns the current pair (two tabs refreshing at once), and after the
//! interval it is treated as theft and the whole session is revoked.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Tokens handed to a signed-in client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The bearer token for data requests.
    pub access_token: String,
    /// The single-use token to get the next pair.
    pub refresh_token: String,
    /// When the access token expires, in simulated milliseconds.
    pub expires_at_ms: u64,
    /// The signed-in user.
    pub user: String,
}

/// Why auth refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AuthError {
    /// The refresh token is unknown, or its session was revoked.
    #[error("invalid refresh token: {0}")]
    InvalidRefreshToken(String),
    /// The service is interrupted (a 503): the request was not processed.
    #[error("503 service unavailable: {0}")]
    Unavailable(String),
}

/// Auth timing parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthConfig {
    /// Access-token lifetime.
    pub access_ttl_ms: u64,
    /// How long a just-rotated refresh token may still be presented.
    pub reuse_interval_ms: u64,
}

#[derive(Debug, Clone)]
struct SessionState {
    user: String,
    current: String,
    previous: Option<(String, u64)>,
    revoked: bool,
    generation: u64,
}

/// The auth service's state.
#[derive(Debug, Clone)]
pub struct AuthService {
    config: AuthConfig,
    sessions: BTreeMap<u64, SessionState>,
    by_token: BTreeMap<String, u64>,
    next_session: u64,
}

/// An access token's claims, as the store decodes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The session it belongs to.
    pub session: u64,
    /// The user.
    pub user: String,
    /// Expiry in simulated milliseconds.
    pub exp_ms: u64,
}

impl Claims {
    /// Decodes `at.<session>.<exp_ms>.<user>`; the simulation trusts its own tokens, so
    /// there is no signature to check.
    pub fn decode(token: &str) -> Option<Claims> {
        let mut parts = token.splitn(4, '.');
        if parts.next()? != "at" {
            return None;
        }
        let session = parts.next()?.parse().ok()?;
        let exp_ms = parts.next()?.parse().ok()?;
        let user = parts.next()?.to_string();
        Some(Claims {
            session,
            user,
            exp_ms,
        })
    }

    /// Checks a bearer token at `now_ms`, with PostgREST's error text.
    pub fn verify(token: &str, now_ms: u64) -> Result<Claims, String> {
        let c = Claims::decode(token).ok_or_else(|| "JWSError JWSInvalidSignature".to_string())?;
        if c.exp_ms <= now_ms {
            return Err("JWT expired".into());
        }
        Ok(c)
    }
}

impl AuthService {
    /// A service with no sessions.
    pub fn new(config: AuthConfig) -> Self {
        Self {
            config,
            sessions: BTreeMap::new(),
            by_token: BTreeMap::new(),
            next_session: 1,
        }
    }

    /// Signs `user` in with a new, independent session.
    pub fn sign_in(&mut self, user: &str, now_ms: u64) -> Session {
        let id = self.next_session;
        self.next_session += 1;
        let rt = format!("rt-{id}-0");
        self.by_token.insert(rt.clone(), id);
        self.sessions.insert(
            id,
            SessionState {
                user: user.into(),
                current: rt,
                previous: None,
                revoked: false,
                generation: 0,
            },
        );
        self.issue(id, now_ms)
    }

    /// Exchanges a refresh token for a new pair.
    pub fn refresh(&mut self, token: &str, now_ms: u64) -> Result<Session, AuthError> {
        let id = *self
            .by_token
            .get(token)
            .ok_or_else(|| AuthError::InvalidRefreshToken("not found".into()))?;
        let reuse = self.config.reuse_interval_ms;
        let s = self.sessions.get_mut(&id).expect("token maps to a session");
        if s.revoked {
            return Err(AuthError::InvalidRefreshToken("session revoked".into()));
        }
        if s.current == token {
            s.generation += 1;
            let next = format!("rt-{id}-{}", s.generation);
            s.previous = Some((std::mem::replace(&mut s.current, next.clone()), now_ms));
            self.by_token.insert(next, id);
            return Ok(self.issue(id, now_ms));
        }
        match &s.previous {
            Some((prev, at)) if prev == token && now_ms.saturating_sub(*at) <= reuse => {
                Ok(self.issue(id, now_ms))
            }
            _ => {
                s.revoked = true;
                Err(AuthError::InvalidRefreshToken(
                    "already used; session revoked".into(),
                ))
            }
        }
    }

    /// Revokes every session of `user` (sign-out everywhere, or an admin action).
    pub fn revoke_user(&mut self, user: &str) {
        for s in self.sessions.values_mut().filter(|s| s.user == user) {
            s.revoked = true;
        }
    }

    fn issue(&self, id: u64, now_ms: u64) -> Session {
        let s = &self.sessions[&id];
        let exp = now_ms + self.config.access_ttl_ms;
        Session {
            access_token: format!("at.{id}.{exp}.{}", s.user),
            refresh_token: s.current.clone(),
            expires_at_ms: exp,
            user: s.user.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc() -> AuthService {
        AuthService::new(AuthConfig {
            access_ttl_ms: 1000,
            reuse_interval_ms: 10,
        })
    }

    #[test]
    fn access_tokens_expire() {
        let mut a = svc();
        let s = a.sign_in("u1", 0);
        assert!(Claims::verify(&s.access_token, 999).is_ok());
        assert_eq!(
            Claims::verify(&s.access_token, 1000).unwrap_err(),
            "JWT expired"
        );
    }

    #[test]
    fn refresh_rotates_and_tolerates_reuse_within_interval() {
        let mut a = svc();
        let s0 = a.sign_in("u1", 0);
        let s1 = a.refresh(&s0.refresh_token, 100).unwrap();
        assert_ne!(s1.refresh_token, s0.refresh_token);
        // A second tab presenting the old token just after rotation gets the current pair.
        let again = a.refresh(&s0.refresh_token, 105).unwrap();
        assert_eq!(again.refresh_token, s1.refresh_token);
    }

    #[test]
    fn reuse_after_interval_revokes_the_session() {
        let mut a = svc();
        let s0 = a.sign_in("u1", 0);
        let s1 = a.refresh(&s0.refresh_token, 100).unwrap();
        assert!(a.refresh(&s0.refresh_token, 200).is_err());
        assert!(
            a.refresh(&s1.refresh_token, 201).is_err(),
            "whole session revoked"
        );
        let other = a.sign_in("u1", 300);
        assert!(a.refresh(&other.refresh_token, 301).is_ok());
        a.revoke_user("u1");
        assert!(a.refresh(&other.refresh_token, 302).is_err());
    }
}
