//! The analysis document: what `analyze` stores and the report reads, serialised with fixed keys.

use super::*;

/// The analysis document's format tag.
pub const FORMAT: &str = "kizon-analysis-v1";

/// The analysis of one device version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub format: String,
    pub inputs: Inputs,
    pub inputs_sha256: String,
    pub reference_kind: ReferenceStandard,
    pub flow: Flow,
    pub baseline: Vec<Baseline>,
    pub endpoints: Vec<EndpointResult>,
    pub roc: Option<Roc>,
    pub subgroups: Vec<SubgroupResult>,
    pub sensitivity_analyses: Vec<SensitivityResult>,
    pub reader_agreement: Option<PanelAgreement>,
    /// Lesion-level results, when the reference standard has lesions and the device marks:
    /// absent otherwise (an analysis without lesions keeps its bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesions: Option<LesionAnalysis>,
    /// The multi-reader multi-case reader study, when readers rated the cases in two or more
    /// modalities (`kizon reads import FILE --modality M`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_study: Option<ReaderStudy>,
    /// The reader study at the lesion level: each reader's marks in each reading condition
    /// against the locked lesions, over the cases the reader read in it; absent without
    /// reader-study marks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reader_lesions: Vec<ReaderLesions>,
    /// Reading time of the reader study (reads submitted in the browser), per reader and
    /// condition and per condition; absent without such reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reading_times: Vec<ReadingTimeSummary>,
    /// The correlation study of a study of specimens (`[[method_comparison]]`); absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub method_comparisons: Vec<super::MethodComparisonResult>,
}

/// The MRMC reader study: each reader's empirical AUC per modality and the
/// Obuchowski–Rockette comparison of modalities with Hillis' (2007) denominator degrees of
/// freedom, random readers and random cases, DeLong covariances (kizon-stats `mrmc`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderStudy {
    /// In order of first import; a difference is the first minus the second.
    pub modalities: Vec<String>,
    pub readers: Vec<String>,
    pub cases: usize,
    pub positives: u64,
    pub negatives: u64,
    /// Cases with a positive or negative reference that not every reader rated in every
    /// modality: left out of the fully crossed analysis.
    pub incomplete_cases: Vec<String>,
    pub level: f64,
    pub modality_aucs: Vec<ReaderStudyAuc>,
    pub reader_aucs: Vec<ReaderStudyAuc>,
    pub f: Option<f64>,
    pub df1: f64,
    pub df2: Option<f64>,
    pub p_value: Option<f64>,
    pub differences: Vec<ReaderStudyDifference>,
    pub warnings: Vec<ReaderStudyWarning>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderStudyAuc {
    /// `None` for a modality's mean over readers.
    pub reader: Option<String>,
    pub modality: String,
    pub auc: Estimate,
    pub se: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderStudyDifference {
    pub first: String,
    pub second: String,
    pub difference: Estimate,
    pub se: f64,
    pub df: Option<f64>,
    pub p_value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderStudyWarning {
    pub code: String,
    pub message_en: String,
    pub message_ja: String,
}

/// Reading time in seconds of the reads of one reader (or, with `reader` absent, of every
/// reader) in one condition: from the server-side reading events (`kizon reading times`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadingTimeSummary {
    pub modality: String,
    pub reader: Option<String>,
    pub reads: usize,
    pub mean_seconds: f64,
    pub median_seconds: f64,
    pub total_seconds: f64,
}

/// One reader's marks in one reading condition against the locked lesions (the same figures as
/// the device's: JAFROC figures of merit, lesion sensitivity, non-lesion marks per image).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderLesions {
    pub reader: String,
    pub modality: String,
    /// The cases the reader read in this condition.
    pub cases: usize,
    /// `None` when the cases read give no figures (say, no normal case read yet).
    pub analysis: Option<LesionAnalysis>,
    /// Why there are no figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_estimable: Option<String>,
}

/// The lesion-level section of an analysis: the device's marks against the locked lesions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LesionAnalysis {
    pub units: kizon_protocol::LesionUnits,
    /// Reference lesions by type (`null` key: no type given), in type order.
    pub lesion_types: Vec<(Option<String>, u64)>,
    pub figures: crate::lesions::LesionFigures,
}

