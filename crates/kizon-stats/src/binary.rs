//! Accuracy of a binary test against a reference standard, from its 2×2 table.
//!
//! Proportions (sensitivity, specificity, PPV, NPV, accuracy, prevalence) use the
//! chosen [`ProportionCi`]. PPV and NPV intervals treat them as plain binomial
//! proportions, which is right when the study prevalence is the target prevalence.
//!
//! Likelihood ratios and the diagnostic odds ratio use the log method: Simel, Samsa &
//! Matchar (1991), *J Clin Epidemiol* 44:763–770, for LR±, and Woolf's log odds ratio
//! variance (Glas et al. 2003, *J Clin Epidemiol* 56:1129–1135) for the DOR, with the
//! normal critical value of `level` whatever the proportion method.
//!
//! **Zero cells.** When any of TP, FP, FN, TN is zero but there are both diseased and
//! non-diseased cases, LR+, LR− and DOR (estimate and interval) are computed after
//! adding ½ to all four cells (Haldane 1956, *Ann Hum Genet* 20:309–311; Anscombe 1956,
//! *Biometrika* 43:461–464), so they stay finite and
//! their log-scale intervals defined. With no diseased or no non-diseased case they are
//! not estimable (`None`).
//!
//! Youden's J = Se + Sp − 1 has the MOVER ("square-and-add") interval of Newcombe
//! (1998), *Stat Med* 17:873–890, method 10, built from the chosen intervals of Se and
//! Sp (independent samples); clipped to [−1, 1].

use serde::{Deserialize, Serialize};

use crate::error::StatsError;
use crate::estimate::{Estimate, z_for_level};
use crate::proportion::{ProportionCi, proportion_ci};

/// Counts of a binary test against a reference standard (or a comparator method).
/// Serialises with keys `tp`, `fp`, `fn`, `tn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoByTwo {
    /// Test positive, reference positive.
    pub tp: u64,
    /// Test positive, reference negative.
    pub fp: u64,
    /// Test negative, reference positive.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Test negative, reference negative.
    pub tn: u64,
}

impl TwoByTwo {
    pub fn new(tp: u64, fp: u64, fn_: u64, tn: u64) -> Self {
        TwoByTwo { tp, fp, fn_, tn }
    }

    /// Builds the table from paired test results and reference labels (`true` =
    /// positive).
    pub fn from_pairs(test: &[bool], reference: &[bool]) -> Result<Self, StatsError> {
        if test.len() != reference.len() {
            return Err(StatsError::LengthMismatch {
                what: "test results and reference labels",
                left: test.len(),
                right: reference.len(),
            });
        }
        let mut t = TwoByTwo::new(0, 0, 0, 0);
        for (&y, &r) in test.iter().zip(reference) {
            match (y, r) {
                (true, true) => t.tp += 1,
                (true, false) => t.fp += 1,
                (false, true) => t.fn_ += 1,
                (false, false) => t.tn += 1,
            }
        }
        Ok(t)
    }

    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.fn_ + self.tn
    }

    /// Reference-positive cases (TP + FN).
    pub fn diseased(&self) -> u64 {
        self.tp + self.fn_
    }

    /// Reference-negative cases (FP + TN).
    pub fn non_diseased(&self) -> u64 {
        self.fp + self.tn
    }
}

/// Diagnostic accuracy of a binary test. Each field is an [`Estimate`], or `null` when
/// the table cannot estimate it (e.g. sensitivity with no diseased case).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BinaryAccuracy {
    pub sensitivity: Option<Estimate>,
    pub specificity: Option<Estimate>,
    pub ppv: Option<Estimate>,
    pub npv: Option<Estimate>,
    pub accuracy: Option<Estimate>,
    pub prevalence: Option<Estimate>,
    pub lr_positive: Option<Estimate>,
    pub lr_negative: Option<Estimate>,
    pub dor: Option<Estimate>,
    pub youden: Option<Estimate>,
}

/// All accuracy measures of a 2×2 table with two-sided intervals at `level`.
pub fn binary_accuracy(
    table: &TwoByTwo,
    ci: ProportionCi,
    level: f64,
) -> Result<BinaryAccuracy, StatsError> {
    let z = z_for_level(level)?;
    let t = table;
    let sensitivity = proportion_ci(t.tp, t.diseased(), ci, level)?;
    let specificity = proportion_ci(t.tn, t.non_diseased(), ci, level)?;
    let (lr_positive, lr_negative, dor) = ratios(t, z);
    Ok(BinaryAccuracy {
        sensitivity,
        specificity,
        ppv: proportion_ci(t.tp, t.tp + t.fp, ci, level)?,
        npv: proportion_ci(t.tn, t.tn + t.fn_, ci, level)?,
        accuracy: proportion_ci(t.tp + t.tn, t.total(), ci, level)?,
        prevalence: proportion_ci(t.diseased(), t.total(), ci, level)?,
        lr_positive,
        lr_negative,
        dor,
        youden: sensitivity.zip(specificity).map(|(se, sp)| youden(se, sp)),
    })
}

/// LR+, LR− and DOR with log-method intervals, Haldane–Anscombe corrected when a cell
/// is zero (see the module doc).
fn ratios(t: &TwoByTwo, z: f64) -> (Option<Estimate>, Option<Estimate>, Option<Estimate>) {
    if t.diseased() == 0 || t.non_diseased() == 0 {
        return (None, None, None);
    }
    let correction = if [t.tp, t.fp, t.fn_, t.tn].contains(&0) {
        0.5
    } else {
        0.0
    };
    let [tp, fp, fn_, tn] = [t.tp, t.fp, t.fn_, t.tn].map(|c| c as f64 + correction);
    let (d, nd) = (tp + fn_, fp + tn);
    let lr_pos = log_interval(
        (tp / d) / (fp / nd),
        (1.0 / tp - 1.0 / d + 1.0 / fp - 1.0 / nd).sqrt(),
        z,
    );
    let lr_neg = log_interval(
        (fn_ / d) / (tn / nd),
        (1.0 / fn_ - 1.0 / d + 1.0 / tn - 1.0 / nd).sqrt(),
        z,
    );
    let dor = log_interval(
        tp * tn / (fp * fn_),
        (1.0 / tp + 1.0 / fp + 1.0 / fn_ + 1.0 / tn).sqrt(),
        z,
    );
    (Some(lr_pos), Some(lr_neg), Some(dor))
}

/// `exp(ln(ratio) ± z·se_log)`.
fn log_interval(ratio: f64, se_log: f64, z: f64) -> Estimate {
    Estimate {
        estimate: ratio,
        lower: ratio * (-z * se_log).exp(),
        upper: ratio * (z * se_log).exp(),
    }
}

/// Youden's J with the MOVER interval of Newcombe (1998) method 10.
fn youden(se: Estimate, sp: Estimate) -> Estimate {
    let j = se.estimate + sp.estimate - 1.0;
    let down = (se.estimate - se.lower).hypot(sp.estimate - sp.lower);
    let up = (se.upper - se.estimate).hypot(sp.upper - sp.estimate);
    Estimate {
        estimate: j,
        lower: (j - down).max(-1.0),
        upper: (j + up).min(1.0),
    }
}
