//! From a protocol and its providers to the regulatory plan: test type, application category,
//! consultations, attachments, evidence checklist, flags, and the reason behind each decision.

use kizon_protocol::{
    CorrespondenceTable, DataKind, Design, Novelty, Privacy, Protocol, ReferenceStandard,
};
use serde::Serialize;
use time::Date;

use crate::providers::{EvidenceKind, ProviderFacts, ProviderKind, RegulatorAccess, Requirement};
use crate::versions::{self, ASK_PMDA_JA, RulesVersion};

/// The test types of the Director's notice (薬生機審発0929第1号, section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TestType {
    /// 2(1): existing images or specimens only; a new reference is added (panel or comparator).
    #[serde(rename = "2(1)")]
    ImagesOnly,
    /// 2(2): images or specimens with linked existing clinical information.
    #[serde(rename = "2(2)")]
    WithClinicalInfo,
}

impl TestType {
    pub fn as_str(self) -> &'static str {
        match self {
            TestType::ImagesOnly => "2(1)",
            TestType::WithClinicalInfo => "2(2)",
        }
    }
}

/// Q&A item behind a decision, flag or checklist line: `Q1` … `Q11`, or `notice` for the
/// Director's notice itself.
pub type Clause = &'static str;

/// A decision and why it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Which output it decides: `test_type`, `application_category`, …
    pub decision: &'static str,
    pub clause: Clause,
    pub message_ja: String,
    pub message_en: String,
}

/// Something the applicant must act on or know (Q1 … Q11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub code: &'static str,
    pub clause: Clause,
    pub message_ja: String,
    pub message_en: String,
}

/// A document the approval application attaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub name_ja: &'static str,
    pub name_en: &'static str,
    pub clause: Clause,
}

/// One line of a provider's evidence checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    pub kind: EvidenceKind,
    pub name_ja: &'static str,
    pub name_en: &'static str,
    pub requirement: Requirement,
    /// `present`, `missing`, `not-applicable` or `optional`.
    pub status: &'static str,
    pub documents: usize,
    pub clause: Clause,
}

/// The Q6/Q9 evidence of one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderChecklist {
    pub provider: String,
    pub kind: ProviderKind,
    pub consent_model: crate::ConsentModel,
    pub complete: bool,
    pub items: Vec<ChecklistItem>,
}

/// The regulatory plan of a performance evaluation test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The Q&A revision applied.
    pub rules_version: RulesVersion,
    /// The date whose revision was applied.
    pub as_of: Date,
    pub test_type: TestType,
    /// Q10; `None` where the Q&A does not say (a device neither new nor improved).
    pub application_category: Option<&'static str>,
    pub protocol_consultation: &'static str,
    pub reliability_consultation: &'static str,
    pub case_list_required: bool,
    pub required_attachments: Vec<Attachment>,
    pub evidence_checklist: Vec<ProviderChecklist>,
    pub flags: Vec<Flag>,
    pub reasons: Vec<Reason>,
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "no revision of the Q&A was in force on {day}: the first is of {first}; the Director's notice of 2021-09-29 alone applies, and kizon does not guess its reading"
    )]
    BeforeFirstRevision { day: Date, first: Date },
}

pub const RELIABILITY_CONSULTATION: &str = "全般相談";
pub const NEW_DEVICE: &str = "新医療機器";
pub const IMPROVED_WITHOUT_CLINICAL: &str = "改良医療機器（臨床なし）";
pub const IMPROVED_WITH_CLINICAL: &str = "改良医療機器（臨床あり）";

