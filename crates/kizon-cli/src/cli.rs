//! The command line: arguments, help and examples. No logic lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use kizon_app::{ItemKind, ReadRole, Word};

const ABOUT: &str = "kizon (既存): performance evaluation tests of diagnostic devices on existing medical data, \
from protocol to PMDA submission, under the MHLW Q&A (2022-12-08, revised 2025-03-17).
既存の医用画像データ等を用いた診断用医療機器の性能評価試験を、計画から申請・信頼性調査まで支えます。";

const EXAMPLES: &str = "\
Examples / 使用例:
  kizon demo                              build a complete example study in ./kizon-demo
  kizon init my-study                     create a study with a commented study.toml
  cd my-study && kizon plan               the regulatory plan in Japanese and English
  kizon plan --json                       the same, for scripts
  kizon provider add \"Hospital A\" --kind hospital --consent opt-out --legal-basis \"倫理指針\"
  kizon evidence add \"Hospital A\" ethics-review approval.pdf
  kizon lock protocol                     fix the protocol before any result is seen
  kizon amend --reason \"added an exclusion criterion\"
  kizon audit verify                      check that nothing was altered

Every command works on the study in the current directory, or the one given with --study DIR.
Exit status: 0 success, 1 error (one line naming what and where, then a hint), 2 bad usage.";

