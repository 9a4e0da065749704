use kizon_protocol::{
    CorrespondenceTable, Novelty, Privacy, Protocol, ReferenceStandard, TEMPLATE,
};
use time::macros::date;

use super::*;
use crate::plan::{IMPROVED_WITH_CLINICAL, IMPROVED_WITHOUT_CLINICAL, NEW_DEVICE};

const AFTER_REVISION: time::Date = date!(2025 - 06 - 01);
const BEFORE_REVISION: time::Date = date!(2024 - 06 - 01);

fn protocol(
    novelty: &str,
    linked: bool,
    reference: &str,
    privacy: &str,
    table: &str,
    kinds: &str,
) -> Protocol {
    let text = protocol_text(novelty, linked, reference, privacy, table, kinds);
    Protocol::parse(&text).unwrap_or_else(|e| panic!("{e}"))
}

/// The template up to `[design]`, and a `[design]` table that ends the text (more keys may be
/// appended to it).
fn protocol_text(
    novelty: &str,
    linked: bool,
    reference: &str,
    privacy: &str,
    table: &str,
    kinds: &str,
) -> String {
    let start = TEMPLATE.find("[design]").unwrap();
    format!(
        "{}[design]\nlinked_clinical_info = {linked}\nreference_standard = \"{reference}\"\n\
         privacy = \"{privacy}\"\ncorrespondence_table = \"{table}\"\ndata_kinds = [{kinds}]\n",
        &TEMPLATE[..start]
    )
    .replace("novelty = \"new\"", &format!("novelty = \"{novelty}\""))
}

fn codes(plan: &Plan) -> Vec<&'static str> {
    plan.flags.iter().map(|f| f.code).collect()
}

fn hospital(
    evidence: &[EvidenceKind],
    consent: ConsentModel,
    access: RegulatorAccess,
) -> ProviderFacts {
    ProviderFacts {
        name: "Hospital A".into(),
        kind: ProviderKind::Hospital,
        consent_model: consent,
        legal_basis: "倫理指針 第8の1(2)".into(),
        regulator_access_in_consent: access,
        evidence: evidence.to_vec(),
    }
}

// Q4's four examples.

#[test]
fn q4_colonoscopy_images_read_by_specialists_is_2_1() {
    let p = protocol(
        "new",
        false,
        "expert-panel",
        "non-identifiable",
        "at-provider",
        "\"image\"",
    );
    let plan = plan(&p, &[], AFTER_REVISION).unwrap();
    assert_eq!(plan.test_type, TestType::ImagesOnly);
    assert_eq!(plan.protocol_consultation, "医療機器プロトコル相談 性能");
}

#[test]
fn q4_ct_images_with_pathology_diagnosis_is_2_2() {
    let p = protocol(
        "new",
        true,
        "confirmed-diagnosis",
        "pseudonymized",
        "at-provider",
        "\"image\"",
    );
    let plan = plan(&p, &[], AFTER_REVISION).unwrap();
    assert_eq!(plan.test_type, TestType::WithClinicalInfo);
    assert_eq!(
        plan.protocol_consultation,
        "医療機器プロトコル相談 性能（既存の診療情報を用いる試験）"
    );
    assert!(codes(&plan).contains(&"Q7-TRACEABILITY-TO-SOURCE-RECORDS"));
}

#[test]
fn q4_residual_specimens_against_a_comparator_is_2_1_reporting_agreement() {
    let p = protocol(
        "improved",
        false,
        "comparator-method",
        "non-identifiable",
        "none",
        "\"specimen\"",
    );
    let plan = plan(&p, &[], AFTER_REVISION).unwrap();
    assert_eq!(plan.test_type, TestType::ImagesOnly);
    assert_eq!(plan.application_category, Some(IMPROVED_WITHOUT_CLINICAL));
    assert!(codes(&plan).contains(&"Q4-REPORT-AGREEMENT"));
}

