//! Builds the world for a plan and runs it through the safety and liveness phases.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::client::{SimAuth, SimBackend};
use super::net::now_us;
use super::replication::{self, ReplicaHost};
use super::servers::{serve_auth, serve_replica, serve_store, Service, ServiceState};
use crate::check::FinalState;
use crate::client::Device;
use crate::endpoint::{AnyAuth, AnyBackend};
use crate::error::{Error, Result};
use crate::history::{EntryType, History};
use crate::plan::{Fault, Plan};
use crate::rng::SimRng;
use crate::store::auth::AuthService;
use crate::store::Store;
use crate::system::{ClientCtx, Recorder, System as ScenarioLogic};

/// What one run produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Every operation and fault, in order.
    pub history: History,
    /// The state read after the liveness phase.
    pub state: FinalState,
    /// Counters.
    pub stats: RunStats,
    /// Statements the store refused, by SQLSTATE.
    pub store_errors: std::collections::BTreeMap<String, u64>,
}

/// Counters of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// Simulated time the run took.
    pub sim_ms: u64,
    /// Simulation steps taken.
    pub steps: u64,
    /// Whether every client finished before the liveness phase ran out.
    pub clients_finished: bool,
}

/// Runs `plan` with `logic` and returns its history and final state.
pub fn run_plan(plan: &Plan, logic: &dyn ScenarioLogic) -> Result<RunOutput> {
    let root = SimRng::root(plan.seed);
    let mut store = Store::new(root.fork("store"));
    logic.install(&plan.variant, &mut store, &plan.setup)?;
    let store = Rc::new(RefCell::new(store));
    let auth = Rc::new(RefCell::new(AuthService::new(plan.auth)));
    let history = Rc::new(RefCell::new(History::default()));

    let tick = Duration::from_millis(plan.network.tick_ms);
    // Validated plans keep these far from overflow; saturating keeps a plan built in
    // code that skipped validation from wrapping into a run that ends at once.
    let deadline_ms = plan
        .phases
        .safety_ms
        .saturating_add(plan.phases.liveness_ms);
    let mut sim = turmoil::Builder::new()
        .tick_duration(tick)
        // The harness enforces the deadline itself so a stuck client is a finding, not a crash.
        .simulation_duration(Duration::from_millis(
            deadline_ms.saturating_mul(2).saturating_add(1000),
        ))
        .min_message_latency(Duration::from_millis(plan.network.latency_min_ms))
        .max_message_latency(Duration::from_millis(plan.network.latency_max_ms))
        .rng_seed(root.fork("turmoil").next_u64())
        .build();

    let services: Services = [
        ("store", ServiceState::default()),
        ("auth", ServiceState::default()),
    ]
    .into_iter()
    .map(|(h, s)| (h.to_string(), s))
    .collect();
    let (s, up) = (store.clone(), services["store"].clone());
    sim.host("store", move || serve_store(s.clone(), up.clone()));
    let (a, up) = (auth.clone(), services["auth"].clone());
    sim.host("auth", move || serve_auth(a.clone(), up.clone()));
    let replicas: Vec<ReplicaHost> = plan
        .replicas
        .iter()
        .map(|p| ReplicaHost::new(p.clone(), &store.borrow()))
        .collect();
    for r in &replicas {
        let state = r.state.clone();
        sim.host(r.params.name.as_str(), move || serve_replica(state.clone()));
    }
    let replica_names: Vec<String> = replicas.iter().map(|r| r.params.name.clone()).collect();

    let recorder = Recorder::new(history.clone(), Rc::new(now_us));
    let timeout = Duration::from_millis(plan.network.timeout_ms);
    let clients_rng = root.fork("clients");
    let devices: BTreeMap<String, Device> = plan
        .clients
        .iter()
        .map(|c| (c.name.clone(), Device::default()))
        .collect();
    for script in &plan.clients {
        let ctx = ClientCtx::new(
            script.name.clone(),
            script.user.clone(),
            AnyBackend::Sim(SimBackend {
                timeout,
                replicas: replica_names.clone(),
                balancer: RefCell::new(clients_rng.fork(&script.name).fork("balancer")),
            }),
            AnyAuth::Sim(SimAuth { timeout }),
            clients_rng.fork(&script.name),
            recorder.clone(),
        )
        .with_device(devices[&script.name].clone());
        sim.client(
            script.name.as_str(),
            logic.client(&plan.variant, ctx, script.clone()),
        );
    }

    let record_fault = |at_us: u64, f: &str, value: Value| {
        let mut h = history.borrow_mut();
        h.push(crate::history::Entry {
            index: 0,
            time_us: at_us,
            process: "nemesis".into(),
            kind: EntryType::Fault,
            f: f.into(),
            op: None,
            value,
            error: None,
        });
    };

    let switches = Switches {
        auth: &auth,
        services: &services,
        devices: &devices,
    };
    let mut next_fault = 0;
    let mut healed = false;
    let mut active: Vec<Fault> = Vec::new();
    let mut finished = false;
    let mut steps = 0u64;
    loop {
        let now_ms = sim.elapsed().as_millis() as u64;
        let now_us = sim.elapsed().as_micros() as u64;
        while !healed && next_fault < plan.faults.len() && plan.faults[next_fault].at_ms <= now_ms {
            let fault = &plan.faults[next_fault].fault;
            apply(&sim, plan, &switches, fault, now_ms, &mut active);
            record_fault(
                now_us,
                fault.verb(),
                serde_json::to_value(fault).unwrap_or(Value::Null),
            );
            next_fault += 1;
        }
        if !healed && now_ms >= plan.phases.safety_ms {
            for fault in std::mem::take(&mut active) {
                heal(&sim, plan, &switches, &fault);
            }
            healed = true;
            record_fault(
                now_us,
                "liveness",
                json!({"healed": "every partition repaired, every hold released"}),
            );
        }
        if now_ms >= deadline_ms {
            break;
        }
        replication::advance(&replicas, &store.borrow(), now_ms, &active);
        steps += 1;
        match sim.step() {
            Ok(true) => {
                finished = true;
                break;
            }
            Ok(false) => {}
            Err(e) => return Err(Error::during("simulation failed", e)),
        }
    }
    let sim_ms = sim.elapsed().as_millis() as u64;
    drop(sim);
    let clients = crate::client::device::disks_of(&devices);
    let (audit, audit_ms) = audit_of(&store.borrow(), &logic.audited_tables());
    let state = FinalState {
        tables: store.borrow().snapshot(),
        clients,
        audit,
        audit_ms,
    };
    let store_errors = store.borrow().errors.clone();
    let history = Rc::try_unwrap(history)
        .map(RefCell::into_inner)
        .unwrap_or_else(|rc| rc.borrow().clone());
    Ok(RunOutput {
        history,
        state,
        store_errors,
        stats: RunStats {
            sim_ms,
            steps,
            clients_finished: finished,
        },
    })
}

