//! The team's own faultline binary (`src/main.rs`, one call to `main_with`): the whole
//! command line works for room booking as it does for the built-ins, and a scenario for a
//! system this binary does not register is refused with the ones it has.

use std::path::Path;
use std::process::{Command, Output};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_room-booking"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The first replay line `run` printed for the shipped page, as arguments.
fn first_replay(out: &str) -> Vec<String> {
    let line = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("replay: room-booking "))
        .unwrap_or_else(|| panic!("no replay line in:\n{out}"));
    line.split_whitespace().map(str::to_string).collect()
}

#[test]
fn run_replay_with_timeline_shrink_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let run = cli(&["run", "room_booking", "--seeds", "40", "--no-shrink"]);
    let out = text(&run);
    assert_eq!(run.status.code(), Some(0), "{out}");
    assert!(
        out.contains("shipped") && out.contains("as expected"),
        "{out}"
    );

    let mut replay = first_replay(&out);
    let seed = replay[replay.iter().position(|a| a == "--seed").unwrap() + 1].clone();
    let timeline = dir.path().join("timeline.html");
    replay.extend(["--timeline".into(), timeline.to_string_lossy().into_owned()]);
    let args: Vec<&str> = replay.iter().map(String::as_str).collect();
    let replayed = cli(&args);
    let shown = text(&replayed);
    assert!(shown.contains("VIOLATION"), "{shown}");
    let html = std::fs::read_to_string(&timeline).unwrap();
    assert!(
        html.contains("<svg") && html.contains("client-"),
        "timeline drawn"
    );

    // No --variant: shrink finds the variant that fails on this seed by itself.
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_string_lossy().into_owned();
    let shrunk = cli(&["shrink", "room_booking", "--seed", &seed, "-o", &plan_arg]);
    let said = text(&shrunk);
    assert_eq!(shrunk.status.code(), Some(0), "{said}");
    assert!(said.contains("shipped") && plan.exists(), "{said}");
    let again = cli(&["replay", &plan_arg]);
    assert!(text(&again).contains("VIOLATION"), "{}", text(&again));

    let reports = dir.path().join("reports");
    let rep = cli(&[
        "report",
        "room_booking",
        "--seeds",
        "5",
        "--out",
        &reports.to_string_lossy(),
    ]);
    let said = text(&rep);
    assert_eq!(rep.status.code(), Some(0), "{said}");
    assert!(said.contains("no backoff sweep"), "{said}");
    let md = std::fs::read_to_string(reports.join("report.md")).unwrap();
    assert!(
        md.contains("## `room_booking`") && md.contains("| fixed |"),
        "{md}"
    );
    assert!(!md.contains("Backoff policies"), "no sweep was run: {md}");
}

#[test]
fn a_scenario_of_another_system_lists_the_registered_ones() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/business_cards.toml");
    let run = cli(&["run", &seeds.to_string_lossy(), "--seeds", "2"]);
    let said = text(&run);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(
        said.contains("unknown logic `business_cards`") && said.contains("room_booking"),
        "{said}"
    );
}
