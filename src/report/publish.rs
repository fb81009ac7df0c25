//! `faultline report`: conflict and retry statistics per scenario and variant, and the
//! backoff-policy sweep, written as JSON, Markdown, SVG charts and one HTML page.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::chart::{line_chart, Series};
use super::stats::{self, Target, VariantStats};
use super::sweep::{self, SweepConfig, SweepPoint};
use crate::client::retry::Backoff;
use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// A progress callback: (runs done, runs in all).
pub type Tick = Box<dyn Fn(usize, usize) + Sync>;

/// The format of `report.json` this build writes.
pub const REPORT_FORMAT: u32 = 1;

/// One scenario's statistics.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// Scenario name.
    pub scenario: String,
    /// Per variant, with the seed document's targets where it states them.
    pub variants: Vec<(VariantStats, Vec<Target>)>,
}

/// Everything `faultline report` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Format version.
    pub format: u32,
    /// Per scenario.
    pub scenarios: Vec<ScenarioReport>,
    /// Sweep settings.
    pub sweep_config: SweepConfig,
    /// Sweep results.
    pub sweep: Vec<SweepPoint>,
}

/// Measures everything: `seeds` seeds per variant of each scenario, then the sweep, unless
/// `sweep_cfg` names no client counts (a system of the user's own may have no sweep).
pub fn measure(
    registry: &crate::system::Registry,
    scenarios: &[Scenario],
    seeds: u64,
    sweep_cfg: SweepConfig,
    jobs: usize,
    progress: &dyn Fn(&str) -> Tick,
) -> Result<Report> {
    let mut out = Vec::new();
    for scenario in scenarios {
        let name = scenario.file.name.clone();
        let tick = progress(&name);
        let variants = stats::collect(registry, scenario, seeds, jobs, tick.as_ref())?;
        let variants: Vec<(VariantStats, Vec<Target>)> = variants
            .into_iter()
            .map(|v| {
                let t = stats::targets(&name, &v);
                (v, t)
            })
            .collect();
        out.push(ScenarioReport {
            scenario: name,
            variants,
        });
    }
    let points = if sweep_cfg.clients.is_empty() {
        Vec::new()
    } else {
        let tick = progress("backoff sweep");
        let contention = registry.sweep_system_factory().ok_or_else(|| {
            crate::Error::Usage(
                "no system is registered for the backoff sweep (Registry::sweep_system)".into(),
            )
        })?;
        sweep::run(contention, &sweep_cfg, jobs, tick.as_ref())?
    };
    Ok(Report {
        format: REPORT_FORMAT,
        scenarios: out,
        sweep_config: sweep_cfg,
        sweep: points,
    })
}

fn series<'a>(points: &'a [SweepPoint], f: impl Fn(&SweepPoint) -> f64) -> Vec<Series<'a>> {
    Backoff::ALL
        .iter()
        .map(|b| Series {
            name: b.name(),
            points: points
                .iter()
                .filter(|p| p.policy == b.name())
                .map(|p| (p.clients as f64, f(p)))
                .collect(),
        })
        .collect()
}

/// The three charts, as (file name, SVG); none without a sweep.
pub fn charts(r: &Report) -> Vec<(&'static str, String)> {
    let p = &r.sweep;
    if p.is_empty() {
        return Vec::new();
    }
    vec![
        (
            "sweep-attempts.svg",
            line_chart(
                "Total guarded writes until every client saved",
                "contending clients",
                "writes per run",
                &series(p, |x| x.attempts),
            ),
        ),
        (
            "sweep-completion.svg",
            line_chart(
                "Time until the last client saved",
                "contending clients",
                "simulated ms",
                &series(p, |x| x.completion_ms),
            ),
        ),
        (
            "sweep-conflicts.svg",
            line_chart(
                "Share of writes that hit a version conflict",
                "contending clients",
                "conflict rate",
                &series(p, |x| x.conflict_rate),
            ),
        ),
    ]
}

fn at<'a>(points: &'a [SweepPoint], policy: &str, clients: u64) -> Option<&'a SweepPoint> {
    points
        .iter()
        .find(|p| p.policy == policy && p.clients == clients)
}

