//! `faultline pg cleanup`: drops the schemas that a killed or crashed run left behind.

use crate::error::{Error, Result};

/// Without the `postgres` feature there is no database to clean.
#[cfg(not(feature = "postgres"))]
pub(super) fn cleanup(_dry_run: bool, _allow_any_database: bool) -> Result<bool> {
    Err(Error::Usage(
        "this binary was built without PostgreSQL support (cargo feature `postgres`)".into(),
    ))
}

/// Lists, and unless `dry_run` drops, every marked faultline schema of `DATABASE_URL`.
#[cfg(feature = "postgres")]
pub(super) fn cleanup(dry_run: bool, allow_any_database: bool) -> Result<bool> {
    use sqlx::Connection;
    let target = crate::pg::PgTarget::from_env(allow_any_database)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Harness(format!("starting a runtime: {e}")))?;
    let names = rt.block_on(async {
        let mut conn = sqlx::PgConnection::connect_with(&target.options)
            .await
            .map_err(|e| Error::Usage(format!("connecting to {}: {e}", target.database())))?;
        crate::pg::schema::cleanup(&mut conn, dry_run).await
    })?;
    let verb = if dry_run { "would drop" } else { "dropped" };
    for name in &names {
        println!("{verb} schema {name}");
    }
    println!(
        "{} faultline schema(s) {} in database {}",
        names.len(),
        if dry_run {
            "would be dropped"
        } else {
            "dropped"
        },
        target.database()
    );
    Ok(true)
}
