//! The team's own faultline binary: the whole CLI (run, replay, shrink, report, ...) for
//! the room-booking system. `cargo run -p room-booking -- run examples/room-booking/scenarios/room_booking.toml`

fn main() -> std::process::ExitCode {
    faultline::cli::main_with(room_booking::registry())
}
