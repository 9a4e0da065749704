//! `[[method_comparison]]`: the quantitative comparison of the device with its comparator on
//! the same specimens (相関性試験, CLSI EP09c), fixed with the protocol before any result is
//! seen: the regression or Bland–Altman analysis, its confidence level, the medical decision
//! points, and the acceptance criteria on slope, intercept and bias.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::ProtocolError;
use kizon_vocab::ComparisonMethod;

/// One pre-specified method comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodComparisonPlan {
    pub id: String,
    pub method: ComparisonMethod,
    /// The comparator's error variance over the device's (Deming, weighted Deming; default 1).
    pub error_ratio: f64,
    pub level: f64,
    /// Medical decision points at which the bias is estimated (regressions).
    pub decision_points: Vec<f64>,
    /// The slope's confidence interval must lie within `[low, high]`.
    pub slope_ci_within: Option<[f64; 2]>,
    /// The intercept's confidence interval must lie within `[low, high]`.
    pub intercept_ci_within: Option<[f64; 2]>,
    /// The bias (at every decision point for a regression; the mean difference for
    /// Bland–Altman) must lie within `[low, high]`: its confidence interval where the method
    /// gives one, else its estimate.
    pub bias_within: Option<[f64; 2]>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMethodComparison {
    id: String,
    method: ComparisonMethod,
    error_ratio: Option<Spanned<f64>>,
    level: Option<Spanned<f64>>,
    #[serde(default)]
    decision_points: Vec<f64>,
    slope_ci_within: Option<Spanned<[f64; 2]>>,
    intercept_ci_within: Option<Spanned<[f64; 2]>>,
    bias_within: Option<Spanned<[f64; 2]>>,
}

type Invalid<'a> = dyn Fn(std::ops::Range<usize>, &str, String, &str) -> ProtocolError + 'a;

/// Checks every `[[method_comparison]]`; `specimens` says whether the protocol collects them.
pub(crate) fn plans(
    raw: Vec<Spanned<RawMethodComparison>>,
    specimens: bool,
    invalid: &Invalid<'_>,
) -> Result<Vec<MethodComparisonPlan>, ProtocolError> {
    let mut plans: Vec<MethodComparisonPlan> = Vec::with_capacity(raw.len());
    for (index, spanned) in raw.into_iter().enumerate() {
        let span = spanned.span();
        let raw = spanned.into_inner();
        let key = |name: &str| format!("method_comparison[{index}].{name}");
        if !specimens {
            return Err(invalid(
                span,
                &key("method"),
                "a method comparison needs specimens, and `data_kinds` has no \"specimen\"".into(),
                "add \"specimen\" to [design] data_kinds, or remove the [[method_comparison]] (Q4)",
            ));
        }
        if plans.iter().any(|p| p.id == raw.id) {
            return Err(invalid(
                span,
                &key("id"),
                format!("id `{}` is used twice", raw.id),
                "give every [[method_comparison]] its own id",
            ));
        }
        let level = raw.level.map_or(0.95, Spanned::into_inner);
        if !(level > 0.5 && level < 1.0) {
            return Err(invalid(
                span,
                &key("level"),
                format!("{level} is not a confidence level"),
                "write it as a fraction, e.g. level = 0.95",
            ));
        }
        let error_ratio = raw.error_ratio.map_or(1.0, Spanned::into_inner);
        if !(error_ratio.is_finite() && error_ratio > 0.0) {
            return Err(invalid(
                span,
                &key("error_ratio"),
                format!("{error_ratio} is not a ratio of variances"),
                "the comparator's error variance over the device's, a number > 0 (default 1)",
            ));
        }
        if let Some(bad) = raw.decision_points.iter().find(|v| !v.is_finite()) {
            return Err(invalid(
                span,
                &key("decision_points"),
                format!("{bad} is not a level"),
                "list the medical decision points in the protocol's unit, e.g. [6.5, 7.0]",
            ));
        }
        let regression = raw.method != ComparisonMethod::BlandAltman;
        for (name, range) in [
            ("slope_ci_within", &raw.slope_ci_within),
            ("intercept_ci_within", &raw.intercept_ci_within),
            ("bias_within", &raw.bias_within),
        ] {
            let Some(range) = range else { continue };
            let [low, high] = *range.get_ref();
            if !(low.is_finite() && high.is_finite() && low < high) {
                return Err(invalid(
                    range.span(),
                    &key(name),
                    format!("[{low}, {high}] is not a range"),
                    "write [low, high] with low < high",
                ));
            }
            if !regression && name != "bias_within" {
                return Err(invalid(
                    range.span(),
                    &key(name),
                    "Bland–Altman has no slope or intercept".into(),
                    "set bias_within, or choose a regression (passing-bablok, deming, weighted-deming, ols)",
                ));
            }
        }
        if regression && raw.bias_within.is_some() && raw.decision_points.is_empty() {
            return Err(invalid(
                span,
                &key("bias_within"),
                "a regression's bias is judged at decision points, and none are given".into(),
                "add decision_points = [...] in the protocol's unit",
            ));
        }
        plans.push(MethodComparisonPlan {
            id: raw.id,
            method: raw.method,
            error_ratio,
            level,
            decision_points: raw.decision_points,
            slope_ci_within: raw.slope_ci_within.map(Spanned::into_inner),
            intercept_ci_within: raw.intercept_ci_within.map(Spanned::into_inner),
            bias_within: raw.bias_within.map(Spanned::into_inner),
        });
    }
    Ok(plans)
}
