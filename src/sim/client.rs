//! The client side of the simulated world: [`Backend`] and [`AuthApi`] over simulated TCP.

use std::cell::RefCell;
use std::time::Duration;

use super::net::{call, ReadReply, Wire, AUTH_PORT, STORE_PORT};
use crate::backend::{AuthApi, Backend, DbError, ReadFrom, Request, Response, Served};
use crate::rng::SimRng;
use crate::store::auth::{AuthError, Session};

/// Talks to the `store` host, and for routed reads to a load balancer in front of the
/// store and its `replica-N` hosts; every request has the client's timeout.
#[derive(Debug, Clone)]
pub struct SimBackend {
    /// How long to wait for an answer before calling the outcome unknown.
    pub timeout: Duration,
    /// The replica hosts behind the load balancer (none: every read goes to the primary).
    pub replicas: Vec<String>,
    /// The load balancer's picks, forked from the client's randomness; drawn only for
    /// routed reads when there are replicas, so worlds without replicas draw nothing.
    pub balancer: RefCell<SimRng>,
}

impl SimBackend {
    /// A backend with no replicas.
    pub fn new(timeout: Duration, balancer: SimRng) -> Self {
        Self {
            timeout,
            replicas: Vec::new(),
            balancer: RefCell::new(balancer),
        }
    }

    /// The load balancer: the primary and every replica are equally likely.
    fn pick(&self) -> String {
        if self.replicas.is_empty() {
            return "store".into();
        }
        let i = self.balancer.borrow_mut().index(self.replicas.len() + 1);
        self.replicas
            .get(i)
            .cloned()
            .unwrap_or_else(|| "store".into())
    }

    async fn read_on(
        &self,
        host: &str,
        token: &str,
        request: Request,
        min_lsn: u64,
    ) -> Result<ReadReply, DbError> {
        let msg = Wire::Read {
            token: token.into(),
            request,
            min_lsn,
        };
        call::<Result<ReadReply, DbError>>(host, STORE_PORT, &msg, self.timeout).await?
    }
}

impl Backend for SimBackend {
    async fn call(&self, token: &str, request: Request) -> Result<Response, DbError> {
        let msg = Wire::Data {
            token: token.into(),
            request,
        };
        call::<Result<Response, DbError>>("store", STORE_PORT, &msg, self.timeout).await?
    }

    async fn read(&self, token: &str, request: Request, from: ReadFrom) -> Result<Served, DbError> {
        let (host, min_lsn) = match from {
            ReadFrom::Primary => ("store".to_string(), 0),
            ReadFrom::Any => (self.pick(), 0),
            ReadFrom::AtLeast { lsn } => (self.pick(), lsn),
        };
        let reply = self.read_on(&host, token, request.clone(), min_lsn).await?;
        if let Some(response) = reply.response {
            return Ok(Served {
                response,
                host,
                lsn: Some(reply.lsn),
            });
        }
        // The picked replica is behind the session: the primary never is.
        let reply = self.read_on("store", token, request, 0).await?;
        Ok(Served {
            response: reply.response.unwrap_or(Response::Rows(Vec::new())),
            host: "store".into(),
            lsn: Some(reply.lsn),
        })
    }
}

/// Talks to the `auth` host.
#[derive(Debug, Clone)]
pub struct SimAuth {
    /// How long to wait for an answer.
    pub timeout: Duration,
}

impl SimAuth {
    async fn ask(&self, msg: Wire) -> Result<Session, DbError> {
        let reply =
            call::<Result<Session, AuthError>>("auth", AUTH_PORT, &msg, self.timeout).await?;
        // A refusal during an interruption certainly did nothing: the client may retry.
        reply.map_err(|e| match e {
            AuthError::Unavailable(why) => DbError::Unreachable(why),
            e => DbError::Unauthorized(e.to_string()),
        })
    }
}

impl AuthApi for SimAuth {
    async fn sign_in(&self, user: &str) -> Result<Session, DbError> {
        self.ask(Wire::SignIn { user: user.into() }).await
    }

    async fn refresh(&self, refresh_token: &str) -> Result<Session, DbError> {
        self.ask(Wire::Refresh {
            token: refresh_token.into(),
        })
        .await
    }
}
