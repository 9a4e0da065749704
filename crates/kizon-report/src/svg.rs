//! The ROC curve as a small hand-written SVG line chart, embedded in both the PDF (Typst draws
//! SVG with the embedded fonts) and the HTML (inline `<svg>`).

use std::fmt::Write;

use crate::Lang;
use crate::format::{fixed, format_value};
use crate::labels;
use crate::model::{CurvePoint, Metric, RocCurve};

const W: f64 = 400.0;
const H: f64 = 360.0;
const LEFT: f64 = 64.0;
const TOP: f64 = 16.0;
const SIZE: f64 = 290.0;
const FONT: &str = "Noto Sans JP, Hiragino Sans, Yu Gothic, Meiryo, sans-serif";

/// Escapes text for XML character data and attribute values.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn x(fpr: f64) -> String {
    fixed(LEFT + fpr.clamp(0.0, 1.0) * SIZE, 2)
}

fn y(tpr: f64) -> String {
    fixed(TOP + (1.0 - tpr.clamp(0.0, 1.0)) * SIZE, 2)
}

/// The SVG of one ROC curve: axes with ticks every 0.2, the chance diagonal, the empirical
/// curve and the device's operating point.
pub(crate) fn roc(curve: &RocCurve, lang: Lang) -> String {
    let l = labels::labels(lang);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="{FONT}" font-size="12">"#
    );
    // Frame and grid.
    for i in 0..=5 {
        let v = i as f64 / 5.0;
        let tick = fixed(v, 1);
        let _ = write!(
            s,
            r##"<line x1="{x}" y1="{t}" x2="{x}" y2="{b}" stroke="#e3e3e3" stroke-width="1"/><line x1="{l}" y1="{y}" x2="{r}" y2="{y}" stroke="#e3e3e3" stroke-width="1"/><text x="{x}" y="{ty}" text-anchor="middle">{tick}</text><text x="{tx}" y="{yt}" text-anchor="end">{tick}</text>"##,
            x = x(v),
            y = y(v),
            t = y(1.0),
            b = y(0.0),
            l = x(0.0),
            r = x(1.0),
            ty = fixed(TOP + SIZE + 16.0, 2),
            tx = fixed(LEFT - 6.0, 2),
            yt = fixed(TOP + (1.0 - v) * SIZE + 4.0, 2),
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{SIZE}" height="{SIZE}" fill="none" stroke="#333333" stroke-width="1"/>"##
    );
    // Axis titles.
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="13">{}</text>"#,
        fixed(LEFT + SIZE / 2.0, 2),
        fixed(TOP + SIZE + 36.0, 2),
        xml_escape(l.roc_x)
    );
    let _ = write!(
        s,
        r#"<text x="0" y="0" transform="translate(20 {}) rotate(-90)" text-anchor="middle" font-size="13">{}</text>"#,
        fixed(TOP + SIZE / 2.0, 2),
        xml_escape(l.roc_y)
    );
    // Chance diagonal.
    let _ = write!(
        s,
        r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999999" stroke-width="1" stroke-dasharray="4 3"/>"##,
        x(0.0),
        y(0.0),
        x(1.0),
        y(1.0)
    );
    // The curve.
    let points: Vec<String> = curve
        .points
        .iter()
        .map(|p| format!("{},{}", x(p.fpr), y(p.tpr)))
        .collect();
    let _ = write!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#1f4e9c" stroke-width="2" stroke-linejoin="round"/>"##,
        points.join(" ")
    );
    if let Some(p) = &curve.operating_point {
        let _ = write!(
            s,
            r##"<circle cx="{}" cy="{}" r="5" fill="#c0392b" stroke="#ffffff" stroke-width="1.5"/>"##,
            x(p.fpr),
            y(p.tpr)
        );
    }
    // Legend, bottom right inside the plot.
    let lx = LEFT + SIZE * 0.42;
    let ly = TOP + SIZE * 0.70;
    let auc = format!("AUC {}", format_value(Metric::Auc, curve.auc));
    let _ = write!(
        s,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="#ffffff" stroke="#cccccc" stroke-width="0.8"/>"##,
        fixed(lx - 8.0, 2),
        fixed(ly - 14.0, 2),
        fixed(SIZE * 0.58, 2),
        if curve.operating_point.is_some() {
            62
        } else {
            44
        }
    );
    let mut row = |i: usize, mark: &str, text: &str| {
        let yy = ly + i as f64 * 18.0;
        let _ = write!(
            s,
            r#"{mark}<text x="{}" y="{}" font-size="11">{}</text>"#,
            fixed(lx + 26.0, 2),
            fixed(yy + 4.0, 2),
            xml_escape(text)
        );
    };
    row(
        0,
        &format!(
            r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#1f4e9c" stroke-width="2"/>"##,
            fixed(lx, 2),
            fixed(lx + 20.0, 2),
            y = fixed(ly, 2)
        ),
        &format!("{} ({auc})", l.device),
    );
    row(
        1,
        &format!(
            r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#999999" stroke-width="1" stroke-dasharray="4 3"/>"##,
            fixed(lx, 2),
            fixed(lx + 20.0, 2),
            y = fixed(ly + 18.0, 2)
        ),
        l.chance,
    );
    if curve.operating_point.is_some() {
        row(
            2,
            &format!(
                r##"<circle cx="{}" cy="{}" r="5" fill="#c0392b"/>"##,
                fixed(lx + 10.0, 2),
                fixed(ly + 36.0, 2)
            ),
            l.operating_point,
        );
    }
    s.push_str("</svg>");
    s
}