#[test]
fn q4_residual_specimens_with_confirmed_diagnosis_is_2_2() {
    let p = protocol(
        "improved",
        true,
        "confirmed-diagnosis",
        "identifiable",
        "none",
        "\"specimen\"",
    );
    let plan = plan(&p, &[], AFTER_REVISION).unwrap();
    assert_eq!(plan.test_type, TestType::WithClinicalInfo);
    assert_eq!(plan.application_category, Some(IMPROVED_WITH_CLINICAL));
    assert!(!plan.case_list_required);
}

#[test]
fn q5_table_at_provider_without_clinical_info_stays_2_1() {
    let p = protocol(
        "new",
        false,
        "expert-panel",
        "pseudonymized",
        "at-provider",
        "\"image\"",
    );
    let plan = plan(&p, &[], AFTER_REVISION).unwrap();
    assert_eq!(plan.test_type, TestType::ImagesOnly);
    assert!(codes(&plan).contains(&"Q5-TABLE-AT-PROVIDER-STAYS-2-1"));
    assert!(
        plan.reasons
            .iter()
            .any(|r| r.clause == "Q5" && r.decision == "test_type")
    );
}

#[test]
fn q11_anonymized_data_is_sent_to_pmda() {
    let p = protocol(
        "new",
        true,
        "confirmed-diagnosis",
        "anonymized",
        "none",
        "\"image\"",
    );
    let plan = plan(&p, &[], AFTER_REVISION).unwrap();
    let f = plan
        .flags
        .iter()
        .find(|f| f.code == "Q11-ANONYMIZED-CONSULT-PMDA")
        .unwrap();
    assert_eq!(f.clause, "Q11");
    assert!(f.message_ja.contains("個別にＰＭＤＡに相談"));
}

#[test]
fn q1_video_and_waveform_must_carry_no_identifying_information() {
    let p = protocol(
        "new",
        false,
        "expert-panel",
        "non-identifiable",
        "none",
        "\"video\", \"waveform\"",
    );
    let plan = plan(&p, &[], AFTER_REVISION).unwrap();
    let f = plan
        .flags
        .iter()
        .find(|f| f.code == "Q1-NO-CLEARLY-IDENTIFYING-INFO")
        .unwrap();
    assert!(f.message_en.contains("video, waveform"), "{}", f.message_en);
    let images = protocol(
        "new",
        false,
        "expert-panel",
        "non-identifiable",
        "none",
        "\"image\"",
    );
    assert!(
        !codes(&plan::plan(&images, &[], AFTER_REVISION).unwrap())
            .contains(&"Q1-NO-CLEARLY-IDENTIFYING-INFO")
    );
}

#[test]
fn generic_device_is_outside_the_qa_and_never_guessed() {
    let p = protocol(
        "generic",
        false,
        "expert-panel",
        "non-identifiable",
        "none",
        "\"image\"",
    );
    let plan = plan(&p, &[], AFTER_REVISION).unwrap();
    assert_eq!(plan.application_category, None);
    let f = plan
        .flags
        .iter()
        .find(|f| f.code == "Q10-OUTSIDE-SCOPE")
        .unwrap();
    assert!(f.message_en.contains("generic") && f.message_ja.contains("ＰＭＤＡに相談"));
}

// The whole Q10 table, under both revisions.

