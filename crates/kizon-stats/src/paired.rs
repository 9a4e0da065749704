//! Two binary tests on the same cases.
//!
//! - McNemar's test: McNemar (1947), *Psychometrika* 12:153–157, on the discordant
//!   counts b and c: exact (conditional binomial, two-sided
//!   `min(1, 2·P(X ≤ min(b, c)))`, X ~ Bin(b + c, ½)) and asymptotic χ²₁ with and
//!   without Edwards' continuity correction. With no discordant pair (b = c = 0) the
//!   tests have nothing to reject: statistic 0 and p = 1 (statsmodels returns NaN).
//! - Difference of paired proportions: Newcombe (1998), *Stat Med* 17:2635–2650,
//!   method 10 (Wilson score intervals of both margins combined with the
//!   φ-corrected correlation), clipped to [−1, 1].
//!
//! [`paired_accuracy`] applies both to the sensitivity of two tests (on the
//! reference-positive cases) and their specificity (reference-negative cases).

use serde::{Deserialize, Serialize};

use crate::dist::{binomial_cdf, chi_square_1_sf};
use crate::error::StatsError;
use crate::estimate::{Estimate, check_level};
use crate::proportion::{ProportionCi, proportion_ci};

/// Paired outcomes of two tests on the same cases, "success" being whatever is
/// counted (a positive call, or a correct call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairedTable {
    /// Both tests succeed (a).
    pub both: u64,
    /// Only the first test succeeds (b).
    pub first_only: u64,
    /// Only the second test succeeds (c).
    pub second_only: u64,
    /// Neither succeeds (d).
    pub neither: u64,
}

impl PairedTable {
    pub fn total(&self) -> u64 {
        self.both + self.first_only + self.second_only + self.neither
    }

    /// Counts paired indicators; errors when the lengths differ.
    pub fn from_pairs(first: &[bool], second: &[bool]) -> Result<Self, StatsError> {
        if first.len() != second.len() {
            return Err(StatsError::LengthMismatch {
                what: "paired results",
                left: first.len(),
                right: second.len(),
            });
        }
        let mut t = PairedTable {
            both: 0,
            first_only: 0,
            second_only: 0,
            neither: 0,
        };
        for (&x, &y) in first.iter().zip(second) {
            match (x, y) {
                (true, true) => t.both += 1,
                (true, false) => t.first_only += 1,
                (false, true) => t.second_only += 1,
                (false, false) => t.neither += 1,
            }
        }
        Ok(t)
    }
}

/// McNemar's test on the discordant pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McNemar {
    /// First test succeeds only.
    pub b: u64,
    /// Second test succeeds only.
    pub c: u64,
    /// Exact two-sided binomial p-value.
    pub exact_p_value: f64,
    /// `(b − c)² / (b + c)`.
    pub chi_square: f64,
    pub p_value: f64,
    /// `(|b − c| − 1)² / (b + c)`, Edwards' continuity correction.
    pub chi_square_corrected: f64,
    pub p_value_corrected: f64,
}

/// McNemar's exact and asymptotic tests.
pub fn mcnemar(table: &PairedTable) -> McNemar {
    let (b, c) = (table.first_only, table.second_only);
    let n = b + c;
    if n == 0 {
        return McNemar {
            b,
            c,
            exact_p_value: 1.0,
            chi_square: 0.0,
            p_value: 1.0,
            chi_square_corrected: 0.0,
            p_value_corrected: 1.0,
        };
    }
    let diff = b.abs_diff(c) as f64;
    let chi_square = diff * diff / n as f64;
    let chi_square_corrected = (diff - 1.0).max(0.0).powi(2) / n as f64;
    McNemar {
        b,
        c,
        exact_p_value: (2.0 * binomial_cdf(b.min(c), n, 0.5)).min(1.0),
        chi_square,
        p_value: chi_square_1_sf(chi_square),
        chi_square_corrected,
        p_value_corrected: chi_square_1_sf(chi_square_corrected),
    }
}

