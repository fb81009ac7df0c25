//! The mutant suite's single bugs in the reference: each is the reference with one mistake
//! an engineer could ship, run as its own variant (not in the scenario file's default list)
//! and expected to be caught by one named invariant.

use serde_json::{Map, Value};

use super::{reference, CardsLogic};
use crate::mutants::Entry;
use faultline::backend::{AuthApi, Backend};
use faultline::system::ClientCtx;

/// One bug in the reference's create or edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutant {
    /// A fresh idempotency key per request instead of one per submitted form.
    KeyPerRequest,
    /// Shows the slug it asked for instead of the one the server assigned.
    RequestedSlug,
    /// Guards the whole form with the version re-read just before saving.
    VersionAtSave,
    /// Shows "saved" when the update times out.
    SavedOnTimeout,
    /// Rebases on a conflict without taking the fresh row's version.
    StaleRebase,
    /// Refuses to create a card whose name's slug some card already has.
    TakenNameRefused,
    /// Shows a create whose outcome is unknown as failed.
    TimeoutShownFailed,
    /// Shows the card its own earlier request made as "already exists".
    ExistingShownTaken,
    /// After a conflict, resends the whole form as first loaded.
    ResendWholeForm,
    /// Judges a conflict on every field of the row, not only the user's.
    ConflictOnAnyField,
    /// Reports a rebase that found no true conflict as saved, without resending.
    OkAfterRebase,
}

/// Every business-cards mutant, with what it gets wrong and what must catch it.
pub const MUTANTS: [(Mutant, Entry); 11] = [
    (
        Mutant::KeyPerRequest,
        Entry {
            scenario: "business_cards",
            name: "mut_key_per_request",
            bug: "the create's idempotency key is made per request (form, op, attempt), so a retried or double-submitted form creates a second card",
            caught_by: "no_duplicate_create",
            budget: 40,
        },
    ),
    (
        Mutant::RequestedSlug,
        Entry {
            scenario: "business_cards",
            name: "mut_requested_slug",
            bug: "a create shows the slug it asked for, not the one the server assigned after a collision",
            caught_by: "unique_slugs",
            budget: 40,
        },
    ),
    (
        Mutant::VersionAtSave,
        Entry {
            scenario: "business_cards",
            name: "mut_version_at_save",
            bug: "the save re-reads the card for its version just before sending, then sends the whole form as loaded before the user typed",
            caught_by: "no_lost_updates",
            budget: 40,
        },
    ),
    (
        Mutant::SavedOnTimeout,
        Entry {
            scenario: "business_cards",
            name: "mut_saved_on_timeout",
            bug: "an edit whose update timed out is shown as saved (optimistic UI), though the request may never have arrived",
            caught_by: "no_lost_updates",
            budget: 40,
        },
    ),
    (
        Mutant::StaleRebase,
        Entry {
            scenario: "business_cards",
            name: "mut_stale_rebase",
            bug: "on a version conflict the edit rebases but keeps the old expected version, so every retry conflicts and the user is told someone else changed the card",
            caught_by: "conflicts_justified",
            budget: 40,
        },
    ),
    (
        Mutant::TakenNameRefused,
        Entry {
            scenario: "business_cards",
            name: "mut_taken_name_refused",
            bug: "the form looks the name's slug up first and refuses (\"a card called Acme already exists\") instead of letting the server pick a free slug",
            caught_by: "failures_justified",
            budget: 40,
        },
    ),
    (
        Mutant::TimeoutShownFailed,
        Entry {
            scenario: "business_cards",
            name: "mut_timeout_shown_failed",
            bug: "a create whose last attempt timed out (or followed one that did) is shown as failed (\"couldn't create the card\"), though an attempt may have committed it",
            caught_by: "no_duplicate_create",
            budget: 40,
        },
    ),
    (
        Mutant::ExistingShownTaken,
        Entry {
            scenario: "business_cards",
            name: "mut_existing_shown_taken",
            bug: "when the idempotent create answers with the card an earlier request of the same form made, the form shows \"this card already exists\" as an error instead of the card",
            caught_by: "no_duplicate_create",
            budget: 40,
        },
    ),
    (
        Mutant::ResendWholeForm,
        Entry {
            scenario: "business_cards",
            name: "mut_resend_whole_form",
            bug: "after a version conflict with no true conflict the retry sends the whole form as first loaded, with the fresh version, putting back fields another tab changed",
            caught_by: "no_lost_updates",
            budget: 40,
        },
    ),
    (
        Mutant::ConflictOnAnyField,
        Entry {
            scenario: "business_cards",
            name: "mut_conflict_on_any_field",
            bug: "on a version conflict the edit compares every field of the fresh row with the loaded one, so another tab's change to a different field is shown as a conflict",
            caught_by: "conflicts_justified",
            budget: 40,
        },
    ),
    (
        Mutant::OkAfterRebase,
        Entry {
            scenario: "business_cards",
            name: "mut_ok_after_rebase",
            bug: "on a version conflict the edit re-reads, finds no true conflict, and shows the card as saved without resending the change",
            caught_by: "no_lost_updates",
            budget: 40,
        },
    ),
];

impl Mutant {
    /// The mutant called `name`.
    pub fn named(name: &str) -> Option<Self> {
        crate::mutants::named(&MUTANTS, name)
    }
}

impl CardsLogic for Mutant {
    async fn create<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        op: u32,
        form_id: &str,
        name: &str,
    ) {
        reference::create(ctx, op, form_id, name, Some(*self)).await
    }

    async fn edit<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        op: u32,
        card: i64,
        intent: &Map<String, Value>,
        think_ms: u64,
    ) {
        reference::edit(ctx, op, card, intent, think_ms, Some(*self)).await
    }
}
