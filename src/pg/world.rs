//! Runs a plan against PostgreSQL: the same client logic and recorder as the simulated
//! world, on a real tokio runtime and the wall clock, with the plan's network faults
//! applied by each client's proxy and auth link instead of turmoil.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::types::Json;
use sqlx::{Connection, PgConnection, PgPool, Row as _};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::backend::{execute_on, LocalAuth, PgBackend, ReplicaRoute};
use super::files;
use super::proxy::{LinkState, Proxy};
use super::schema::{run_name, RunSchema};
use super::sql::ident;
use super::target::PgTarget;
use crate::backend::{Request, Row};
use crate::check::FinalState;
use crate::client::Device;
use crate::endpoint::{AnyAuth, AnyBackend};
use crate::error::{Error, Result};
use crate::history::{Entry, EntryType, History};
use crate::plan::{Fault, Plan};
use crate::rng::SimRng;
use crate::sim::{RunOutput, RunStats};
use crate::store::auth::AuthService;
use crate::system::{ClientCtx, Recorder, System as ScenarioLogic};

/// Connections each client's pool may open: a client's concurrent requests (tabs sharing
/// a page, a retry racing a slow answer) each need one.
const POOL_SIZE: u32 = 4;

/// Runs `plan` with `logic` on the database `target` and returns its history and the
/// final state of the run's schema, which is dropped before returning.
pub fn run_plan_pg(plan: &Plan, logic: &dyn ScenarioLogic, target: &PgTarget) -> Result<RunOutput> {
    let sql_files = files::for_variant(logic, &plan.variant).ok_or_else(|| {
        Error::Usage(format!(
            "logic `{}` has no PostgreSQL mode: its system gives no SQL files for schema `{}`",
            logic.name(),
            logic.schema_of(&plan.variant)
        ))
    })?;
    let twin = files::twin_functions(logic, &plan.variant)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Harness(format!("starting a runtime: {e}")))?;
    let local = tokio::task::LocalSet::new();
    let out = local.block_on(&rt, async {
        let options = target.options.clone().application_name("faultline-admin");
        let mut admin = PgConnection::connect_with(&options)
            .await
            .map_err(|e| Error::Usage(format!("cannot connect to {}: {e}", target.url)))?;
        let name = run_name(logic.name(), &plan.variant, plan.seed);
        let mut schema = RunSchema::create(
            &mut admin,
            &options,
            &name,
            &sql_files,
            &twin,
            &logic.audited_tables(),
        )
        .await?;
        let timeout = Duration::from_millis(plan.network.timeout_ms.max(100));
        // A server that dies mid-run would otherwise only show at the end of the run's
        // phases, as every client times out; the watchdog reports it within one client
        // timeout (plus its own ping's).
        let out = tokio::select! {
            biased;
            out = drive(plan, logic, target, &schema, &mut admin) => out,
            dead = super::watchdog::server_gone(&options, timeout) => Err(dead),
        };
        schema.drop_with(&mut admin).await;
        let _ = admin.close().await;
        out
    });
    // Client tasks the watchdog cut short still hold pooled connections, whose drop
    // needs the runtime: drop them inside it.
    let _inside = rt.enter();
    drop(local);
    out
}

/// One client's two links: its pool's proxy to the server and its link to auth.
pub(super) struct Links {
    /// The pool's proxy.
    pub(super) store: Proxy,
    /// The auth link's state.
    pub(super) auth: watch::Sender<LinkState>,
}

