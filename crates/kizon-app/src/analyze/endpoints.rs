//! One endpoint on a set of rows: its 2×2 table, estimate with the protocol's interval, clustered interval and verdict.

use super::*;

pub(super) fn cells(rows: &[&Row]) -> Cells {
    let mut cells = Cells::default();
    for row in rows {
        let id = row.case_id.clone();
        match (row.device, row.reference) {
            (Some(Label::Positive), Some(Label::Positive)) => cells.tp.push(id),
            (Some(Label::Positive), Some(Label::Negative)) => cells.fp.push(id),
            (Some(Label::Negative), Some(Label::Positive)) => cells.fn_.push(id),
            (Some(Label::Negative), Some(Label::Negative)) => cells.tn.push(id),
            _ => {}
        }
    }
    cells
}

pub(crate) fn proportion_ci(endpoint: &Endpoint) -> ProportionCi {
    endpoint
        .ci
        .as_str()
        .parse()
        .expect("protocol CI methods are statistics CI methods")
}

pub(super) fn case_hash(ids: impl IntoIterator<Item = String>) -> String {
    let mut ids: Vec<String> = ids.into_iter().collect();
    ids.sort();
    sha256_hex(ids.join("\n").as_bytes())
}

/// One endpoint on a set of rows: binary rows for 2×2 metrics, scored rows for the AUC.
pub(super) fn evaluate(
    endpoint: &Endpoint,
    rows: &[&Row],
    scored: &[&Row],
) -> Result<EndpointResult, AppError> {
    let metric = endpoint.metric;
    let ci = proportion_ci(endpoint);
    let (name_en, name_ja) = metric.names();
    let mut result = EndpointResult {
        id: endpoint.id.clone(),
        primary: endpoint.primary,
        metric: endpoint.metric,
        name_en: name_en.into(),
        name_ja: name_ja.into(),
        n: 0,
        table: None,
        cells: None,
        estimate: None,
        ci_method: ci.name().into(),
        level: endpoint.level,
        clustered: None,
        criterion_en: None,
        criterion_ja: None,
        pass: None,
        explanation_en: None,
        explanation_ja: None,
        cases_sha256: String::new(),
    };
    if endpoint.metric == Metric::Auc {
        result.ci_method = "delong".into();
        result.n = scored.len();
        result.cases_sha256 = case_hash(scored.iter().map(|r| r.case_id.clone()));
        let truth: Vec<bool> = scored
            .iter()
            .map(|r| r.reference == Some(Label::Positive))
            .collect();
        if truth.iter().any(|t| *t) && truth.iter().any(|t| !*t) {
            let scores: Vec<f64> = scored
                .iter()
                .map(|r| r.score.expect("scored rows"))
                .collect();
            match kizon_stats::auc_delong(&scores, &truth, endpoint.level) {
                Ok(auc) => result.estimate = Some(auc.auc),
                Err(e) => {
                    result.explanation_en = Some(format!("cannot be estimated: {e}"));
                    result.explanation_ja = Some(format!("推定できません：{e}"));
                }
            }
        }
    } else {
        let cells = cells(rows);
        let table = cells.table();
        let two = TwoByTwo::new(table.tp, table.fp, table.fn_, table.tn);
        result.n = rows.len();
        result.cases_sha256 = case_hash(rows.iter().map(|r| r.case_id.clone()));
        result.estimate = match endpoint.metric {
            Metric::Ppa | Metric::Npa | Metric::Opa | Metric::Kappa => {
                kizon_stats::agreement(&two, ci, endpoint.level)?.estimate_of(metric)
            }
            _ => kizon_stats::binary_accuracy(&two, ci, endpoint.level)?.estimate_of(metric),
        };
        if endpoint.metric == Metric::Kappa {
            result.ci_method = "fleiss-cohen-everitt".into();
        }
        result.table = Some(table);
        result.cells = Some(cells);
    }
    if endpoint.lower_bound_at_least.is_some() || endpoint.estimate_at_least.is_some() {
        let verdict = kizon_stats::evaluate(
            &kizon_stats::Criterion {
                metric,
                ci,
                level: endpoint.level,
                lower_bound_at_least: endpoint.lower_bound_at_least,
                estimate_at_least: endpoint.estimate_at_least,
                upper_bound_at_most: None,
            },
            result.estimate,
        )?;
        let (bound_en, bound_ja, threshold) =
            match (endpoint.lower_bound_at_least, endpoint.estimate_at_least) {
                (Some(t), _) => ("lower bound of the", "信頼区間の下限が", t),
                (None, Some(t)) => ("point estimate of the", "点推定値が", t),
                (None, None) => unreachable!("checked above"),
            };
        result.criterion_en = Some(format!(
            "{bound_en} {:.0}% CI of {name_en} ≥ {threshold}",
            endpoint.level * 100.0
        ));
        result.criterion_ja = Some(format!(
            "{name_ja}の{:.0}%{bound_ja} {threshold} 以上",
            endpoint.level * 100.0
        ));
        result.pass = Some(verdict.pass);
        result.explanation_en = Some(verdict.explanation_en);
        result.explanation_ja = Some(verdict.explanation_ja);
    }
    Ok(result)
}

/// The clustered interval of a proportion metric, patients as clusters (a case without a
/// patient key is its own cluster).
pub(super) fn clustered(
    metric: Metric,
    rows: &[&Row],
    level: f64,
) -> Result<Option<Estimate>, AppError> {
    let counts = |row: &Row| -> Option<(u64, u64)> {
        let device = row.device == Some(Label::Positive);
        let reference = row.reference == Some(Label::Positive);
        match metric {
            Metric::Sensitivity | Metric::Ppa => reference.then_some((u64::from(device), 1)),
            Metric::Specificity | Metric::Npa => (!reference).then_some((u64::from(!device), 1)),
            Metric::Ppv => device.then_some((u64::from(reference), 1)),
            Metric::Npv => (!device).then_some((u64::from(!reference), 1)),
            Metric::Accuracy | Metric::Opa => Some((u64::from(device == reference), 1)),
            Metric::Prevalence => Some((u64::from(reference), 1)),
            Metric::LrPositive
            | Metric::LrNegative
            | Metric::Dor
            | Metric::Youden
            | Metric::Kappa
            | Metric::Auc => None,
        }
    };
    if !metric.is_proportion() {
        return Ok(None);
    }
    let mut clusters: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in rows {
        if let Some((x, n)) = counts(row) {
            let key = row
                .patient
                .clone()
                .unwrap_or_else(|| format!("case:{}", row.case_id));
            let entry = clusters.entry(key).or_default();
            entry.0 += x;
            entry.1 += n;
        }
    }
    let clusters: Vec<(u64, u64)> = clusters.into_values().collect();
    Ok(kizon_stats::clustered_proportion(&clusters, level)?)
}