/// Difference of the paired success proportions, first minus second, `(b − c)/n`, with
/// Newcombe's method-10 interval. `None` when there is no pair.
pub fn paired_difference(table: &PairedTable, level: f64) -> Result<Option<Estimate>, StatsError> {
    check_level(level)?;
    let PairedTable {
        both: a,
        first_only: b,
        second_only: c,
        neither: d,
    } = *table;
    let n = table.total();
    let (Some(p1), Some(p2)) = (
        proportion_ci(a + b, n, ProportionCi::Wilson, level)?,
        proportion_ci(a + c, n, ProportionCi::Wilson, level)?,
    ) else {
        return Ok(None);
    };
    let (af, bf, cf, df, nf) = (a as f64, b as f64, c as f64, d as f64, n as f64);
    let margins = (af + bf) * (cf + df) * (af + cf) * (bf + df);
    // Newcombe's φ: zero when a margin is empty, and shrunk towards zero by n/2 when
    // positive (his continuity adjustment of the correlation).
    let cross = af * df - bf * cf;
    let phi = if margins == 0.0 {
        0.0
    } else if cross > nf / 2.0 {
        (cross - nf / 2.0) / margins.sqrt()
    } else if cross < 0.0 {
        cross / margins.sqrt()
    } else {
        0.0
    };
    let theta = (bf - cf) / nf;
    let (d1l, d1u) = (p1.estimate - p1.lower, p1.upper - p1.estimate);
    let (d2l, d2u) = (p2.estimate - p2.lower, p2.upper - p2.estimate);
    let down = (d1l * d1l - 2.0 * phi * d1l * d2u + d2u * d2u)
        .max(0.0)
        .sqrt();
    let up = (d1u * d1u - 2.0 * phi * d1u * d2l + d2l * d2l)
        .max(0.0)
        .sqrt();
    Ok(Some(Estimate {
        estimate: theta,
        lower: (theta - down).max(-1.0),
        upper: (theta + up).min(1.0),
    }))
}

/// Paired comparison of two tests against one reference standard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedAccuracy {
    /// Sensitivity of the first test minus the second (reference-positive cases).
    pub sensitivity_difference: Option<Estimate>,
    /// Specificity of the first test minus the second (reference-negative cases).
    pub specificity_difference: Option<Estimate>,
    /// McNemar on the reference-positive cases (successes = positive calls).
    pub mcnemar_sensitivity: McNemar,
    /// McNemar on the reference-negative cases (successes = negative calls).
    pub mcnemar_specificity: McNemar,
}

/// Compares the sensitivity and specificity of two tests read on the same cases.
pub fn paired_accuracy(
    first: &[bool],
    second: &[bool],
    reference: &[bool],
    level: f64,
) -> Result<PairedAccuracy, StatsError> {
    for test in [first, second] {
        if test.len() != reference.len() {
            return Err(StatsError::LengthMismatch {
                what: "test results and reference labels",
                left: test.len(),
                right: reference.len(),
            });
        }
    }
    // A call is a success when it is correct: positive on diseased, negative otherwise.
    let correct = |test: &[bool], diseased: bool| -> Vec<bool> {
        test.iter()
            .zip(reference)
            .filter(|&(_, &r)| r == diseased)
            .map(|(&t, _)| t == diseased)
            .collect()
    };
    let diseased = PairedTable::from_pairs(&correct(first, true), &correct(second, true))?;
    let healthy = PairedTable::from_pairs(&correct(first, false), &correct(second, false))?;
    Ok(PairedAccuracy {
        sensitivity_difference: paired_difference(&diseased, level)?,
        specificity_difference: paired_difference(&healthy, level)?,
        mcnemar_sensitivity: mcnemar(&diseased),
        mcnemar_specificity: mcnemar(&healthy),
    })
}
