//! `kizon demo --kind specimen`: a 2(1) study of an HbA1c analyser against its comparator on
//! residual specimens, from data kizon generates, through to the report and the package.
//!
//! The laboratory's export holds 300 specimens with five planted doubts: a barcode used twice
//! (Q7, the same specimen as two cases), a specimen left at room temperature past its
//! stability (Q7), a haemolysed one (Q7, interference), a device value above the measuring
//! interval (Q7) and a specimen drawn after its case was collected for the test (Q2: every
//! other specimen was collected after the study began too, and is existing data since it had
//! been collected when its case was, as Q2 allows). `check` finds each; the
//! demo's data manager excludes them with a reason; the locked dataset, the comparator's and
//! the device's judgements at 48 mmol/mol and the pre-specified method comparisons follow.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use kizon_vocab::{ConsentModel, EvidenceKind, ProviderKind, RegulatorAccess};

use crate::error::io;
use crate::providers::ProviderInput;
use crate::{AppError, Study};

/// The laboratory that hands over the residual specimens.
pub(super) const LABORATORY: &str = "Kizon Demo Clinical Laboratory";

/// The specimen demo's protocol.
pub(super) const PROTOCOL: &str = r#"# 性能評価試験計画書（検体のデモ）/ Protocol (specimen demo), written by `kizon demo --kind specimen`.
# 書式の説明は `kizon init --print-template` を参照 / see `kizon init --print-template` for every key.

[study]
id = "KZ-DEMO-2026-02"
title = "残余検体を用いた HbA1c 測定装置の性能評価試験（対照法との比較）"
title_en = "Performance evaluation test of an HbA1c analyser against its comparator on residual specimens"
sponsor = "Kizon Demo Diagnostics K.K."
planned_on = 2026-11-01

[device]
name = "KizonA1c"
version = "1.0.0"
novelty = "new"
intended_use = "全血中の HbA1c の定量（糖尿病の診断補助）"
intended_use_en = "quantitative HbA1c in whole blood (an aid to the diagnosis of diabetes)"

[design]
linked_clinical_info = false
reference_standard = "comparator-method"
privacy = "non-identifiable"
correspondence_table = "none"
data_kinds = ["specimen"]

[eligibility]
inclusion = [
  { ja = "2025年6月1日から2025年12月31日に日常診療で採取された全血の残余検体", en = "residual whole-blood specimens collected in routine care from 2025-06-01 to 2025-12-31" },
]
exclusion = [
  { ja = "溶血、安定性の超過、測定範囲外の結果", en = "haemolysis, analysis beyond stability, results outside the measuring interval" },
]

[[endpoints]]
id = "ppa-48"
primary = true
metric = "ppa"
ci = "wilson"
level = 0.95
lower_bound_at_least = 0.90

[[endpoints]]
id = "npa-48"
metric = "npa"
ci = "wilson"
level = 0.95
lower_bound_at_least = 0.90

[specimens]
collection_start = 2025-06-01
unit = "mmol/mol"
measuring_interval = [20, 195]
physiological_limits = [10, 250]
max_freeze_thaw = 1
max_hours_between_methods = 24
[specimens.hil]
haemolysis = 100
[specimens.stability.whole-blood]
room = "8h"
refrigerated = "7d"

[[method_comparison]]
id = "passing-bablok"
method = "passing-bablok"
decision_points = [48, 53, 64]
slope_ci_within = [0.95, 1.05]
intercept_ci_within = [-3, 3]
bias_within = [-3, 3]

[[method_comparison]]
id = "bland-altman"
method = "bland-altman"
bias_within = [-2, 2]
"#;

/// What the generated export holds: the file and the planted doubts.
pub(super) struct Written {
    pub export: std::path::PathBuf,
    pub planted: Vec<&'static str>,
}

/// A small linear congruential generator (Knuth's MMIX constants): the demo's data is the same
/// on every machine, without a dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal draw (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-12), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Threshold of the qualitative judgements: HbA1c 48 mmol/mol (6.5 %), the diagnostic cut-off
/// for diabetes.
pub(super) const CUTOFF: f64 = 48.0;

