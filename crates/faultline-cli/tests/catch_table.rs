//! `faultline report catch-table`: the table lands between the markers, the rest of the
//! README survives, and its figures agree with `faultline run --json` on the same seeds.

mod common;
use common::faultline;

const SEEDS: &str = "6";
const BEFORE: &str = "# My project\n\nIntro text.\n\n<!-- catch-table:start -->\nstale table\n<!-- catch-table:end -->\n\n## After\n\nMore text.\n";

/// A folder with two of the project's scenarios, so the test stays quick.
fn scenario_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["business_cards.toml", "loop_export.toml"] {
        std::fs::copy(format!("scenarios/{name}"), dir.path().join(name)).unwrap();
    }
    dir
}

/// The `| `scenario` | variant | `invariant` | caught/seeds | ...` rows.
fn rows(readme: &str) -> Vec<(String, String, String, u64, u64)> {
    readme
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let (caught, seeds) = cells[3].split_once('/').unwrap();
            (
                cells[0].trim_matches('`').to_string(),
                cells[1].to_string(),
                cells[2].trim_matches('`').to_string(),
                caught.parse().unwrap(),
                seeds.parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn table_replaces_the_markers_content_and_matches_run_json() {
    common::at_root();
    let scenarios = scenario_dir();
    let dir = tempfile::tempdir().unwrap();
    let readme = dir.path().join("README.md");
    std::fs::write(&readme, BEFORE).unwrap();
    let (code, _, err) = faultline(&[
        "report",
        "catch-table",
        "--readme",
        readme.to_str().unwrap(),
        "--dir",
        scenarios.path().to_str().unwrap(),
        "--seeds",
        SEEDS,
    ]);
    assert_eq!(code, 0, "{err}");
    let after = std::fs::read_to_string(&readme).unwrap();
    assert!(after.starts_with("# My project\n\nIntro text.\n\n<!-- catch-table:start -->\n"));
    assert!(after.ends_with("<!-- catch-table:end -->\n\n## After\n\nMore text.\n"));
    assert!(!after.contains("stale table"), "{after}");
    let table = rows(&after);
    for scenario in ["business_cards", "loop_export"] {
        assert!(table.iter().any(|r| r.0 == scenario), "{after}");
    }

    // Every row agrees with a plain run of the same seeds.
    let mut checked = 0;
    for name in ["business_cards.toml", "loop_export.toml"] {
        let path = scenarios.path().join(name);
        let (_, json, err) = faultline(&[
            "run",
            path.to_str().unwrap(),
            "--seeds",
            SEEDS,
            "--json",
            "--no-shrink",
        ]);
        let doc: serde_json::Value =
            serde_json::from_str(&json).unwrap_or_else(|_| panic!("{err}"));
        let run = &doc["runs"][0];
        for v in run["variants"].as_array().unwrap() {
            for t in v["invariants"].as_array().unwrap() {
                let row = table.iter().find(|r| {
                    r.0 == run["scenario"] && r.1 == v["variant"] && r.2 == t["invariant"]
                });
                match row {
                    Some(r) => {
                        assert!(t["expected"].as_bool().unwrap());
                        assert_eq!(r.3, t["violated"].as_u64().unwrap(), "{r:?}");
                        assert_eq!(r.4, v["seeds"].as_u64().unwrap(), "{r:?}");
                        checked += 1;
                    }
                    None => assert!(!t["expected"].as_bool().unwrap(), "{t} has no row"),
                }
            }
        }
    }
    assert_eq!(checked, table.len());

    // A second run replaces its own table and keeps the rest again.
    let (code, _, err) = faultline(&[
        "report",
        "catch-table",
        "--readme",
        readme.to_str().unwrap(),
        "--dir",
        scenarios.path().to_str().unwrap(),
        "--seeds",
        SEEDS,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&readme).unwrap(), after);
}

#[test]
fn missing_markers_are_exit_2_naming_the_file_and_leave_it_alone() {
    common::at_root();
    let dir = tempfile::tempdir().unwrap();
    let readme = dir.path().join("NOTES.md");
    let text = "# Notes\n\n<!-- catch-table:start -->\nno end marker\n";
    std::fs::write(&readme, text).unwrap();
    let (code, _, err) = faultline(&[
        "report",
        "catch-table",
        "--readme",
        readme.to_str().unwrap(),
        "--seeds",
        "1",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("NOTES.md"), "{err}");
    assert!(err.contains("<!-- catch-table:end -->"), "{err}");
    assert_eq!(std::fs::read_to_string(&readme).unwrap(), text);
}
