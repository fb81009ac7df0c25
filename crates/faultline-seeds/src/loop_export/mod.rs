//! `loop_export` (seed document `000`): a browser extension saves practice loops to
//! Supabase from several tabs that share one signed-in session.
//!
//! A client host is one browser; its tabs run concurrently inside it and share the
//! browser's storage (the session and, for the reference, the outbox), as tabs sharing
//! `localStorage` do. Tabs share one network link, so a partition cuts them all off.
//!
//! History conventions the checkers rely on:
//! - `save` invokes with `{tab, video, loop, start_s, end_s}`; it completes `ok` with
//!   `{shown: "saved", id}` once the server acknowledged the row, `info` with
//!   `{shown: "queued"}` and an error category when the save waits in the outbox, or
//!   `fail`/`info` with `{shown: "failed"}` and a category when the user was told it
//!   failed. Code that swallows the error completes with no category.
//! - `sync` (the reference's outbox worker) invokes with `{video, loop, key}` when it first
//!   sends an entry and completes `ok` with `{id}` when the server acknowledged it.

mod browser;
mod documented;
pub mod mutants;
mod naive;
mod reference;
pub mod situations;
pub mod tab;
mod workload;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use browser::Browser;
use faultline::backend::{row, AuthApi, Backend, Row};
use faultline::check::{loops, refusals};
use faultline::error::Result;
use faultline::plan::ClientScript;
use faultline::scenario::{read_workload, Scenario};
use faultline::store::TableDef;
use faultline::system::{
    bad_action, client_fn, ClientCtx, Invariant, SystemSpec, Variant as UserVariant,
};
pub use tab::{check_then_insert, kept_locally, Tab};
pub use workload::LoopWorkload;

/// The table the extension saves loops into.
pub const TABLE: &str = "practice_sessions";
/// The columns that name one loop: the logical key of a save.
pub const LOOP_KEY: [&str; 3] = ["user_id", "video_id", "loop_id"];
/// Added to an op id for the second request of a double submit.
pub const SECOND_SUBMIT: u32 = 1_000_000;
/// Added to a save's op id for the outbox worker's `sync` of it.
pub const SYNC_OP: u32 = 2_000_000;

/// Names of the variants.
pub const VARIANTS: [&str; 3] = ["naive", "documented", "reference"];

/// One planned action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// The user presses "save loop" in one tab; `submits: 2` is a double click.
    Save {
        /// The tab, from 1.
        tab: u32,
        /// The video the loop belongs to.
        video: String,
        /// The loop's id, stable across saves of the same loop.
        loop_id: String,
        /// Loop start, seconds into the video.
        start_s: u64,
        /// Loop end.
        end_s: u64,
        /// How many times the save is sent at once.
        submits: u32,
    },
}

/// One save as the tabs see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopSave {
    /// The tab that saves it, e.g. `tab-2`.
    pub tab: String,
    /// The video.
    pub video: String,
    /// The loop.
    pub loop_id: String,
    /// Loop start.
    pub start_s: u64,
    /// Loop end.
    pub end_s: u64,
}

impl LoopSave {
    /// The invoke value of a `save`.
    pub fn invoke(&self) -> Value {
        json!({"tab": self.tab, "video": self.video, "loop": self.loop_id, "start_s": self.start_s, "end_s": self.end_s})
    }

    /// The row the extension writes for this loop.
    pub fn row(&self, user: &str) -> Row {
        row([
            ("user_id", json!(user)),
            ("video_id", json!(self.video)),
            ("loop_id", json!(self.loop_id)),
            ("start_s", json!(self.start_s)),
            ("end_s", json!(self.end_s)),
        ])
    }
}

/// The loop-export system for `scenario`: its table (the reference's schema adds the
/// unique loop key an upsert names), workload, built-in variants and the mutant suite's,
/// invariants and situations. Users' own code runs as further named variants made with
/// [`variant`].
pub fn system(scenario: &Scenario) -> Result<SystemSpec> {
    let workload: LoopWorkload = read_workload(scenario)?;
    let builtins = VARIANTS
        .iter()
        .filter_map(|n| Builtin::named(n).map(|b| variant(n, n, b)));
    let mutants = mutants::MUTANTS.map(|(m, e)| match m {
        // Its bug is in the key its upsert names, and so in the constraint it migrates.
        mutants::Mutant::KeyWithoutVideo => variant(e.name, KEY_WITHOUT_VIDEO_SCHEMA, m),
        _ => variant(e.name, "reference", m),
    });
    let spec = SystemSpec::new("loop_export")
        .table(TableDef::new(TABLE))
        .schema_table("reference", TableDef::new(TABLE).unique(&LOOP_KEY))
        .schema_table(
            KEY_WITHOUT_VIDEO_SCHEMA,
            TableDef::new(TABLE).unique(&reference::KEY_WITHOUT_VIDEO),
        )
        .setup_table(TABLE)
        .audit(TABLE)
        .workload(move |rng, safety_ms, knobs| Ok(workload.generate(rng, safety_ms, knobs)))
        .variants_from(builtins)
        .variants_from(mutants)
        .invariants_from(invariants())
        .situations_from(situations::all());
    Ok(crate::sql::onto(spec, "loop_export"))
}

/// The schema of the mutant whose unique key leaves out the video.
const KEY_WITHOUT_VIDEO_SCHEMA: &str = "key_without_video";

