//! A device's life: boot from local storage, run the user's actions and the background
//! sync side by side, lose everything in memory at a crash, boot again.

use std::cell::Cell;

use super::documented::SyncService;
use super::naive::Naive;
use super::reference::Outbox;
use super::{Action, Local, Timing, Variant};
use faultline::backend::{AuthApi, Backend};
use faultline::plan::ClientScript;
use faultline::system::{bad_action, ClientCtx};

/// The software of one device, as a user writes it: what it does when it boots, when the
/// user edits or generates, and on each background sync. The device's life cycle (boot
/// from local storage, crashes that lose memory, going offline, closing the app) is run
/// by [`run_client`]; an implementation keeps anything that must survive a crash in
/// `ctx.device`'s storage.
#[allow(async_fn_in_trait)]
pub trait DeviceLogic: Clone + 'static {
    /// What lives in memory for one boot of the device (queues, timers, caches).
    type Engine;
    /// The device (re)started: build the engine from what local storage kept.
    fn boot<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, timing: Timing) -> Self::Engine;
    /// The user changed `field` of run `record` (op `op`); the new value is the op's own.
    async fn edit<B: Backend, A: AuthApi>(
        &self,
        engine: &Self::Engine,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        record: &str,
        field: &str,
    );
    /// The user generated images consuming `credits`, which the server must charge once.
    async fn generate<B: Backend, A: AuthApi>(
        &self,
        engine: &Self::Engine,
        ctx: &ClientCtx<B, A>,
        op: u32,
        credits: u64,
    );
    /// One background sync while the device is online.
    async fn sync<B: Backend, A: AuthApi>(
        &self,
        engine: &Self::Engine,
        ctx: &ClientCtx<B, A>,
        local: &Local,
    );
}

/// The built-in variants' software on one boot of the device.
pub enum Engine {
    /// No queue.
    Naive(Naive),
    /// The document's sync service.
    Documented(SyncService),
    /// The durable outbox.
    Reference(Outbox),
}

impl DeviceLogic for Variant {
    type Engine = Engine;

    fn boot<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, timing: Timing) -> Engine {
        match *self {
            Variant::Naive => Engine::Naive(Naive),
            Variant::Documented(s) => Engine::Documented(SyncService::boot(ctx, s, timing)),
            Variant::Reference => Engine::Reference(Outbox::boot(ctx)),
        }
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
        match engine {
            Engine::Naive(n) => n.edit(ctx, local, op, record, field).await,
            Engine::Documented(s) => s.edit(ctx, local, op, record, field),
            Engine::Reference(o) => o.edit(ctx, local, op, record, field),
        }
    }

    async fn generate<B: Backend, A: AuthApi>(
        &self,
        engine: &Engine,
        ctx: &ClientCtx<B, A>,
        op: u32,
        credits: u64,
    ) {
        match engine {
            Engine::Naive(n) => n.generate(ctx, op, credits).await,
            Engine::Documented(s) => s.generate(ctx, op, credits),
            Engine::Reference(o) => o.generate(ctx, op, credits),
        }
    }

    async fn sync<B: Backend, A: AuthApi>(
        &self,
        engine: &Engine,
        ctx: &ClientCtx<B, A>,
        local: &Local,
    ) {
        match engine {
            Engine::Naive(n) => n.sync(ctx, local).await,
            Engine::Documented(s) => s.sync(ctx, local).await,
            Engine::Reference(o) => o.sync(ctx, local).await,
        }
    }
}

/// Runs one device until the user closes the app, through any number of crashes.
pub async fn run_client<L: DeviceLogic, B: Backend, A: AuthApi>(
    variant: &L,
    timing: Timing,
    ctx: &ClientCtx<B, A>,
    script: ClientScript,
) -> Result<(), String> {
    // The user's place in the script outlives crashes: what was started is not redone.
    let next = Cell::new(0usize);
    loop {
        let life = life(variant, timing, ctx, &script, &next);
        let ended = tokio::select! {
            biased;
            _ = ctx.device.crashed() => None,
            r = life => Some(r),
        };
        match ended {
            Some(r) => return r,
            None => {
                // Memory is gone, the session with it; the next request signs in again.
                ctx.sign_out();
                ctx.device.booted().await;
            }
        }
    }
}

async fn life<L: DeviceLogic, B: Backend, A: AuthApi>(
    variant: &L,
    timing: Timing,
    ctx: &ClientCtx<B, A>,
    script: &ClientScript,
    next: &Cell<usize>,
) -> Result<(), String> {
    let local = Local::boot(&ctx.device, timing.records);
    let engine = variant.boot(ctx, timing);
    let user_done = Cell::new(false);
    let user = async {
        while let Some(planned) = script.ops.get(next.get()) {
            ctx.wait_until(planned.at_ms).await;
            next.set(next.get() + 1);
            let action: Action = serde_json::from_value::<Action>(planned.action.clone())
                .map_err(|e| bad_action("offline_sync", e).to_string())?;
            match action {
                Action::Edit { record, field } => {
                    variant
                        .edit(&engine, ctx, &local, planned.id, &record, &field)
                        .await
                }
                Action::Generate { credits } => {
                    variant.generate(&engine, ctx, planned.id, credits).await
                }
            }
        }
        user_done.set(true);
        Ok::<(), String>(())
    };
    let background = async {
        loop {
            if user_done.get() && ctx.now_ms() >= timing.close_at_ms {
                break;
            }
            if ctx.device.online() {
                variant.sync(&engine, ctx, &local).await;
            }
            ctx.sleep_ms(timing.sync_interval_ms).await;
        }
        // Closing: a last sync, then a last look once every other device had its own.
        variant.sync(&engine, ctx, &local).await;
        ctx.sleep_ms(timing.sync_interval_ms * 2).await;
        variant.sync(&engine, ctx, &local).await;
    };
    let (user, ()) = tokio::join!(user, background);
    user
}