/// Growth exponent of total writes between the smallest and largest client counts
/// (2 means quadratic).
fn exponent(points: &[SweepPoint], policy: &str, lo: u64, hi: u64) -> Option<f64> {
    let (a, b) = (at(points, policy, lo)?, at(points, policy, hi)?);
    Some((b.attempts / a.attempts).ln() / (hi as f64 / lo as f64).ln())
}

/// The paragraph comparing our measurements with the classic published result on
/// optimistic concurrency and backoff; every claim is computed from the sweep.
pub fn comparison(r: &Report) -> String {
    let p = &r.sweep;
    let (Some(lo), Some(hi)) = (
        r.sweep_config.clients.iter().min().copied(),
        r.sweep_config.clients.iter().max().copied(),
    ) else {
        return String::new();
    };
    let get = |policy: &str| at(p, policy, hi);
    let (Some(none), Some(exp), Some(full), Some(equal), Some(dec)) = (
        get("none"),
        get("exponential"),
        get("full_jitter"),
        get("equal_jitter"),
        get("decorrelated_jitter"),
    ) else {
        return String::new();
    };
    let mut s = String::new();
    let jitter_best = full.attempts.min(equal.attempts).min(dec.attempts);
    let _ = write!(
        s,
        "At {hi} contending clients, full jitter needed {:.0} writes per run against {:.0} for plain exponential backoff ({:.0}% fewer) and {:.0} with no backoff; equal jitter {:.0}, decorrelated jitter {:.0}. ",
        full.attempts,
        exp.attempts,
        100.0 * (1.0 - full.attempts / exp.attempts),
        none.attempts,
        equal.attempts,
        dec.attempts
    );
    let saved = 100.0 * (1.0 - jitter_best / exp.attempts);
    let _ = write!(
        s,
        "The published result says jitter roughly halves the work under heavy contention; the best jitter policy here needed {saved:.0}% fewer writes than plain exponential, {}. ",
        if saved >= 40.0 { "close to that" } else { "well short of that" }
    );
    let slowest = [exp, full, equal, dec]
        .into_iter()
        .max_by(|a, b| a.completion_ms.total_cmp(&b.completion_ms))
        .map(|x| x.policy.clone())
        .unwrap_or_default();
    let _ = write!(
        s,
        "It also says plain exponential backoff is the clear loser; among the backoff policies the slowest to finish was {slowest} ({:.0} ms for exponential, {:.0} ms for full jitter), and exponential sent the {} writes. ",
        exp.completion_ms,
        full.completion_ms,
        if exp.attempts >= full.attempts.max(equal.attempts).max(dec.attempts) { "most" } else { "not the most" }
    );
    let exps: Vec<(&str, f64)> = Backoff::ALL
        .iter()
        .filter_map(|b| exponent(p, b.name(), lo, hi).map(|e| (b.name(), e)))
        .collect();
    let listed: Vec<String> = exps.iter().map(|(n, e)| format!("{n} {e:.2}")).collect();
    let (min, max) = exps.iter().fold((f64::MAX, f64::MIN), |(a, b), (_, e)| {
        (a.min(*e), b.max(*e))
    });
    let shape = if min > 1.2 {
        "faster than linearly for every policy, so no policy removes the superlinear growth of total work"
    } else {
        "about linearly for some policy, which does not match the published result"
    };
    let _ = write!(
        s,
        "Finally, from {lo} to {hi} clients total writes grew {shape}: as clients to the power {} ({min:.2} to {max:.2}, where 2 is the quadratic growth the published result describes).",
        listed.join(", ")
    );
    s
}

