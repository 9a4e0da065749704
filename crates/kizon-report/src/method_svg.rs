//! The figures of the correlation study (相関性試験, CLSI EP09c) as hand-written SVG: the
//! scatter plot of device against comparator with the identity line and the fitted line, and
//! the Bland–Altman plot (difference against mean, the bias and the limits of agreement).

use std::fmt::Write;

use crate::format::fixed;
use crate::svg::xml_escape;

const W: f64 = 400.0;
const H: f64 = 360.0;
const LEFT: f64 = 64.0;
const TOP: f64 = 16.0;
const SIZE: f64 = 290.0;
const FONT: &str = "Noto Sans JP, Hiragino Sans, Yu Gothic, Meiryo, sans-serif";

/// A linear axis from `low` to `high` with ticks at a round step (1, 2 or 5 × 10ᵏ).
#[derive(Clone, Copy)]
struct Axis {
    low: f64,
    high: f64,
    step: f64,
}

impl Axis {
    fn around(min: f64, max: f64) -> Axis {
        let (min, max) = if (max - min).abs() < 1e-12 {
            (min - 1.0, max + 1.0)
        } else {
            (min, max)
        };
        let raw = (max - min) / 5.0;
        let p = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * p)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * p);
        Axis {
            low: (min / step).floor() * step,
            high: (max / step).ceil() * step,
            step,
        }
    }

    /// Position of `v` along a length of `SIZE`, from the axis' low end.
    fn at(&self, v: f64) -> f64 {
        (v - self.low) / (self.high - self.low) * SIZE
    }

    fn ticks(&self) -> Vec<f64> {
        let n = ((self.high - self.low) / self.step).round() as usize;
        (0..=n).map(|i| self.low + i as f64 * self.step).collect()
    }

    fn digits(&self) -> usize {
        if self.step >= 1.0 {
            0
        } else {
            (-self.step.log10().floor()) as usize
        }
    }
}

/// The frame, grid, ticks and axis titles of a chart over `xa` × `ya`.
fn frame(s: &mut String, xa: &Axis, ya: &Axis, x_title: &str, y_title: &str) {
    let px = |v: f64| LEFT + xa.at(v);
    let py = |v: f64| TOP + SIZE - ya.at(v);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="{FONT}" font-size="12">"#
    );
    for v in xa.ticks() {
        let _ = write!(
            s,
            r##"<line x1="{x}" y1="{TOP}" x2="{x}" y2="{b}" stroke="#e3e3e3" stroke-width="1"/><text x="{x}" y="{ty}" text-anchor="middle">{t}</text>"##,
            x = fixed(px(v), 2),
            b = TOP + SIZE,
            ty = TOP + SIZE + 16.0,
            t = fixed(v, xa.digits()),
        );
    }
    for v in ya.ticks() {
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{y}" x2="{r}" y2="{y}" stroke="#e3e3e3" stroke-width="1"/><text x="{tx}" y="{yt}" text-anchor="end">{t}</text>"##,
            y = fixed(py(v), 2),
            r = LEFT + SIZE,
            tx = LEFT - 6.0,
            yt = fixed(py(v) + 4.0, 2),
            t = fixed(v, ya.digits()),
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{SIZE}" height="{SIZE}" fill="none" stroke="#333" stroke-width="1"/><text x="{cx}" y="{by}" text-anchor="middle">{xt}</text><text x="14" y="{cy}" text-anchor="middle" transform="rotate(-90 14 {cy})">{yt}</text>"##,
        cx = LEFT + SIZE / 2.0,
        by = H - 8.0,
        cy = TOP + SIZE / 2.0,
        xt = xml_escape(x_title),
        yt = xml_escape(y_title),
    );
}

/// The straight line `f` across the plot, clipped to the plot's box (its ends moved along
/// the line, never onto the edge, so the slope drawn is the slope).
fn line(s: &mut String, xa: &Axis, ya: &Axis, f: impl Fn(f64) -> f64, style: &str) {
    let (mut x0, mut x1) = (xa.low, xa.high);
    let (y0, y1) = (f(x0), f(x1));
    if (y1 - y0).abs() > 1e-12 {
        // x where the line meets each horizontal edge, ordered along x.
        let at = |y: f64| x0 + (y - y0) / (y1 - y0) * (x1 - x0);
        let (a, b) = (at(ya.low), at(ya.high));
        let (enter, leave) = if a < b { (a, b) } else { (b, a) };
        x0 = x0.max(enter);
        x1 = x1.min(leave);
        if x0 >= x1 {
            return;
        }
    } else if y0 < ya.low || y0 > ya.high {
        return;
    }
    let px = |v: f64| LEFT + xa.at(v);
    let py = |v: f64| TOP + SIZE - ya.at(v);
    let _ = write!(
        s,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" {style}/>"#,
        fixed(px(x0), 2),
        fixed(py(f(x0)), 2),
        fixed(px(x1), 2),
        fixed(py(f(x1)), 2),
    );
}

fn points(s: &mut String, xa: &Axis, ya: &Axis, points: &[(f64, f64)]) {
    for &(x, y) in points {
        let _ = write!(
            s,
            r##"<circle cx="{}" cy="{}" r="2.5" fill="#1f4e9c" fill-opacity="0.6"/>"##,
            fixed(LEFT + xa.at(x), 2),
            fixed(TOP + SIZE - ya.at(y), 2),
        );
    }
}

