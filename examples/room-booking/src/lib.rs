//! Room booking, a system that is none of faultline's seed systems, described through
//! faultline's public API only: its table, its server function, its workload, two
//! versions of the client code a team might ship, and its invariants.
//!
//! History conventions (what the invariants read):
//! - `book` invokes with `{room, start, end}` (minutes) and completes ok with `{id}`, or
//!   fails with category `conflict` when the user was told the room is taken;
//! - `cancel` invokes with `{id}` and completes ok once the server acknowledged it.

mod checks;
mod client;
mod server;
pub mod situations;

use std::collections::BTreeMap;

use faultline::check::generic;
use faultline::plan::{ClientScript, PlannedOp, Workload};
use faultline::rng::SimRng;
use faultline::scenario::{read_workload, Scenario, Span, WorkloadKnobs};
use faultline::store::TableDef;
use faultline::system::{client_fn, Invariant, Registry, SqlFile, SystemSpec, Variant};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use client::{Fixed, RefusesAll, Shipped};

/// The bookings table.
pub const TABLE: &str = "bookings";
/// Length of one bookable slot, in minutes.
pub const SLOT_MIN: u64 = 30;

/// One planned action of a colleague.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Action {
    /// Book `room` from `start` to `end` (minutes since the day began).
    Book {
        /// The room's name.
        room: String,
        /// First minute.
        start: u64,
        /// Minute the booking ends (exclusive).
        end: u64,
    },
    /// Cancel the latest booking this colleague holds.
    Cancel,
}

/// `[workload]` knobs, drawn per seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Knobs {
    /// Colleagues booking at once, each signed in as themselves.
    pub clients: Span<u64>,
    /// Rooms they compete for.
    pub rooms: Span<u64>,
    /// Requests per colleague.
    pub requests_per_client: Span<u64>,
    /// Share of requests that cancel a booking instead.
    pub cancel_share: Span<f64>,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            clients: Span::Range([3, 6]),
            rooms: Span::Range([1, 2]),
            requests_per_client: Span::Range([2, 5]),
            cancel_share: Span::Range([0.0, 0.3]),
        }
    }
}

impl WorkloadKnobs for Knobs {
    /// Checks `[workload]`; errors point at the key.
    fn validate(&self, scenario: &Scenario) -> faultline::Result<()> {
        scenario.check_workload(&[
            ("clients", self.clients.within(1, 16)),
            ("rooms", self.rooms.within(1, 8)),
            (
                "requests_per_client",
                self.requests_per_client.within(1, 50),
            ),
            ("cancel_share", self.cancel_share.within(0.0, 1.0)),
        ])
    }
}

impl Knobs {
    /// One seed's requests: a few half-hour and hour slots in the morning, so colleagues
    /// collide; no colleague asks twice for the same room at the same start.
    pub fn generate(
        &self,
        mut rng: SimRng,
        safety_ms: u64,
        knobs: &mut BTreeMap<String, Value>,
    ) -> Workload {
        let clients = self.clients.draw(&mut rng);
        let rooms = self.rooms.draw(&mut rng);
        let cancel_share = self.cancel_share.draw(&mut rng);
        knobs.insert("clients".into(), clients.into());
        knobs.insert("rooms".into(), rooms.into());
        knobs.insert(
            "cancel_share".into(),
            json!((cancel_share * 100.0).round() / 100.0),
        );
        let mut next_id = 1;
        let scripts = (1..=clients)
            .map(|c| {
                let name = format!("client-{c}");
                let mut r = rng.fork(&name);
                let mut asked = std::collections::BTreeSet::new();
                let mut at = r.range(0, 400);
                let mut ops = Vec::new();
                for _ in 0..self.requests_per_client.draw(&mut r) {
                    let room = format!("room-{}", r.range(1, rooms));
                    let start = r.range(0, 3) * SLOT_MIN;
                    let action = if r.chance(cancel_share) || !asked.insert((room.clone(), start)) {
                        Action::Cancel
                    } else {
                        Action::Book {
                            room,
                            start,
                            end: start + SLOT_MIN * r.range(1, 2),
                        }
                    };
                    if at < safety_ms {
                        let action = serde_json::to_value(action).expect("actions serialise");
                        ops.push(PlannedOp {
                            id: next_id,
                            at_ms: at,
                            action,
                        });
                        next_id += 1;
                    }
                    at += r.range(100, 1500);
                }
                ClientScript {
                    name,
                    user: format!("u{c}"),
                    ops,
                }
            })
            .collect();
        Workload {
            setup: json!([]),
            clients: scripts,
        }
    }
}

/// The room-booking system for one scenario: its table (a unique booking key, so a
/// retried request can be recognised), its server function, the shipped and the fixed
/// client, and four invariants.
pub fn system(scenario: &Scenario) -> faultline::Result<SystemSpec> {
    let knobs: Knobs = read_workload(scenario)?;
    let spec = SystemSpec::new("room_booking")
        .table(
            TableDef::new(TABLE)
                .versioned("version")
                .unique(&["booking_key"])
                // As in sql/schema.sql; the conformance check found the twin without it.
                .default_value("status", json!("active")),
        )
        .function("book_room", server::book_room)
        .audit(TABLE)
        .sql(SqlFile::new(
            "examples/room-booking/sql/schema.sql",
            include_str!("../sql/schema.sql"),
        ))
        .sql(SqlFile::new(
            "examples/room-booking/sql/functions.sql",
            include_str!("../sql/functions.sql"),
        ))
        .workload(move |rng, safety_ms, drawn| Ok(knobs.generate(rng, safety_ms, drawn)))
        .variant(variant("shipped", Shipped))
        .variant(variant("fixed", Fixed))
        .invariant(Invariant::new("no_double_booking", checks::no_double_booking).reads(TABLE))
        .invariant(Invariant::new("booked_once", checks::booked_once).reads(TABLE))
        .invariant(Invariant::new(
            "refusals_justified",
            checks::refusals_justified,
        ))
        .invariant(Invariant::new("cancel_durable", checks::cancel_durable).reads(TABLE))
        .invariant(generic::no_silent_failure("no_silent_failure", "book"));
    Ok(situations::all()
        .into_iter()
        .fold(spec, SystemSpec::situation))
}

/// Runs `logic` as the variant `name`.
pub fn variant<L: client::BookingLogic + Send + Sync>(name: &str, logic: L) -> Variant {
    Variant::new(
        name,
        client_fn(move |ctx, script| {
            let logic = logic.clone();
            async move { client::run(&logic, &ctx, script).await }
        }),
    )
    .for_logic("room_booking")
}

/// The room-booking system and its scenario file, for the CLI and the Harness.
pub fn registry() -> Registry {
    Registry::new()
        .system("room_booking", system)
        .scenario_text(
            "room_booking",
            "examples/room-booking/scenarios/room_booking.toml",
            include_str!("../scenarios/room_booking.toml"),
        )
        .scenario_text(
            "room_booking_contended",
            "examples/room-booking/scenarios/room_booking_contended.toml",
            include_str!("../scenarios/room_booking_contended.toml"),
        )
}
