//! Consistency checks run before anything is rendered: a report whose counts do not add up, or
//! that calls agreement with a comparator "sensitivity", is refused rather than printed.

use std::collections::BTreeSet;

use crate::ReportError;
use crate::model::{
    EndpointResult, IndeterminateHandling, Interval, Metric, ReferenceStandard, Report, TestType,
};

/// Tolerance between an estimate and the fraction of its 2×2 table, and around CI bounds.
const TOLERANCE: f64 = 1e-6;

fn bad(field: impl Into<String>, message: impl Into<String>) -> ReportError {
    ReportError::Inconsistent {
        field: field.into(),
        message: message.into(),
    }
}

pub(crate) fn validate(r: &Report) -> Result<(), ReportError> {
    study(r)?;
    flow(r)?;
    reference(r)?;
    endpoints(r)?;
    others(r)?;
    one_set_of_counts(r)?;
    lesions(r)?;
    Ok(())
}

/// Every table and figure counts the same cases: each endpoint's 2×2 table has the flow
/// diagram's analysed reference-positive and reference-negative cases as its column totals, the
/// ROC curve has no more cases of either class than the analysis set, and the subgroup rows of
/// one endpoint and variable add up to the endpoint's own denominator (an `unknown` level
/// included), so no case disappears between tables.
fn one_set_of_counts(r: &Report) -> Result<(), ReportError> {
    let f = &r.flow;
    for (i, e) in r.endpoints.iter().enumerate() {
        if let Some(t) = &e.table
            && (t.tp + t.fn_ != f.reference_positive || t.fp + t.tn != f.reference_negative)
        {
            return Err(bad(
                format!("endpoints[{i}].table"),
                format!(
                    "the 2×2 table has {} positive and {} negative cases, the flow diagram {} and {}",
                    t.tp + t.fn_,
                    t.fp + t.tn,
                    f.reference_positive,
                    f.reference_negative
                ),
            ));
        }
    }
    for (i, c) in r.roc.iter().enumerate() {
        if c.positives > f.reference_positive || c.negatives > f.reference_negative {
            return Err(bad(
                format!("roc[{i}]"),
                format!(
                    "the ROC curve has {} positive and {} negative cases, more than the {} and {} analysed",
                    c.positives, c.negatives, f.reference_positive, f.reference_negative
                ),
            ));
        }
    }
    let mut sums: std::collections::BTreeMap<(&str, &str), (u64, u64)> = Default::default();
    for s in &r.subgroups {
        if let Some(endpoint) = &s.endpoint {
            let sum = sums.entry((endpoint, s.variable.en.as_str())).or_default();
            sum.0 += s.n;
            sum.1 += s.cases.unwrap_or(0);
        }
    }
    for ((endpoint, variable), (n, cases)) in sums {
        let Some(e) = r.endpoints.iter().find(|e| e.id == endpoint) else {
            return Err(bad(
                "subgroups",
                format!(
                    "a subgroup row names endpoint {endpoint:?}, which the report does not have"
                ),
            ));
        };
        if let Some(t) = &e.table
            && let Some((_, denominator)) = t.fraction(e.metric)
            && n != denominator
        {
            return Err(bad(
                "subgroups",
                format!(
                    "the {variable} subgroups of {endpoint:?} add up to {n} cases, the endpoint has {denominator}"
                ),
            ));
        }
        if cases != 0 && cases != f.analysed {
            return Err(bad(
                "subgroups",
                format!(
                    "the {variable} subgroups of {endpoint:?} hold {cases} analysed cases, the flow diagram {}",
                    f.analysed
                ),
            ));
        }
    }
    Ok(())
}

/// Lesion counts add up: normal and abnormal cases make the cases, hits and false positives
/// are among the marks, and a case with lesions exists when there are lesions.
fn lesions(r: &Report) -> Result<(), ReportError> {
    let Some(l) = &r.lesions else {
        return Ok(());
    };
    if l.normal_cases + l.abnormal_cases != l.cases {
        return Err(bad(
            "lesions.cases",
            format!(
                "{} normal + {} abnormal cases ≠ {} cases",
                l.normal_cases, l.abnormal_cases, l.cases
            ),
        ));
    }
    if l.hits + l.false_positives > l.marks {
        return Err(bad(
            "lesions.marks",
            format!(
                "{} hits + {} false positives > {} marks",
                l.hits, l.false_positives, l.marks
            ),
        ));
    }
    if (l.lesions > 0) != (l.abnormal_cases > 0) || l.hits > l.lesions {
        return Err(bad(
            "lesions.lesions",
            format!(
                "{} lesions in {} abnormal cases with {} hits",
                l.lesions, l.abnormal_cases, l.hits
            ),
        ));
    }
    Ok(())
}