async fn drive(
    plan: &Plan,
    logic: &dyn ScenarioLogic,
    target: &PgTarget,
    schema: &RunSchema,
    admin: &mut PgConnection,
) -> Result<RunOutput> {
    let catalog = Rc::new(schema.catalog.clone());
    if let Some(table) = logic.setup_table() {
        let table = table.as_str();
        for row in plan.setup.as_array().into_iter().flatten() {
            let row: Row = row.as_object().cloned().unwrap_or_default();
            execute_on(admin, &catalog, &Request::insert(table, row))
                .await
                .map_err(|e| Error::Harness(format!("setup row of {table}: {e}")))?;
        }
    }

    let replica = match plan.replicas.is_empty() {
        true => None,
        false => {
            let options = target.replica.clone().ok_or_else(|| {
                Error::Usage(format!(
                    "scenario `{}` reads through replicas; on PostgreSQL set {} to a streaming \
                     replica of the database (`eval \"$(bash .ci/postgres.sh)\"` starts one)",
                    plan.scenario,
                    super::target::REPLICA_URL
                ))
            })?;
            wait_for_replica(admin, &options).await?;
            Some(options)
        }
    };
    let replica_names: Vec<String> = plan.replicas.iter().map(|r| r.name.clone()).collect();

    let root = SimRng::root(plan.seed);
    let server = target.server_addr()?;
    let start = Instant::now();
    let clock_us: Rc<dyn Fn() -> u64> = Rc::new(move || start.elapsed().as_micros() as u64);
    let clock_ms: Rc<dyn Fn() -> u64> = Rc::new(move || start.elapsed().as_millis() as u64);
    let history = Rc::new(RefCell::new(History::default()));
    let recorder = Recorder::new(history.clone(), clock_us.clone());
    let auth = Rc::new(RefCell::new(AuthService::new(plan.auth)));
    let errors = Rc::new(RefCell::new(BTreeMap::new()));
    let timeout = Duration::from_millis(plan.network.timeout_ms);
    let latency = (plan.network.latency_min_ms, plan.network.latency_max_ms);

    let clients_rng = root.fork("clients");
    let mut links: BTreeMap<String, Links> = BTreeMap::new();
    let mut pools: Vec<PgPool> = Vec::new();
    let done = Rc::new(Cell::new(0usize));
    let changed = Rc::new(Notify::new());
    let mut handles = Vec::new();
    let devices: BTreeMap<String, Device> = plan
        .clients
        .iter()
        .map(|c| (c.name.clone(), Device::default()))
        .collect();
    for script in &plan.clients {
        let proxy = Proxy::start(server, latency, root.fork("proxy").fork(&script.name))
            .await
            .map_err(|e| Error::Harness(format!("starting the proxy of {}: {e}", script.name)))?;
        let (auth_tx, auth_rx) = watch::channel(LinkState::default());
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .min_connections(0)
            .acquire_timeout(timeout)
            // A ping per request would add a round trip through the proxy's faults; a dead
            // connection surfaces as an unknown outcome instead, which is the safe reading.
            .test_before_acquire(false)
            .connect_lazy_with(client_options(
                target,
                schema,
                &script.name,
                proxy.addr.port(),
                timeout,
            ));
        pools.push(pool.clone());
        let ctx = ClientCtx::new(
            script.name.clone(),
            script.user.clone(),
            AnyBackend::Pg(PgBackend {
                pool,
                catalog: catalog.clone(),
                clock: clock_ms.clone(),
                timeout,
                errors: errors.clone(),
                replica: replica.as_ref().map(|options| {
                    let pool = PgPoolOptions::new()
                        .max_connections(POOL_SIZE)
                        .min_connections(0)
                        .acquire_timeout(timeout)
                        .test_before_acquire(false)
                        .connect_lazy_with(replica_options(options, schema, &script.name, timeout));
                    pools.push(pool.clone());
                    ReplicaRoute {
                        pool,
                        names: replica_names.clone(),
                        balancer: RefCell::new(clients_rng.fork(&script.name).fork("balancer")),
                    }
                }),
            }),
            AnyAuth::Local(LocalAuth {
                service: auth.clone(),
                clock: clock_ms.clone(),
                link: auth_rx,
                timeout,
            }),
            clients_rng.fork(&script.name),
            recorder.clone(),
        )
        .with_device(devices[&script.name].clone());
        let software = logic.client(&plan.variant, ctx, script.clone());
        let (done, changed) = (done.clone(), changed.clone());
        handles.push(tokio::task::spawn_local(async move {
            let r = software.await.map_err(|e| e.to_string());
            done.set(done.get() + 1);
            changed.notify_one();
            r
        }));
        links.insert(
            script.name.clone(),
            Links {
                store: proxy,
                auth: auth_tx,
            },
        );
    }

    let record_fault = |f: &str, value: Value| {
        history.borrow_mut().push(Entry {
            index: 0,
            time_us: clock_us(),
            process: "nemesis".into(),
            kind: EntryType::Fault,
            f: f.into(),
            op: None,
            value,
            error: None,
        });
    };
    let all_done = || done.get() == handles.len();
    let until = |ms: u64| start + Duration::from_millis(ms);
    let deadline_ms = plan
        .phases
        .safety_ms
        .saturating_add(plan.phases.liveness_ms);

    for event in plan
        .faults
        .iter()
        .filter(|e| e.at_ms < plan.phases.safety_ms)
    {
        if !wait_or_done(until(event.at_ms), &changed, &all_done).await {
            break;
        }
        let fault = &event.fault;
        if apply(fault, &links, &auth, &devices, clock_ms()) {
            record_fault(
                fault.verb(),
                serde_json::to_value(fault).unwrap_or(Value::Null),
            );
        } else {
            record_fault(
                "unmapped",
                json!({"fault": fault, "why": "no PostgreSQL equivalent between these hosts"}),
            );
        }
    }
    if wait_or_done(until(plan.phases.safety_ms), &changed, &all_done).await {
        for l in links.values() {
            l.store.set(|s| *s = LinkState::default());
            l.auth.send_modify(|s| *s = LinkState::default());
        }
        super::devices::heal(&devices);
        record_fault(
            "liveness",
            json!({"healed": "every partition repaired, every hold released"}),
        );
    }
    wait_or_done(until(deadline_ms), &changed, &all_done).await;
    let finished = all_done();
    let mut failure = None;
    for h in handles {
        if !h.is_finished() {
            h.abort();
            continue;
        }
        match h.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failure = Some(format!("a client failed: {e}")),
            Err(e) => failure = Some(format!("a client panicked: {e}")),
        }
    }
    let elapsed_ms = start.elapsed().as_millis() as u64;
    for pool in pools {
        let _ = tokio::time::timeout(Duration::from_secs(5), pool.close()).await;
    }
    drop(links);
    if let Some(f) = failure {
        return Err(Error::Harness(f));
    }
    let mut tables = snapshot(admin, &schema.catalog).await?;
    let audit = super::devices::take_audit(&mut tables, &logic.audited_tables());
    let store_errors = errors.borrow().clone();
    let history = history.borrow().clone();
    Ok(RunOutput {
        history,
        state: FinalState {
            tables,
            clients: crate::client::device::disks_of(&devices),
            audit,
            audit_ms: Default::default(),
        },
        stats: RunStats {
            sim_ms: elapsed_ms,
            steps: 0,
            clients_finished: finished,
        },
        store_errors,
    })
}