#[derive(Parser, Debug)]
#[command(name = "kizon", version, about = ABOUT, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli {
    /// The study directory (default: the current directory) / 試験ディレクトリ
    #[arg(long, global = true, value_name = "DIR", env = "KIZON_STUDY")]
    pub study: Option<PathBuf>,
    /// Who acts, as recorded in the audit ledger (default: KIZON_ACTOR, else the OS user) / 操作者
    #[arg(long, global = true, value_name = "NAME", env = "KIZON_ACTOR")]
    pub actor: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a study directory: study.toml, database, document store / 試験ディレクトリを作成
    #[command(
        after_help = "Examples:\n  kizon init my-study                        makes the owner's signing key in ~/.kizon/keys\n  kizon init my-study --owner-key owner.key  uses an existing owner's key\n  kizon init --print-template > study.toml\n\nThe owner's Ed25519 key signs every lock, amendment, analysis and package. Its passphrase comes\nfrom KIZON_PASSPHRASE or is asked on the terminal; keep the key outside the study folder."
    )]
    Init(InitArgs),
    /// The study owner's signing key: create one for an older study, or show the study's / 署名鍵
    #[command(subcommand)]
    OwnerKey(OwnerKeyCommand),
    /// Show the regulatory plan: test type, application category, consultations, evidence, flags / 規制上の取扱い
    #[command(
        after_help = "Examples:\n  kizon plan\n  kizon plan --lang ja\n  kizon plan --json\n  kizon plan --as-of 2024-06-01     the answer under the Q&A of 2022-12-08\n  kizon plan --draft                preview an edited protocol before `kizon amend`"
    )]
    Plan(PlanArgs),
    /// Register and list data providers (Q3) / データ提供元
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Add and list evidence documents that explain consent (Q6, Q9) / 根拠資料
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Inventory existing data: hash, kind and metadata of every file, grouped into cases / 既存データの取込み
    #[command(
        after_help = "Examples:\n  kizon ingest --provider \"Hospital A\" /data/export\n  kizon ingest --provider \"Hospital A\" --manifest cases.csv\n\nThe manifest is a CSV with a header: case_id,path required; acquisition_date, collection_date,\npatient_key, diagnosis, diagnosis_date (YYYY-MM-DD) and other columns optional. Paths are relative\nto the manifest and may name folders. Without a manifest, DICOM files are grouped by patient and\nstudy, WFDB files by record, other files one case each. Running ingest again adds only what is new."
    )]
    Ingest(IngestArgs),
    /// List ingested items / 取込み済みデータの一覧
    Items(ItemsArgs),
    /// Look for the data doubts PMDA looks for (Q1, Q2, Q7) and record them as findings / データの疑義の確認
    #[command(
        after_help = "Examples:\n  kizon check\n  kizon findings --open\n  kizon resolve 3 --exclude-case --reason \"same image as case C-012\""
    )]
    Check(JsonFlag),
    /// List findings with their status / 疑義の一覧
    Findings(FindingsArgs),
    /// Decide on a finding, with a reason / 疑義への対応を記録
    #[command(
        after_help = "Examples:\n  kizon resolve 3 --exclude-case --case C-013 --reason \"C-012 と同一画像\" --reason-en \"duplicate of C-012\"\n  kizon resolve 4 --accept --reason \"date corrected by the provider's letter 2026-10-02\"\n  kizon resolve 5 --query-provider --reason \"asked Hospital A to check the source record\""
    )]
    Resolve(ResolveArgs),
    /// Register the device's training data, so that `check` proves the test data independent / 学習データの登録
    #[command(subcommand)]
    TrainingSet(TrainingSetCommand),
    /// Show the dataset: the cases a lock would fix, or the locked one / 解析対象データセット
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Register and list the expert panel's readers / 読影者
    #[command(subcommand)]
    Readers(ReadersCommand),
    /// Import and list the panel's reads / 読影結果
    #[command(subcommand)]
    Reads(ReadsCommand),
    /// Import confirmed diagnoses or comparator results; show the reference standard / 参照標準
    #[command(subcommand)]
    Reference(ReferenceCommand),
    /// Import the device's results against the locked dataset / 被験機器の結果
    #[command(subcommand)]
    Results(ResultsCommand),
    /// Import and list lesion marks of readers (the lesion reference) or of the device / 病変のマーク
    #[command(subcommand)]
    Marks(MarksCommand),
    /// Evaluate every endpoint: 2×2 tables, CIs, acceptance criteria, subgroups, sensitivity analyses / 解析
    #[command(
        after_help = "Examples:\n  kizon analyze\n  kizon analyze --device-version 1.0.0 --json > analysis.json\n\nThe analysis is stored with the hash of its inputs; a rerun gives byte-identical output."
    )]
    Analyze(AnalyzeArgs),
    /// Render the 性能評価試験報告書 (performance evaluation test report) as PDF or HTML / 報告書
    #[command(
        after_help = "Examples:\n  kizon report --lang ja --format pdf --out report-ja.pdf\n  kizon report --lang en --format html --out report-en.html\n\nThe report shows the latest analysis (`kizon analyze`); Japanese renders with the embedded\nNoto Sans JP font, so no font needs to be installed. Its SHA-256 is recorded in the ledger."
    )]
    Report(ReportArgs),
    /// Write the evidence package for the reliability investigation, or verify one offline / 信頼性調査用資料
    #[command(
        after_help = "Examples:\n  kizon package --out submission-2026-12\n  kizon package verify submission-2026-12     (no study needed; exit 1 on any difference)"
    )]
    Package(PackageArgs),
    /// Export the 症例一覧表 (case list, Q10), reads or results as xlsx or CSV Excel opens as they are / 症例一覧表の出力
    #[command(subcommand)]
    Export(ExportCommand),
    /// Lock the protocol, the dataset or the reference standard / 計画書・データセット・参照標準の固定
    #[command(subcommand)]
    Lock(LockCommand),
    /// Record a change to the locked protocol (or dataset), with its reason / 計画書の改訂
    #[command(
        after_help = "Examples:\n  kizon amend --reason \"exclusion criterion for motion artefacts added\"\n  kizon amend --dataset --reason \"case C-031 excluded after the provider's reply\""
    )]
    Amend(AmendArgs),
    /// Record or list protocol deviations (計画からの逸脱), shown in the report / 計画からの逸脱
    #[command(subcommand)]
    Deviation(DeviationCommand),
    /// Show or verify the tamper-evident audit ledger / 監査証跡
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Serve the study team's web workspace (Japanese first, English switch) / Web作業画面
    #[command(
        after_help = "Examples:\n  kizon user add admin --role admin < admin-password.txt\n  kizon serve                          http://127.0.0.1:8080\n  kizon serve --bind 127.0.0.1:9000\n\nServe on loopback, or behind a TLS-terminating reverse proxy: session cookies are Secure, which\nbrowsers accept over plain HTTP only from 127.0.0.1 and localhost."
    )]
    Serve(ServeArgs),
    /// Users of the web workspace and their roles / 利用者と役割
    #[command(subcommand)]
    User(UserCommand),
    /// Build a complete example study from generated data / デモ用の試験を作成
    #[command(after_help = "Examples:\n  kizon demo\n  kizon demo /tmp/demo --force")]
    Demo(DemoArgs),
    /// Diagnostic accuracy, agreement, kappa, ROC and sample sizes; no study needed / 統計解析
    #[command(subcommand, after_help = crate::stats_cmd::EXAMPLES)]
    Stats(crate::stats_cmd::StatsCommand),
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Directory to create (or an existing one without a study)
    #[arg(value_name = "DIR", required_unless_present = "print_template")]
    pub dir: Option<PathBuf>,
    /// Print the commented study.toml template and exit
    #[arg(long)]
    pub print_template: bool,
    /// Use this existing owner's key file instead of making a new one
    #[arg(long, value_name = "FILE")]
    pub owner_key: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// The case list a 2(1) application attaches (Q10): one row per case collected
    #[command(
        after_help = "Examples:\n  kizon export case-list --out case-list.xlsx\n  kizon export case-list --out case-list.csv\n  kizon export case-list --out case-list.csv --encoding cp932\n\nColumns (Japanese headers): 症例ID, データ提供元, データの種類, 撮影日, 採否, 除外理由, 参照標準,\n被験機器の結果, 一致. An Excel workbook (.xlsx), or CSV in UTF-8 with a byte-order mark (default)\nor CP932 (Shift_JIS)."
    )]
    CaseList(ExportArgs),
    /// Every individual read (reader, case, role, label, score, time, ledger entry)
    Reads(ExportArgs),
    /// Every device result per case and version (with its source file's hash and ledger entry)
    Results(ExportArgs),
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The file to write (replaced whole, never left half-written)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// csv or xlsx (default: xlsx for a FILE ending in .xlsx, else csv)
    #[arg(long, value_parser = ["csv", "xlsx"])]
    pub format: Option<String>,
    /// The CSV's encoding: utf-8 (with a byte-order mark) or cp932
    #[arg(long, default_value = "utf-8", value_parser = ["utf-8", "cp932"])]
    pub encoding: String,
}