/// The server hosts whose service an interruption can switch, by name.
type Services = std::collections::BTreeMap<String, ServiceState>;

/// What the nemesis switches besides links: sessions, services and devices.
struct Switches<'a> {
    auth: &'a Rc<RefCell<AuthService>>,
    services: &'a Services,
    devices: &'a BTreeMap<String, Device>,
}

/// Every server host: what a disconnected client loses its links to.
fn servers(plan: &Plan) -> impl Iterator<Item = &str> {
    ["store", "auth"]
        .into_iter()
        .chain(plan.replicas.iter().map(|r| r.name.as_str()))
}

/// Cuts `host` off from every server host, or restores those links.
fn cut_off(sim: &turmoil::Sim<'_>, plan: &Plan, host: &str, down: bool) {
    for server in servers(plan) {
        if down {
            sim.partition(host, server);
        } else {
            sim.repair(host, server);
        }
    }
}

fn apply(
    sim: &turmoil::Sim<'_>,
    plan: &Plan,
    switches: &Switches<'_>,
    fault: &Fault,
    now_ms: u64,
    active: &mut Vec<Fault>,
) {
    let Switches {
        auth,
        services,
        devices,
    } = switches;
    let on_device = |host: &str, change: &dyn Fn(&Device)| {
        if let Some(d) = devices.get(host) {
            change(d);
        }
    };
    match fault {
        Fault::Disconnect { client } => {
            cut_off(sim, plan, client, true);
            active.push(fault.clone());
        }
        Fault::Reconnect { client } => {
            // Overlapping disconnections of one client nest: the link returns with the last.
            if end_one(
                active,
                |f| matches!(f, Fault::Disconnect { client: c } if c == client),
            ) {
                cut_off(sim, plan, client, false);
            }
        }
        Fault::Outage { server, drop } => {
            if let Some(state) = services.get(server) {
                state.set(if *drop {
                    Service::Dropping
                } else {
                    Service::Refusing
                });
                active.push(fault.clone());
            }
        }
        Fault::Recover { server } => {
            let last = end_one(
                active,
                |f| matches!(f, Fault::Outage { server: s, .. } if s == server),
            );
            if let (true, Some(state)) = (last, services.get(server)) {
                state.set(Service::Up);
            }
        }
        Fault::Slow { a, b, ms } => {
            sim.set_link_latency(a.as_str(), b.as_str(), Duration::from_millis(*ms));
            active.push(fault.clone());
        }
        Fault::Restore { a, b } => {
            restore_latency(sim, plan, a, b);
            active.retain(|f| !matches!(f, Fault::Slow { a: x, b: y, .. } if x == a && y == b));
        }
        Fault::Partition { a, b } => {
            sim.partition(a.as_str(), b.as_str());
            active.push(fault.clone());
        }
        Fault::PartitionOneway { from, to } => {
            sim.partition_oneway(from.as_str(), to.as_str());
            active.push(fault.clone());
        }
        Fault::RepairOneway { from, to } => {
            sim.repair_oneway(from.as_str(), to.as_str());
            active.retain(
                |f| !matches!(f, Fault::PartitionOneway { from: x, to: y } if x == from && y == to),
            );
        }
        Fault::Hold { a, b } => {
            sim.hold(a.as_str(), b.as_str());
            active.push(fault.clone());
        }
        Fault::Repair { a, b } => {
            sim.repair(a.as_str(), b.as_str());
            active.retain(|f| !matches!(f, Fault::Partition { a: x, b: y } if x == a && y == b));
        }
        Fault::Release { a, b } => {
            sim.release(a.as_str(), b.as_str());
            active.retain(|f| !matches!(f, Fault::Hold { a: x, b: y } if x == a && y == b));
        }
        Fault::RevokeSessions { user } => auth.borrow_mut().revoke_user(user),
        // Replication reads these from `active` between steps.
        Fault::ReplicaLag { .. } => active.push(fault.clone()),
        Fault::ReplicaRestore { replica } => {
            active.retain(|f| !matches!(f, Fault::ReplicaLag { replica: r, .. } if r == replica))
        }
        // The devices' own faults: the host's links, and the switches its software sees.
        Fault::Offline { host } => {
            cut_off(sim, plan, host, true);
            on_device(host, &|d| d.set_online(false));
            active.push(fault.clone());
        }
        Fault::Online { host } => {
            cut_off(sim, plan, host, false);
            on_device(host, &|d| d.set_online(true));
            active.retain(|f| !matches!(f, Fault::Offline { host: h } if h == host));
        }
        Fault::Crash { host } => {
            // Nothing leaves a device with no power.
            cut_off(sim, plan, host, true);
            on_device(host, &|d| d.crash(now_ms));
            active.push(fault.clone());
        }
        Fault::Restart { host } => {
            let offline = active
                .iter()
                .any(|f| matches!(f, Fault::Offline { host: h } if h == host));
            if !offline {
                cut_off(sim, plan, host, false);
            }
            on_device(host, &|d| d.restart());
            active.retain(|f| !matches!(f, Fault::Crash { host: h } if h == host));
        }
        Fault::Skew { host, ms } => {
            on_device(host, &|d| d.set_skew(*ms));
        }
    }
}

