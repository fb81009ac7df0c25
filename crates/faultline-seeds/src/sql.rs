//! The seed systems' SQL files, compiled in so the binary runs from any directory: per
//! system its tables (`schema.sql`), one file per schema with the constraints that
//! schema's migration adds, and its server functions (`functions.sql`).

use faultline::system::{SqlFile, SystemSpec};

macro_rules! sql_file {
    ($path:literal) => {
        (
            concat!("crates/faultline-seeds/sql/", $path),
            include_str!(concat!("../sql/", $path)),
        )
    };
}

type Files = &'static [(&'static str, &'static str)];

const BUSINESS_CARDS: Files = &[
    sql_file!("business_cards/schema.sql"),
    sql_file!("business_cards/naive.sql"),
    sql_file!("business_cards/documented.sql"),
    sql_file!("business_cards/reference.sql"),
    sql_file!("business_cards/functions.sql"),
];
const CHAT: Files = &[
    sql_file!("chat_persistence/schema.sql"),
    sql_file!("chat_persistence/naive.sql"),
    sql_file!("chat_persistence/documented.sql"),
    sql_file!("chat_persistence/reference.sql"),
    sql_file!("chat_persistence/functions.sql"),
];
const STORY: Files = &[
    sql_file!("story_progress/schema.sql"),
    sql_file!("story_progress/naive.sql"),
    sql_file!("story_progress/documented.sql"),
    sql_file!("story_progress/reference.sql"),
    sql_file!("story_progress/functions.sql"),
];
const LOOPS: Files = &[
    sql_file!("loop_export/schema.sql"),
    sql_file!("loop_export/naive.sql"),
    sql_file!("loop_export/documented.sql"),
    sql_file!("loop_export/reference.sql"),
];
const OFFLINE: Files = &[
    sql_file!("offline_sync/schema.sql"),
    sql_file!("offline_sync/functions.sql"),
];

/// Adds the SQL files of `logic` to `spec`: its tables first (`schema.sql`), one file
/// per schema with the constraints that schema's migration adds (named for the schema),
/// its functions last (`functions.sql`).
pub fn onto(spec: SystemSpec, logic: &str) -> SystemSpec {
    let files = match logic {
        "business_cards" => BUSINESS_CARDS,
        "chat_persistence" => CHAT,
        "story_progress" => STORY,
        "loop_export" => LOOPS,
        "offline_sync" => OFFLINE,
        _ => return spec,
    };
    files.iter().fold(spec, |spec, (path, text)| {
        let file = SqlFile::new(*path, *text);
        let stem = path.rsplit('/').next().unwrap_or_default();
        match stem.strip_suffix(".sql").unwrap_or(stem) {
            "schema" => spec.sql(file),
            "functions" => spec.functions_sql(file),
            schema => spec.schema_sql(schema, file),
        }
    })
}