#[derive(Subcommand, Debug)]
pub enum OwnerKeyCommand {
    /// Make an owner's key for a study made before kizon signed, and record it in the ledger
    Create,
    /// Print the owner's public key the study records, and where its key file is looked for
    Show {
        /// Emit JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
    /// Apply the Q&A revision in force on this date (YYYY-MM-DD) instead of `planned_on`
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<time::Date>,
    /// Use study.toml as edited, even if it differs from the locked protocol
    #[arg(long)]
    pub draft: bool,
    /// Language of the text output
    #[arg(long, value_enum, default_value_t = Lang::Both)]
    pub lang: Lang,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
    Both,
}

#[derive(Subcommand, Debug)]
pub enum ProviderCommand {
    /// Register a provider
    #[command(
        after_help = "Examples:\n  kizon provider add \"Hospital A\" --kind hospital --consent opt-out --legal-basis \"倫理指針に基づくオプトアウト\"\n  kizon provider add \"Biobank B\" --kind private-biobank --consent broad-consent --legal-basis \"包括同意\" --regulator-access yes"
    )]
    Add(ProviderAddArgs),
    /// List providers
    List(JsonFlag),
}

#[derive(Args, Debug)]
pub struct ProviderAddArgs {
    /// Name of the hospital, biobank or database
    pub name: String,
    /// hospital | public-biobank | private-biobank | database
    #[arg(long, value_parser = parse_vocabulary::<kizon_rules::ProviderKind>)]
    pub kind: kizon_rules::ProviderKind,
    /// informed-consent | broad-consent | opt-out | not-required
    #[arg(long, value_parser = parse_vocabulary::<kizon_rules::ConsentModel>)]
    pub consent: kizon_rules::ConsentModel,
    /// The legal basis on which the data is provided (Q3, Q6)
    #[arg(long, value_name = "TEXT")]
    pub legal_basis: String,
    /// Do the consent documents mention that regulators may read source records (Q8)? yes | no | unknown
    #[arg(long, default_value = "unknown", value_parser = parse_vocabulary::<kizon_rules::RegulatorAccess>)]
    pub regulator_access: kizon_rules::RegulatorAccess,
}

