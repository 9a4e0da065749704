//! Bland–Altman analysis (Bland & Altman 1986, *Lancet* i:307; 1999, *Stat Methods Med Res*
//! 8:135): the mean difference (bias) of device minus comparator with its Student-t interval,
//! the limits of agreement `bias ± z·sd` with the exact normal quantile (1.959964… at 95 %),
//! and their confidence intervals by Bland & Altman's 1999 approximation
//! `se = sd·√(1/n + z²/(2(n − 1)))` with `t(n − 1)`; the same on differences relative to the
//! mean of the two methods (per cent), when every mean is positive.

use serde::Serialize;

use super::{check_pairs, t_critical};
use crate::dist::normal_quantile;
use crate::error::StatsError;

/// Bias and limits of agreement of one kind of difference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    pub bias: f64,
    pub bias_ci: [f64; 2],
    pub sd: f64,
    /// Lower and upper limit of agreement.
    pub loa: [f64; 2],
    pub loa_lower_ci: [f64; 2],
    pub loa_upper_ci: [f64; 2],
}

/// A Bland–Altman analysis of `y` (device) against `x` (comparator).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlandAltman {
    pub method: &'static str,
    pub n: usize,
    pub level: f64,
    /// On absolute differences `y − x`.
    #[serde(flatten)]
    pub absolute: Agreement,
    /// On relative differences `100·(y − x)/((x + y)/2)`, when every mean is positive.
    pub relative: Option<Agreement>,
    /// How the limits' intervals were made.
    pub loa_ci_method: &'static str,
}

fn agreement(differences: &[f64], level: f64) -> Result<Agreement, StatsError> {
    let n = differences.len() as f64;
    let bias = differences.iter().sum::<f64>() / n;
    let sd = (differences.iter().map(|d| (d - bias).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let t = t_critical(level, n - 1.0)?;
    let z = normal_quantile(0.5 + 0.5 * level);
    let bias_half = t * sd / n.sqrt();
    let loa = [bias - z * sd, bias + z * sd];
    let loa_half = t * sd * (1.0 / n + z * z / (2.0 * (n - 1.0))).sqrt();
    Ok(Agreement {
        bias,
        bias_ci: [bias - bias_half, bias + bias_half],
        sd,
        loa,
        loa_lower_ci: [loa[0] - loa_half, loa[0] + loa_half],
        loa_upper_ci: [loa[1] - loa_half, loa[1] + loa_half],
    })
}

/// Bland–Altman analysis of `y` (device) against `x` (comparator) at `level`.
pub fn bland_altman(x: &[f64], y: &[f64], level: f64) -> Result<BlandAltman, StatsError> {
    check_pairs(x, y, 3)?;
    let absolute: Vec<f64> = x.iter().zip(y).map(|(a, b)| b - a).collect();
    let relative = if x.iter().zip(y).all(|(a, b)| a + b > 0.0) {
        let percent: Vec<f64> = x
            .iter()
            .zip(y)
            .map(|(a, b)| 100.0 * (b - a) / ((a + b) / 2.0))
            .collect();
        Some(agreement(&percent, level)?)
    } else {
        None
    };
    Ok(BlandAltman {
        method: "bland-altman",
        n: x.len(),
        level,
        absolute: agreement(&absolute, level)?,
        relative,
        loa_ci_method: "Bland & Altman 1999 approximation",
    })
}
