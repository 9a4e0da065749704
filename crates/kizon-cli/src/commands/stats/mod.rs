//! `kizon stats …`: the arguments of the statistics commands and their text output. The
//! work is done by `kizon_app::stats`; these commands need no study and write no ledger.

use std::fmt::Write;
use std::path::PathBuf;

use clap::{ArgAction, Args, Subcommand, ValueEnum};
use kizon_app::stats::{
    self, AucInterval, AucVariance, CaseClass, CovarianceMethod, Estimate, KappaWeights,
    MrmcAnalysis, PairedTable, ProportionCi, ProportionPlanInput, TwoByTwo,
};

use crate::commands::{Failure, print_json};

mod render;

use render::{
    Digits, ci_name, interval, level_label, p_value, render_froc, render_kappa, render_mrmc,
    render_roc, row,
};

/// Examples shown by `kizon stats --help`.
pub const EXAMPLES: &str = "\
Examples / 使用例:
  kizon stats binary --tp 670 --fp 202 --fn 74 --tn 640
  kizon stats binary --tp 670 --fp 202 --fn 74 --tn 640 --ci clopper-pearson --json
  kizon stats agreement --pos-pos 40 --pos-neg 5 --neg-pos 4 --neg-neg 171
  kizon stats kappa --csv ratings.csv --raters reader1,reader2 --weights quadratic
  kizon stats roc --csv results.csv --truth outcome --positive Poor --score s100b
  kizon stats roc --csv results.csv --truth outcome --positive Poor --score s100b --score ndka
  kizon stats roc --csv lesions.csv --truth y --positive 1 --score ai --ci bootstrap --cluster pid
  kizon stats mrmc --csv reads.csv --reader reader --modality modality --case case --truth truth --score rating
  kizon stats sample-size proportion --goal 0.80 --expected 0.90 --prevalence 0.3
  kizon stats sample-size auc --null 0.75 --expected 0.85
  kizon stats mcnemar --both-pos 30 --first-only 12 --second-only 4 --both-neg 54
  kizon stats method-comparison specimens.csv --x comparator --y device --method passing-bablok

No study directory is needed and nothing is recorded in a ledger.
CSV files: UTF-8 (a byte-order mark is fine), comma-separated, a header line naming the columns.
Every command takes --json; a quantity the data cannot estimate is null (text: 推定不能 / not estimable).";

#[derive(Subcommand, Debug)]
pub enum StatsCommand {
    /// Accuracy of a binary test against the reference standard, from its 2×2 table / 診断精度（2×2表）
    #[command(
        after_help = "Example (epiR's worked example):\n  kizon stats binary --tp 670 --fp 202 --fn 74 --tn 640\n\nLR+, LR− and DOR use log-method intervals (½ is added to every cell when one is zero); Youden's J uses Newcombe's MOVER interval."
    )]
    Binary(BinaryArgs),
    /// Agreement with a comparator that is not a reference standard: PPA, NPA, OPA, kappa (FDA 2007) / 一致率
    #[command(
        after_help = "The first word is the new test, the second the comparator:\n  --pos-pos  both positive      --pos-neg  new test positive, comparator negative\n  --neg-pos  new test negative, comparator positive      --neg-neg  both negative\n\nExample (FDA 2007 guidance):\n  kizon stats agreement --pos-pos 40 --pos-neg 5 --neg-pos 4 --neg-neg 171"
    )]
    Agreement(AgreementArgs),
    /// Cohen's kappa (2 raters, optionally weighted) or Fleiss' kappa (3 or more) from a CSV of ratings / κ係数
    #[command(
        after_help = "One row per case, one column per rater. Numeric categories are ordered by value (for the weights).\n\nExamples:\n  kizon stats kappa --csv ratings.csv --raters reader1,reader2\n  kizon stats kappa --csv ratings.csv --raters reader1,reader2 --weights quadratic\n  kizon stats kappa --csv ratings.csv --raters r1,r2,r3 --json"
    )]
    Kappa(KappaArgs),
    /// ROC analysis of a score against binary truth from a CSV: AUC with DeLong or bootstrap CI; two scores compared by DeLong's test / ROC解析
    #[command(
        after_help = "A higher score means more likely positive. The truth column must hold exactly two values.\n\nExamples:\n  kizon stats roc --csv aSAH.csv --truth outcome --positive Poor --score s100b\n  kizon stats roc --csv aSAH.csv --truth outcome --positive Poor --score s100b --score ndka\n  kizon stats roc --csv aSAH.csv --truth outcome --positive Poor --score s100b --ci bootstrap\n  kizon stats roc --csv lesions.csv --truth y --positive 1 --score ai --ci bootstrap --cluster pid"
    )]
    Roc(RocArgs),
    /// Multi-reader multi-case comparison of modalities by the AUC: Obuchowski–Rockette with Hillis' df / MRMC解析
    #[command(
        after_help = "One row per reader × modality × case; every reader rates every case in every modality. A higher rating means more likely positive; ratings may be ordinal (1–5) or continuous. Modalities are taken in the order they first appear in the file, and a difference is the first minus the second.\n\nBy default readers and cases are random (Hillis 2007 denominator degrees of freedom); --fixed readers or --fixed cases gives the other analyses.\n\nExample (Van Dyke et al. 1993):\n  kizon stats mrmc --csv van_dyke.csv --reader reader --modality treatment --case case --truth truth --score rating --cov jackknife"
    )]
    Mrmc(MrmcArgs),
    /// Lesion-level (free-response) evaluation of marks against lesions: JAFROC figures of merit, lesion sensitivity, false positives per image, FROC/AFROC curves / 病変単位の評価（FROC）
    #[command(
        after_help = "Both files are CSV (header line) or JSON (an array of objects, or COCO with images, annotations and categories).
