//! The report's data model: plain, serde-serialisable data that the caller fills from the study.
//!
//! Free text that the study supplies in both languages is a [`Text`]; fixed labels and headings
//! are not in the model (they live in `labels.rs`). Numbers are raw (`0.923`, not `"92.3%"`):
//! the renderer formats them once, so the PDF, the HTML and the traceability appendix agree.
//! Vocabulary strings follow the rest of the workspace: metrics as in `kizon-stats`
//! (`sensitivity`, `ppa`, …), CI methods and provider words as in `study.toml` (`wilson`,
//! `hospital`, `opt-out`, …), a 2×2 table as `{"tp", "fp", "fn", "tn"}`.

use serde::{Deserialize, Serialize};

/// Text the study supplies in Japanese and English.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub ja: String,
    pub en: String,
}

impl Text {
    pub fn new(ja: impl Into<String>, en: impl Into<String>) -> Self {
        Text {
            ja: ja.into(),
            en: en.into(),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: crate::Lang) -> &str {
        match lang {
            crate::Lang::Ja => &self.ja,
            crate::Lang::En => &self.en,
        }
    }
}

/// The whole 性能評価試験報告書 (performance evaluation test report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub study: StudyInfo,
    /// The sponsor's conclusions, one paragraph each. The renderer adds the results at a glance.
    #[serde(default)]
    pub summary: Vec<Text>,
    pub methods: Methods,
    pub flow: Flow,
    pub baseline: Baseline,
    pub endpoints: Vec<EndpointResult>,
    #[serde(default)]
    pub roc: Vec<RocCurve>,
    /// Lesion-level (FROC) results, when the device marks lesions; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesions: Option<LesionResults>,
    /// The multi-reader multi-case reader study, when there is one; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_study: Option<ReaderStudyResults>,
    /// The correlation study (相関性試験) of a study of specimens; absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub method_comparisons: Vec<MethodComparisonResults>,
    #[serde(default)]
    pub subgroups: Vec<SubgroupRow>,
    #[serde(default)]
    pub sensitivity_analyses: Vec<SensitivityRow>,
    #[serde(default)]
    pub findings: Vec<FindingRow>,
    /// Decisions taken for every unresolved finding of a rule at once (`kizon resolve --rule`),
    /// one row each; the findings they decided are not listed one by one in `findings`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rule_decisions: Vec<RuleDecisionRow>,
    #[serde(default)]
    pub amendments: Vec<Amendment>,
    /// 計画からの逸脱: those the study team recorded and those kizon found.
    #[serde(default)]
    pub deviations: Vec<DeviationRow>,
    pub regulatory_plan: RegulatoryPlan,
    #[serde(default)]
    pub traceability: Vec<TraceRow>,
    /// The 症例一覧表 (case list, Q10), printed as an appendix when the application needs it
    /// (2(1)); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub case_list: Vec<CaseListRow>,
}

/// One case of the 症例一覧表.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseListRow {
    pub case_id: String,
    pub provider: Text,
    pub data_kinds: Text,
    pub acquisition_date: String,
    /// In the locked dataset (`false`: excluded).
    pub included: bool,
    /// Why it was excluded (empty when included).
    #[serde(default)]
    pub exclusion_reason: Option<Text>,
    /// `positive`, `negative`, `indeterminate`; `None` without one.
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub device_score: Option<f64>,
    #[serde(default)]
    pub agreement: Option<bool>,
}

/// Title-page facts: the study, the device and the hashes that bind the report to the study's
/// ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyInfo {
    pub id: String,
    pub title: Text,
    pub sponsor: Text,
    pub device: Device,
    pub test_type: TestType,
    /// The Q&A version the plan follows, e.g. `qa-2025-03-17`.
    pub rules_version: String,
    /// `YYYY-MM-DD`, given by the caller: the renderer never reads the clock. Also the PDF's
    /// document date.
    pub report_date: String,
    pub hashes: Hashes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// 被験機器 (device under test).
    pub name: Text,
    pub version: String,
    #[serde(default)]
    pub intended_use: Option<Text>,
}

