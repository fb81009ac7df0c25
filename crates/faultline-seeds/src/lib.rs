//! The five seed systems faultline was built on, each modelled on one incident write-up,
//! written only against `faultline`'s public API (this crate can reach nothing else, so
//! the API is proven sufficient by construction).
//!
//! | logic | seed document | the user's own client code |
//! |---|---|---|
//! | `business_cards` | `004` | [`business_cards::CardsLogic`], [`business_cards::variant`] |
//! | `chat_persistence` | `002` | [`chat::ChatLogic`], [`chat::variant`] |
//! | `loop_export` | `000` | [`loop_export::LoopLogic`], [`loop_export::variant`] |
//! | `offline_sync` | `001` | [`offline_sync::DeviceLogic`], [`offline_sync::variant`] |
//! | `story_progress` | `003` | [`story_progress::ProgressLogic`], [`story_progress::variant`] |
//!
//! Each is one [`faultline::system::SystemSpec`], built by its module's `system`
//! function from the scenario (for example [`business_cards::system`]) with the same
//! builder a user's own system uses: tables, schema-specific tables and SQL, server
//! functions, workload, variants (the built-in ones and the mutant suite's are made by the
//! same public `variant` function users call), invariants and situations.
//!
//! [`registry`] registers all five with their scenario files; [`harness`] starts a
//! [`faultline::Harness`] on one of them:
//!
//! ```no_run
//! # #[derive(Clone)] struct MyCards;
//! # impl faultline_seeds::business_cards::CardsLogic for MyCards {
//! #   async fn create<B: faultline::backend::Backend, A: faultline::backend::AuthApi>(&self, _: &faultline::system::ClientCtx<B, A>, _: u32, _: &str, _: &str) {}
//! #   async fn edit<B: faultline::backend::Backend, A: faultline::backend::AuthApi>(&self, _: &faultline::system::ClientCtx<B, A>, _: u32, _: i64, _: &serde_json::Map<String, serde_json::Value>, _: u64) {}
//! # }
//! use faultline_seeds::business_cards;
//! faultline_seeds::harness("business_cards")
//!     .variant(business_cards::variant("mine", MyCards))
//!     .expect_holds("mine")
//!     .seeds(200)
//!     .run()
//!     .unwrap()
//!     .assert_as_expected();
//! ```

pub mod business_cards;
pub mod chat;
pub mod loop_export;
mod moments;
pub mod mutants;
pub mod offline_sync;
mod sql;
pub mod story_progress;

use faultline::system::Registry;

/// Each seed system's scenario file, shipped so a name finds it from any directory.
const SCENARIOS: &[(&str, &str, &str)] = &[
    (
        "business_cards",
        "scenarios/business_cards.toml",
        include_str!("../../../scenarios/business_cards.toml"),
    ),
    (
        "chat_persistence",
        "scenarios/chat_persistence.toml",
        include_str!("../../../scenarios/chat_persistence.toml"),
    ),
    (
        "loop_export",
        "scenarios/loop_export.toml",
        include_str!("../../../scenarios/loop_export.toml"),
    ),
    (
        "offline_sync",
        "scenarios/offline_sync.toml",
        include_str!("../../../scenarios/offline_sync.toml"),
    ),
    (
        "story_progress",
        "scenarios/story_progress.toml",
        include_str!("../../../scenarios/story_progress.toml"),
    ),
];

/// All five systems, their scenario files, and the backoff sweep's contention system.
pub fn registry() -> Registry {
    let mut r = Registry::new()
        .system("business_cards", business_cards::system)
        .system("chat_persistence", chat::system)
        .system("loop_export", loop_export::system)
        .system("offline_sync", offline_sync::system)
        .system("story_progress", story_progress::system)
        .sweep_system(
            |clients, base_ms, cap_ms| business_cards::contention::Contention {
                clients,
                base_ms,
                cap_ms,
            },
        );
    for (name, path, text) in SCENARIOS {
        r = r.scenario_text(name, path, text);
    }
    r
}

/// A [`faultline::Harness`] over every seed system, on the scenario `name_or_path`.
pub fn harness(name_or_path: &str) -> faultline::Harness {
    faultline::Harness::new(registry()).scenario(name_or_path)
}