#[derive(Subcommand, Debug)]
pub enum EvidenceCommand {
    /// Store a document by its SHA-256 and register it for a provider
    #[command(
        after_help = "Kinds (Q9): protocol, consent-form-draft, blank-consent-form, ethics-review, contract, opt-out-notice, other\n\nExample:\n  kizon evidence add \"Hospital A\" ethics-review approval-2026-041.pdf --note \"IRB approval\""
    )]
    Add(EvidenceAddArgs),
    /// List evidence documents
    List(JsonFlag),
}

#[derive(Args, Debug)]
pub struct EvidenceAddArgs {
    /// The provider's registered name
    pub provider: String,
    /// protocol | consent-form-draft | blank-consent-form | ethics-review | contract | opt-out-notice | other
    #[arg(value_parser = parse_vocabulary::<kizon_rules::EvidenceKind>)]
    pub kind: kizon_rules::EvidenceKind,
    /// The document to store
    pub file: PathBuf,
    /// A note kept with it
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// The provider the data comes from (registered with `kizon provider add`)
    #[arg(long)]
    pub provider: String,
    /// CSV mapping paths to cases, with dates and diagnoses
    #[arg(long, value_name = "FILE.csv")]
    pub manifest: Option<PathBuf>,
    /// Files and folders to ingest (default: the manifest's paths)
    pub paths: Vec<PathBuf>,
    /// After the dataset lock: add data for a dataset amendment (`kizon amend --dataset`)
    #[arg(long)]
    pub for_amendment: bool,
    #[command(flatten)]
    pub csv: CsvEncoding,
    /// Emit the summary as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ItemsArgs {
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
    /// Only items of this kind (dicom, dicom-waveform, edf, wfdb, mfer, video, table, unknown)
    #[arg(long, value_parser = parse_vocabulary::<ItemKind>)]
    pub kind: Option<ItemKind>,
    /// Only items of this case
    #[arg(long)]
    pub case: Option<String>,
}

#[derive(Args, Debug)]
pub struct FindingsArgs {
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
    /// Only findings without a final decision
    #[arg(long)]
    pub open: bool,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("decision").required(true).args(["exclude_case", "accept", "query_provider"])))]