Each row: case_id, optional image, a location — x,y (point), x,y,r (circle), x0,y0,x1,y1 or bbox [x, y, w, h] (box), polygon [[x, y], ...].
Marks need a rating (rating, score or confidence; higher = more confident). Lesions may have a weight (default 1).
A lesions row without a location names a case (or image) without lesions, so that normal cases without marks count.

A mark hits a lesion of the same image under the criterion; marks are taken highest rating first, each lesion is
credited once (Chakraborty's convention), other marks are non-lesion localisations (false positives).

Examples:
  kizon stats froc --lesions lesions.csv --marks ai-marks.csv --criterion distance --radius 10 --json
  kizon stats froc --lesions truth.json --marks detections.json --criterion iou --iou 0.5 --threshold 0.5"
    )]
    Froc(FrocArgs),
    /// Cases needed for a protocol: a proportion above a performance goal, or an AUC above a null value / 症例数設計
    #[command(subcommand)]
    SampleSize(SampleSizeCommand),
    /// McNemar's test of two tests read on the same cases, with the paired difference of positive rates / McNemar検定
    #[command(
        after_help = "Example:\n  kizon stats mcnemar --both-pos 30 --first-only 12 --second-only 4 --both-neg 54"
    )]
    Mcnemar(McNemarArgs),
    /// A quantitative device against its comparator on the same specimens (CLSI EP09c): Passing–Bablok, Deming, weighted Deming, OLS, Bland–Altman / 相関性試験（方法比較）
    #[command(
        after_help = "One row per specimen; --x is the comparator's column, --y the device's.\n\nPassing–Bablok (Passing & Bablok 1983) and OLS have analytical intervals; Deming and weighted Deming\n(Linnet 1990, 1993) have Linnet's jackknife intervals; --error-ratio is the comparator's error variance\nover the device's (mcr's error.ratio). Bland–Altman gives the bias with its t interval and the limits of\nagreement bias ± z·sd (z = 1.959964… at 95 %) with Bland & Altman's 1999 intervals. Validated against R's mcr.\n\nExamples:\n  kizon stats method-comparison specimens.csv --x comparator --y device --method passing-bablok\n  kizon stats method-comparison specimens.csv --x comparator --y device --method deming --error-ratio 1.5 --json\n  kizon stats method-comparison hba1c.csv --x reference --y device --method passing-bablok --decision-points 6.5,7,8\n  kizon stats method-comparison psa.csv --x reference --y device --method bland-altman --cutoff 4 --id specimen\n  kizon stats method-comparison specimens.csv --x comparator --y device --method bland-altman"
    )]
    MethodComparison(MethodComparisonArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComparisonMethodArg {
    PassingBablok,
    Deming,
    WeightedDeming,
    Ols,
    BlandAltman,
}

#[derive(Args, Debug)]
pub struct MethodComparisonArgs {
    /// The CSV file (header line), one row per specimen
    #[arg(value_name = "FILE")]
    pub csv: PathBuf,
    /// The comparator's column
    #[arg(long, value_name = "COL")]
    pub x: String,
    /// The device's column
    #[arg(long, value_name = "COL")]
    pub y: String,
    #[arg(long, value_enum)]
    pub method: ComparisonMethodArg,
    /// The comparator's error variance over the device's (Deming, weighted Deming)
    #[arg(long, default_value_t = 1.0)]
    pub error_ratio: f64,
    /// Medical decision points: the bias there, with its interval (comma-separated, e.g. 6.5,7,8)
    #[arg(long, value_name = "X,…", value_delimiter = ',')]
    pub decision_points: Vec<f64>,
    /// The analyser's cut-off: agreement of the judgements (positive at ≥ cut-off; CLSI EP12)
    #[arg(long, value_name = "VALUE")]
    pub cutoff: Option<f64>,
    /// With --cutoff: list the specimens within this fraction of the cut-off
    #[arg(long, value_name = "FRACTION", default_value_t = 0.1)]
    pub near: f64,
    /// The column naming each specimen (for the list near the cut-off)
    #[arg(long, value_name = "COL")]
    pub id: Option<String>,
    /// Two-sided confidence level, as a fraction
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CiMethod {
    Wilson,
    ClopperPearson,
    AgrestiCoull,
    Jeffreys,
}

impl From<CiMethod> for ProportionCi {
    fn from(method: CiMethod) -> ProportionCi {
        match method {
            CiMethod::Wilson => ProportionCi::Wilson,
            CiMethod::ClopperPearson => ProportionCi::ClopperPearson,
            CiMethod::AgrestiCoull => ProportionCi::AgrestiCoull,
            CiMethod::Jeffreys => ProportionCi::Jeffreys,
        }
    }
}

#[derive(Args, Debug)]
pub struct ProportionCiArgs {
    /// Confidence interval of the proportions
    #[arg(long, value_enum, default_value_t = CiMethod::Wilson)]
    pub ci: CiMethod,
    /// Two-sided confidence level, as a fraction
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct BinaryArgs {
    /// True positives: test positive, reference positive
    #[arg(long)]
    pub tp: u64,
    /// False positives: test positive, reference negative
    #[arg(long)]
    pub fp: u64,
    /// False negatives: test negative, reference positive
    #[arg(long = "fn")]
    pub fn_: u64,
    /// True negatives: test negative, reference negative
    #[arg(long)]
    pub tn: u64,
    #[command(flatten)]
    pub ci: ProportionCiArgs,
}

#[derive(Args, Debug)]
pub struct AgreementArgs {
    /// New test positive, comparator positive
    #[arg(long)]
    pub pos_pos: u64,
    /// New test positive, comparator negative
    #[arg(long)]
    pub pos_neg: u64,
    /// New test negative, comparator positive
    #[arg(long)]
    pub neg_pos: u64,
    /// New test negative, comparator negative
    #[arg(long)]
    pub neg_neg: u64,
    #[command(flatten)]
    pub ci: ProportionCiArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    None,
    Linear,
    Quadratic,
}

#[derive(Args, Debug)]
pub struct KappaArgs {
    /// The CSV file (UTF-8, header line)
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
    /// The rating columns, one per rater, comma-separated (2 for Cohen, 3+ for Fleiss)
    #[arg(
        long,
        value_name = "COL,COL[,COL...]",
        value_delimiter = ',',
        required = true
    )]
    pub raters: Vec<String>,
    /// Agreement weights for ordered categories (2 raters only)
    #[arg(long, value_enum, default_value_t = Weights::None)]
    pub weights: Weights,
    /// Two-sided confidence level, as a fraction
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MrmcCov {
    Delong,
    Jackknife,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MrmcFixed {
    /// Conclusions for these readers only (chi-square test)
    Readers,
    /// Conclusions for these cases only (ANOVA of the reader AUCs)
    Cases,
}

#[derive(Args, Debug)]
pub struct MrmcArgs {
    /// The CSV file (UTF-8, header line), one row per reader × modality × case
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
    /// The reader column
    #[arg(long, value_name = "COL")]
    pub reader: String,
    /// The modality column (e.g. without / with the AI)
    #[arg(long, value_name = "COL")]
    pub modality: String,
    /// The case column
    #[arg(long, value_name = "COL")]
    pub case: String,
    /// The column of the reference standard
    #[arg(long, value_name = "COL")]
    pub truth: String,
    /// The truth value of a positive case (the column holds one other value)
    #[arg(long, value_name = "VALUE", default_value = "1")]
    pub positive: String,
    /// The rating or score column (higher = more likely positive)
    #[arg(long, value_name = "COL")]
    pub score: String,
    /// Covariance of the reader AUCs over cases
    #[arg(long = "cov", value_enum, default_value_t = MrmcCov::Delong)]
    pub cov: MrmcCov,
    /// Treat readers or cases as fixed (default: both random)
    #[arg(long, value_enum)]
    pub fixed: Option<MrmcFixed>,
    /// Two-sided confidence level, as a fraction
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrocCriterion {
    /// Centre distance at most --radius
    Distance,
    /// Intersection over union of boxes at least --iou
    Iou,
    /// The mark's centre inside the lesion's region
    Inside,
}

#[derive(Args, Debug)]
pub struct FrocArgs {
    /// The reference lesions (CSV or JSON)
    #[arg(long, value_name = "FILE")]
    pub lesions: PathBuf,
    /// The marks with their ratings (CSV or JSON)
    #[arg(long, value_name = "FILE")]
    pub marks: PathBuf,
    /// When a mark hits a lesion
    #[arg(long, value_enum, default_value_t = FrocCriterion::Distance)]
    pub criterion: FrocCriterion,
    /// For --criterion distance: the largest centre distance, in the coordinates' unit
    #[arg(long, value_name = "R")]
    pub radius: Option<f64>,
    /// For --criterion iou: the smallest intersection over union
    #[arg(long, value_name = "T")]
    pub iou: Option<f64>,
    /// The unit of the coordinates (shown with the criterion)
    #[arg(long, value_parser = ["pixels", "mm"], default_value = "pixels")]
    pub units: String,
    /// Operating point: marks rated at or above it count (default: every mark)
    #[arg(long, value_name = "RATING")]
    pub threshold: Option<f64>,
    /// Count a second mark on a credited lesion as a false positive (default: discard it)
    #[arg(long)]
    pub duplicates_as_fp: bool,
    /// Bootstrap replicates for the figures of merit (0: no interval)
    #[arg(long, default_value_t = 2000)]
    pub reps: usize,
    /// Seed of the bootstrap
    #[arg(long, default_value_t = 20_261_125)]
    pub seed: u64,
    /// Two-sided confidence level, as a fraction
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RocCi {
    Delong,
    Bootstrap,
}

#[derive(Args, Debug)]
pub struct RocArgs {
    /// The CSV file (UTF-8, header line), one row per case (or per lesion with --cluster)
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
    /// The column of the reference standard
    #[arg(long, value_name = "COL")]
    pub truth: String,
    /// The truth value of a positive case (the column holds one other value)
    #[arg(long, value_name = "VALUE")]
    pub positive: String,
    /// The score column (higher = more likely positive); give it twice to compare two scores
    #[arg(long, value_name = "COL", action = ArgAction::Append, required = true)]
    pub score: Vec<String>,
    /// Confidence interval of the AUC
    #[arg(long, value_enum, default_value_t = RocCi::Delong)]
    pub ci: RocCi,
    /// Two-sided confidence level, as a fraction
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Bootstrap replicates
    #[arg(long, default_value_t = 2000)]
    pub reps: usize,
    /// Bootstrap seed: the same seed gives the same interval on every machine
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Patient column: resample whole patients (needs --ci bootstrap)
    #[arg(long, value_name = "COL")]
    pub cluster: Option<String>,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum SampleSizeCommand {
    /// Cases for the lower confidence bound of a proportion (sensitivity, specificity, PPA…) to exceed a performance goal (exact binomial)
    #[command(
        after_help = "Examples:\n  kizon stats sample-size proportion --goal 0.80 --expected 0.90\n  kizon stats sample-size proportion --goal 0.80 --expected 0.90 --prevalence 0.3\n  kizon stats sample-size proportion --goal 0.85 --expected 0.93 --class non-diseased --prevalence 0.3 --ci wilson"
    )]
    Proportion(ProportionPlanArgs),
    /// Diseased and non-diseased cases to show an AUC above a null value (Obuchowski; Hanley & McNeil)
    #[command(
        after_help = "Examples:\n  kizon stats sample-size auc --null 0.75 --expected 0.85\n  kizon stats sample-size auc --null 0.5 --expected 0.8 --ratio 2.5 --model hanley-mcneil"
    )]
    Auc(AucPlanArgs),
    /// Cases for a two-modality MRMC reader study, from a pilot's ratings (Hillis, Obuchowski & Berbaum 2011)
    #[command(
        after_help = "Examples:\n  kizon stats sample-size mrmc --csv pilot.csv --reader reader --modality treatment --case case --truth truth --score rating --readers 6\n  kizon stats sample-size mrmc --csv pilot.csv ... --readers 10 --effect 0.05 --power 0.9 --json\n\nThe pilot is analysed as `kizon stats mrmc` does (--cov delong|jackknife); its OR variance\ncomponents are scaled to each number of cases until the power exceeds the target."
    )]
    Mrmc(MrmcPlanArgs),
}

