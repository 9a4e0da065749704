//! The ways a protocol contradicts itself.
//!
//! Each rule names the two keys that cannot both hold, the Q&A item (or notice clause) behind
//! it, and what to change. Anything merely unusual is not rejected here: the regulatory plan
//! (kizon-rules) raises it as a flag instead.

use serde::Serialize;

use crate::raw::RawDesign;
use crate::{
    CorrespondenceTable, Location, Metric, Privacy, ReferenceStandard, SourceDataVerification,
};

/// Two keys of study.toml that cannot both hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contradiction {
    /// Stable identifier of the rule, e.g. `confirmed-diagnosis-needs-linked-info`.
    pub code: &'static str,
    /// The Q&A item or notice clause behind it.
    pub clause: &'static str,
    pub first_key: String,
    pub first_location: Location,
    pub second_key: String,
    pub second_location: Location,
    pub message_en: &'static str,
    pub message_ja: &'static str,
    pub hint: &'static str,
}

impl std::fmt::Display for Contradiction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: `{}` contradicts `{}` ({}): {} [{}]",
            self.first_location,
            self.first_key,
            self.second_key,
            self.second_location,
            self.message_en,
            self.clause
        )
    }
}

/// A key's value and where it stands in study.toml.
pub(crate) struct KeyAt<T> {
    pub key: String,
    pub location: Location,
    pub value: T,
}

struct Rule {
    code: &'static str,
    clause: &'static str,
    message_en: &'static str,
    message_ja: &'static str,
    hint: &'static str,
}

const CONFIRMED_DIAGNOSIS_NEEDS_LINKED_INFO: Rule = Rule {
    code: "confirmed-diagnosis-needs-linked-info",
    clause: "Q4",
    message_en: "a confirmed diagnosis as reference standard is linked clinical information, so linked_clinical_info must be true (test type 2(2))",
    message_ja: "確定診断を正解とする場合は既存の診療情報を紐付けて収集するため、linked_clinical_info = true（課長通知2(2)）でなければならない",
    hint: "set linked_clinical_info = true, or choose reference_standard = \"expert-panel\" or \"comparator-method\"",
};

const APPLICANT_TABLE_MAKES_DATA_IDENTIFIABLE: Rule = Rule {
    code: "applicant-table-makes-data-identifiable",
    clause: "Q5",
    message_en: "a correspondence table kept by the applicant lets the applicant identify the person, so the data cannot be anonymized or non-identifiable in its hands",
    message_ja: "申請者が対応表を保有する場合、申請者の手元で個人を識別できるため、匿名加工情報又は非識別とはいえない",
    hint: "set privacy = \"pseudonymized\" or \"identifiable\", or keep the table at the provider (correspondence_table = \"at-provider\")",
};

const ANONYMIZED_HAS_NO_TABLE: Rule = Rule {
    code: "anonymized-has-no-table",
    clause: "Q11",
    message_en: "anonymously processed information (匿名加工情報) cannot be re-identified, so no correspondence table may exist",
    message_ja: "匿名加工情報は再識別できない情報であり、対応表は存在し得ない",
    hint: "set correspondence_table = \"none\", or privacy = \"pseudonymized\" / \"non-identifiable\" if a table is kept",
};

const PSEUDONYMIZED_HAS_A_TABLE: Rule = Rule {
    code: "pseudonymized-has-a-table",
    clause: "Q5",
    message_en: "pseudonymized data (仮名加工情報) is identifiable with a separately kept key, so a correspondence table exists somewhere",
    message_ja: "仮名加工情報は別に保管された対応表により識別可能であり、対応表の保管場所を示す必要がある",
    hint: "set correspondence_table = \"at-provider\" or \"at-applicant\", or privacy = \"non-identifiable\" if no table is kept",
};

const LINKED_INFO_NEEDS_TRACEABILITY: Rule = Rule {
    code: "linked-info-needs-traceability",
    clause: "Q7",
    message_en: "test type 2(2) must keep data traceable to the source records (原資料) for SDV, which non-identifiable data without a correspondence table cannot be",
    message_ja: "課長通知2(2)では原資料（カルテ情報等）との照合ができるようにしておく必要があり、対応表のない非識別データでは照合できない",
    hint: "keep a correspondence table (correspondence_table = \"at-provider\"), or collect no linked clinical information (test type 2(1))",
};

