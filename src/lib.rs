//! faultline: a deterministic concurrency test harness and fault-injection simulator for
//! the data-sync and locking logic apps write against Postgres-backed platforms.
//!
//! # Your own system, from `cargo test`
//!
//! Describe the system once (its tables, server functions, workload, client code per
//! named variant, and invariants), register it, and gate on it with a [`Harness`]:
//!
//! ```
//! use faultline::check::Verdict;
//! use faultline::plan::{ClientScript, PlannedOp, Workload};
//! use faultline::store::TableDef;
//! use faultline::system::{client_fn, Invariant, Registry, SystemSpec, Variant};
//! use faultline::backend::{filter, row, Request};
//! use serde_json::json;
//!
//! // One client adds 1 to a counter three times; the invariant wants the count to match
//! // the acknowledged increments. `blind` writes a value it read earlier.
//! fn counter(_: &faultline::scenario::Scenario) -> faultline::Result<SystemSpec> {
//!     let blind = client_fn(|ctx, script| async move {
//!         for op in script.ops {
//!             ctx.wait_until(op.at_ms).await;
//!             let scope = ctx.begin(op.id, "incr", json!({}));
//!             let read = ctx.call(Request::select("counters", filter([("id", json!(1))]))).await;
//!             let n = read.map(|r| r.rows()[0]["n"].as_i64().unwrap_or(0)).unwrap_or(0);
//!             let patch = row([("n", json!(n + 1))]);
//!             match ctx.call(Request::update("counters", filter([("id", json!(1))]), patch)).await {
//!                 Ok(_) => scope.ok(json!({})),
//!                 Err(e) => scope.error(json!({}), &e),
//!             }
//!         }
//!         Ok(())
//!     });
//!     Ok(SystemSpec::new("counter")
//!         .table(TableDef::new("counters"))
//!         .setup_table("counters")
//!         .workload(|_rng, _safety_ms, _knobs| {
//!             let ops = (1..=3).map(|i| PlannedOp { id: i, at_ms: 100 * i as u64, action: json!({}) }).collect();
//!             let client = ClientScript { name: "client-1".into(), user: "u1".into(), ops };
//!             Ok(Workload { setup: json!([{"id": 1, "n": 0}]), clients: vec![client] })
//!         })
//!         .variant(Variant::new("blind", blind))
//!         .invariant(Invariant::new("counts_every_ack", |history, state| {
//!             let acked = history.operations_named("incr").iter().filter(|o| o.is_ok()).count();
//!             let n = state.rows("counters")[0]["n"].as_u64().unwrap_or(0) as usize;
//!             if n >= acked { Verdict::holds("counts_every_ack") }
//!             else { Verdict::violated("counts_every_ack", format!("{acked} acked, {n} counted"), vec![]) }
//!         })))
//! }
//!
//! let registry = Registry::new().system("counter", counter).scenario_text(
//!     "counter", "counter.toml", "name = \"counter\"\ndescription = \"one client counting\"\nlogic = \"counter\"\n",
//! );
//! let report = faultline::Harness::new(registry)
//!     .scenario("counter")
//!     .expect_holds("blind")
//!     .seeds(3)
//!     .evidence_dir(None)
//!     .run()?;
//! report.assert_as_expected();
//! # Ok::<(), faultline::Error>(())
//! ```
//!
//! A failure prints each violation in plain words with the operations that show it, a
//! replay line for that very test (`FAULTLINE_SEED=7 cargo test ... -- --exact NAME`),
//! and writes the plan, history, shrunk plan and an HTML timeline under
//! `target/faultline/`. `examples/room-booking` is a complete system of this kind; the
//! five seed systems (crate `faultline-seeds`) are written on the same public API, and
//! [`cli::main_with`] turns any [`system::Registry`] into the whole `faultline` command
//! line.
//!
//! # How a run works
//!
//! ```text
//! scenario.toml --(seed)--> plan --> world (turmoil: store, replicas, auth, clients running a variant)
//!                                       |  nemesis applies fault events at their times
//!                                       v
//!                         history + final state (read after the liveness phase)
//!                                       v
//!                          checkers --> verdicts + stats --> exit code, report, replay line
//! ```
//!
//! One seed decides everything: the plan (workload, faults, drawn knobs), the simulated
//! network, server-side randomness. The same seed gives the same history, byte for byte.
//! A scenario may declare named fault profiles (`[profiles.NAME]`); a seed then runs under
//! the one a user names, or draws one from itself, and the plan records which.
//!
//! The history conventions every generic checker relies on are in [`check`]; the
//! cargo features are `cli` (the command line), `postgres` (runs on a real database) and
//! `proptest` (a `Strategy` over plans), all on by default: a crate that only needs the
//! simulated Harness sets `default-features = false`.

pub mod backend;
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod client;
#[cfg(all(feature = "postgres", feature = "proptest"))]
pub mod conformance;
#[doc(hidden)]
pub mod determinism;
#[doc(hidden)]
pub mod endpoint;
pub mod error;
pub mod evidence;
pub mod harness;
pub mod history;
pub mod limits;
pub mod linear;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod plan;
#[doc(hidden)]
pub mod report;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod seeds;
#[doc(hidden)]
pub mod shrink;
#[doc(hidden)]
pub mod sim;
pub mod store;
#[cfg(feature = "proptest")]
pub mod strategy;
pub mod system;

pub use error::{Error, Result};
pub use harness::Harness;