#[derive(Args, Debug)]
pub struct MrmcPlanArgs {
    #[command(flatten)]
    pub pilot: MrmcArgs,
    /// Readers in the planned study
    #[arg(long)]
    pub readers: u64,
    /// Difference of AUCs to detect (default: the pilot's observed difference)
    #[arg(long, allow_hyphen_values = true)]
    pub effect: Option<f64>,
    /// Two-sided significance level
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Target power
    #[arg(long, default_value_t = 0.8)]
    pub power: f64,
    /// Largest number of cases searched
    #[arg(long, default_value_t = 10_000)]
    pub max_cases: u64,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassArg {
    Diseased,
    NonDiseased,
}

#[derive(Args, Debug)]
pub struct ProportionPlanArgs {
    /// The performance goal the lower confidence bound must exceed
    #[arg(long)]
    pub goal: f64,
    /// The proportion expected for the device
    #[arg(long)]
    pub expected: f64,
    /// Probability of showing it
    #[arg(long, default_value_t = 0.8)]
    pub power: f64,
    /// Two-sided confidence level of the interval
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Confidence interval whose lower bound is compared with the goal
    #[arg(long, value_enum, default_value_t = CiMethod::ClopperPearson)]
    pub ci: CiMethod,
    /// Expected prevalence, to give the total number of cases to enrol
    #[arg(long)]
    pub prevalence: Option<f64>,
    /// The cases the proportion is computed on: diseased (sensitivity, PPA) or non-diseased (specificity, NPA)
    #[arg(long, value_enum, default_value_t = ClassArg::Diseased)]
    pub class: ClassArg,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AucModel {
    Binormal,
    HanleyMcneil,
}

#[derive(Args, Debug)]
pub struct AucPlanArgs {
    /// The AUC to beat (H0: AUC ≤ null)
    #[arg(long = "null", value_name = "AUC")]
    pub null_auc: f64,
    /// The AUC expected for the device
    #[arg(long, value_name = "AUC")]
    pub expected: f64,
    /// Non-diseased cases per diseased case
    #[arg(long, default_value_t = 1.0)]
    pub ratio: f64,
    /// Probability of showing it
    #[arg(long, default_value_t = 0.8)]
    pub power: f64,
    /// One-sided significance level
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Variance model of the AUC
    #[arg(long, value_enum, default_value_t = AucModel::Binormal)]
    pub model: AucModel,
    /// Binormal scale ratio b = σ(non-diseased)/σ(diseased) (binormal model only)
    #[arg(long, default_value_t = 1.0)]
    pub binormal_b: f64,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct McNemarArgs {
    /// Both tests positive
    #[arg(long)]
    pub both_pos: u64,
    /// Only the first test positive
    #[arg(long)]
    pub first_only: u64,
    /// Only the second test positive
    #[arg(long)]
    pub second_only: u64,
    /// Both tests negative
    #[arg(long)]
    pub both_neg: u64,
    /// Two-sided confidence level of the difference, as a fraction
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs one statistics command and prints its result.
pub fn run(command: StatsCommand) -> Result<(), Failure> {
    match command {
        StatsCommand::Binary(a) => {
            let table = TwoByTwo::new(a.tp, a.fp, a.fn_, a.tn);
            let ci = ProportionCi::from(a.ci.ci);
            let result = stats::binary(table, ci, a.ci.level)?;
            if a.ci.json {
                return print_json(&result);
            }
            let mut out = String::new();
            let _ = writeln!(
                out,
                "診断精度 / diagnostic accuracy: TP {}, FP {}, FN {}, TN {} (n = {})",
                a.tp,
                a.fp,
                a.fn_,
                a.tn,
                table.total()
            );
            let level = a.ci.level;
            let m = ci_name(ci);
            let rows: [(&str, &Option<Estimate>, &str, Digits); 10] = [
                (
                    "感度 / sensitivity",
                    &result.sensitivity,
                    m,
                    Digits::Fraction,
                ),
                (
                    "特異度 / specificity",
                    &result.specificity,
                    m,
                    Digits::Fraction,
                ),
                ("陽性的中率 / PPV", &result.ppv, m, Digits::Fraction),
                ("陰性的中率 / NPV", &result.npv, m, Digits::Fraction),
                ("正診率 / accuracy", &result.accuracy, m, Digits::Fraction),
                (
                    "有病率 / prevalence",
                    &result.prevalence,
                    m,
                    Digits::Fraction,
                ),
                (
                    "陽性尤度比 / LR+",
                    &result.lr_positive,
                    "log method",
                    Digits::Ratio,
                ),
                (
                    "陰性尤度比 / LR−",
                    &result.lr_negative,
                    "log method",
                    Digits::Ratio,
                ),
                (
                    "診断オッズ比 / DOR",
                    &result.dor,
                    "log method",
                    Digits::Ratio,
                ),
                (
                    "Youden 指数 / Youden's J",
                    &result.youden,
                    "MOVER",
                    Digits::Fraction,
                ),
            ];
            for (label, estimate, method, digits) in rows {
                row(&mut out, label, &interval(estimate, level, method, digits));
            }
            if [a.tp, a.fp, a.fn_, a.tn].contains(&0) && result.dor.is_some() {
                let _ = writeln!(
                    out,
                    "注 / note: 0 のセルがあるため LR と DOR は全セルに ½ を加えて計算 / a cell is zero: LR and DOR add ½ to every cell (Haldane–Anscombe)"
                );
            }
            print!("{out}");
        }
        StatsCommand::Agreement(a) => {
            let table = TwoByTwo::new(a.pos_pos, a.pos_neg, a.neg_pos, a.neg_neg);
            let ci = ProportionCi::from(a.ci.ci);
            let result = stats::agreement(table, ci, a.ci.level)?;
            if a.ci.json {
                return print_json(&result);
            }
            let mut out = String::new();
            let _ = writeln!(
                out,
                "一致率 / agreement with a non-reference comparator: both positive {}, new test only {}, comparator only {}, both negative {} (n = {})",
                a.pos_pos,
                a.pos_neg,
                a.neg_pos,
                a.neg_neg,
                table.total()
            );
            let (level, m) = (a.ci.level, ci_name(ci));
            row(
                &mut out,
                "陽性一致率 / PPA",
                &interval(&result.ppa, level, m, Digits::Fraction),
            );
            row(
                &mut out,
                "陰性一致率 / NPA",
                &interval(&result.npa, level, m, Digits::Fraction),
            );
            row(
                &mut out,
                "全体一致率 / OPA",
                &interval(&result.opa, level, m, Digits::Fraction),
            );
            row(
                &mut out,
                "κ係数 / Cohen's kappa",
                &interval(&result.kappa, level, "Wald", Digits::Fraction),
            );
            print!("{out}");
        }
        StatsCommand::Kappa(a) => {
            let weights = match a.weights {
                Weights::None => KappaWeights::Unweighted,
                Weights::Linear => KappaWeights::Linear,
                Weights::Quadratic => KappaWeights::Quadratic,
            };
            let result = stats::kappa(&stats::KappaInput {
                csv: a.csv.clone(),
                raters: a.raters.clone(),
                weights,
                level: a.level,
            })?;
            if a.json {
                return print_json(&result);
            }
            print!("{}", render_kappa(&a, &result));
        }
        StatsCommand::Roc(a) => {
            let result = stats::roc(&stats::RocInput {
                csv: a.csv.clone(),
                truth: a.truth.clone(),
                positive: a.positive.clone(),
                scores: a.score.clone(),
                interval: match a.ci {
                    RocCi::Delong => AucInterval::Delong,
                    RocCi::Bootstrap => AucInterval::Bootstrap,
                },
                level: a.level,
                replicates: a.reps,
                seed: a.seed,
                cluster: a.cluster.clone(),
            })?;
            if a.json {
                return print_json(&result);
            }
            print!("{}", render_roc(&a, &result));
        }
        StatsCommand::SampleSize(SampleSizeCommand::Mrmc(a)) => {
            let plan = stats::mrmc_sample_size(
                &mrmc_input(&a.pilot),
                a.readers,
                a.effect,
                a.alpha,
                a.power,
                a.max_cases,
            )?;
            if a.pilot.json {
                return print_json(&plan);
            }
            let mut out = String::new();
            let effect = plan.plan.effect;
            let _ = writeln!(
                out,
                "MRMC 症例数設計 / MRMC sample size: {} readers, difference of AUCs {effect:.4}{}, two-sided α = {}, power > {} (Hillis, Obuchowski & Berbaum 2011; pilot of {} cases)",
                a.readers,
                if a.effect.is_none() {
                    " (the pilot's)"
                } else {
                    ""
                },
                a.alpha,
                a.power,
                plan.pilot.cases
            );
            type Pick = fn(&stats::MrmcPower) -> stats::AnalysisPower;
            let analyses: [(&str, &Option<stats::MrmcPower>, Pick); 3] = [
                (
                    "読影者・症例とも変量 / random readers and cases",
                    &plan.plan.random_readers_random_cases,
                    |p| p.random_readers_random_cases,
                ),
                (
                    "読影者固定 / fixed readers",
                    &plan.plan.fixed_readers_random_cases,
                    |p| p.fixed_readers_random_cases,
                ),
                (
                    "症例固定 / fixed cases",
                    &plan.plan.random_readers_fixed_cases,
                    |p| p.random_readers_fixed_cases,
                ),
            ];
            for (name, found, pick) in analyses {
                let text = match found {
                    Some(p) => format!(
                        "{} cases (power / 検出力 {:.4})",
                        p.cases,
                        pick(p).power.unwrap_or(f64::NAN)
                    ),
                    None => format!("more than {} cases / 上限超過", a.max_cases),
                };
                row(&mut out, name, &text);
            }
            print!("{out}");
        }
        StatsCommand::Mrmc(a) => {
            let result = stats::mrmc(&mrmc_input(&a))?;
            if a.json {
                return print_json(&result);
            }
            print!("{}", render_mrmc(&a, &result));
        }
        StatsCommand::Froc(a) => {
            use kizon_app::lesions::{
                DuplicateMarks, FrocFiles, LesionCriterion, LesionUnits, froc,
            };
            let result = froc(&FrocFiles {
                lesions: a.lesions.clone(),
                marks: a.marks.clone(),
                criterion: match a.criterion {
                    FrocCriterion::Distance => LesionCriterion::Distance,
                    FrocCriterion::Iou => LesionCriterion::Iou,
                    FrocCriterion::Inside => LesionCriterion::Inside,
                },
                radius: a.radius,
                threshold: a.iou,
                units: if a.units == "mm" {
                    LesionUnits::Mm
                } else {
                    LesionUnits::Pixels
                },
                duplicates: if a.duplicates_as_fp {
                    DuplicateMarks::FalsePositive
                } else {
                    DuplicateMarks::Discard
                },
                rating_threshold: a.threshold,
                level: a.level,
                replicates: a.reps,
                seed: a.seed,
            })?;
            if a.json {
                return print_json(&result);
            }
            print!("{}", render_froc(&result));
        }
        StatsCommand::SampleSize(SampleSizeCommand::Proportion(a)) => {
            let ci = ProportionCi::from(a.ci);
            let plan = stats::sample_size_proportion(ProportionPlanInput {
                goal: a.goal,
                expected: a.expected,
                power: a.power,
                level: a.level,
                ci,
                prevalence: a.prevalence,
                class: match a.class {
                    ClassArg::Diseased => CaseClass::Diseased,
                    ClassArg::NonDiseased => CaseClass::NonDiseased,
                },
            })?;
            if a.json {
                return print_json(&plan);
            }
            let mut out = String::new();
            let _ = writeln!(
                out,
                "症例数設計 / sample size: 真の割合 {expected} のとき {level} CI（{ci}）の下限が目標値 {goal} を超える確率 {power} / the lower bound of the {level} {ci} CI exceeds the goal {goal} with power {power} when the true proportion is {expected}",
                expected = a.expected,
                level = level_label(a.level),
                ci = ci_name(ci),
                goal = a.goal,
                power = a.power
            );
            let class = match a.class {
                ClassArg::Diseased => "疾患あり / diseased",
                ClassArg::NonDiseased => "疾患なし / non-diseased",
            };
            let c = &plan.cases;
            row(
                &mut out,
                &format!("必要症例数 / cases ({class})"),
                &format!(
                    "{} (power {:.4}; at least {} correct calls / 正解 {} 例以上)",
                    c.n, c.power, c.critical_successes, c.critical_successes
                ),
            );
            if c.first_n < c.n {
                row(
                    &mut out,
                    "初到達 / first n with the power",
                    &format!(
                        "{} (the exact power is saw-toothed: some n between {} and {} fall below {})",
                        c.first_n,
                        c.first_n,
                        c.n - 1,
                        a.power
                    ),
                );
            }
            if let Some(e) = &plan.enrolment {
                row(
                    &mut out,
                    "登録症例数 / total to enrol",
                    &format!("{} (prevalence / 有病率 {})", e.total, e.prevalence),
                );
            }
            print!("{out}");
        }
        StatsCommand::SampleSize(SampleSizeCommand::Auc(a)) => {
            let variance = match a.model {
                AucModel::Binormal => AucVariance::Binormal { b: a.binormal_b },
                AucModel::HanleyMcneil => AucVariance::HanleyMcNeil,
            };
            let plan = stats::sample_size_auc(
                a.null_auc, a.expected, a.alpha, a.power, a.ratio, variance,
            )?;
            if a.json {
                return print_json(&plan);
            }
            let model = match a.model {
                AucModel::Binormal => format!("Obuchowski binormal, b = {}", a.binormal_b),
                AucModel::HanleyMcneil => "Hanley & McNeil".into(),
            };
            let mut out = String::new();
            let _ = writeln!(
                out,
                "症例数設計 / sample size: AUC > {} (one-sided α = {}) when the AUC is {}, power {}, {} non-diseased per diseased ({model})",
                a.null_auc, a.alpha, a.expected, a.power, a.ratio
            );
            row(&mut out, "疾患あり / diseased", &plan.diseased.to_string());
            row(
                &mut out,
                "疾患なし / non-diseased",
                &plan.non_diseased.to_string(),
            );
            row(
                &mut out,
                "合計 / total",
                &format!("{} (power / 検出力 {:.4})", plan.total, plan.power),
            );
            print!("{out}");
        }
        StatsCommand::Mcnemar(a) => {
            let table = PairedTable {
                both: a.both_pos,
                first_only: a.first_only,
                second_only: a.second_only,
                neither: a.both_neg,
            };
            let result = stats::mcnemar(table, a.level)?;
            if a.json {
                return print_json(&result);
            }
            let t = &result.test;
            let mut out = String::new();
            let _ = writeln!(
                out,
                "McNemar 検定 / McNemar's test: both positive {}, first only {}, second only {}, both negative {} (n = {})",
                a.both_pos,
                a.first_only,
                a.second_only,
                a.both_neg,
                table.total()
            );
            row(&mut out, "正確検定 / exact test", &p_value(t.exact_p_value));
            row(
                &mut out,
                "χ² 検定 / chi-square",
                &format!("{:.4}, {}", t.chi_square, p_value(t.p_value)),
            );
            row(
                &mut out,
                "χ² 補正 / continuity-corrected",
                &format!(
                    "{:.4}, {}",
                    t.chi_square_corrected,
                    p_value(t.p_value_corrected)
                ),
            );
            row(
                &mut out,
                "陽性率の差 / difference (1st − 2nd)",
                &interval(&result.difference, a.level, "Newcombe", Digits::Fraction),
            );
            print!("{out}");
        }
        StatsCommand::MethodComparison(a) => {
            let result = stats::method_comparison(&stats::MethodComparisonInput {
                csv: a.csv.clone(),
                x: a.x.clone(),
                y: a.y.clone(),
                method: match a.method {
                    ComparisonMethodArg::PassingBablok => stats::ComparisonMethod::PassingBablok,
                    ComparisonMethodArg::Deming => stats::ComparisonMethod::Deming,
                    ComparisonMethodArg::WeightedDeming => stats::ComparisonMethod::WeightedDeming,
                    ComparisonMethodArg::Ols => stats::ComparisonMethod::Ols,
                    ComparisonMethodArg::BlandAltman => stats::ComparisonMethod::BlandAltman,
                },
                error_ratio: a.error_ratio,
                level: a.level,
                decision_points: a.decision_points.clone(),
                cutoff: a.cutoff,
                near: a.near,
                id: a.id.clone(),
            })?;
            if a.json {
                return print_json(&result);
            }
            print!("{}", render::render_method_comparison(&result, &a.x, &a.y));
        }
    }
    Ok(())
}

/// The MRMC input the arguments describe.
fn mrmc_input(a: &MrmcArgs) -> stats::MrmcInput {
    stats::MrmcInput {
        csv: a.csv.clone(),
        reader: a.reader.clone(),
        modality: a.modality.clone(),
        case: a.case.clone(),
        truth: a.truth.clone(),
        positive: a.positive.clone(),
        score: a.score.clone(),
        covariance: match a.cov {
            MrmcCov::Delong => CovarianceMethod::DeLong,
            MrmcCov::Jackknife => CovarianceMethod::Jackknife,
        },
        analysis: match a.fixed {
            None => MrmcAnalysis::RandomReadersRandomCases,
            Some(MrmcFixed::Readers) => MrmcAnalysis::FixedReadersRandomCases,
            Some(MrmcFixed::Cases) => MrmcAnalysis::RandomReadersFixedCases,
        },
        level: a.level,
    }
}

#[cfg(test)]
mod tests {
    use super::render::display_width;
    use super::*;

    #[test]
    fn labels_pad_by_display_width() {
        assert_eq!(display_width("感度 / sensitivity"), 18);
        let mut out = String::new();
        row(&mut out, "感度 / sensitivity", "x");
        assert_eq!(out, format!("  感度 / sensitivity{}x\n", " ".repeat(16)));
        assert_eq!(level_label(0.95), "95%");
        assert_eq!(level_label(0.975), "97.5%");
    }

    #[test]
    fn intervals_read_as_in_the_issue() {
        let e = Estimate {
            estimate: 0.90537,
            lower: 0.88251,
            upper: 0.92449,
        };
        assert_eq!(
            interval(&Some(e), 0.95, "Wilson", Digits::Fraction),
            "0.9054 (95% CI 0.8825–0.9245, Wilson)"
        );
        assert_eq!(
            interval(&None, 0.95, "Wilson", Digits::Fraction),
            "—（推定不能 / not estimable）"
        );
    }
}
