//! The correlation study (相関性試験, CLSI EP09c) of `kizon analyze`: each pre-specified
//! `[[method_comparison]]` computed on the locked dataset's specimens, judged against its
//! acceptance criteria.
//!
//! The pairs are the comparator's and the device's values of each specimen record in the
//! dataset, read back and hashed again against the dataset's leaf (the record is what the
//! Merkle root fixed). A specimen whose value is censored (`<x`, `>x`) or missing is not
//! analysed and is listed with the reason, never dropped in silence.

use kizon_calc::Comparison;
use kizon_formats::specimen::Value;
use kizon_protocol::{ComparisonMethod, MethodComparisonPlan};

use super::*;

/// One method comparison as the analysis stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodComparisonResult {
    pub id: String,
    pub method: ComparisonMethod,
    pub level: f64,
    /// Specimens analysed (both values numbers).
    pub n: usize,
    /// `[case, comparator, device]` of every specimen analysed, for the plots and a reviewer's
    /// recomputation.
    pub pairs: Vec<(String, f64, f64)>,
    /// Specimens of the dataset left out of this comparison, with why.
    pub not_analysed: Vec<NotAnalysed>,
    /// The statistics with the keys of `kizon stats method-comparison --json` (`slope`,
    /// `slope_ci`, `intercept`, `intercept_ci`, … or `bias`, `bias_ci`, `loa`, …),
    /// `correlation` and `bias_at`.
    pub statistics: serde_json::Value,
    pub criteria: Vec<CriterionResult>,
    /// `None` when the protocol sets no criterion.
    pub pass: Option<bool>,
    /// The confidence band of the fitted line, `[x, lower, upper]` on a grid over the
    /// comparator's range and at the decision points: the interval of the predicted value
    /// `b₀ + b₁·x` as mcr's `calcBias` gives it (Deming and weighted Deming by Linnet's
    /// jackknife, OLS analytically). Empty for Passing–Bablok (no analytical band; mcr
    /// bootstraps one) and Bland–Altman.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub band: Vec<[f64; 3]>,
}

/// Points of the band: this many steps over the comparator's range.
const BAND_STEPS: usize = 40;

/// The band of `fit` over `[low, high]` and at `extra` levels; empty where the method gives no
/// interval of the bias.
fn band(
    fit: &kizon_stats::method_comparison::Regression,
    low: f64,
    high: f64,
    extra: &[f64],
) -> Vec<[f64; 3]> {
    let mut levels: Vec<f64> = (0..=BAND_STEPS)
        .map(|i| low + (high - low) * i as f64 / BAND_STEPS as f64)
        .chain(extra.iter().copied().filter(|v| (low..=high).contains(v)))
        .collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    let Ok(points) = fit.bias_at(&levels) else {
        return Vec::new();
    };
    points
        .iter()
        .map_while(|p| {
            let [lo, hi] = p.bias_ci?;
            Some([p.level, p.level + lo, p.level + hi])
        })
        .collect()
}

/// A specimen not in a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotAnalysed {
    pub case_id: String,
    pub reason: String,
}

/// One acceptance criterion, judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionResult {
    /// `slope`, `intercept`, `bias` or `bias at X`.
    pub quantity: String,
    pub within: [f64; 2],
    /// What was judged: the interval, or the estimate where the method gives no interval
    /// (Passing–Bablok's bias at a decision point).
    pub judged: [f64; 2],
    pub judged_on: String,
    pub pass: bool,
}

/// Whether `[lo, hi]` lies within `within` (bounds included).
fn inside(judged: [f64; 2], within: [f64; 2]) -> bool {
    judged[0] >= within[0] && judged[1] <= within[1]
}

fn criterion(
    quantity: String,
    within: [f64; 2],
    ci: Option<[f64; 2]>,
    estimate: f64,
) -> CriterionResult {
    let (judged, judged_on) = match ci {
        Some(ci) => (ci, "confidence interval"),
        None => (
            [estimate, estimate],
            "estimate (the method gives no interval)",
        ),
    };
    CriterionResult {
        quantity,
        within,
        judged,
        judged_on: judged_on.into(),
        pass: inside(judged, within),
    }
}