pub(super) fn label(value: f64) -> &'static str {
    if value >= CUTOFF {
        "positive"
    } else {
        "negative"
    }
}

/// Writes the laboratory's export (300 specimens) under `dir`.
pub(super) fn write(dir: &Path) -> Result<Written, AppError> {
    let mut rng = Lcg(20_261_202);
    let mut text = String::from(
        "specimen_id,barcode,specimen_type,collected_at,collection_date,storage_temperature,freeze_thaw_cycles,haemolysis_index,icterus_index,lipaemia_index,residual_volume_ul,comparator_analysed_at,comparator_value,comparator_unit,comparator_result,device_analysed_at,device_value,device_unit,device_result\n",
    );
    for n in 1..=300u32 {
        let id = format!("S-{n:04}");
        // Comparator values spread over the clinical range (log-normal around 50 mmol/mol).
        let comparator = (50.0 * (0.32 * rng.normal()).exp()).clamp(24.0, 150.0);
        let device = 1.01 * comparator + 0.2 + 1.2 * rng.normal();
        let (comparator, device) = (
            (comparator * 10.0).round() / 10.0,
            (device * 10.0).round() / 10.0,
        );
        let day = 1 + (n * 7 % 200);
        let month_day = |day: u32| {
            let (month, first) = [
                (6, 1),
                (7, 31),
                (8, 62),
                (9, 93),
                (10, 123),
                (11, 154),
                (12, 184),
            ]
            .into_iter()
            .rev()
            .find(|(_, first)| day >= *first)
            .expect("a month");
            format!("2025-{month:02}-{:02}", day - first + 1)
        };
        let mut collected = format!("{} {:02}:{:02}", month_day(day), 8 + n % 9, n * 13 % 60);
        let mut storage = "4";
        let mut comparator_at = format!("{} 10:00", month_day(day + 1));
        // The residual tube is set aside for the test after the routine measurement.
        let mut case_collected = month_day(day + 1);
        let mut device_at = format!("{} 13:30", month_day(day + 1));
        let mut barcode = format!("BC{:07}", 4_400_000 + n * 37);
        let mut haemolysis = 5 + n % 30;
        let mut device_value = format!("{device:.1}");
        match n {
            // The barcode of S-0017 on a second tube.
            42 => barcode = format!("BC{:07}", 4_400_000 + 17 * 37),
            // Left at room temperature: analysed 20 hours after collection.
            88 => {
                storage = "室温";
                collected = format!("{} 06:00", month_day(day + 1));
                comparator_at = format!("{} 02:00", month_day(day + 2));
                case_collected = month_day(day + 2);
                device_at = format!("{} 03:00", month_day(day + 2));
            }
            // Haemolysed.
            123 => haemolysis = 350,
            // Above the analyser's measuring interval.
            150 => device_value = ">195".into(),
            // Drawn three days after its case was collected for the test: taken for the
            // study, not an existing specimen.
            201 => {
                collected = "2026-05-11 09:10".into();
                case_collected = "2026-05-08".into();
                comparator_at = "2026-05-12 10:00".into();
                device_at = "2026-05-12 13:30".into();
            }
            _ => {}
        }
        let _ = writeln!(
            text,
            "{id},{barcode},whole-blood,{collected},{case_collected},{storage},0,{haemolysis},{},{},{},{comparator_at},{comparator:.1},mmol/mol,{},{device_at},{device_value},mmol/mol,{}",
            2 + n % 5,
            10 + n % 20,
            150 + n % 300,
            label(comparator),
            if n == 150 { "positive" } else { label(device) },
        );
    }
    let export = dir.join("hba1c-residual-specimens.csv");
    fs::write(&export, text).map_err(io(&export))?;
    Ok(Written {
        export,
        planted: vec![
            "S-0042: the barcode of S-0017 on another specimen (Q7, the same specimen as two cases)",
            "S-0088: kept at room temperature and analysed 20 h after collection, beyond 8 h (Q7)",
            "S-0123: haemolysis index 350, above the protocol's 100 (Q7, interference)",
            "S-0150: device value >195, above the measuring interval (Q7)",
            "S-0201: collected on 2026-05-11, after its case was collected for the test on 2026-05-08 (Q2: not existing)",
        ],
    })
}