/// Images by table, and when each committed.
type Audit = (
    BTreeMap<String, Vec<crate::backend::Row>>,
    BTreeMap<String, Vec<u64>>,
);

/// Every row image `tables` committed, in commit order: what an audit trigger would log,
/// with the simulated millisecond of each commit.
fn audit_of(store: &Store, tables: &[String]) -> Audit {
    let mut out: Audit = Default::default();
    for rec in store.wal_after(0) {
        if let (true, Some(row)) = (tables.contains(&rec.table), &rec.row) {
            out.0
                .entry(rec.table.clone())
                .or_default()
                .push(row.clone());
            out.1
                .entry(rec.table.clone())
                .or_default()
                .push(rec.commit_ms);
        }
    }
    out
}

/// Removes the earliest active fault that `is` picks; true when none like it is left.
fn end_one(active: &mut Vec<Fault>, is: impl Fn(&Fault) -> bool) -> bool {
    if let Some(i) = active.iter().position(&is) {
        active.remove(i);
    }
    !active.iter().any(is)
}

/// Sets the link back to the plan's latency range (turmoil has no "unset").
fn restore_latency(sim: &turmoil::Sim<'_>, plan: &Plan, a: &str, b: &str) {
    sim.set_link_latency(a, b, Duration::from_millis(plan.network.latency_min_ms));
    sim.set_link_max_message_latency(a, b, Duration::from_millis(plan.network.latency_max_ms));
}

fn heal(sim: &turmoil::Sim<'_>, plan: &Plan, switches: &Switches<'_>, fault: &Fault) {
    match fault {
        Fault::Disconnect { client } => cut_off(sim, plan, client, false),
        Fault::Offline { host } | Fault::Crash { host } => {
            cut_off(sim, plan, host, false);
            if let Some(d) = switches.devices.get(host) {
                d.set_online(true);
                d.restart();
            }
        }
        Fault::Outage { server, .. } => {
            if let Some(state) = switches.services.get(server) {
                state.set(Service::Up);
            }
        }
        Fault::Slow { a, b, .. } => restore_latency(sim, plan, a, b),
        Fault::Partition { a, b } => sim.repair(a.as_str(), b.as_str()),
        Fault::Hold { a, b } => sim.release(a.as_str(), b.as_str()),
        Fault::PartitionOneway { from, to } => sim.repair_oneway(from.as_str(), to.as_str()),
        _ => {}
    }
}
