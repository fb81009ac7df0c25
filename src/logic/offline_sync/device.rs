//! A device's life: boot from local storage, run the user's actions and the background
//! sync side by side, lose everything in memory at a crash, boot again.

use std::cell::Cell;

use super::documented::SyncService;
use super::naive::Naive;
use super::reference::Outbox;
use super::{Action, Local, Timing, Variant};
use crate::backend::{AuthApi, Backend};
use crate::logic::{bad_action, ClientCtx};
use crate::plan::ClientScript;

/// The variant's software on one boot of the device.
enum Engine {
    Naive(Naive),
    Documented(SyncService),
    Reference(Outbox),
}

impl Engine {
    fn boot<B: Backend, A: AuthApi>(
        variant: Variant,
        ctx: &ClientCtx<B, A>,
        timing: Timing,
    ) -> Self {
        match variant {
            Variant::Naive => Engine::Naive(Naive),
            Variant::Documented(s) => Engine::Documented(SyncService::boot(ctx, s, timing)),
            Variant::Reference => Engine::Reference(Outbox::boot(ctx)),
        }
    }

    async fn act<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        action: Action,
    ) {
        match (self, action) {
            (Engine::Naive(n), Action::Edit { record, field }) => {
                n.edit(ctx, local, op, &record, &field).await
            }
            (Engine::Naive(n), Action::Generate { credits }) => n.generate(ctx, op, credits).await,
            (Engine::Documented(s), Action::Edit { record, field }) => {
                s.edit(ctx, local, op, &record, &field)
            }
            (Engine::Documented(s), Action::Generate { credits }) => s.generate(ctx, op, credits),
            (Engine::Reference(o), Action::Edit { record, field }) => {
                o.edit(ctx, local, op, &record, &field)
            }
            (Engine::Reference(o), Action::Generate { credits }) => o.generate(ctx, op, credits),
        }
    }

    async fn sync<B: Backend, A: AuthApi>(&self, ctx: &ClientCtx<B, A>, local: &Local) {
        match self {
            Engine::Naive(n) => n.sync(ctx, local).await,
            Engine::Documented(s) => s.sync(ctx, local).await,
            Engine::Reference(o) => o.sync(ctx, local).await,
        }
    }
}

/// Runs one device until the user closes the app, through any number of crashes.
pub async fn run_client<B: Backend, A: AuthApi>(
    variant: Variant,
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

async fn life<B: Backend, A: AuthApi>(
    variant: Variant,
    timing: Timing,
    ctx: &ClientCtx<B, A>,
    script: &ClientScript,
    next: &Cell<usize>,
) -> Result<(), String> {
    let local = Local::boot(&ctx.device, timing.records);
    let engine = Engine::boot(variant, ctx, timing);
    let user_done = Cell::new(false);
    let user = async {
        while let Some(planned) = script.ops.get(next.get()) {
            ctx.wait_until(planned.at_ms).await;
            next.set(next.get() + 1);
            let action: Action = serde_json::from_value::<Action>(planned.action.clone())
                .map_err(|e| bad_action("offline_sync", e).to_string())?;
            engine.act(ctx, &local, planned.id, action).await;
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
                engine.sync(ctx, &local).await;
            }
            ctx.sleep_ms(timing.sync_interval_ms).await;
        }
        // Closing: a last sync, then a last look once every other device had its own.
        engine.sync(ctx, &local).await;
        ctx.sleep_ms(timing.sync_interval_ms * 2).await;
        engine.sync(ctx, &local).await;
    };
    let (user, ()) = tokio::join!(user, background);
    user
}
