//! Requests per second through the harness on PostgreSQL, next to pgbench running the
//! comparable transaction on the same machine and database, as a ratio.
//!
//! Both sides run CLIENTS connections for SECONDS, each transaction one update of a random
//! card by its key. The harness's requests go the way a run's do: the backend's statement
//! (jsonb in, jsonb out), the client's fault proxy (at zero latency, no faults), auto-commit.
//! pgbench runs a plain `update` with a single client thread, as the harness drives its
//! clients from one thread. Needs DATABASE_URL and pgbench (FAULTLINE_PGBIN or PATH).
//!
//!     cargo bench --bench pg_throughput

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use faultline::backend::{Backend, Request};
use faultline::pg::proxy::Proxy;
use faultline::pg::testing::PgSession;
use faultline::pg::{PgBackend, PgTarget};
use faultline::rng::SimRng;
use faultline::store::auth::{AuthConfig, AuthService};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;

const CLIENTS: usize = 8;
const CARDS: i64 = 64;
const SECONDS: u64 = 10;

fn main() {
    let target = match PgTarget::from_env(false) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("pg_throughput skipped: {e}");
            return;
        }
    };
    let mut session = PgSession::open(
        &target,
        faultline::runner::Loaded::load("business_cards", &faultline_seeds::registry())
            .expect("scenario")
            .logic
            .as_ref(),
        "reference",
    )
    .expect("schema");
    for id in 1..=CARDS {
        let row = json!({"id": id, "slug": format!("card-{id}"), "title": "t"});
        session
            .execute(&Request::insert(
                "business_cards",
                row.as_object().cloned().unwrap_or_default(),
            ))
            .expect("seed row");
    }
    let harness = harness_rate(&session, &target);
    let pgbench = pgbench_rate(&session, &target);
    println!("| driver | transactions/s ({CLIENTS} clients, {SECONDS} s) |");
    println!("|---|---|");
    println!("| faultline PgBackend through its proxy | {harness:.0} |");
    match pgbench {
        Some(p) => {
            println!("| pgbench, plain `update` | {p:.0} |");
            println!("| ratio harness / pgbench | {:.2} |", harness / p);
        }
        None => println!("| pgbench | not run (no pgbench found) |"),
    }
}

fn harness_rate(session: &PgSession, target: &PgTarget) -> f64 {
    let server = target.server_addr().expect("server");
    let options = session.options().clone().host("127.0.0.1");
    let catalog = Rc::new(session.catalog().clone());
    let token = AuthService::new(AuthConfig {
        access_ttl_ms: 3_600_000,
        reuse_interval_ms: 0,
    })
    .sign_in("bench", 0)
    .access_token;
    let local = tokio::task::LocalSet::new();
    local.block_on(session.runtime(), async move {
        let proxy = Proxy::start(server, (0, 0), SimRng::root(1))
            .await
            .expect("proxy");
        let pool = PgPoolOptions::new()
            .max_connections(CLIENTS as u32)
            .test_before_acquire(false)
            .connect_lazy_with(options.port(proxy.addr.port()));
        let backend = Rc::new(PgBackend {
            pool,
            catalog,
            clock: Rc::new(|| 0),
            timeout: Duration::from_secs(30),
            errors: Rc::new(std::cell::RefCell::new(BTreeMap::new())),
            replica: None,
        });
        let done = Rc::new(Cell::new(0u64));
        let end = Instant::now() + Duration::from_secs(SECONDS);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let (backend, done, token) = (backend.clone(), done.clone(), token.clone());
            tasks.push(tokio::task::spawn_local(async move {
                let mut rng = SimRng::root(c as u64);
                while Instant::now() < end {
                    let id = 1 + rng.index(CARDS as usize) as i64;
                    let patch = json!({"title": format!("c{c}")});
                    let req = Request::update(
                        "business_cards",
                        vec![("id".into(), json!(id))],
                        patch.as_object().cloned().unwrap_or_default(),
                    );
                    backend.call(&token, req).await.expect("update");
                    done.set(done.get() + 1);
                }
            }));
        }
        for t in tasks {
            t.await.expect("client");
        }
        done.get() as f64 / started.elapsed().as_secs_f64()
    })
}

fn pgbench_rate(session: &PgSession, target: &PgTarget) -> Option<f64> {
    let bin = std::env::var("FAULTLINE_PGBIN")
        .map(|d| format!("{d}/pgbench"))
        .unwrap_or_else(|_| "pgbench".into());
    let script = std::env::temp_dir().join(format!("faultline-pgbench-{}.sql", std::process::id()));
    std::fs::write(
        &script,
        format!("\\set id random(1, {CARDS})\nupdate business_cards set title = 'pgbench' where id = :id;\n"),
    )
    .ok()?;
    let o = &target.options;
    let out = std::process::Command::new(bin)
        .args([
            "-n",
            "-j",
            "1",
            "-c",
            &CLIENTS.to_string(),
            "-T",
            &SECONDS.to_string(),
        ])
        .arg("-f")
        .arg(&script)
        .args(["-h", o.get_host(), "-p", &o.get_port().to_string()])
        .args(["-U", o.get_username()])
        .arg(target.database())
        .env(
            "PGOPTIONS",
            format!("-c search_path={}", session.schema_name()),
        )
        .output()
        .ok()?;
    let _ = std::fs::remove_file(&script);
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
}