/// Device (`y`) against comparator (`x`), both axes over the same range, with the identity
/// line (dashed), the fitted line `intercept + slope·x` (solid) when there is one, and its
/// confidence band (`[x, lower, upper]`, shaded) when the method gives one.
pub(crate) fn scatter(
    pairs: &[[f64; 2]],
    fit: Option<(f64, f64)>,
    band: &[[f64; 3]],
    x_title: &str,
    y_title: &str,
) -> String {
    let all = pairs.iter().flatten().copied();
    let (min, max) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let axis = Axis::around(min, max);
    let same = axis;
    let mut s = String::new();
    frame(&mut s, &axis, &same, x_title, y_title);
    if band.len() >= 2 {
        // The upper edge left to right, the lower right to left; vertices kept inside the box.
        let vertex = |x: f64, y: f64| {
            format!(
                "{},{}",
                fixed(LEFT + axis.at(x), 2),
                fixed(TOP + SIZE - same.at(y).clamp(0.0, SIZE), 2)
            )
        };
        let outline: Vec<String> = band
            .iter()
            .map(|p| vertex(p[0], p[2]))
            .chain(band.iter().rev().map(|p| vertex(p[0], p[1])))
            .collect();
        let _ = write!(
            s,
            r##"<polygon points="{}" fill="#c0392b" fill-opacity="0.15" stroke="none"/>"##,
            outline.join(" ")
        );
    }
    line(
        &mut s,
        &axis,
        &same,
        |x| x,
        r##"stroke="#888" stroke-width="1" stroke-dasharray="4 3""##,
    );
    points(
        &mut s,
        &axis,
        &same,
        &pairs.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>(),
    );
    if let Some((intercept, slope)) = fit {
        line(
            &mut s,
            &axis,
            &same,
            |x| intercept + slope * x,
            r##"stroke="#c0392b" stroke-width="1.5""##,
        );
    }
    s.push_str("</svg>");
    s
}

/// Difference (device − comparator) against the mean of the two, with the bias and the limits
/// of agreement as horizontal lines.
pub(crate) fn bland_altman(
    pairs: &[[f64; 2]],
    bias: f64,
    loa: [f64; 2],
    x_title: &str,
    y_title: &str,
) -> String {
    let points_: Vec<(f64, f64)> = pairs
        .iter()
        .map(|p| ((p[0] + p[1]) / 2.0, p[1] - p[0]))
        .collect();
    let (xmin, xmax) = points_
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        });
    let (ymin, ymax) = points_
        .iter()
        .map(|p| p.1)
        .chain([loa[0], loa[1], 0.0])
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let (xa, ya) = (Axis::around(xmin, xmax), Axis::around(ymin, ymax));
    let mut s = String::new();
    frame(&mut s, &xa, &ya, x_title, y_title);
    line(
        &mut s,
        &xa,
        &ya,
        |_| 0.0,
        r##"stroke="#888" stroke-width="1" stroke-dasharray="4 3""##,
    );
    points(&mut s, &xa, &ya, &points_);
    line(
        &mut s,
        &xa,
        &ya,
        |_| bias,
        r##"stroke="#c0392b" stroke-width="1.5""##,
    );
    for limit in loa {
        line(
            &mut s,
            &xa,
            &ya,
            |_| limit,
            r##"stroke="#c0392b" stroke-width="1" stroke-dasharray="6 3""##,
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_take_round_steps_around_the_data() {
        let a = Axis::around(3.0, 95.3);
        assert_eq!((a.low, a.high, a.step), (0.0, 100.0, 20.0));
        let a = Axis::around(-0.37, 0.41);
        assert_eq!(a.step, 0.2);
        assert!(a.low <= -0.37 && a.high >= 0.41);
        assert_eq!(a.digits(), 1);
        let flat = Axis::around(5.0, 5.0);
        assert!(flat.low < 5.0 && flat.high > 5.0);
    }

    /// A line leaving through the top is cut where it leaves: the drawn slope stays its own.
    #[test]
    fn a_steep_line_is_clipped_along_itself() {
        let axis = Axis::around(0.0, 100.0);
        let mut s = String::new();
        line(&mut s, &axis, &axis, |x| 2.0 * x, "");
        // y = 2x leaves the 0–100 box at x = 50: the end is at the top edge, half-way across.
        let end_x = format!("x2=\"{}\"", fixed(LEFT + SIZE / 2.0, 2));
        let end_y = format!("y2=\"{}\"", fixed(TOP, 2));
        assert!(s.contains(&end_x) && s.contains(&end_y), "{s}");
        let mut outside = String::new();
        line(&mut outside, &axis, &axis, |_| 150.0, "");
        assert!(outside.is_empty());
    }

    #[test]
    fn both_figures_are_well_formed_and_escaped() {
        let pairs = [[1.0, 1.2], [2.0, 2.1], [3.0, 3.3]];
        let band = [[1.0, 1.0, 1.4], [3.0, 3.1, 3.5]];
        let svg = scatter(
            &pairs,
            Some((0.1, 1.05)),
            &band,
            "comparator <mmol/mol>",
            "device & co",
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // The band: its upper edge out, its lower edge back.
        assert_eq!(svg.matches("<polygon").count(), 1);
        let outline = &svg[svg.find("points=\"").unwrap() + 8..];
        let outline = &outline[..outline.find('"').unwrap()];
        assert_eq!(outline.split(' ').count(), 4);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("comparator &lt;mmol/mol&gt;") && svg.contains("device &amp; co"));
        let svg = bland_altman(&pairs, 0.2, [-0.1, 0.5], "mean", "difference");
        assert_eq!(svg.matches("<circle").count(), 3);
        // zero, the bias and the two limits
        assert_eq!(
            svg.matches("<line").count() - svg.matches("stroke=\"#e3e3e3\"").count(),
            4
        );
    }
}
