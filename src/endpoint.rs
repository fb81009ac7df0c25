//! Where a client's requests go: the simulated store over simulated TCP, or PostgreSQL.
//!
//! Scenario logic is generic over [`Backend`] and [`AuthApi`]; the registry of scenarios
//! hands every client one concrete pair, these enums, so a scenario needs no second entry
//! point to run against a real database.

use crate::backend::{AuthApi, Backend, DbError, ReadFrom, Request, Response, Served};
#[cfg(feature = "postgres")]
use crate::pg::{LocalAuth, PgBackend};
use crate::sim::client::{SimAuth, SimBackend};
use crate::store::auth::Session;

/// A client's data API.
// One per client, built once and never moved on a hot path: boxing the simulated variant
// would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum AnyBackend {
    /// The simulated store, through the simulated network.
    Sim(SimBackend),
    /// A PostgreSQL schema, through the fault-injecting proxy.
    #[cfg(feature = "postgres")]
    Pg(PgBackend),
}

/// A client's auth API.
pub enum AnyAuth {
    /// The simulated auth host.
    Sim(SimAuth),
    /// The auth service in the harness's own process, on the wall clock.
    #[cfg(feature = "postgres")]
    Local(LocalAuth),
}

impl Backend for AnyBackend {
    async fn call(&self, token: &str, request: Request) -> Result<Response, DbError> {
        match self {
            AnyBackend::Sim(b) => b.call(token, request).await,
            #[cfg(feature = "postgres")]
            AnyBackend::Pg(b) => b.call(token, request).await,
        }
    }

    async fn read(&self, token: &str, request: Request, from: ReadFrom) -> Result<Served, DbError> {
        match self {
            AnyBackend::Sim(b) => b.read(token, request, from).await,
            #[cfg(feature = "postgres")]
            AnyBackend::Pg(b) => b.read(token, request, from).await,
        }
    }
}

impl AuthApi for AnyAuth {
    async fn sign_in(&self, user: &str) -> Result<Session, DbError> {
        match self {
            AnyAuth::Sim(a) => a.sign_in(user).await,
            #[cfg(feature = "postgres")]
            AnyAuth::Local(a) => a.sign_in(user).await,
        }
    }

    async fn refresh(&self, refresh_token: &str) -> Result<Session, DbError> {
        match self {
            AnyAuth::Sim(a) => a.refresh(refresh_token).await,
            #[cfg(feature = "postgres")]
            AnyAuth::Local(a) => a.refresh(refresh_token).await,
        }
    }
}
