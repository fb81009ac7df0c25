//! A self-contained HTML timeline of one run: a lane per host, each operation a bar from
//! invoke to completion coloured by outcome, faults as bands across the lanes they cut,
//! and the operations a violation names outlined. No scripts or files outside the page.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::check::secs;
use crate::history::{EntryType, History};
use crate::plan::Plan;
use crate::runner::{Loaded, SeedResult};
use crate::sim::RunOutput;

const WIDTH: f64 = 1100.0;
const LEFT: f64 = 110.0;
const ROW: f64 = 22.0;
const LANE_GAP: f64 = 10.0;

/// Escapes text for HTML and SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

struct Band {
    start: u64,
    end: u64,
    hosts: Vec<String>,
    label: String,
    class: &'static str,
}

/// Pairs fault events into bands (start verb with its ending verb on the same hosts).
fn bands(history: &History, end_us: u64) -> (Vec<Band>, Vec<(u64, String)>) {
    let mut open: BTreeMap<(String, String), (u64, Value)> = BTreeMap::new();
    let mut out = Vec::new();
    let mut marks = Vec::new();
    let hosts_of = |v: &Value| -> Vec<String> {
        ["a", "b", "from", "to", "client", "server"]
            .iter()
            .filter_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
            .collect()
    };
    let family = |f: &str| -> Option<(&'static str, bool)> {
        Some(match f {
            "partition" => ("partition", true),
            "repair" => ("partition", false),
            "partition_oneway" => ("oneway", true),
            "repair_oneway" => ("oneway", false),
            "hold" => ("hold", true),
            "release" => ("hold", false),
            "slow" => ("slow", true),
            "restore" => ("slow", false),
            "disconnect" => ("offline", true),
            "reconnect" => ("offline", false),
            "outage" => ("outage", true),
            "recover" => ("outage", false),
            _ => return None,
        })
    };
    for e in history
        .entries
        .iter()
        .filter(|e| e.kind == EntryType::Fault)
    {
        match family(&e.f) {
            Some((fam, true)) => {
                let key = (fam.to_string(), hosts_of(&e.value).join("|"));
                open.insert(key, (e.time_us, e.value.clone()));
            }
            Some((fam, false)) => {
                let key = (fam.to_string(), hosts_of(&e.value).join("|"));
                if let Some((start, v)) = open.remove(&key) {
                    out.push(band(fam, start, e.time_us, &v, hosts_of(&v)));
                }
            }
            None => marks.push((e.time_us, format!("{} {}", e.f, e.value))),
        }
    }
    // Faults still active when the run ended, or healed by the liveness phase.
    let healed = marks
        .iter()
        .find(|(_, m)| m.starts_with("liveness"))
        .map_or(end_us, |(t, _)| *t);
    for ((fam, _), (start, v)) in open {
        let fam: &'static str = match fam.as_str() {
            "partition" => "partition",
            "oneway" => "oneway",
            "hold" => "hold",
            "offline" => "offline",
            "outage" => "outage",
            _ => "slow",
        };
        out.push(band(fam, start, healed, &v, hosts_of(&v)));
    }
    (out, marks)
}

fn band(fam: &'static str, start: u64, end: u64, v: &Value, hosts: Vec<String>) -> Band {
    let label = match fam {
        "oneway" => format!(
            "answers from {} to {} lost",
            v["from"].as_str().unwrap_or("?"),
            v["to"].as_str().unwrap_or("?")
        ),
        "slow" => format!(
            "{} ms latency {}-{}",
            v["ms"],
            v["a"].as_str().unwrap_or("?"),
            v["b"].as_str().unwrap_or("?")
        ),
        "offline" => format!("{} offline", v["client"].as_str().unwrap_or("?")),
        "outage" => format!(
            "{} interrupted ({})",
            v["server"].as_str().unwrap_or("?"),
            if v["drop"] == true {
                "connections dropped"
            } else {
                "503 to every request"
            }
        ),
        other => format!(
            "{other} {}-{}",
            v["a"].as_str().unwrap_or("?"),
            v["b"].as_str().unwrap_or("?")
        ),
    };
    Band {
        start,
        end,
        hosts,
        label,
        class: fam,
    }
}

