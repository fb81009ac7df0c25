//! The interface the logic under test talks to.
//!
//! Logic never sees turmoil or sqlx: it issues [`Request`]s through a [`Backend`], the way
//! an app talks to PostgREST. Every request is its own transaction (auto-commit), so
//! interleavings happen between requests, never inside one.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A row: a JSON object keyed by column name.
pub type Row = Map<String, Value>;

/// Equality filters, all of which must match (`col = value AND ...`).
pub type Filter = Vec<(String, Value)>;

/// One request, executed atomically as its own transaction at READ COMMITTED.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// `SELECT * FROM table WHERE filters`, ordered by primary key.
    Select {
        /// The table.
        table: String,
        /// Equality filters, all of which must match.
        filter: Filter,
    },
    /// `INSERT ... RETURNING *`; a unique violation is SQLSTATE 23505.
    Insert {
        /// The table.
        table: String,
        /// The new row.
        row: Row,
    },
    /// `UPDATE table SET patch WHERE filters RETURNING *`; zero matches is not an error.
    Update {
        /// The table.
        table: String,
        /// Which rows.
        filter: Filter,
        /// The columns to set.
        patch: Row,
    },
    /// `INSERT ... ON CONFLICT (cols) DO UPDATE SET ... RETURNING *`.
    Upsert {
        /// The table.
        table: String,
        /// The row to insert, or to update the conflicting row with.
        row: Row,
        /// The columns of the unique constraint the conflict is on.
        on_conflict: Vec<String>,
    },
    /// `DELETE FROM table WHERE filters RETURNING *`.
    Delete {
        /// The table.
        table: String,
        /// Which rows.
        filter: Filter,
    },
    /// A named server function that runs atomically (PL/pgSQL's twin).
    Rpc {
        /// The function's name.
        name: String,
        /// Its arguments, as one JSON object.
        args: Value,
    },
}

/// A successful response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
pub enum Response {
    /// Rows returned by select, insert, update, upsert or delete.
    Rows(Vec<Row>),
    /// The JSON result of an rpc.
    Value(Value),
}

impl Request {
    /// `SELECT * FROM table WHERE filter`.
    pub fn select(table: &str, filter: Filter) -> Self {
        Request::Select {
            table: table.into(),
            filter,
        }
    }

    /// `INSERT INTO table ... RETURNING *`.
    pub fn insert(table: &str, row: Row) -> Self {
        Request::Insert {
            table: table.into(),
            row,
        }
    }

    /// `UPDATE table SET patch WHERE filter RETURNING *`.
    pub fn update(table: &str, filter: Filter, patch: Row) -> Self {
        Request::Update {
            table: table.into(),
            filter,
            patch,
        }
    }

    /// `INSERT ... ON CONFLICT (on_conflict) DO UPDATE ... RETURNING *`.
    pub fn upsert(table: &str, row: Row, on_conflict: &[&str]) -> Self {
        Request::Upsert {
            table: table.into(),
            row,
            on_conflict: on_conflict.iter().map(|c| c.to_string()).collect(),
        }
    }

    /// `DELETE FROM table WHERE filter RETURNING *`.
    pub fn delete(table: &str, filter: Filter) -> Self {
        Request::Delete {
            table: table.into(),
            filter,
        }
    }

    /// A call to the server function `name`.
    pub fn rpc(name: &str, args: Value) -> Self {
        Request::Rpc {
            name: name.into(),
            args,
        }
    }
}

impl Response {
    /// The rows of a row-returning response (empty for an rpc value).
    pub fn rows(self) -> Vec<Row> {
        match self {
            Response::Rows(rows) => rows,
            Response::Value(_) => Vec::new(),
        }
    }

    /// The JSON value of an rpc response (rows become an array).
    pub fn value(self) -> Value {
        match self {
            Response::Value(v) => v,
            Response::Rows(rows) => Value::Array(rows.into_iter().map(Value::Object).collect()),
        }
    }
}

/// How a failed request failed, in the categories users are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCategory {
    /// Not signed in, token expired, session revoked.
    Auth,
    /// The request may not have reached the server, or its answer was lost.
    Network,
    /// A concurrent change won: version mismatch, unique violation, serialization failure.
    Conflict,
    /// The input was rejected.
    Validation,
}

/// An error from a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum DbError {
    /// The server answered with an SQL error; `code` is the SQLSTATE.
    #[error("SQLSTATE {code}: {message}")]
    Sql {
        /// The SQLSTATE, e.g. `23505`.
        code: String,
        /// The server's message.
        message: String,
    },
    /// HTTP 401 from the API gateway, e.g. "JWT expired".
    #[error("401 {0}")]
    Unauthorized(String),
    /// No answer within the client's timeout: the request may or may not have committed.
    #[error("timed out after {0} ms; outcome unknown")]
    Timeout(u64),
    /// The connection failed before the request could be sent: it did not commit.
    #[error("connection failed: {0}")]
    Unreachable(String),
    /// HTTP 409 from the app: an optimistic lock found a newer version.
    #[error("409 conflict: {0}")]
    Conflict(String),
}