/// A nice upper end for an axis from 0 to at least `max`: 1, 2 or 5 × 10^k.
fn axis_end(max: f64) -> f64 {
    if !(max > 0.0 && max.is_finite()) {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= max - 1e-12 {
            return m * p;
        }
    }
    10.0 * p
}

/// A free-response curve (FROC or AFROC) as an SVG line chart: x from 0 to `x_end` (1 for the
/// AFROC; the FROC's largest NLs per case rounded up otherwise), y (the lesion localisation
/// fraction) from 0 to 1, ticks at fifths, the empirical curve and, for the AFROC, the chance
/// diagonal.
pub(crate) fn free_response(
    points: &[CurvePoint],
    unit_square: bool,
    x_label: &str,
    y_label: &str,
    legend: &str,
    chance: Option<&str>,
) -> String {
    let x_end = if unit_square {
        1.0
    } else {
        axis_end(points.iter().map(|p| p.x).fold(0.0, f64::max))
    };
    let px = |v: f64| fixed(LEFT + (v / x_end).clamp(0.0, 1.0) * SIZE, 2);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="{FONT}" font-size="12">"#
    );
    for i in 0..=5 {
        let v = i as f64 / 5.0;
        let xv = v * x_end;
        let xtick = if x_end >= 5.0 {
            fixed(xv, 0)
        } else if x_end >= 0.5 {
            fixed(xv, 1)
        } else {
            fixed(xv, 2)
        };
        let _ = write!(
            s,
            r##"<line x1="{x}" y1="{t}" x2="{x}" y2="{b}" stroke="#e3e3e3" stroke-width="1"/><line x1="{l}" y1="{y}" x2="{r}" y2="{y}" stroke="#e3e3e3" stroke-width="1"/><text x="{x}" y="{ty}" text-anchor="middle">{xtick}</text><text x="{tx}" y="{yt}" text-anchor="end">{ytick}</text>"##,
            x = px(xv),
            y = y(v),
            t = y(1.0),
            b = y(0.0),
            l = x(0.0),
            r = x(1.0),
            ty = fixed(TOP + SIZE + 16.0, 2),
            tx = fixed(LEFT - 6.0, 2),
            yt = fixed(TOP + (1.0 - v) * SIZE + 4.0, 2),
            ytick = fixed(v, 1),
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{SIZE}" height="{SIZE}" fill="none" stroke="#333333" stroke-width="1"/>"##
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="13">{}</text>"#,
        fixed(LEFT + SIZE / 2.0, 2),
        fixed(TOP + SIZE + 36.0, 2),
        xml_escape(x_label)
    );
    let _ = write!(
        s,
        r#"<text x="0" y="0" transform="translate(20 {}) rotate(-90)" text-anchor="middle" font-size="13">{}</text>"#,
        fixed(TOP + SIZE / 2.0, 2),
        xml_escape(y_label)
    );
    if chance.is_some() {
        let _ = write!(
            s,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999999" stroke-width="1" stroke-dasharray="4 3"/>"##,
            x(0.0),
            y(0.0),
            x(1.0),
            y(1.0)
        );
    }
    let line: Vec<String> = points
        .iter()
        .map(|p| format!("{},{}", px(p.x), y(p.y)))
        .collect();
    let _ = write!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#1f4e9c" stroke-width="2" stroke-linejoin="round"/>"##,
        line.join(" ")
    );
    let lx = LEFT + SIZE * 0.42;
    let ly = TOP + SIZE * 0.70;
    let _ = write!(
        s,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="#ffffff" stroke="#cccccc" stroke-width="0.8"/>"##,
        fixed(lx - 8.0, 2),
        fixed(ly - 14.0, 2),
        fixed(SIZE * 0.58, 2),
        if chance.is_some() { 44 } else { 26 }
    );
    let _ = write!(
        s,
        r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#1f4e9c" stroke-width="2"/><text x="{}" y="{}" font-size="11">{}</text>"##,
        fixed(lx, 2),
        fixed(lx + 20.0, 2),
        fixed(lx + 26.0, 2),
        fixed(ly + 4.0, 2),
        xml_escape(legend),
        y = fixed(ly, 2),
    );
    if let Some(text) = chance {
        let _ = write!(
            s,
            r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#999999" stroke-width="1" stroke-dasharray="4 3"/><text x="{}" y="{}" font-size="11">{}</text>"##,
            fixed(lx, 2),
            fixed(lx + 20.0, 2),
            fixed(lx + 26.0, 2),
            fixed(ly + 22.0, 2),
            xml_escape(text),
            y = fixed(ly + 18.0, 2),
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RocPoint, Text};

    #[test]
    fn roc_svg_is_well_formed_and_escaped() {
        let curve = RocCurve {
            id: "R<1>".into(),
            name: Text::new("名前", "name"),
            points: vec![
                RocPoint { fpr: 0.0, tpr: 0.0 },
                RocPoint { fpr: 0.1, tpr: 0.8 },
                RocPoint { fpr: 1.0, tpr: 1.0 },
            ],
            auc: 0.9,
            ci: None,
            positives: 10,
            negatives: 10,
            operating_point: Some(RocPoint { fpr: 0.1, tpr: 0.8 }),
        };
        let svg = roc(&curve, Lang::Ja);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // The legend names the device, not the curve's internal id.
        assert!(svg.contains("被験機器 (AUC 0.900)"), "{svg}");
        assert!(!svg.contains("R&lt;1&gt;") && !svg.contains("R<1>"));
        assert!(svg.contains("1 − 特異度"));
        assert!(svg.contains("AUC 0.900"));
    }

    #[test]
    fn free_response_axes_round_up_and_escape() {
        assert_eq!(axis_end(0.37), 0.5);
        assert_eq!(axis_end(1.2), 2.0);
        assert_eq!(axis_end(3.0), 5.0);
        assert_eq!(axis_end(0.0), 1.0);
        let points = [CurvePoint { x: 0.0, y: 0.0 }, CurvePoint { x: 0.4, y: 0.5 }];
        let svg = free_response(&points, false, "NLs <per> case", "LLF", "FROC", None);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("NLs &lt;per&gt; case"));
        // x = 0.4 of 0.5 → 64 + 0.8 · 290 = 296; y = 0.5 → 16 + 145 = 161.
        assert!(svg.contains("296.00,161.00"), "{svg}");
        assert!(!svg.contains("stroke-dasharray"));
    }
}