/// The test types of the Director's notice (薬生機審発0929第1号, section 2; Q4, Q5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TestType {
    /// 2(1): existing images or specimens only; the correct answer is added (panel or comparator).
    #[serde(rename = "2(1)")]
    ImagesOnly,
    /// 2(2): with linked existing clinical information (the confirmed diagnosis is the answer).
    #[serde(rename = "2(2)")]
    WithClinicalInfo,
}

/// Hex digests that tie the report to the study directory and its ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hashes {
    /// SHA-256 of the locked (or last amended) study.toml.
    pub protocol_sha256: String,
    /// Merkle root over the dataset's items.
    pub dataset_merkle_root: String,
    /// Hash of the locked reference standard.
    pub reference_standard: String,
    /// Hash of the locked device results.
    pub device_results: String,
    /// Hash of the analysis output the report shows.
    pub analysis: String,
    pub ledger_head: LedgerHead,
    /// The study owner's Ed25519 public key, whose signatures `audit verify --public-key` and
    /// `package verify --public-key` check (absent for a study without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_public_key: Option<String>,
}

/// The ledger entry the report was made at (`ledger.head`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerHead {
    pub seq: u64,
    pub hash: String,
}

/// Methods, as fixed in the protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Methods {
    pub objective: Text,
    /// What the existing data is (e.g. chest radiographs, DICOM) and when it was acquired (Q1, Q2).
    pub data_description: Text,
    /// 医療機関等 (providers) (Q3, Q6, Q9).
    pub providers: Vec<Provider>,
    pub eligibility: Eligibility,
    pub reference_standard: ReferenceStandard,
    /// How readers and analysts were kept blind, one statement each.
    #[serde(default)]
    pub blinding: Vec<Text>,
    /// Two-sided confidence level of every interval, e.g. 0.95.
    pub confidence_level: f64,
    /// The statistical analysis plan in short statements (analysis population, multiplicity,
    /// handling of indeterminate results, …). The CI methods and their citations are listed by
    /// the renderer from the methods the results use.
    #[serde(default)]
    pub statistics: Vec<Text>,
    /// How the number of cases was set, with the calculation (absent when the protocol has no
    /// `[sample_size]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_size: Option<SampleSize>,
    /// How the readers read: who they were, independence, conditions, the order of cases, one
    /// statement each (empty without readers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reading: Vec<Text>,
}

/// The sample-size rationale: the protocol's assumptions and the cases they require, as kizon
/// computed them for the primary endpoint (exact binomial power against the acceptance
/// criterion's bound; Flahault, Cadilhac & Thomas 2005).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleSize {
    pub endpoint_id: String,
    pub metric: Metric,
    /// The acceptance criterion's lower bound (the performance goal).
    pub goal: f64,
    pub expected: f64,
    pub power: f64,
    /// The interval method the criterion is judged with.
    pub ci: CiMethod,
    /// Cases of the endpoint's class (reference-positive for sensitivity) needed; `None` when
    /// kizon does not compute it for this metric (then `note` says why).
    #[serde(default)]
    pub class_cases: Option<u64>,
    /// The power at `class_cases`.
    #[serde(default)]
    pub achieved_power: Option<f64>,
    /// Whether the class is the reference-positive cases (else the negative ones).
    pub positive_class: bool,
    #[serde(default)]
    pub prevalence: Option<f64>,
    /// All cases needed at `prevalence`.
    #[serde(default)]
    pub total_cases: Option<u64>,
    #[serde(default)]
    pub planned_cases: Option<u64>,
    /// Cases of the class the analysis had.
    pub analysed_class_cases: u64,
    #[serde(default)]
    pub rationale: Option<Text>,
    #[serde(default)]
    pub note: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub name: Text,
    pub kind: ProviderKind,
    pub consent: ConsentModel,
    /// Cases collected from this provider.
    pub cases: u64,
    /// Of those, the cases in the locked dataset (absent in reports made before it was shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_cases: Option<u64>,
}

pub use kizon_vocab::{ConsentModel, ProviderKind};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    pub inclusion: Vec<Text>,
    pub exclusion: Vec<Text>,
}

