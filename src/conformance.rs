//! Can the simulation be trusted? The conformance check runs the same generated sequences
//! of requests against a system's simulated store (its tables and the twin of each server
//! function) and against PostgreSQL loaded with its own SQL files, and wants the same
//! answers from both: the same rows, the same function results, the same errors by
//! SQLSTATE, the same version bumps, and the same rows left behind in every table.
//!
//! A divergence is shrunk by proptest to the shortest sequence that still disagrees, and
//! reported with the request, both answers and the whole sequence.
//!
//! ```no_run
//! use faultline::backend::Request;
//! use faultline::conformance::Conformance;
//! use proptest::prelude::*;
//! use serde_json::json;
//! # fn registry() -> faultline::system::Registry { faultline::system::Registry::new() }
//!
//! #[test]
//! fn booking_twin_matches_its_sql() {
//!     let Some(db) = faultline::pg::testing::database_for("booking_twin") else { return };
//!     let book = (1i64..3, 0i64..6).prop_map(|(room, start)| {
//!         Request::rpc("book_room", json!({"room": room, "start": start, "end": start + 2}))
//!     });
//!     Conformance::new(&registry(), "room_booking", "fixed")
//!         .unwrap()
//!         .cases(128)
//!         .check(&db, proptest::collection::vec(book, 1..16))
//!         .unwrap()
//!         .assert_agrees();
//! }
//! ```

use std::cell::RefCell;
use std::fmt;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use serde_json::{json, Value};

use crate::backend::Request;
use crate::error::{Error, Result};
use crate::pg::testing::{comparable, PgSession};
use crate::pg::PgTarget;
use crate::runner::Loaded;
use crate::store::Store;
use crate::system::Registry;

/// A conformance check of one system's variant: which tables and functions it installs
/// (in the simulator) and which SQL files it loads (on PostgreSQL).
pub struct Conformance {
    loaded: Loaded,
    variant: String,
    cases: u32,
    seed: u64,
}

/// What a check found.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Every sequence got the same answers from both.
    Agrees {
        /// Sequences run.
        cases: u32,
    },
    /// A sequence on which they disagree, shrunk.
    Diverges(Box<Divergence>),
}

/// The shortest sequence found on which the simulated twin and PostgreSQL disagree.
#[derive(Debug, Clone)]
pub struct Divergence {
    /// The sequence, as sent to both.
    pub requests: Vec<Request>,
    /// Index of the first request answered differently; `None` when every answer agreed
    /// and only the rows left behind differ.
    pub at: Option<usize>,
    /// The table whose final rows differ, when `at` is `None`.
    pub table: Option<String>,
    /// The simulator's answer (or rows).
    pub simulated: Value,
    /// PostgreSQL's answer (or rows).
    pub postgres: Value,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.at, &self.table) {
            (Some(i), _) => writeln!(
                f,
                "request #{i} {:?} is answered differently",
                self.requests[i]
            )?,
            (None, Some(t)) => {
                writeln!(f, "every answer agrees, but table `{t}` ends differently")?
            }
            (None, None) => writeln!(f, "the runs differ")?,
        }
        writeln!(f, "  simulated: {}", self.simulated)?;
        writeln!(f, "  postgres:  {}", self.postgres)?;
        writeln!(f, "  the sequence ({} requests):", self.requests.len())?;
        for (i, r) in self.requests.iter().enumerate() {
            writeln!(f, "    #{i} {r:?}")?;
        }
        Ok(())
    }
}

impl Outcome {
    /// Panics with the divergence, for a `#[test]`.
    #[track_caller]
    pub fn assert_agrees(&self) {
        if let Outcome::Diverges(d) = self {
            panic!("the simulated twin and PostgreSQL disagree: {d}");
        }
    }
}