#[test]
fn q10_table_under_each_revision() {
    struct Row {
        novelty: &'static str,
        linked: bool,
        category: &'static str,
        consultation_2025: &'static str,
        case_list_2025: bool,
    }
    let rows = [
        Row {
            novelty: "new",
            linked: false,
            category: NEW_DEVICE,
            consultation_2025: "医療機器プロトコル相談 性能",
            case_list_2025: true,
        },
        Row {
            novelty: "new",
            linked: true,
            category: NEW_DEVICE,
            consultation_2025: "医療機器プロトコル相談 性能（既存の診療情報を用いる試験）",
            case_list_2025: false,
        },
        Row {
            novelty: "improved",
            linked: false,
            category: "改良医療機器（臨床なし）",
            consultation_2025: "医療機器プロトコル相談 性能",
            case_list_2025: true,
        },
        Row {
            novelty: "improved",
            linked: true,
            category: "改良医療機器（臨床あり）",
            consultation_2025: "医療機器プロトコル相談 性能（既存の診療情報を用いる試験）",
            case_list_2025: false,
        },
    ];
    for row in rows {
        let reference = if row.linked {
            "confirmed-diagnosis"
        } else {
            "expert-panel"
        };
        let p = protocol(
            row.novelty,
            row.linked,
            reference,
            "pseudonymized",
            "at-provider",
            "\"image\"",
        );

        let now = plan(&p, &[], AFTER_REVISION).unwrap();
        assert_eq!(now.rules_version.id, "qa-2025-03-17");
        assert_eq!(now.application_category, Some(row.category));
        assert_eq!(now.protocol_consultation, row.consultation_2025);
        assert_eq!(now.reliability_consultation, "全般相談");
        assert_eq!(now.case_list_required, row.case_list_2025);
        assert_eq!(
            now.required_attachments
                .iter()
                .any(|a| a.name_ja == "症例一覧表"),
            row.case_list_2025
        );

        let before = plan(&p, &[], BEFORE_REVISION).unwrap();
        assert_eq!(before.rules_version.id, "qa-2022-12-08");
        assert_eq!(
            before.application_category,
            Some(row.category),
            "Q10's categories did not change"
        );
        assert_eq!(before.protocol_consultation, "ＰＭＤＡに確認すること");
        assert_eq!(before.reliability_consultation, "全般相談");
        assert!(
            before.case_list_required,
            "before 2025-03-17 nothing waived the case list"
        );
        assert!(codes(&before).contains(&"Q10-CONFIRM-CONSULTATION-CATEGORY"));
        assert!(codes(&before).contains(&"QA-SUPERSEDED-REVISION"));
    }
}

#[test]
fn revision_boundaries() {
    assert_eq!(
        versions::in_force_on(date!(2025 - 03 - 16)).unwrap().id,
        "qa-2022-12-08"
    );
    assert_eq!(
        versions::in_force_on(date!(2025 - 03 - 17)).unwrap().id,
        "qa-2025-03-17"
    );
    assert_eq!(
        versions::in_force_on(date!(2022 - 12 - 08)).unwrap().id,
        "qa-2022-12-08"
    );
    assert!(versions::in_force_on(date!(2022 - 12 - 07)).is_none());
    let p = protocol(
        "new",
        false,
        "expert-panel",
        "non-identifiable",
        "none",
        "\"image\"",
    );
    let err = plan(&p, &[], date!(2021 - 10 - 01)).unwrap_err();
    assert!(err.to_string().contains("2022-12-08"), "{err}");
}

#[test]
fn q8_flag_cites_the_appi_clause_of_the_revision_applied() {
    let p = protocol(
        "new",
        true,
        "confirmed-diagnosis",
        "pseudonymized",
        "at-provider",
        "\"image\"",
    );
    let providers = [hospital(&[], ConsentModel::OptOut, RegulatorAccess::No)];
    let now = plan(&p, &providers, AFTER_REVISION).unwrap();
    let f = now
        .flags
        .iter()
        .find(|f| f.code == "Q8-REGULATOR-ACCESS-NOT-IN-CONSENT")
        .unwrap();
    assert!(
        f.message_ja.contains("第27条第１項第４号"),
        "{}",
        f.message_ja
    );
    let before = plan(&p, &providers, BEFORE_REVISION).unwrap();
    let f = before
        .flags
        .iter()
        .find(|f| f.code == "Q8-REGULATOR-ACCESS-NOT-IN-CONSENT")
        .unwrap();
    assert!(
        f.message_ja.contains("法令に基づく場合"),
        "{}",
        f.message_ja
    );
    // Consent documents that do mention regulator access raise no Q8 flag; nor does 2(1).
    let mentioned = [hospital(&[], ConsentModel::OptOut, RegulatorAccess::Yes)];
    assert!(
        !codes(&plan(&p, &mentioned, AFTER_REVISION).unwrap())
            .contains(&"Q8-REGULATOR-ACCESS-NOT-IN-CONSENT")
    );
    let images_only = protocol(
        "new",
        false,
        "expert-panel",
        "pseudonymized",
        "at-provider",
        "\"image\"",
    );
    assert!(
        !codes(&plan(&images_only, &providers, AFTER_REVISION).unwrap())
            .contains(&"Q8-REGULATOR-ACCESS-NOT-IN-CONSENT")
    );
}