pub struct ResolveArgs {
    /// The finding's id (see `kizon findings`)
    pub id: i64,
    /// Exclude the case(s) from the dataset
    #[arg(long)]
    pub exclude_case: bool,
    /// Keep the data: the doubt does not hold
    #[arg(long)]
    pub accept: bool,
    /// Ask the provider to check the source records; the finding stays open
    #[arg(long)]
    pub query_provider: bool,
    /// With --exclude-case: exclude only this case of the finding (repeatable), e.g. the later of two duplicates
    #[arg(long = "case", value_name = "CASE_ID", requires = "exclude_case")]
    pub cases: Vec<String>,
    /// Why (as written; in Japanese when --reason-en gives the English)
    #[arg(long)]
    pub reason: String,
    /// The reason in English, for the English report (without it both reports print --reason)
    #[arg(long, value_name = "TEXT")]
    pub reason_en: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum DeviationCommand {
    /// Record a departure from the protocol (a case read outside the reading conditions, …)
    #[command(after_help = "Examples:
  kizon deviation add --description \"読影者 R2 が C-014 を時間外に読影\" --description-en \"reader R2 read C-014 outside the session\" --case C-014

The report lists every deviation recorded, with those kizon finds itself (another device\nversion, cases without results, fewer cases than the sample-size rationale needs).")]
    Add {
        /// What departed from the protocol (as written; in Japanese when --description-en follows)
        #[arg(long)]
        description: String,
        /// The description in English, for the English report
        #[arg(long, value_name = "TEXT")]
        description_en: Option<String>,
        /// A case it concerns (repeatable; none: the study as a whole)
        #[arg(long = "case", value_name = "CASE_ID")]
        cases: Vec<String>,
        /// Emit JSON
        #[arg(long)]
        json: bool,
    },
    /// List the deviations recorded
    List(JsonFlag),
}

#[derive(Subcommand, Debug)]
pub enum TrainingSetCommand {
    /// Fingerprint files and folders of training data (SHA-256, SOP Instance UID, patient key, pixel and perceptual hashes)
    #[command(
        after_help = "Examples:\n  kizon training-set add /data/training-2025\n  kizon training-set add --manifest training.csv     (a CSV with a `path` column, relative to it)\n  kizon check      # any overlap with the test data is a finding"
    )]
    Add {
        /// Files and folders of training data (read, never stored)
        #[arg(required_unless_present = "manifest")]
        paths: Vec<PathBuf>,
        /// A CSV listing training files or folders in a `path` column (relative to the CSV)
        #[arg(long, value_name = "FILE.csv")]
        manifest: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum LockCommand {
    /// Fix study.toml: later changes need `kizon amend`
    Protocol,
    /// Fix the cases and their files (a Merkle root); refused while blocking findings are open
    Dataset(JsonFlag),
    /// Fix the reference standard of the locked dataset, before any device result
    Reference(JsonFlag),
}

#[derive(Args, Debug)]
pub struct AmendArgs {
    /// Why it changes (as written; in Japanese when --reason-en gives the English)
    #[arg(long)]
    pub reason: String,
    /// The reason in English, for the English report (without it both reports print --reason)
    #[arg(long, value_name = "TEXT")]
    pub reason_en: Option<String>,
    /// Amend the locked dataset (as it is now) instead of the protocol
    #[arg(long)]
    pub dataset: bool,
}

#[derive(Subcommand, Debug)]
pub enum DatasetCommand {
    /// The locked dataset, or the cases a lock would fix now, with exclusions and blocking findings
    Show(JsonFlag),
}

#[derive(Subcommand, Debug)]
pub enum ReadersCommand {
    /// Register a reader: a code (no name), qualification, specialty, years, independence
    #[command(
        after_help = "Examples:\n  kizon readers add R1 --qualification 放射線診断専門医 --qualification-en \"board-certified radiologist\" --specialty chest --years 15 --independent\n  kizon readers add R4 --qualification radiologist --specialty chest --years 8 --declaration \"consultant to the applicant in 2024\""
    )]
    Add(ReaderAddArgs),
    /// List readers
    List(JsonFlag),
    /// Assign cases to a reader for blinded reading in the web workspace / 読影症例の割付け
    #[command(
        after_help = "Examples:\n  kizon readers assign R1 --dataset\n  kizon readers assign R2 --case C-001 --case C-002"
    )]
    Assign(AssignArgs),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["dataset", "case"])))]