/// Makes the plan of `protocol` under the Q&A revision in force on `as_of`.
pub fn plan(
    protocol: &Protocol,
    providers: &[ProviderFacts],
    as_of: Date,
) -> Result<Plan, PlanError> {
    let version = versions::in_force_on(as_of).ok_or(PlanError::BeforeFirstRevision {
        day: as_of,
        first: versions::ALL[0].in_force_from,
    })?;
    let design = &protocol.design;
    let mut reasons = Vec::new();
    let mut flags = Vec::new();

    let test_type = classify(design, &mut reasons);
    let application_category = application_category(
        &protocol.device.novelty,
        test_type,
        &mut reasons,
        &mut flags,
    );
    let protocol_consultation = protocol_consultation(version, test_type, &mut reasons, &mut flags);
    reasons.push(reason(
        "reliability_consultation",
        "Q10",
        "信頼性確保の方法については、２（１）及び２（２）に拘わらず、ＰＭＤＡに全般相談を申し込む。".into(),
        "For the methods of assuring reliability, apply to PMDA for a general consultation (全般相談) whether the test is 2(1) or 2(2).".into(),
    ));
    let case_list_required = case_list_required(version, test_type, &mut reasons);
    let required_attachments = attachments(case_list_required);
    design_flags(design, test_type, &mut flags);
    if test_type == TestType::WithClinicalInfo {
        source_data_verification(design, &mut reasons, &mut flags);
    }
    let evidence_checklist = evidence_checklist(providers, &mut reasons, &mut flags);
    provider_flags(version, test_type, providers, &mut flags);
    if version.id != versions::latest().id {
        flags.push(flag(
            "QA-SUPERSEDED-REVISION",
            "Q10",
            format!(
                "{}に有効な版（{}）を適用した。その後 {} に改正されている（Q8, Q10）。",
                as_of,
                version.id,
                versions::latest().in_force_from
            ),
            format!(
                "Applied the revision in force on {} ({}); the Q&A was revised on {} (Q8, Q10).",
                as_of,
                version.id,
                versions::latest().in_force_from
            ),
        ));
    }

    Ok(Plan {
        rules_version: version.clone(),
        as_of,
        test_type,
        application_category,
        protocol_consultation,
        reliability_consultation: RELIABILITY_CONSULTATION,
        case_list_required,
        required_attachments,
        evidence_checklist,
        flags,
        reasons,
    })
}

fn reason(decision: &'static str, clause: Clause, ja: String, en: String) -> Reason {
    Reason {
        decision,
        clause,
        message_ja: ja,
        message_en: en,
    }
}

fn flag(code: &'static str, clause: Clause, ja: String, en: String) -> Flag {
    Flag {
        code,
        clause,
        message_ja: ja,
        message_en: en,
    }
}

/// Notice 2(1)/2(2), Q4, Q5: collecting linked existing clinical information makes it 2(2);
/// a correspondence table kept at the provider does not (Q5).
fn classify(design: &Design, reasons: &mut Vec<Reason>) -> TestType {
    if design.linked_clinical_info {
        reasons.push(reason(
            "test_type",
            "Q4",
            "医用画像データ等とそれに紐付く既存の診療情報（確定診断など）を収集するため、課長通知の２（２）に該当する。".into(),
            "Existing data is collected together with linked existing clinical information (e.g. a confirmed diagnosis), so the test is type 2(2) of the Director's notice.".into(),
        ));
        TestType::WithClinicalInfo
    } else {
        reasons.push(reason(
            "test_type",
            "Q4",
            "既存の医用画像データ又は生体試料のみを収集し、正解を新たに付すため、課長通知の２（１）に該当する。".into(),
            "Only existing images or specimens are collected and the correct answer is newly added, so the test is type 2(1) of the Director's notice.".into(),
        ));
        if design.correspondence_table != CorrespondenceTable::None
            || design.privacy == Privacy::Identifiable
        {
            reasons.push(reason(
                "test_type",
                "Q5",
                "特定の個人を識別できる場合（対応表の保管を含む）であっても、関連する既存の診療情報を収集しないため、２（１）に準じて取り扱う。".into(),
                "Even where a person can be identified (including a kept correspondence table), no related clinical information is collected, so the test is handled as 2(1).".into(),
            ));
        }
        TestType::ImagesOnly
    }
}

