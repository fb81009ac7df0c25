//! The SQL files a run loads into its schema, compiled into the binary so `faultline` runs
//! from any directory. The files themselves live in `sql/` at the top of the repository.

/// One SQL file: its path in the repository (for error messages) and its text.
#[derive(Debug, Clone, Copy)]
pub struct SqlFile {
    /// Path relative to the repository root.
    pub path: &'static str,
    /// The statements.
    pub text: &'static str,
}

macro_rules! sql_file {
    ($path:literal) => {
        SqlFile {
            path: concat!("sql/", $path),
            text: include_str!(concat!("../../sql/", $path)),
        }
    };
}

/// Loaded first into every schema: the version and serial triggers.
pub const PRELUDE: SqlFile = sql_file!("prelude.sql");

/// Every logic's files: its tables, one file per variant (constraints its migration adds),
/// and its server functions.
const LOGICS: &[(&str, &[SqlFile])] = &[
    (
        "business_cards",
        &[
            sql_file!("business_cards/schema.sql"),
            sql_file!("business_cards/naive.sql"),
            sql_file!("business_cards/documented.sql"),
            sql_file!("business_cards/reference.sql"),
            sql_file!("business_cards/functions.sql"),
        ],
    ),
    (
        "chat_persistence",
        &[
            sql_file!("chat_persistence/schema.sql"),
            sql_file!("chat_persistence/naive.sql"),
            sql_file!("chat_persistence/documented.sql"),
            sql_file!("chat_persistence/reference.sql"),
            sql_file!("chat_persistence/functions.sql"),
        ],
    ),
    (
        "story_progress",
        &[
            sql_file!("story_progress/schema.sql"),
            sql_file!("story_progress/naive.sql"),
            sql_file!("story_progress/documented.sql"),
            sql_file!("story_progress/reference.sql"),
            sql_file!("story_progress/functions.sql"),
        ],
    ),
    (
        "loop_export",
        &[
            sql_file!("loop_export/schema.sql"),
            sql_file!("loop_export/naive.sql"),
            sql_file!("loop_export/documented.sql"),
            sql_file!("loop_export/reference.sql"),
        ],
    ),
    (
        "offline_sync",
        &[
            sql_file!("offline_sync/schema.sql"),
            sql_file!("offline_sync/functions.sql"),
        ],
    ),
];

/// Names of the logics that can run on PostgreSQL.
pub fn supported() -> Vec<&'static str> {
    LOGICS.iter().map(|(name, _)| *name).collect()
}

/// The files to load, in order, for `logic` run as `schema_variant`: the prelude, the
/// schema, the variant's own file, then the functions. `None` when the logic has no
/// PostgreSQL mode.
pub fn for_variant(logic: &str, schema_variant: &str) -> Option<Vec<SqlFile>> {
    let (_, files) = LOGICS.iter().find(|(name, _)| *name == logic)?;
    let own = format!("/{schema_variant}.sql");
    let mut out = vec![PRELUDE];
    for f in files.iter() {
        let stem = f.path.rsplit('/').next().unwrap_or_default();
        let is_variant_file = !matches!(stem, "schema.sql" | "functions.sql");
        if !is_variant_file || f.path.ends_with(&own) {
            out.push(*f);
        }
    }
    // Tables before variant constraints before functions, whatever the listing order.
    out[1..].sort_by_key(|f| match f.path.rsplit('/').next() {
        Some("schema.sql") => 0,
        Some("functions.sql") => 2,
        _ => 1,
    });
    Some(out)
}