/// The laboratory as a provider, and the documents behind its consent.
pub(super) fn register_laboratory(
    study: &mut Study,
    actor: &str,
    sources: &Path,
) -> Result<Vec<String>, AppError> {
    let mut steps = Vec::new();
    study.add_provider(
        actor,
        &ProviderInput {
            name: LABORATORY.into(),
            kind: ProviderKind::Hospital,
            consent_model: ConsentModel::OptOut,
            legal_basis: "人を対象とする生命科学・医学系研究に関する倫理指針に基づくオプトアウト（残余検体）/ opt-out for residual specimens under the ethics guidelines".into(),
            regulator_access: RegulatorAccess::No,
            public_key: None,
        },
    )?;
    steps.push(format!(
        "registered provider {LABORATORY} (hospital laboratory, opt-out)"
    ));
    for (kind, file, text) in [
        (EvidenceKind::Protocol, "protocol-v1.toml", PROTOCOL.to_owned()),
        (
            EvidenceKind::EthicsReview,
            "ethics-approval-2026-052.txt",
            "倫理審査結果通知書 / Notice of ethics review result\n\n課題名: 残余検体を用いた HbA1c 測定装置の性能評価試験\n判定: 承認 (2026-10-22, 受付番号 2026-052)\n\n(generated by `kizon demo --kind specimen`; fictitious)\n".to_owned(),
        ),
        (
            EvidenceKind::Contract,
            "specimen-provision-agreement.txt",
            "残余検体の提供に関する契約書 / Agreement on the provision of residual specimens\n\n提供者: Kizon Demo Clinical Laboratory、受領者: Kizon Demo Diagnostics K.K.（2026-10-25 締結）\nProvider and recipient agree on the provision of de-identified residual specimens for the study (signed 2026-10-25).\n\n(generated by `kizon demo --kind specimen`; fictitious)\n".to_owned(),
        ),
        (
            EvidenceKind::OptOutNotice,
            "opt-out-notice.txt",
            "残余検体の研究利用に関するお知らせ / Notice on the research use of residual specimens\n\n診療で採取した血液の残りを、個人を特定できない形で測定装置の性能評価に用います。\nRemaining blood from routine care is used, without identifying anyone, to evaluate an analyser.\n\n(generated by `kizon demo --kind specimen`; fictitious)\n".to_owned(),
        ),
    ] {
        let path = sources.join(file);
        fs::write(&path, text).map_err(io(&path))?;
        let evidence = study.add_evidence(actor, LABORATORY, kind, &path, None)?;
        steps.push(format!(
            "added {kind} evidence for {LABORATORY}: {file} (sha256 {})",
            &evidence.document[..12]
        ));
    }
    Ok(steps)
}

/// The comparator's judgements (the reference standard) and the device's results of the
/// dataset's specimens, as the laboratory reports them: files written under `dir`.
pub(super) fn judgement_files(
    dir: &Path,
    study: &Study,
) -> Result<(std::path::PathBuf, std::path::PathBuf), AppError> {
    let dataset = study.locked_dataset("the demo's judgements")?;
    let mut comparator = String::from("case_id,label\n");
    let mut device = String::from("case_id,label,score\n");
    for specimen in study.specimens()? {
        if !dataset.cases.iter().any(|c| c.id == specimen.case_id) {
            continue;
        }
        let r = &specimen.record;
        let judgement = |m: &kizon_formats::specimen::MethodResult| {
            m.judgement.map(|l| l.as_str()).unwrap_or("indeterminate")
        };
        let _ = writeln!(
            comparator,
            "{},{}",
            specimen.case_id,
            judgement(&r.comparator)
        );
        let _ = writeln!(
            device,
            "{},{},{}",
            specimen.case_id,
            judgement(&r.device),
            r.device.value.as_deref().unwrap_or("")
        );
    }
    let (c, d) = (
        dir.join("comparator-judgements.csv"),
        dir.join("device-results.csv"),
    );
    fs::write(&c, comparator).map_err(io(&c))?;
    fs::write(&d, device).map_err(io(&d))?;
    Ok((c, d))
}

