use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Scenario> {
    Scenario::parse(Path::new("scenarios/bad.toml"), text.to_string())
}

const MINIMAL: &str = "name = \"x\"\ndescription = \"d\"\nlogic = \"business_cards\"\n";

#[test]
fn minimal_scenario_parses_with_defaults() {
    let s = parse(MINIMAL).unwrap();
    assert_eq!(s.file.network.tick_ms, 10);
    assert!(s.expected_violations("naive").is_empty());
}

#[test]
fn unknown_key_names_file_line_and_column() {
    let err = parse(&format!("{MINIMAL}[faults]\nparttions = 3\n")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("scenarios/bad.toml:5:1:"), "{msg}");
    assert!(msg.contains("unknown field `parttions`"), "{msg}");
}

#[test]
fn malformed_value_says_what_was_expected() {
    let err = parse(&format!("{MINIMAL}[network]\nlatency_ms = \"fast\"\n")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("scenarios/bad.toml:5:"), "{msg}");
    assert!(msg.contains("a number or a [low, high] pair"), "{msg}");
}

#[test]
fn inverted_range_is_refused() {
    let err = parse(&format!("{MINIMAL}[faults]\nholds = [3, 1]\n")).unwrap_err();
    assert!(err.to_string().contains("low <= high"), "{err}");
}

#[test]
fn missing_required_key_is_refused() {
    let err = parse("name = \"x\"\n").unwrap_err();
    assert!(err.to_string().contains("missing field"), "{err}");
}
