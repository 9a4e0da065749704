//! Deming regression (Deming 1943) with the error ratio known, Linnet's weighted Deming for
//! measurement errors proportional to the level (Linnet 1990, *Stat Med* 9:1463; 1993, *Clin
//! Chem* 39:424), both with Linnet's jackknife intervals, and ordinary least squares.

use super::{Regression, check_pairs, t_critical};
use crate::error::StatsError;

/// Weighted Deming stops when slope and intercept move less than this between iterations…
const THRESHOLD: f64 = 1e-6;
/// …or after this many iterations (`mcr`'s `threshold` and `iter.max`).
const MAX_ITERATIONS: usize = 30;

/// Deming's slope for centred sums of squares `u = Σ(x−x̄)²`, `q = Σ(y−ȳ)²`,
/// `p = Σ(x−x̄)(y−ȳ)` and `λ` the comparator's error variance over the device's.
fn deming_slope(u: f64, q: f64, p: f64, lambda: f64) -> f64 {
    ((lambda * q - u) + ((u - lambda * q).powi(2) + 4.0 * lambda * p * p).sqrt())
        / (2.0 * lambda * p)
}

/// Slope and intercept of Deming regression, weighted by `weights` (or not).
fn deming_fit(x: &[f64], y: &[f64], lambda: f64, weights: Option<&[f64]>) -> (f64, f64) {
    let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
    let total: f64 = (0..x.len()).map(weight).sum();
    let mean_x = (0..x.len()).map(|i| weight(i) * x[i]).sum::<f64>() / total;
    let mean_y = (0..x.len()).map(|i| weight(i) * y[i]).sum::<f64>() / total;
    let (mut u, mut q, mut p) = (0.0, 0.0, 0.0);
    for i in 0..x.len() {
        let (dx, dy) = (x[i] - mean_x, y[i] - mean_y);
        u += weight(i) * dx * dx;
        q += weight(i) * dy * dy;
        p += weight(i) * dx * dy;
    }
    let slope = deming_slope(u, q, p, lambda);
    (slope, mean_y - slope * mean_x)
}

/// Weighted Deming by Linnet's iteration: weights `1/ẑ²` at the estimated true value
/// `ẑ = (x̂ + λŷ)/(1 + λ)`, starting from the unweighted fit. Returns slope, intercept and the
/// iterations taken.
fn weighted_deming_fit(x: &[f64], y: &[f64], lambda: f64) -> (f64, f64, usize) {
    let (mut slope, mut intercept) = deming_fit(x, y, lambda, None);
    let mut weights = vec![1.0; x.len()];
    let mut iterations = 0;
    while iterations < MAX_ITERATIONS {
        for i in 0..x.len() {
            let d = y[i] - (intercept + slope * x[i]);
            let shrink = 1.0 + lambda * slope * slope;
            let x_hat = x[i] + lambda * slope * d / shrink;
            let y_hat = y[i] - d / shrink;
            weights[i] = 1.0 / ((x_hat + lambda * y_hat) / (1.0 + lambda)).powi(2);
        }
        let (new_slope, new_intercept) = deming_fit(x, y, lambda, Some(&weights));
        let settled =
            (slope - new_slope).abs() < THRESHOLD && (intercept - new_intercept).abs() < THRESHOLD;
        slope = new_slope;
        intercept = new_intercept;
        if settled {
            break;
        }
        iterations += 1;
    }
    (slope, intercept, iterations + 1)
}

/// Linnet's jackknife: pseudo-values `n·θ̂ − (n−1)·θ̂₋ᵢ`, their standard error, and the interval
/// `θ̂ ± t(1 − α/2, n − 2)·se` around the full-data estimate (as `mcr` does).
fn linnet_interval(full: f64, leave_one_out: &[f64], t: f64) -> (f64, [f64; 2]) {
    let se = super::linnet_se(full, leave_one_out.iter().copied());
    (se, [full - t * se, full + t * se])
}