/// Markdown for humans and CI summaries.
pub fn markdown(r: &Report) -> String {
    let mut s = String::from("# faultline conflict and retry report\n\n");
    let _ = writeln!(
        s,
        "Generated by `faultline report`; every number below comes from simulated runs.\n"
    );
    for sc in &r.scenarios {
        let seeds = sc.variants.first().map_or(0, |v| v.0.seeds);
        let _ = writeln!(s, "## `{}` ({seeds} seeds per variant)\n", sc.scenario);
        let _ = writeln!(s, "| variant | ops | ok | fail | info | writes | version conflicts | unique violations | retried | retry success | give-ups | p50 ms | p99 ms |");
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (v, _) in &sc.variants {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                v.variant,
                v.operations,
                v.ok,
                v.fail,
                v.info,
                v.attempts,
                v.version_conflicts,
                v.unique_violations,
                v.retried,
                // No retry, no rate: a 100% over nothing would read as a result.
                if v.retried == 0 {
                    "-".to_string()
                } else {
                    format!("{:.1}%", 100.0 * v.retry_success_rate())
                },
                v.give_ups,
                v.latency_p50_ms,
                v.latency_p99_ms
            );
        }
        let _ = writeln!(
            s,
            "\nRetries per operation (operations that made 0, 1, 2, 3, 4 or more retries):\n"
        );
        for (v, _) in &sc.variants {
            let h: Vec<String> = (0..=4)
                .map(|k| {
                    v.retries_histogram
                        .get(&k)
                        .copied()
                        .unwrap_or(0)
                        .to_string()
                })
                .collect();
            let _ = writeln!(s, "- {}: {}", v.variant, h.join(" / "));
        }
        if sc.variants.iter().any(|(_, t)| !t.is_empty()) {
            let _ = writeln!(
                s,
                "\nThe seed document's own targets, at the scenario's default load:\n"
            );
            let _ = writeln!(s, "| variant | target | bound | measured | met |");
            let _ = writeln!(s, "|---|---|---|---|---|");
            for (v, ts) in &sc.variants {
                for t in ts {
                    let value = if t.metric.contains("rate") {
                        format!("{:.1}%", 100.0 * t.value)
                    } else {
                        format!("{:.2}", t.value)
                    };
                    let _ = writeln!(
                        s,
                        "| {} | {} | {} | {value} | {} |",
                        v.variant,
                        t.metric,
                        t.bound,
                        if t.met { "yes" } else { "**no**" }
                    );
                }
            }
        }
        s.push('\n');
    }
    if r.sweep.is_empty() {
        return s;
    }
    let c = &r.sweep_config;
    let _ = writeln!(s, "## Backoff policies under contention\n");
    let _ = writeln!(s, "Every client saves the same card once with a version check and retries after a conflict (base {} ms, cap {} ms), {} seeds per point.\n", c.base_ms, c.cap_ms, c.seeds);
    let _ = writeln!(
        s,
        "| clients | policy | writes per run | completion ms | conflict rate | gave up |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for p in &r.sweep {
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} | {:.0} | {:.1}% | {:.1} |",
            p.clients,
            p.policy,
            p.attempts,
            p.completion_ms,
            100.0 * p.conflict_rate,
            p.gave_up
        );
    }
    let _ = writeln!(s, "\n![writes](sweep-attempts.svg)\n![completion](sweep-completion.svg)\n![conflicts](sweep-conflicts.svg)\n");
    let _ = writeln!(s, "{}\n", comparison(r));
    s
}

/// One HTML page holding the charts and the Markdown's numbers.
pub fn html(r: &Report) -> String {
    let charts: String = charts(r)
        .into_iter()
        .map(|(_, svg)| format!("<figure>{svg}</figure>"))
        .collect();
    let body = markdown(r)
        .lines()
        .filter(|l| !l.starts_with("!["))
        .map(|l| format!("{}\n", l.replace('&', "&amp;").replace('<', "&lt;")))
        .collect::<String>();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>faultline report</title><style>body{{font-family:system-ui,sans-serif;margin:24px;max-width:1100px}}figure{{display:inline-block;margin:8px}}pre{{white-space:pre-wrap;font-size:13px}}</style></head><body><h1>faultline conflict and retry report</h1><p>{}</p>{charts}<pre>{body}</pre></body></html>\n",
        comparison(r).replace('&', "&amp;").replace('<', "&lt;")
    )
}

/// Writes `report.json`, `report.md`, the charts and `index.html` into `dir`.
pub fn write(r: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<(String, String)> = vec![
        (
            "report.json".into(),
            serde_json::to_string_pretty(r).expect("reports serialise") + "\n",
        ),
        ("report.md".into(), markdown(r)),
        ("index.html".into(), html(r)),
    ];
    files.extend(charts(r).into_iter().map(|(n, s)| (n.to_string(), s)));
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}
