//! Regression tests for each class of hostile input the robustness review found, through
//! the command line: exit code 2 and a message naming the file, line and column (or the
//! flag), never a panic, a hang or a wrong answer with exit 0.

mod common;
use common::*;

use serde_json::{json, Value};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Exit 2, no panic, and `needles` in the message.
fn refused(args: &[&str], needles: &[&str]) {
    let (code, out, err) = faultline(args);
    assert_eq!(code, 2, "{args:?}\n{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: expected `{n}` in:\n{err}");
    }
}

/// A real saved plan of `scenario`, as JSON.
fn saved_plan(dir: &tempfile::TempDir, scenario: &str, variant: &str) -> Value {
    let out = dir.path().join("saved.json");
    let (code, _, err) = faultline(&[
        "replay",
        scenario,
        "--seed",
        "1",
        "--variant",
        variant,
        "--plan-out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

fn plan_file(dir: &tempfile::TempDir, name: &str, plan: &Value) -> String {
    write(dir, name, &serde_json::to_string_pretty(plan).unwrap())
}

#[test]
fn plans_with_impossible_hosts_latencies_ticks_or_times_are_refused_with_a_position() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let base = saved_plan(&dir, "scenarios/business_cards.toml", "naive");
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "twice",
            Box::new(|p| {
                let c = p["clients"][0].clone();
                p["clients"].as_array_mut().unwrap().push(c);
            }),
            "listed twice",
        ),
        (
            "server",
            Box::new(|p| p["clients"][1]["name"] = json!("auth")),
            "named like a server",
        ),
        (
            "address",
            Box::new(|p| p["clients"][0]["name"] = json!("10.0.0.1")),
            "not an address",
        ),
        (
            "ghost",
            Box::new(|p| {
                let f = &mut p["faults"][0]["fault"];
                for k in ["a", "from", "host", "client"] {
                    if f.get(k).is_some() {
                        f[k] = json!("client-9");
                    }
                }
            }),
            "no host `client-9`",
        ),
        (
            "latency",
            Box::new(|p| {
                p["network"]["latency_min_ms"] = json!(50);
                p["network"]["latency_max_ms"] = json!(5);
            }),
            "latency_min_ms",
        ),
        (
            "tick0",
            Box::new(|p| p["network"]["tick_ms"] = json!(0)),
            "tick_ms = 0",
        ),
        (
            "tickmax",
            Box::new(|p| p["network"]["tick_ms"] = json!(u64::MAX)),
            "expected 1 to 1000",
        ),
        (
            "order",
            Box::new(|p| p["faults"].as_array_mut().unwrap().reverse()),
            "time order",
        ),
        (
            "late",
            Box::new(|p| {
                let n = p["faults"].as_array().unwrap().len();
                p["faults"][n - 1]["at_ms"] = json!(99_000_000);
            }),
            "at_ms",
        ),
    ];
    for (name, edit, needle) in cases {
        let mut plan = base.clone();
        edit(&mut plan);
        let file = format!("{name}.json");
        let path = plan_file(&dir, &file, &plan);
        let (code, _, err) = faultline(&["replay", &path]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(needle), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        // file:line:col, the line being the offending field's, not the top of the file.
        let at = err.split(&format!("{file}:")).nth(1).unwrap_or_default();
        let line: usize = at.split(':').next().unwrap_or("0").parse().unwrap_or(0);
        assert!(line > 1, "{name}: no line in {err}");
    }
}

#[test]
fn a_replica_named_like_a_server_is_refused() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let mut plan = saved_plan(&dir, "scenarios/story_progress.toml", "reference");
    plan["replicas"][0]["name"] = json!("store");
    let path = plan_file(&dir, "replica.json", &plan);
    refused(&["replay", &path], &["replica.json:", "host `store`"]);
}

#[test]
fn plans_are_recognised_by_content_and_replay_from_any_folder() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let plan = saved_plan(&dir, "scenarios/business_cards.toml", "naive");
    for name in ["plan.JSON", "plan"] {
        let path = plan_file(&dir, name, &plan);
        // Run from a folder that holds no scenarios/.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .args(["replay", &path])
            .current_dir(dir.path())
            .env("CI", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("business_cards  variant naive  seed 1"),
            "{text}"
        );
    }
    // A truncated plan without an extension is refused as a plan, not as TOML.
    let text = serde_json::to_string_pretty(&plan).unwrap();
    let path = write(&dir, "cut", &text[..text.len() / 2]);
    refused(&["replay", &path], &["expected a faultline plan"]);
}

