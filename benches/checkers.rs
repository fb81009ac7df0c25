//! Checker throughput on large generated histories (aim: a million operations in about a
//! second). The histories are correct, so every checker does its full work.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use faultline::check::{duplicate_create, lost_updates, unique_slugs, FinalState};
use faultline::history::{Entry, EntryType, History};
use serde_json::{json, Map, Value};

const OPS: usize = 1_000_000;
const CARDS: usize = 1000;
const FIELDS: [&str; 4] = ["title", "email", "phone", "company"];

fn entry(process: String, kind: EntryType, f: &str, op: u32, value: Value, t: u64) -> Entry {
    Entry {
        index: 0,
        time_us: t,
        process,
        kind,
        f: f.into(),
        op: Some(op),
        value,
        error: None,
    }
}

/// `OPS` acknowledged single-field edits spread over `CARDS` cards, applied in order.
fn edits() -> (History, FinalState) {
    let mut h = History::default();
    let mut rows: Vec<Map<String, Value>> = (0..CARDS)
        .map(|i| json!({"id": i, "version": 1}).as_object().cloned().unwrap())
        .collect();
    for i in 0..OPS {
        let card = (i * 7919) % CARDS;
        let field = FIELDS[i % FIELDS.len()];
        let value = json!(format!("v{i}"));
        let row = &mut rows[card];
        let version = row["version"].as_i64().unwrap() + 1;
        row.insert("version".into(), json!(version));
        row.insert(field.into(), value.clone());
        let p = format!("c{}", i % 8);
        h.push(entry(
            p.clone(),
            EntryType::Invoke,
            "edit",
            i as u32,
            json!({"key": card, "intent": {field: value}}),
            i as u64,
        ));
        h.push(entry(
            p,
            EntryType::Ok,
            "edit",
            i as u32,
            json!({"key": card, "version": version, "written": {field: value}}),
            i as u64 + 1,
        ));
    }
    let state = FinalState {
        tables: [("cards".to_string(), rows)].into_iter().collect(),
        clients: Default::default(),
        audit: Default::default(),
        audit_ms: Default::default(),
    };
    (h, state)
}

/// `OPS` acknowledged creates with distinct slugs and form ids.
fn creates() -> (History, FinalState) {
    let mut h = History::default();
    let mut rows = Vec::with_capacity(OPS);
    for i in 0..OPS {
        let p = format!("c{}", i % 8);
        h.push(entry(
            p.clone(),
            EntryType::Invoke,
            "create",
            i as u32,
            json!({"form_id": format!("f{i}"), "name": "n"}),
            i as u64,
        ));
        h.push(entry(
            p,
            EntryType::Ok,
            "create",
            i as u32,
            json!({"id": i, "slug": format!("s{i}"), "form_id": format!("f{i}")}),
            i as u64 + 1,
        ));
        rows.push(
            json!({"id": i, "slug": format!("s{i}"), "form_id": format!("f{i}")})
                .as_object()
                .cloned()
                .unwrap(),
        );
    }
    let state = FinalState {
        tables: [("cards".to_string(), rows)].into_iter().collect(),
        clients: Default::default(),
        audit: Default::default(),
        audit_ms: Default::default(),
    };
    (h, state)
}

fn checkers(c: &mut Criterion) {
    let mut group = c.benchmark_group("checkers");
    group.sample_size(10);
    group.throughput(Throughput::Elements(OPS as u64));
    let (h, s) = edits();
    group.bench_function("no_lost_updates/1M ops", |b| {
        b.iter(|| assert!(lost_updates::check(&h, &s, "cards").is_ok()))
    });
    drop((h, s));
    let (h, s) = creates();
    group.bench_function("unique_slugs/1M ops", |b| {
        b.iter(|| assert!(unique_slugs::check(&h, &s, "cards", "slug").is_ok()))
    });
    group.bench_function("no_duplicate_create/1M ops", |b| {
        b.iter(|| {
            assert!(
                duplicate_create::check(&h, &s, "cards", "form_id", duplicate_create::NAME).is_ok()
            )
        })
    });
    group.finish();
}

criterion_group!(benches, checkers);
criterion_main!(benches);
