//! The seed systems' SQL files, compiled in so the binary runs from any directory: per
//! system its tables (`schema.sql`), one file per schema with the constraints that
//! schema's migration adds, and its server functions (`functions.sql`).

use faultline::system::SqlFile;

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

/// The files of `logic` for `schema`, in load order: tables, the schema's own file (if
/// it has one), functions. `None` for a logic without SQL or a schema it does not have.
pub fn for_schema(logic: &str, schema: &str) -> Option<Vec<SqlFile>> {
    let files = match logic {
        "business_cards" => BUSINESS_CARDS,
        "chat_persistence" => CHAT,
        "story_progress" => STORY,
        "loop_export" => LOOPS,
        "offline_sync" => OFFLINE,
        _ => return None,
    };
    let stem = |path: &str| path.rsplit('/').next().unwrap_or_default().to_string();
    let shared = |path: &str| matches!(stem(path).as_str(), "schema.sql" | "functions.sql");
    let has_own = files.iter().any(|(p, _)| !shared(p));
    let own = format!("{schema}.sql");
    if has_own && !files.iter().any(|(p, _)| stem(p) == own) {
        return None;
    }
    let mut out: Vec<SqlFile> = files
        .iter()
        .filter(|(p, _)| shared(p) || stem(p) == own)
        .map(|(p, t)| SqlFile::new(*p, *t))
        .collect();
    // Tables before the schema's constraints before functions, whatever the listing order.
    out.sort_by_key(|f| match stem(&f.path).as_str() {
        "schema.sql" => 0,
        "functions.sql" => 2,
        _ => 1,
    });
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_come_in_load_order_and_unknown_schemas_have_none() {
        let files = for_schema("business_cards", "documented").unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            names,
            [
                "crates/faultline-seeds/sql/business_cards/schema.sql",
                "crates/faultline-seeds/sql/business_cards/documented.sql",
                "crates/faultline-seeds/sql/business_cards/functions.sql",
            ]
        );
        assert!(for_schema("business_cards", "nope").is_none());
        assert_eq!(for_schema("offline_sync", "anything").unwrap().len(), 2);
        assert!(for_schema("unknown", "reference").is_none());
    }
}
