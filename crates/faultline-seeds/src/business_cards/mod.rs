//! `business_cards` (seed document `004`): cards get unique slugs on creation, and two
//! tabs edit the same card or profile.
//!
//! History conventions the checkers rely on:
//! - `create` invokes with `{form_id, name}` and completes ok with `{id, slug, form_id}`;
//!   `form_id` identifies one create form a user submitted (the logical create).
//! - `edit` invokes with `{key, intent}` (the fields the user meant to change) and
//!   completes ok with `{key, version, written}` (every value the request wrote).
//!
//! Each field of each edited card is also judged as a linearisable register
//! ([`FIELDS_LINEARIZABLE`]): the history records no reads (an edit's load of the card is
//! not an operation of its own), so the writes are the edits' intents and the one read is
//! the primary's final state after the liveness phase. Replicas play no part: every
//! variant reads and writes cards through the primary.

mod api;
pub mod contention;
mod documented;
pub mod mutants;
mod naive;
mod reference;
pub mod server;
pub mod situations;
mod workload;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub use api::{Builtin, CardsLogic};
use faultline::backend::{AuthApi, Backend, ErrorCategory, Row};
use faultline::check::{conflicts, duplicate_create, lost_updates, refusals, unique_slugs};
use faultline::error::Result;
use faultline::linear::{Linearizable, Model, Value as LinValue};
use faultline::plan::ClientScript;
use faultline::scenario::{read_workload, Scenario};
use faultline::store::TableDef;
use faultline::system::{bad_action, client_fn, ClientCtx, Invariant, SystemSpec, Variant};
pub use workload::CardsWorkload;

/// The cards table.
pub const TABLE: &str = "business_cards";
/// The fields a user edits on a card's form.
pub const FIELDS: [&str; 4] = ["title", "email", "phone", "company"];
/// Added to an op id for the second request of a double submit.
pub const SECOND_SUBMIT: u32 = 1_000_000;
/// The invariant "each card field is a linearisable register".
pub const FIELDS_LINEARIZABLE: &str = "card_fields_linearizable";

/// What a seeded card's field holds before the run (the workload writes it so).
pub fn seeded_value(field: &str) -> String {
    format!("{field}-0")
}

/// Each (card, field) an edit touched is a register: an edit writes the fields of its
/// `intent` (what the user meant to set, never the stale rest of a whole form), it holds
/// [`seeded_value`] before the run, and the final `business_cards` row is read last.
pub fn fields_linearizable() -> Linearizable {
    Linearizable::new(Model::Register)
        .reads(&[])
        .writes(&["edit"])
        .key_at("/key")
        .argument_at("/intent")
        .columns(&FIELDS)
        .initial(|key| match key {
            LinValue::Vector(kc) => match kc.get(1) {
                Some(LinValue::Str(field)) => LinValue::Str(seeded_value(field)),
                _ => LinValue::Nil,
            },
            _ => LinValue::Nil,
        })
        .final_state(TABLE, "id")
}

/// One planned action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Submit the "new card" form; `submits: 2` is a double submit.
    Create {
        /// The form instance: one logical create.
        form_id: String,
        /// The card's name, from which the slug derives.
        name: String,
        /// How many times the form is sent at once.
        submits: u32,
    },
    /// Open a card, spend `think_ms` typing, save.
    Edit {
        /// The card's id.
        card: i64,
        /// The fields the user changes, with their new values.
        intent: Map<String, Value>,
        /// Time between loading the form and saving it.
        think_ms: u64,
    },
}

/// The business-cards system for `scenario`: its table (with the constraints each
/// schema's migration adds), server functions, workload, the three built-in variants and
/// the mutant suite's, invariants and situations. Users' own code runs as further named
/// variants made with [`variant`].
pub fn system(scenario: &Scenario) -> Result<SystemSpec> {
    let workload: CardsWorkload = read_workload(scenario)?;
    // The version trigger exists for every schema so acknowledged writes can be ordered;
    // only the constraints the fixes added differ.
    let table = || TableDef::new(TABLE).versioned("version");
    let spec = SystemSpec::new("business_cards")
        .table(table())
        .schema_table("documented", table().unique(&["slug"]))
        .schema_table("reference", table().unique(&["slug"]).unique(&["form_id"]))
        .function(
            "create_business_card_atomic",
            server::create_business_card_atomic,
        )
        .function("create_card_idempotent", server::create_card_idempotent)
        .function(
            "update_business_card_optimistic",
            server::update_business_card_optimistic,
        )
        .setup_table(TABLE)
        .workload(move |rng, safety_ms, knobs| Ok(workload.generate(rng, safety_ms, knobs)))
        .variants_from(Builtin::ALL.map(|b| variant(b.name(), b)))
        .variants_from(mutants::MUTANTS.map(|(m, e)| variant(e.name, m)))
        .invariants_from(invariants())
        .situations_from(situations::all());
    Ok(crate::sql::onto(spec, "business_cards"))
}

