//! A self-contained HTML page for a checked history, in the style of the run timelines: a
//! lane per process, each operation a bar from invoke to completion, the longest
//! consistent order numbered, the operation that breaks it highlighted, failed operations
//! greyed, unknown ones open-ended, and nemesis events as bands across the lanes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::input::{Fault, Parsed};
use super::{witness, Outcome, Status};

const LEFT: f64 = 110.0;
const ROW: f64 = 22.0;
const LANE_GAP: f64 = 8.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Verbs that begin and end a nemesis fault, as Jepsen's nemeses name them.
fn opens(f: &str) -> bool {
    matches!(
        f,
        "start" | "partition" | "kill" | "pause" | "hold" | "slow" | "disconnect" | "outage"
    )
}

fn closes(f: &str) -> bool {
    matches!(
        f,
        "stop"
            | "heal"
            | "repair"
            | "resume"
            | "release"
            | "restore"
            | "reconnect"
            | "recover"
            | "restart"
    )
}

/// Fault bands (start, end, label) and single events (time, label).
fn label(f: &Fault) -> String {
    if f.value == super::Value::Nil {
        f.f.clone()
    } else {
        format!("{} {}", f.f, f.value)
    }
}

/// A fault that lasted (start, end, label).
type Band = (u64, u64, String);
/// A fault at one moment (time, label).
type Mark = (u64, String);

fn bands(faults: &[Fault], end: u64) -> (Vec<Band>, Vec<Mark>) {
    let mut out = Vec::new();
    let mut marks = Vec::new();
    let mut open: Option<(u64, String)> = None;
    for f in faults {
        if opens(&f.f) {
            match &mut open {
                // Jepsen logs a fault twice (invoked, then done with its details): keep the
                // first time and the more detailed label.
                Some((_, label)) => {
                    if f.value != super::Value::Nil {
                        *label = self::label(f);
                    }
                }
                None => open = Some((f.at, self::label(f))),
            }
        } else if closes(&f.f) {
            if let Some((start, label)) = open.take() {
                out.push((start, f.at, label));
            }
        } else {
            marks.push((f.at, self::label(f)));
        }
    }
    if let Some((start, label)) = open {
        out.push((start, end, label));
    }
    (out, marks)
}

/// Orders process names numerically when they are numbers.
fn lane_order(p: &str) -> (u8, i64, String) {
    match p.parse::<i64>() {
        Ok(n) => (0, n, String::new()),
        Err(_) => (1, 0, p.to_string()),
    }
}