fn study(r: &Report) -> Result<(), ReportError> {
    if crate::doc::parse_date(&r.study.report_date).is_none() {
        return Err(bad(
            "study.report_date",
            format!(
                "{:?} is not a date of the form YYYY-MM-DD",
                r.study.report_date
            ),
        ));
    }
    let level = r.methods.confidence_level;
    if !(level > 0.0 && level < 1.0) {
        return Err(bad(
            "methods.confidence_level",
            format!("{level} is not a two-sided confidence level in (0, 1)"),
        ));
    }
    if r.methods
        .providers
        .iter()
        .any(|p| p.dataset_cases.is_some())
    {
        let in_dataset: u64 = r
            .methods
            .providers
            .iter()
            .filter_map(|p| p.dataset_cases)
            .sum();
        if in_dataset != r.flow.eligible {
            return Err(bad(
                "methods.providers",
                format!(
                    "the providers' cases in the dataset add up to {in_dataset}, but the flow diagram has {} eligible",
                    r.flow.eligible
                ),
            ));
        }
    }
    let provided: u64 = r.methods.providers.iter().map(|p| p.cases).sum();
    if provided != r.flow.collected {
        return Err(bad(
            "methods.providers",
            format!(
                "the providers' cases add up to {provided}, but the flow diagram collected {}",
                r.flow.collected
            ),
        ));
    }
    Ok(())
}

/// The STARD 2015 flow must add up (Bossuyt et al. 2015, item 19).
fn flow(r: &Report) -> Result<(), ReportError> {
    let f = &r.flow;
    let excluded: u64 = f.excluded.iter().map(|e| e.count).sum();
    if f.eligible + excluded != f.collected {
        return Err(bad(
            "flow.eligible",
            format!(
                "collected {} minus excluded {excluded} is {}, not eligible {}",
                f.collected,
                f.collected as i128 - excluded as i128,
                f.eligible
            ),
        ));
    }
    let indeterminate_out = match f.indeterminate_handling {
        IndeterminateHandling::Excluded => f.indeterminate,
        IndeterminateHandling::Included { .. } => 0,
    };
    let out = f.no_reference_standard + f.no_device_result + indeterminate_out;
    if f.eligible as i128 - out as i128 != f.analysed as i128 {
        return Err(bad(
            "flow.analysed",
            format!(
                "eligible {} minus {out} without a reference standard, without a device result \
                 or indeterminate (excluded) is {}, not analysed {}",
                f.eligible,
                f.eligible as i128 - out as i128,
                f.analysed
            ),
        ));
    }
    if f.reference_positive + f.reference_negative != f.analysed {
        return Err(bad(
            "flow.reference_positive",
            format!(
                "reference positive {} plus negative {} is not analysed {}",
                f.reference_positive, f.reference_negative, f.analysed
            ),
        ));
    }
    Ok(())
}

/// Q4, Q5: 2(2) takes its answer from linked clinical information; 2(1) adds it. A comparator
/// method is not a reference standard (FDA 2007 statistical guidance): agreement only.
fn reference(r: &Report) -> Result<(), ReportError> {
    let rs = &r.methods.reference_standard;
    match (r.study.test_type, rs) {
        (TestType::WithClinicalInfo, ReferenceStandard::ConfirmedDiagnosis { .. }) => {}
        (TestType::ImagesOnly, ReferenceStandard::ConfirmedDiagnosis { .. }) => {
            return Err(bad(
                "methods.reference_standard",
                "a confirmed diagnosis is linked clinical information, so the test type is 2(2), not 2(1) (Q4, Q5)",
            ));
        }
        (TestType::WithClinicalInfo, _) => {
            return Err(bad(
                "methods.reference_standard",
                "a 2(2) test takes its correct answer from the linked confirmed diagnosis (Q4)",
            ));
        }
        (TestType::ImagesOnly, _) => {}
    }
    if rs.is_comparator() {
        let refuse = |field: String, m: Metric| {
            Err(bad(
                field,
                format!(
                    "{m:?} needs a reference standard; against a comparator method report \
                     agreement (ppa, npa, opa, kappa)"
                ),
            ))
        };
        for (i, e) in r.endpoints.iter().enumerate() {
            if e.metric.needs_reference_standard() {
                return refuse(format!("endpoints[{i}].metric"), e.metric);
            }
        }
        for (i, s) in r.subgroups.iter().enumerate() {
            if s.metric.needs_reference_standard() {
                return refuse(format!("subgroups[{i}].metric"), s.metric);
            }
        }
        for (i, s) in r.sensitivity_analyses.iter().enumerate() {
            if s.metric.needs_reference_standard() {
                return refuse(format!("sensitivity_analyses[{i}].metric"), s.metric);
            }
        }
        if !r.roc.is_empty() {
            return refuse("roc".to_owned(), Metric::Auc);
        }
    }
    Ok(())
}

