//! A Markdown summary fit for a CI job summary page.

use std::fmt::Write as _;

use super::summary::RunDoc;

/// Renders a table per scenario and the first failure of each unexpected verdict.
pub fn render(docs: &[RunDoc]) -> String {
    let mut s = String::new();
    for d in docs {
        let vacuous = d
            .variants
            .iter()
            .all(crate::runner::VariantSummary::verdicts_as_expected)
            && d.variants
                .iter()
                .any(|v| v.missed_situations().next().is_some());
        let mark = if d.as_expected {
            "as expected"
        } else if vacuous {
            "**a situation it must exercise never occurred**"
        } else {
            "**verdicts differ from expectations**"
        };
        let _ = writeln!(s, "### faultline: `{}` ({mark})\n", d.scenario);
        let invariants: Vec<&str> = d
            .variants
            .first()
            .map(|v| v.invariants.iter().map(|t| t.invariant.as_str()).collect())
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "| variant | seeds | {} | verdict |",
            invariants.join(" | ")
        );
        let _ = writeln!(s, "|---|---|{}---|", "---|".repeat(invariants.len()));
        for v in &d.variants {
            let cells: Vec<String> = v
                .invariants
                .iter()
                .map(|t| {
                    let cell = if t.violated == 0 {
                        "holds".to_string()
                    } else {
                        format!("caught {}/{}", t.violated, v.seeds)
                    };
                    if t.as_expected() {
                        cell
                    } else {
                        format!("**{cell}** (unexpected)")
                    }
                })
                .collect();
            let verdict = match super::situations::verdict(v) {
                "as expected" => "as expected".to_string(),
                other => format!("**{other}**"),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {verdict} |",
                v.variant,
                v.seeds,
                cells.join(" | ")
            );
        }
        s.push_str(&super::situations::markdown(&d.variants));
        for f in d.failures.iter().filter(|f| !f.expected) {
            let why = f
                .verdict
                .violation
                .as_ref()
                .map_or("", |x| x.explanation.as_str());
            let _ = writeln!(
                s,
                "\n- `{}` seed {} violates `{}`: {why}\n  replay: `{}`",
                f.variant, f.seed, f.verdict.invariant, f.replay
            );
        }
        s.push('\n');
    }
    s
}
