//! The study-less calculations of `kizon stats`: the statistics engine ([`kizon_stats`]) on
//! counts given on the command line and on CSV files, without a study directory and without
//! writing to any ledger. Outside the application layer: nothing here knows of a study.
//!
//! This crate does the I/O the pure engine must not: it reads a CSV file (through
//! kizon-tables: UTF-8, UTF-16 or CP932), selects columns by their
//! header name, parses truth labels, scores, ratings and cluster ids, and reports every
//! bad value as an [`InputError::Csv`] naming the file, the CSV line and the column. No case is
//! dropped silently: an empty or unreadable cell is an error, not a missing value.
//!
//! Every result serialises with the JSON keys of issue 4 (deliverable 7); fields the
//! text rendering needs but the JSON does not carry are `#[serde(skip)]`.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

pub use kizon_stats::{
    Agreement, AnalysisPower, AucSampleSize, AucVariance, BinaryAccuracy, BootstrapAuc,
    CovarianceMethod, Estimate, KappaWeights, McNemar, MrmcPower, PairedTable, ProportionCi,
    ProportionSampleSize, StatsError, TwoByTwo,
};

use kizon_tables::{Columns, InputError, read_columns};

/// Why a calculation was refused.
#[derive(Debug, thiserror::Error)]
pub enum CalcError {
    /// The file could not be read as a table.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The statistics engine refused the numbers.
    #[error(transparent)]
    Stats(#[from] StatsError),
    /// The input as a whole cannot be used, with what to do.
    #[error("{what}")]
    Refused { what: String, hint: String },
}

impl CalcError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            CalcError::Input(e) => e.hint(),
            CalcError::Stats(e) => hint(e),
            CalcError::Refused { hint, .. } => hint.clone(),
        }
    }
}

/// The hint for an input the statistics engine refused.
pub fn hint(error: &StatsError) -> String {
    match error {
        StatsError::InvalidLevel(_) => {
            "give the confidence level as a fraction: --level 0.95 for a 95% interval".into()
        }
        StatsError::InvalidProbability { .. } => {
            "give proportions, power and prevalence as fractions between 0 and 1, e.g. 0.8 for 80%"
                .into()
        }
        StatsError::UnknownName { expected, .. } => format!("use one of {expected}"),
        _ => "check the numbers given; `kizon stats --help` shows examples".into(),
    }
}

/// Refuses a confidence level outside (0, 1) before any file is read.
fn check_level(level: f64) -> Result<(), CalcError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidLevel(level).into())
    }
}

// ---------------------------------------------------------------------------------------
// Counts

/// Accuracy of a binary test against a reference standard from its 2×2 table.
/// JSON: `sensitivity`, `specificity`, `ppv`, `npv`, `accuracy`, `prevalence`,
/// `lr_positive`, `lr_negative`, `dor`, `youden`, each `{"estimate", "lower", "upper"}`
/// or `null`.
pub fn binary(table: TwoByTwo, ci: ProportionCi, level: f64) -> Result<BinaryAccuracy, CalcError> {
    check_level(level)?;
    Ok(kizon_stats::binary_accuracy(&table, ci, level)?)
}

/// Agreement of a new test with a non-reference comparator (FDA 2007): `tp` = both
/// positive, `fp` = new test positive only, `fn_` = comparator positive only, `tn` = both
/// negative. JSON: `ppa`, `npa`, `opa`, `kappa`.
pub fn agreement(table: TwoByTwo, ci: ProportionCi, level: f64) -> Result<Agreement, CalcError> {
    check_level(level)?;
    Ok(kizon_stats::agreement(&table, ci, level)?)
}

/// McNemar's tests and the paired difference of positive rates (first − second).
#[derive(Debug, Clone, Serialize)]
pub struct McNemarResult {
    #[serde(flatten)]
    pub test: McNemar,
    /// `(b − c)/n`, the first test's positive rate minus the second's, with Newcombe's
    /// method-10 interval; `null` with no pair.
    pub difference: Option<Estimate>,
    #[serde(skip)]
    pub table: PairedTable,
}

/// Two tests read on the same cases: `both` positive, `first_only`, `second_only`,
/// `neither` (both negative).
pub fn mcnemar(table: PairedTable, level: f64) -> Result<McNemarResult, CalcError> {
    check_level(level)?;
    Ok(McNemarResult {
        test: kizon_stats::mcnemar(&table),
        difference: kizon_stats::paired_difference(&table, level)?,
        table,
    })
}

// ---------------------------------------------------------------------------------------
// Sample sizes

/// Which class of cases a proportion is computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseClass {
    /// Reference-positive cases (sensitivity, PPA).
    Diseased,
    /// Reference-negative cases (specificity, NPA).
    NonDiseased,
}

/// The enrolment implied by the prevalence.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolment {
    /// The class the `n` cases belong to.
    pub class: CaseClass,
    pub prevalence: f64,
    /// Total cases to enrol so that the class is expected to reach `n`.
    pub total: u64,
}

/// Cases needed for a proportion to beat a performance goal. JSON: `n`, `first_n`,
/// `power`, `critical_successes`, `search_limit`, and with a prevalence `class`,
/// `prevalence`, `total`.
#[derive(Debug, Clone, Serialize)]
pub struct ProportionPlan {
    #[serde(flatten)]
    pub cases: ProportionSampleSize,
    #[serde(flatten)]
    pub enrolment: Option<Enrolment>,
}

