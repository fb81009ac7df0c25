//! The mutant suite's single bugs in the reference: each is the reference with one mistake
//! an engineer could ship, run as its own variant (not in the scenario file's default list)
//! and expected to be caught by one named invariant.

use super::{reference, ChatLogic, Local};
use crate::mutants::Entry;
use faultline::backend::{AuthApi, Backend};
use faultline::system::ClientCtx;

/// One bug in the reference's send or sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutant {
    /// The conflict merge tells messages apart by their text, not their id.
    MergeByText,
    /// On a conflict, takes the server's version but resends the local array unmerged.
    VersionOnlyOnConflict,
    /// Shows a message as sent when its save timed out.
    SentOnTimeout,
    /// A retry after a network error appends the message locally again.
    AppendOnRetry,
    /// After signing in, shows the cached local copy without loading the server's.
    ReauthFromCache,
    /// Shows every send as failed without sending it.
    RefuseAll,
    /// On a version conflict, gives up and shows the send as failed instead of merging.
    ConflictGivesUp,
    /// Takes any answer of the save as success, without looking at `success`.
    AnswerAsSuccess,
    /// Forces the overwrite on a retry after a network error.
    ForceOnRetry,
    /// Merges on a conflict but keeps the old expected version.
    MergeKeepsOldVersion,
    /// After signing in, shows the cached copy when the reload fails.
    ReauthCacheOnError,
    /// A retry after a network error reloads the conversation over the local array.
    ReloadDropsPending,
}

const fn entry(name: &'static str, bug: &'static str, caught_by: &'static str) -> Entry {
    Entry {
        scenario: "chat_persistence",
        name,
        bug,
        caught_by,
        budget: 40,
    }
}

/// Every chat mutant, with what it gets wrong and what must catch it.
pub const MUTANTS: [(Mutant, Entry); 12] = [
    (
        Mutant::MergeByText,
        entry(
            "mut_merge_by_text",
            "the conflict merge dedupes messages by their text instead of their id, so two messages with the same words collapse into one",
            "no_lost_messages",
        ),
    ),
    (
        Mutant::VersionOnlyOnConflict,
        entry(
            "mut_version_only_on_conflict",
            "on a version conflict the device takes the server's version but resends its own array without merging the server's messages",
            "no_lost_messages",
        ),
    ),
    (
        Mutant::SentOnTimeout,
        entry(
            "mut_sent_on_timeout",
            "a message whose save timed out is shown as sent, though the save may never have arrived",
            "no_lost_messages",
        ),
    ),
    (
        Mutant::AppendOnRetry,
        entry(
            "mut_append_on_retry",
            "the retry after a network error goes through the send path again, appending the message to the local array a second time",
            "no_duplicate_messages",
        ),
    ),
    (
        Mutant::ReauthFromCache,
        entry(
            "mut_reauth_from_cache",
            "after signing back in the device shows its cached copy and never loads the server's, missing what other devices sent meanwhile",
            "survives_reauth",
        ),
    ),
    (
        Mutant::RefuseAll,
        entry(
            "mut_refuse_all",
            "every send is shown as failed (\"you are offline\") without being sent, whatever the network is doing",
            "failures_justified",
        ),
    ),
    (
        Mutant::ConflictGivesUp,
        entry(
            "mut_conflict_gives_up",
            "on a version conflict the send tells the user the chat changed on another device and gives up, instead of merging and retrying, even when that change was long finished",
            "failures_justified",
        ),
    ),
    (
        Mutant::AnswerAsSuccess,
        entry(
            "mut_answer_as_success",
            "any answer of the save is taken as success (the status was 200), so a save the server refused as a version conflict is shown as sent",
            "no_lost_messages",
        ),
    ),
    (
        Mutant::ForceOnRetry,
        entry(
            "mut_force_on_retry",
            "a save retried after a network error is sent with force_overwrite, since the device cannot tell whether its first attempt landed, so it overwrites what another device saved meanwhile",
            "no_lost_messages",
        ),
    ),
    (
        Mutant::MergeKeepsOldVersion,
        entry(
            "mut_merge_keeps_old_version",
            "on a version conflict the device merges the server's messages but keeps its old expected version, so every retry conflicts and the send is shown as failed",
            "failures_justified",
        ),
    ),
    (
        Mutant::ReauthCacheOnError,
        entry(
            "mut_reauth_cache_on_error",
            "after signing back in, when the first reload of the conversation fails the device shows its cached copy as if it were current, instead of retrying",
            "survives_reauth",
        ),
    ),
    (
        Mutant::ReloadDropsPending,
        entry(
            "mut_reload_drops_pending",
            "the retry after a network error reloads the conversation for a fresh version and replaces the local array with the server's, dropping the message being sent, which is then shown as sent",
            "no_lost_messages",
        ),
    ),
];

impl Mutant {
    /// The mutant called `name`.
    pub fn named(name: &str) -> Option<Self> {
        crate::mutants::named(&MUTANTS, name)
    }
}

impl ChatLogic for Mutant {
    async fn send<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        msg: &str,
    ) {
        reference::send(ctx, local, op, msg, Some(*self)).await
    }

    async fn reauth<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        away_ms: u64,
    ) {
        reference::reauth(ctx, local, op, away_ms, Some(*self)).await
    }
}
