//! `chat_persistence` (seed document `002`): devices of one user append messages to one
//! conversation stored as a whole array, sign out and back in, through faults.
//!
//! History conventions the checkers rely on:
//! - `send` invokes with `{"msg": id}` and completes ok with `{"msg", "version", "saved"}`
//!   once a save containing the message was acknowledged (`saved`: the ids of the whole
//!   array that save wrote, the server's content at that version);
//! - `reauth` (sign out, stay away, sign in) completes ok with `{"view": [ids]}`, the
//!   messages the device shows after signing in.

mod api;
mod documented;
pub mod mutants;
mod naive;
mod reference;
pub mod server;
pub mod situations;
mod workload;

use std::cell::RefCell;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use api::{BuiltinChat, ChatLogic};
use faultline::backend::{filter, AuthApi, Backend, DbError, ErrorCategory, Request, Row};
use faultline::check::{chat, chat_moment, refusals, FinalState, Verdict};
use faultline::error::Result;
use faultline::plan::ClientScript;
use faultline::scenario::{read_workload, Scenario};
use faultline::store::TableDef;
use faultline::system::{bad_action, client_fn, ClientCtx, Invariant, SystemSpec, Variant};
pub use workload::ChatWorkload;

/// The conversations table.
pub const TABLE: &str = "conversations";
/// The one conversation every device writes to.
pub const CONVERSATION: &str = "c1";

/// One planned action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Type a message and send it.
    Send {
        /// The message id, unique in the run.
        msg: String,
    },
    /// Sign out, stay away `away_ms`, sign back in.
    Reauth {
        /// Time signed out.
        away_ms: u64,
    },
}

/// A device's local copy of the conversation (what the chat screen shows).
#[derive(Debug, Default)]
pub struct Local {
    /// Messages in display order.
    pub messages: RefCell<Vec<Value>>,
    /// The version the device last saw.
    pub version: RefCell<Value>,
}

impl Local {
    /// Message ids in display order.
    pub fn ids(&self) -> Vec<Value> {
        self.messages
            .borrow()
            .iter()
            .map(|m| m["id"].clone())
            .collect()
    }
}

/// The chat system for `scenario`: its table, server function, workload, built-in
/// variants and the mutant suite's, invariants and situations. Users' own code runs as
/// further named variants made with [`variant`].
pub fn system(scenario: &Scenario) -> Result<SystemSpec> {
    let workload: ChatWorkload = read_workload(scenario)?;
    let builtins = BuiltinChat::NAMES
        .iter()
        .filter_map(|n| BuiltinChat::named(n).map(|b| variant(n, b).schema(n)));
    // The mutants are the reference with one bug each: they run on its schema.
    let mutants = mutants::MUTANTS.map(|(m, e)| variant(e.name, m).schema("reference"));
    let spec = SystemSpec::new("chat_persistence")
        .table(
            TableDef::new(TABLE)
                .unique(&["user_id", "id"])
                .versioned("version"),
        )
        .function("save_conversation", server::save_conversation)
        .setup_table(TABLE)
        // Every committed image of the conversation, so sends are judged when shown.
        .audit(TABLE)
        .workload(move |rng, safety_ms, knobs| Ok(workload.generate(rng, safety_ms, knobs)))
        .variants_from(builtins)
        .variants_from(mutants)
        .invariants_from(invariants())
        .situations_from(situations::all());
    Ok(crate::sql::onto(spec, "chat_persistence"))
}

/// The conversation's messages at the end, and every image of it ever committed.
fn conversation(state: &FinalState) -> (Vec<Value>, &[Row]) {
    let messages = state
        .rows(TABLE)
        .iter()
        .find(|r| r.get("id") == Some(&json!(CONVERSATION)))
        .and_then(|r| r.get("messages"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let images = state.images(TABLE);
    (messages, images)
}

fn invariants() -> [Invariant; 4] {
    [
        Invariant::new(chat::NO_LOST_MESSAGES, |h, s| {
            let (messages, images) = conversation(s);
            first_violation([
                chat::no_lost_messages(h, &messages),
                chat_moment::sent_was_saved(h, images),
            ])
        })
        .reads(TABLE),
        Invariant::new(chat::NO_DUPLICATE_MESSAGES, |_, s| {
            let (messages, images) = conversation(s);
            first_violation([
                chat::no_duplicate_messages(&messages),
                chat_moment::never_duplicated(images),
            ])
        })
        .reads(TABLE),
        Invariant::new(chat::SURVIVES_REAUTH, |h, _| chat::survives_reauth(h)),
        // Saves of the one conversation conflict only with another device's save.
        // A failure shown must also be true: a send shown as not sent was not saved.
        Invariant::new(refusals::NAME, |h, s| {
            let (_, images) = conversation(s);
            first_violation([
                refusals::Refusals::of(&["send", "reauth"])
                    .contended_by("send", &["send"], None, &[ErrorCategory::Conflict])
                    .check(refusals::NAME, h),
                chat_moment::failed_was_not_saved(h, images, refusals::NAME),
            ])
        })
        .reads(TABLE),
    ]
}

/// Runs `logic` as the variant `name` (every variant shares one schema).
pub fn variant<L: ChatLogic + Send + Sync>(name: &str, logic: L) -> Variant {
    Variant::new(
        name,
        client_fn(move |ctx, script| {
            let logic = logic.clone();
            async move { run_client(&logic, &ctx, script).await }
        }),
    )
    .for_logic("chat_persistence")
}

/// The first violated verdict, else the first (which holds).
fn first_violation<const N: usize>(verdicts: [Verdict; N]) -> Verdict {
    let mut all = verdicts.into_iter();
    let first = all.next().expect("at least one verdict");
    if first.is_ok() {
        all.find(|v| !v.is_ok()).unwrap_or(first)
    } else {
        first
    }
}

/// Runs a device's script with one variant's code.
pub async fn run_client<L: ChatLogic, B: Backend, A: AuthApi>(
    logic: &L,
    ctx: &ClientCtx<B, A>,
    script: ClientScript,
) -> Result<(), String> {
    let local = Local::default();
    // The device opens the chat: it loads the conversation once.
    if let Ok(row) = load(ctx).await {
        *local.messages.borrow_mut() = row.0;
        *local.version.borrow_mut() = row.1;
    }
    for planned in script.ops {
        ctx.wait_until(planned.at_ms).await;
        let action: Action = serde_json::from_value(planned.action)
            .map_err(|e| bad_action("chat_persistence", e).to_string())?;
        match action {
            Action::Send { msg } => logic.send(ctx, &local, planned.id, &msg).await,
            Action::Reauth { away_ms } => logic.reauth(ctx, &local, planned.id, away_ms).await,
        }
    }
    Ok(())
}

/// Reads the conversation: (messages, version).
pub async fn load<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
) -> Result<(Vec<Value>, Value), DbError> {
    let rows = ctx
        .call(Request::select(
            TABLE,
            filter([("id", json!(CONVERSATION))]),
        ))
        .await?
        .rows();
    let row = rows
        .into_iter()
        .next()
        .ok_or_else(|| DbError::sql("P0002", "conversation not found"))?;
    let messages = row
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok((messages, row.get("version").cloned().unwrap_or(Value::Null)))
}

/// A message as the app stores it.
pub fn message<B, A>(ctx: &ClientCtx<B, A>, id: &str) -> Value {
    json!({"id": id, "from": ctx.name, "text": format!("hello from {}", ctx.name)})
}