pub struct AssignArgs {
    /// The reader's code
    pub code: String,
    /// Every case of the (locked, else candidate) dataset
    #[arg(long)]
    pub dataset: bool,
    /// One case (repeatable)
    #[arg(long, value_name = "CASE_ID")]
    pub case: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub bind: std::net::SocketAddr,
    /// Largest upload accepted, in MiB
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    pub upload_limit_mib: usize,
    /// Drop the Secure flag of cookies (only for plain HTTP beyond loopback on a closed network)
    #[arg(long)]
    pub insecure_cookies: bool,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input (one line)
    #[command(
        after_help = "Examples:\n  kizon user add sato --role data-manager < password.txt\n  kizon user add r1 --role reader --reader R1 < password.txt\n\nRoles: admin, data-manager, reader (blinded; needs --reader CODE), statistician (results after\nthe locks), auditor (read-only, audit log). Passwords are stored as argon2id hashes."
    )]
    Add(UserAddArgs),
    /// List users and their roles
    List(JsonFlag),
    /// Replace a user's password (read from standard input) and end their sessions
    Passwd { name: String },
}

#[derive(Args, Debug)]
pub struct UserAddArgs {
    pub name: String,
    /// admin | data-manager | reader | statistician | auditor
    #[arg(long)]
    pub role: String,
    /// For a reader: the panel reader code their reads are recorded under
    #[arg(long, value_name = "CODE")]
    pub reader: Option<String>,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("independence").required(true).args(["independent", "declaration"])))]
pub struct ReaderAddArgs {
    /// The reader's code, as used in reads files (e.g. R1)
    pub code: String,
    /// Qualification (e.g. 放射線診断専門医)
    #[arg(long)]
    pub qualification: String,
    /// The qualification in English, for the English report (e.g. board-certified radiologist)
    #[arg(long, value_name = "TEXT")]
    pub qualification_en: Option<String>,
    /// Specialty (e.g. chest radiology)
    #[arg(long)]
    pub specialty: String,
    /// Years of experience
    #[arg(long)]
    pub years: i64,
    /// Independent of the applicant (no employment, payment or other tie to the device maker)
    #[arg(long)]
    pub independent: bool,
    /// Not independent: the declared tie to the applicant
    #[arg(long, value_name = "TEXT")]
    pub declaration: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ReadsCommand {
    /// Import reads: CSV with reader,case_id and label and/or score; optional role, marks, read_at
    #[command(
        after_help = "Example:\n  kizon reads import panel-reads.csv\n  kizon reads import adjudication.csv --role adjudicator\n  kizon reads import reader-study-aided.csv --modality aided    (MRMC reader study, after the reference lock)\n\nlabel: positive | negative | indeterminate (also 1/0, 陽性/陰性/判定不能); every individual read is kept."
    )]
    Import(ReadsImportArgs),
    /// List reads
    List(JsonFlag),
}

#[derive(Args, Debug)]
pub struct ReadsImportArgs {
    pub file: PathBuf,
    /// Role of reads without a `role` column value: panel or adjudicator
    #[arg(long, default_value = "panel", value_parser = parse_reference_role)]
    pub role: ReadRole,
    /// Reads of an MRMC reader study in this modality (e.g. unaided, aided): after the reference lock, a score on every row
    #[arg(long, value_name = "M", conflicts_with = "role")]
    pub modality: Option<String>,
    #[command(flatten)]
    pub csv: CsvEncoding,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum ReferenceCommand {
    /// Import confirmed diagnoses (2(2)) or comparator results, one per case
    #[command(
        after_help = "Columns: case_id,label and, for a confirmed diagnosis, source_document,source_location\n(where the provider keeps the record, for source data verification); optional diagnosis,\ndiagnosis_date, source_date.\n\nExample:\n  kizon reference import pathology.csv"
    )]
    Import(FileArgs),
    /// The reference standard per case (locked, or as a lock would fix it) and reader agreement
    Show(JsonFlag),
}

#[derive(Subcommand, Debug)]
pub enum ResultsCommand {
    /// Import the device's results (case_id and label and/or score, optional marks)
    #[command(
        after_help = "Example:\n  kizon results import device-output.csv --device-version 1.0.0 --device-file cade-1.0.0.tar.gz\n\nRefused before the dataset and reference locks. Results are immutable: a re-import that\ndiffers is a finding, not a change."
    )]
    Import(ResultsImportArgs),
    /// List imported results
    List(JsonFlag),
}

