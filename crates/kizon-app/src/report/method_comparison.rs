//! The correlation study (相関性試験) of the report, from the analysis' method comparisons: the
//! statistics read by their fixed keys (those of `kizon stats method-comparison --json`).

use kizon_protocol::ComparisonMethod;
use kizon_report::model::{self as m, Text};
use serde_json::Value;

use crate::analyze::MethodComparisonResult;

/// The method's name and how its intervals were made, in both languages.
fn method_name(method: ComparisonMethod) -> Text {
    match method {
        ComparisonMethod::PassingBablok => Text::new(
            "Passing–Bablok 回帰（解析的信頼区間、Passing & Bablok 1983）",
            "Passing–Bablok regression (analytical intervals, Passing & Bablok 1983)",
        ),
        ComparisonMethod::Deming => Text::new(
            "Deming 回帰（ジャックナイフ信頼区間、Linnet 1990）",
            "Deming regression (jackknife intervals, Linnet 1990)",
        ),
        ComparisonMethod::WeightedDeming => Text::new(
            "重み付き Deming 回帰（ジャックナイフ信頼区間、Linnet 1993）",
            "Weighted Deming regression (jackknife intervals, Linnet 1993)",
        ),
        ComparisonMethod::Ols => Text::new("最小二乗法による回帰", "Ordinary least squares"),
        ComparisonMethod::BlandAltman => Text::new(
            "Bland–Altman 法（一致限界の信頼区間は Bland & Altman 1999 の近似）",
            "Bland–Altman (limits-of-agreement intervals by Bland & Altman's 1999 approximation)",
        ),
    }
}

/// `key` and `key_ci` of `v` as an estimate with its interval.
fn estimate(v: &Value, key: &str, ci: &str) -> Option<m::LesionEstimate> {
    Some(m::LesionEstimate {
        estimate: v.get(key)?.as_f64()?,
        lower: v.get(ci).and_then(|c| c[0].as_f64()),
        upper: v.get(ci).and_then(|c| c[1].as_f64()),
    })
}

/// A correlation measure `{estimate, lower, upper}`.
fn correlation(v: &Value, key: &str) -> Option<m::LesionEstimate> {
    let e = v.get("correlation")?.get(key)?;
    Some(m::LesionEstimate {
        estimate: e.get("estimate")?.as_f64()?,
        lower: e.get("lower").and_then(Value::as_f64),
        upper: e.get("upper").and_then(Value::as_f64),
    })
}

pub(super) fn method_comparisons(
    all: &[MethodComparisonResult],
) -> Vec<m::MethodComparisonResults> {
    all.iter()
        .map(|c| {
            let s = &c.statistics;
            let quantity = |q: &str| match q.strip_prefix("bias at ") {
                Some(level) => Text::new(
                    format!("判断値 {level} での偏り"),
                    format!("Bias at {level}"),
                ),
                None => match q {
                    "slope" => Text::new("傾き", "Slope"),
                    "intercept" => Text::new("切片", "Intercept"),
                    "bias" => Text::new("平均差（偏り）", "Mean difference (bias)"),
                    other => Text::new(other, other),
                },
            };
            m::MethodComparisonResults {
                id: c.id.clone(),
                method: method_name(c.method),
                level: c.level,
                pairs: c.pairs.iter().map(|(_, x, y)| [*x, *y]).collect(),
                not_analysed: c
                    .not_analysed
                    .iter()
                    .map(|n| {
                        Text::new(
                            format!("{}: {}", n.case_id, n.reason),
                            format!("{}: {}", n.case_id, n.reason),
                        )
                    })
                    .collect(),
                slope: estimate(s, "slope", "slope_ci"),
                intercept: estimate(s, "intercept", "intercept_ci"),
                bias: estimate(s, "bias", "bias_ci"),
                loa: s
                    .get("loa")
                    .and_then(|l| Some([l[0].as_f64()?, l[1].as_f64()?])),
                pearson: correlation(s, "pearson"),
                ccc: correlation(s, "ccc"),
                bias_at: s
                    .get("bias_at")
                    .and_then(Value::as_array)
                    .map(|points| {
                        points
                            .iter()
                            .filter_map(|p| {
                                Some((p.get("level")?.as_f64()?, estimate(p, "bias", "bias_ci")?))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                criteria: c
                    .criteria
                    .iter()
                    .map(|k| m::MethodCriterion {
                        quantity: quantity(&k.quantity),
                        within: k.within,
                        judged: k.judged,
                        on_estimate: !k.judged_on.starts_with("confidence"),
                        pass: k.pass,
                    })
                    .collect(),
                verdict: c.pass.map(|p| {
                    if p {
                        m::Verdict::Pass
                    } else {
                        m::Verdict::Fail
                    }
                }),
                band: c.band.clone(),
            }
        })
        .collect()
}