#[test]
fn q9_checklist_follows_the_consent_model() {
    let p = protocol(
        "new",
        false,
        "expert-panel",
        "non-identifiable",
        "at-provider",
        "\"image\"",
    );
    let opt_out = hospital(
        &[
            EvidenceKind::Protocol,
            EvidenceKind::Contract,
            EvidenceKind::Contract,
        ],
        ConsentModel::OptOut,
        RegulatorAccess::Unknown,
    );
    let plan = plan(&p, &[opt_out], AFTER_REVISION).unwrap();
    let list = &plan.evidence_checklist[0];
    let status = |kind: EvidenceKind| list.items.iter().find(|i| i.kind == kind).unwrap();
    assert_eq!(status(EvidenceKind::Protocol).status, "present");
    assert_eq!(status(EvidenceKind::Contract).documents, 2);
    assert_eq!(status(EvidenceKind::EthicsReview).status, "missing");
    assert_eq!(status(EvidenceKind::OptOutNotice).status, "missing");
    assert_eq!(
        status(EvidenceKind::ConsentFormDraft).status,
        "not-applicable"
    );
    assert_eq!(status(EvidenceKind::Other).status, "optional");
    assert!(!list.complete);
    let f = plan
        .flags
        .iter()
        .find(|f| f.code == "Q9-EVIDENCE-MISSING")
        .unwrap();
    assert!(
        f.message_en.contains("ethics-review, opt-out-notice"),
        "{}",
        f.message_en
    );

    let consented = hospital(
        &[
            EvidenceKind::Protocol,
            EvidenceKind::ConsentFormDraft,
            EvidenceKind::BlankConsentForm,
            EvidenceKind::EthicsReview,
            EvidenceKind::Contract,
        ],
        ConsentModel::InformedConsent,
        RegulatorAccess::Yes,
    );
    let plan = plan::plan(&p, &[consented], AFTER_REVISION).unwrap();
    assert!(plan.evidence_checklist[0].complete);
    assert!(!codes(&plan).contains(&"Q9-EVIDENCE-MISSING"));
}

#[test]
fn q3_biobank_needs_lawful_secondary_use() {
    let p = protocol(
        "new",
        false,
        "expert-panel",
        "non-identifiable",
        "none",
        "\"specimen\"",
    );
    let mut biobank = hospital(&[], ConsentModel::BroadConsent, RegulatorAccess::Unknown);
    biobank.kind = ProviderKind::PrivateBiobank;
    let plan = plan(&p, &[biobank], AFTER_REVISION).unwrap();
    assert!(codes(&plan).contains(&"Q3-LAWFUL-SECONDARY-USE"));
}

