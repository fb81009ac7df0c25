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
            + situations.iter().filter(|t| !t.reached()).count();
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
                if t.reached() {
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
