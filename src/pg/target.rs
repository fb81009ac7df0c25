//! Which PostgreSQL a run uses, and the guard against running on a database that matters.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use crate::error::{Error, Result};

/// The environment variable naming the database.
pub const DATABASE_URL: &str = "DATABASE_URL";

/// A database the harness may create schemas in.
#[derive(Debug, Clone)]
pub struct PgTarget {
    /// The connection URL, as given.
    pub url: String,
    /// The parsed options (host, port, user, database).
    pub options: PgConnectOptions,
    /// A streaming replica of the same database, from `FAULTLINE_REPLICA_URL`, for
    /// scenarios that read through a load balancer.
    pub replica: Option<PgConnectOptions>,
}

/// The environment variable naming the replica.
pub const REPLICA_URL: &str = "FAULTLINE_REPLICA_URL";

impl PgTarget {
    /// The database in `$DATABASE_URL`.
    ///
    /// Runs create and drop schemas, so a database whose name lacks `test` is refused
    /// unless `allow_any_database` says the user meant it.
    pub fn from_env(allow_any_database: bool) -> Result<Self> {
        let url = std::env::var(DATABASE_URL).map_err(|_| {
            Error::Usage(format!(
                "--backend postgres needs {DATABASE_URL}, e.g. \
                 postgres://postgres@127.0.0.1:55432/faultline_test \
                 (`eval \"$(bash .ci/postgres.sh)\"` starts one)"
            ))
        })?;
        let mut target = Self::parse(&url, allow_any_database)?;
        if let Ok(replica) = std::env::var(REPLICA_URL) {
            target.replica = Some(PgConnectOptions::from_str(&replica).map_err(|e| {
                Error::Usage(format!(
                    "{REPLICA_URL} is not a PostgreSQL URL ({e}); expected postgres://user@host:port/dbname"
                ))
            })?);
        }
        Ok(target)
    }

    /// Parses `url` and applies the database-name guard.
    pub fn parse(url: &str, allow_any_database: bool) -> Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            Error::Usage(format!(
                "{DATABASE_URL} is not a PostgreSQL URL ({e}); expected postgres://user@host:port/dbname"
            ))
        })?;
        let db = options.get_database().unwrap_or_default().to_string();
        if !allow_any_database && !names_a_test_database(&db) {
            let shown = if db.is_empty() {
                "(none)".to_string()
            } else {
                db
            };
            return Err(Error::Usage(format!(
                "refusing to run on database `{shown}`: `test` is not a word of its name \
                 (expected `test`, `test_x`, `x_test` or `x_test_y`, `_` or `-` separated; \
                 `latest_orders` or `contest` do not count). \
                 faultline creates and drops schemas in the database it is given, so it only \
                 touches databases named for testing. Point {DATABASE_URL} at one, or pass \
                 --allow-any-database if you mean it"
            )));
        }
        Ok(Self {
            url: url.to_string(),
            options,
            replica: None,
        })
    }

    /// The database's name.
    pub fn database(&self) -> &str {
        self.options.get_database().unwrap_or_default()
    }

    /// `host:port` of the server, for the fault proxies to forward to.
    pub fn server_addr(&self) -> Result<std::net::SocketAddr> {
        use std::net::ToSocketAddrs;
        let host = self.options.get_host();
        let port = self.options.get_port();
        (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "cannot resolve the PostgreSQL server `{host}:{port}`; the fault proxy needs a TCP address"
                ))
            })
    }
}

/// True when `test` is a whole word of the database name, words being separated by `_`
/// or `-`: a name that merely contains the letters (`latest_orders`, `contest`) is
/// someone's real data as far as faultline can tell.
pub fn names_a_test_database(db: &str) -> bool {
    db.split(['_', '-']).any(|w| w.eq_ignore_ascii_case("test"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_without_test_in_its_name_is_refused_and_the_reason_given() {
        let err = PgTarget::parse("postgres://u@localhost/prod", false).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Usage(_)));
        assert!(
            msg.contains("`prod`") && msg.contains("--allow-any-database"),
            "{msg}"
        );
        assert!(PgTarget::parse("postgres://u@localhost/prod", true).is_ok());
        let ok = PgTarget::parse("postgres://u@localhost/app_test", false).unwrap();
        assert_eq!(ok.database(), "app_test");
    }

    #[test]
    fn the_guard_matches_test_as_a_word_only() {
        for ok in [
            "test",
            "test_x",
            "x_test",
            "x_test_y",
            "x-test",
            "test-y",
            "faultline_test",
        ] {
            assert!(names_a_test_database(ok), "{ok} should pass");
        }
        for bad in [
            "latest_orders",
            "contest",
            "testing",
            "attest_db",
            "tests",
            "",
        ] {
            assert!(!names_a_test_database(bad), "{bad} should be refused");
        }
        let Err(err) = PgTarget::parse("postgres://u@localhost/latest_orders", false) else {
            panic!("latest_orders must be refused");
        };
        let msg = err.to_string();
        assert!(
            msg.contains("`latest_orders`") && msg.contains("not a word"),
            "{msg}"
        );
        assert!(PgTarget::parse("postgres://u@localhost/latest_orders", true).is_ok());
    }

    #[test]
    fn a_malformed_url_is_a_usage_error() {
        let err = PgTarget::parse("mysql://x", false).unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err}");
    }
}