/// Where the correct answer (正解) comes from (Q4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ReferenceStandard {
    /// 2(1): specialists read the existing data; their consensus is the answer.
    ExpertPanel {
        readers: u32,
        /// Who the readers are (specialty, years of experience).
        qualification: Text,
        /// How disagreements are settled (e.g. majority of three, adjudicator).
        consensus_rule: Text,
    },
    /// 2(2): the linked confirmed diagnosis (確定診断, e.g. pathology).
    ConfirmedDiagnosis { source: Text },
    /// 2(1): a comparator method's result. Not a reference standard: results are agreement
    /// (PPA/NPA/OPA), never sensitivity (FDA 2007 statistical guidance).
    ComparatorMethod { method: Text },
}

impl ReferenceStandard {
    pub fn is_comparator(&self) -> bool {
        matches!(self, ReferenceStandard::ComparatorMethod { .. })
    }
}

/// The STARD 2015 participant flow (Bossuyt et al. 2015, BMJ 351:h5527, item 19), from the
/// study's own counts. The renderer checks that the counts add up:
/// `collected = eligible + Σ excluded`, `analysed = eligible − no_reference_standard −
/// no_device_result − indeterminate` (the last term only when indeterminate results are
/// excluded) and `analysed = reference_positive + reference_negative`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// Cases collected from the providers (potentially eligible).
    pub collected: u64,
    /// Cases excluded before the analysis set was formed, by reason.
    pub excluded: Vec<Exclusion>,
    /// Eligible cases (included).
    pub eligible: u64,
    pub no_reference_standard: u64,
    pub no_device_result: u64,
    /// Device results that were neither positive nor negative.
    pub indeterminate: u64,
    pub indeterminate_handling: IndeterminateHandling,
    pub analysed: u64,
    /// Analysed cases positive by the reference standard (or comparator).
    pub reference_positive: u64,
    pub reference_negative: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    pub reason: Text,
    pub count: u64,
}

/// What the analysis did with indeterminate device results: never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum IndeterminateHandling {
    /// Left out of the primary analysis (and counted in the flow diagram).
    Excluded,
    /// Kept in the analysis under a stated rule (e.g. counted as device-negative).
    Included { rule: Text },
}

/// Baseline characteristics (STARD 2015 item 20): one column per group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Column headings, e.g. all analysed / reference positive / reference negative.
    pub groups: Vec<Text>,
    pub rows: Vec<BaselineRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineRow {
    pub variable: Text,
    /// The category of a categorical variable (e.g. 女性); `None` for a continuous one.
    #[serde(default)]
    pub level: Option<Text>,
    /// One value per group, in the order of [`Baseline::groups`].
    pub values: Vec<BaselineValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum BaselineValue {
    /// `n (n/of %)`.
    Count {
        n: u64,
        of: u64,
    },
    MeanSd {
        mean: f64,
        sd: f64,
    },
    MedianIqr {
        median: f64,
        q1: f64,
        q3: f64,
    },
    /// Does not apply to this group (printed as a dash).
    NotApplicable,
}

/// An endpoint's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointResult {
    pub id: String,
    pub name: Text,
    pub primary: bool,
    pub metric: Metric,
    pub estimate: f64,
    #[serde(default)]
    pub ci: Option<Interval>,
    /// 判定基準 (acceptance criterion) as written in the protocol.
    #[serde(default)]
    pub acceptance_criterion: Option<Text>,
    /// 適合/不適合; `None` for an endpoint without a criterion.
    #[serde(default)]
    pub verdict: Option<Verdict>,
    /// The 2×2 table behind a proportion, device rows × reference columns.
    #[serde(default)]
    pub table: Option<TwoByTwo>,
}

pub use kizon_vocab::Metric;

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    pub method: CiMethod,
}

/// Interval methods; the renderer prints each with its citation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CiMethod {
    /// Wilson (1927).
    Wilson,
    /// Clopper & Pearson (1934).
    ClopperPearson,
    /// Agresti & Coull (1998).
    AgrestiCoull,
    /// Jeffreys, as in Brown, Cai & DasGupta (2001).
    Jeffreys,
    /// DeLong, DeLong & Clarke-Pearson (1988), fast algorithm of Sun & Xu (2014).
    Delong,
    /// Large-sample standard error of Fleiss, Cohen & Everitt (1969).
    KappaAsymptotic,
    /// Bootstrap percentile interval (Efron & Tibshirani 1993).
    BootstrapPercentile,
    /// Bias-corrected and accelerated bootstrap (Efron 1987).
    BootstrapBca,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
}

