//! How closely the two methods go together: Pearson's r with the Fisher z interval (Fisher
//! 1921, as R's `cor.test`), Spearman's rho (Pearson's r of mid-ranks), and Lin's concordance
//! correlation coefficient with its z-transformed interval (Lin 1989, *Biometrics* 45:255;
//! the standard error as epiR's `epi.ccc`).

use serde::Serialize;

use crate::Estimate;
use crate::dist::normal_quantile;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Correlation {
    /// `None` when a method's values are all equal.
    pub pearson: Option<Estimate>,
    pub spearman: Option<f64>,
    pub ccc: Option<Estimate>,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Pearson's r.
fn pearson_r(x: &[f64], y: &[f64]) -> Option<f64> {
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// An estimate with its interval, or `None` when a bound is not a number (too few pairs, or a
/// standard error the data cannot give).
fn bounded(estimate: f64, lower: f64, upper: f64) -> Option<Estimate> {
    [estimate, lower, upper]
        .iter()
        .all(|v| v.is_finite())
        .then_some(Estimate {
            estimate,
            lower,
            upper,
        })
}

/// Mid-ranks (ties share the mean of their ranks).
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|a, b| v[*a].total_cmp(&v[*b]));
    let mut out = vec![0.0; v.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && v[order[end]] == v[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        for i in &order[start..end] {
            out[*i] = rank;
        }
        start = end;
    }
    out
}

/// The correlations of `x` and `y` at `level`; Pearson's and Lin's need at least four pairs and
/// an interval the data can give (not with `r = 0` for Lin's), else they are `None`.
pub fn correlation(x: &[f64], y: &[f64], level: f64) -> Correlation {
    let n = x.len() as f64;
    let z = normal_quantile(0.5 + 0.5 * level);
    let from_z = |t: f64| t.tanh();
    let pearson = pearson_r(x, y).filter(|_| n >= 4.0).and_then(|r| {
        if r.abs() == 1.0 {
            return bounded(r, r, r);
        }
        let t = r.atanh();
        let se = 1.0 / (n - 3.0).sqrt();
        bounded(r, from_z(t - z * se), from_z(t + z * se))
    });
    let spearman = pearson_r(&ranks(x), &ranks(y));
    let ccc = pearson_r(x, y).filter(|_| n >= 4.0).and_then(|r| {
        let (mx, my) = (mean(x), mean(y));
        let sx2 = x.iter().map(|v| (v - mx).powi(2)).sum::<f64>() / n;
        let sy2 = y.iter().map(|v| (v - my).powi(2)).sum::<f64>() / n;
        let sxy = r * (sx2 * sy2).sqrt();
        let p = 2.0 * sxy / (sx2 + sy2 + (my - mx).powi(2));
        let u = (my - mx) / (sx2 * sy2).powf(0.25);
        let se = (((1.0 - r * r) * p * p * (1.0 - p * p) / (r * r)
            + 2.0 * p.powi(3) * (1.0 - p) * u * u / r
            - 0.5 * p.powi(4) * u.powi(4) / (r * r))
            / (n - 2.0))
            .sqrt();
        if p.abs() >= 1.0 {
            return bounded(p, p, p);
        }
        let t = p.atanh();
        let se_t = se / (1.0 - p * p);
        bounded(p, from_z(t - z * se_t), from_z(t + z * se_t))
    });
    Correlation {
        pearson,
        spearman,
        ccc,
    }
}