/// Fits `fit` on the data and on every leave-one-out subset and gives the jackknife result.
fn with_jackknife(
    method: &'static str,
    x: &[f64],
    y: &[f64],
    level: f64,
    lambda: f64,
    fit: impl Fn(&[f64], &[f64]) -> (f64, f64, usize),
) -> Result<Regression, StatsError> {
    let n = x.len();
    let t = t_critical(level, n as f64 - 2.0)?;
    let degenerate = || {
        StatsError::InvalidArgument(format!(
            "{method}: the values vary too little (a method's results all equal, or no covariance once a specimen is left out) for a regression and its jackknife"
        ))
    };
    let (slope, intercept, iterations) = fit(x, y);
    if !(slope.is_finite() && intercept.is_finite()) {
        return Err(degenerate());
    }
    let mut slopes = Vec::with_capacity(n);
    let mut intercepts = Vec::with_capacity(n);
    let (mut xs, mut ys) = (Vec::with_capacity(n - 1), Vec::with_capacity(n - 1));
    for left_out in 0..n {
        xs.clear();
        ys.clear();
        for i in (0..n).filter(|&i| i != left_out) {
            xs.push(x[i]);
            ys.push(y[i]);
        }
        let (s, b, _) = fit(&xs, &ys);
        if !(s.is_finite() && b.is_finite()) {
            return Err(degenerate());
        }
        slopes.push(s);
        intercepts.push(b);
    }
    let (slope_se, slope_ci) = linnet_interval(slope, &slopes, t);
    let (intercept_se, intercept_ci) = linnet_interval(intercept, &intercepts, t);
    Ok(Regression {
        method,
        n,
        slope,
        slope_ci: Some(slope_ci),
        intercept,
        intercept_ci: Some(intercept_ci),
        slope_se: Some(slope_se),
        intercept_se: Some(intercept_se),
        ci_method: "jackknife (Linnet 1990)",
        error_ratio: Some(lambda),
        iterations: (method == "weighted-deming").then_some(iterations),
        cusum: None,
        level,
        jackknife: Some(intercepts.into_iter().zip(slopes).collect()),
        x_mean: None,
    })
}

fn check_error_ratio(error_ratio: f64) -> Result<(), StatsError> {
    if error_ratio.is_finite() && error_ratio > 0.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidArgument(format!(
            "the error ratio (the comparator's error variance over the device's) must be positive, got {error_ratio}"
        )))
    }
}

/// Deming regression of `y` (device) on `x` (comparator) with `error_ratio` the comparator's
/// error variance over the device's (1: equal imprecision), and Linnet's jackknife intervals.
pub fn deming(
    x: &[f64],
    y: &[f64],
    error_ratio: f64,
    level: f64,
) -> Result<Regression, StatsError> {
    check_pairs(x, y, 3)?;
    check_error_ratio(error_ratio)?;
    with_jackknife("deming", x, y, level, error_ratio, |x, y| {
        let (slope, intercept) = deming_fit(x, y, error_ratio, None);
        (slope, intercept, 0)
    })
}

/// Weighted Deming regression (constant coefficients of variation; Linnet 1993) with Linnet's
/// jackknife intervals. The measurements must not be negative.
pub fn weighted_deming(
    x: &[f64],
    y: &[f64],
    error_ratio: f64,
    level: f64,
) -> Result<Regression, StatsError> {
    check_pairs(x, y, 3)?;
    check_error_ratio(error_ratio)?;
    if x.iter().chain(y).any(|v| *v < 0.0) {
        return Err(StatsError::InvalidArgument(
            "weighted Deming regression needs measurements of zero or more (its weights are 1/level²)".into(),
        ));
    }
    with_jackknife("weighted-deming", x, y, level, error_ratio, |x, y| {
        weighted_deming_fit(x, y, error_ratio)
    })
}

/// Ordinary least squares of `y` on `x`, with `t(n − 2)` intervals from the residual variance.
pub fn ols(x: &[f64], y: &[f64], level: f64) -> Result<Regression, StatsError> {
    check_pairs(x, y, 3)?;
    let n = x.len() as f64;
    let t = t_critical(level, n - 2.0)?;
    let (sx, sy) = (x.iter().sum::<f64>(), y.iter().sum::<f64>());
    let (mean_x, mean_y) = (sx / n, sy / n);
    // Centred sums in two passes: `Σx² − (Σx)²/n` cancels to nothing at large values.
    let centred_xx = x.iter().map(|v| (v - mean_x).powi(2)).sum::<f64>();
    let centred_xy = x
        .iter()
        .zip(y)
        .map(|(a, b)| (a - mean_x) * (b - mean_y))
        .sum::<f64>();
    if centred_xx <= 0.0 {
        return Err(StatsError::InvalidArgument(
            "ols: the comparator's values are all equal: no regression line".into(),
        ));
    }
    let sxx = centred_xx + n * mean_x * mean_x;
    let slope = centred_xy / centred_xx;
    let intercept = mean_y - slope * mean_x;
    let residual = x
        .iter()
        .zip(y)
        .map(|(a, b)| (b - (intercept + slope * a)).powi(2))
        .sum::<f64>()
        / (n - 2.0);
    let slope_se = (residual / centred_xx).sqrt();
    let intercept_se = slope_se * (sxx / n).sqrt();
    Ok(Regression {
        method: "ols",
        n: x.len(),
        slope,
        slope_ci: Some([slope - t * slope_se, slope + t * slope_se]),
        intercept,
        intercept_ci: Some([intercept - t * intercept_se, intercept + t * intercept_se]),
        slope_se: Some(slope_se),
        intercept_se: Some(intercept_se),
        ci_method: "analytical (Student t, n − 2 degrees of freedom)",
        error_ratio: None,
        iterations: None,
        cusum: None,
        level,
        jackknife: None,
        x_mean: Some(sx / n),
    })
}
