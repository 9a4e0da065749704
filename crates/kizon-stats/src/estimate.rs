//! The common currency of every result: a point estimate with its confidence bounds.

use serde::{Deserialize, Serialize};

use crate::dist::normal_quantile;
use crate::error::StatsError;

/// A point estimate and the bounds of its confidence interval. Serialises as
/// `{"estimate": .., "lower": .., "upper": ..}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
}

impl Estimate {
    /// A Wald interval `estimate ± z·se`, clipped to `[min, max]`.
    pub(crate) fn wald_clipped(estimate: f64, se: f64, z: f64, min: f64, max: f64) -> Self {
        Estimate {
            estimate,
            lower: (estimate - z * se).clamp(min, max),
            upper: (estimate + z * se).clamp(min, max),
        }
    }
}

/// Checks a two-sided confidence level and returns its normal critical value
/// `z = Φ⁻¹(1 − α/2)` with `α = 1 − level`.
pub(crate) fn z_for_level(level: f64) -> Result<f64, StatsError> {
    check_level(level)?;
    Ok(normal_quantile(0.5 + 0.5 * level))
}

pub(crate) fn check_level(level: f64) -> Result<(), StatsError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidLevel(level))
    }
}

/// Checks a probability parameter lies strictly inside (0, 1).
pub(crate) fn check_probability(name: &'static str, value: f64) -> Result<(), StatsError> {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidProbability { name, value })
    }
}
