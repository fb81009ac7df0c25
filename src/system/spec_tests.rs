//! Tests of [`SystemSpec`]: what it refuses when built, and how it installs and loads.

use super::*;
use crate::system::client_fn;

fn idle() -> Variant {
    Variant::new("idle", client_fn(|_ctx, _script| async { Ok(()) }))
}

#[test]
fn an_invariant_reading_an_undefined_table_is_refused() {
    let spec = SystemSpec::new("s")
        .table(TableDef::new("bookings"))
        .variant(idle())
        .invariant(Invariant::new("i", |_, _| Verdict::holds("i")).reads("booking"));
    let err = spec.self_check().expect_err("misspelt table").to_string();
    assert!(
        err.contains("`booking`") && err.contains("bookings"),
        "{err}"
    );
    let ok = SystemSpec::new("s")
        .table(TableDef::new("bookings"))
        .variant(idle())
        .invariant(Invariant::new("i", |_, _| Verdict::holds("i")).reads("bookings"));
    assert!(ok.self_check().is_ok());
}

#[test]
fn a_situation_reading_an_undefined_table_or_variant_is_refused() {
    let never = || Situation::when("s", "never", |_, _| false);
    let base = || {
        SystemSpec::new("s")
            .table(TableDef::new("t"))
            .variant(idle())
    };
    let table = base().situation(never().reads("u"));
    assert!(table.self_check().unwrap_err().to_string().contains("`u`"));
    let variant = base().situation(never().only_for(&["other"]));
    assert!(variant
        .self_check()
        .unwrap_err()
        .to_string()
        .contains("`other`"));
    let ok = base().situation(never().reads("t").only_for(&["idle"]));
    assert!(ok.self_check().is_ok());
    assert_eq!(ok.situations().len(), 1);
}

#[test]
fn a_system_without_variants_or_with_an_undefined_audit_is_refused() {
    let none = SystemSpec::new("s").table(TableDef::new("t"));
    assert!(none
        .self_check()
        .unwrap_err()
        .to_string()
        .contains("no variant"));
    let audit = SystemSpec::new("s").variant(idle()).audit("t");
    assert!(audit.self_check().unwrap_err().to_string().contains("`t`"));
}

#[test]
fn a_missing_sql_file_is_named() {
    let err = crate::system::SqlFile::read("sql/no_such_file.sql").unwrap_err();
    assert!(matches!(err, crate::Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("sql/no_such_file.sql"), "{err}");
}

#[test]
fn added_variants_excuse_only_the_missing_variants_of_the_system() {
    let scenario = crate::scenario::Scenario::parse(
        "s.toml".as_ref(),
        "name = \"s\"\ndescription = \"d\"\nlogic = \"s\"\n".to_string(),
    )
    .unwrap();
    let extend = |spec: SystemSpec| {
        crate::system::Extended::new(Box::new(spec), vec![idle()], true, &scenario).unwrap()
    };
    let bare = extend(SystemSpec::new("s").table(TableDef::new("t")));
    assert!(bare.self_check().is_ok(), "only added variants run");
    let misspelt = extend(
        SystemSpec::new("s")
            .table(TableDef::new("t"))
            .invariant(Invariant::new("i", |_, _| Verdict::holds("i")).reads("tt")),
    );
    let err = misspelt
        .self_check()
        .expect_err("the table is still undefined");
    assert!(err.to_string().contains("`tt`"), "{err}");
    assert!(misspelt.definition_check().is_err());
}

#[test]
fn an_invariant_names_its_verdict_and_an_unknown_one_is_a_violation() {
    let spec = SystemSpec::new("s")
        .variant(idle())
        .invariant(Invariant::new("mine", |_, _| Verdict::holds("whatever")));
    let (h, st) = (History::default(), FinalState::default());
    assert_eq!(spec.check("mine", &h, &st), Verdict::holds("mine"));
    assert!(!spec.check("other", &h, &st).is_ok());
    assert_eq!(spec.variants(), vec!["idle"]);
    assert_eq!(spec.schema_of("idle"), "default");
    assert!(spec.sql_files("default").is_none());
}

fn sql(path: &str) -> SqlFile {
    SqlFile::new(path, "")
}

#[test]
fn a_schema_table_replaces_the_shared_one_only_for_its_schema() {
    let spec = SystemSpec::new("s")
        .table(TableDef::new("t"))
        .schema_table("strict", TableDef::new("t").unique(&["k"]))
        .variant(idle().schema("strict"))
        .variant(Variant::new(
            "loose",
            client_fn(|_ctx, _script| async { Ok(()) }),
        ));
    assert!(spec.self_check().is_ok());
    let rows = serde_json::json!([]);
    let insert_twice = |variant: &str| {
        let mut store = Store::new(SimRng::root(1));
        spec.install(variant, &mut store, &rows).unwrap();
        let row = |id: i64| {
            serde_json::json!({"id": id, "k": 1})
                .as_object()
                .cloned()
                .unwrap()
        };
        store.insert("t", row(1)).unwrap();
        store.insert("t", row(2)).is_ok()
    };
    assert!(
        !insert_twice("idle"),
        "the strict schema's unique key holds"
    );
    assert!(insert_twice("loose"), "the shared table has no unique key");
}

#[test]
fn a_schema_table_of_an_undefined_table_is_refused() {
    let spec = SystemSpec::new("s")
        .table(TableDef::new("t"))
        .schema_table("strict", TableDef::new("u"))
        .variant(idle());
    let err = spec.self_check().unwrap_err().to_string();
    assert!(err.contains("`strict`") && err.contains("`u`"), "{err}");
}

#[test]
fn sql_loads_tables_then_the_schemas_own_files_then_functions() {
    let spec = SystemSpec::new("s")
        .functions_sql(sql("functions.sql"))
        .schema_sql("a", sql("a.sql"))
        .sql(sql("schema.sql"))
        .schema_sql("b", sql("b.sql"));
    let paths = |schema: &str| {
        spec.sql_files(schema)
            .map(|files| files.into_iter().map(|f| f.path).collect::<Vec<_>>())
    };
    assert_eq!(
        paths("a"),
        Some(vec![
            "schema.sql".into(),
            "a.sql".into(),
            "functions.sql".into()
        ])
    );
    assert_eq!(
        paths("b"),
        Some(vec![
            "schema.sql".into(),
            "b.sql".into(),
            "functions.sql".into()
        ])
    );
    assert_eq!(
        paths("c"),
        None,
        "schemas have files of their own; c has none"
    );
    let shared = SystemSpec::new("s").functions_sql(sql("f.sql"));
    assert_eq!(
        shared.sql_files("any").map(|f| f.len()),
        Some(1),
        "without per-schema files every schema loads the shared ones"
    );
}
