//! The vacuity guard on the command line: a run that never reached a situation its
//! scenario must exercise fails and names it; counts reach every output; one seed's
//! replay and one shard never fail for it, and `report merge` judges the whole.

mod common;

use common::faultline;

/// business_cards with every fault turned off and only the reference running: its
/// invariants hold, but no create can commit under a link fault.
fn faultless(dir: &std::path::Path, situations: Option<&str>) -> String {
    common::at_root();
    let text = std::fs::read_to_string("scenarios/business_cards.toml").unwrap();
    let faults = text.find("[faults]").unwrap();
    let workload = text.find("[workload]").unwrap();
    let cut = text.find("[expect.naive]").unwrap();
    let list = situations.map_or(String::new(), |s| format!("situations = {s}\n"));
    let head = text[..faults].replace(
        "variants = [\"naive\", \"documented\", \"reference\"]",
        &format!("variants = [\"reference\"]\n{list}"),
    );
    let body = format!("{head}[faults]\nswarm = false\n\n{}", &text[workload..cut]);
    let path = dir.join(format!("faultless{}.toml", situations.map_or(0, str::len)));
    std::fs::write(&path, body).unwrap();
    path.to_string_lossy().into_owned()
}

const MISSED: &str = "create_committed_under_link_fault";

#[test]
fn a_situation_never_reached_fails_the_run_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = faultless(dir.path(), None);
    let md = dir.path().join("s.md");
    let junit = dir.path().join("j.xml");
    let (code, out, err) = faultline(&[
        "run",
        &path,
        "--seeds",
        "8",
        "--no-shrink",
        "--markdown",
        md.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!(
            "MISSED SITUATION variant reference never reached `{MISSED}`"
        )),
        "{out}"
    );
    assert!(out.contains("NOT EXERCISED"), "{out}");
    // The situation it did reach is counted next to the one it missed.
    let line = |name: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(name))
            .map(str::to_string)
    };
    assert!(line(MISSED).is_some_and(|l| l.contains("0/8!")), "{out}");
    let edits = line("concurrent_edits_of_one_card").expect("counted");
    assert!(!edits.contains("0/8") && edits.contains("/8"), "{out}");
    let summary = std::fs::read_to_string(&md).unwrap();
    assert!(
        summary.contains(&format!("| {MISSED} | **0/8** (never) |")),
        "{summary}"
    );
    assert!(summary.contains("never occurred"), "{summary}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(&format!("name=\"situation:{MISSED}\">")),
        "{xml}"
    );
}

#[test]
fn json_counts_situations_and_a_merge_of_shards_judges_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = faultless(dir.path(), None);
    let mut files = Vec::new();
    for k in 1..=2 {
        let (code, out, _) = faultline(&[
            "run",
            &path,
            "--seeds",
            "8",
            "--shard",
            &format!("{k}/2"),
            "--json",
            "--no-shrink",
        ]);
        // One shard cannot know what the others reached.
        assert_eq!(code, 0, "{out}");
        let file = dir.path().join(format!("shard{k}.json"));
        std::fs::write(&file, out).unwrap();
        files.push(file.to_string_lossy().into_owned());
    }
    let (code, whole, _) = faultline(&["run", &path, "--seeds", "8", "--json", "--no-shrink"]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&whole).unwrap();
    let situations = &doc["runs"][0]["variants"][0]["situations"];
    let missed = situations
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["situation"] == MISSED)
        .expect("listed");
    assert_eq!(missed["seeds"], 0);
    let reached = situations
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["situation"] == "concurrent_edits_of_one_card")
        .expect("listed");
    assert!(reached["seeds"].as_u64().unwrap() > 0);
    assert!(reached["occurrences"].as_u64() >= reached["seeds"].as_u64());
    let mut args = vec!["report", "merge"];
    args.extend(files.iter().map(String::as_str));
    let (code, merged, _) = faultline(&args);
    assert_eq!(code, 1, "{merged}");
    assert!(
        merged.contains(&format!("| {MISSED} | **0/8** (never) |")),
        "{merged}"
    );
    let seeds = reached["seeds"].as_u64().unwrap();
    assert!(
        merged.contains(&format!("| concurrent_edits_of_one_card | {seeds}/8 |")),
        "{merged}"
    );
}

#[test]
fn a_replay_or_a_scenario_that_drops_the_situation_passes() {
    let dir = tempfile::tempdir().unwrap();
    let path = faultless(dir.path(), None);
    let (code, out, _) = faultline(&["replay", &path, "--variant", "reference", "--seed", "3"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("situations on this seed: "), "{out}");
    assert!(out.contains(&format!("{MISSED} x0")), "{out}");
    let kept = faultless(dir.path(), Some("[\"concurrent_edits_of_one_card\"]"));
    let (code, out, _) = faultline(&["run", &kept, "--seeds", "8", "--no-shrink"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(MISSED), "{out}");
    let off = faultless(dir.path(), Some("[]"));
    let (code, out, _) = faultline(&["run", &off, "--seeds", "8", "--no-shrink"]);
    assert_eq!(code, 0, "{out}");
    let unknown = faultless(dir.path(), Some("[\"lost_answerz\"]"));
    let (code, _, err) = faultline(&["run", &unknown, "--seeds", "8"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown situation `lost_answerz`") && err.contains(MISSED),
        "{err}"
    );
}