/// Device result × reference counts. Serialises as `{"tp", "fp", "fn", "tn"}` like `kizon-stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwoByTwo {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub tn: u64,
}

impl TwoByTwo {
    /// The metric's numerator and denominator in this table; `None` for a metric that is
    /// not a simple proportion of it (κ, AUC, likelihood ratios).
    pub fn fraction(&self, metric: Metric) -> Option<(u64, u64)> {
        let TwoByTwo { tp, fp, fn_, tn } = *self;
        match metric {
            Metric::Sensitivity | Metric::Ppa => Some((tp, tp + fn_)),
            Metric::Specificity | Metric::Npa => Some((tn, tn + fp)),
            Metric::Ppv => Some((tp, tp + fp)),
            Metric::Npv => Some((tn, tn + fn_)),
            Metric::Accuracy | Metric::Opa => Some((tp + tn, tp + fp + fn_ + tn)),
            Metric::Prevalence => Some((tp + fn_, tp + fp + fn_ + tn)),
            Metric::LrPositive
            | Metric::LrNegative
            | Metric::Dor
            | Metric::Youden
            | Metric::Kappa
            | Metric::Auc => None,
        }
    }
}

/// An empirical ROC curve with its AUC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RocCurve {
    pub id: String,
    pub name: Text,
    /// From (0, 0) to (1, 1), in order of decreasing threshold.
    pub points: Vec<RocPoint>,
    pub auc: f64,
    #[serde(default)]
    pub ci: Option<Interval>,
    pub positives: u64,
    pub negatives: u64,
    /// The device's operating point (its fixed threshold), marked on the curve.
    #[serde(default)]
    pub operating_point: Option<RocPoint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RocPoint {
    pub fpr: f64,
    pub tpr: f64,
}

/// One subgroup estimate (STARD 2015 item 24, variability). Every level of a variable is a
/// row, `unknown` and levels without an estimate included, so that the rows of one endpoint
/// and variable add up to the endpoint's own denominator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgroupRow {
    /// The endpoint's id (see [`EndpointResult::id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    pub variable: Text,
    pub level: Text,
    /// Analysed cases in this level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cases: Option<u64>,
    /// The estimate's denominator (for sensitivity, the reference-positive cases of the level).
    pub n: u64,
    /// The estimate's numerator, for a proportion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<u64>,
    pub metric: Metric,
    /// `None` when the level has no case to estimate from (printed as such, never dropped).
    pub estimate: Option<f64>,
    #[serde(default)]
    pub ci: Option<Interval>,
}

/// One sensitivity analysis: the primary analysis with one assumption changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensitivityRow {
    pub id: String,
    /// The endpoint whose primary analysis it changes (see [`EndpointResult::id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// What was changed (e.g. indeterminate results counted as false negatives).
    pub analysis: Text,
    pub n: u64,
    pub metric: Metric,
    /// `None` when the changed analysis has no case to estimate from (printed as such).
    pub estimate: Option<f64>,
    #[serde(default)]
    pub ci: Option<Interval>,
    #[serde(default)]
    pub verdict: Option<Verdict>,
}

/// A data doubt found by `kizon check` and how it was resolved (Q1, Q2, Q7, Q8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingRow {
    pub id: String,
    /// The rule's code, e.g. `q7-duplicate-sop-instance`.
    pub rule: String,
    /// The rule's name in both languages (shown instead of the code when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<Text>,
    /// The Q&A item, e.g. `Q7`.
    pub clause: String,
    pub case_ids: Vec<String>,
    pub severity: Severity,
    /// What was found.
    pub description: Text,
    /// The decision in force; `None` while the finding is open.
    pub decision: Option<Decision>,
    /// Why the decision in force was taken (empty while open).
    pub reason: Text,
    /// Every decision, oldest first: a query to the provider, then the decision on its answer,
    /// each with its date, actor and reason. Absent in reports made before it was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<DecisionRecord>,
}