/// The data manager's decision on each specimen finding: a blocking doubt excludes its
/// specimen with the rule's reason; a warning is accepted after review.
fn decide(finding: &crate::check::FindingView) -> (crate::check::Decision, (String, String)) {
    use crate::check::Decision::{Accept, ExcludeCase};
    if finding.severity == kizon_vocab::Severity::Blocking {
        let (ja, en) = crate::names::rule(&finding.rule);
        (
            ExcludeCase,
            (format!("{ja}のため除外"), format!("excluded: {en}")),
        )
    } else {
        (
            Accept,
            (
                "データ管理者が確認し問題なし".into(),
                "reviewed by the data manager: no doubt on the data".into(),
            ),
        )
    }
}

/// Builds the specimen demo in `dir`, its owner's key in `key_ring`.
pub fn specimen_demo(
    dir: &Path,
    actor: &str,
    force: bool,
    key_ring: &Path,
    placement: &crate::init::Placement,
) -> Result<super::DemoOutcome, AppError> {
    let (mut study, mut steps, lock) =
        super::start(dir, actor, force, key_ring, PROTOCOL, placement)?;
    let sources = dir.join("demo-sources");
    fs::create_dir_all(&sources).map_err(io(&sources))?;
    steps.extend(register_laboratory(&mut study, actor, &sources)?);
    let written = write(&sources)?;
    let imported = study.import_specimens(actor, &written.export, LABORATORY)?;
    steps.push(format!(
        "imported the laboratory's export: {} specimens, each a case of its own ({})",
        imported.added,
        written.export.display()
    ));
    let checked = study.check(actor)?;
    steps.push(format!(
        "checked the specimens: {} findings, {} of them blocking (Q2, Q7); see `kizon findings`",
        checked.findings, checked.open_blocking
    ));
    for finding in study
        .findings()?
        .into_iter()
        .filter(|f| f.status.is_unresolved())
    {
        let (decision, (reason, reason_en)) = decide(&finding);
        let reason = crate::text::Reason::new(&reason, Some(&reason_en));
        study.resolve(actor, finding.id, decision, reason, &finding.case_ids)?;
        steps.push(format!(
            "decided finding {} ({} on {}): {}",
            finding.id,
            finding.rule,
            finding.case_ids.join(" "),
            decision.as_str()
        ));
    }
    let findings = study.findings()?;
    let dataset = study.lock_dataset(actor)?;
    steps.push(format!(
        "locked the dataset: {} specimens, {} excluded (Merkle root {})",
        dataset.cases,
        dataset.excluded,
        &dataset.merkle_root[..12]
    ));
    let (comparator, device) = judgement_files(&sources, &study)?;
    let reference = study.import_reference(actor, &comparator)?;
    steps.push(format!(
        "imported the comparator's {} judgements at {CUTOFF} mmol/mol as the reference standard",
        reference.new
    ));
    let reference = study.lock_reference(actor)?;
    steps.push(format!(
        "locked the reference standard: {} positive, {} negative (sha256 {})",
        reference.positive,
        reference.negative,
        &reference.sha256[..12]
    ));
    let results = study.import_results(actor, &device, "1.0.0", None)?;
    steps.push(format!(
        "imported {} results of KizonA1c 1.0.0 (their judgements, and their values as scores)",
        results.new
    ));
    let analysis = study.analyze(actor, None)?;
    for m in &analysis.analysis.method_comparisons {
        steps.push(format!(
            "method comparison {} ({}, n = {}): {}",
            m.id,
            m.method,
            m.n,
            match m.pass {
                Some(true) => "PASS / 適合",
                Some(false) => "FAIL / 不適合",
                None => "no criterion",
            }
        ));
    }
    let (reports, package, verified, entries) = super::finish(&mut study, dir, actor, &mut steps)?;
    Ok(super::DemoOutcome {
        dir: dir.to_owned(),
        steps,
        plan: study.plan(crate::plan::PlanOptions::default())?,
        lock,
        ledger_entries: entries,
        verified,
        planted: written.planted,
        findings,
        reports,
        package,
        owner_key: study.owner_key.clone(),
    })
}
