//! A complete example study, made from data kizon generates itself (it never reads ../shared).
//!
//! The example: an AI program that detects lung nodules on chest CT, improved from an approved
//! version, evaluated against the pathology-confirmed diagnosis linked to each case (test type
//! 2(2)), with data from a hospital (opt-out) and a private biobank (broad consent).

use std::fs;
use std::path::{Path, PathBuf};

use kizon_rules::{ConsentModel, EvidenceKind, ProviderKind, RegulatorAccess};
use serde::Serialize;

mod data;
mod reader_study;
mod series;
mod specimens;

pub use reader_study::{
    ReaderStudyShape, ReaderStudyStart, reader_study_demo, reader_study_demo_shaped,
    reader_study_finish, reader_study_start,
};
pub use specimens::specimen_demo;

use crate::check::Severity;
use crate::error::io;
use crate::ingest::{IngestRequest, Progress};
use crate::locks::Locked;
use crate::plan::{PlanOptions, PlanView};
use crate::providers::ProviderInput;
use crate::{AppError, PROTOCOL_FILE, Study, init};

/// The command name the demo's first ledger entry carries; `--force` only replaces such studies.
const CREATED_BY: &str = "demo";

/// What the demo did, step by step.
#[derive(Debug, Serialize)]
pub struct DemoOutcome {
    pub dir: PathBuf,
    pub steps: Vec<String>,
    pub plan: PlanView,
    pub lock: Locked,
    pub ledger_entries: usize,
    pub verified: bool,
    /// The problems planted in the generated data, and the findings `check` made.
    pub planted: Vec<&'static str>,
    pub findings: Vec<crate::check::FindingView>,
    /// The rendered reports (ja PDF, ja HTML, en PDF, en HTML) and the evidence package.
    pub reports: Vec<PathBuf>,
    pub package: PathBuf,
    /// The owner's key the demo made, unlocked (not shown: it is a secret).
    #[serde(skip)]
    pub owner_key: Option<crate::owner_key::OwnerKey>,
}

/// The demo's providers.
const HOSPITAL: &str = "Kizon Demo University Hospital";
const BIOBANK: &str = "Kizon Demo Biobank";

/// The hospital's hand-overs: the images with their case list, and the pathology department's
/// confirmed diagnoses. Made in `demo-sources/at-hospital/` (their quarantine beside them, with
/// the original of what was kept back), sent to `demo-sources/received/`.
const IMAGES_HANDOVER: &str = "handover-2026-11-images";
const PATHOLOGY_HANDOVER: &str = "handover-2026-11-pathology";
const RECEIVED: &str = "received";

/// The hospital's de-identification profile: the default one, and its pathology table's
/// columns (the MRN becomes the pseudonym, the name and birth date go, the accession number
/// becomes a keyed token, the dates move with the images').
fn hospital_profile() -> String {
    format!(
        "{}\n[tables]\npatient = \"patient_id\"\ndrop = [\"patient_name\", \"birth_date\"]\npseudonymise = [\"accession\"]\nshift_dates = [\"diagnosis_date\", \"source_date\"]\n",
        crate::hospital::DEFAULT_PROFILE
    )
}

