//! Power and number of cases of a two-modality MRMC study planned from the
//! Obuchowski–Rockette components of a pilot study (Hillis, Obuchowski & Berbaum 2011,
//! *Acad Radiol* 18:129–142, eq. 10 and Table 2).
//!
//! The pilot's error variance and covariances, estimated on `K*` cases, are scaled to `K`
//! cases by `K*/K`; the reader × modality variance `σ²_TR` does not depend on the cases.
//! A negative `σ²_TR` (an ANOVA estimate) is taken as 0, as in RJafroc, and reported.
//! For an effect `d` (the difference of the modality AUCs to detect) with `J` readers:
//!
//! - random readers and cases: `den = σ²_TR + (K*/K)[Var − Cov1 + (J − 1)·max(Cov2 − Cov3, 0)]`,
//!   `ddf = den² / {[σ²_TR + (K*/K)(Var − Cov1 − max(Cov2 − Cov3, 0))]² / (J − 1)}`,
//!   noncentrality `λ = J·d²/(2·den)`, power `P(F(1, ddf; λ) > F₁₋α(1, ddf))`;
//! - fixed readers: `den = (K*/K)[Var − Cov1 + (J − 1)·max(Cov2 − Cov3, 0)]`, a
//!   noncentral χ²₁ against `χ²₁,₁₋α`;
//! - fixed cases: `den = σ²_TR + (K*/K)[Var − Cov1 − max(Cov2 − Cov3, 0)]` on `J − 1`
//!   degrees of freedom.
//!
//! [`mrmc_cases`] finds the smallest number of cases whose power exceeds the target, as
//! RJafroc's `SsSampleSizeKGivenJ` does; the tests reproduce RJafroc's expected values for
//! the Van Dyke pilot.

use serde::Serialize;

use crate::dist::{f_upper_quantile, noncentral_chi_square_sf, noncentral_f_sf, normal_quantile};
use crate::error::StatsError;
use crate::estimate::check_probability;
use crate::mrmc::OrComponents;

/// The OR components of a pilot study and its number of cases.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OrPilot {
    pub cases: u64,
    pub var_tr: f64,
    pub var_error: f64,
    pub cov1: f64,
    pub cov2: f64,
    pub cov3: f64,
}

impl OrPilot {
    /// The pilot as [`crate::obuchowski_rockette`] estimated it on `cases` cases.
    pub fn from_components(components: &OrComponents, cases: u64) -> Self {
        OrPilot {
            cases,
            var_tr: components.var_tr,
            var_error: components.var_error,
            cov1: components.cov1,
            cov2: components.cov2,
            cov3: components.cov3,
        }
    }
}

/// Power of one analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnalysisPower {
    /// `null` when the planned variance is not positive.
    pub power: Option<f64>,
    pub ncp: Option<f64>,
    /// Denominator degrees of freedom; `null` for the chi-square test (fixed readers).
    pub df2: Option<f64>,
    /// The critical value of the test (F, or χ² for fixed readers).
    pub critical: Option<f64>,
}

/// Power of a planned study under the three analyses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MrmcPower {
    pub readers: u64,
    pub cases: u64,
    pub effect: f64,
    pub alpha: f64,
    pub random_readers_random_cases: AnalysisPower,
    pub fixed_readers_random_cases: AnalysisPower,
    pub random_readers_fixed_cases: AnalysisPower,
    /// The pilot's `σ²_TR` was negative and was taken as 0.
    pub var_tr_clipped: bool,
}

fn check(
    pilot: &OrPilot,
    readers: u64,
    cases: u64,
    effect: f64,
    alpha: f64,
) -> Result<(), StatsError> {
    check_probability("alpha", alpha)?;
    if readers < 2 || cases < 1 || pilot.cases < 1 {
        return Err(StatsError::InvalidArgument(format!(
            "MRMC power needs at least 2 readers and 1 case (pilot: 1 case), got {readers} readers, {cases} cases, pilot {} cases",
            pilot.cases
        )));
    }
    let values = [
        effect,
        pilot.var_tr,
        pilot.var_error,
        pilot.cov1,
        pilot.cov2,
        pilot.cov3,
    ];
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(StatsError::NonFinite {
            what: "effect or pilot component",
            index,
            value,
        });
    }
    Ok(())
}