impl Study {
    /// Every `[[method_comparison]]` of the protocol on the dataset's specimens.
    pub(super) fn method_comparisons(
        &self,
        plans: &[MethodComparisonPlan],
        dataset: &Dataset,
    ) -> Result<Vec<MethodComparisonResult>, AppError> {
        if plans.is_empty() {
            return Ok(Vec::new());
        }
        // The dataset's specimen records, each checked against the hash the dataset fixed.
        let records: BTreeMap<String, kizon_formats::specimen::SpecimenRecord> = self
            .items()?
            .into_iter()
            .filter_map(|item| Some((item.sha256, item.metadata.specimen?)))
            .collect();
        let mut values = Vec::new();
        let mut not_analysed = Vec::new();
        for case in &dataset.cases {
            for item in case
                .items
                .iter()
                .filter(|i| i.kind == kizon_vocab::ItemKind::Specimen)
            {
                let record = records.get(&item.sha256).ok_or_else(|| {
                    AppError::Store(kizon_store::StoreError::Tampered(format!(
                        "the locked dataset's specimen of case {} ({}) is not among the recorded specimens",
                        case.id, item.sha256
                    )))
                })?;
                if sha256_hex(&record.canonical_bytes()) != item.sha256 {
                    return Err(AppError::Store(kizon_store::StoreError::Tampered(format!(
                        "the specimen record of case {} no longer hashes to the dataset's {}",
                        case.id, item.sha256
                    ))));
                }
                let comparator = record.comparator.parsed_value();
                let device = record.device.parsed_value();
                match (comparator, device) {
                    (Some(Value::Number(x)), Some(Value::Number(y))) => {
                        values.push((case.id.clone(), x, y))
                    }
                    (c, d) => {
                        let why = |v: Option<Value>, method: &str, written: &Option<String>| match v
                        {
                            None => Some(format!("no {method} value")),
                            Some(Value::Number(_)) => None,
                            Some(_) => Some(format!(
                                "{method} value {} is censored",
                                written.as_deref().unwrap_or("")
                            )),
                        };
                        let reasons: Vec<String> = [
                            why(c, "comparator", &record.comparator.value),
                            why(d, "device", &record.device.value),
                        ]
                        .into_iter()
                        .flatten()
                        .collect();
                        not_analysed.push(NotAnalysed {
                            case_id: case.id.clone(),
                            reason: reasons.join("; "),
                        });
                    }
                }
            }
        }
        let x: Vec<f64> = values.iter().map(|v| v.1).collect();
        let y: Vec<f64> = values.iter().map(|v| v.2).collect();
        plans
            .iter()
            .map(|plan| {
                let (comparison, bias_at) = kizon_calc::compare_pairs(
                    &x,
                    &y,
                    plan.method,
                    plan.error_ratio,
                    plan.level,
                    &plan.decision_points,
                )
                .map_err(|e| AppError::Refused {
                    what: format!("method comparison `{}`: {e}", plan.id),
                    hint: e.hint(),
                })?;
                let mut criteria = Vec::new();
                let (low, high) = x
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                        (lo.min(*v), hi.max(*v))
                    });
                let band = match &comparison {
                    Comparison::Regression(fit) => band(fit, low, high, &plan.decision_points),
                    Comparison::BlandAltman(_) => Vec::new(),
                };
                match &comparison {
                    Comparison::Regression(fit) => {
                        if let Some(within) = plan.slope_ci_within {
                            criteria.push(criterion(
                                "slope".into(),
                                within,
                                fit.slope_ci,
                                fit.slope,
                            ));
                        }
                        if let Some(within) = plan.intercept_ci_within {
                            criteria.push(criterion(
                                "intercept".into(),
                                within,
                                fit.intercept_ci,
                                fit.intercept,
                            ));
                        }
                        if let Some(within) = plan.bias_within {
                            for point in &bias_at {
                                criteria.push(criterion(
                                    format!("bias at {}", point.level),
                                    within,
                                    point.bias_ci,
                                    point.bias,
                                ));
                            }
                        }
                    }
                    Comparison::BlandAltman(ba) => {
                        if let Some(within) = plan.bias_within {
                            criteria.push(criterion(
                                "bias".into(),
                                within,
                                Some(ba.absolute.bias_ci),
                                ba.absolute.bias,
                            ));
                        }
                    }
                }
                let pass = (!criteria.is_empty()).then(|| criteria.iter().all(|c| c.pass));
                let statistics = serde_json::to_value(kizon_calc::MethodComparison {
                    correlation: kizon_stats::method_comparison::correlation(&x, &y, plan.level),
                    comparison,
                    bias_at,
                    qualitative: None,
                })
                .expect("statistics serialise");
                Ok(MethodComparisonResult {
                    id: plan.id.clone(),
                    method: plan.method,
                    level: plan.level,
                    n: x.len(),
                    pairs: values.clone(),
                    not_analysed: not_analysed.clone(),
                    statistics,
                    criteria,
                    pass,
                    band,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_is_within_when_both_ends_are() {
        assert!(inside([0.95, 1.05], [0.95, 1.05]));
        assert!(!inside([0.94, 1.0], [0.95, 1.05]));
        assert!(!inside([1.0, 1.06], [0.95, 1.05]));
        let c = criterion("bias at 6.5".into(), [-0.2, 0.2], None, 0.1);
        assert!(c.pass);
        assert_eq!(c.judged, [0.1, 0.1]);
        assert!(c.judged_on.starts_with("estimate"));
    }
}
