//! How often each situation a scenario must reach occurred, in text and Markdown, and
//! the lines that name a situation a variant never reached.

use std::fmt::Write as _;

use crate::runner::{SeedResult, VariantSummary};

/// A variant's verdict word: invariants first, then whether the run reached its
/// situations.
pub fn verdict(v: &VariantSummary) -> &'static str {
    if !v.verdicts_as_expected() {
        "UNEXPECTED"
    } else if v.missed_situations().next().is_some() {
        "NOT EXERCISED"
    } else {
        "as expected"
    }
}

/// Every situation named by some variant, in first-seen order.
fn names(summaries: &[VariantSummary]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for t in summaries.iter().flat_map(|v| &v.situations) {
        if !out.contains(&t.situation.as_str()) {
            out.push(&t.situation);
        }
    }
    out
}

/// One cell: `seeds/run`, `!` when it never occurred, `-` when it does not apply, and
/// ` sim` after one this backend need not reach (its faults are the simulator's only).
fn cell(v: &VariantSummary, name: &str) -> String {
    match v.situations.iter().find(|t| t.situation == name) {
        None => "-".to_string(),
        Some(t) if t.missed() => format!("{}/{}!", t.seeds, v.seeds),
        Some(t) if !t.required => format!("{}/{} sim", t.seeds, v.seeds),
        Some(t) => format!("{}/{}", t.seeds, v.seeds),
    }
}

/// The footnote of ` sim` cells, when there are any.
fn sim_note(summaries: &[VariantSummary]) -> Option<&'static str> {
    summaries
        .iter()
        .flat_map(|v| &v.situations)
        .any(|t| !t.required)
        .then_some(
            "sim: needs faults only the simulator makes; counted here, not required on this backend",
        )
}

/// A table of situations (rows) by variant (columns) for the text report, and a line per
/// situation a variant never reached; empty when the scenario declares none.
pub fn text(summaries: &[VariantSummary]) -> String {
    let names = names(summaries);
    let mut s = String::new();
    if names.is_empty() {
        return s;
    }
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0).max(9);
    let _ = write!(s, "  {:<width$}", "situation");
    for v in summaries {
        let _ = write!(s, " {:<11}", v.variant);
    }
    let _ = writeln!(s, " (seeds on which it occurred)");
    for n in &names {
        let mut row = format!("  {n:<width$}");
        for v in summaries {
            let _ = write!(row, " {:<11}", cell(v, n));
        }
        let _ = writeln!(s, "{}", row.trim_end());
    }
    if let Some(note) = sim_note(summaries) {
        let _ = writeln!(s, "  {note}");
    }
    s.push_str(&missed_lines(summaries, ""));
    s
}

/// `MISSED SITUATION ...` lines, one per (variant, situation) never reached, each line
/// starting with `indent`.
pub fn missed_lines(summaries: &[VariantSummary], indent: &str) -> String {
    let mut s = String::new();
    for v in summaries {
        for t in v.missed_situations() {
            let _ = writeln!(
                s,
                "{indent}  MISSED SITUATION variant {} never reached `{}` ({}) on any of its {} \
                 seeds: the run does not exercise what the scenario claims; run more seeds \
                 or widen the faults and workload",
                v.variant, t.situation, t.description, v.seeds
            );
        }
    }
    s
}

/// The Markdown table of situations by variant, and a list item per one never reached.
pub fn markdown(summaries: &[VariantSummary]) -> String {
    let names = names(summaries);
    let mut s = String::new();
    if names.is_empty() {
        return s;
    }
    let variants: Vec<&str> = summaries.iter().map(|v| v.variant.as_str()).collect();
    let _ = writeln!(s, "\n| situation | {} |", variants.join(" | "));
    let _ = writeln!(s, "|---|{}", "---|".repeat(variants.len()));
    for n in &names {
        let cells: Vec<String> = summaries
            .iter()
            .map(|v| {
                let c = cell(v, n);
                if c.ends_with('!') {
                    format!("**{}** (never)", c.trim_end_matches('!'))
                } else {
                    c
                }
            })
            .collect();
        let _ = writeln!(s, "| {n} | {} |", cells.join(" | "));
    }
    if let Some(note) = sim_note(summaries) {
        let _ = writeln!(s, "\n{note}");
    }
    for v in summaries {
        for t in v.missed_situations() {
            let _ = writeln!(
                s,
                "\n- `{}` never reached situation `{}` ({}) on its {} seeds",
                v.variant, t.situation, t.description, v.seeds
            );
        }
    }
    s
}

/// The situations counted on one seed, for a replay's report (`None` when the scenario
/// declares none). One seed need not reach them all: a replay never fails for that.
pub fn of_seed(result: &SeedResult) -> Option<String> {
    if result.situations.is_empty() {
        return None;
    }
    let parts: Vec<String> = result
        .situations
        .iter()
        .map(|(name, n)| format!("{name} x{n}"))
        .collect();
    Some(parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::SituationTally;

    fn summary(variant: &str, seeds_hit: usize) -> VariantSummary {
        VariantSummary {
            variant: variant.into(),
            seeds: 8,
            invariants: vec![],
            unfinished: 0,
            situations: vec![SituationTally {
                situation: "lost_answer".into(),
                description: "an answer was lost".into(),
                seeds: seeds_hit,
                occurrences: seeds_hit * 2,
                first_seed: (seeds_hit > 0).then_some(3),
                required: true,
            }],
            sim_ms: 0,
            wall_us: 0,
        }
    }

    #[test]
    fn counts_and_misses_are_shown_in_text_and_markdown() {
        let all = [summary("naive", 5), summary("fixed", 0)];
        let t = text(&all);
        assert!(
            t.contains("lost_answer") && t.contains("5/8") && t.contains("0/8!"),
            "{t}"
        );
        assert!(
            t.contains("MISSED SITUATION variant fixed never reached `lost_answer`"),
            "{t}"
        );
        assert!(!t.contains("variant naive never"), "{t}");
        assert_eq!(verdict(&all[0]), "as expected");
        assert_eq!(verdict(&all[1]), "NOT EXERCISED");
        assert!(!all[1].as_expected() && all[1].verdicts_as_expected());
        let m = markdown(&all);
        assert!(m.contains("| lost_answer | 5/8 | **0/8** (never) |"), "{m}");
        assert!(
            m.contains("`fixed` never reached situation `lost_answer`"),
            "{m}"
        );
        assert!(text(&[]).is_empty() && markdown(&[]).is_empty());
    }

    #[test]
    fn a_situation_this_backend_cannot_reach_is_shown_but_not_required() {
        let mut off = summary("fixed", 0);
        off.situations[0] = off.situations[0].clone().not_required();
        let all = [summary("naive", 5), off];
        assert!(!all[1].situations[0].missed());
        assert!(all[0].situations[0].required && !all[0].situations[0].missed());
        assert!(summary("x", 0).situations[0].missed());
        assert_eq!(verdict(&all[1]), "as expected");
        assert!(all[1].as_expected());
        let t = text(&all);
        assert!(t.contains("0/8 sim") && !t.contains("0/8!"), "{t}");
        assert!(
            t.contains("sim: needs faults only the simulator makes"),
            "{t}"
        );
        assert!(!t.contains("MISSED SITUATION"), "{t}");
        let m = markdown(&all);
        assert!(m.contains("| lost_answer | 5/8 | 0/8 sim |"), "{m}");
        assert!(
            m.contains("not required on this backend") && !m.contains("never"),
            "{m}"
        );
        // Reached or not, a required situation shows no note.
        assert!(!text(&[summary("naive", 5)]).contains("sim:"));
    }
}