/// Renders the page.
pub fn html(loaded: &Loaded, plan: &Plan, result: &SeedResult, out: &RunOutput) -> String {
    let history = &out.history;
    let ops = history.operations();
    let end_us = history
        .entries
        .iter()
        .map(|e| e.time_us)
        .max()
        .unwrap_or(0)
        .max(1);
    let x = |t: u64| LEFT + (t as f64 / end_us as f64) * (WIDTH - LEFT - 20.0);

    let mut lanes: Vec<String> = plan.clients.iter().map(|c| c.name.clone()).collect();
    lanes.extend(["store".to_string(), "auth".to_string()]);
    // Greedy rows inside a lane so overlapping operations (double submits) stay visible.
    let mut rows_in_lane: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut placed = Vec::new();
    for op in &ops {
        let start = op.invoke.time_us;
        let end = op.completion.map_or(end_us, |c| c.time_us);
        let rows = rows_in_lane.entry(op.invoke.process.as_str()).or_default();
        let row = rows
            .iter()
            .position(|&free| free <= start)
            .unwrap_or_else(|| {
                rows.push(0);
                rows.len() - 1
            });
        rows[row] = end + 1;
        placed.push((op, row, start, end));
    }
    let mut lane_y = BTreeMap::new();
    let mut y = 40.0;
    for lane in &lanes {
        let rows = rows_in_lane
            .get(lane.as_str())
            .map_or(1, |r| r.len().max(1));
        lane_y.insert(lane.clone(), (y, rows as f64 * ROW));
        y += rows as f64 * ROW + LANE_GAP;
    }
    let height = y + 30.0;

    let witnesses: Vec<usize> = result
        .verdicts
        .iter()
        .filter_map(|v| v.violation.as_ref())
        .flat_map(|v| v.ops.iter().map(|w| w.index))
        .collect();

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="system-ui, sans-serif" font-size="12">"#
    );
    // Time axis.
    let step = nice_step(end_us);
    let mut t = 0;
    while t <= end_us {
        let _ = write!(
            svg,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="28" y2="{1:.1}" stroke="#e5e7eb"/><text x="{0:.1}" y="22" text-anchor="middle" fill="#6b7280">{2}</text>"##,
            x(t),
            height - 20.0,
            secs(t)
        );
        t += step;
    }
    for lane in &lanes {
        let (ly, lh) = lane_y[lane];
        let _ = write!(
            svg,
            r##"<rect x="0" y="{ly:.1}" width="{WIDTH}" height="{lh:.1}" fill="#f9fafb"/><text x="8" y="{:.1}" fill="#111827" font-weight="600">{}</text>"##,
            ly + 15.0,
            esc(lane)
        );
    }
    let (bands, marks) = bands(history, end_us);
    for b in &bands {
        for host in &b.hosts {
            let Some(&(ly, lh)) = lane_y.get(host) else {
                continue;
            };
            let _ = write!(
                svg,
                r#"<rect class="band {}" x="{:.1}" y="{ly:.1}" width="{:.1}" height="{lh:.1}"><title>{} from {} to {}</title></rect>"#,
                b.class,
                x(b.start),
                (x(b.end) - x(b.start)).max(2.0),
                esc(&b.label),
                secs(b.start),
                secs(b.end)
            );
        }
    }
    for (t, label) in &marks {
        let _ = write!(
            svg,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="30" y2="{1:.1}" stroke="#7c3aed" stroke-dasharray="4 3"><title>{2} at {3}</title></line>"##,
            x(*t),
            height - 20.0,
            esc(label),
            secs(*t)
        );
    }
    for (op, row, start, end) in &placed {
        let Some(&(ly, _)) = lane_y.get(&op.invoke.process) else {
            continue;
        };
        let by = ly + *row as f64 * ROW + 3.0;
        let outcome = match op.completion.map(|c| c.kind) {
            Some(EntryType::Ok) => "ok",
            Some(EntryType::Fail) => "fail",
            _ => "info",
        };
        let flagged = if witnesses.contains(&op.invoke.index) {
            " witness"
        } else {
            ""
        };
        let err = op
            .completion
            .and_then(|c| c.error.as_ref())
            .map_or(String::new(), |e| format!("\nerror: {}", e.message));
        let tip = format!(
            "#{} {} {} {} .. {}\ninvoke: {}\nresult: {}{err}",
            op.invoke.index,
            op.invoke.process,
            op.invoke.f,
            secs(*start),
            op.completion.map_or("never".into(), |c| secs(c.time_us)),
            op.invoke.value,
            op.result()
        );
        let w = (x(*end) - x(*start)).max(3.0);
        let label = format!("{} #{}", op.invoke.f, op.invoke.op.unwrap_or(0));
        // A label only where it fits; the tooltip carries it for short bars.
        let text = if w > label.len() as f64 * 6.5 + 6.0 {
            format!(
                r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                x(*start) + 4.0,
                by + 12.0,
                esc(&label)
            )
        } else {
            String::new()
        };
        let _ = write!(
            svg,
            r#"<g class="op {outcome}{flagged}"><rect x="{:.1}" y="{by:.1}" width="{w:.1}" height="{:.1}" rx="3"/>{text}<title>{}</title></g>"#,
            x(*start),
            ROW - 6.0,
            esc(&tip)
        );
    }
    svg.push_str("</svg>");

    let mut verdicts = String::new();
    for v in &result.verdicts {
        match &v.violation {
            None => {
                let _ = write!(
                    verdicts,
                    r#"<li class="holds"><b>{}</b> holds</li>"#,
                    esc(&v.invariant)
                );
            }
            Some(viol) => {
                let _ = write!(
                    verdicts,
                    r#"<li class="violated"><b>{}</b> violated: {}</li>"#,
                    esc(&v.invariant),
                    esc(&viol.explanation)
                );
            }
        }
    }
    let knobs: Vec<String> = plan
        .knobs
        .iter()
        .map(|(k, v)| crate::report::text::knob(k, v))
        .collect();
    format!(
        r##"<!doctype html>
<html><head><meta charset="utf-8"><title>faultline {name} {variant} seed {seed}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #111827; }}
h1 {{ font-size: 18px; margin: 0 0 4px; }}
.meta {{ color: #4b5563; font-size: 13px; margin-bottom: 8px; }}
ul {{ margin: 6px 0 12px; padding-left: 18px; font-size: 13px; }}
li.violated {{ color: #991b1b; }} li.holds {{ color: #166534; }}
.legend span {{ display: inline-block; margin-right: 14px; font-size: 12px; }}
.legend i {{ display: inline-block; width: 14px; height: 10px; margin-right: 4px; vertical-align: middle; border-radius: 2px; }}
.op rect {{ stroke: none; }} .op text {{ fill: #fff; pointer-events: none; font-size: 11px; }}
.op.ok rect {{ fill: #16a34a; }} .op.fail rect {{ fill: #dc2626; }} .op.info rect {{ fill: #d97706; }}
.op.witness rect {{ stroke: #111827; stroke-width: 3; }}
.op:hover rect {{ filter: brightness(1.25); }}
.band {{ opacity: 0.35; }} .band.partition {{ fill: #9ca3af; }} .band.oneway {{ fill: #60a5fa; }}
.band.hold {{ fill: #f472b6; }} .band.slow {{ fill: #fde047; }}
.band.offline {{ fill: #6b7280; }} .band.outage {{ fill: #f87171; }}
</style></head><body>
<h1>{name} &middot; variant {variant} &middot; seed {seed}</h1>
<div class="meta">history {hash} &middot; {ops} operations &middot; simulated {sim} &middot; {knobs}</div>
<ul>{verdicts}</ul>
<div class="legend"><span><i style="background:#16a34a"></i>ok</span><span><i style="background:#dc2626"></i>fail</span><span><i style="background:#d97706"></i>info (unknown)</span><span><i style="outline:3px solid #111827;background:#fff"></i>named by a violation</span><span><i style="background:#9ca3af;opacity:.5"></i>partition</span><span><i style="background:#60a5fa;opacity:.5"></i>answers lost</span><span><i style="background:#f472b6;opacity:.5"></i>held</span><span><i style="background:#fde047;opacity:.6"></i>slow link</span><span><i style="background:#6b7280;opacity:.5"></i>offline</span><span><i style="background:#f87171;opacity:.5"></i>service interrupted</span><span><i style="background:#7c3aed"></i>revocation / phase</span></div>
{svg}
<p class="meta">Hover a bar for its arguments and result. Replay: <code>{replay}</code></p>
</body></html>
"##,
        name = esc(&plan.scenario),
        variant = esc(&plan.variant),
        seed = plan.seed,
        hash = result.history_hash,
        ops = ops.len(),
        sim = secs(end_us),
        knobs = esc(&knobs.join(" ")),
        replay = esc(&crate::report::text::replay_command(
            &loaded.scenario.path.to_string_lossy(),
            &plan.variant,
            plan.seed,
            Loaded::profile_of(&plan.knobs),
        )),
    )
}

/// A tick spacing that gives 5 to 12 labels.
fn nice_step(end_us: u64) -> u64 {
    [
        100_000u64, 250_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 30_000_000,
    ]
    .into_iter()
    .find(|s| end_us / s <= 12)
    .unwrap_or(60_000_000)
}
