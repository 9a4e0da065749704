//! Pre-specified acceptance criteria and their verdicts, in English and Japanese.
//!
//! A protocol states each endpoint as a TOML table:
//!
//! ```toml
//! [[endpoints]]
//! metric = "sensitivity"
//! ci = "wilson"
//! level = 0.95
//! lower_bound_at_least = 0.80
//! ```
//!
//! The computed estimate passes when it meets every bound the criterion gives
//! (`lower_bound_at_least`, `estimate_at_least`, `upper_bound_at_most`); a metric the
//! data cannot estimate fails. The protocol layer computes the estimate with the
//! criterion's `ci` and `level` and hands it to [`evaluate`].

use serde::{Deserialize, Serialize};

use crate::agreement::Agreement;
use crate::binary::BinaryAccuracy;
use crate::error::StatsError;
use crate::estimate::{Estimate, check_level};
use crate::proportion::ProportionCi;

pub use kizon_vocab::Metric;

impl BinaryAccuracy {
    /// One metric of this result; `None` if it is not a binary-accuracy metric or is not
    /// estimable.
    pub fn estimate_of(&self, metric: Metric) -> Option<Estimate> {
        match metric {
            Metric::Sensitivity => self.sensitivity,
            Metric::Specificity => self.specificity,
            Metric::Ppv => self.ppv,
            Metric::Npv => self.npv,
            Metric::Accuracy => self.accuracy,
            Metric::Prevalence => self.prevalence,
            Metric::LrPositive => self.lr_positive,
            Metric::LrNegative => self.lr_negative,
            Metric::Dor => self.dor,
            Metric::Youden => self.youden,
            Metric::Ppa | Metric::Npa | Metric::Opa | Metric::Kappa | Metric::Auc => None,
        }
    }
}

impl Agreement {
    /// One metric of this result; `None` if it is not an agreement metric or is not
    /// estimable.
    pub fn estimate_of(&self, metric: Metric) -> Option<Estimate> {
        match metric {
            Metric::Ppa => self.ppa,
            Metric::Npa => self.npa,
            Metric::Opa => self.opa,
            Metric::Kappa => self.kappa,
            Metric::Sensitivity
            | Metric::Specificity
            | Metric::Ppv
            | Metric::Npv
            | Metric::Accuracy
            | Metric::Prevalence
            | Metric::LrPositive
            | Metric::LrNegative
            | Metric::Dor
            | Metric::Youden
            | Metric::Auc => None,
        }
    }
}

fn default_level() -> f64 {
    0.95
}

/// One pre-specified acceptance criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub metric: Metric,
    /// Interval method for proportions (default Wilson); ignored for other metrics.
    #[serde(default)]
    pub ci: ProportionCi,
    /// Two-sided confidence level (default 0.95).
    #[serde(default = "default_level")]
    pub level: f64,
    #[serde(default, alias = "lower-bound-at-least")]
    pub lower_bound_at_least: Option<f64>,
    #[serde(default, alias = "estimate-at-least")]
    pub estimate_at_least: Option<f64>,
    #[serde(default, alias = "upper-bound-at-most")]
    pub upper_bound_at_most: Option<f64>,
}

/// The outcome of a criterion. `estimate`, `lower` and `upper` are `null` when the
/// metric was not estimable; `threshold` is the first bound the criterion gives, in the
/// order lower bound, estimate, upper bound.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub metric: Metric,
    pub pass: bool,
    pub estimate: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub threshold: f64,
    pub explanation_en: String,
    pub explanation_ja: String,
}

/// Which part of an estimate a criterion bounds.
#[derive(Debug, Clone, Copy)]
enum Bound {
    Lower,
    Estimate,
    Upper,
}

impl Bound {
    fn value(self, e: &Estimate) -> f64 {
        match self {
            Bound::Lower => e.lower,
            Bound::Estimate => e.estimate,
            Bound::Upper => e.upper,
        }
    }

    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Bound::Lower | Bound::Estimate => value >= threshold,
            Bound::Upper => value <= threshold,
        }
    }

    fn names(self) -> (&'static str, &'static str) {
        match self {
            Bound::Lower => ("lower bound", "下限"),
            Bound::Estimate => ("estimate", "点推定値"),
            Bound::Upper => ("upper bound", "上限"),
        }
    }
}

/// Judges `estimate` (computed with the criterion's `ci` and `level`) against the
/// criterion. Errors when the criterion gives no bound or a bad level.
pub fn evaluate(criterion: &Criterion, estimate: Option<Estimate>) -> Result<Verdict, StatsError> {
    check_level(criterion.level)?;
    let checks: Vec<(Bound, f64)> = [
        (Bound::Lower, criterion.lower_bound_at_least),
        (Bound::Estimate, criterion.estimate_at_least),
        (Bound::Upper, criterion.upper_bound_at_most),
    ]
    .into_iter()
    .filter_map(|(bound, t)| t.map(|t| (bound, t)))
    .collect();
    let Some(&(_, threshold)) = checks.first() else {
        return Err(StatsError::InvalidArgument(format!(
            "the criterion for {:?} gives no bound: set lower_bound_at_least, estimate_at_least or upper_bound_at_most",
            criterion.metric
        )));
    };
    let (name_en, name_ja) = criterion.metric.names();
    let pct = format!("{}", criterion.level * 100.0);
    let (method_en, method_ja) = if criterion.metric.is_proportion() {
        let name = match criterion.ci {
            ProportionCi::Wilson => "Wilson",
            ProportionCi::ClopperPearson => "Clopper-Pearson",
            ProportionCi::AgrestiCoull => "Agresti-Coull",
            ProportionCi::Jeffreys => "Jeffreys",
        };
        (format!(", {name}"), format!("、{name}法"))
    } else {
        (String::new(), String::new())
    };
    let Some(e) = estimate else {
        return Ok(Verdict {
            metric: criterion.metric,
            pass: false,
            estimate: None,
            lower: None,
            upper: None,
            threshold,
            explanation_en: format!("{name_en}: not estimable from the data — fail."),
            explanation_ja: format!("{name_ja}：データから推定できません — 不合格"),
        });
    };
    let mut pass = true;
    let mut parts_en = Vec::new();
    let mut parts_ja = Vec::new();
    for &(bound, t) in &checks {
        let v = bound.value(&e);
        let ok = bound.holds(v, t);
        pass &= ok;
        let sign = match (bound, ok) {
            (Bound::Upper, true) => "≤",
            (Bound::Upper, false) => ">",
            (_, true) => "≥",
            (_, false) => "<",
        };
        let (what_en, what_ja) = bound.names();
        parts_en.push(format!("{what_en} {v:.3} {sign} {t:.3}"));
        parts_ja.push(format!("{what_ja} {v:.3} {sign} {t:.3}"));
    }
    let (verdict_en, verdict_ja) = if pass {
        ("pass", "合格")
    } else {
        ("fail", "不合格")
    };
    Ok(Verdict {
        metric: criterion.metric,
        pass,
        estimate: Some(e.estimate),
        lower: Some(e.lower),
        upper: Some(e.upper),
        threshold,
        explanation_en: format!(
            "{name_en} {:.3} ({pct}% CI {:.3}–{:.3}{method_en}): {} — {verdict_en}.",
            e.estimate,
            e.lower,
            e.upper,
            parts_en.join("; ")
        ),
        explanation_ja: format!(
            "{name_ja} {:.3}（{pct}%信頼区間 {:.3}–{:.3}{method_ja}）：{} — {verdict_ja}",
            e.estimate,
            e.lower,
            e.upper,
            parts_ja.join("、")
        ),
    })
}
