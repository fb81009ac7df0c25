//! The trait a chat implementation provides, so users can run their own code in the
//! harness; the three built-in variants implement it too.

use super::{documented, naive, reference, Local};
use faultline::backend::{AuthApi, Backend};
use faultline::system::ClientCtx;

/// What a device of the chat app does.
///
/// `local` is the device's copy of the conversation (what its screen shows). Record each
/// operation with `ctx.begin(op, f, value)`: `send` begins with `{"msg": id}` and, once a
/// save holding the message is acknowledged, completes ok with `{"msg", "version",
/// "saved"}` (`saved`: the ids of the whole array that save wrote); `reauth` completes ok
/// with `{"view": [ids]}`, what the device shows after signing back in. The table is
/// `conversations` (`id`, `user_id`, `title`, `messages`, `checksum`, `version`) with the
/// server function `save_conversation(id, messages, expected_version, force_overwrite)`.
#[allow(async_fn_in_trait)]
pub trait ChatLogic: Clone + 'static {
    /// The user typed message `msg` and pressed send.
    async fn send<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        msg: &str,
    );
    /// The user signed out, stayed away `away_ms`, and signed back in.
    async fn reauth<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        away_ms: u64,
    );
}

/// The three variants that come with faultline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinChat {
    /// The "before" code of the seed document.
    Naive,
    /// The fix as the seed document describes it.
    Documented,
    /// A design that is actually correct.
    Reference,
}

impl BuiltinChat {
    /// Names of the built-in variants.
    pub const NAMES: [&'static str; 3] = ["naive", "documented", "reference"];

    /// The variant called `name`.
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "naive" => Some(BuiltinChat::Naive),
            "documented" => Some(BuiltinChat::Documented),
            "reference" => Some(BuiltinChat::Reference),
            _ => None,
        }
    }
}

impl ChatLogic for BuiltinChat {
    async fn send<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        msg: &str,
    ) {
        match self {
            BuiltinChat::Naive => naive::send(ctx, local, op, msg).await,
            BuiltinChat::Documented => documented::send(ctx, local, op, msg).await,
            BuiltinChat::Reference => reference::send(ctx, local, op, msg, None).await,
        }
    }

    async fn reauth<B: Backend, A: AuthApi>(
        &self,
        ctx: &ClientCtx<B, A>,
        local: &Local,
        op: u32,
        away_ms: u64,
    ) {
        match self {
            BuiltinChat::Naive => naive::reauth(ctx, local, op, away_ms).await,
            BuiltinChat::Documented => documented::reauth(ctx, local, op, away_ms).await,
            BuiltinChat::Reference => reference::reauth(ctx, local, op, away_ms, None).await,
        }
    }
}