fn invariants() -> [Invariant; 5] {
    [
        Invariant::new(loops::NO_DUPLICATE_ROWS, |h, s| {
            loops::no_duplicate_rows(h, s.rows(TABLE))
        })
        .reads(TABLE),
        Invariant::new(loops::ACKED_DURABLE, |h, s| {
            loops::acked_durable(h, s.rows(TABLE), loops::Commits::of(s, TABLE))
        })
        .reads(TABLE),
        Invariant::new(loops::NO_SILENT_FAILURE, |h, _| loops::no_silent_failure(h)),
        Invariant::new(loops::QUEUED_EVENTUALLY_SYNCED, |h, s| {
            loops::queued_eventually_synced(h, s.rows(TABLE), loops::Commits::of(s, TABLE))
        })
        .reads(TABLE),
        // Upserts of a loop cannot refuse each other: no contention excuses a failure.
        Invariant::new(refusals::NAME, |h, _| {
            refusals::Refusals::of(&["save"]).check(refusals::NAME, h)
        }),
    ]
}

/// The extension's code, as a user writes it: one save from one tab, and an optional
/// background task per browser (an outbox worker). The browser (tabs running side by side
/// and sharing storage, double submits, the planned times) is [`run_client`]'s.
#[allow(async_fn_in_trait)]
pub trait LoopLogic: Clone + 'static {
    /// Tab `tab` saves `save` as op `op` (a double submit calls this twice at once).
    async fn save<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        browser: &Browser,
        tab: &Tab,
        op: u32,
        save: LoopSave,
    );
    /// Runs beside the tabs until it returns (the reference's outbox worker); by default
    /// nothing. It should return once `browser.tabs_open()` is false and its work is done.
    async fn background<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, browser: &Browser) {
        let _ = (ctx, browser);
    }
}

/// A built-in variant of the extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// The document's "before" code.
    Naive,
    /// The document's fix.
    Documented,
    /// The correct design.
    Reference,
}

impl Builtin {
    /// The variant called `name`.
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "naive" => Some(Builtin::Naive),
            "documented" => Some(Builtin::Documented),
            "reference" => Some(Builtin::Reference),
            _ => None,
        }
    }
}

impl LoopLogic for Builtin {
    async fn save<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        browser: &Browser,
        tab: &Tab,
        op: u32,
        save: LoopSave,
    ) {
        match self {
            Builtin::Naive => naive::save(ctx, browser, tab, op, save).await,
            Builtin::Documented => documented::save(ctx, browser, tab, op, save).await,
            Builtin::Reference => reference::save(ctx, browser, op, save, None).await,
        }
    }

    async fn background<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, browser: &Browser) {
        if *self == Builtin::Reference {
            reference::sync_worker(ctx, browser, None).await
        }
    }
}

/// Runs `logic` as the variant `name`, against the schema `schema` (`"reference"` has the
/// unique (user, video, loop) key an upsert can name; `"naive"` has none).
pub fn variant<L: LoopLogic + Send + Sync>(name: &str, schema: &str, logic: L) -> UserVariant {
    UserVariant::new(
        name,
        client_fn(move |ctx, script| {
            let logic = logic.clone();
            async move { run_client(&logic, &ctx, script).await }
        }),
    )
    .for_logic("loop_export")
    .schema(schema)
}

/// One tab's planned saves, in order.
type TabScript = Vec<(u32, u64, Action)>;

/// Runs one browser: its tabs concurrently, each through its own script, plus (for the
/// reference) the outbox worker that syncs what the tabs queued.
pub async fn run_client<L: LoopLogic, B: Backend, A: AuthApi>(
    variant: &L,
    ctx: &ClientCtx<B, A>,
    script: ClientScript,
) -> std::result::Result<(), String> {
    let mut tabs: BTreeMap<u32, TabScript> = BTreeMap::new();
    for planned in script.ops {
        let action: Action = serde_json::from_value(planned.action)
            .map_err(|e| bad_action("loop_export", e).to_string())?;
        let Action::Save { tab, .. } = &action;
        tabs.entry(*tab)
            .or_default()
            .push((planned.id, planned.at_ms, action));
    }
    let browser = Browser::new(&ctx.name, tabs.len());
    let mut tasks: Vec<Pin<Box<dyn Future<Output = ()> + '_>>> = Vec::new();
    for (n, ops) in tabs {
        let browser = &browser;
        tasks.push(Box::pin(async move {
            run_tab(variant, ctx, browser, n, ops).await;
            browser.tab_closed();
        }));
    }
    tasks.push(Box::pin(variant.background(ctx, &browser)));
    join_all(tasks).await;
    Ok(())
}

async fn run_tab<L: LoopLogic, B: Backend, A: AuthApi>(
    variant: &L,
    ctx: &ClientCtx<B, A>,
    browser: &Browser,
    n: u32,
    ops: TabScript,
) {
    let tab = Tab::new(format!("tab-{n}"));
    for (id, at_ms, action) in ops {
        ctx.wait_until(at_ms).await;
        let Action::Save {
            video,
            loop_id,
            start_s,
            end_s,
            submits,
            ..
        } = action;
        let save = LoopSave {
            tab: tab.name.clone(),
            video,
            loop_id,
            start_s,
            end_s,
        };
        let once = |op: u32| -> Pin<Box<dyn Future<Output = ()> + '_>> {
            Box::pin(variant.save(ctx, browser, &tab, op, save.clone()))
        };
        if submits > 1 {
            join_all(vec![once(id), once(id + SECOND_SUBMIT)]).await;
        } else {
            once(id).await;
        }
    }
}

/// Drives every future to completion, polling them in a fixed order so the run stays a
/// function of its seed.
pub async fn join_all(futures: Vec<Pin<Box<dyn Future<Output = ()> + '_>>>) {
    let mut slots: Vec<Option<Pin<Box<dyn Future<Output = ()> + '_>>>> =
        futures.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in slots.iter_mut() {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await
}