/// Q10: 新医療機器 for a new device; 改良医療機器（臨床なし／あり） for an improved one by type.
fn application_category(
    novelty: &Novelty,
    test_type: TestType,
    reasons: &mut Vec<Reason>,
    flags: &mut Vec<Flag>,
) -> Option<&'static str> {
    let category = match (novelty, test_type) {
        (Novelty::New, _) => NEW_DEVICE,
        (Novelty::Improved, TestType::ImagesOnly) => IMPROVED_WITHOUT_CLINICAL,
        (Novelty::Improved, TestType::WithClinicalInfo) => IMPROVED_WITH_CLINICAL,
        (Novelty::Other(written), _) => {
            let ja = format!(
                "device.novelty = \"{written}\" はＱ＆Ａの対象外（Q10は新医療機器と改良医療機器のみを定める）。申請区分はＰＭＤＡに相談すること（全般相談）。"
            );
            let en = format!(
                "device.novelty = \"{written}\" is outside the Q&A's scope (Q10 covers new and improved devices only); ask PMDA about the application category (general consultation, 全般相談)."
            );
            reasons.push(reason(
                "application_category",
                "Q10",
                ja.clone(),
                en.clone(),
            ));
            flags.push(flag("Q10-OUTSIDE-SCOPE", "Q10", ja, en));
            return None;
        }
    };
    reasons.push(reason(
        "application_category",
        "Q10",
        format!(
            "{}、課長通知の{}であるため「{}」区分で承認申請する。",
            novelty_ja(novelty),
            test_type.as_str(),
            category
        ),
        format!(
            "{} device with a test of type {} is applied for in the category 「{}」.",
            novelty_en(novelty),
            test_type.as_str(),
            category
        ),
    ));
    Some(category)
}

fn novelty_en(novelty: &Novelty) -> &'static str {
    match novelty {
        Novelty::New => "A new",
        Novelty::Improved => "An improved",
        Novelty::Other(_) => "A",
    }
}

fn novelty_ja(novelty: &Novelty) -> &'static str {
    match novelty {
        Novelty::New => "新医療機器であり",
        Novelty::Improved => "改良医療機器であり",
        Novelty::Other(_) => "",
    }
}

/// Q10: the protocol consultation category, which the 2025-03-17 revision names.
fn protocol_consultation(
    version: &RulesVersion,
    test_type: TestType,
    reasons: &mut Vec<Reason>,
    flags: &mut Vec<Flag>,
) -> &'static str {
    let named = match test_type {
        TestType::ImagesOnly => version.protocol_consultation_2_1,
        TestType::WithClinicalInfo => version.protocol_consultation_2_2,
    };
    match named {
        Some(category) => {
            reasons.push(reason(
                "protocol_consultation",
                "Q10",
                format!(
                    "試験プロトコルの相談は、{}は「{}」を申し込む。",
                    test_type.as_str(),
                    category
                ),
                format!(
                    "For the protocol, a {} test applies for 「{}」.",
                    test_type.as_str(),
                    category
                ),
            ));
            category
        }
        None => {
            let ja = format!(
                "{}版のＱ＆Ａでは、試験プロトコルの相談区分はＰＭＤＡに確認することとされている。",
                version.in_force_from
            );
            let en = format!(
                "Under the Q&A of {}, the protocol consultation category is to be confirmed with PMDA.",
                version.in_force_from
            );
            reasons.push(reason(
                "protocol_consultation",
                "Q10",
                ja.clone(),
                en.clone(),
            ));
            flags.push(flag("Q10-CONFIRM-CONSULTATION-CATEGORY", "Q10", ja, en));
            ASK_PMDA_JA
        }
    }
}

/// Q10 (2025-03-17): a 2(2) application needs no case list; nothing exempts 2(1), nor 2(2) before.
fn case_list_required(
    version: &RulesVersion,
    test_type: TestType,
    reasons: &mut Vec<Reason>,
) -> bool {
    let required = !(test_type == TestType::WithClinicalInfo && version.case_list_waived_for_2_2);
    let (ja, en) = match (test_type, required) {
        (TestType::WithClinicalInfo, false) => (
            "２（２）は、性能評価試験計画書及び統計情報を用いて作成した性能評価試験報告書を添付して承認申請することでよく、症例一覧表の提出は不要。".to_owned(),
            "A 2(2) application attaches the protocol and a report made with statistical information; no case list (症例一覧表) is needed.".to_owned(),
        ),
        (TestType::WithClinicalInfo, true) => (
            format!("{}版のＱ＆Ａには症例一覧表を省略できる旨の記載がないため、提出を前提に準備する。", version.in_force_from),
            format!("The Q&A of {} says nothing that lets a case list be omitted, so prepare one.", version.in_force_from),
        ),
        (TestType::ImagesOnly, _) => (
            "症例一覧表を不要とする記載は２（２）に限られるため、２（１）では提出を前提に準備する（プロトコル相談で確認）。".to_owned(),
            "Only 2(2) is exempted from the case list, so a 2(1) test prepares one (confirm at the protocol consultation).".to_owned(),
        ),
    };
    reasons.push(reason("case_list_required", "Q10", ja, en));
    required
}