#[derive(Args, Debug)]
pub struct ResultsImportArgs {
    pub file: PathBuf,
    /// The device version that produced the results
    #[arg(long)]
    pub device_version: String,
    /// The device's own output or build, whose SHA-256 is recorded
    #[arg(long, value_name = "PATH")]
    pub device_file: Option<PathBuf>,
    #[command(flatten)]
    pub csv: CsvEncoding,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum MarksCommand {
    /// Import lesion marks: of a panel reader (the lesion reference) or of a device version
    #[command(
        after_help = "CSV (header line) or JSON (an array of marks, or COCO: images with case_id, annotations with
image_id, bbox [x, y, w, h], category_id, score; categories name the lesion types).
Each mark: case_id, optional image (image or frame), a location — x,y (point), x,y,r (circle),
x0,y0,x1,y1 or bbox (box), polygon [[x, y], ...] — optional lesion_type, size_mm, and a rating
(rating, score or confidence; required for device marks). A `reader` or `role` column overrides the flags.

Examples:
  kizon marks import panel-r1.csv --reader R1
  kizon marks import adjudication.csv --reader A1 --role adjudicator
  kizon marks import detections.json --device-version 1.0.0

Reader marks come before `kizon lock reference` (which clusters them into lesions, [lesions] in
study.toml); device marks after it. Marks are never replaced: a different re-import of a reader's
marks is refused, of a device's marks a blocking finding."
    )]
    Import(MarksImportArgs),
    /// List the imported marks
    List(JsonFlag),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("owner").required(true).args(["reader", "device_version"])))]
