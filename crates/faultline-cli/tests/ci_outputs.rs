//! What CI systems consume: sharded runs that merge to the whole, JUnit XML, Markdown.

mod common;

use std::process::Command;

fn faultline(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(args)
        .env("CI", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn tallies(json: &str) -> Vec<(String, String, u64, u64)> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(v["format"], 1);
    let mut out = Vec::new();
    for run in v["runs"].as_array().unwrap() {
        for var in run["variants"].as_array().unwrap() {
            for t in var["invariants"].as_array().unwrap() {
                out.push((
                    var["variant"].as_str().unwrap().to_string(),
                    t["invariant"].as_str().unwrap().to_string(),
                    t["violated"].as_u64().unwrap(),
                    var["seeds"].as_u64().unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn three_shards_merge_to_the_unsharded_run() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for k in 1..=3 {
        let (code, out) = faultline(&[
            "run",
            "business_cards",
            "--seeds",
            "30",
            "--shard",
            &format!("{k}/3"),
            "--json",
            "--no-shrink",
        ]);
        assert!(code == 0 || code == 1);
        let path = dir.path().join(format!("shard{k}.json"));
        std::fs::write(&path, out).unwrap();
        files.push(path.to_string_lossy().into_owned());
    }
    let (_, whole) = faultline(&[
        "run",
        "business_cards",
        "--seeds",
        "30",
        "--json",
        "--no-shrink",
    ]);
    let mut args = vec!["report", "merge", "--json"];
    args.extend(files.iter().map(String::as_str));
    let (code, merged) = faultline(&args);
    assert_eq!(code, 0, "{merged}");
    assert_eq!(tallies(&merged), tallies(&whole));
}

#[test]
fn junit_and_markdown_report_an_unmet_expectation() {
    common::at_root();
    let text = std::fs::read_to_string("scenarios/business_cards.toml").unwrap();
    let cut = text.find("[expect.naive]").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("optimistic.toml");
    std::fs::write(&scenario, &text[..cut]).unwrap();
    let junit = dir.path().join("j.xml");
    let md = dir.path().join("s.md");
    let (code, _) = faultline(&[
        "run",
        scenario.to_str().unwrap(),
        "--variant",
        "naive",
        "--seeds",
        "16",
        "--no-shrink",
        "--junit",
        junit.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testcase classname=\"business_cards.naive\" name=\"no_lost_updates\">"),
        "{xml}"
    );
    assert!(xml.contains("<failure message=\"violated on"), "{xml}");
    assert!(xml.contains("replay: faultline replay"), "{xml}");
    let summary = std::fs::read_to_string(&md).unwrap();
    assert!(summary.contains("| naive | 16 |"), "{summary}");
    assert!(summary.contains("**UNEXPECTED**"), "{summary}");
}

#[test]
fn a_bad_shard_is_exit_2() {
    common::at_root();
    let (code, _) = faultline(&["run", "business_cards", "--seeds", "4", "--shard", "0/2"]);
    assert_eq!(code, 2);
}