fn attachments(case_list_required: bool) -> Vec<Attachment> {
    let mut list = vec![
        Attachment {
            name_ja: "性能評価試験計画書",
            name_en: "protocol of the performance evaluation test",
            clause: "Q10",
        },
        Attachment {
            name_ja: "統計情報を用いて作成した性能評価試験報告書",
            name_en: "report of the performance evaluation test made with statistical information",
            clause: "Q10",
        },
    ];
    if case_list_required {
        list.push(Attachment {
            name_ja: "症例一覧表",
            name_en: "case list",
            clause: "Q10",
        });
    }
    list
}

/// Flags that follow from the design alone.
fn design_flags(design: &Design, test_type: TestType, flags: &mut Vec<Flag>) {
    if design.privacy == Privacy::Anonymized {
        flags.push(flag(
            "Q11-ANONYMIZED-CONSULT-PMDA",
            "Q11",
            "匿名加工情報を用いて性能評価試験を実施する場合は、必要に応じて、個別にＰＭＤＡに相談すること。".into(),
            "The test uses anonymously processed information (匿名加工情報): consult PMDA individually as needed.".into(),
        ));
    }
    if design.reference_standard == ReferenceStandard::ComparatorMethod {
        flags.push(flag(
            "Q4-REPORT-AGREEMENT",
            "Q4",
            "対照法の判定結果を正解とするため、陽性一致率・陰性一致率・全体一致率（一致率）で評価し、感度・特異度とは報告しない。".into(),
            "The reference is a comparator method: report agreement (PPA, NPA, OPA), not sensitivity and specificity.".into(),
        ));
    }
    if test_type == TestType::ImagesOnly
        && design.correspondence_table == CorrespondenceTable::AtProvider
    {
        flags.push(flag(
            "Q5-TABLE-AT-PROVIDER-STAYS-2-1",
            "Q5",
            "提供元の医療機関等が対応表を保管していても、既存の診療情報を収集しない限り２（１）に準じて取り扱う。".into(),
            "A correspondence table kept at the provider does not change the type: without clinical information collected, the test stays 2(1).".into(),
        ));
    }
    if test_type == TestType::WithClinicalInfo
        && design.reference_standard != ReferenceStandard::ConfirmedDiagnosis
    {
        flags.push(flag(
            "Q4-LINKED-INFO-NOT-REFERENCE",
            "Q4",
            "既存の診療情報を収集するため２（２）となるが、正解は確定診断ではない。正解の設定と試験区分をプロトコル相談で確認すること。".into(),
            "Linked clinical information is collected, which makes the test 2(2), yet the reference is not the confirmed diagnosis: confirm the reference standard and test type at the protocol consultation.".into(),
        ));
    }
    if test_type == TestType::WithClinicalInfo {
        flags.push(flag(
            "Q7-TRACEABILITY-TO-SOURCE-RECORDS",
            "Q7",
            "原資料（カルテ情報等）との照合ができるよう管理すること。同様のデータが異なる複数の症例として利用されている、医学的に妥当性の低いデータ、撮影日と確定診断日の時系列の矛盾など、データに疑義がある場合は原資料の照合が行われることがある。".into(),
            "Keep the data traceable to the source records: PMDA may check them when data doubts arise, such as the same data used as several cases, medically implausible data, or a chronological contradiction between imaging and confirmed-diagnosis dates.".into(),
        ));
    }
    let identifying_kinds: Vec<&str> = design
        .data_kinds
        .iter()
        .filter(|k| matches!(k, DataKind::Video | DataKind::Waveform))
        .map(|k| k.as_str())
        .collect();
    if !identifying_kinds.is_empty() {
        flags.push(flag(
            "Q1-NO-CLEARLY-IDENTIFYING-INFO",
            "Q1",
            format!("動画データ・波形情報（{}）は、明らかに個人を識別できる情報が含まれていなければ医用画像データと同様に取り扱える。ヘッダ・メタデータ・焼き込み文字を確認すること。", identifying_kinds.join(", ")),
            format!("Video and waveform data ({}) are handled like images only if they contain no information that clearly identifies a person: check headers, metadata and burned-in text.", identifying_kinds.join(", ")),
        ));
    }
}