const HEAD: &str = "# clients, tick_ms, create_share, safety_ms and partitions, in a comment\nname = \"x\"\ndescription = \"clients tick_ms create_share safety_ms partitions fields_per_edit\"\nlogic = \"business_cards\"\n";

/// The line of `needle`'s key in `text` (1-based), for the expected position.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.starts_with(needle)).unwrap() + 1
}

#[test]
fn scenario_values_out_of_bounds_point_at_their_key() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[workload]\ncreate_share = [-inf, 0.5]\n",
            "create_share",
            "finite",
        ),
        (
            "[workload]\ndouble_submit = [-0.5, 0.5]\n",
            "double_submit",
            "chance",
        ),
        (
            "[workload]\nclients = 9223372036854775807\n",
            "clients",
            "MAX_CLIENTS",
        ),
        (
            "[workload]\nseeded_cards = 1000000000\n",
            "seeded_cards",
            "MAX_RECORDS",
        ),
        (
            "[workload]\nfields_per_edit = [2, 1]\n",
            "fields_per_edit",
            "low <= high",
        ),
        (
            "[faults]\npartitions = 1000000000\n",
            "partitions",
            "MAX_FAULTS_PER_KIND",
        ),
        (
            "[faults]\nholds = [0, 1000000000]\n",
            "holds",
            "MAX_FAULTS_PER_KIND",
        ),
        (
            "[network]\ntick_ms = 1000000000\n",
            "tick_ms",
            "expected 1 to 1000",
        ),
        ("[network]\ntick_ms = 0\n", "tick_ms", "expected 1 to 1000"),
        (
            "[phases]\nsafety_ms = 9223372036854775807\n",
            "safety_ms",
            "out of bounds",
        ),
        (
            "[replicas]\ncount = 9223372036854775807\n",
            "count",
            "out of bounds",
        ),
        ("[faults]\noutage_drop = nan\n", "outage_drop", "chance"),
    ];
    for (i, (tail, key, needle)) in cases.iter().enumerate() {
        let text = format!("{HEAD}{tail}");
        let name = format!("s{i}.toml");
        let path = write(&dir, &name, &text);
        let at = format!("{name}:{}:1:", line_of(&text, key));
        refused(&["run", &path, "--seeds", "1"], &[&at, needle]);
    }
}

#[test]
fn keys_inside_profiles_and_expectations_are_located() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HEAD}[profiles.calm]\ndescription = \"naive holds\"\n[profiles.calm.faults]\nholds = 1000\n");
    let path = write(&dir, "p.toml", &text);
    refused(
        &["run", &path, "--seeds", "1"],
        &[&format!("p.toml:{}:1:", line_of(&text, "holds"))],
    );
    let text = format!(
        "{HEAD}[profiles.calm]\ndescription = \"d\"\n[profiles.calm.workload]\nclients = 100\n"
    );
    let path = write(&dir, "w.toml", &text);
    refused(
        &["run", &path, "--seeds", "1"],
        &[&format!("w.toml:{}:1:", line_of(&text, "clients"))],
    );
    // A type error inside a profile's workload points at its key too.
    let text = format!(
        "{HEAD}[profiles.calm]\ndescription = \"d\"\n[profiles.calm.workload]\nnames = 3\n"
    );
    let path = write(&dir, "t.toml", &text);
    refused(
        &["run", &path, "--seeds", "1"],
        &[&format!("t.toml:{}:1:", line_of(&text, "names"))],
    );
    // `naivex` appears in the description first; the error points at the table.
    let text =
        format!("{HEAD}[expect.naivex]\nviolates = []\n").replace("clients tick_ms", "naivex");
    let path = write(&dir, "e.toml", &text);
    refused(
        &["run", &path, "--seeds", "1"],
        &[
            &format!("e.toml:{}:", line_of(&text, "[expect.naivex]")),
            "unknown variant",
        ],
    );
}