fn estimate_in_range(field: &str, metric: Metric, x: f64) -> Result<(), ReportError> {
    let ok = x.is_finite()
        && match metric {
            Metric::Kappa => (-1.0 - TOLERANCE..=1.0 + TOLERANCE).contains(&x),
            _ => (-TOLERANCE..=1.0 + TOLERANCE).contains(&x),
        };
    if ok {
        Ok(())
    } else {
        Err(bad(
            field,
            format!("{x} is outside the range of {metric:?}"),
        ))
    }
}

fn interval(
    field: &str,
    metric: Metric,
    estimate: f64,
    ci: &Option<Interval>,
) -> Result<(), ReportError> {
    estimate_in_range(&format!("{field}.estimate"), metric, estimate)?;
    if let Some(ci) = ci {
        estimate_in_range(&format!("{field}.ci.low"), metric, ci.low)?;
        estimate_in_range(&format!("{field}.ci.high"), metric, ci.high)?;
        if !(ci.low <= estimate + TOLERANCE && estimate <= ci.high + TOLERANCE) {
            return Err(bad(
                format!("{field}.ci"),
                format!(
                    "the interval {}–{} does not contain the estimate {estimate}",
                    ci.low, ci.high
                ),
            ));
        }
    }
    Ok(())
}

fn endpoint(i: usize, e: &EndpointResult) -> Result<(), ReportError> {
    let field = format!("endpoints[{i}]");
    interval(&field, e.metric, e.estimate, &e.ci)?;
    if e.verdict.is_some() && e.acceptance_criterion.is_none() {
        return Err(bad(
            format!("{field}.verdict"),
            "a verdict without an acceptance criterion",
        ));
    }
    if let Some(t) = &e.table
        && let Some((x, n)) = t.fraction(e.metric)
    {
        let expected = if n == 0 {
            f64::NAN
        } else {
            x as f64 / n as f64
        };
        if (expected - e.estimate).abs().is_nan() || (expected - e.estimate).abs() > TOLERANCE {
            return Err(bad(
                format!("{field}.estimate"),
                format!(
                    "{} is not {x}/{n} = {expected} from its 2×2 table",
                    e.estimate
                ),
            ));
        }
    }
    Ok(())
}

fn endpoints(r: &Report) -> Result<(), ReportError> {
    let mut ids = BTreeSet::new();
    for (i, e) in r.endpoints.iter().enumerate() {
        if !ids.insert(e.id.as_str()) {
            return Err(bad(
                format!("endpoints[{i}].id"),
                format!("{:?} appears twice", e.id),
            ));
        }
        endpoint(i, e)?;
    }
    for (i, t) in r.traceability.iter().enumerate() {
        if let Some(id) = &t.endpoint_id
            && !ids.contains(id.as_str())
        {
            return Err(bad(
                format!("traceability[{i}].endpoint_id"),
                format!("no endpoint has id {id:?}"),
            ));
        }
    }
    for e in &r.endpoints {
        if !r
            .traceability
            .iter()
            .any(|t| t.endpoint_id.as_deref() == Some(&e.id))
        {
            return Err(bad(
                "traceability",
                format!(
                    "endpoint {:?} has no row saying where its numbers came from",
                    e.id
                ),
            ));
        }
    }
    Ok(())
}

fn others(r: &Report) -> Result<(), ReportError> {
    let groups = r.baseline.groups.len();
    for (i, row) in r.baseline.rows.iter().enumerate() {
        if row.values.len() != groups {
            return Err(bad(
                format!("baseline.rows[{i}].values"),
                format!("{} values for {groups} groups", row.values.len()),
            ));
        }
    }
    for (i, s) in r.subgroups.iter().enumerate() {
        match s.estimate {
            Some(estimate) => interval(&format!("subgroups[{i}]"), s.metric, estimate, &s.ci)?,
            None if s.ci.is_some() => {
                return Err(bad(
                    format!("subgroups[{i}].ci"),
                    "an interval without an estimate",
                ));
            }
            None => {}
        }
    }
    for (i, s) in r.sensitivity_analyses.iter().enumerate() {
        if let Some(estimate) = s.estimate {
            interval(
                &format!("sensitivity_analyses[{i}]"),
                s.metric,
                estimate,
                &s.ci,
            )?;
        }
    }
    for (i, c) in r.roc.iter().enumerate() {
        let field = format!("roc[{i}]");
        interval(&field, Metric::Auc, c.auc, &c.ci)?;
        let inside = |p: &crate::model::RocPoint| {
            (0.0..=1.0).contains(&p.fpr) && (0.0..=1.0).contains(&p.tpr)
        };
        if c.points.len() < 2 || !c.points.iter().all(inside) {
            return Err(bad(
                format!("{field}.points"),
                "a ROC curve needs at least two points with fpr and tpr in [0, 1]",
            ));
        }
        if let Some(p) = &c.operating_point
            && !inside(p)
        {
            return Err(bad(
                format!("{field}.operating_point"),
                "fpr and tpr must be in [0, 1]",
            ));
        }
    }
    Ok(())
}