/// Q6, Q9: per provider, which evidence explains how consent was obtained.
fn evidence_checklist(
    providers: &[ProviderFacts],
    reasons: &mut Vec<Reason>,
    flags: &mut Vec<Flag>,
) -> Vec<ProviderChecklist> {
    reasons.push(reason(
        "evidence_checklist",
        "Q9",
        "患者等の同意がどのような方法で取得され、その方法が適切であったか、その方法が遵守されているかを説明する根拠資料として、Ｑ９が例示する性能評価試験計画書、説明・同意文書案、患者へ配布した説明資料・同意文書用紙（未記入）、倫理審査に係る資料、データ提供元との契約・合意文書を提供元ごとに確認する（個々の症例の同意の適切性を確認する必要はない）。必要に応じてＰＭＤＡに個別に相談すること。".into(),
        "To explain how consent was obtained, that the method was appropriate and that it was followed, each provider's protocol, consent document drafts, the explanatory material and blank consent forms given to patients, ethics review documents and contract, the documents Q9 gives as examples, are checked (the appropriateness of each case's consent need not be checked). Consult PMDA individually as needed.".into(),
    ));
    if providers.is_empty() {
        flags.push(flag(
            "Q3-NO-PROVIDER-REGISTERED",
            "Q3",
            "データ提供元が未登録。`kizon provider add` で登録すること。".into(),
            "No data provider is registered yet: add one with `kizon provider add`.".into(),
        ));
    }
    providers
        .iter()
        .map(|provider| {
            let items: Vec<ChecklistItem> = EvidenceKind::ALL
                .iter()
                .map(|&kind| {
                    let documents = provider.evidence.iter().filter(|&&e| e == kind).count();
                    let requirement = crate::providers::requirement(kind, provider.consent_model);
                    let status = match (requirement, documents) {
                        (_, n) if n > 0 => "present",
                        (Requirement::Required, _) => "missing",
                        (Requirement::Optional, _) => "optional",
                        (Requirement::NotApplicable, _) => "not-applicable",
                    };
                    ChecklistItem {
                        kind,
                        name_ja: kind.name_ja(),
                        name_en: kind.name_en(),
                        requirement,
                        status,
                        documents,
                        clause: if kind == EvidenceKind::OptOutNotice {
                            "Q6"
                        } else {
                            "Q9"
                        },
                    }
                })
                .collect();
            let missing: Vec<&ChecklistItem> =
                items.iter().filter(|i| i.status == "missing").collect();
            if !missing.is_empty() {
                flags.push(flag(
                    "Q9-EVIDENCE-MISSING",
                    "Q9",
                    format!(
                        "{}: 根拠資料が不足（{}）。`kizon evidence add` で登録すること。",
                        provider.name,
                        missing
                            .iter()
                            .map(|i| i.name_ja)
                            .collect::<Vec<_>>()
                            .join("、")
                    ),
                    format!(
                        "{}: evidence missing ({}); add it with `kizon evidence add`.",
                        provider.name,
                        missing
                            .iter()
                            .map(|i| i.kind.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            ProviderChecklist {
                provider: provider.name.clone(),
                kind: provider.kind,
                consent_model: provider.consent_model,
                complete: missing.is_empty(),
                items,
            }
        })
        .collect()
}

/// Flags about providers: lawful secondary use (Q3), consent without documents (Q6), and the
/// statement on regulator access in 2(2) consent documents (Q8).
fn provider_flags(
    version: &RulesVersion,
    test_type: TestType,
    providers: &[ProviderFacts],
    flags: &mut Vec<Flag>,
) {
    for provider in providers {
        if provider.kind != ProviderKind::Hospital {
            flags.push(flag(
                "Q3-LAWFUL-SECONDARY-USE",
                "Q3",
                format!("{}（{}）: バイオバンク・データベースからの提供は、二次利用・第三者提供に際して個人情報保護法・倫理指針等の適切な対応がなされていることを確認すること。", provider.name, provider.kind),
                format!("{} ({}): confirm that secondary use and third-party provision comply with the APPI and the ethics guidelines.", provider.name, provider.kind),
            ));
        }
        if provider.consent_model == crate::ConsentModel::NotRequired {
            flags.push(flag(
                "Q6-EXPLAIN-NO-CONSENT",
                "Q6",
                format!("{}: 同意不要とした根拠（{}）を説明できるようにし、必要に応じてＰＭＤＡに相談すること。", provider.name, provider.legal_basis),
                format!("{}: be ready to explain why consent was not needed ({}), and consult PMDA as needed.", provider.name, provider.legal_basis),
            ));
        }
        if test_type == TestType::WithClinicalInfo
            && provider.regulator_access_in_consent != RegulatorAccess::Yes
        {
            let state_ja = if provider.regulator_access_in_consent == RegulatorAccess::No {
                "記載がない"
            } else {
                "記載の有無が未確認"
            };
            let state_en = if provider.regulator_access_in_consent == RegulatorAccess::No {
                "do not mention"
            } else {
                "may not mention"
            };
            flags.push(flag(
                "Q8-REGULATOR-ACCESS-NOT-IN-CONSENT",
                "Q8",
                format!("{}: 説明同意文書に規制当局が原資料を閲覧する可能性について{}。{}ため、データが利用できなくなるわけではないが、説明同意文書への追記などできるだけ早期の対応が推奨される。提供元の協力が得られず疑義が解消できないデータは利用できなくなる可能性がある。", provider.name, state_ja, version.regulator_access_basis_ja),
                format!("{}: the consent documents {} that the regulator may read the source records. Data stays usable ({}), but adding that statement early is recommended; data whose doubts cannot be cleared because the provider does not cooperate may become unusable.", provider.name, state_en, version.regulator_access_basis_en),
            ));
        }
    }
}

/// Q7: whether the collected clinical information is checked against the source records (SDV),
/// and how far, is the applicant's judgement "収集する情報や性能評価試験の特性、求める信頼性の水準
/// 等を踏まえ"; a 2(2) protocol that does not record it leaves the reviewer's first question open.
fn source_data_verification(design: &Design, reasons: &mut Vec<Reason>, flags: &mut Vec<Flag>) {
    let Some(sdv) = design.source_data_verification else {
        flags.push(flag(
            "Q7-SDV-UNDECIDED",
            "Q7",
            "原資料（カルテ情報等）との照合（SDV）を行うか、行う範囲を、収集する情報、性能評価試験の特性、求める信頼性の水準等を踏まえて判断し、計画書に記載すること（[design] source_data_verification と source_data_verification_reason）。".into(),
            "Decide whether, and how far, the collected information is checked against the source records (SDV), by the information collected, the test's nature and the reliability it needs, and record it in the protocol ([design] source_data_verification and source_data_verification_reason).".into(),
        ));
        return;
    };
    let (ja, en) = sdv.names();
    let why = design.source_data_verification_reason.as_ref();
    reasons.push(reason(
        "source_data_verification",
        "Q7",
        format!(
            "原資料との照合（SDV）: {ja}。{}",
            why.map_or("理由の記載なし".to_owned(), |w| w.text.clone())
        ),
        format!(
            "Source data verification (SDV): {en}. {}",
            why.map_or("No reason given.".to_owned(), |w| w.english().to_owned())
        ),
    ));
    if why.is_none() {
        flags.push(flag(
            "Q7-SDV-NO-REASON",
            "Q7",
            "SDV の判断の理由（収集する情報、試験の特性、求める信頼性の水準等）を source_data_verification_reason に記載すること。".into(),
            "Give the reason for the SDV decision (the information collected, the test's nature, the reliability it needs) in source_data_verification_reason.".into(),
        ));
    }
}
