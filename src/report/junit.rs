//! JUnit XML for CI systems: a test case per (variant, invariant) and per (variant,
//! situation the run must reach).

use std::fmt::Write as _;

use super::summary::RunDoc;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Renders one `<testsuite>` per scenario.
pub fn render(docs: &[RunDoc]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"faultline\">\n",
    );
    for d in docs {
        let cases: Vec<_> = d
            .variants
            .iter()
            .flat_map(|v| v.invariants.iter().map(move |t| (v, t)))
            .collect();
        let situations: Vec<_> = d.variants.iter().flat_map(|v| &v.situations).collect();
        let failures = cases.iter().filter(|(_, t)| !t.as_expected()).count()
            + situations.iter().filter(|t| t.missed()).count();
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">",
            esc(&d.scenario),
            cases.len() + situations.len(),
            d.wall_ms as f64 / 1000.0
        );
        for (v, t) in cases {
            let _ = write!(
                s,
                "    <testcase classname=\"{}.{}\" name=\"{}\"",
                esc(&d.scenario),
                esc(&v.variant),
                esc(&t.invariant)
            );
            if t.as_expected() {
                s.push_str("/>\n");
                continue;
            }
            let message = if t.expected && t.violated == 0 {
                format!(
                    "expected a violation of {} but it held on all {} seeds",
                    t.invariant, v.seeds
                )
            } else if t.unexpected > 0 {
                format!(
                    "violated on {} of {} seeds, {} of them under a profile that does not \
                     allow it",
                    t.violated, v.seeds, t.unexpected
                )
            } else {
                format!("violated on {} of {} seeds", t.violated, v.seeds)
            };
            let detail = d
                .failures
                .iter()
                .find(|f| f.variant == v.variant && f.verdict.invariant == t.invariant)
                .map(|f| {
                    let why = f
                        .verdict
                        .violation
                        .as_ref()
                        .map_or(String::new(), |x| x.explanation.clone());
                    format!("seed {}: {why}\nreplay: {}", f.seed, f.replay)
                })
                .unwrap_or_default();
            let _ = writeln!(
                s,
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                esc(&message),
                esc(&detail)
            );
        }
        for v in &d.variants {
            for t in &v.situations {
                let _ = write!(
                    s,
                    "    <testcase classname=\"{}.{}\" name=\"situation:{}\"",
                    esc(&d.scenario),
                    esc(&v.variant),
                    esc(&t.situation)
                );
                if !t.missed() {
                    s.push_str("/>\n");
                } else {
                    let _ = writeln!(
                        s,
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                        esc(&format!(
                            "situation {} never occurred on any of {} seeds",
                            t.situation, v.seeds
                        )),
                        esc(&t.description)
                    );
                }
            }
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(required: bool, seeds: usize) -> RunDoc {
        let tally = json!({"situation": "lost_answer", "description": "an answer was lost",
            "seeds": seeds, "occurrences": seeds, "first_seed": null, "required": required});
        serde_json::from_value(json!({
            "format": 1, "scenario": "s", "path": "s.toml", "as_expected": true,
            "wall_ms": 1500, "jobs": 1, "failures": [],
            "variants": [{"variant": "fixed", "seeds": 8, "invariants": [],
                "situations": [tally], "unfinished": 0, "sim_ms": 0, "wall_us": 0}]
        }))
        .unwrap()
    }

    #[test]
    fn a_missed_situation_fails_only_when_the_run_had_to_reach_it() {
        let missed = render(&[doc(true, 0)]);
        assert!(missed.contains("failures=\"1\" time=\"1.500\""), "{missed}");
        assert!(
            missed.contains("situation lost_answer never occurred on any of 8 seeds"),
            "{missed}"
        );
        for (required, seeds) in [(false, 0), (true, 2), (false, 2)] {
            let x = render(&[doc(required, seeds)]);
            assert!(x.contains("failures=\"0\""), "{x}");
            assert!(x.contains("name=\"situation:lost_answer\"/>"), "{x}");
        }
        // An older document without the field keeps the situation required.
        let mut old = serde_json::to_value(doc(true, 0)).unwrap();
        old["variants"][0]["situations"][0]
            .as_object_mut()
            .unwrap()
            .remove("required");
        let old: RunDoc = serde_json::from_value(old).unwrap();
        assert!(old.variants[0].situations[0].required);
    }
}
