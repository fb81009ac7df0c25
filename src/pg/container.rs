//! A throwaway PostgreSQL in Docker for tests, when built with the `testcontainers`
//! feature and no `DATABASE_URL` is given.

use std::sync::OnceLock;

use testcontainers_modules::postgres::Postgres;
use testcontainers_modules::testcontainers::runners::SyncRunner;
use testcontainers_modules::testcontainers::ImageExt;

use super::target::PgTarget;

static STARTED: OnceLock<Option<String>> = OnceLock::new();

/// The container's database, started once per test process; `None` when Docker does not
/// answer (the caller then skips or fails as `FAULTLINE_REQUIRE_POSTGRES` says).
pub fn start() -> Option<PgTarget> {
    let url = STARTED.get_or_init(|| {
        let node = Postgres::default()
            .with_db_name("faultline_test")
            .with_tag("16-alpine")
            .start()
            .map_err(|e| eprintln!("testcontainers: no PostgreSQL container: {e}"))
            .ok()?;
        let port = node.get_host_port_ipv4(5432).ok()?;
        // The container outlives every test of this process; testcontainers' reaper
        // removes it when the process is gone.
        std::mem::forget(node);
        Some(format!(
            "postgres://postgres:postgres@127.0.0.1:{port}/faultline_test"
        ))
    });
    url.as_deref().and_then(|u| PgTarget::parse(u, false).ok())
}
