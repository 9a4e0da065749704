//! Number formatting, shared by the PDF, the HTML and (through the public functions) by whoever
//! fills the traceability appendix, so that a number reads the same everywhere.

use crate::model::{BaselineValue, Interval, Metric};

/// A metric's value as the report prints it: proportions as a percentage with one decimal
/// (`92.3%`), AUC and κ with three decimals (`0.912`).
pub fn format_value(metric: Metric, x: f64) -> String {
    if metric.is_proportion() {
        format!("{}%", fixed(x * 100.0, 1))
    } else {
        fixed(x, 3)
    }
}

/// A confidence interval as the report prints it: `86.4%–95.8%` or `0.874–0.950`.
pub fn format_interval(metric: Metric, ci: &Interval) -> String {
    format!(
        "{}–{}",
        format_value(metric, ci.low),
        format_value(metric, ci.high)
    )
}

/// `x` with `decimals` decimals, never `-0.0`.
pub(crate) fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_owned()
    } else {
        s
    }
}

/// A confidence level as a percentage: `95`, `97.5`.
pub(crate) fn level_percent(level: f64) -> String {
    let p = level * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}", p.round() as i64)
    } else {
        fixed(p, 1)
    }
}

pub(crate) fn baseline_value(v: &BaselineValue) -> String {
    match *v {
        BaselineValue::Count { n, of } => {
            if of == 0 {
                format!("{n}")
            } else {
                format!("{n} ({}%)", fixed(n as f64 / of as f64 * 100.0, 1))
            }
        }
        BaselineValue::MeanSd { mean, sd } => format!("{} ({})", fixed(mean, 1), fixed(sd, 1)),
        BaselineValue::MedianIqr { median, q1, q3 } => {
            format!("{} [{}–{}]", fixed(median, 1), fixed(q1, 1), fixed(q3, 1))
        }
        BaselineValue::NotApplicable => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CiMethod;

    #[test]
    fn proportions_are_percentages_and_auc_is_a_decimal() {
        assert_eq!(format_value(Metric::Sensitivity, 0.92308), "92.3%");
        assert_eq!(format_value(Metric::Auc, 0.9125), "0.912");
        let ci = Interval {
            low: 0.8641,
            high: 0.958,
            method: CiMethod::Wilson,
        };
        assert_eq!(format_interval(Metric::Ppa, &ci), "86.4%–95.8%");
    }

    #[test]
    fn no_negative_zero() {
        assert_eq!(fixed(-0.0004, 3), "0.000");
        assert_eq!(fixed(-0.05, 2), "-0.05");
        assert_eq!(level_percent(0.95), "95");
        assert_eq!(level_percent(0.975), "97.5");
    }
}
