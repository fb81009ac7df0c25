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
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use api::{BuiltinChat, ChatLogic};
use faultline::backend::{filter, AuthApi, Backend, DbError, Request};
use faultline::check::{chat, chat_moment, FinalState, Verdict};
use faultline::endpoint::{AnyAuth, AnyBackend};
use faultline::error::Result;
use faultline::history::History;
use faultline::plan::{ClientScript, Workload};
use faultline::rng::SimRng;
use faultline::scenario::{parse_workload, Scenario};
use faultline::store::{Store, TableDef};
use faultline::system::{
    bad_action, client_fn, failing_client, ClientCtx, ClientFuture, ScenarioLogic, Variant,
};
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

/// The chat system with its built-in variants. Users' own code runs as further named
/// variants made with [`variant`].
#[derive(Debug, Clone)]
pub struct Chat {
    workload: ChatWorkload,
}

impl Chat {
    /// Reads the scenario's `[workload]`.
    pub fn from_scenario(scenario: &Scenario) -> Result<Self> {
        let workload: ChatWorkload = parse_workload(scenario)?;
        workload.validate(scenario)?;
        Ok(Self { workload })
    }
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

impl ScenarioLogic for Chat {
    fn name(&self) -> &str {
        "chat_persistence"
    }

    fn variants(&self) -> Vec<String> {
        let mut all = faultline::system::names(&BuiltinChat::NAMES);
        all.extend(
            crate::mutants::names_of("chat_persistence")
                .iter()
                .map(|n| n.to_string()),
        );
        all
    }

    fn invariants(&self) -> Vec<String> {
        faultline::system::names(&[
            chat::NO_LOST_MESSAGES,
            chat::NO_DUPLICATE_MESSAGES,
            chat::SURVIVES_REAUTH,
            faultline::check::refusals::NAME,
        ])
    }

    fn workload(
        &self,
        rng: SimRng,
        safety_ms: u64,
        knobs: &mut BTreeMap<String, Value>,
    ) -> Result<Workload> {
        Ok(self.workload.generate(rng, safety_ms, knobs))
    }

    fn install(&self, _variant: &str, store: &mut Store, setup: &Value) -> Result<()> {
        store.create_table(
            TableDef::new(TABLE)
                .unique(&["user_id", "id"])
                .versioned("version"),
        );
        store.register("save_conversation", server::save_conversation);
        store.insert_setup(TABLE, setup)
    }

    fn setup_table(&self) -> Option<String> {
        Some(TABLE.to_string())
    }

    fn sql_files(&self, schema: &str) -> Option<Vec<faultline::system::SqlFile>> {
        crate::sql::for_schema("chat_persistence", schema)
    }

    fn client(
        &self,
        variant: &str,
        ctx: ClientCtx<AnyBackend, AnyAuth>,
        script: ClientScript,
    ) -> ClientFuture {
        match BuiltinChat::named(variant) {
            Some(builtin) => {
                Box::pin(
                    async move { run_client(&builtin, &ctx, script).await.map_err(Into::into) },
                )
            }
            None => match mutants::Mutant::named(variant) {
                Some(m) => {
                    Box::pin(async move { run_client(&m, &ctx, script).await.map_err(Into::into) })
                }
                None => failing_client(format!("chat_persistence has no variant `{variant}`")),
            },
        }
    }

    fn audited_tables(&self) -> Vec<String> {
        // Every committed image of the conversation, so sends are judged when shown.
        vec![TABLE.to_string()]
    }

    fn situations(&self) -> Vec<faultline::system::Situation> {
        situations::all()
    }

    fn check(&self, invariant: &str, history: &History, state: &FinalState) -> Verdict {
        let messages = state
            .rows(TABLE)
            .iter()
            .find(|r| r.get("id") == Some(&json!(CONVERSATION)))
            .and_then(|r| r.get("messages"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let images = state.audit.get(TABLE).map_or(&[][..], Vec::as_slice);
        match invariant {
            chat::NO_LOST_MESSAGES => first_violation([
                chat::no_lost_messages(history, &messages),
                chat_moment::sent_was_saved(history, images),
            ]),
            chat::NO_DUPLICATE_MESSAGES => first_violation([
                chat::no_duplicate_messages(&messages),
                chat_moment::never_duplicated(images),
            ]),
            chat::SURVIVES_REAUTH => chat::survives_reauth(history),
            // Saves of the one conversation conflict only with another device's save.
            faultline::check::refusals::NAME => {
                faultline::check::refusals::Refusals::of(&["send", "reauth"])
                    .contended_by(
                        "send",
                        &["send"],
                        None,
                        &[faultline::backend::ErrorCategory::Conflict],
                    )
                    .check(invariant, history)
            }
            other => Verdict::violated(
                other,
                format!("chat_persistence cannot check `{other}`"),
                vec![],
            ),
        }
    }
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
