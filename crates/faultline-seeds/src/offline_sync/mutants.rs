//! The mutant suite's single bugs in the reference: each is the reference with one mistake
//! an engineer could ship, run as its own variant (not in the scenario file's default list)
//! and expected to be caught by one named invariant.

use super::reference::Outbox;
use super::{DeviceLogic, Engine, Local, Timing, Variant};
use crate::mutants::Entry;
use faultline::backend::{AuthApi, Backend};
use faultline::system::ClientCtx;

/// One bug in the reference's outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutant {
    /// An edit is shown saved before its operation is written to IndexedDB.
    OutboxNotPersisted,
    /// The operation id changes with every attempt.
    IdPerAttempt,
    /// A push that gets no answer removes the operation from the outbox.
    DropOnError,
    /// After an edit is applied, later edits of the same field keep their old base.
    StaleBase,
    /// A refused edit takes the server's value without telling the user.
    ConflictNotShown,
    /// The outbox is replayed newest first.
    NewestFirst,
    /// One applied operation clears the whole outbox.
    ClearOnSuccess,
    /// A new edit replaces any pending edit of the same run, whatever its field.
    CoalesceByRecord,
    /// A usage operation's id is made from its content, not its op.
    UsageIdFromContent,
    /// After a push the outbox is rewritten from the copy taken before it was sent.
    StaleOutboxWrite,
    /// A refused edit is shown as a conflict, then sent again on the server's version.
    ConflictResend,
}

const fn entry(name: &'static str, bug: &'static str, caught_by: &'static str) -> Entry {
    Entry {
        scenario: "offline_sync",
        name,
        bug,
        caught_by,
        budget: 40,
    }
}

/// Every offline-sync mutant, with what it gets wrong and what must catch it.
pub const MUTANTS: [(Mutant, Entry); 11] = [
    (
        Mutant::OutboxNotPersisted,
        entry(
            "mut_outbox_not_persisted",
            "the outbox is written to IndexedDB only after a push, so an edit shown as saved lives only in memory until then and a crash loses it",
            "queue_durable",
        ),
    ),
    (
        Mutant::IdPerAttempt,
        entry(
            "mut_id_per_attempt",
            "the operation id sent to the server includes the time of the attempt, so a push retried after a lost answer is applied again",
            "applied_once",
        ),
    ),
    (
        Mutant::DropOnError,
        entry(
            "mut_drop_on_error",
            "a push that gets no answer is dropped from the outbox instead of being kept for the next sync",
            "no_lost_acked_edit",
        ),
    ),
    (
        Mutant::StaleBase,
        entry(
            "mut_stale_base",
            "after an edit is applied, the device's later edits of the same field keep the old base version, so the server refuses them as conflicts with the device's own edit",
            "no_lost_acked_edit",
        ),
    ),
    (
        Mutant::ConflictNotShown,
        entry(
            "mut_conflict_not_shown",
            "an edit the server refused as a conflict quietly takes the server's value, and the user is never shown the conflict",
            "no_lost_acked_edit",
        ),
    ),
    (
        Mutant::NewestFirst,
        entry(
            "mut_newest_first",
            "the sync sends the outbox newest operation first, so after an offline spell a device's older edit of a field is applied over its newer one",
            "no_lost_acked_edit",
        ),
    ),
    (
        Mutant::ClearOnSuccess,
        entry(
            "mut_clear_on_success",
            "an applied push clears the whole outbox instead of removing its own operation, so the operations queued behind it are never sent",
            "no_lost_acked_edit",
        ),
    ),
    (
        Mutant::CoalesceByRecord,
        entry(
            "mut_coalesce_by_record",
            "a new edit replaces a pending edit of the same run instead of the same field, so an unsent edit of another field is dropped",
            "no_lost_acked_edit",
        ),
    ),
    (
        Mutant::UsageIdFromContent,
        entry(
            "mut_usage_id_from_content",
            "a usage operation's id is made from the credits it charges instead of its op, so a second generation of the same cost is taken as a repeat and never charged",
            "no_lost_acked_edit",
        ),
    ),
    (
        Mutant::StaleOutboxWrite,
        entry(
            "mut_stale_outbox_write",
            "after a push the outbox is rewritten from the copy taken before the request went out, losing any edit queued while it was in flight",
            "no_lost_acked_edit",
        ),
    ),
    (
        Mutant::ConflictResend,
        entry(
            "mut_conflict_resend",
            "an edit the server refused is shown as a conflict, then sent again on the server's version, overwriting the other device's edit it lost to",
            "no_lost_acked_edit",
        ),
    ),
];

impl Mutant {
    /// The mutant called `name`.
    pub fn named(name: &str) -> Option<Self> {
        crate::mutants::named(&MUTANTS, name)
    }
}

impl DeviceLogic for Mutant {
    type Engine = Engine;

    fn boot<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, _timing: Timing) -> Engine {
        Engine::Reference(Outbox::boot_with(ctx, Some(*self)))
    }

    async fn edit<B: Backend, A: AuthApi>(
        &self,
        engine: &Engine,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        record: &str,
        field: &str,
    ) {
        Variant::Reference
            .edit(engine, ctx, local, op, record, field)
            .await
    }

    async fn generate<B: Backend, A: AuthApi>(
        &self,
        engine: &Engine,
        ctx: &ClientCtx<B, A>,
        op: u32,
        credits: u64,
    ) {
        Variant::Reference.generate(engine, ctx, op, credits).await
    }

    async fn sync<B: Backend, A: AuthApi>(
        &self,
        engine: &Engine,
        ctx: &ClientCtx<B, A>,
        local: &Local,
    ) {
        Variant::Reference.sync(engine, ctx, local).await
    }
}
