//! The command line as users see it: exit codes, error messages, replay output.

mod common;
use common::*;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn malformed_scenario_is_exit_2_with_file_line_and_column() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "bad.toml", "name = \"x\"\ndescription = \"d\"\nlogic = \"business_cards\"\n\n[workload]\nclients = \"many\"\n");
    let (code, _, err) = faultline(&["run", &path, "--seeds", "1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.toml:6:11"), "{err}");
    assert!(err.contains("a number or a [low, high] pair"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unknown_logic_and_invariant_are_exit_2() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "a.toml",
        "name = \"x\"\ndescription = \"d\"\nlogic = \"nope\"\n",
    );
    let (code, _, err) = faultline(&["list", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("a.toml:3:1: unknown logic `nope`"), "{err}");
    let path2 = write(&dir, "b.toml", "name = \"x\"\ndescription = \"d\"\nlogic = \"business_cards\"\n[expect.naive]\nviolates = [\"no_such\"]\n");
    let (code, _, err) = faultline(&["run", &path2, "--seeds", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown invariant `no_such`"), "{err}");
    drop(path);
}

#[test]
fn run_exits_0_when_verdicts_match_and_1_when_they_do_not() {
    common::at_root();
    let (code, out, _) = faultline(&["run", "scenarios/business_cards.toml", "--seeds", "12"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("reference   holds"), "{out}");
    assert!(
        out.contains(
            "replay: faultline replay scenarios/business_cards.toml --variant naive --seed"
        ),
        "{out}"
    );

    // The same scenario claiming naive is correct must fail the gate.
    let text = std::fs::read_to_string("scenarios/business_cards.toml").unwrap();
    let cut = text.find("[expect.naive]").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "optimistic.toml", &text[..cut]);
    let (code, out, _) = faultline(&["run", &path, "--variant", "naive", "--seeds", "12"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("UNEXPECTED"), "{out}");
}

#[test]
fn replay_reproduces_the_seed_and_writes_history() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let hist = dir.path().join("h.jsonl");
    let args = [
        "replay",
        "scenarios/business_cards.toml",
        "--variant",
        "naive",
        "--seed",
        "1",
        "--history",
        hist.to_str().unwrap(),
    ];
    let (code, out, err) = faultline(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("VIOLATION"), "{out}");
    let first = std::fs::read_to_string(&hist).unwrap();
    assert!(first.lines().count() > 5);
    let (_, out2, _) = faultline(&args);
    assert_eq!(out, out2, "replaying a seed prints the same timeline");
    assert_eq!(first, std::fs::read_to_string(&hist).unwrap());
}

#[test]
fn replay_of_a_saved_plan_matches_and_foreign_files_are_refused() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let (code, out, _) = faultline(&[
        "replay",
        "business_cards",
        "--variant",
        "documented",
        "--seed",
        "3",
        "--plan-out",
        plan.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let (code, again, err) = faultline(&["replay", plan.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let hash = |s: &str| {
        s.lines()
            .next()
            .unwrap()
            .split("history ")
            .nth(1)
            .unwrap()
            .to_string()
    };
    assert_eq!(hash(&out), hash(&again));

    let text = std::fs::read_to_string(&plan).unwrap();
    let truncated = write(&dir, "cut.json", &text[..text.len() / 2]);
    let (code, _, err) = faultline(&["replay", &truncated]);
    assert_eq!(code, 2);
    assert!(err.contains("cut.json:"), "{err}");
    let future = write(
        &dir,
        "v9.json",
        &text.replacen("\"format\": 1", "\"format\": 9", 1),
    );
    let (code, _, err) = faultline(&["replay", &future]);
    assert_eq!(code, 2);
    assert!(err.contains("plan format 9 is not supported"), "{err}");
    let foreign = write(&dir, "other.json", "{\"hello\": 1}");
    let (code, _, err) = faultline(&["replay", &foreign]);
    assert_eq!(code, 2);
    assert!(err.contains("expected a faultline plan"), "{err}");
}

/// Runs the binary with `env` added and no DATABASE_URL from the caller's environment.

#[test]
fn postgres_backend_refuses_a_database_not_named_for_tests_and_says_why() {
    common::at_root();
    let args = [
        "run",
        "business_cards",
        "--seed",
        "1",
        "--backend",
        "postgres",
    ];
    // Nothing listens on port 9: the guard must refuse before any connection is tried.
    let url = [("DATABASE_URL", "postgres://postgres@127.0.0.1:9/production")];
    let (code, _, err) = faultline_env(&args, &url);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`production`") && err.contains("`test` is not a word of its name"),
        "{err}"
    );
    assert!(err.contains("--allow-any-database"), "{err}");
    // Containing the letters is not enough.
    let url = [(
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1:9/latest_orders",
    )];
    let (code, _, err) = faultline_env(&args, &url);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`latest_orders`"), "{err}");

    let (code, _, err) = faultline_env(&args, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("DATABASE_URL"), "{err}");

    let (code, _, err) = faultline_env(
        &["run", "business_cards", "--seed", "1", "--backend", "mysql"],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("expected `sim` or `postgres`"), "{err}");
}

#[test]
fn postgres_backend_that_cannot_connect_is_exit_2_naming_the_server() {
    common::at_root();
    let url = [("DATABASE_URL", "postgres://postgres@127.0.0.1:9/x_test")];
    let (code, _, err) = faultline_env(
        &[
            "run",
            "story_progress",
            "--seed",
            "1",
            "--backend",
            "postgres",
        ],
        &url,
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cannot connect to postgres://postgres@127.0.0.1:9/x_test"),
        "{err}"
    );
    let (code, _, err) = faultline_env(
        &[
            "run",
            "business_cards",
            "--seed",
            "1",
            "--backend",
            "postgres",
            "--check-determinism",
        ],
        &url,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("wall clock"), "{err}");
}
