//! The SQL every run schema gets before a system's own files: the version and serial
//! triggers the simulated store has built in. A system's own files come from
//! [`crate::system::System::sql_files`].

pub use crate::system::SqlFile;

/// Loaded first into every schema: the version and serial triggers.
pub fn prelude() -> SqlFile {
    SqlFile::new("sql/prelude.sql", include_str!("../../sql/prelude.sql"))
}

/// The files to load, in order, for `system` running `variant`: the prelude, then the
/// system's files for the variant's schema. `None` when the system has no PostgreSQL mode.
pub fn for_variant(system: &dyn crate::system::System, variant: &str) -> Option<Vec<SqlFile>> {
    let own = system.sql_files(&system.schema_of(variant))?;
    Some(std::iter::once(prelude()).chain(own).collect())
}

/// A fresh simulated store holding `system`'s tables and server functions as `variant`
/// installs them (no setup rows): the twin that its SQL files must match.
pub fn twin_store(
    system: &dyn crate::system::System,
    variant: &str,
) -> crate::Result<crate::store::Store> {
    let mut store = crate::store::Store::new(crate::rng::SimRng::root(0));
    system.install(variant, &mut store, &serde_json::json!([]))?;
    Ok(store)
}

/// The server functions `system`'s simulated twin has when running `variant`: what the
/// SQL files must define, no more and no less (see [`super::functions`]).
pub fn twin_functions(
    system: &dyn crate::system::System,
    variant: &str,
) -> crate::Result<Vec<String>> {
    Ok(twin_store(system, variant)?.function_names())
}
