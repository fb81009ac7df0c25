//! Notices a PostgreSQL server that stopped answering during a run.

use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use crate::error::Error;

/// Resolves only when the server stops answering: pings it on a connection of its own
/// every half `timeout`, each ping allowed `timeout`, and returns the harness failure to
/// report. A run that ends first simply drops this future.
pub async fn server_gone(options: &PgConnectOptions, timeout: Duration) -> Error {
    let options = options.clone().application_name("faultline-watchdog");
    let gone = |why: String| {
        Error::Harness(format!(
            "the PostgreSQL server at {}:{} stopped answering ({why})",
            options.get_host(),
            options.get_port()
        ))
    };
    let mut conn = match tokio::time::timeout(timeout, PgConnection::connect_with(&options)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return gone(e.to_string()),
        Err(_) => return gone(format!("no connection within {} ms", timeout.as_millis())),
    };
    // A closed connection is certain; a slow answer may be a busy machine, so only two
    // in a row count.
    let mut slow = 0;
    loop {
        tokio::time::sleep(timeout / 2).await;
        match tokio::time::timeout(timeout, conn.ping()).await {
            Ok(Ok(())) => slow = 0,
            Ok(Err(e)) => return gone(e.to_string()),
            Err(_) if slow == 0 => slow = 1,
            Err(_) => {
                return gone(format!(
                    "no answer within {} ms, twice",
                    timeout.as_millis()
                ))
            }
        }
    }
}