/// One decision taken for every unresolved finding of a rule, as the ledger recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDecisionRow {
    pub rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<Text>,
    pub clause: String,
    /// How many findings the decision decided, and how many cases they concern.
    pub findings: u64,
    pub cases: u64,
    pub decision: Decision,
    pub reason: Text,
    /// `YYYY-MM-DD hh:mm` UTC.
    pub at: String,
    pub actor: String,
    pub ledger_seq: u64,
}

/// One decision on a finding, as the ledger recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRecord {
    /// `YYYY-MM-DD hh:mm` UTC.
    pub at: String,
    pub actor: String,
    pub decision: Decision,
    pub reason: Text,
    pub ledger_seq: u64,
}

pub use kizon_vocab::{Decision, Severity};

/// 計画の変更 (an amendment to the protocol).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amendment {
    pub seq: u32,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub change: Text,
    pub reason: Text,
    /// Whether the amendment was made before the device's results were unblinded.
    pub before_unblinding: bool,
    pub ledger_seq: u64,
}

/// A protocol deviation (計画からの逸脱).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviationRow {
    pub description: Text,
    /// The cases it concerns (empty: the study as a whole).
    #[serde(default)]
    pub case_ids: Vec<String>,
    /// The ledger entry that recorded it (`kizon deviation add`); `None` for one kizon found
    /// in the study's own data.
    #[serde(default)]
    pub ledger_seq: Option<u64>,
}

/// The regulatory path that follows (Q10, Q11), as decided by `kizon plan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegulatoryPlan {
    pub lines: Vec<PlanLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanLine {
    /// e.g. 申請区分 / application category.
    pub item: Text,
    pub value: Text,
    /// The Q&A item behind it, e.g. `Q10`.
    pub clause: String,
}

/// One reported number and where it came from (appendix).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceRow {
    /// What the number is, e.g. 主要評価項目1 感度.
    pub item: Text,
    /// The number as it appears in the report.
    pub value: String,
    pub analysis_id: String,
    #[serde(default)]
    pub endpoint_id: Option<String>,
    /// SHA-256 of the list of cases the number was computed on.
    pub case_list_sha256: String,
    pub ledger_seq: u64,
}

/// Lesion-level evaluation of the device's marks against the reference lesions (Q4: lesion
/// detection; FROC, Chakraborty & Berbaum 2004).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LesionResults {
    /// The matching criterion as the protocol sets it (`distance ≤ 10 mm`, `IoU ≥ 0.5`,
    /// `inside`).
    pub criterion: String,
    /// Panel readers a reference lesion needs (k of n).
    pub k: u32,
    /// The operating point: marks rated at or above it (`None`: every mark).
    pub threshold: Option<f64>,
    pub cases: u64,
    pub normal_cases: u64,
    pub abnormal_cases: u64,
    pub images: u64,
    pub lesions: u64,
    pub marks: u64,
    /// Marks on a lesion (lesion localisations) and elsewhere (false positives).
    pub hits: u64,
    pub false_positives: u64,
    /// Reference lesions by type.
    #[serde(default)]
    pub lesion_types: Vec<LesionTypeCount>,
    /// JAFROC figure of merit (AUC of the AFROC curve) and the weighted AFROC, with
    /// bootstrap percentile intervals.
    pub afroc: LesionEstimate,
    pub wafroc: LesionEstimate,
    pub replicates: u64,
    pub lesion_sensitivity: Option<LesionEstimate>,
    pub fp_per_image: Option<LesionEstimate>,
    pub fp_per_case: Option<LesionEstimate>,
    pub case_sensitivity: Option<LesionEstimate>,
    pub case_specificity: Option<LesionEstimate>,
    /// Localisation of the hits: mean and median centre distance (in the protocol's units),
    /// mean IoU when marks and lesions are boxes.
    pub mean_distance: Option<f64>,
    pub median_distance: Option<f64>,
    pub mean_iou: Option<f64>,
    /// Segmentation overlap of hits with two regions (device masks): mean Dice.
    #[serde(default)]
    pub mean_dice: Option<f64>,
    /// FROC curve: (NLs per case, lesion localisation fraction), from the origin.
    pub froc: Vec<CurvePoint>,
    /// AFROC curve: (fraction of normal cases with a false positive, LLF), (0,0) to (1,1).
    pub afroc_curve: Vec<CurvePoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LesionTypeCount {
    /// `None`: no type given.
    pub lesion_type: Option<String>,
    pub count: u64,
}

