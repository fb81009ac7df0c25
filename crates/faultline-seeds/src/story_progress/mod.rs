//! `story_progress` (seed document `003`): a generator writes a story's progress from 0 to
//! 100 on the primary while browser tabs poll its status through a load balancer that
//! spreads reads over the primary and lagging read replicas.
//!
//! History conventions the checkers rely on:
//! - `write` (generator) invokes with `{"progress": p}` and completes ok once the primary
//!   acknowledged it;
//! - `verify` (generator, reading back what it wrote) and `poll` (tab) complete ok with
//!   `{"read": r, "host": h}`; a `poll` also carries `"shown"`, the progress the tab
//!   displays afterwards, and invokes with `{"reload": true}` on the first poll after the
//!   page (re)loaded. A failed poll leaves the display as it was.

mod documented;
pub mod mutants;
mod naive;
mod reference;
pub mod server;
pub mod situations;
mod workload;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use faultline::backend::{filter, AuthApi, Backend, DbError, ReadFrom, Request};
use faultline::check::progress;
use faultline::error::Result;
use faultline::plan::ClientScript;
use faultline::scenario::{read_workload, Scenario};
use faultline::store::TableDef;
use faultline::system::{
    bad_action, client_fn, ClientCtx, Invariant, SystemSpec, Variant as UserVariant,
};
pub use workload::ProgressWorkload;

/// The stories table.
pub const TABLE: &str = "stories";
/// The one story being generated.
pub const STORY: &str = "s1";
/// The progress column.
pub const COLUMN: &str = "generation_progress";
/// Progress of a finished story.
pub const DONE: u64 = 100;
/// Added to a write's op id for the generator's read-back.
pub const VERIFY_OP: u32 = 1_000_000;
/// Poll op ids start here and count up per tab, so they never meet planned ids.
pub const POLL_OP: u32 = 2_000_000;

/// One planned action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// The generator finished a step and records the story's progress.
    Write {
        /// The new progress, 0 to 100.
        progress: u64,
    },
    /// A tab opens (or the user reloads it): the page starts from nothing in memory and
    /// polls every `poll_ms` until it shows 100 or the next planned action is due.
    Open {
        /// Polling interval.
        poll_ms: u64,
    },
}

/// The three variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Every status read goes to whatever the load balancer picks.
    Naive,
    /// The seed document's fix: retry while the read is below `expectedProgress`.
    Documented,
    /// Session consistency: reads must come from a host that replayed what was seen.
    Reference,
}

impl Variant {
    /// Names of the variants.
    pub const NAMES: [&'static str; 3] = ["naive", "documented", "reference"];

    /// The variant called `name`.
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "naive" => Some(Variant::Naive),
            "documented" => Some(Variant::Documented),
            "reference" => Some(Variant::Reference),
            _ => None,
        }
    }
}

/// What a tab keeps between polls.
#[derive(Debug, Clone, Default)]
pub struct Tab {
    /// Page memory (component state): lost when the page reloads.
    pub shown: Option<u64>,
    /// sessionStorage: survives a reload of the same tab. Only the reference uses it,
    /// for the highest LSN the tab has read at.
    pub session_lsn: u64,
    /// Polls made so far, for op ids.
    pub polls: u32,
    /// True until the first poll of the current page load.
    pub fresh: bool,
}

impl Tab {
    /// The page (re)loads: memory is gone, sessionStorage stays.
    pub fn reload(&mut self) {
        self.shown = None;
        self.fresh = true;
    }

    /// Starts the next poll: its op id and its invoke value (`{"reload": true}` on the
    /// first poll after the page loaded). Every poll of a tab must start with this.
    pub fn next_poll(&mut self) -> (u32, Value) {
        self.polls += 1;
        let value = json!({"reload": self.fresh});
        self.fresh = false;
        (POLL_OP + self.polls, value)
    }
}

/// The story-progress system for `scenario`: its table and monotonic server function,
/// workload, built-in variants and the mutant suite's, invariants and situations. Users'
/// own code runs as further named variants made with [`variant`].
pub fn system(scenario: &Scenario) -> Result<SystemSpec> {
    let workload: ProgressWorkload = read_workload(scenario)?;
    let builtins = Variant::NAMES
        .iter()
        .filter_map(|n| Variant::named(n).map(|v| variant(n, v).schema(n)));
    // The mutants are the reference with one bug each: they run on its schema.
    let mutants = mutants::MUTANTS.map(|(m, e)| variant(e.name, m).schema("reference"));
    let spec = SystemSpec::new("story_progress")
        .table(TableDef::new(TABLE))
        .function(
            "update_story_progress_monotonic",
            server::update_story_progress_monotonic,
        )
        .setup_table(TABLE)
        .workload(move |rng, safety_ms, knobs| Ok(workload.generate(rng, safety_ms, knobs)))
        .variants_from(builtins)
        .variants_from(mutants)
        .invariants_from([
            Invariant::new(progress::MONOTONIC_PROGRESS, |h, _| {
                progress::monotonic_progress(h)
            }),
            Invariant::new(progress::READ_YOUR_WRITES, |h, _| {
                progress::read_your_writes(h)
            }),
            Invariant::new(progress::EVENTUALLY_COMPLETE, |h, _| {
                progress::eventually_complete(h, DONE)
            }),
        ])
        .situations_from(situations::all());
    Ok(crate::sql::onto(spec, "story_progress"))
}