/// Every combination of the deciding keys that the protocol accepts: the path follows Q4/Q10
/// from `linked_clinical_info` and `novelty` alone, every flag and reason names a Q&A item, and
/// the JSON carries the fixed keys.
#[test]
fn every_accepted_combination_follows_the_q10_table() {
    let mut planned = 0;
    for novelty in ["new", "improved", "generic"] {
        for linked in [false, true] {
            for reference in ReferenceStandard::ALL {
                for privacy in Privacy::ALL {
                    for table in CorrespondenceTable::ALL {
                        let start = TEMPLATE.find("[design]").unwrap();
                        let text = format!(
                            "{}[design]\nlinked_clinical_info = {linked}\nreference_standard = \"{reference}\"\n\
                             privacy = \"{privacy}\"\ncorrespondence_table = \"{table}\"\ndata_kinds = [\"image\"]\n",
                            &TEMPLATE[..start]
                        )
                        .replace("novelty = \"new\"", &format!("novelty = \"{novelty}\""));
                        let Ok(p) = Protocol::parse(&text) else {
                            continue;
                        };
                        planned += 1;
                        let plan = plan(&p, &[], AFTER_REVISION).unwrap();
                        let expected_type = if linked {
                            TestType::WithClinicalInfo
                        } else {
                            TestType::ImagesOnly
                        };
                        assert_eq!(plan.test_type, expected_type);
                        let expected_category = match (&p.device.novelty, linked) {
                            (Novelty::New, _) => Some(NEW_DEVICE),
                            (Novelty::Improved, false) => Some(IMPROVED_WITHOUT_CLINICAL),
                            (Novelty::Improved, true) => Some(IMPROVED_WITH_CLINICAL),
                            (Novelty::Other(_), _) => None,
                        };
                        assert_eq!(plan.application_category, expected_category);
                        assert_eq!(plan.case_list_required, !linked);
                        assert_eq!(
                            codes(&plan).contains(&"Q11-ANONYMIZED-CONSULT-PMDA"),
                            *privacy == Privacy::Anonymized
                        );
                        assert_eq!(
                            codes(&plan).contains(&"Q4-REPORT-AGREEMENT"),
                            *reference == ReferenceStandard::ComparatorMethod
                        );
                        for clause in plan
                            .flags
                            .iter()
                            .map(|f| f.clause)
                            .chain(plan.reasons.iter().map(|r| r.clause))
                        {
                            assert!(
                                clause.starts_with('Q')
                                    && clause[1..]
                                        .parse::<u8>()
                                        .is_ok_and(|n| (1..=11).contains(&n)),
                                "{clause}"
                            );
                        }
                        let json = serde_json::to_value(&plan).unwrap();
                        for key in [
                            "test_type",
                            "application_category",
                            "protocol_consultation",
                            "reliability_consultation",
                            "case_list_required",
                            "required_attachments",
                            "evidence_checklist",
                            "flags",
                            "reasons",
                        ] {
                            assert!(json.get(key).is_some(), "{key}");
                        }
                        assert_eq!(json["test_type"], if linked { "2(2)" } else { "2(1)" });
                    }
                }
            }
        }
    }
    assert_eq!(planned, 3 * 37);
}

/// Q7 leaves SDV to the applicant's judgement: a 2(2) protocol that does not record it is
/// flagged; one that does carries it, with its reason, among the plan's reasons; a 2(1) test
/// collects no clinical information to check and is not asked.
#[test]
fn q7_a_2_2_protocol_records_its_sdv_decision() {
    let undecided = protocol(
        "new",
        true,
        "confirmed-diagnosis",
        "pseudonymized",
        "at-provider",
        "\"image\"",
    );
    let plan_of = |p: &Protocol| plan(p, &[], AFTER_REVISION).unwrap();
    assert!(codes(&plan_of(&undecided)).contains(&"Q7-SDV-UNDECIDED"));
    let text = |sdv: &str| {
        protocol_text(
            "new",
            true,
            "confirmed-diagnosis",
            "pseudonymized",
            "at-provider",
            "\"image\"",
        ) + sdv
            + "\n"
    };
    let decided = Protocol::parse(&text(
        "source_data_verification = \"sampled\"\nsource_data_verification_reason = { ja = \"1割の症例\", en = \"a tenth of the cases\" }",
    ))
    .unwrap();
    let plan = plan_of(&decided);
    let codes = codes(&plan);
    assert!(!codes.contains(&"Q7-SDV-UNDECIDED") && !codes.contains(&"Q7-SDV-NO-REASON"));
    let reason = plan
        .reasons
        .iter()
        .find(|r| r.decision == "source_data_verification")
        .unwrap();
    assert_eq!(reason.clause, "Q7");
    assert!(
        reason
            .message_en
            .contains("on a sample of cases. a tenth of the cases"),
        "{reason:?}"
    );
    let without_reason = Protocol::parse(&text("source_data_verification = \"none\"")).unwrap();
    assert!(
        plan_of(&without_reason)
            .flags
            .iter()
            .any(|f| f.code == "Q7-SDV-NO-REASON")
    );
    let images_only = protocol(
        "new",
        false,
        "expert-panel",
        "non-identifiable",
        "at-provider",
        "\"image\"",
    );
    let codes_2_1: Vec<&str> = plan_of(&images_only).flags.iter().map(|f| f.code).collect();
    assert!(!codes_2_1.iter().any(|c| c.starts_with("Q7-SDV")));
}