#[test]
fn invalid_utf8_gets_the_position_of_the_bad_byte() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.toml");
    std::fs::write(&path, b"name = \"x\"\ndescription = \"\xc3\x28\"\n").unwrap();
    refused(&["run", path.to_str().unwrap()], &["u.toml:2:16:", "UTF-8"]);
}

#[test]
fn flags_out_of_range_are_usage_errors() {
    common::at_root();
    refused(
        &["run", "business_cards", "--seeds", "18446744073709551615"],
        &["MAX_SEEDS"],
    );
    refused(
        &["run", "business_cards", "--seeds", "10000000000"],
        &["MAX_SEEDS"],
    );
    refused(&["run", "business_cards", "--seeds", "0"], &["--seeds 0"]);
    refused(
        &["run", "business_cards", "--seeds", "1", "--jobs", "0"],
        &["--jobs 0"],
    );
    refused(
        &["run", "business_cards", "--seeds", "2", "--shard", "3/3"],
        &["no seed"],
    );
    refused(&["report", "--seeds", "0"], &["--seeds 0"]);
    refused(&["report", "--clients", "2,100000"], &["MAX_CLIENTS"]);
    refused(&["report", "catch-table", "--seeds", "0"], &["--seeds 0"]);
}

#[test]
fn an_unwritable_output_is_refused_before_the_run() {
    common::at_root();
    let started = std::time::Instant::now();
    // A million seeds would take hours: the refusal must come first.
    refused(
        &[
            "run",
            "business_cards",
            "--seeds",
            "1000000",
            "--junit",
            "/nonexistent/dir/j.xml",
        ],
        &["/nonexistent/dir/j.xml"],
    );
    refused(
        &[
            "replay",
            "business_cards",
            "--seed",
            "1",
            "--timeline",
            "/nonexistent/t.html",
        ],
        &["/nonexistent/t.html"],
    );
    assert!(started.elapsed().as_secs() < 20);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    common::at_root();
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(["list"])
        .env("CI", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one byte, then close the pipe as `head -c1` would.
    let mut stdout = child.stdout.take().unwrap();
    let mut one = [0u8; 1];
    stdout.read_exact(&mut one).unwrap();
    drop(stdout);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.code(), Some(0), "{err}");
}

#[test]
fn shards_judge_only_what_they_can_see_and_merge_refuses_overlaps() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for k in 1..=2 {
        let (code, out, err) = faultline(&[
            "run",
            "business_cards",
            "--seeds",
            "20",
            "--shard",
            &format!("{k}/2"),
            "--json",
            "--no-shrink",
        ]);
        // A shard only fails on a violation no seed may show.
        assert_eq!(code, 0, "shard {k}: {err}");
        files.push(write(&dir, &format!("s{k}.json"), &out));
    }
    let (code, out, err) = faultline(&["report", "merge", &files[0], &files[1]]);
    assert_eq!(code, 0, "{out}{err}");
    refused(&["report", "merge", &files[0], &files[0]], &["overlaps"]);
    let empty = write(&dir, "empty.json", "{\"format\":1,\"runs\":[]}");
    refused(&["report", "merge", &empty], &["nothing to merge"]);
    let future = write(&dir, "future.json", "{\"format\":2,\"runs\":[]}");
    refused(
        &["report", "merge", &future],
        &["future.json:1:2:", "format 2"],
    );
    // A shard claiming more violating seeds than it ran is not a real run.
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&files[1]).unwrap()).unwrap();
    doc["runs"][0]["variants"][0]["seeds"] = json!(1);
    let forged = write(&dir, "forged.json", &doc.to_string());
    refused(
        &["report", "merge", &files[0], &forged],
        &["at most as many"],
    );
    doc["runs"][0]["variants"][0]["seeds"] = json!(u64::MAX);
    for t in doc["runs"][0]["variants"][0]["invariants"]
        .as_array_mut()
        .unwrap()
    {
        t["violated"] = json!(0);
        t["tolerated"] = json!(0);
        t["unexpected"] = json!(0);
    }
    let huge = write(&dir, "huge.json", &doc.to_string());
    refused(&["report", "merge", &files[0], &huge], &["overflow"]);
}
