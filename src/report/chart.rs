//! Small line charts as standalone SVG: one line per series, a log2 x axis for client
//! counts, a linear y axis.

use std::fmt::Write as _;

const W: f64 = 640.0;
const H: f64 = 400.0;
const L: f64 = 70.0;
const R: f64 = 170.0;
const T: f64 = 40.0;
const B: f64 = 50.0;
const COLORS: [&str; 6] = [
    "#dc2626", "#2563eb", "#16a34a", "#d97706", "#7c3aed", "#0891b2",
];

/// One line of a chart.
pub struct Series<'a> {
    /// Legend label.
    pub name: &'a str,
    /// (x, y) points in x order.
    pub points: Vec<(f64, f64)>,
}

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * mag)
}

fn label(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v.fract() == 0.0 || v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Renders a chart with a title and axis labels.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series<'_>]) -> String {
    let xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    let (x_min, x_max) = xs
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    let (lx0, lx1) = (x_min.max(1.0).log2(), x_max.max(2.0).log2());
    let y_max = nice_max(
        series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.0, f64::max),
    );
    let px = |x: f64| L + (x.max(1.0).log2() - lx0) / (lx1 - lx0).max(1e-9) * (W - L - R);
    let py = |y: f64| H - B - y / y_max * (H - T - B);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="system-ui, sans-serif" font-size="12"><rect width="{W}" height="{H}" fill="#fff"/>"##
    );
    let _ = write!(
        s,
        r##"<text x="{L}" y="22" font-size="15" font-weight="600" fill="#111827">{title}</text>"##
    );
    for i in 0..=5 {
        let y = y_max * i as f64 / 5.0;
        let _ = write!(
            s,
            r##"<line x1="{L}" x2="{:.1}" y1="{1:.1}" y2="{1:.1}" stroke="#e5e7eb"/><text x="{2:.1}" y="{3:.1}" text-anchor="end" fill="#4b5563">{4}</text>"##,
            W - R,
            py(y),
            L - 6.0,
            py(y) + 4.0,
            label(y)
        );
    }
    let mut x = 2f64.powf(lx0.floor());
    while x <= x_max * 1.0001 {
        if x >= x_min * 0.999 {
            let _ = write!(
                s,
                r##"<line x1="{0:.1}" x2="{0:.1}" y1="{1}" y2="{2:.1}" stroke="#f3f4f6"/><text x="{0:.1}" y="{3:.1}" text-anchor="middle" fill="#4b5563">{4}</text>"##,
                px(x),
                T,
                H - B,
                H - B + 16.0,
                label(x)
            );
        }
        x *= 2.0;
    }
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#111827">{x_label}</text>"##,
        L + (W - L - R) / 2.0,
        H - 12.0
    );
    let _ = write!(
        s,
        r##"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle" fill="#111827">{y_label}</text>"##,
        T + (H - T - B) / 2.0
    );
    for (i, ser) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let path: Vec<String> = ser
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        for &(x, y) in &ser.points {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"><title>{}: {} clients, {}</title></circle>"#,
                px(x),
                py(y),
                ser.name,
                x,
                label(y)
            );
        }
        let ly = T + 10.0 + i as f64 * 20.0;
        let _ = write!(
            s,
            r##"<line x1="{0:.1}" x2="{1:.1}" y1="{ly:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="3"/><text x="{2:.1}" y="{3:.1}" fill="#111827">{4}</text>"##,
            W - R + 14.0,
            W - R + 34.0,
            W - R + 40.0,
            ly + 4.0,
            ser.name
        );
    }
    s.push_str("</svg>\n");
    s
}