impl Conformance {
    /// The check of `variant` of the system that runs `scenario` (a name `registry`
    /// ships, or a scenario file's path, as in [`crate::Harness::scenario`]).
    pub fn new(registry: &Registry, scenario: &str, variant: &str) -> Result<Self> {
        let loaded = Loaded::load(scenario, registry)?;
        if !loaded.logic.variants().iter().any(|v| v == variant) {
            return Err(Error::Usage(format!(
                "conformance: system `{}` has no variant `{variant}`; it has: {}",
                loaded.logic.name(),
                loaded.logic.variants().join(", ")
            )));
        }
        Ok(Self {
            loaded,
            variant: variant.to_string(),
            cases: 256,
            seed: 7,
        })
    }

    /// Sequences to try (default 256).
    pub fn cases(mut self, n: u32) -> Self {
        self.cases = n.max(1);
        self
    }

    /// The generator's seed (default 7): fixed, so a CI failure is the same failure on a
    /// laptop.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Runs sequences drawn from `requests` on both and compares every answer and the
    /// final rows of every table. Setup problems (no database, SQL that does not load or
    /// defines other functions than the twin) are errors; a disagreement is an outcome.
    pub fn check<S>(&self, target: &PgTarget, requests: S) -> Result<Outcome>
    where
        S: Strategy<Value = Vec<Request>>,
    {
        let system = self.loaded.logic.as_ref();
        let session = RefCell::new(PgSession::open(target, system, &self.variant)?);
        let tables = self
            .simulated()?
            .tables()
            .keys()
            .cloned()
            .collect::<Vec<_>>();
        let config = Config {
            cases: self.cases,
            failure_persistence: None,
            ..Config::default()
        };
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &key);
        let mut runner = TestRunner::new_with_rng(config, rng);
        let found: RefCell<Option<Divergence>> = RefCell::new(None);
        let result = runner.run(&requests, |seq| {
            let mut pg = session.borrow_mut();
            pg.reset()
                .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let mut sim = self
                .simulated()
                .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            match compare(&mut sim, &mut pg, &tables, &seq) {
                None => Ok(()),
                Some(d) => {
                    // proptest keeps shrinking; the last failure it sees is the smallest.
                    *found.borrow_mut() = Some(d);
                    Err(proptest::test_runner::TestCaseError::fail("diverges"))
                }
            }
        });
        match result {
            Ok(()) => Ok(Outcome::Agrees { cases: self.cases }),
            Err(TestError::Fail(_, seq)) => {
                // Rerun the minimal sequence, so the divergence reported is its own.
                let mut pg = session.borrow_mut();
                pg.reset()?;
                let mut sim = self.simulated()?;
                let d = compare(&mut sim, &mut pg, &tables, &seq)
                    .or_else(|| found.into_inner())
                    .ok_or_else(|| Error::Harness("conformance: a divergence vanished".into()))?;
                Ok(Outcome::Diverges(Box::new(d)))
            }
            Err(TestError::Abort(why)) => Err(Error::Harness(format!(
                "conformance: proptest gave up: {why}"
            ))),
        }
    }

    /// A fresh simulated store with the variant's tables and functions.
    fn simulated(&self) -> Result<Store> {
        crate::pg::files::twin_store(self.loaded.logic.as_ref(), &self.variant)
    }
}

/// The first disagreement of `seq` between the two, answers first, then final rows.
fn compare(
    sim: &mut Store,
    pg: &mut PgSession,
    tables: &[String],
    seq: &[Request],
) -> Option<Divergence> {
    let diverge = |at, table, s: Value, p: Value| Divergence {
        requests: seq.to_vec(),
        at,
        table,
        simulated: s,
        postgres: p,
    };
    let shown = |r: std::result::Result<Value, String>| match r {
        Ok(v) => v,
        Err(e) => json!({ "error": e }),
    };
    for (i, req) in seq.iter().enumerate() {
        let s = comparable(sim.execute(req));
        let p = comparable(pg.execute(req));
        if s != p {
            return Some(diverge(Some(i), None, shown(s), shown(p)));
        }
    }
    for t in tables {
        let all = Request::select(t, Vec::new());
        let s = comparable(sim.execute(&all));
        let p = comparable(pg.execute(&all));
        if s != p {
            return Some(diverge(None, Some(t.clone()), shown(s), shown(p)));
        }
    }
    None
}
