//! The conformance helper itself: it passes a twin that does what its SQL does, catches
//! one that drifts (and shrinks the sequence to the request that shows it), and refuses
//! SQL whose functions are not the twin's, leaving no schema behind.
//!
//! Needs a database (see `faultline::pg::testing`); skipped with one line without one.

use faultline::backend::{filter, row, DbError, Request};
use faultline::conformance::{Conformance, Outcome};
use faultline::pg::testing::database_for;
use faultline::pg::PgTarget;
use faultline::plan::Workload;
use faultline::store::{ServerFn, Store, TableDef};
use faultline::system::{client_fn, Registry, SqlFile, SystemSpec, Variant};
use proptest::prelude::*;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, Row as _};

const TABLE_SQL: &str = "create table counters (id bigint primary key, n bigint not null \
    default 0, version bigint not null default 1);\n\
    create trigger counters_version before update on counters for each row \
    execute function faultline_bump_version('version');\n";

const ADD_SQL: &str = "-- adds `by` to a counter\n\
    create function add(args jsonb) returns jsonb language plpgsql as $$\n\
    declare made counters;\n\
    begin\n\
      update counters set n = n + (args ->> 'by')::bigint\n\
        where id = (args ->> 'id')::bigint returning * into made;\n\
      if not found then\n\
        raise exception 'no counter %', args ->> 'id' using errcode = 'P0002';\n\
      end if;\n\
      return jsonb_build_object('n', made.n, 'version', made.version);\n\
    end $$;\n";

fn add_by(store: &mut Store, args: &Value, extra: i64) -> Result<Value, DbError> {
    let id = args["id"].clone();
    let by = args["by"].as_i64().unwrap_or(0);
    let Some(found) = store
        .select("counters", &filter([("id", id.clone())]))?
        .pop()
    else {
        return Err(DbError::sql("P0002", format!("no counter {id}")));
    };
    let n = found["n"].as_i64().unwrap_or(0) + by + extra;
    let made = store.update("counters", &filter([("id", id)]), &row([("n", json!(n))]))?;
    Ok(json!({"n": n, "version": made[0]["version"]}))
}

fn add(store: &mut Store, args: &Value) -> Result<Value, DbError> {
    add_by(store, args, 0)
}

/// Adds one too many for a large step: the kind of drift only some inputs show.
fn add_drifting(store: &mut Store, args: &Value) -> Result<Value, DbError> {
    let big = args["by"].as_i64().unwrap_or(0) > 3;
    add_by(store, args, i64::from(big))
}

fn counter(logic: &'static str, twin: Option<ServerFn>, sql: &'static str) -> Registry {
    let factory = move |_: &faultline::scenario::Scenario| {
        let mut spec = SystemSpec::new(logic)
            .table(
                TableDef::new("counters")
                    .versioned("version")
                    .default_value("n", json!(0)),
            )
            .sql(SqlFile::new("tests/counter.sql", sql))
            .workload(|_, _, _| {
                Ok(Workload {
                    setup: json!([]),
                    clients: Vec::new(),
                })
            })
            .variant(Variant::new("idle", client_fn(|_, _| async { Ok(()) })));
        if let Some(f) = twin {
            spec = spec.function("add", f);
        }
        Ok(spec)
    };
    let text = format!("name = \"{logic}\"\ndescription = \"a counter\"\nlogic = \"{logic}\"\n");
    Registry::new()
        .system(logic, factory)
        .scenario_text(logic, "counter.toml", &text)
}

fn requests() -> impl Strategy<Value = Vec<Request>> {
    let insert = (1i64..3).prop_map(|id| Request::insert("counters", row([("id", json!(id))])));
    let add =
        (1i64..4, 1i64..6).prop_map(|(id, by)| Request::rpc("add", json!({"id": id, "by": by})));
    proptest::collection::vec(prop_oneof![1 => insert, 3 => add], 1..12)
}

fn schemas_named(target: &PgTarget, prefix: &str) -> i64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut conn = PgConnection::connect_with(&target.options).await.unwrap();
        sqlx::query("select count(*) from pg_namespace where nspname like $1")
            .bind(format!("{prefix}%"))
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get::<i64, _>(0)
    })
}

