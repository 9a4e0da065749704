//! The STARD 2015 flow and the baseline table from the study's own counts; age bands and subgroup levels.

use super::*;

/// The canonical bytes of an analysis: pretty JSON and a final newline.
pub fn analysis_bytes(analysis: &Analysis) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(analysis).expect("an analysis serialises");
    bytes.push(b'\n');
    bytes
}

pub(super) fn is_binary(label: Option<Label>) -> bool {
    matches!(label, Some(Label::Positive | Label::Negative))
}

/// The level of a case without the attribute.
pub(super) const UNKNOWN: &str = "unknown";

/// Whether a case is in the analysis set: a positive or negative reference standard, and a
/// positive or negative device result (or only a score, when the device gives no label and the
/// protocol no threshold: such a case counts for the ROC curve and AUC).
pub(super) fn in_analysis(row: &Row) -> bool {
    is_binary(row.reference)
        && (is_binary(row.device) || (row.device.is_none() && row.score.is_some()))
}

pub(super) fn recount(row: &Row, as_label: Label) -> Option<Row> {
    let mut row = row.clone();
    if row.device == Some(Label::Indeterminate) {
        row.device = Some(as_label);
    }
    Some(row)
}

/// The order of levels in tables: age bands by their lower bound (`<40` first), other levels
/// by name.
pub(super) fn compare_levels(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(level: &str) -> (f64, &str) {
        let digits: String = level
            .trim_start_matches(['<', '≥'])
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        match digits.parse::<f64>() {
            _ if level == UNKNOWN => (f64::INFINITY, level),
            Ok(_) if level.starts_with('<') => (f64::MIN, level),
            Ok(lower) => (lower, level),
            Err(_) => (f64::MAX, level),
        }
    }
    let ((x, s), (y, t)) = (key(a), key(b));
    x.total_cmp(&y).then(s.cmp(t))
}

/// `<40`, `40–64`, `≥65` for cut points [40, 65].
pub(super) fn age_band(age: f64, cuts: &[f64]) -> String {
    let fmt = |x: f64| format!("{}", x as i64);
    match cuts.iter().position(|c| age < *c) {
        Some(0) => format!("<{}", fmt(cuts[0])),
        Some(i) => format!("{}–{}", fmt(cuts[i - 1]), fmt(cuts[i] - 1.0)),
        None => match cuts.last() {
            Some(last) => format!("≥{}", fmt(*last)),
            None => "all".into(),
        },
    }
}

pub(super) fn flow(
    dataset: &Dataset,
    rows: &[Row],
    results: &BTreeMap<&str, &kizon_store::DeviceResult>,
) -> Flow {
    let mut groups: BTreeMap<(String, String), ExcludedGroup> = BTreeMap::new();
    for exclusion in &dataset.excluded {
        let group = groups
            .entry((exclusion.rule.clone(), exclusion.clause.clone()))
            .or_insert_with(|| ExcludedGroup {
                rule: exclusion.rule.clone(),
                clause: exclusion.clause.clone(),
                cases: Vec::new(),
                reasons: Vec::new(),
            });
        group.cases.push(exclusion.case_id.clone());
        if !group.reasons.contains(&exclusion.reason) {
            group.reasons.push(exclusion.reason.clone());
        }
    }
    let ids = |keep: &dyn Fn(&Row) -> bool| {
        rows.iter()
            .filter(|r| keep(r))
            .map(|r| r.case_id.clone())
            .collect::<Vec<_>>()
    };
    let no_reference = ids(&|r| r.reference.is_none());
    let reference_indeterminate = ids(&|r| r.reference == Some(Label::Indeterminate));
    let no_result = ids(&|r| {
        is_binary(r.reference)
            && (!results.contains_key(r.case_id.as_str())
                || (r.device.is_none() && r.score.is_none()))
    });
    let device_indeterminate =
        ids(&|r| is_binary(r.reference) && r.device == Some(Label::Indeterminate));
    Flow {
        collected: dataset.collected_cases,
        excluded: groups.into_values().collect(),
        included: dataset.cases.len(),
        analysed: rows.iter().filter(|r| in_analysis(r)).count(),
        reference_positive: rows
            .iter()
            .filter(|r| r.reference == Some(Label::Positive) && in_analysis(r))
            .count(),
        reference_negative: rows
            .iter()
            .filter(|r| r.reference == Some(Label::Negative) && in_analysis(r))
            .count(),
        no_reference,
        reference_indeterminate,
        no_result,
        device_indeterminate,
    }
}

/// Included and analysed cases by each characteristic (the levels of the included cases, with
/// `unknown` for those without it), then by the reference standard.
pub(super) fn baseline(rows: &[Row]) -> Vec<Baseline> {
    fn table(
        rows: &[Row],
        level_of: &dyn Fn(&Row) -> String,
        sort: bool,
    ) -> (Vec<(String, usize)>, Vec<usize>) {
        let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for row in rows {
            let count = counts.entry(level_of(row)).or_default();
            count.0 += 1;
            count.1 += usize::from(in_analysis(row));
        }
        let mut levels: Vec<(String, (usize, usize))> = counts.into_iter().collect();
        if sort {
            levels.sort_by(|a, b| compare_levels(&a.0, &b.0));
        }
        (
            levels.iter().map(|(l, (n, _))| (l.clone(), *n)).collect(),
            levels.iter().map(|(_, (_, a))| *a).collect(),
        )
    }
    let mut out = Vec::new();
    for subgroup in Subgroup::ALL {
        let level_of = |row: &Row| {
            row.attributes
                .get(subgroup)
                .cloned()
                .unwrap_or_else(|| UNKNOWN.into())
        };
        let (levels, analysed) = table(rows, &level_of, true);
        if levels.len() == 1 && levels[0].0 == UNKNOWN {
            continue;
        }
        out.push(Baseline {
            variable: subgroup.as_str().into(),
            levels,
            analysed,
        });
    }
    let (levels, analysed) = table(
        rows,
        &|row: &Row| row.reference.map_or("none", Label::as_str).into(),
        false,
    );
    out.push(Baseline {
        variable: "reference".into(),
        levels,
        analysed,
    });
    out
}
