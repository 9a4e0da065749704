//! The command line: arguments, help and examples. No logic lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use kizon_app::{ReadRole, Word};

use crate::commands::{
    amend::AmendArgs, analyze::AnalyzeArgs, audit::AuditCommand, dataset::DatasetCommand,
    deidentify::DeidentifyArgs, demo::DemoArgs, deviation::DeviationCommand,
    evidence::EvidenceCommand, export::ExportCommand, findings::FindingsArgs, ingest::IngestArgs,
    init::InitArgs, items::ItemsArgs, lock::LockCommand, marks::MarksCommand,
    migrate_store::MigrateStoreArgs, owner_key::OwnerKeyCommand, package::PackageArgs,
    plan::PlanArgs, provider::ProviderCommand, readers::ReadersCommand, reading::ReadingCommand,
    reads::ReadsCommand, reference::ReferenceCommand, report::ReportArgs, resolve::ResolveArgs,
    results::ResultsCommand, serve::ServeArgs, specimens::SpecimensCommand,
    training_set::TrainingSetCommand, user::UserCommand,
};

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
    /// At the hospital: de-identify the cases into a signed hand-over; look up a pseudonym; review the quarantine (Q1, Q5) / 仮名加工と提供
    #[command(
        after_help = "Examples (at the hospital):\n  kizon provider keygen --out hospital-a\n  kizon deidentify --out handover-2026-12 --signing-key hospital-a.key --key-table keys.kizon /export/cases\n  kizon deidentify --out handover-2026-12 --signing-key hospital-a.key --key-table keys.kizon --case-list /export/cases.csv /export/cases\n  kizon deidentify --out handover-2027-01 --signing-key hospital-a.key --key-table keys.kizon --from-dicomweb http://pacs:8042/dicom-web --accessions accessions.txt\n  kizon deidentify lookup CASE-0007 --key-table keys.kizon\n  kizon deidentify review handover-2026-12\n  kizon deidentify --print-profile > profile.toml\n\nAt the sponsor:\n  kizon provider key \"Hospital A\" --public-key hospital-a.pub\n  kizon ingest --provider \"Hospital A\" handover-2026-12\n\nPassphrases come from KIZON_PASSPHRASE (the signing key) and KIZON_KEY_TABLE_PASSPHRASE (the\ncorrespondence table; KIZON_PASSPHRASE when unset), or are asked on the terminal. The\ncorrespondence table and the quarantine (DIR.quarantine) stay at the hospital."
    )]
    Deidentify(Box<DeidentifyArgs>),
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
    /// Import and list residual specimens, each its own case (Q4) / 残余検体
    #[command(subcommand)]
    Specimens(SpecimensCommand),
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
    /// Reading sessions as recorded: a reader's case order derived again, reading times / 読影セッション
    #[command(subcommand)]
    Reading(ReadingCommand),
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
    /// Move the study's database (PostgreSQL, SQLite) or documents (a bucket, the folder), ledger unchanged / 保存先の移行
    #[command(
        after_help = "Examples:\n  kizon migrate-store --to postgres://kizon@db.example/study1   an empty database\n  kizon migrate-store --to sqlite\n  kizon migrate-store --objects 's3://kizon-studies/study1?endpoint=https://minio.example:9000&region=ap-northeast-1'\n  kizon migrate-store --objects local                          back to the folder's documents/\n\nThe ledger, its row digests and its head hash are copied as they are; `kizon audit verify`\nshows the same head on the new database. Every document is read back intact at its new place\nbefore the folder switches. The old database or documents are kept beside it, never deleted.\nA `kizon serve` on this folder follows the move; other machines of the study refuse to write\nuntil their objects.url names the new place."
    )]
    MigrateStore(MigrateStoreArgs),
    /// Users of the web workspace and their roles / 利用者と役割
    #[command(subcommand)]
    User(UserCommand),
    /// Build a complete example study from generated data / デモ用の試験を作成
    #[command(
        after_help = "Examples:\n  kizon demo                              chest CT from a hospital and a biobank\n  kizon demo /tmp/demo --force\n  kizon demo --kind specimen hba1c-demo   residual specimens, an HbA1c analyser against its comparator"
    )]
    Demo(DemoArgs),
    /// Diagnostic accuracy, agreement, kappa, ROC and sample sizes; no study needed / 統計解析
    #[command(subcommand, after_help = crate::commands::stats::EXAMPLES)]
    Stats(crate::commands::stats::StatsCommand),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
    Both,
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

#[derive(Args, Debug)]
pub struct JsonFlag {
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn parse_date(text: &str) -> Result<time::Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format)
        .map_err(|_| format!("`{text}` is not a date: write YYYY-MM-DD, e.g. 2025-03-17"))
}

/// Parses a word of a closed vocabulary, listing the choices when it is not one.
pub(crate) fn parse_vocabulary<T: Word>(text: &str) -> Result<T, String> {
    T::parse(text).ok_or_else(|| format!("`{text}` is not one of {}", T::choices()))
}

/// A role that builds the reference standard: `panel` or `adjudicator`.
/// Its possible values are listed in `--help`.
pub(crate) fn reference_role() -> impl clap::builder::TypedValueParser<Value = ReadRole> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["panel", "adjudicator"]).try_map(|text| {
        ReadRole::parse(&text)
            .filter(ReadRole::is_reference)
            .ok_or_else(|| format!("`{text}` is not a role: use panel or adjudicator"))
    })
}