#[test]
fn a_faithful_twin_agrees() {
    let Some(db) = database_for("pg_conformance_helper::faithful") else {
        return;
    };
    let sql = Box::leak(format!("{TABLE_SQL}{ADD_SQL}").into_boxed_str());
    let registry = counter("counter_ok", Some(add), sql);
    let outcome = Conformance::new(&registry, "counter_ok", "idle")
        .unwrap()
        .cases(64)
        .check(&db, requests())
        .unwrap();
    assert!(
        matches!(outcome, Outcome::Agrees { cases: 64 }),
        "{outcome:?}"
    );
}

#[test]
fn a_drifting_twin_is_caught_on_a_shrunk_sequence() {
    let Some(db) = database_for("pg_conformance_helper::drifting") else {
        return;
    };
    let sql = Box::leak(format!("{TABLE_SQL}{ADD_SQL}").into_boxed_str());
    let registry = counter("counter_drift", Some(add_drifting), sql);
    let outcome = Conformance::new(&registry, "counter_drift", "idle")
        .unwrap()
        .cases(64)
        .check(&db, requests())
        .unwrap();
    let Outcome::Diverges(d) = outcome else {
        panic!("a drifting twin passed: {outcome:?}");
    };
    // The smallest witness: make a counter, add a big step to it.
    assert_eq!(d.requests.len(), 2, "{d}");
    assert_eq!(d.at, Some(1), "{d}");
    let Request::Rpc { name, args } = &d.requests[1] else {
        panic!("the witness ends with the add: {d}");
    };
    assert_eq!((name.as_str(), &args["by"]), ("add", &json!(4)), "{d}");
    assert_eq!(d.simulated["n"], json!(5), "{d}");
    assert_eq!(d.postgres["n"], json!(4), "{d}");
    let shown = d.to_string();
    assert!(
        shown.contains("request #1") && shown.contains("postgres:"),
        "{shown}"
    );
}

#[test]
fn sql_with_a_function_the_twin_lacks_is_refused_at_its_line_and_dropped() {
    let Some(db) = database_for("pg_conformance_helper::extra") else {
        return;
    };
    let sql = Box::leak(format!("{TABLE_SQL}{ADD_SQL}").into_boxed_str());
    let registry = counter("counter_extra", None, sql);
    let err = Conformance::new(&registry, "counter_extra", "idle")
        .unwrap()
        .check(&db, requests())
        .unwrap_err();
    match &err {
        faultline::Error::Input { file, line, .. } => {
            assert_eq!(file.to_string_lossy(), "tests/counter.sql");
            assert_eq!(*line, 4, "{err}");
        }
        other => panic!("expected a positioned error, got {other}"),
    }
    assert!(err.to_string().contains("`add(jsonb)`"), "{err}");
    assert_eq!(schemas_named(&db, "fl_counter_extra_"), 0);
}

#[test]
fn a_twin_function_the_sql_lacks_is_refused_and_dropped() {
    let Some(db) = database_for("pg_conformance_helper::missing") else {
        return;
    };
    let registry = counter("counter_missing", Some(add), TABLE_SQL);
    let err = Conformance::new(&registry, "counter_missing", "idle")
        .unwrap()
        .check(&db, requests())
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("`add`") && text.contains("tests/counter.sql"),
        "{text}"
    );
    assert_eq!(schemas_named(&db, "fl_counter_missing_"), 0);
}

#[test]
fn sql_that_does_not_parse_names_the_statement_line() {
    let Some(db) = database_for("pg_conformance_helper::broken") else {
        return;
    };
    let sql = Box::leak(
        format!("{TABLE_SQL}\n-- a typo\ncreate tabel oops (id int);\n").into_boxed_str(),
    );
    let registry = counter("counter_broken", None, sql);
    let err = Conformance::new(&registry, "counter_broken", "idle")
        .unwrap()
        .check(&db, requests())
        .unwrap_err();
    match &err {
        faultline::Error::Input {
            line,
            column,
            message,
            ..
        } => {
            assert_eq!((*line, *column), (5, 8), "{err}");
            assert!(
                message.contains("create tabel oops") && message.contains("42601"),
                "{err}"
            );
        }
        other => panic!("expected a positioned error, got {other}"),
    }
    assert_eq!(schemas_named(&db, "fl_counter_broken_"), 0);
}