/// Power to detect a difference `effect` between two modalities with `readers` readers
/// and `cases` cases at two-sided level `alpha`, from the `pilot`.
pub fn mrmc_power(
    pilot: &OrPilot,
    readers: u64,
    cases: u64,
    effect: f64,
    alpha: f64,
) -> Result<MrmcPower, StatsError> {
    check(pilot, readers, cases, effect, alpha)?;
    let j = readers as f64;
    let scale = pilot.cases as f64 / cases as f64;
    let var_tr = pilot.var_tr.max(0.0);
    let cov23 = (pilot.cov2 - pilot.cov3).max(0.0);
    let ncp = |den: f64| effect * effect * j / (2.0 * den);
    let rrrc = {
        let den = var_tr + scale * (pilot.var_error - pilot.cov1 + (j - 1.0) * cov23);
        let inner = var_tr + scale * (pilot.var_error - pilot.cov1 - cov23);
        if den > 0.0 {
            let df2 = if inner != 0.0 {
                den * den / (inner * inner / (j - 1.0))
            } else {
                f64::INFINITY
            };
            f_power(ncp(den), df2, alpha)
        } else {
            AnalysisPower::undefined()
        }
    };
    let frrc = {
        let den = scale * (pilot.var_error - pilot.cov1 + (j - 1.0) * cov23);
        if den > 0.0 {
            let z = normal_quantile(1.0 - 0.5 * alpha);
            let critical = z * z;
            let lambda = ncp(den);
            AnalysisPower {
                power: Some(noncentral_chi_square_sf(critical, 1.0, lambda)),
                ncp: Some(lambda),
                df2: None,
                critical: Some(critical),
            }
        } else {
            AnalysisPower::undefined()
        }
    };
    let rrfc = {
        let den = var_tr + scale * (pilot.var_error - pilot.cov1 - cov23);
        if den > 0.0 {
            f_power(ncp(den), j - 1.0, alpha)
        } else {
            AnalysisPower::undefined()
        }
    };
    Ok(MrmcPower {
        readers,
        cases,
        effect,
        alpha,
        random_readers_random_cases: rrrc,
        fixed_readers_random_cases: frrc,
        random_readers_fixed_cases: rrfc,
        var_tr_clipped: pilot.var_tr < 0.0,
    })
}

impl AnalysisPower {
    fn undefined() -> Self {
        AnalysisPower {
            power: None,
            ncp: None,
            df2: None,
            critical: None,
        }
    }
}

fn f_power(lambda: f64, df2: f64, alpha: f64) -> AnalysisPower {
    let critical = if df2.is_infinite() {
        let z = normal_quantile(1.0 - 0.5 * alpha);
        z * z
    } else {
        f_upper_quantile(alpha, 1.0, df2)
    };
    AnalysisPower {
        power: Some(noncentral_f_sf(critical, 1.0, df2, lambda)),
        ncp: Some(lambda),
        df2: df2.is_finite().then_some(df2),
        critical: Some(critical),
    }
}

/// The smallest number of cases (2 to `max_cases`) whose power exceeds `power` under each
/// analysis, with `readers` readers; `None` where `max_cases` is not enough.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MrmcCases {
    pub readers: u64,
    pub effect: f64,
    pub alpha: f64,
    pub target_power: f64,
    pub random_readers_random_cases: Option<MrmcPower>,
    pub fixed_readers_random_cases: Option<MrmcPower>,
    pub random_readers_fixed_cases: Option<MrmcPower>,
}

/// Cases needed for each analysis (a linear search, as RJafroc's `SsSampleSizeKGivenJ`).
pub fn mrmc_cases(
    pilot: &OrPilot,
    readers: u64,
    effect: f64,
    alpha: f64,
    power: f64,
    max_cases: u64,
) -> Result<MrmcCases, StatsError> {
    check_probability("power", power)?;
    check(pilot, readers, 2, effect, alpha)?;
    type Pick = fn(&MrmcPower) -> AnalysisPower;
    let picks: [Pick; 3] = [
        |p| p.random_readers_random_cases,
        |p| p.fixed_readers_random_cases,
        |p| p.random_readers_fixed_cases,
    ];
    let mut found: [Option<MrmcPower>; 3] = [None, None, None];
    for cases in 2..=max_cases.max(2) {
        if found.iter().all(Option::is_some) {
            break;
        }
        let p = mrmc_power(pilot, readers, cases, effect, alpha)?;
        for (slot, pick) in found.iter_mut().zip(picks) {
            if slot.is_none() && pick(&p).power.is_some_and(|x| x > power) {
                *slot = Some(p.clone());
            }
        }
    }
    let [rrrc, frrc, rrfc] = found;
    Ok(MrmcCases {
        readers,
        effect,
        alpha,
        target_power: power,
        random_readers_random_cases: rrrc,
        fixed_readers_random_cases: frrc,
        random_readers_fixed_cases: rrfc,
    })
}