/// The code of the generator and the tabs, as a user writes it. The run loop (waiting for
/// planned times, reloading a tab, polling every `poll_ms` until the story shows 100) is
/// [`run_client`]'s; `poll` makes one poll, starting it with [`Tab::next_poll`] and
/// completing it with the value [`poll_value`] builds.
#[allow(async_fn_in_trait)]
pub trait ProgressLogic: Clone + 'static {
    /// The generator records `progress` (op `op`); `session_lsn` is the generator's own
    /// session state (the highest LSN it has seen), kept across its writes.
    async fn write<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        session_lsn: &mut u64,
        op: u32,
        progress: u64,
    );
    /// One status poll of a tab.
    async fn poll<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, tab: &mut Tab);
}

impl ProgressLogic for Variant {
    async fn write<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        session_lsn: &mut u64,
        op: u32,
        progress: u64,
    ) {
        match self {
            Variant::Naive => naive::write(ctx, op, progress).await,
            Variant::Documented => documented::write(ctx, op, progress).await,
            Variant::Reference => reference::write(ctx, session_lsn, op, progress, None).await,
        }
    }

    async fn poll<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, tab: &mut Tab) {
        match self {
            Variant::Naive => naive::poll(ctx, tab).await,
            Variant::Documented => documented::poll(ctx, tab).await,
            Variant::Reference => reference::poll(ctx, tab, None).await,
        }
    }
}

/// Runs `logic` as the variant `name` (all variants share one schema).
pub fn variant<L: ProgressLogic + Send + Sync>(name: &str, logic: L) -> UserVariant {
    UserVariant::new(
        name,
        client_fn(move |ctx, script| {
            let logic = logic.clone();
            async move { run_client(&logic, &ctx, script).await }
        }),
    )
    .for_logic("story_progress")
}

/// Runs a generator's or a tab's script with one variant's code; generic over the
/// backend so the same code can run against PostgreSQL with a streaming replica.
pub async fn run_client<L: ProgressLogic, B: Backend, A: AuthApi>(
    variant: &L,
    ctx: &ClientCtx<B, A>,
    script: ClientScript,
) -> Result<(), String> {
    let mut tab = Tab::default();
    let mut session_lsn = 0u64;
    let actions = script
        .ops
        .iter()
        .map(|p| serde_json::from_value::<Action>(p.action.clone()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad_action("story_progress", e).to_string())?;
    for (i, (planned, action)) in script.ops.iter().zip(actions).enumerate() {
        ctx.wait_until(planned.at_ms).await;
        match action {
            Action::Write { progress } => {
                variant
                    .write(ctx, &mut session_lsn, planned.id, progress)
                    .await
            }
            Action::Open { poll_ms } => {
                let next_at = script.ops.get(i + 1).map(|p| p.at_ms);
                tab.reload();
                loop {
                    variant.poll(ctx, &mut tab).await;
                    // A finished story stops the page's polling timer.
                    if tab.shown == Some(DONE) {
                        break;
                    }
                    if next_at.is_some_and(|at| ctx.now_ms() + poll_ms >= at) {
                        break;
                    }
                    ctx.sleep_ms(poll_ms).await;
                }
            }
        }
    }
    Ok(())
}

/// The story's status as one host saw it.
#[derive(Debug, Clone)]
pub struct Status {
    /// Its progress.
    pub progress: u64,
    /// The host that answered.
    pub host: String,
    /// The LSN that host had applied.
    pub lsn: Option<u64>,
}

/// `select * from stories where id = 's1'`, routed as `from` says.
pub async fn read_status<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    from: ReadFrom,
) -> std::result::Result<Status, DbError> {
    let served = ctx
        .read(Request::select(TABLE, filter([("id", json!(STORY))])), from)
        .await?;
    let row = served
        .response
        .rows()
        .into_iter()
        .next()
        .ok_or_else(|| DbError::sql("P0002", "story not found"))?;
    Ok(Status {
        progress: row.get(COLUMN).and_then(Value::as_u64).unwrap_or(0),
        host: served.host,
        lsn: served.lsn,
    })
}

/// A poll's ok value: what was read, where, and what the tab shows now.
pub fn poll_value(s: &Status, shown: u64, attempts: u32) -> Value {
    json!({"read": s.progress, "host": s.host, "shown": shown, "attempts": attempts})
}

/// A failed poll's value: the display did not change.
pub fn unchanged(tab: &Tab) -> Value {
    json!({"shown": tab.shown})
}