/// How a client's pool connects: through its proxy, to the run's schema, named after the
/// client (so `pg_stat_activity` and `pg_terminate_backend` can pick its sessions), with
/// statements cut off where the client stops waiting.
fn client_options(
    target: &PgTarget,
    schema: &RunSchema,
    client: &str,
    port: u16,
    timeout: Duration,
) -> PgConnectOptions {
    target
        .options
        .clone()
        .host("127.0.0.1")
        .port(port)
        .application_name(client)
        .options([
            ("search_path", schema.name.clone()),
            ("statement_timeout", format!("{}", timeout.as_millis())),
        ])
}

/// The replica's connections: straight to it (the plan's faults have no client-replica
/// links), in the run's schema, with the client's timeout.
fn replica_options(
    options: &PgConnectOptions,
    schema: &RunSchema,
    client: &str,
    timeout: Duration,
) -> PgConnectOptions {
    options.clone().application_name(client).options([
        ("search_path", schema.name.clone()),
        ("statement_timeout", format!("{}", timeout.as_millis())),
    ])
}

/// Waits until the replica has replayed everything the primary has written so far (the
/// run's schema and setup rows), so the first replica read finds the tables.
async fn wait_for_replica(admin: &mut PgConnection, replica: &PgConnectOptions) -> Result<()> {
    let lsn_sql = "select (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint";
    let replay_sql = "select (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint";
    let err = |e: sqlx::Error| Error::Usage(format!("the replica: {e}"));
    let wanted: Option<i64> = sqlx::query_scalar(lsn_sql)
        .fetch_one(&mut *admin)
        .await
        .map_err(err)?;
    let mut conn = PgConnection::connect_with(replica).await.map_err(err)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let replayed: Option<i64> = sqlx::query_scalar(replay_sql)
            .fetch_one(&mut conn)
            .await
            .map_err(err)?;
        let Some(replayed) = replayed else {
            return Err(Error::Usage(format!(
                "{} is not a replica: it is not replaying any log",
                super::target::REPLICA_URL
            )));
        };
        if replayed >= wanted.unwrap_or(0) {
            let _ = conn.close().await;
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::Harness(
                "the replica did not catch up with the primary within 30 s".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `at`; false when every client finished first (the run is over).
async fn wait_or_done(at: Instant, changed: &Notify, all_done: &impl Fn() -> bool) -> bool {
    loop {
        if all_done() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(at) => return !all_done(),
            _ = changed.notified() => {}
        }
    }
}

/// Which link a fault between `a` and `b` touches: a client's link to the store or to
/// auth, with `client_first` saying whether `a` is the client.
enum Side<'a> {
    Store(&'a Links, bool),
    Auth(&'a Links, bool),
}

fn side<'a>(links: &'a BTreeMap<String, Links>, a: &str, b: &str) -> Option<Side<'a>> {
    let (client, server, client_first) = match (links.get(a), links.get(b)) {
        (Some(l), None) => (l, b, true),
        (None, Some(l)) => (l, a, false),
        _ => return None,
    };
    match server {
        "store" => Some(Side::Store(client, client_first)),
        "auth" => Some(Side::Auth(client, client_first)),
        _ => None,
    }
}

fn modify(side: &Side<'_>, change: impl FnOnce(&mut LinkState, bool)) {
    match side {
        Side::Store(l, first) => l.store.set(|s| change(s, *first)),
        Side::Auth(l, first) => l.auth.send_modify(|s| change(s, *first)),
    }
}

/// Cuts every link of `host` (its pool's proxy and its auth link), or restores them;
/// false when no client has that name.
pub(super) fn cut_off(links: &BTreeMap<String, Links>, host: &str, down: bool) -> bool {
    let Some(l) = links.get(host) else {
        return false;
    };
    l.store.set(|s| {
        s.drop_up = down;
        s.drop_down = down;
    });
    l.auth.send_modify(|s| {
        s.drop_up = down;
        s.drop_down = down;
    });
    true
}

/// Applies one fault at `now_ms`; false when it has no equivalent here (between two
/// clients, or between the primary and a replica the simulated world models).
fn apply(
    fault: &Fault,
    links: &BTreeMap<String, Links>,
    auth: &Rc<RefCell<AuthService>>,
    devices: &BTreeMap<String, Device>,
    now_ms: u64,
) -> bool {
    let on = |a: &str, b: &str, change: &dyn Fn(&mut LinkState, bool)| match side(links, a, b) {
        Some(s) => {
            modify(&s, change);
            true
        }
        None => false,
    };
    match fault {
        Fault::Partition { a, b } => on(a, b, &|s, _| {
            s.drop_up = true;
            s.drop_down = true;
        }),
        Fault::Repair { a, b } => on(a, b, &|s, _| {
            s.drop_up = false;
            s.drop_down = false;
        }),
        // `from` the client cuts requests; `from` the server cuts answers only.
        Fault::PartitionOneway { from, to } => on(from, to, &|s, from_client| {
            if from_client {
                s.drop_up = true
            } else {
                s.drop_down = true
            }
        }),
        Fault::RepairOneway { from, to } => on(from, to, &|s, from_client| {
            if from_client {
                s.drop_up = false
            } else {
                s.drop_down = false
            }
        }),
        Fault::Hold { a, b } => on(a, b, &|s, _| s.held = true),
        Fault::Release { a, b } => on(a, b, &|s, _| s.held = false),
        Fault::Slow { a, b, ms } => on(a, b, &|s, _| s.slow_ms = *ms),
        Fault::Restore { a, b } => on(a, b, &|s, _| s.slow_ms = 0),
        Fault::RevokeSessions { user } => {
            auth.borrow_mut().revoke_user(user);
            true
        }
        // The replica's delay is one setting of a cluster other runs share.
        Fault::ReplicaLag { .. } | Fault::ReplicaRestore { .. } => false,
        Fault::Offline { .. }
        | Fault::Online { .. }
        | Fault::Crash { .. }
        | Fault::Restart { .. }
        | Fault::Skew { .. } => super::devices::apply(fault, links, devices, now_ms),
        Fault::Disconnect { client } | Fault::Reconnect { client } => {
            cut_off(links, client, matches!(fault, Fault::Disconnect { .. }))
        }
        // The proxies cannot answer for the server, so both kinds of interruption become
        // requests that vanish: every client's link to that server drops what it sends.
        Fault::Outage { server, .. } | Fault::Recover { server } => {
            let down = matches!(fault, Fault::Outage { .. });
            links
                .keys()
                .map(|client| on(client, server, &|s, _| s.drop_up = down))
                .fold(false, |any, applied| any | applied)
        }
    }
}

/// Every table of the run's schema, rows in primary-key order, NULL columns left out as
/// the simulated store leaves out columns it was never given.
async fn snapshot(
    admin: &mut PgConnection,
    catalog: &super::sql::Catalog,
) -> Result<BTreeMap<String, Vec<Row>>> {
    let mut tables = BTreeMap::new();
    for (table, pk) in &catalog.tables {
        let err = |e: String| Error::Harness(format!("reading table {table}: {e}"));
        let t = ident(table).map_err(|e| err(e.to_string()))?;
        let col = ident(&pk.column).map_err(|e| err(e.to_string()))?;
        let collate = if pk.text { " collate \"C\"" } else { "" };
        let sql =
            format!("select jsonb_strip_nulls(to_jsonb(t)) from {t} t order by t.{col}{collate}");
        let rows = sqlx::query(&sql)
            .fetch_all(&mut *admin)
            .await
            .map_err(|e| err(e.to_string()))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Json(v): Json<Value> = r.try_get(0).map_err(|e| err(e.to_string()))?;
            if let Value::Object(m) = v {
                out.push(m);
            }
        }
        tables.insert(table.clone(), out);
    }
    Ok(tables)
}
