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

const PROFILED: &str = "name = \"x\"\ndescription = \"d\"\nlogic = \"loop_export\"\n[faults]\nholds = [0, 2]\n[profiles.calm]\ndescription = \"quiet\"\n[profiles.calm.faults]\nholds = 0\n";

#[test]
fn a_profile_overrides_only_the_keys_it_names() {
    let s = parse(PROFILED).unwrap();
    let calm = s.with_profile("calm").unwrap();
    assert_eq!(calm.file.faults.holds, Span::Fixed(0));
    assert_eq!(calm.file.faults.hold_ms, s.file.faults.hold_ms);
    assert_eq!(calm.profile.as_deref(), Some("calm"));
    assert_eq!(
        s.with_profile("base").unwrap().file.faults.holds,
        Span::Range([0, 2])
    );
}

#[test]
fn a_typo_inside_a_profile_names_the_profile() {
    let err = parse(&format!("{PROFILED}parttions = 1\n")).unwrap_err();
    let msg = err.to_string();
    // The key itself, inside `[profiles.calm.faults]`, not the profile's header.
    assert!(msg.starts_with("scenarios/bad.toml:10:1:"), "{msg}");
    assert!(msg.contains("profile `calm` faults"), "{msg}");
    assert!(msg.contains("parttions"), "{msg}");
}

#[test]
fn reserved_profile_names_are_refused() {
    let err = parse(&format!("{MINIMAL}[profiles.all]\n")).unwrap_err();
    assert!(err.to_string().contains("reserved profile name"), "{err}");
}

#[test]
fn a_profile_expectation_replaces_the_scenarios_for_its_seeds() {
    let text = format!(
        "{PROFILED}[profiles.calm.expect.naive]\nviolates = [\"no_duplicate_rows\"]\nmay_violate = [\"no_silent_failure\"]\n[expect.naive]\nviolates = [\"no_silent_failure\"]\n"
    );
    let s = parse(&text).unwrap();
    let calm = s.expectation("naive", Some("calm"));
    assert_eq!(calm.violates, ["no_duplicate_rows"]);
    assert_eq!(calm.may_violate, ["no_silent_failure"]);
    assert_eq!(s.expectation("naive", None).violates, ["no_silent_failure"]);
    assert!(s.expectation("reference", Some("calm")).violates.is_empty());
}

/// `oneway_partition_ms` is optional: unset, one-way partitions last `partition_ms`;
/// set, it is bounds-checked at its own key.
#[test]
fn oneway_partition_ms_defaults_to_partition_ms_and_is_checked_at_its_key() {
    let s = parse(MINIMAL).unwrap();
    assert_eq!(s.file.faults.oneway_partition_ms, None);
    let s = parse(&format!(
        "{MINIMAL}[faults]\noneway_partition_ms = [200, 12000]\n"
    ))
    .unwrap();
    assert_eq!(
        s.file.faults.oneway_partition_ms,
        Some(Span::Range([200, 12000]))
    );
    let err = parse(&format!(
        "{MINIMAL}[faults]\noneway_partition_ms = [9, 1]\n"
    ))
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("faults.oneway_partition_ms"), "{msg}");
    assert!(msg.contains("low <= high"), "{msg}");
}