/// SQLSTATE for a unique violation.
pub const UNIQUE_VIOLATION: &str = "23505";
/// SQLSTATE for a serialization failure.
pub const SERIALIZATION_FAILURE: &str = "40001";
/// SQLSTATE for a detected deadlock.
pub const DEADLOCK_DETECTED: &str = "40P01";
/// SQLSTATE raised by `raise exception` in server functions (P0001).
pub const RAISE_EXCEPTION: &str = "P0001";
/// SQLSTATE for an exclusion-constraint violation (two rows that must not overlap).
pub const EXCLUSION_VIOLATION: &str = "23P01";
/// SQLSTATE for a check or not-null violation used for rejected input.
pub const CHECK_VIOLATION: &str = "23514";
/// SQLSTATE for an undefined table or function.
pub const UNDEFINED_OBJECT: &str = "42883";

impl DbError {
    /// A SQL error with the given SQLSTATE.
    pub fn sql(code: &str, message: impl Into<String>) -> Self {
        DbError::Sql {
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// The SQLSTATE, if the server answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            DbError::Sql { code, .. } => Some(code),
            _ => None,
        }
    }

    /// True when the request might have committed although the client saw no answer.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, DbError::Timeout(_))
    }

    /// The category a user would be shown for this error.
    pub fn category(&self) -> ErrorCategory {
        match self {
            DbError::Unauthorized(_) => ErrorCategory::Auth,
            DbError::Timeout(_) | DbError::Unreachable(_) => ErrorCategory::Network,
            DbError::Conflict(_) => ErrorCategory::Conflict,
            DbError::Sql { code, .. } => match code.as_str() {
                UNIQUE_VIOLATION
                | EXCLUSION_VIOLATION
                | SERIALIZATION_FAILURE
                | DEADLOCK_DETECTED => ErrorCategory::Conflict,
                _ => ErrorCategory::Validation,
            },
        }
    }
}

/// Where a read may be served from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReadFrom {
    /// The primary: always current.
    #[default]
    Primary,
    /// Whatever the load balancer picks, possibly a lagging replica.
    Any,
    /// The load balancer's pick if it has replayed at least `lsn`, else the primary:
    /// session consistency for a client that carries the highest LSN it has seen.
    AtLeast {
        /// The LSN the serving host must have replayed.
        lsn: u64,
    },
}

/// A read's answer together with where it was served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Served {
    /// The answer.
    pub response: Response,
    /// The host that answered: `store` for the primary, or `replica-N`.
    pub host: String,
    /// The LSN the answering host had applied when it read; `None` when the backend
    /// cannot tell (then the read went to the primary).
    pub lsn: Option<u64>,
}

/// The data API a piece of logic under test talks to.
///
/// Implemented over the simulated store (through simulated TCP) and over PostgreSQL.
/// The trait uses `async fn` without `Send` bounds on purpose: simulated hosts are
/// single-threaded and their futures are `!Send`.
#[allow(async_fn_in_trait)]
pub trait Backend {
    /// Sends one request with the caller's access token and waits for its answer.
    async fn call(&self, token: &str, request: Request) -> Result<Response, DbError>;

    /// Sends a read where `from` allows and says where it was served. A backend without
    /// replicas serves every read from the primary, which satisfies any [`ReadFrom`].
    async fn read(&self, token: &str, request: Request, from: ReadFrom) -> Result<Served, DbError> {
        let _ = from;
        let response = self.call(token, request).await?;
        Ok(Served {
            response,
            host: "store".into(),
            lsn: None,
        })
    }
}

/// Builds a filter from `(column, value)` pairs.
pub fn filter<const N: usize>(pairs: [(&str, Value); N]) -> Filter {
    pairs.into_iter().map(|(c, v)| (c.to_string(), v)).collect()
}

/// Builds a row from `(column, value)` pairs.
pub fn row<const N: usize>(pairs: [(&str, Value); N]) -> Row {
    pairs.into_iter().map(|(c, v)| (c.to_string(), v)).collect()
}

/// The auth API a piece of logic signs in and refreshes through.
#[allow(async_fn_in_trait)]
pub trait AuthApi {
    /// Signs `user` in with a fresh session.
    async fn sign_in(&self, user: &str) -> Result<crate::store::auth::Session, DbError>;
    /// Exchanges a refresh token; a refused token is [`DbError::Unauthorized`].
    async fn refresh(&self, refresh_token: &str) -> Result<crate::store::auth::Session, DbError>;
}