/// Input of [`sample_size_proportion`].
#[derive(Debug, Clone, Copy)]
pub struct ProportionPlanInput {
    /// The performance goal p0 the lower bound must exceed.
    pub goal: f64,
    /// The proportion p1 expected for the device.
    pub expected: f64,
    pub power: f64,
    pub level: f64,
    pub ci: ProportionCi,
    pub prevalence: Option<f64>,
    pub class: CaseClass,
}

/// Cases needed for the lower confidence bound of a proportion to exceed `goal`.
pub fn sample_size_proportion(input: ProportionPlanInput) -> Result<ProportionPlan, CalcError> {
    check_level(input.level)?;
    let cases = kizon_stats::proportion_sample_size(
        input.goal,
        input.expected,
        input.level,
        input.power,
        input.ci,
    )?;
    let enrolment = match input.prevalence {
        None => None,
        Some(prevalence) => {
            let fraction = match input.class {
                CaseClass::Diseased => prevalence,
                CaseClass::NonDiseased => 1.0 - prevalence,
            };
            if !(prevalence > 0.0 && prevalence < 1.0) {
                return Err(StatsError::InvalidProbability {
                    name: "prevalence",
                    value: prevalence,
                }
                .into());
            }
            Some(Enrolment {
                class: input.class,
                prevalence,
                total: kizon_stats::total_for_fraction(cases.n, fraction)?,
            })
        }
    };
    Ok(ProportionPlan { cases, enrolment })
}

/// Diseased and non-diseased cases to show an AUC above `null_auc` (one-sided `alpha`).
/// JSON: `diseased`, `non_diseased`, `total`, `power`.
pub fn sample_size_auc(
    null_auc: f64,
    expected: f64,
    alpha: f64,
    power: f64,
    ratio: f64,
    variance: AucVariance,
) -> Result<AucSampleSize, CalcError> {
    Ok(kizon_stats::auc_sample_size(
        null_auc, expected, alpha, power, ratio, variance,
    )?)
}

// ---------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------
// Kappa

/// Input of [`kappa`].
#[derive(Debug, Clone)]
pub struct KappaInput {
    pub csv: PathBuf,
    /// Rating columns, one per rater (at least 2).
    pub raters: Vec<String>,
    pub weights: KappaWeights,
    pub level: f64,
}

/// What the text rendering shows besides the JSON.
#[derive(Debug, Clone, Default)]
pub struct KappaInfo {
    pub raters: Vec<String>,
    pub cases: usize,
    /// The categories in the order the weights use.
    pub categories: Vec<String>,
}

/// Cohen's kappa of two raters: `{"kappa": {...} | null, "se": x | null}`.
#[derive(Debug, Clone, Serialize)]
pub struct CohenResult {
    pub kappa: Option<Estimate>,
    pub se: Option<f64>,
    #[serde(skip)]
    pub weights: KappaWeights,
    #[serde(skip)]
    pub info: KappaInfo,
}