/// An estimate with an optional interval (bounds `None` without one).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LesionEstimate {
    pub estimate: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurvePoint {
    pub x: f64,
    pub y: f64,
}

/// A multi-reader multi-case (MRMC) reader study: readers rate every case in every modality;
/// the modalities are compared by the readers' mean AUC with the Obuchowski–Rockette method
/// and Hillis' denominator degrees of freedom (random readers and cases).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderStudyResults {
    pub modalities: Vec<String>,
    pub readers: Vec<String>,
    pub cases: u64,
    pub positives: u64,
    pub negatives: u64,
    /// Cases left out because not every reader rated them in every modality.
    pub incomplete_cases: u64,
    /// `aucs[r][m]`: reader `r`'s AUC in modality `m`.
    pub aucs: Vec<Vec<f64>>,
    /// Each modality's mean AUC over readers with its interval.
    pub modality_aucs: Vec<LesionEstimate>,
    pub f: Option<f64>,
    pub df1: f64,
    pub df2: Option<f64>,
    pub p_value: Option<f64>,
    /// First modality minus second.
    pub difference: Option<LesionEstimate>,
    #[serde(default)]
    pub warnings: Vec<Text>,
    /// Reading time per reader and condition, then per condition (reads in the browser).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reading_times: Vec<ReadingTimeRow>,
    /// Each reader's marks per condition against the reference lesions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reader_lesions: Vec<ReaderLesionRow>,
}

/// Reading time of one reader (`None`: every reader) in one condition, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadingTimeRow {
    pub modality: String,
    pub reader: Option<String>,
    pub reads: u64,
    pub mean_seconds: f64,
    pub median_seconds: f64,
}

/// One reader's lesion-level figures in one condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderLesionRow {
    pub reader: String,
    pub modality: String,
    pub cases: u64,
    /// The weighted AFROC figure of merit with its interval (absent: not estimable).
    pub wafroc: Option<LesionEstimate>,
    pub lesion_sensitivity: Option<f64>,
    pub nl_per_image: Option<f64>,
}

/// One pre-specified method comparison of the correlation study (相関性試験, CLSI EP09c): the
/// device against its comparator on the same specimens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodComparisonResults {
    pub id: String,
    /// The method as printed (`Passing–Bablok`, `Deming`, …) and how its intervals were made.
    pub method: Text,
    pub level: f64,
    /// `[comparator, device]` of every specimen analysed.
    pub pairs: Vec<[f64; 2]>,
    /// Specimens of the dataset not analysed, with why.
    pub not_analysed: Vec<Text>,
    pub slope: Option<LesionEstimate>,
    pub intercept: Option<LesionEstimate>,
    /// Bland–Altman's mean difference and limits of agreement.
    pub bias: Option<LesionEstimate>,
    pub loa: Option<[f64; 2]>,
    pub pearson: Option<LesionEstimate>,
    pub ccc: Option<LesionEstimate>,
    /// The bias at each medical decision point: `(level, estimate)`.
    pub bias_at: Vec<(f64, LesionEstimate)>,
    pub criteria: Vec<MethodCriterion>,
    pub verdict: Option<Verdict>,
    /// The fitted line's confidence band, `[x, lower, upper]`; empty where the method gives
    /// none (Passing–Bablok, Bland–Altman).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub band: Vec<[f64; 3]>,
}

/// One acceptance criterion of a method comparison, judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodCriterion {
    pub quantity: Text,
    pub within: [f64; 2],
    pub judged: [f64; 2],
    /// Judged on the estimate (the method gives no interval), not on an interval.
    pub on_estimate: bool,
    pub pass: bool,
}