const SDV_NEEDS_A_WAY_BACK: Rule = Rule {
    code: "sdv-needs-a-way-back",
    clause: "Q7",
    message_en: "checking the data against the source records (SDV) needs a way back to them, which anonymously processed information (匿名加工情報) has none of",
    message_ja: "原資料（カルテ情報等）との照合（SDV）には原資料へたどる手段が要るが、匿名加工情報にはない",
    hint: "set source_data_verification = \"none\" with its reason, or collect pseudonymized data with the correspondence table at the provider",
};

const COMPARATOR_IS_NOT_A_REFERENCE: Rule = Rule {
    code: "comparator-is-not-a-reference",
    clause: "Q4",
    message_en: "against a comparator method report agreement (ppa, npa, opa, kappa), not sensitivity, specificity, predictive values or AUC (FDA 2007 statistical guidance)",
    message_ja: "対照法を正解とする場合は一致率（陽性一致率・陰性一致率・全体一致率）で評価し、感度・特異度とは呼ばない",
    hint: "use metric = \"ppa\", \"npa\", \"opa\" or \"kappa\", or a reference standard of \"expert-panel\" or \"confirmed-diagnosis\"",
};

/// The first contradiction in the design and endpoints, if any.
pub(crate) fn check(
    design: &RawDesign,
    endpoint_metrics: &[KeyAt<Metric>],
    source: &str,
) -> Result<(), Box<Contradiction>> {
    let at = |span: std::ops::Range<usize>| Location::of_offset(source, span.start);
    let linked = KeyAt {
        key: "design.linked_clinical_info".to_owned(),
        location: at(design.linked_clinical_info.span()),
        value: *design.linked_clinical_info.get_ref(),
    };
    let reference = KeyAt {
        key: "design.reference_standard".to_owned(),
        location: at(design.reference_standard.span()),
        value: *design.reference_standard.get_ref(),
    };
    let privacy = KeyAt {
        key: "design.privacy".to_owned(),
        location: at(design.privacy.span()),
        value: *design.privacy.get_ref(),
    };
    let table = KeyAt {
        key: "design.correspondence_table".to_owned(),
        location: at(design.correspondence_table.span()),
        value: *design.correspondence_table.get_ref(),
    };

    if reference.value == ReferenceStandard::ConfirmedDiagnosis && !linked.value {
        return Err(contradiction(
            &CONFIRMED_DIAGNOSIS_NEEDS_LINKED_INFO,
            &reference,
            &linked,
        ));
    }
    if table.value == CorrespondenceTable::AtApplicant
        && matches!(
            privacy.value,
            Privacy::Anonymized | Privacy::NonIdentifiable
        )
    {
        return Err(contradiction(
            &APPLICANT_TABLE_MAKES_DATA_IDENTIFIABLE,
            &table,
            &privacy,
        ));
    }
    if privacy.value == Privacy::Anonymized && table.value != CorrespondenceTable::None {
        return Err(contradiction(&ANONYMIZED_HAS_NO_TABLE, &privacy, &table));
    }
    if privacy.value == Privacy::Pseudonymized && table.value == CorrespondenceTable::None {
        return Err(contradiction(&PSEUDONYMIZED_HAS_A_TABLE, &privacy, &table));
    }
    if linked.value
        && privacy.value == Privacy::NonIdentifiable
        && table.value == CorrespondenceTable::None
    {
        return Err(contradiction(
            &LINKED_INFO_NEEDS_TRACEABILITY,
            &linked,
            &table,
        ));
    }
    if let Some(sdv) = &design.source_data_verification
        && *sdv.get_ref() != SourceDataVerification::None
        && privacy.value == Privacy::Anonymized
    {
        let sdv = KeyAt {
            key: "design.source_data_verification".to_owned(),
            location: at(sdv.span()),
            value: *sdv.get_ref(),
        };
        return Err(contradiction(&SDV_NEEDS_A_WAY_BACK, &sdv, &privacy));
    }
    if reference.value == ReferenceStandard::ComparatorMethod
        && let Some(metric) = endpoint_metrics
            .iter()
            .find(|m| m.value.needs_reference_standard())
    {
        return Err(contradiction(
            &COMPARATOR_IS_NOT_A_REFERENCE,
            metric,
            &reference,
        ));
    }
    Ok(())
}

fn contradiction<A, B>(rule: &Rule, first: &KeyAt<A>, second: &KeyAt<B>) -> Box<Contradiction> {
    Box::new(Contradiction {
        code: rule.code,
        clause: rule.clause,
        first_key: first.key.clone(),
        first_location: first.location,
        second_key: second.key.clone(),
        second_location: second.location,
        message_en: rule.message_en,
        message_ja: rule.message_ja,
        hint: rule.hint,
    })
}