pub struct MarksImportArgs {
    pub file: PathBuf,
    /// The panel reader who made the marks (registered with `kizon readers add`)
    #[arg(long, value_name = "CODE")]
    pub reader: Option<String>,
    /// Role of the reader's marks: panel or adjudicator
    #[arg(long, default_value = "panel", value_parser = parse_reference_role)]
    pub role: ReadRole,
    /// The device version that made the marks
    #[arg(long, value_name = "V")]
    pub device_version: Option<String>,
    #[command(flatten)]
    pub csv: CsvEncoding,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The device version to analyse (default: the only one imported)
    #[arg(long)]
    pub device_version: Option<String>,
    /// Print the whole analysis document (JSON)
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Language of the report
    #[arg(long, value_parser = ["ja", "en"])]
    pub lang: String,
    /// pdf or html
    #[arg(long, default_value = "pdf", value_parser = ["pdf", "html"])]
    pub format: String,
    /// Where to write it
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The report's date, YYYY-MM-DD (default: today, UTC)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub date: Option<time::Date>,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PackageArgs {
    #[command(subcommand)]
    pub command: Option<PackageCommand>,
    /// A new or empty directory to write the package into
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum PackageCommand {
    /// Check a package offline: every file's hash, the ledger chain and signatures, the Merkle root
    #[command(after_help = PACKAGE_VERIFY_HELP)]
    Verify {
        dir: PathBuf,
        /// The owner's public key from outside the package (64 hex digits, a .pub or key file)
        #[arg(long, value_name = "KEY")]
        public_key: Option<String>,
        /// A ledger hash recorded elsewhere that must be an entry of the package's ledger
        #[arg(long, value_name = "SHA256")]
        head: Option<String>,
        /// Emit JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct FileArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub csv: CsvEncoding,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

/// `--encoding` of a CSV import: Japanese hospital and laboratory systems write CP932.
#[derive(Args, Debug, Clone, Copy)]
pub struct CsvEncoding {
    /// The CSV file's encoding: utf-8, cp932 (Shift_JIS) or utf-16 (default: detected)
    #[arg(long, value_name = "ENC", value_parser = parse_encoding)]
    pub encoding: Option<kizon_app::encoding::Encoding>,
}

fn parse_encoding(name: &str) -> Result<kizon_app::encoding::Encoding, String> {
    kizon_app::encoding::Encoding::parse(name).ok_or_else(|| {
        format!("`{name}` is not an encoding kizon reads: utf-8, cp932 (shift_jis), utf-16")
    })
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Show the ledger
    Log(JsonFlag),
    /// Check the chain, the rows and documents it covers, and the head anchor; exit 1 on any problem
    #[command(
        after_help = AUDIT_VERIFY_HELP
    )]
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// A ledger hash recorded elsewhere that must be part of the chain
    #[arg(long, value_name = "SHA256")]
    pub head: Option<String>,
    /// The owner's public key from outside the study (64 hex digits, a .pub or key file)
    #[arg(long, value_name = "KEY")]
    pub public_key: Option<String>,
    /// Also decode again every file the decode cache describes and compare
    #[arg(long)]
    pub deep: bool,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where to build it
    #[arg(default_value = "kizon-demo")]
    pub dir: PathBuf,
    /// Replace a demo study already there (never anything else)
    #[arg(long)]
    pub force: bool,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct JsonFlag {
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

fn parse_date(text: &str) -> Result<time::Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format)
        .map_err(|_| format!("`{text}` is not a date: write YYYY-MM-DD, e.g. 2025-03-17"))
}

/// Parses a word of a closed vocabulary, listing the choices when it is not one.
fn parse_vocabulary<T: Word>(text: &str) -> Result<T, String> {
    T::parse(text).ok_or_else(|| format!("`{text}` is not one of {}", T::choices()))
}

/// A role that builds the reference standard: `panel` or `adjudicator`.
fn parse_reference_role(text: &str) -> Result<ReadRole, String> {
    ReadRole::parse(text)
        .filter(ReadRole::is_reference)
        .ok_or_else(|| format!("`{text}` is not a role: use panel or adjudicator"))
}

const AUDIT_VERIFY_HELP: &str = "Examples:\n  kizon audit verify\n  kizon audit verify --public-key 3b6a…   the owner's key from the report's title page\n  kizon audit verify --head 3f2a…         a head hash recorded elsewhere (e.g. in a report)\n  kizon audit verify --deep\n\nWhat it proves / 検証内容:\n  - every ledger entry's hash, and the chain from the first entry to the last (nothing altered,\n    removed, inserted or reordered inside the chain);\n  - every row of every covered table is the one its entry recorded (count and SHA-256), and no\n    row lies outside an entry (also rows with no sequence number);\n  - the database's schema is the one kizon creates (NOT NULL, STRICT, append-only triggers; no\n    trigger or table added);\n  - every stored document matches its hash; ledger.head names an entry of the chain;\n  - the owner's Ed25519 signature of every lock, amendment, analysis and package entry.\nWhat it cannot prove without something from outside / 外部の値が必要なこと:\n  - that the whole ledger was not rebuilt and re-signed with another key: give the owner's key\n    from the report's title page with --public-key;\n  - that entries after the last signed one were not removed: give a head hash recorded elsewhere\n    (a report's title page, a package) with --head.\n--deep also decodes every file the decode cache (the basis of the Q7 pixel checks) describes,\nwhere the source file is still readable, and compares.";

const PACKAGE_VERIFY_HELP: &str = "Examples:\n  kizon package verify submission --public-key 3b6a…\n\nWhat it proves / 検証内容 (no study, no network):\n  - every file the index lists is there, unaltered, and nothing else is (paths confined to the\n    package: no `..`, absolute paths, links, FIFOs or devices);\n  - the index is the one the ledger's last entry (the package's own) records, and the ledger is\n    a whole chain from the study's creation; an empty or shortened ledger is an error;\n  - the owner's signatures of every lock, amendment, analysis and the package itself;\n  - the dataset's Merkle root, and that the dataset, reference standard and analysis are the\n    documents the ledger's lock and analysis entries name.\nGive the owner's public key (from the report's title page) with --public-key: without it the\nkey recorded in the package's own ledger is used, which a forger could have replaced.";
