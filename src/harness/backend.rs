//! Which backend a Harness run uses when the test does not say: `FAULTLINE_BACKEND`, so
//! one `#[test]` gates on the simulator by default and on PostgreSQL in a CI job that sets
//! `FAULTLINE_BACKEND=postgres` and `DATABASE_URL`.

use crate::error::{Error, Result};
use crate::runner::Target;

/// The variable that picks the backend: `sim` (the default) or `postgres`.
pub const BACKEND_VAR: &str = "FAULTLINE_BACKEND";

/// The backend `FAULTLINE_BACKEND` names, or `None` when it is unset or empty.
pub(super) fn from_env() -> Result<Option<Target>> {
    let Some(value) = std::env::var(BACKEND_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(None);
    };
    named(value.trim()).map(Some)
}

fn named(value: &str) -> Result<Target> {
    match value {
        "sim" => Ok(Target::Sim),
        #[cfg(feature = "postgres")]
        "postgres" => Ok(Target::Postgres(Box::new(
            // A test names its database through DATABASE_URL, which the guard requires to
            // look like a test database: a Harness must never drop schemas elsewhere.
            crate::pg::PgTarget::from_env(false)?,
        ))),
        #[cfg(not(feature = "postgres"))]
        "postgres" => Err(Error::Usage(format!(
            "{BACKEND_VAR}=postgres, but faultline was built without its `postgres` feature"
        ))),
        other => Err(Error::Usage(format!(
            "{BACKEND_VAR}={other}: expected `sim` or `postgres`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_strict() {
        assert!(matches!(named("sim"), Ok(Target::Sim)));
        let err = named("pg").unwrap_err().to_string();
        assert!(
            err.contains("FAULTLINE_BACKEND=pg") && err.contains("`postgres`"),
            "{err}"
        );
    }
}