/// Fleiss' kappa of three or more raters: `{"fleiss_kappa": {...} | null, "se0", "z",
/// "p_value", "subjects", "raters"}` (the SE is under H0: κ = 0).
#[derive(Debug, Clone, Serialize)]
pub struct FleissResult {
    pub fleiss_kappa: Option<Estimate>,
    pub se0: Option<f64>,
    pub z: Option<f64>,
    pub p_value: Option<f64>,
    pub subjects: usize,
    pub raters: usize,
    #[serde(skip)]
    pub info: KappaInfo,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum KappaResult {
    Cohen(CohenResult),
    Fleiss(FleissResult),
}

/// A numeric category, ordered by value.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Numeric(f64);
impl Eq for Numeric {}
impl PartialOrd for Numeric {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Numeric {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Cohen's kappa for two rating columns, Fleiss' kappa for more. Categories that are
/// all numbers are ordered by value (for the weights); others by their text, and
/// weights then need numbers.
pub fn kappa(input: &KappaInput) -> Result<KappaResult, CalcError> {
    check_level(input.level)?;
    if input.raters.len() < 2 {
        return Err(CalcError::Refused {
            what: format!(
                "kappa needs at least 2 rating columns, got {}",
                input.raters.len()
            ),
            hint: "name the columns of every rater: --raters reader1,reader2".into(),
        });
    }
    if input.raters.len() > 2 && input.weights != KappaWeights::Unweighted {
        return Err(CalcError::Refused {
            what: format!(
                "weighted kappa is defined for 2 raters; {} were given (Fleiss' kappa is unweighted)",
                input.raters.len()
            ),
            hint: "use --weights none with 3 or more raters, or compare raters two at a time"
                .into(),
        });
    }
    let wanted: Vec<&str> = input.raters.iter().map(String::as_str).collect();
    for (i, name) in wanted.iter().enumerate() {
        if wanted[..i].contains(name) {
            return Err(CalcError::Refused {
                what: format!("rating column `{name}` is given twice"),
                hint: "name each rater's column once in --raters".into(),
            });
        }
    }
    let columns = read_columns(&input.csv, &wanted)?;
    let empty_hint = "every case needs a rating from every rater; kizon drops no case silently: complete or remove the row";
    for (row, cells) in columns.rows().enumerate() {
        if let Some(k) = cells.iter().position(str::is_empty) {
            return Err(columns
                .error(row, k, "empty rating".into(), empty_hint)
                .into());
        }
    }
    let number = |text: &str| text.parse::<f64>().ok().filter(|x| x.is_finite());
    let first_text = columns.rows().enumerate().find_map(|(row, cells)| {
        cells
            .iter()
            .position(|c| number(c).is_none())
            .map(|k| (row, k))
    });
    let info = |categories: Vec<String>| KappaInfo {
        raters: input.raters.clone(),
        cases: columns.len(),
        categories,
    };
    let raters = input.raters.len();
    let outcome = match first_text {
        None => {
            let labels: Vec<Vec<Numeric>> = (0..raters)
                .map(|k| {
                    columns
                        .rows()
                        .map(|c| Numeric(number(&c[k]).expect("checked numeric") + 0.0))
                        .collect()
                })
                .collect();
            let mut categories: Vec<Numeric> = labels.iter().flatten().copied().collect();
            categories.sort();
            categories.dedup();
            let names = categories.iter().map(|c| c.0.to_string()).collect();
            (
                kizon_stats::rater_kappa(&labels, input.weights, input.level)?,
                info(names),
            )
        }
        Some((row, k)) => {
            if input.weights != KappaWeights::Unweighted {
                return Err(columns.error(
                    row,
                    k,
                    format!(
                        "`{}` is not a number, and weighted kappa needs ordered categories",
                        columns.cell(row, k)
                    ),
                    "code ordinal categories as numbers (e.g. 1 = none, 2 = mild, 3 = severe), or use --weights none",
                ).into());
            }
            let labels: Vec<Vec<&str>> = (0..raters)
                .map(|k| columns.rows().map(|c| c.get(k)).collect())
                .collect();
            let mut categories: Vec<&str> = labels.iter().flatten().copied().collect();
            categories.sort();
            categories.dedup();
            let names = categories.iter().map(|c| c.to_string()).collect();
            (
                kizon_stats::rater_kappa(&labels, input.weights, input.level)?,
                info(names),
            )
        }
    };
    Ok(match outcome {
        (Some(kizon_stats::RaterKappa::Cohen(k)), info) => KappaResult::Cohen(CohenResult {
            kappa: Some(k.kappa),
            se: Some(k.se),
            weights: input.weights,
            info,
        }),
        (Some(kizon_stats::RaterKappa::Fleiss(k)), info) => KappaResult::Fleiss(FleissResult {
            fleiss_kappa: Some(k.fleiss_kappa),
            se0: Some(k.se0),
            z: Some(k.z),
            p_value: Some(k.p_value),
            subjects: k.subjects,
            raters: k.raters as usize,
            info,
        }),
        (None, info) if raters == 2 => KappaResult::Cohen(CohenResult {
            kappa: None,
            se: None,
            weights: input.weights,
            info,
        }),
        (None, info) => KappaResult::Fleiss(FleissResult {
            fleiss_kappa: None,
            se0: None,
            z: None,
            p_value: None,
            subjects: info.cases,
            raters,
            info,
        }),
    })
}

// ---------------------------------------------------------------------------------------
// ROC

/// How the AUC interval is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AucInterval {
    /// DeLong's variance, `AUC ± z·se` (as pROC).
    Delong,
    /// Bootstrap percentile interval (stratified by truth, or by patient with a cluster
    /// column); BCa beside it.
    Bootstrap,
}

/// Input of [`roc`].
#[derive(Debug, Clone)]
pub struct RocInput {
    pub csv: PathBuf,
    pub truth: String,
    /// The truth value of a positive case; the column must hold one other value.
    pub positive: String,
    /// One or two score columns (higher = more likely positive).
    pub scores: Vec<String>,
    pub interval: AucInterval,
    pub level: f64,
    pub replicates: usize,
    pub seed: u64,
    /// Patient column for the cluster bootstrap.
    pub cluster: Option<String>,
}

/// DeLong's test for two correlated AUCs: `auc − auc2`.
#[derive(Debug, Clone, Serialize)]
pub struct AucComparison {
    pub difference: Estimate,
    /// `null` when the difference has zero variance and is not zero.
    pub z: Option<f64>,
    pub p_value: Option<f64>,
}

/// JSON: `{"auc", "se", "n_positive", "n_negative"}`, with two scores also `"auc2"` and
/// `"comparison"`; with `--ci bootstrap` also `"bootstrap"` (and `"bootstrap2"`), the
/// percentile and BCa intervals with the replicate count and seed.
#[derive(Debug, Clone, Serialize)]
pub struct RocResult {
    /// With the bootstrap, the percentile interval.
    pub auc: Estimate,
    /// DeLong standard error of the AUC; `null` with a cluster column (DeLong assumes
    /// independent cases).
    pub se: Option<f64>,
    pub n_positive: u64,
    pub n_negative: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auc2: Option<Estimate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<AucComparison>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootstrapAuc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap2: Option<BootstrapAuc>,
    #[serde(skip)]
    pub info: RocInfo,
}

/// What the text rendering shows besides the JSON.
#[derive(Debug, Clone, Default)]
pub struct RocInfo {
    pub scores: Vec<String>,
    pub positive: String,
    pub negative: String,
    pub se2: Option<f64>,
    pub clusters: Option<usize>,
}

/// AUC of one score (or two, compared by DeLong's test) against a binary truth column.
pub fn roc(input: &RocInput) -> Result<RocResult, CalcError> {
    check_level(input.level)?;
    let scores_n = input.scores.len();
    if scores_n == 0 || scores_n > 2 {
        return Err(CalcError::Refused {
            what: format!("ROC analysis takes one or two score columns, got {scores_n}"),
            hint: "give --score COL, or --score COL --score COL2 to compare two scores".into(),
        });
    }
    if scores_n == 2 && input.scores[0] == input.scores[1] {
        return Err(CalcError::Refused {
            what: format!("score column `{}` is given twice", input.scores[0]),
            hint: "compare two different score columns".into(),
        });
    }
    if input.cluster.is_some() && input.interval != AucInterval::Bootstrap {
        return Err(CalcError::Refused {
            what: "--cluster needs the bootstrap: DeLong's variance assumes independent cases"
                .into(),
            hint: "add --ci bootstrap to resample whole patients".into(),
        });
    }
    if input.cluster.is_some() && scores_n == 2 {
        return Err(CalcError::Refused {
            what: "DeLong's test of two AUCs does not account for several observations per patient"
                .into(),
            hint: "analyse each score on its own with --cluster, or compare them without --cluster if the cases are independent"
                .into(),
        });
    }
    let positive = input.positive.trim();
    let mut wanted: Vec<&str> = vec![&input.truth];
    wanted.extend(input.scores.iter().map(String::as_str));
    if let Some(cluster) = &input.cluster {
        wanted.push(cluster);
    }
    let columns = read_columns(&input.csv, &wanted)?;
    let (truth, negative) = truth_labels(&columns, 0, positive)?;
    let scores: Vec<Vec<f64>> = (1..=scores_n)
        .map(|k| columns.numbers(k, "score"))
        .collect::<Result<_, _>>()?;
    let n_positive = truth.iter().filter(|&&t| t).count() as u64;
    let n_negative = truth.len() as u64 - n_positive;
    let mut info = RocInfo {
        scores: input.scores.clone(),
        positive: positive.to_owned(),
        negative,
        ..RocInfo::default()
    };
    let level = input.level;
    if let Some(cluster) = &input.cluster {
        let k = wanted.len() - 1;
        let mut ids: HashMap<&str, u64> = HashMap::new();
        let mut cluster_ids = Vec::with_capacity(truth.len());
        for (row, cells) in columns.rows().enumerate() {
            let id = cells.get(k);
            if id.is_empty() {
                return Err(columns
                    .error(
                        row,
                        k,
                        "empty patient id".into(),
                        format!("every row needs the patient it belongs to in column `{cluster}`"),
                    )
                    .into());
            }
            let next = ids.len() as u64;
            cluster_ids.push(*ids.entry(id).or_insert(next));
        }
        info.clusters = Some(ids.len());
        drop(ids);
        drop(columns); // the text is not needed past here: the resampling keeps its memory
        let boot = kizon_stats::bootstrap_auc(
            &scores[0],
            &truth,
            kizon_stats::Resampling::Clustered(&cluster_ids),
            input.replicates,
            input.seed,
            level,
        )?;
        return Ok(RocResult {
            auc: boot.percentile,
            se: None,
            n_positive,
            n_negative,
            auc2: None,
            comparison: None,
            bootstrap: Some(boot),
            bootstrap2: None,
            info,
        });
    }
    // The cells are read: DeLong's placements, not the file's text, take the memory from here.
    drop(columns);
    let delong: Vec<kizon_stats::AucDelong> = scores
        .iter()
        .map(|s| kizon_stats::auc_delong(s, &truth, level))
        .collect::<Result<_, _>>()?;
    let boots: Vec<BootstrapAuc> = match input.interval {
        AucInterval::Delong => Vec::new(),
        AucInterval::Bootstrap => scores
            .iter()
            .map(|s| {
                kizon_stats::bootstrap_auc(
                    s,
                    &truth,
                    kizon_stats::Resampling::Stratified,
                    input.replicates,
                    input.seed,
                    level,
                )
            })
            .collect::<Result<_, _>>()?,
    };
    let comparison = if scores_n == 2 {
        let test = kizon_stats::delong_test(&scores[0], &scores[1], &truth, level)?;
        Some(AucComparison {
            difference: test.difference,
            z: test.z,
            p_value: test.p_value,
        })
    } else {
        None
    };
    info.se2 = delong.get(1).map(|d| d.se);
    let pick = |i: usize| match boots.get(i) {
        Some(b) => b.percentile,
        None => delong[i].auc,
    };
    let (auc, auc2) = (pick(0), (scores_n == 2).then(|| pick(1)));
    let mut boots = boots.into_iter();
    Ok(RocResult {
        auc,
        se: Some(delong[0].se),
        n_positive,
        n_negative,
        auc2,
        comparison,
        bootstrap: boots.next(),
        bootstrap2: boots.next(),
        info,
    })
}

/// Reads column `k` as binary truth: `positive` is true, exactly one other value is
/// false. Returns the labels and the negative value.
fn truth_labels(
    columns: &Columns,
    k: usize,
    positive: &str,
) -> Result<(Vec<bool>, String), CalcError> {
    let two_values = || {
        format!(
            "the truth column must hold exactly two values: `{positive}` (--positive) and one negative value; recode or remove other rows (kizon drops no case silently)"
        )
    };
    // One pass: each row's truth, and the distinct values in order of appearance with the row
    // each first appears on (for the errors). A row is compared with the positive value and
    // the first other one, which are all but a wrong file's rows.
    let mut values: Vec<(&str, usize)> = Vec::new();
    let mut truth: Vec<bool> = Vec::with_capacity(columns.len());
    let (mut seen_positive, mut first_other) = (false, None::<&str>);
    for (row, cells) in columns.rows().enumerate() {
        let value = cells.get(k);
        if value.is_empty() {
            return Err(columns
                .error(row, k, "empty truth value".into(), two_values())
                .into());
        }
        let is_positive = value == positive;
        truth.push(is_positive);
        if (is_positive && seen_positive) || first_other == Some(value) {
            continue;
        }
        seen_positive |= is_positive;
        if !is_positive && first_other.is_none() {
            first_other = Some(value);
        }
        if !values.iter().any(|(v, _)| *v == value) {
            values.push((value, row));
        }
    }
    let quoted = |limit: usize| {
        let mut list: Vec<String> = values
            .iter()
            .take(limit)
            .map(|(v, _)| format!("`{v}`"))
            .collect();
        if values.len() > limit {
            list.push(format!("… ({} values)", values.len()));
        }
        list.join(", ")
    };
    if !values.iter().any(|(v, _)| *v == positive) {
        let near = values
            .iter()
            .find(|(v, _)| v.to_lowercase() == positive.to_lowercase())
            .map(|(v, _)| format!("did you mean --positive {v}? "))
            .unwrap_or_default();
        return Err(columns.column_error(
            k,
            format!("no row is `{positive}` (--positive)"),
            format!(
                "{near}give the value that marks a positive case (values are case-sensitive); the column holds {}",
                quoted(10)
            ),
        ).into());
    }
    let negatives: Vec<(&str, usize)> = values
        .iter()
        .copied()
        .filter(|(v, _)| *v != positive)
        .collect();
    match negatives.as_slice() {
        [] => Err(columns.column_error(
            k,
            format!("every row is `{positive}`: there are no negative cases"),
            "ROC analysis needs positive and negative cases",
        ).into()),
        [(negative, _)] => Ok((truth, negative.to_string())),
        [(first, _), (third, row), ..] => Err(columns.error(
            *row,
            k,
            format!(
                "`{third}` is a third value (the column already has `{positive}` as positive and `{first}` as negative)"
            ),
            two_values(),
        ).into()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn csv_file(text: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text).unwrap();
        file
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_lines_count_from_the_header() {
        let file = csv_file(b"\xEF\xBB\xBFid,score\n1,0.5\n\n2, abc\n");
        let columns = read_columns(file.path(), &["id", "score"]).unwrap();
        assert_eq!(columns.lines(), [2, 4]);
        assert_eq!(columns.row(1).iter().collect::<Vec<_>>(), ["2", "abc"]);
        let error = columns.numbers(1, "score").unwrap_err().to_string();
        assert!(
            error.ends_with(":4: column `score`: `abc` is not a number"),
            "{error}"
        );
    }

    #[test]
    fn lines_count_blank_lines_crlf_and_quoted_line_breaks() {
        let text = b"id,note\r\n\r\n1,a\r\n\"2\r\n\",\"two\nlines\"\r\n\r\n\r\n3,c\r\n";
        let columns = read_columns(csv_file(text).path(), &["id", "note"]).unwrap();
        assert_eq!(columns.lines(), [3, 4, 9]);
        assert_eq!(
            columns.row(1).iter().collect::<Vec<_>>(),
            ["2", "two\nlines"]
        );
        let short = [&text[..], b"4\r\n"].concat();
        let error = read_columns(csv_file(&short).path(), &["id"]).unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with(":10: 1 fields, but the header has 2"),
            "{error}"
        );
    }

    #[test]
    fn shift_jis_is_read_and_other_bytes_are_refused_with_the_line() {
        // 陽性 in Shift_JIS (CP932), as Japanese laboratory systems export it.
        let file = csv_file(b"truth,score\n\x97\x7A\x90\xAB,1\n");
        let columns = read_columns(file.path(), &["truth"]).unwrap();
        assert_eq!(columns.cell(0, 0), "陽性");
        // Neither UTF-8 nor CP932.
        let file = csv_file(b"truth,score\n\x82\xFF,1\n");
        let error = read_columns(file.path(), &["truth"]).unwrap_err();
        assert!(error.to_string().contains(":2: byte 12"), "{error}");
        assert!(error.hint().contains("Shift_JIS"));
    }

    #[test]
    fn an_unknown_column_lists_the_columns() {
        let file = csv_file(b"Truth,score\n1,2\n");
        let error = read_columns(file.path(), &["truth"]).unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with(":1: column `truth`: no such column in the header")
        );
        assert_eq!(
            error.hint(),
            "did you mean `Truth`? the columns are `Truth`, `score` (names are case-sensitive)"
        );
    }
}

// ---------------------------------------------------------------------------------------
// MRMC

/// Which factors an MRMC analysis treats as fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MrmcAnalysis {
    /// Random readers and random cases (Hillis 2007): the primary analysis.
    RandomReadersRandomCases,
    /// Fixed readers, random cases: conclusions for these readers only.
    FixedReadersRandomCases,
    /// Random readers, fixed cases: conclusions for these cases only.
    RandomReadersFixedCases,
}

/// Input of [`mrmc`]: a long CSV with one row per reader × modality × case.
#[derive(Debug, Clone)]
pub struct MrmcInput {
    pub csv: PathBuf,
    pub reader: String,
    pub modality: String,
    pub case: String,
    pub truth: String,
    /// The truth value of a positive case; the column must hold one other value.
    pub positive: String,
    /// The rating or score (higher = more likely positive).
    pub score: String,
    pub covariance: kizon_stats::CovarianceMethod,
    pub analysis: MrmcAnalysis,
    pub level: f64,
}

/// A modality's mean AUC over readers. JSON: `{"modality", "auc", "lower", "upper", "se",
/// "df"}` (`df` null: a normal interval).
#[derive(Debug, Clone, Serialize)]
pub struct MrmcModality {
    pub modality: String,
    pub auc: f64,
    pub lower: f64,
    pub upper: f64,
    pub se: f64,
    pub df: Option<f64>,
}

/// `first − second` (modalities in order of first appearance in the file).
#[derive(Debug, Clone, Serialize)]
pub struct MrmcDifference {
    pub first: String,
    pub second: String,
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
    pub se: f64,
    pub df: Option<f64>,
    /// t (z with fixed readers).
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
}

/// One reader's AUC in one modality, with the interval from its own variance.
#[derive(Debug, Clone, Serialize)]
pub struct MrmcReaderAuc {
    pub reader: String,
    pub modality: String,
    pub auc: f64,
    pub lower: f64,
    pub upper: f64,
    pub se: f64,
}

/// A warning of the analysis, the modality named by its label.
#[derive(Debug, Clone, Serialize)]
pub struct MrmcWarning {
    pub code: &'static str,
    pub modality: Option<String>,
    pub value: f64,
    pub message_en: String,
    pub message_ja: String,
}

/// JSON (issue 7): `{"modalities": [{"modality", "auc", "lower", "upper", ..}], "f",
/// "df1", "df2", "p_value", "difference": {"estimate", "lower", "upper", ..}}`, plus the
/// analysis and covariance method, `chi_square` (fixed readers), every pairwise
/// difference, each reader's AUC, the OR variance components and the warnings.
/// `difference` is the first modality minus the second, `null` with more than two
/// modalities (see `differences`); `df2` null is infinite.
#[derive(Debug, Clone, Serialize)]
pub struct MrmcResult {
    pub analysis: MrmcAnalysis,
    pub covariance: kizon_stats::CovarianceMethod,
    pub level: f64,
    pub readers: usize,
    pub cases: usize,
    pub positives: u64,
    pub negatives: u64,
    pub modalities: Vec<MrmcModality>,
    pub f: Option<f64>,
    pub df1: f64,
    pub df2: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chi_square: Option<f64>,
    pub p_value: Option<f64>,
    pub difference: Option<MrmcDifference>,
    pub differences: Vec<MrmcDifference>,
    pub reader_aucs: Vec<MrmcReaderAuc>,
    pub components: kizon_stats::OrComponents,
    pub warnings: Vec<MrmcWarning>,
    #[serde(skip)]
    pub negative: String,
}

/// Labels in order of first appearance, and the index of each row's label.
fn labels(columns: &Columns, k: usize, what: &str) -> Result<(Vec<String>, Vec<usize>), CalcError> {
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::with_capacity(columns.len());
    for (row, cells) in columns.rows().enumerate() {
        let label = &cells[k];
        if label.is_empty() {
            return Err(columns
                .error(
                    row,
                    k,
                    format!("empty {what}"),
                    format!("every row needs its {what}; kizon drops no rating silently"),
                )
                .into());
        }
        // A label is copied once, when first seen: not once per row.
        let i = match index.get(label) {
            Some(&i) => i,
            None => {
                index.insert(label.to_owned(), names.len());
                names.push(label.to_owned());
                names.len() - 1
            }
        };
        rows.push(i);
    }
    Ok((names, rows))
}

/// The Obuchowski–Rockette MRMC comparison of modalities from a long CSV file (one row
/// per reader × modality × case; every reader reads every case in every modality).
pub fn mrmc(input: &MrmcInput) -> Result<MrmcResult, CalcError> {
    check_level(input.level)?;
    let wanted = [
        input.reader.as_str(),
        input.modality.as_str(),
        input.case.as_str(),
        input.truth.as_str(),
        input.score.as_str(),
    ];
    for (i, a) in wanted.iter().enumerate() {
        if wanted[..i].contains(a) {
            return Err(CalcError::Refused {
                what: format!("column `{a}` is given for two roles"),
                hint:
                    "--reader, --modality, --case, --truth and --score name five different columns"
                        .into(),
            });
        }
    }
    let columns = read_columns(&input.csv, &wanted)?;
    let (readers, reader_of) = labels(&columns, 0, "reader")?;
    let (modalities, modality_of) = labels(&columns, 1, "modality")?;
    let (cases, case_of) = labels(&columns, 2, "case")?;
    let (truth_of_row, negative) = truth_labels(&columns, 3, input.positive.trim())?;
    let scores_of_row = columns.numbers(4, "score")?;
    let (t, r, n) = (modalities.len(), readers.len(), cases.len());
    if t < 2 || r < 2 {
        return Err(CalcError::Refused {
            what: format!(
                "an MRMC comparison needs at least 2 modalities and 2 readers; the file has {t} modalit{} and {r} reader{}",
                if t == 1 { "y" } else { "ies" },
                if r == 1 { "" } else { "s" }
            ),
            hint: "check the --modality and --reader columns; for one reader and two scores use `kizon stats roc` with two --score columns".into(),
        });
    }
    let mut truth: Vec<Option<(bool, usize)>> = vec![None; n];
    let mut scores = vec![f64::NAN; t * r * n];
    let mut seen = vec![usize::MAX; t * r * n];
    for row in 0..columns.len() {
        let c = case_of[row];
        match truth[c] {
            None => truth[c] = Some((truth_of_row[row], row)),
            Some((value, first)) if value != truth_of_row[row] => {
                return Err(columns
                    .error(
                        row,
                        3,
                        format!(
                            "case `{}` has a different truth here than on line {}",
                            cases[c],
                            columns.line(first)
                        ),
                        "a case has one reference standard, whoever reads it in whatever modality",
                    )
                    .into());
            }
            Some(_) => {}
        }
        let slot = (modality_of[row] * r + reader_of[row]) * n + c;
        if seen[slot] != usize::MAX {
            return Err(columns
                .error(
                    row,
                    2,
                    format!(
                        "reader `{}` rated case `{}` in modality `{}` already on line {}",
                        readers[reader_of[row]],
                        cases[c],
                        modalities[modality_of[row]],
                        columns.line(seen[slot])
                    ),
                    "keep one rating per reader, modality and case",
                )
                .into());
        }
        seen[slot] = row;
        scores[slot] = scores_of_row[row];
    }
    if let Some(slot) = seen.iter().position(|&s| s == usize::MAX) {
        let missing = seen.iter().filter(|&&s| s == usize::MAX).count();
        let (g, c) = (slot / n, slot % n);
        return Err(CalcError::Input(InputError::Csv {
            file: input.csv.clone(),
            line: None,
            column: None,
            problem: format!(
                "reader `{}` has no rating of case `{}` in modality `{}` ({missing} reader × modality × case ratings missing in all)",
                readers[g % r],
                cases[c],
                modalities[g / r]
            ),
            hint: "the OR analysis needs a fully crossed study: every reader rates every case in every modality".into(),
        }));
    }
    let truth: Vec<bool> = truth
        .iter()
        .map(|x| x.map(|(v, _)| v).unwrap_or(false))
        .collect();
    let ratings = kizon_stats::MrmcRatings {
        modalities: t,
        readers: r,
        truth: &truth,
        scores: &scores,
    };
    let result = kizon_stats::obuchowski_rockette(&ratings, input.covariance, input.level)?;
    let test = match input.analysis {
        MrmcAnalysis::RandomReadersRandomCases => &result.random_readers_random_cases,
        MrmcAnalysis::FixedReadersRandomCases => &result.fixed_readers_random_cases,
        MrmcAnalysis::RandomReadersFixedCases => &result.random_readers_fixed_cases,
    };
    let differences: Vec<MrmcDifference> = test
        .differences
        .iter()
        .map(|d| MrmcDifference {
            first: modalities[d.first].clone(),
            second: modalities[d.second].clone(),
            estimate: d.difference.estimate,
            lower: d.difference.lower,
            upper: d.difference.upper,
            se: d.se,
            df: d.df,
            statistic: d.statistic,
            p_value: d.p_value,
        })
        .collect();
    Ok(MrmcResult {
        analysis: input.analysis,
        covariance: input.covariance,
        level: input.level,
        readers: r,
        cases: n,
        positives: result.positives,
        negatives: result.negatives,
        modalities: test
            .modalities
            .iter()
            .map(|m| MrmcModality {
                modality: modalities[m.modality].clone(),
                auc: m.auc.estimate,
                lower: m.auc.lower,
                upper: m.auc.upper,
                se: m.se,
                df: m.df,
            })
            .collect(),
        f: test.f,
        df1: test.df1,
        df2: test.df2,
        chi_square: test.chi_square,
        p_value: test.p_value,
        difference: (t == 2).then(|| differences[0].clone()),
        differences,
        reader_aucs: result
            .reader_aucs
            .iter()
            .map(|a| MrmcReaderAuc {
                reader: readers[a.reader].clone(),
                modality: modalities[a.modality].clone(),
                auc: a.auc.estimate,
                lower: a.auc.lower,
                upper: a.auc.upper,
                se: a.se,
            })
            .collect(),
        components: result.components,
        warnings: result
            .warnings
            .into_iter()
            .map(|w| MrmcWarning {
                code: w.code,
                modality: w.modality.map(|i| modalities[i].clone()),
                value: w.value,
                message_en: relabel(&w.message_en, &modalities),
                message_ja: relabel(&w.message_ja, &modalities),
            })
            .collect(),
        negative,
    })
}

/// Replaces the engine's `#k` modality numbers by the file's labels.
fn relabel(message: &str, modalities: &[String]) -> String {
    let mut out = message.to_string();
    for (i, name) in modalities.iter().enumerate().rev() {
        out = out.replace(&format!("#{}", i + 1), &format!("`{name}`"));
    }
    out
}

/// An MRMC study planned from a pilot: the pilot's OR components (Hillis, Obuchowski &
/// Berbaum 2011), the effect planned for and the cases each analysis needs.
#[derive(Debug, Clone, Serialize)]
pub struct MrmcPlan {
    pub pilot: kizon_stats::OrPilot,
    /// The difference of the pilot's first two modalities (second − first).
    pub pilot_difference: Option<f64>,
    pub plan: kizon_stats::MrmcCases,
}

/// Cases for a two-modality MRMC study with `readers` readers to detect `effect` (default:
/// the pilot's own difference) at two-sided `alpha` with `power`, from the pilot ratings in
/// `pilot` (analysed as [`mrmc`] does; RJafroc's `SsSampleSizeKGivenJ`).
pub fn mrmc_sample_size(
    pilot: &MrmcInput,
    readers: u64,
    effect: Option<f64>,
    alpha: f64,
    power: f64,
    max_cases: u64,
) -> Result<MrmcPlan, CalcError> {
    let analysed = mrmc(pilot)?;
    let pilot_difference = analysed.difference.as_ref().map(|d| d.estimate);
    let Some(effect) = effect.or(pilot_difference) else {
        return Err(CalcError::Refused {
            what: "the pilot gives no difference of modalities to plan for".into(),
            hint: "give the difference of AUCs to detect with --effect (e.g. 0.05)".into(),
        });
    };
    let components =
        kizon_stats::OrPilot::from_components(&analysed.components, analysed.cases as u64);
    let plan = kizon_stats::mrmc_cases(&components, readers, effect, alpha, power, max_cases)?;
    Ok(MrmcPlan {
        pilot: components,
        pilot_difference,
        plan,
    })
}

// ---------------------------------------------------------------------------------------
// Method comparison (CLSI EP09c)

pub use kizon_stats::method_comparison::{
    BlandAltman, Correlation, DecisionPointBias, Qualitative, Regression,
};

/// How `kizon stats method-comparison` compares the device with the comparator: the shared
/// word, as a protocol's `[[method_comparison]]` names it too.
pub use kizon_vocab::ComparisonMethod;

/// A CSV of paired measurements: the comparator's column `x`, the device's column `y`.
#[derive(Debug, Clone)]
pub struct MethodComparisonInput {
    pub csv: PathBuf,
    pub x: String,
    pub y: String,
    pub method: ComparisonMethod,
    /// The comparator's error variance over the device's (Deming, weighted Deming).
    pub error_ratio: f64,
    pub level: f64,
    /// Medical decision points for the bias (regressions only).
    pub decision_points: Vec<f64>,
    /// The analyser's cut-off for the qualitative agreement (EP12), and how near to it a result
    /// is listed (a fraction of the cut-off).
    pub cutoff: Option<f64>,
    pub near: f64,
    /// The column naming each specimen in the list near the cut-off.
    pub id: Option<String>,
}

/// The comparison of paired values (`x` the comparator's, `y` the device's) by `method`, and
/// the bias at the decision points (regressions only): what `kizon stats method-comparison`
/// computes from a CSV and `kizon analyze` from a locked dataset's specimens.
pub fn compare_pairs(
    x: &[f64],
    y: &[f64],
    method: ComparisonMethod,
    error_ratio: f64,
    level: f64,
    decision_points: &[f64],
) -> Result<(Comparison, Vec<DecisionPointBias>), CalcError> {
    use kizon_stats::method_comparison as mc;
    check_level(level)?;
    let comparison = match method {
        ComparisonMethod::PassingBablok => Comparison::Regression(mc::passing_bablok(x, y, level)?),
        ComparisonMethod::Deming => Comparison::Regression(mc::deming(x, y, error_ratio, level)?),
        ComparisonMethod::WeightedDeming => {
            Comparison::Regression(mc::weighted_deming(x, y, error_ratio, level)?)
        }
        ComparisonMethod::Ols => Comparison::Regression(mc::ols(x, y, level)?),
        ComparisonMethod::BlandAltman => Comparison::BlandAltman(mc::bland_altman(x, y, level)?),
    };
    let bias_at = match (&comparison, decision_points.is_empty()) {
        (_, true) => Vec::new(),
        (Comparison::Regression(fit), false) => fit.bias_at(decision_points)?,
        (Comparison::BlandAltman(_), false) => {
            return Err(CalcError::Refused {
                what: "decision points need a regression: Bland–Altman's bias is one number for every level".into(),
                hint: "give --method passing-bablok, deming, weighted-deming or ols".into(),
            });
        }
    };
    Ok((comparison, bias_at))
}

/// A specimen near the cut-off: its CSV line, its id when a column names it, both results.
#[derive(Debug, Clone, Serialize)]
pub struct NearCutoff {
    pub line: u64,
    pub id: Option<String>,
    pub comparator: f64,
    pub device: f64,
}

/// The qualitative agreement at the cut-off with the specimens near it.
#[derive(Debug, Clone, Serialize)]
pub struct AtCutoff {
    #[serde(flatten)]
    pub agreement: Qualitative,
    pub near_cutoff: Vec<NearCutoff>,
}

/// A regression, or a Bland–Altman analysis; JSON as the result's own keys.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Comparison {
    Regression(Regression),
    BlandAltman(BlandAltman),
}

