//! Confidence intervals for a single binomial proportion `x / n`.
//!
//! - Wilson score interval: Wilson (1927), *JASA* 22:209–212. The default: good
//!   coverage and never outside [0, 1] (Brown, Cai & DasGupta 2001).
//! - Clopper–Pearson "exact" interval: Clopper & Pearson (1934), *Biometrika*
//!   26:404–413, from beta quantiles.
//! - Agresti–Coull: Agresti & Coull (1998), *Am. Stat.* 52:119–126; Wald interval
//!   around `(x + z²/2)/(n + z²)`, clipped to [0, 1] (as statsmodels does).
//! - Jeffreys: equal-tailed Beta(x + ½, n − x + ½) posterior interval, with the
//!   boundary modification of Brown, Cai & DasGupta (2001), *Stat. Sci.* 16:101–133:
//!   lower = 0 when x = 0 and upper = 1 when x = n (statsmodels does not apply it).
//!
//! For all methods, x = 0 gives lower = 0 and x = n gives upper = 1 exactly, and
//! n = 0 is not estimable (`None`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::dist::beta_quantile;
use crate::error::StatsError;
use crate::estimate::{Estimate, z_for_level};

/// The interval method for a proportion. Serialises in kebab case
/// (`wilson`, `clopper-pearson`, `agresti-coull`, `jeffreys`), as written in protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProportionCi {
    #[default]
    Wilson,
    ClopperPearson,
    AgrestiCoull,
    Jeffreys,
}

impl ProportionCi {
    /// Every method, in documentation order.
    pub const ALL: [ProportionCi; 4] = [
        ProportionCi::Wilson,
        ProportionCi::ClopperPearson,
        ProportionCi::AgrestiCoull,
        ProportionCi::Jeffreys,
    ];

    /// The kebab-case name used in protocols and JSON.
    pub fn name(self) -> &'static str {
        match self {
            ProportionCi::Wilson => "wilson",
            ProportionCi::ClopperPearson => "clopper-pearson",
            ProportionCi::AgrestiCoull => "agresti-coull",
            ProportionCi::Jeffreys => "jeffreys",
        }
    }
}

impl fmt::Display for ProportionCi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ProportionCi {
    type Err = StatsError;

    /// Accepts the kebab-case names, case-insensitively, with `_` for `-`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        ProportionCi::ALL
            .into_iter()
            .find(|m| m.name() == wanted)
            .ok_or_else(|| StatsError::UnknownName {
                kind: "proportion CI method",
                name: s.to_string(),
                expected: "wilson, clopper-pearson, agresti-coull, jeffreys",
            })
    }
}

/// The proportion `x / n` with a two-sided confidence interval at `level`.
///
/// Returns `Ok(None)` when `n = 0` (nothing to estimate) and an error when `x > n` or
/// the level is outside (0, 1).
pub fn proportion_ci(
    x: u64,
    n: u64,
    method: ProportionCi,
    level: f64,
) -> Result<Option<Estimate>, StatsError> {
    let z = z_for_level(level)?;
    if x > n {
        return Err(StatsError::CountExceedsTotal {
            what: "successes",
            count: x,
            total: n,
        });
    }
    if n == 0 {
        return Ok(None);
    }
    let alpha = 1.0 - level;
    let (xf, nf) = (x as f64, n as f64);
    let p = xf / nf;
    let (lower, upper) = match method {
        ProportionCi::Wilson => {
            let z2 = z * z;
            let centre = (xf + 0.5 * z2) / (nf + z2);
            let half = z * nf.sqrt() / (nf + z2) * (p * (1.0 - p) + z2 / (4.0 * nf)).sqrt();
            (centre - half, centre + half)
        }
        ProportionCi::ClopperPearson => (
            beta_quantile(0.5 * alpha, xf, nf - xf + 1.0),
            beta_quantile(1.0 - 0.5 * alpha, xf + 1.0, nf - xf),
        ),
        ProportionCi::AgrestiCoull => {
            let n_tilde = nf + z * z;
            let p_tilde = (xf + 0.5 * z * z) / n_tilde;
            let half = z * (p_tilde * (1.0 - p_tilde) / n_tilde).sqrt();
            (p_tilde - half, p_tilde + half)
        }
        ProportionCi::Jeffreys => (
            beta_quantile(0.5 * alpha, xf + 0.5, nf - xf + 0.5),
            beta_quantile(1.0 - 0.5 * alpha, xf + 0.5, nf - xf + 0.5),
        ),
    };
    // The boundary cases are set analytically: formulas would give ±1e-17 noise, and
    // beta quantiles with a zero shape parameter are undefined.
    let lower = if x == 0 { 0.0 } else { lower.clamp(0.0, 1.0) };
    let upper = if x == n { 1.0 } else { upper.clamp(0.0, 1.0) };
    Ok(Some(Estimate {
        estimate: p,
        lower,
        upper,
    }))
}
