//! The mutant suite's single bugs in the reference: each is the reference with one mistake
//! an engineer could ship, run as its own variant (not in the scenario file's default list)
//! and expected to be caught by one named invariant.

use super::{reference, Browser, LoopLogic, LoopSave, Tab};
use crate::mutants::Entry;
use faultline::backend::{AuthApi, Backend};
use faultline::system::ClientCtx;

/// One bug in the reference's save or outbox worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutant {
    /// A failed delivery removes the entry from the outbox.
    DropOnError,
    /// The tab shows "saved" as soon as the save is queued.
    SavedOnEnqueue,
    /// Inserts instead of upserting, and takes a duplicate key as "already delivered".
    InsertDuplicateIsSaved,
    /// The loop's unique key (and the upsert) leave out the video.
    KeyWithoutVideo,
    /// The tab stops waiting and closes its spinner without saying the save is queued.
    SpinnerTimeout,
    /// Shows every save as failed without queuing it.
    RefuseAll,
    /// The wait for delivery is in seconds where milliseconds are meant.
    PromptInSeconds,
    /// The outbox worker stops for good at its first failed delivery.
    StopAfterFailure,
    /// The worker drops an entry after five failed deliveries.
    GiveUpAfterRetries,
    /// One delivery marks every pending entry done.
    ClearOnSuccess,
    /// A save of a loop already pending waits for that entry instead of queueing its own.
    DedupeByLoop,
    /// The tab takes the delivery of the entry before its own as its own.
    SavedOnPreviousDelivery,
}

const fn entry(name: &'static str, bug: &'static str, caught_by: &'static str) -> Entry {
    Entry {
        scenario: "loop_export",
        name,
        bug,
        caught_by,
        budget: 40,
    }
}

/// Every loop-export mutant, with what it gets wrong and what must catch it.
pub const MUTANTS: [(Mutant, Entry); 12] = [
    (
        Mutant::DropOnError,
        entry(
            "mut_drop_on_error",
            "the outbox worker marks an entry done when its delivery fails, so a queued loop is never sent",
            "queued_eventually_synced",
        ),
    ),
    (
        Mutant::SavedOnEnqueue,
        entry(
            "mut_saved_on_enqueue",
            "the tab shows \"saved\" as soon as the loop is in the outbox, before the server acknowledged it",
            "acked_durable",
        ),
    ),
    (
        Mutant::InsertDuplicateIsSaved,
        entry(
            "mut_insert_duplicate_is_saved",
            "the worker inserts instead of upserting and takes a duplicate-key error as \"already delivered\", so a re-save with new bounds is dropped",
            "acked_durable",
        ),
    ),
    (
        Mutant::KeyWithoutVideo,
        entry(
            "mut_key_without_video",
            "the loop's unique key and the upsert name (user, loop) without the video, so the same loop id on another video overwrites it",
            "acked_durable",
        ),
    ),
    (
        Mutant::SpinnerTimeout,
        entry(
            "mut_spinner_timeout",
            "when delivery is slow the tab closes its spinner and says nothing, instead of showing the save as queued",
            "no_silent_failure",
        ),
    ),
    (
        Mutant::RefuseAll,
        entry(
            "mut_refuse_all",
            "every save is shown as failed (\"couldn't save your loop\") without being queued or sent, whatever the network is doing",
            "failures_justified",
        ),
    ),
    (
        Mutant::PromptInSeconds,
        entry(
            "mut_prompt_in_seconds",
            "the tab's wait for delivery is written in seconds where milliseconds are meant (3, not 3000), so a save on a healthy network is shown as queued with a timeout",
            "failures_justified",
        ),
    ),
    (
        Mutant::StopAfterFailure,
        entry(
            "mut_stop_after_failure",
            "the outbox worker returns at its first failed delivery instead of backing off and trying again, so everything queued after a fault stays on the device",
            "queued_eventually_synced",
        ),
    ),
    (
        Mutant::GiveUpAfterRetries,
        entry(
            "mut_give_up_after_retries",
            "the outbox worker gives an entry up and drops it after five failed deliveries in a row, so a loop queued through a longer outage never reaches the server",
            "queued_eventually_synced",
        ),
    ),
    (
        Mutant::ClearOnSuccess,
        entry(
            "mut_clear_on_success",
            "a delivered entry clears the whole outbox instead of only itself, so the loops queued behind it are never sent",
            "queued_eventually_synced",
        ),
    ),
    (
        Mutant::DedupeByLoop,
        entry(
            "mut_dedupe_by_loop",
            "a save of a loop that already has an entry pending is folded into that entry (deduplicated by loop, not by save) and shown saved when it is delivered, though its new bounds were never sent",
            "acked_durable",
        ),
    ),
    (
        Mutant::SavedOnPreviousDelivery,
        entry(
            "mut_saved_on_previous_delivery",
            "the tab compares outbox sequence numbers off by one and shows \"saved\" when the entry before its own is delivered",
            "acked_durable",
        ),
    ),
];

impl Mutant {
    /// The mutant called `name`.
    pub fn named(name: &str) -> Option<Self> {
        crate::mutants::named(&MUTANTS, name)
    }
}

impl LoopLogic for Mutant {
    async fn save<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        browser: &Browser,
        _tab: &Tab,
        op: u32,
        save: LoopSave,
    ) {
        reference::save(ctx, browser, op, save, Some(*self)).await
    }

    async fn background<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, browser: &Browser) {
        reference::sync_worker(ctx, browser, Some(*self)).await
    }
}