/// JSON: the comparison's keys (`n`, `method`, `slope`, `slope_ci`, … or `bias`, `loa`, …),
/// `correlation` (`pearson`, `spearman`, `ccc`) and, with decision points, `bias_at`.
#[derive(Debug, Clone, Serialize)]
pub struct MethodComparison {
    #[serde(flatten)]
    pub comparison: Comparison,
    pub correlation: Correlation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bias_at: Vec<DecisionPointBias>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualitative: Option<AtCutoff>,
}

impl MethodComparison {
    /// The confidence level of every interval in it.
    pub fn level(&self) -> f64 {
        match &self.comparison {
            Comparison::Regression(r) => r.level,
            Comparison::BlandAltman(b) => b.level,
        }
    }
}

/// Compares the device's measurements with the comparator's, row by row of the CSV.
pub fn method_comparison(input: &MethodComparisonInput) -> Result<MethodComparison, CalcError> {
    use kizon_stats::method_comparison as mc;
    check_level(input.level)?;
    if input.x == input.y {
        return Err(CalcError::Refused {
            what: format!("column `{}` is both --x and --y", input.x),
            hint: "--x is the comparator's column, --y the device's".into(),
        });
    }
    let mut wanted = vec![input.x.as_str(), input.y.as_str()];
    if let Some(id) = &input.id {
        wanted.push(id);
    }
    let columns = read_columns(&input.csv, &wanted)?;
    let x = columns.numbers(0, "comparator value")?;
    let y = columns.numbers(1, "device value")?;
    let (comparison, bias_at) = compare_pairs(
        &x,
        &y,
        input.method,
        input.error_ratio,
        input.level,
        &input.decision_points,
    )?;
    let level = input.level;
    let qualitative = match input.cutoff {
        None => None,
        Some(cutoff) => {
            let agreement = mc::qualitative(&x, &y, cutoff, input.near, level)?;
            let near_cutoff = agreement
                .near
                .iter()
                .map(|&i| NearCutoff {
                    line: columns.line(i),
                    id: input.id.as_ref().map(|_| columns.cell(i, 2).to_owned()),
                    comparator: x[i],
                    device: y[i],
                })
                .collect();
            Some(AtCutoff {
                agreement,
                near_cutoff,
            })
        }
    };
    Ok(MethodComparison {
        comparison,
        correlation: mc::correlation(&x, &y, level),
        bias_at,
        qualitative,
    })
}