/// What the analysis depends on, by hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    pub kizon_version: String,
    pub protocol_sha256: String,
    pub dataset_root: String,
    pub reference_sha256: String,
    pub device_version: String,
    pub results_sha256: String,
    /// SHA-256 of the reader-study reads (absent without a reader study).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_study_sha256: Option<String>,
    /// SHA-256 of the device's marks of this version (absent without marks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marks_sha256: Option<String>,
    /// SHA-256 of the reader-study readers' marks (absent without them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_marks_sha256: Option<String>,
    /// SHA-256 of the reader study's reading times (absent without them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reading_times_sha256: Option<String>,
    pub findings_sha256: String,
    /// SHA-256 of the protocol deviations recorded (absent without any): the report lists them,
    /// so a deviation recorded later makes a new analysis that its report is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviations_sha256: Option<String>,
}

/// STARD 2015 participant flow, with the case ids behind every box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub collected: usize,
    pub excluded: Vec<ExcludedGroup>,
    pub included: usize,
    pub no_reference: Vec<String>,
    pub reference_indeterminate: Vec<String>,
    pub no_result: Vec<String>,
    pub device_indeterminate: Vec<String>,
    pub analysed: usize,
    /// Analysed cases positive and negative by the reference standard (or comparator).
    pub reference_positive: usize,
    pub reference_negative: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExcludedGroup {
    pub rule: String,
    pub clause: String,
    pub cases: Vec<String>,
    pub reasons: Vec<String>,
}

/// Counts of the included cases by one characteristic, and of the analysed ones among them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub variable: String,
    pub levels: Vec<(String, usize)>,
    /// The analysed cases of each level, in the order of `levels`.
    #[serde(default)]
    pub analysed: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub tn: u64,
}

/// The cases in each cell of a 2×2 table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Cells {
    pub tp: Vec<String>,
    pub fp: Vec<String>,
    #[serde(rename = "fn")]
    pub fn_: Vec<String>,
    pub tn: Vec<String>,
}

impl Cells {
    pub(super) fn table(&self) -> Table {
        Table {
            tp: self.tp.len() as u64,
            fp: self.fp.len() as u64,
            fn_: self.fn_.len() as u64,
            tn: self.tn.len() as u64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointResult {
    pub id: String,
    pub primary: bool,
    pub metric: Metric,
    pub name_en: String,
    pub name_ja: String,
    /// Cases that entered the estimate.
    pub n: usize,
    pub table: Option<Table>,
    pub cells: Option<Cells>,
    pub estimate: Option<Estimate>,
    /// `wilson`, `clopper-pearson`…, `delong` (AUC) or `fleiss-cohen-everitt` (kappa).
    pub ci_method: String,
    pub level: f64,
    /// With several cases per patient: the clustered interval (Obuchowski 1998).
    pub clustered: Option<Estimate>,
    pub criterion_en: Option<String>,
    pub criterion_ja: Option<String>,
    pub pass: Option<bool>,
    pub explanation_en: Option<String>,
    pub explanation_ja: Option<String>,
    /// SHA-256 of the sorted case ids behind the estimate, one per line.
    pub cases_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roc {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    pub auc: Estimate,
    pub se: f64,
    pub positives: u64,
    pub negatives: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubgroupResult {
    pub variable: String,
    /// The level, or `unknown` for the cases without the attribute (shown, never dropped).
    pub level: String,
    pub endpoint: String,
    pub metric: Metric,
    /// Analysed cases of the level (the denominator of a proportion is in `table`).
    pub n: usize,
    pub table: Option<Table>,
    pub estimate: Option<Estimate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensitivityResult {
    /// `indeterminate-as-positive`, `indeterminate-as-negative`, `excluding-accepted-findings`.
    pub analysis: String,
    pub name_en: String,
    pub name_ja: String,
    pub endpoint: String,
    pub metric: Metric,
    pub n: usize,
    pub table: Option<Table>,
    pub estimate: Option<Estimate>,
    pub pass: Option<bool>,
}

/// What `kizon analyze` did.
#[derive(Debug, Clone, Serialize)]
pub struct AnalyzeOutcome {
    pub analysis: Analysis,
    /// SHA-256 of the stored output document.
    pub output_sha256: String,
    /// `false` when the same inputs had been analysed before (nothing new recorded).
    pub new: bool,
    pub ledger_seq: Option<i64>,
}

/// How a sensitivity analysis changes a case (`None`: the case leaves the analysis).
pub(super) type RowChange = Box<dyn Fn(&Row) -> Option<Row>>;

/// One case as the analysis sees it.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) case_id: String,
    pub(super) patient: Option<String>,
    pub(super) reference: Option<Label>,
    pub(super) device: Option<Label>,
    pub(super) score: Option<f64>,
    pub(super) attributes: BTreeMap<Subgroup, String>,
    pub(super) accepted_finding: bool,
}