/// Copies the folder `from` (files and folders) to `to`: the demo's transfer of a hand-over.
fn copy_folder(from: &Path, to: &Path) -> Result<(), AppError> {
    fs::create_dir_all(to).map_err(io(to))?;
    for entry in fs::read_dir(from).map_err(io(from))? {
        let path = entry.map_err(io(from))?.path();
        let target = to.join(path.file_name().expect("a directory entry has a name"));
        if path.is_dir() {
            copy_folder(&path, &target)?;
        } else {
            fs::copy(&path, &target).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// What the hospital's data manager does before anything leaves the hospital: de-identifies
/// the export under the profile, the correspondence table kept in `at_hospital`, signs two
/// hand-overs (Q1, Q5) and sends them (copied into `received`, their quarantine staying at the
/// hospital). Returns the steps taken.
fn hand_over_at_hospital(
    written: &data::Written,
    at_hospital: &Path,
    received: &Path,
    passphrase: &str,
) -> Result<Vec<String>, AppError> {
    let profile = at_hospital.join("deid-profile.toml");
    fs::write(&profile, hospital_profile()).map_err(io(&profile))?;
    let passphrases = crate::hospital::Passphrases {
        signing_key: passphrase.to_owned(),
        key_table: passphrase.to_owned(),
    };
    let request = |out: &str, paths: Vec<PathBuf>, case_list: Option<PathBuf>| {
        crate::hospital::DeidentifyRequest {
            out: at_hospital.join(out),
            signing_key: at_hospital.join("hospital.key"),
            key_table: at_hospital.join("correspondence-table.kizon"),
            profile: Some(profile.clone()),
            paths,
            from_dicomweb: None,
            case_list,
        }
    };
    let mut steps = Vec::new();
    let images: Vec<PathBuf> = fs::read_dir(&written.hospital_export)
        .map_err(io(&written.hospital_export))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "dcm" || e == "edf"))
        .collect();
    let summary = crate::hospital::deidentify(
        &request(
            IMAGES_HANDOVER,
            images,
            Some(written.hospital_cases.clone()),
        ),
        &passphrases,
        &Quiet,
    )?;
    steps.push(format!(
        "at the hospital, kizon deidentify handed over {} files of {} patients, signed (manifest sha256 {}), the correspondence table kept in the hospital; {} file kept back in its quarantine ({})",
        summary.files,
        summary.patients,
        &summary.manifest_sha256[..12],
        summary.quarantined,
        summary
            .quarantine_reasons
            .iter()
            .map(|(reason, n)| format!("{n}: {reason}"))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    let summary = crate::hospital::deidentify(
        &request(
            PATHOLOGY_HANDOVER,
            vec![written.hospital_pathology.clone()],
            None,
        ),
        &passphrases,
        &Quiet,
    )?;
    steps.push(format!(
        "the hospital handed over its pathology table the same way: the same pseudonyms, the dates shifted with the images' (manifest sha256 {})",
        &summary.manifest_sha256[..12]
    ));
    for handover in [IMAGES_HANDOVER, PATHOLOGY_HANDOVER] {
        copy_folder(&at_hospital.join(handover), &received.join(handover))?;
    }
    steps.push(format!(
        "the hospital sent both hand-overs to the sponsor ({}); the correspondence table and the quarantine stayed at the hospital",
        received.display()
    ));
    Ok(steps)
}

/// The demo reports progress through its steps, not per file.
struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

const PROTOCOL: &str = r#"# 性能評価試験計画書（デモ）/ Protocol (demo), written by `kizon demo`.
# 書式の説明は `kizon init --print-template` を参照 / see `kizon init --print-template` for every key.

[study]
id = "KZ-DEMO-2026-01"
title = "胸部CT画像を用いた肺結節検出支援プログラム（改良版）の性能評価試験"
title_en = "Performance evaluation test of an improved lung-nodule detection program on chest CT"
sponsor = "Kizon Demo Medical K.K."
planned_on = 2026-11-01

[device]
name = "NoduleFinder"
version = "2.0.0"
novelty = "improved"
intended_use = "胸部CT画像における肺結節の検出支援"
intended_use_en = "detection support of lung nodules on chest CT"

[design]
linked_clinical_info = true
reference_standard = "confirmed-diagnosis"
privacy = "pseudonymized"
correspondence_table = "at-provider"
data_kinds = ["image", "waveform"]
source_data_verification = "sampled"
source_data_verification_reason = { ja = "確定診断（病理診断）と撮影日を、提供元ごとに無作為に選んだ1割の症例で病院の担当者が原資料と照合する。画像は提供元から直接受領し改変がないことをハッシュで確認するため照合しない。", en = "The confirmed diagnosis (pathology) and imaging date are checked against the source records by the hospital's staff on a random tenth of each provider's cases; the images come straight from the provider, shown unaltered by their hashes, and are not checked." }

[eligibility]
inclusion = [
  { ja = "2019年4月1日から2024年3月31日に撮影された胸部CT（スライス厚 ≤ 2.5 mm）", en = "chest CT taken 2019-04-01 to 2024-03-31 (slice thickness ≤ 2.5 mm)" },
  { ja = "病理診断又は2年以上の経過観察で確定診断が得られている", en = "a confirmed diagnosis by pathology or ≥ 2 years of follow-up" },
]
exclusion = [
  { ja = "被験機器の学習に用いられたデータ", en = "data used to train the device" },
  { ja = "画質不良", en = "inadequate image quality" },
]

[sample_size]
expected = 0.95
power = 0.80
prevalence = 0.40
planned_cases = 120
rationale = { ja = "既存版の感度 0.95（社内評価）に基づき、有病率 40% を想定した。", en = "Based on the current version's sensitivity of 0.95 (internal evaluation), with a prevalence of 40% assumed." }

[analysis]
subgroups = ["sex", "age-band"]
age_bands = [40, 65]
score_threshold = 0.5

[[endpoints]]
id = "primary-sensitivity"
primary = true
metric = "sensitivity"
ci = "wilson"
level = 0.95
lower_bound_at_least = 0.80

[[endpoints]]
id = "specificity"
metric = "specificity"
ci = "wilson"
level = 0.95
lower_bound_at_least = 0.75
"#;

/// The generated evidence documents: provider, kind, file name, text.
fn evidence_documents() -> Vec<(&'static str, EvidenceKind, &'static str, String)> {
    let (hospital, biobank) = (HOSPITAL, BIOBANK);
    let letter = |title: &str, body: &str| {
        format!(
            "{title}\n{}\n\n{body}\n\n(generated by `kizon demo`; fictitious)\n",
            "=".repeat(40)
        )
    };
    vec![
        (
            hospital,
            EvidenceKind::Protocol,
            "protocol-v1.toml",
            PROTOCOL.to_owned(),
        ),
        (
            biobank,
            EvidenceKind::Protocol,
            "protocol-v1.toml",
            PROTOCOL.to_owned(),
        ),
        (
            hospital,
            EvidenceKind::EthicsReview,
            "ethics-approval-2026-041.txt",
            letter(
                "倫理審査結果通知書 / Notice of ethics review result",
                "課題名: 胸部CT画像を用いた肺結節検出支援プログラムの性能評価試験\n判定: 承認 (2026-10-20, 受付番号 2026-041)\nThe committee approved the study on 2026-10-20 (reference 2026-041).",
            ),
        ),
        (
            hospital,
            EvidenceKind::OptOutNotice,
            "opt-out-notice.txt",
            letter(
                "研究に関する情報公開（オプトアウト）/ Public notice of the study (opt-out)",
                "当院で2019年4月から2024年3月に撮影した胸部CT画像と病理診断結果を、氏名等を削除した上で医療機器の性能評価に利用します。\n利用を望まれない方は 2026年12月31日までにお申し出ください。\nNote: this notice does not yet mention that regulators may read the source records (Q8).",
            ),
        ),
        (
            hospital,
            EvidenceKind::Contract,
            "data-provision-agreement.txt",
            letter(
                "データ提供契約書 / Data provision agreement",
                "提供者: Kizon Demo University Hospital\n受領者: Kizon Demo Medical K.K.\n対応表は提供者が保管し、受領者には提供しない。/ The correspondence table stays with the provider.",
            ),
        ),
        (
            biobank,
            EvidenceKind::EthicsReview,
            "ethics-approval-biobank.txt",
            letter(
                "倫理審査結果通知書（バイオバンク試料・情報の利用）/ Ethics approval for biobank use",
                "判定: 承認 (2026-10-27) / approved 2026-10-27",
            ),
        ),
        (
            biobank,
            EvidenceKind::ConsentFormDraft,
            "broad-consent-draft.txt",
            letter(
                "説明文書・同意書（案）/ Explanation and consent form (draft)",
                "提供いただいた画像と診療情報は、医療機器の開発・評価に利用されることがあります。規制当局（厚生労働省・PMDA）が原資料を閲覧することがあります。\nRegulators (MHLW, PMDA) may read the source records.",
            ),
        ),
        (
            biobank,
            EvidenceKind::BlankConsentForm,
            "broad-consent-form-blank.txt",
            letter(
                "同意書（署名欄未記入）/ Consent form (unsigned)",
                "私は上記の説明を受け、試料・情報の提供に同意します。\n署名: ____________  日付: ____________",
            ),
        ),
        (
            biobank,
            EvidenceKind::Contract,
            "biobank-mta.txt",
            letter(
                "試料・情報提供契約書 / Material and data transfer agreement",
                "提供者: Kizon Demo Biobank / 受領者: Kizon Demo Medical K.K.",
            ),
        ),
    ]
}

/// The demo's decision on each planted finding, as a data manager would record it.
fn decide(
    finding: &crate::check::FindingView,
) -> Option<(
    crate::check::Decision,
    Vec<String>,
    (&'static str, &'static str),
)> {
    use crate::check::Decision::{Accept, ExcludeCase};
    let cases = &finding.case_ids;
    let only = |case: &str| vec![case.to_owned()];
    match finding.rule.as_str() {
        "same-file" | "same-sop-instance" | "same-pixels" if cases.iter().any(|c| c == "C-004") => {
            Some((
                ExcludeCase,
                only("C-004"),
                (
                    "C-004 は C-001 と同一画像（符号化違い）のため除外",
                    "C-004 is C-001's image re-encoded; C-001 is kept",
                ),
            ))
        }
        "acquired-after-collection" => Some((
            ExcludeCase,
            Vec::new(),
            (
                "収集日以降の撮影のため既存データに当たらない",
                "imaged after the collection date: not existing data (Q2)",
            ),
        )),
        "same-patient" => Some((
            Accept,
            Vec::new(),
            (
                "同一患者の2検査は計画どおり（解析で患者単位のクラスターを考慮）",
                "two scans of one patient are included by design; the analysis clusters by patient",
            ),
        )),
        "flat-line" => Some((
            ExcludeCase,
            Vec::new(),
            (
                "第II誘導が12秒間外れており判読できないため除外",
                "lead II was disconnected for 12 s: the recording cannot be read as a whole (Q7)",
            ),
        )),
        "chronology" => Some((
            Accept,
            Vec::new(),
            (
                "2年経過観察による確定診断であることを提供元に確認",
                "the provider confirmed a diagnosis by 2-year follow-up, allowed by the inclusion criteria",
            ),
        )),
        "burned-in-annotation" | "identifying-attributes" => Some((
            ExcludeCase,
            Vec::new(),
            (
                "識別情報を含むため除外",
                "identifying information in the image; the provider will re-export it for a later study (Q1)",
            ),
        )),
        _ if finding.severity == Severity::Blocking => Some((
            Accept,
            Vec::new(),
            (
                "データ管理者が確認し問題なし",
                "reviewed by the data manager: no doubt on the data",
            ),
        )),
        _ => None,
    }
}

/// Continues a demo stopped after `check` ([`DemoStop::Checked`]): decides every finding still
/// open as the demo's data manager would, then locks the dataset. Returns the steps taken.
pub fn settle_and_lock_dataset(study: &mut Study, actor: &str) -> Result<Vec<String>, AppError> {
    let mut steps = Vec::new();
    let findings: Vec<_> = study
        .findings()?
        .into_iter()
        .filter(|f| f.status.is_unresolved())
        .collect();
    for finding in &findings {
        let Some((decision, cases, (reason, reason_en))) = decide(finding) else {
            continue;
        };
        let reason = crate::text::Reason::new(reason, Some(reason_en));
        study.resolve(actor, finding.id, decision, reason, &cases)?;
        steps.push(format!(
            "decided finding {} ({} on {}): {} — {}",
            finding.id,
            finding.rule,
            finding.case_ids.join(" "),
            decision.as_str(),
            reason.text
        ));
    }
    let dataset = study.lock_dataset(actor)?;
    steps.push(format!(
        "locked the dataset: {} cases, {} items, {} excluded (Merkle root {})",
        dataset.cases,
        dataset.items,
        dataset.excluded,
        &dataset.merkle_root[..12]
    ));
    Ok(steps)
}

/// Continues after the dataset lock: imports the confirmed diagnoses, locks the reference
/// standard, imports the device's results and analyses them. Returns the steps taken.
pub fn reference_to_analysis(study: &mut Study, actor: &str) -> Result<Vec<String>, AppError> {
    let mut steps = Vec::new();
    let sources = study.root().join("demo-sources");
    let pathology = handed_over_table(&sources.join(RECEIVED).join(PATHOLOGY_HANDOVER))?;
    let reference = study.import_reference(actor, &pathology)?;
    steps.push(format!(
        "verified the hospital's signed pathology hand-over and imported its {} confirmed diagnoses with pointers to their source records",
        reference.new
    ));
    let reference =
        study.import_reference(actor, &sources.join("biobank").join("diagnoses.csv"))?;
    steps.push(format!(
        "imported the biobank's {} confirmed diagnoses (diagnoses.csv)",
        reference.new
    ));
    let reference = study.lock_reference(actor)?;
    steps.push(format!(
        "locked the reference standard: {} positive, {} negative (sha256 {})",
        reference.positive,
        reference.negative,
        &reference.sha256[..12]
    ));
    let results =
        study.import_results(actor, &sources.join("device-results.csv"), "2.0.0", None)?;
    steps.push(format!(
        "imported {} results of NoduleFinder 2.0.0 (device-results.csv)",
        results.new
    ));
    let analysis = study.analyze(actor, None)?;
    for endpoint in &analysis.analysis.endpoints {
        if let Some(e) = &endpoint.estimate {
            steps.push(format!(
                "analysed {}: {} {:.3} (95% CI {:.3}–{:.3}) {}",
                endpoint.id,
                endpoint.name_en,
                e.estimate,
                e.lower,
                e.upper,
                match endpoint.pass {
                    Some(true) => "PASS / 適合",
                    Some(false) => "FAIL / 不適合",
                    None => "",
                }
            ));
        }
    }
    Ok(steps)
}

/// The one table a hand-over holds.
fn handed_over_table(handover: &Path) -> Result<PathBuf, AppError> {
    let manifest = crate::hospital::manifest::read(handover)?;
    manifest
        .files
        .iter()
        .find(|f| f.path.ends_with(".csv"))
        .map(|f| handover.join(&f.path))
        .ok_or_else(|| AppError::Refused {
            what: format!("{}: the hand-over holds no table", handover.display()),
            hint: "rebuild the demo: kizon demo --force DIR".into(),
        })
}

/// The start of every demo: refuses a directory that holds anything but a demo (replaced with
/// `force`), makes the owner's key in `key_ring`, writes `protocol` and creates the study.
/// Returns the study, the steps so far and the passphrase the keys take.
fn prepare(
    dir: &Path,
    actor: &str,
    force: bool,
    key_ring: &Path,
    protocol: &str,
    placement: &init::Placement,
) -> Result<(Study, Vec<String>, String), AppError> {
    // A database or object store that cannot take the study is refused before anything is
    // written or replaced: `--force` must never take away the folder of a demo whose
    // database refuses the new one.
    placement.check(dir)?;
    if dir.exists() && fs::read_dir(dir).map_err(io(dir))?.next().is_some() {
        let is_demo = Study::open(dir)
            .and_then(|s| s.audit_log())
            .is_ok_and(|log| log.first().is_some_and(|e| e.command == CREATED_BY));
        match (is_demo, force) {
            (true, true) => fs::remove_dir_all(dir).map_err(io(dir))?,
            (true, false) => {
                return Err(AppError::Refused {
                    what: format!("{}: a demo study already exists", dir.display()),
                    hint: "pass --force to rebuild it, or give another directory: kizon demo DIR"
                        .into(),
                });
            }
            (false, _) => {
                return Err(AppError::Refused {
                    what: format!(
                        "{}: the directory is not empty and holds no demo study",
                        dir.display()
                    ),
                    hint: "give a new or empty directory: kizon demo DIR".into(),
                });
            }
        }
    }
    let mut steps = Vec::new();

    // The key first: a passphrase it refuses leaves nothing behind (a study.toml written
    // before it made the folder one the next `kizon demo` would not take).
    let owner = crate::owner_key::OwnerKey::generate()?;
    let passphrase = std::env::var(crate::owner_key::PASSPHRASE_ENV)
        .unwrap_or_else(|_| DEMO_PASSPHRASE.to_owned());
    let key_path = key_ring.join(format!("{}.key", &owner.public_hex()[..16]));
    owner.save(&key_path, &passphrase)?;
    fs::create_dir_all(dir).map_err(io(dir))?;
    let protocol_path = dir.join(PROTOCOL_FILE);
    fs::write(&protocol_path, protocol).map_err(io(&protocol_path))?;
    let created = init::init_placed(dir, actor, CREATED_BY, &owner, placement)?;
    steps.push(format!(
        "created the study in {} (protocol sha256 {})",
        dir.display(),
        &created.protocol_sha256[..12]
    ));
    steps.push(format!(
        "the owner's signing key / 署名鍵: {} (public key {}; passphrase {})",
        key_path.display(),
        owner.public_hex(),
        if std::env::var(crate::owner_key::PASSPHRASE_ENV).is_ok() {
            format!("from {}", crate::owner_key::PASSPHRASE_ENV)
        } else {
            format!("`{DEMO_PASSPHRASE}`")
        }
    ));

    let mut study = Study::open(dir)?;
    study.set_owner_key(owner);
    Ok((study, steps, passphrase))
}

/// [`prepare`], then the plan and the protocol lock: what a demo without a hospital does first.
fn start(
    dir: &Path,
    actor: &str,
    force: bool,
    key_ring: &Path,
    protocol: &str,
    placement: &init::Placement,
) -> Result<(Study, Vec<String>, Locked), AppError> {
    let (mut study, mut steps, _) = prepare(dir, actor, force, key_ring, protocol, placement)?;
    let lock = plan_and_lock(&mut study, actor, &mut steps)?;
    Ok((study, steps, lock))
}

/// The plan as drafted, then the protocol lock, each a step.
fn plan_and_lock(
    study: &mut Study,
    actor: &str,
    steps: &mut Vec<String>,
) -> Result<Locked, AppError> {
    let draft = study.plan(PlanOptions::default())?;
    steps.push(format!(
        "planned: test type {}, {}, {} (rules {})",
        draft.plan.test_type.as_str(),
        draft.plan.application_category.unwrap_or("-"),
        draft.plan.protocol_consultation,
        draft.plan.rules_version.id
    ));
    let lock = study.lock_protocol(actor)?;
    steps.push(format!(
        "locked the protocol at ledger entry {} (sha256 {})",
        lock.ledger_seq,
        &lock.sha256[..12]
    ));
    Ok(lock)
}

/// The end of every demo: the reports in both languages and formats, the evidence package
/// verified offline, the ledger verified. Returns the reports, the package, whether the ledger
/// is intact and its entries.
fn finish(
    study: &mut Study,
    dir: &Path,
    actor: &str,
    steps: &mut Vec<String>,
) -> Result<(Vec<PathBuf>, PathBuf, bool, usize), AppError> {
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let mut reports = Vec::new();
    for (file, lang, format) in [
        (
            "report.pdf",
            crate::report::Lang::Ja,
            crate::report::Format::Pdf,
        ),
        (
            "report.html",
            crate::report::Lang::Ja,
            crate::report::Format::Html,
        ),
        (
            "report-en.pdf",
            crate::report::Lang::En,
            crate::report::Format::Pdf,
        ),
        (
            "report-en.html",
            crate::report::Lang::En,
            crate::report::Format::Html,
        ),
    ] {
        let rendered = study.report(actor, lang, format, &today)?;
        let path = dir.join(file);
        fs::write(&path, &rendered.bytes).map_err(io(&path))?;
        reports.push(path);
    }
    steps.push(format!(
        "rendered the 性能評価試験報告書 in Japanese and English, PDF and HTML ({})",
        reports
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let package_dir = dir.join("package");
    let files = study.report_files(actor, &today)?;
    let package = study.package(actor, &package_dir, files)?;
    let checked = crate::package::verify_package(&package_dir, None, None)?;
    steps.push(format!(
        "wrote the evidence package ({} files) and verified it offline: {}",
        package.files,
        if checked.intact() {
            "intact"
        } else {
            "PROBLEMS FOUND"
        }
    ));
    let report = study.verify(None)?;
    steps.push(format!(
        "verified the audit ledger: {} entries, {} documents, {}",
        report.entries,
        report.documents,
        if report.intact() {
            "intact"
        } else {
            "PROBLEMS FOUND"
        }
    ));
    Ok((reports, package_dir, report.intact(), report.entries))
}

/// Where the demo stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoStop {
    /// After `check`: findings open, nothing decided or locked beyond the protocol (for the
    /// web workspace's end-to-end test and for training data managers).
    Checked,
    /// The whole path to the verified evidence package.
    Complete,
}

/// Builds the demo study in `dir`. With `force`, a demo study already there is replaced; any
/// other directory content is never deleted.
pub fn demo(dir: &Path, actor: &str, force: bool) -> Result<DemoOutcome, AppError> {
    demo_until(dir, actor, force, DemoStop::Complete)
}

/// The demo owner's passphrase when `KIZON_PASSPHRASE` is not set: a demo key guards nothing.
pub const DEMO_PASSPHRASE: &str = "kizon-demo-passphrase";

/// Builds the demo study in `dir` up to `stop`, its owner's key in the key ring (`~/.kizon/keys`).
pub fn demo_until(
    dir: &Path,
    actor: &str,
    force: bool,
    stop: DemoStop,
) -> Result<DemoOutcome, AppError> {
    demo_in(dir, actor, force, stop, &crate::owner_key::key_ring())
}

/// Builds the demo study in `dir` up to `stop`, writing its owner's key into `key_ring`.
pub fn demo_in(
    dir: &Path,
    actor: &str,
    force: bool,
    stop: DemoStop,
    key_ring: &Path,
) -> Result<DemoOutcome, AppError> {
    demo_on(
        dir,
        actor,
        force,
        stop,
        key_ring,
        &init::Placement::standard(),
    )
}

/// [`demo_in`] with the study's state where `placement` says (`kizon demo --database URL
/// --objects URL`): its database in PostgreSQL, its documents in an object store.
pub fn demo_on(
    dir: &Path,
    actor: &str,
    force: bool,
    stop: DemoStop,
    key_ring: &Path,
    placement: &init::Placement,
) -> Result<DemoOutcome, AppError> {
    let (mut study, mut steps, passphrase) =
        prepare(dir, actor, force, key_ring, PROTOCOL, placement)?;
    // The hospital makes its signing key and gives the sponsor the public half.
    let sources = dir.join("demo-sources");
    let at_hospital = sources.join("at-hospital");
    fs::create_dir_all(&at_hospital).map_err(io(&at_hospital))?;
    let hospital_key = at_hospital.join("hospital");
    let hospital_public = crate::hospital::keygen(&hospital_key, &passphrase)?;
    steps.push(format!(
        "the hospital made its signing key (kizon provider keygen): {}.key, public key {}",
        hospital_key.display(),
        &hospital_public[..16]
    ));
    let providers = [
        ProviderInput {
            name: HOSPITAL.into(),
            kind: ProviderKind::Hospital,
            consent_model: ConsentModel::OptOut,
            legal_basis: "人を対象とする生命科学・医学系研究に関する倫理指針に基づくオプトアウト / opt-out under the ethics guidelines".into(),
            regulator_access: RegulatorAccess::No,
            public_key: Some(hospital_public),
        },
        ProviderInput {
            name: BIOBANK.into(),
            kind: ProviderKind::PrivateBiobank,
            consent_model: ConsentModel::BroadConsent,
            legal_basis: "包括同意に基づく第三者提供 / third-party provision under broad consent".into(),
            regulator_access: RegulatorAccess::Yes,
            public_key: None,
        },
    ];
    for provider in &providers {
        study.add_provider(actor, provider)?;
        steps.push(format!(
            "registered provider {} ({}, {}{})",
            provider.name,
            provider.kind,
            provider.consent_model,
            if provider.public_key.is_some() {
                ", signs its hand-overs"
            } else {
                ""
            }
        ));
    }

    fs::create_dir_all(&sources).map_err(io(&sources))?;
    for (provider, kind, file_name, text) in evidence_documents() {
        let path = sources.join(file_name);
        fs::write(&path, text).map_err(io(&path))?;
        let evidence = study.add_evidence(actor, provider, kind, &path, None)?;
        steps.push(format!(
            "added {} evidence for {provider}: {file_name} (sha256 {})",
            kind,
            &evidence.document[..12]
        ));
    }

    let lock = plan_and_lock(&mut study, actor, &mut steps)?;

    let written = data::write(&sources)?;
    steps.extend(hand_over_at_hospital(
        &written,
        &at_hospital,
        &sources.join(RECEIVED),
        &passphrase,
    )?);
    let ingested = study.ingest(
        actor,
        &IngestRequest {
            provider: HOSPITAL.into(),
            manifest: None,
            paths: vec![sources.join(RECEIVED).join(IMAGES_HANDOVER)],
            for_amendment: false,
        },
        &Quiet,
    )?;
    steps.push(format!(
        "verified the hospital's signature and every file's SHA-256, then ingested {} de-identified files (chest CT, an ECG) into {} cases with the handed-over case list (collection and diagnosis dates, shifted)",
        ingested.added, ingested.cases_added
    ));
    let ingested = study.ingest(
        actor,
        &IngestRequest {
            provider: BIOBANK.into(),
            manifest: Some(written.biobank_manifest.clone()),
            paths: Vec::new(),
            for_amendment: false,
        },
        &Quiet,
    )?;
    steps.push(format!(
        "ingested the biobank's own delivery (unsigned): {} files into {} cases with its manifest",
        ingested.added, ingested.cases_added
    ));
    let checked = study.check(actor)?;
    let findings = study.findings()?;
    steps.push(format!(
        "checked the data: {} findings, {} of them blocking (Q1, Q2, Q7); see `kizon findings`",
        checked.findings, checked.open_blocking
    ));
    if stop == DemoStop::Checked {
        let report = study.verify(None)?;
        return Ok(DemoOutcome {
            dir: dir.to_owned(),
            steps,
            plan: study.plan(PlanOptions::default())?,
            lock,
            ledger_entries: report.entries,
            verified: report.intact(),
            planted: written.planted.clone(),
            findings,
            reports: Vec::new(),
            package: PathBuf::new(),
            owner_key: study.owner_key.clone(),
        });
    }
    steps.extend(settle_and_lock_dataset(&mut study, actor)?);
    let findings = study.findings()?;
    steps.extend(reference_to_analysis(&mut study, actor)?);
    let (reports, package_dir, verified, entries) = finish(&mut study, dir, actor, &mut steps)?;
    let plan = study.plan(PlanOptions::default())?;
    Ok(DemoOutcome {
        dir: dir.to_owned(),
        steps,
        plan,
        lock,
        ledger_entries: entries,
        verified,
        planted: written.planted,
        findings,
        reports,
        package: package_dir,
        owner_key: study.owner_key.clone(),
    })
}
