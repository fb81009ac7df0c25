//! The trait a business-cards implementation provides, so users can run their own code in
//! the harness; the three built-in variants implement it too.

use serde_json::{Map, Value};

use super::{documented, naive, reference};
use faultline::backend::{AuthApi, Backend};
use faultline::system::ClientCtx;

/// The create and update operations of the business-cards app.
///
/// An implementation talks to the data API only through `ctx` (so it runs on the simulator
/// and on PostgreSQL alike) and records each operation with `ctx.begin(op, f, value)`,
/// completing the returned scope exactly once. The checkers rely on these conventions:
/// - `create` begins with `{"form_id", "name"}` and, when the card exists, completes ok
///   with `{"id", "slug", "form_id"}`;
/// - `edit` begins with `{"key": card, "intent": {field: value}}` and, when acknowledged,
///   completes ok with `{"key", "version", "written"}`, where `written` is every value the
///   request wrote and `version` is the row version the write produced.
///
/// The table is `business_cards` (columns `id`, `user_id`, `name`, `slug`, `form_id`,
/// `title`, `email`, `phone`, `company`, `version`); the server functions
/// `create_business_card_atomic`, `create_card_idempotent` and
/// `update_business_card_optimistic` are available.
#[allow(async_fn_in_trait)]
pub trait CardsLogic: Clone + 'static {
    /// Which migration the store has: `"naive"` (no unique constraints), `"documented"`
    /// (unique slug) or `"reference"` (unique slug and unique `form_id`).
    fn schema(&self) -> &'static str {
        "reference"
    }

    /// The user submitted the "new card" form `form_id` for a card named `name`.
    async fn create<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        op: u32,
        form_id: &str,
        name: &str,
    );

    /// The user opened card `card`, spent `think_ms` changing the `intent` fields, and saved.
    async fn edit<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        op: u32,
        card: i64,
        intent: &Map<String, Value>,
        think_ms: u64,
    );
}

/// The three variants that come with faultline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// The "before" code of the seed document.
    Naive,
    /// The fix as the seed document describes it.
    Documented,
    /// A design that is actually correct.
    Reference,
}

impl Builtin {
    /// Names of the built-in variants.
    pub const NAMES: [&'static str; 3] = ["naive", "documented", "reference"];
    /// The built-in variants, in report order.
    pub const ALL: [Builtin; 3] = [Builtin::Naive, Builtin::Documented, Builtin::Reference];

    /// Its variant name (which is also its schema's).
    pub fn name(self) -> &'static str {
        Builtin::NAMES[self as usize]
    }

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

impl CardsLogic for Builtin {
    fn schema(&self) -> &'static str {
        match self {
            Builtin::Naive => "naive",
            Builtin::Documented => "documented",
            Builtin::Reference => "reference",
        }
    }

    async fn create<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        op: u32,
        form_id: &str,
        name: &str,
    ) {
        match self {
            Builtin::Naive => naive::create(ctx, op, form_id, name).await,
            Builtin::Documented => documented::create(ctx, op, form_id, name).await,
            Builtin::Reference => reference::create(ctx, op, form_id, name, None).await,
        }
    }

    async fn edit<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        op: u32,
        card: i64,
        intent: &Map<String, Value>,
        think_ms: u64,
    ) {
        match self {
            Builtin::Naive => naive::edit(ctx, op, card, intent, think_ms).await,
            Builtin::Documented => documented::edit(ctx, op, card, intent, think_ms).await,
            Builtin::Reference => reference::edit(ctx, op, card, intent, think_ms, None).await,
        }
    }
}