fn invariants() -> [Invariant; 6] {
    [
        Invariant::new(unique_slugs::NAME, |h, s| {
            unique_slugs::check(h, s, TABLE, "slug")
        }),
        Invariant::new(lost_updates::NAME, |h, s| lost_updates::check(h, s, TABLE)),
        // Rows are counted per submitted form (history), not per key the client wrote.
        Invariant::new(duplicate_create::NAME, |h, s| {
            duplicate_create::check_per_form(h, s, TABLE, "form_id", "name", duplicate_create::NAME)
        }),
        Invariant::new(FIELDS_LINEARIZABLE, |h, s| {
            fields_linearizable().judge(FIELDS_LINEARIZABLE, h, s)
        }),
        Invariant::new(conflicts::NAME, |h, _| conflicts::check(h)),
        // A create can lose only to another create of the same name (its slug), an edit
        // only to another edit of the same card; anything else shown must be a fault's.
        Invariant::new(refusals::NAME, |h, _| {
            refusals::Refusals::of(&["create", "edit"])
                .contended_by(
                    "create",
                    &["create"],
                    Some("name"),
                    &[ErrorCategory::Conflict],
                )
                .contended_by("edit", &["edit"], Some("key"), &[ErrorCategory::Conflict])
                .check(refusals::NAME, h)
        }),
    ]
    .map(|i| i.reads(TABLE))
}

/// Runs `logic` as the variant `name`, against the schema its [`CardsLogic::schema`] names.
pub fn variant<L: CardsLogic + Send + Sync>(name: &str, logic: L) -> Variant {
    let schema = logic.schema();
    Variant::new(
        name,
        client_fn(move |ctx, script| {
            let logic = logic.clone();
            async move { run_client(&logic, &ctx, script).await }
        }),
    )
    .for_logic("business_cards")
    .schema(schema)
}

/// Runs a client's script with one variant's code; generic over the backend so the same
/// code runs on the simulator and on PostgreSQL.
pub async fn run_client<L: CardsLogic, B: Backend, A: AuthApi>(
    logic: &L,
    ctx: &ClientCtx<B, A>,
    script: ClientScript,
) -> Result<(), String> {
    for planned in script.ops {
        ctx.wait_until(planned.at_ms).await;
        let action: Action = serde_json::from_value(planned.action)
            .map_err(|e| bad_action("business_cards", e).to_string())?;
        let id = planned.id;
        match action {
            Action::Create {
                form_id,
                name,
                submits,
            } => {
                let first = logic.create(ctx, id, &form_id, &name);
                if submits > 1 {
                    tokio::join!(
                        first,
                        logic.create(ctx, id + SECOND_SUBMIT, &form_id, &name)
                    );
                } else {
                    first.await;
                }
            }
            Action::Edit {
                card,
                intent,
                think_ms,
            } => logic.edit(ctx, id, card, &intent, think_ms).await,
        }
    }
    Ok(())
}

/// Lowercase words joined by dashes: "My Card" becomes "my-card".
pub fn slugify(name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    words.join("-")
}

/// The whole form as the page submits it: every editable field as loaded, with the
/// user's changes applied on top.
pub fn whole_form(loaded: &Row, intent: &Map<String, Value>) -> Map<String, Value> {
    FIELDS
        .iter()
        .map(|f| {
            let v = intent
                .get(*f)
                .or_else(|| loaded.get(*f))
                .cloned()
                .unwrap_or(Value::Null);
            (f.to_string(), v)
        })
        .collect()
}

/// Reads the card the user opened; a missing card is an error (P0002, no data found).
async fn load_card<B: Backend, A: AuthApi>(
    ctx: &ClientCtx<B, A>,
    card: i64,
) -> Result<Row, faultline::backend::DbError> {
    let rows = ctx
        .call(faultline::backend::Request::select(
            TABLE,
            faultline::backend::filter([("id", json!(card))]),
        ))
        .await?
        .rows();
    rows.into_iter()
        .next()
        .ok_or_else(|| faultline::backend::DbError::sql("P0002", "card not found"))
}

/// Invoke value of a create.
fn create_invoke(form_id: &str, name: &str) -> Value {
    json!({"form_id": form_id, "name": name})
}

/// Invoke value of an edit.
fn edit_invoke(card: i64, intent: &Map<String, Value>) -> Value {
    json!({"key": card, "intent": intent})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_forms() {
        assert_eq!(slugify("My Card!"), "my-card");
        let loaded: Row = json!({"title": "a", "email": "b"})
            .as_object()
            .cloned()
            .unwrap();
        let intent = json!({"email": "c"}).as_object().cloned().unwrap();
        let form = whole_form(&loaded, &intent);
        assert_eq!(form["title"], json!("a"));
        assert_eq!(form["email"], json!("c"));
        assert_eq!(form["phone"], Value::Null);
    }
}
