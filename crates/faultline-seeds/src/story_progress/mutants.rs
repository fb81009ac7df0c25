//! The mutant suite's single bugs in the reference: each is the reference with one mistake
//! an engineer could ship, run as its own variant (not in the scenario file's default list)
//! and expected to be caught by one named invariant.

use super::{reference, ProgressLogic, Tab};
use crate::mutants::Entry;
use faultline::backend::{AuthApi, Backend};
use faultline::system::ClientCtx;

/// One bug in the reference's write or poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutant {
    /// The generator writes each step once, with no retry.
    WriteOnce,
    /// The read-back waits for the LSN the session had before the write.
    VerifyAtOldLsn,
    /// The generator's read-back goes to any host.
    VerifyAnyHost,
    /// The tab keeps its session LSN in page memory, which a reload wipes.
    LsnInPageMemory,
    /// A poll never records the LSN it read at.
    ReadLsnDropped,
    /// A failed poll resets the bar to 0.
    FailedPollResetsBar,
    /// A poll accepts a host one LSN behind the session's.
    LsnOffByOne,
    /// A poll that fails is retried once on any host.
    FallbackAnyHost,
    /// A failed poll clears the session's LSN.
    ErrorClearsSession,
}

const fn entry(name: &'static str, bug: &'static str, caught_by: &'static str) -> Entry {
    Entry {
        scenario: "story_progress",
        name,
        bug,
        caught_by,
        budget: 40,
    }
}

/// Every story-progress mutant, with what it gets wrong and what must catch it.
pub const MUTANTS: [(Mutant, Entry); 9] = [
    (
        Mutant::WriteOnce,
        entry(
            "mut_write_once",
            "the generator sends each progress step once and gives up on a network error, so the final 100 can be lost",
            "eventually_complete",
        ),
    ),
    (
        Mutant::VerifyAtOldLsn,
        entry(
            "mut_verify_at_old_lsn",
            "the generator's read-back asks for a host at the session's LSN from before the write, not the write's own",
            "read_your_writes",
        ),
    ),
    (
        Mutant::VerifyAnyHost,
        entry(
            "mut_verify_any_host",
            "the generator reads its write back from whatever host the balancer picks, not one that has replayed it",
            "read_your_writes",
        ),
    ),
    (
        Mutant::LsnInPageMemory,
        entry(
            "mut_lsn_in_page_memory",
            "the tab keeps its session LSN in component state instead of sessionStorage, so after a reload it reads a lagging replica",
            "monotonic_progress",
        ),
    ),
    (
        Mutant::ReadLsnDropped,
        entry(
            "mut_read_lsn_dropped",
            "a poll never records the LSN it read at, so the next poll may go to a replica behind what the tab already showed",
            "monotonic_progress",
        ),
    ),
    (
        Mutant::FailedPollResetsBar,
        entry(
            "mut_failed_poll_resets_bar",
            "when a poll fails the page's error handler resets the progress bar to 0 until the next poll succeeds",
            "monotonic_progress",
        ),
    ),
    (
        Mutant::LsnOffByOne,
        entry(
            "mut_lsn_off_by_one",
            "a poll asks for a host that has replayed the session's LSN minus one (> where >= was meant), so a replica one commit behind may answer",
            "monotonic_progress",
        ),
    ),
    (
        Mutant::FallbackAnyHost,
        entry(
            "mut_fallback_any_host",
            "a poll whose read fails (a replica's answer lost) is retried once on whatever host the balancer picks, and the page shows that",
            "monotonic_progress",
        ),
    ),
    (
        Mutant::ErrorClearsSession,
        entry(
            "mut_error_clears_session",
            "a failed poll clears the tab's session state (its LSN in sessionStorage) as if the session had gone bad, so the next poll may read a replica behind what the tab showed",
            "monotonic_progress",
        ),
    ),
];

impl Mutant {
    /// The mutant called `name`.
    pub fn named(name: &str) -> Option<Self> {
        crate::mutants::named(&MUTANTS, name)
    }
}

impl ProgressLogic for Mutant {
    async fn write<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        session_lsn: &mut u64,
        op: u32,
        progress: u64,
    ) {
        reference::write(ctx, session_lsn, op, progress, Some(*self)).await
    }

    async fn poll<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, tab: &mut Tab) {
        reference::poll(ctx, tab, Some(*self)).await
    }
}
