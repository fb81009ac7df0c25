//! The client side of the simulated world: [`Backend`] and [`AuthApi`] over simulated TCP.

use std::time::Duration;

use super::net::{call, Wire, AUTH_PORT, STORE_PORT};
use crate::backend::{AuthApi, Backend, DbError, Request, Response};
use crate::store::auth::{AuthError, Session};

/// Talks to the `store` host; every request has the client's timeout.
#[derive(Debug, Clone)]
pub struct SimBackend {
    /// How long to wait for an answer before calling the outcome unknown.
    pub timeout: Duration,
}

impl Backend for SimBackend {
    async fn call(&self, token: &str, request: Request) -> Result<Response, DbError> {
        let msg = Wire::Data {
            token: token.into(),
            request,
        };
        call::<Result<Response, DbError>>("store", STORE_PORT, &msg, self.timeout).await?
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
        reply.map_err(|e| DbError::Unauthorized(e.to_string()))
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