/// Renders the page; `title` names the history file.
pub fn render(title: &str, parsed: &Parsed, model: super::Model, outcome: &Outcome) -> String {
    let ops = &parsed.ops;
    let end = parsed.end.max(1);
    let span = (end as f64 * 7.0).clamp(1000.0, 14000.0);
    let width = LEFT + span + 20.0;
    let x = |t: u64| LEFT + (t as f64 / end as f64) * span;

    let witness = match outcome {
        Outcome::NotLinearizable(w) => Some(w.as_ref()),
        _ => None,
    };
    let order: BTreeMap<usize, usize> = witness
        .map(|w| {
            w.prefix
                .iter()
                .enumerate()
                .map(|(n, &i)| (i, n + 1))
                .collect()
        })
        .unwrap_or_default();

    let mut lanes: BTreeMap<(u8, i64, String), (String, Vec<u64>)> = BTreeMap::new();
    let mut placed = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let start = op.invoke;
        let stop = match op.status {
            Status::Info => end,
            _ => op.complete.unwrap_or(end),
        };
        let lane = lanes
            .entry(lane_order(&op.process))
            .or_insert_with(|| (op.process.clone(), Vec::new()));
        let rows = &mut lane.1;
        let row = rows
            .iter()
            .position(|&free| free <= start)
            .unwrap_or_else(|| {
                rows.push(0);
                rows.len() - 1
            });
        rows[row] = stop + 1;
        placed.push((i, lane_order(&op.process), row, start, stop));
    }
    let mut lane_y = BTreeMap::new();
    let mut y = 40.0;
    for (k, (_, rows)) in &lanes {
        let h = rows.len().max(1) as f64 * ROW;
        lane_y.insert(k.clone(), (y, h));
        y += h + LANE_GAP;
    }
    let height = y + 24.0;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" font-family="system-ui, sans-serif" font-size="12">"#
    );
    svg.push_str(r##"<defs><linearGradient id="open" x1="0" x2="1"><stop offset="0" stop-color="#d97706"/><stop offset="1" stop-color="#d97706" stop-opacity="0.08"/></linearGradient></defs>"##);
    let step = [10u64, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000]
        .into_iter()
        .find(|s| end / s <= 14)
        .unwrap_or(20_000);
    let mut t = 0;
    while t <= end {
        let _ = write!(
            svg,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="28" y2="{1:.1}" stroke="#e5e7eb"/><text x="{0:.1}" y="22" text-anchor="middle" fill="#6b7280">{2}</text>"##,
            x(t),
            height - 18.0,
            t
        );
        t += step;
    }
    for (k, (name, _)) in &lanes {
        let (ly, lh) = lane_y[k];
        let _ = write!(
            svg,
            r##"<rect x="0" y="{ly:.1}" width="{width:.0}" height="{lh:.1}" fill="#f9fafb"/><text x="8" y="{:.1}" fill="#111827" font-weight="600">process {}</text>"##,
            ly + 15.0,
            esc(name)
        );
    }
    let (bands, marks) = bands(&parsed.faults, end);
    for (start, stop, label) in &bands {
        let _ = write!(
            svg,
            r#"<rect class="band" x="{:.1}" y="30" width="{:.1}" height="{:.1}"><title>{} (lines of the history {}..{})</title></rect><text class="bandlabel" x="{:.1}" y="{:.1}">{}</text>"#,
            x(*start),
            (x(*stop) - x(*start)).max(2.0),
            height - 48.0,
            esc(label),
            start,
            stop,
            x(*start) + 3.0,
            height - 8.0,
            esc(&short(label, 60))
        );
    }
    for (t, label) in &marks {
        let _ = write!(
            svg,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="30" y2="{1:.1}" stroke="#7c3aed" stroke-dasharray="4 3"><title>{2}</title></line>"##,
            x(*t),
            height - 18.0,
            esc(label)
        );
    }
    for (i, lane, row, start, stop) in &placed {
        let op = &ops[*i];
        let (ly, _) = lane_y[lane];
        let by = ly + *row as f64 * ROW + 3.0;
        let mut class = match op.status {
            Status::Ok => "ok".to_string(),
            Status::Fail => "fail".to_string(),
            Status::Info => "info".to_string(),
        };
        if let Some(w) = witness {
            if w.breaking == *i {
                class.push_str(" breaking");
            } else if w.candidates.contains(i) {
                class.push_str(" candidate");
            }
            if w.key.is_some() && op.key != w.key {
                class.push_str(" other");
            }
        }
        let number = order.get(i).copied();
        let tip = format!(
            "{}\n{} .. {}{}",
            witness::name(ops, *i),
            start,
            match op.status {
                Status::Info => "never (unknown outcome)".to_string(),
                Status::Fail => format!("{stop} (failed: no effect)"),
                Status::Ok => stop.to_string(),
            },
            number.map_or(String::new(), |n| format!(
                "\nplaced {n} in the longest consistent order"
            )),
        );
        let w = (x(*stop) - x(*start)).max(3.0);
        let mut label = op.describe();
        if let Some(n) = number {
            label = format!("{n}. {label}");
        }
        let breaking = witness.is_some_and(|w| w.breaking == *i);
        // The breaking operation is the one a reader looks for: its label always shows,
        // beside the bar when it does not fit inside.
        let outside = breaking && w <= label.chars().count() as f64 * 6.3 + 6.0;
        let text = if w > label.chars().count() as f64 * 6.3 + 6.0 || outside {
            label
        } else {
            number.map_or(String::new(), |n| n.to_string())
        };
        let text_x = if outside {
            x(*start) + w + 4.0
        } else {
            x(*start) + 3.0
        };
        let fill = if op.status == Status::Info {
            r#" fill="url(#open)""#
        } else {
            ""
        };
        let _ = write!(
            svg,
            r#"<g class="op {class}"><rect x="{:.1}" y="{by:.1}" width="{w:.1}" height="{:.1}" rx="3"{fill}/><text x="{:.1}" y="{:.1}">{}</text><title>{}</title></g>"#,
            x(*start),
            ROW - 6.0,
            text_x,
            by + 12.0,
            esc(&text),
            esc(&tip)
        );
    }
    svg.push_str("</svg>");

    let (verdict, class) = match outcome {
        Outcome::Linearizable => ("linearizable".to_string(), "holds"),
        Outcome::NotLinearizable(w) => (format!("not linearizable: {}", w.explanation), "violated"),
        Outcome::Unknown(reason) => (format!("unknown: {reason}"), "unknown"),
    };
    let ok = ops.iter().filter(|o| o.status == Status::Ok).count();
    let info = ops.iter().filter(|o| o.status == Status::Info).count();
    let fail = ops.len() - ok - info;
    format!(
        r##"<!doctype html>
<html><head><meta charset="utf-8"><title>faultline check {title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #111827; }}
h1 {{ font-size: 18px; margin: 0 0 4px; }}
.meta {{ color: #4b5563; font-size: 13px; margin-bottom: 8px; }}
p.verdict {{ font-size: 13px; max-width: 1100px; }} .violated {{ color: #991b1b; }} .holds {{ color: #166534; }} .unknown {{ color: #92400e; }}
.legend span {{ display: inline-block; margin-right: 14px; font-size: 12px; }}
.legend i {{ display: inline-block; width: 14px; height: 10px; margin-right: 4px; vertical-align: middle; border-radius: 2px; }}
.op rect {{ stroke: none; }} .op text {{ fill: #fff; pointer-events: none; font-size: 11px; }}
.op.ok rect {{ fill: #16a34a; }} .op.fail rect {{ fill: #d1d5db; }} .op.fail text {{ fill: #6b7280; }}
.op.info text {{ fill: #78350f; }}
.op.breaking rect {{ fill: #dc2626; stroke: #111827; stroke-width: 3; }} .op.breaking text {{ fill: #991b1b; font-weight: 600; }}
.op.candidate rect {{ stroke: #111827; stroke-width: 1.5; stroke-dasharray: 4 2; }}
.op.other {{ opacity: 0.3; }}
.op:hover rect {{ filter: brightness(1.2); }}
.band {{ fill: #9ca3af; opacity: 0.28; }} .bandlabel {{ fill: #4b5563; font-size: 11px; }}
.wrap {{ overflow-x: auto; }}
</style></head><body>
<h1>{title} &middot; model {model}</h1>
<div class="meta">{format} history &middot; {n} operations ({ok} ok, {fail} failed, {info} unknown) &middot; {nf} nemesis events &middot; x axis: position in the history</div>
<p class="verdict {class}">{verdict}</p>
<div class="legend"><span><i style="background:#16a34a"></i>ok</span><span><i style="background:#d1d5db"></i>failed (no effect)</span><span><i style="background:linear-gradient(90deg,#d97706,#fff)"></i>unknown (may take effect any time after its invoke, or never)</span><span><i style="background:#dc2626;outline:2px solid #111827"></i>cannot be placed</span><span><i style="outline:1.5px dashed #111827;background:#fff"></i>open at the same time</span><span><i style="background:#9ca3af;opacity:.5"></i>nemesis fault</span><span>1. 2. 3. the longest consistent order</span></div>
<div class="wrap">{svg}</div>
<p class="meta">Hover a bar for the operation, its history line and its place in the order.</p>
</body></html>
"##,
        title = esc(title),
        format = parsed.format.name(),
        n = ops.len(),
        nf = parsed.faults.len(),
    )
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}
