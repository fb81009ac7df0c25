//! Request/response over simulated TCP: length-prefixed JSON frames, one connection per
//! request, a client-side deadline that turns silence into an unknown outcome.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};
use turmoil::net::TcpStream;

use crate::backend::{DbError, Request, Response};

/// Port the store listens on.
pub const STORE_PORT: u16 = 5432;
/// Port the auth service listens on.
pub const AUTH_PORT: u16 = 9999;
const MAX_FRAME: usize = 16 << 20;

/// A message to a server host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Wire {
    /// A data request with its bearer token.
    Data {
        /// Access token.
        token: String,
        /// The request.
        request: Request,
    },
    /// A read that a host may serve only once it has replayed `min_lsn` (0: any state).
    Read {
        /// Access token.
        token: String,
        /// The request; replicas refuse anything but a select.
        request: Request,
        /// The LSN the serving host must have applied.
        min_lsn: u64,
    },
    /// Sign a user in.
    SignIn {
        /// User name.
        user: String,
    },
    /// Exchange a refresh token.
    Refresh {
        /// The refresh token.
        token: String,
    },
}

/// A host's answer to [`Wire::Read`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReadReply {
    /// The answer, or `None` when the host had not yet replayed the requested LSN.
    pub response: Option<Response>,
    /// The LSN the host had applied when it answered.
    pub lsn: u64,
}

/// Writes one frame.
pub async fn write_frame<T: Serialize>(stream: &mut TcpStream, msg: &T) -> std::io::Result<()> {
    let body = serde_json::to_vec(msg).map_err(std::io::Error::other)?;
    let len = u32::try_from(body.len()).map_err(std::io::Error::other)?;
    stream.write_all(&len.to_be_bytes()).await?;
    stream.write_all(&body).await?;
    stream.flush().await
}

/// Reads one frame.
pub async fn read_frame<T: DeserializeOwned>(stream: &mut TcpStream) -> std::io::Result<T> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::other("frame too large"));
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await?;
    serde_json::from_slice(&body).map_err(std::io::Error::other)
}

/// Sends `msg` to `host:port` and waits for the reply until `timeout`.
///
/// A failure before the request was written is [`DbError::Unreachable`] (it certainly
/// did not commit); silence after it was written is [`DbError::Timeout`] (it may have).
pub async fn call<R: DeserializeOwned>(
    host: &str,
    port: u16,
    msg: &Wire,
    timeout: Duration,
) -> Result<R, DbError> {
    let deadline = Instant::now() + timeout;
    let ms = timeout.as_millis() as u64;
    let mut stream = match timeout_at(deadline, TcpStream::connect((host, port))).await {
        Err(_) => return Err(DbError::Unreachable(format!("connect to {host} timed out"))),
        Ok(Err(e)) => return Err(DbError::Unreachable(format!("{host}: {e}"))),
        Ok(Ok(s)) => s,
    };
    match timeout_at(deadline, write_frame(&mut stream, msg)).await {
        Ok(Ok(())) => {}
        // Part of the request may be on the wire: the outcome is unknown.
        _ => return Err(DbError::Timeout(ms)),
    }
    match timeout_at(deadline, read_frame::<R>(&mut stream)).await {
        Ok(Ok(reply)) => Ok(reply),
        _ => Err(DbError::Timeout(ms)),
    }
}

/// Simulated milliseconds since the run started, as seen by the current host.
pub fn now_ms() -> u64 {
    turmoil::sim_elapsed().unwrap_or_default().as_millis() as u64
}

/// Simulated microseconds since the run started.
pub fn now_us() -> u64 {
    turmoil::sim_elapsed().unwrap_or_default().as_micros() as u64
}
