//! Every bound a scenario, plan or flag is checked against, in one place.
//!
//! The bounds are generous for real use and small enough that no accepted input can make
//! a run allocate without limit, overflow an arithmetic step, exhaust turmoil's ports or
//! run for longer than a few simulated hours. `README.md` (scenario files) and
//! `docs/json.md` (plans) document them; change them here and there together.

/// Most client hosts (tabs, devices, browsers) one world may have.
pub const MAX_CLIENTS: u64 = 64;
/// Most read replicas behind the load balancer.
pub const MAX_REPLICAS: u64 = 8;
/// Most pre-existing or tracked records (seeded cards, runs, loops) a workload may ask for.
pub const MAX_RECORDS: u64 = 1_000;
/// Most operations one client may plan.
pub const MAX_OPS_PER_CLIENT: u64 = 1_000;
/// Most events of one fault kind per run (partitions, holds, revocations, ...).
pub const MAX_FAULTS_PER_KIND: u64 = 100;
/// Most fault events one plan may carry (each drawn fault is two events: start and end).
pub const MAX_FAULT_EVENTS: usize = 4_000;
/// Shortest simulation tick.
pub const MIN_TICK_MS: u64 = 1;
/// Longest simulation tick: turmoil keeps a port per pending timer, and coarser ticks
/// than this only hide the races a run is meant to find.
pub const MAX_TICK_MS: u64 = 1_000;
/// Longest phase (safety or liveness) and longest duration of any knob: four simulated
/// hours, so deadlines computed from it cannot overflow.
pub const MAX_PHASE_MS: u64 = 4 * 60 * 60 * 1_000;
/// Most seeds one `faultline run` may ask for (seeds are drawn lazily, but every seed's
/// result is kept for the summary).
pub const MAX_SEEDS: u64 = 1_000_000;

/// Workload keys that count client hosts.
pub const CLIENT_KEYS: &[&str] = &["clients", "devices", "tabs", "browsers"];
/// Workload keys that count records.
pub const RECORD_KEYS: &[&str] = &["seeded_cards", "records", "loops"];
/// Workload keys that are chances or shares, between 0 and 1.
pub const SHARE_KEYS: &[&str] = &[
    "create_share",
    "double_submit",
    "reauth_share",
    "all_tabs_share",
    "generate_share",
];

/// The bound on a `[workload]` number called `key`, with a phrase naming it.
pub fn workload_bound(key: &str) -> Option<(f64, f64, &'static str)> {
    if CLIENT_KEYS.contains(&key) {
        Some((
            1.0,
            MAX_CLIENTS as f64,
            "a client count from 1 to MAX_CLIENTS",
        ))
    } else if RECORD_KEYS.contains(&key) {
        Some((
            0.0,
            MAX_RECORDS as f64,
            "a record count from 0 to MAX_RECORDS",
        ))
    } else if SHARE_KEYS.contains(&key) {
        Some((0.0, 1.0, "a chance between 0 and 1"))
    } else if key.starts_with("ops_per_") || key == "saves" || key == "reloads" {
        Some((
            0.0,
            MAX_OPS_PER_CLIENT as f64,
            "an operation count from 0 to MAX_OPS_PER_CLIENT",
        ))
    } else if key.ends_with("_ms") {
        Some((
            0.0,
            MAX_PHASE_MS as f64,
            "a duration from 0 to MAX_PHASE_MS",
        ))
    } else {
        None
    }
}
