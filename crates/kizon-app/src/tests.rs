use std::fs;

use kizon_rules::{ConsentModel, EvidenceKind, ProviderKind, RegulatorAccess};

use super::*;
use crate::plan::PlanOptions;
use crate::providers::ProviderInput;

fn new_study() -> (tempfile::TempDir, Study) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("study");
    init::init(&root, "tester", "init").unwrap();
    let study = Study::open(&root).unwrap();
    (dir, study)
}

fn hospital() -> ProviderInput {
    ProviderInput {
        name: "Hospital A".into(),
        kind: ProviderKind::Hospital,
        consent_model: ConsentModel::OptOut,
        legal_basis: "倫理指針に基づくオプトアウト".into(),
        regulator_access: RegulatorAccess::Unknown,
    }
}

#[test]
fn init_writes_the_template_and_a_verifiable_ledger() {
    let (_dir, study) = new_study();
    assert_eq!(
        fs::read_to_string(study.protocol_path()).unwrap(),
        kizon_protocol::TEMPLATE
    );
    let log = study.audit_log().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].command, "init");
    assert!(study.verify(None).unwrap().intact());
    assert!(!study.root().join(".kizon-init").exists());
}

#[test]
fn init_twice_is_refused() {
    let (_dir, study) = new_study();
    let err = init::init(study.root(), "tester", "init").unwrap_err();
    assert!(matches!(err, AppError::AlreadyAStudy(_)), "{err}");
}

#[test]
fn init_keeps_a_protocol_the_user_already_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let text = kizon_protocol::TEMPLATE.replace("KZ-0001", "MINE-7");
    fs::write(dir.path().join(PROTOCOL_FILE), &text).unwrap();
    let done = init::init(dir.path(), "tester", "init").unwrap();
    assert!(!done.wrote_template);
    assert_eq!(
        fs::read_to_string(dir.path().join(PROTOCOL_FILE)).unwrap(),
        text
    );
}

#[test]
fn init_after_an_interrupted_init_completes() {
    let dir = tempfile::tempdir().unwrap();
    // What a killed init leaves: the template and a staging directory, but no database.
    fs::write(dir.path().join(PROTOCOL_FILE), kizon_protocol::TEMPLATE).unwrap();
    fs::create_dir_all(dir.path().join(".kizon-init/documents")).unwrap();
    fs::write(dir.path().join(".kizon-init/kizon.sqlite"), b"half").unwrap();
    assert!(matches!(
        Study::open(dir.path()),
        Err(AppError::NotAStudy(_))
    ));
    init::init(dir.path(), "tester", "init").unwrap();
    assert!(
        Study::open(dir.path())
            .unwrap()
            .verify(None)
            .unwrap()
            .intact()
    );
}

#[test]
fn open_outside_a_study_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let err = Study::open(dir.path()).err().unwrap();
    assert!(err.to_string().contains("not a kizon study"));
    assert!(err.hint().contains("kizon init"));
}

#[test]
fn evidence_is_stored_by_hash_and_fills_the_checklist() {
    let (dir, mut study) = new_study();
    study.add_provider("tester", &hospital()).unwrap();
    let file = dir.path().join("ethics.pdf");
    fs::write(&file, b"%PDF-1.4 ethics approval").unwrap();
    let evidence = study
        .add_evidence(
            "tester",
            "Hospital A",
            EvidenceKind::EthicsReview,
            &file,
            Some("IRB 12"),
        )
        .unwrap();
    assert_eq!(evidence.document, sha256_hex(b"%PDF-1.4 ethics approval"));
    let stored = kizon_store::documents::path_of(study.root(), &evidence.document);
    assert_eq!(fs::read(stored).unwrap(), b"%PDF-1.4 ethics approval");
    let plan = study.plan(PlanOptions::default()).unwrap();
    let item = plan.plan.evidence_checklist[0]
        .items
        .iter()
        .find(|i| i.kind == EvidenceKind::EthicsReview)
        .unwrap();
    assert_eq!(item.status, "present");
}

#[test]
fn evidence_for_an_unknown_provider_names_the_known_ones() {
    let (dir, mut study) = new_study();
    study.add_provider("tester", &hospital()).unwrap();
    let file = dir.path().join("x.txt");
    fs::write(&file, b"x").unwrap();
    let err = study
        .add_evidence("tester", "Hospital B", EvidenceKind::Contract, &file, None)
        .unwrap_err();
    assert!(err.hint().contains("Hospital A"), "{}", err.hint());
    assert_eq!(study.audit_log().unwrap().len(), 2, "nothing recorded");
}

#[test]
fn locked_protocol_refuses_an_edited_file_until_amended() {
    let (_dir, mut study) = new_study();
    let lock = study.lock_protocol("tester").unwrap();
    assert_eq!(lock.test_type, "2(1)");
    assert!(matches!(
        study.lock_protocol("tester"),
        Err(AppError::AlreadyLocked { .. })
    ));

    let edited = kizon_protocol::TEMPLATE
        .replace(
            "linked_clinical_info = false",
            "linked_clinical_info = true",
        )
        .replace(
            "reference_standard = \"expert-panel\"",
            "reference_standard = \"confirmed-diagnosis\"",
        );
    fs::write(study.protocol_path(), &edited).unwrap();
    let err = study.plan(PlanOptions::default()).unwrap_err();
    assert!(matches!(err, AppError::ProtocolChanged { .. }), "{err}");
    assert!(err.hint().contains("kizon amend"));
    let draft = study
        .plan(PlanOptions {
            draft: true,
            ..Default::default()
        })
        .unwrap();
    assert!(draft.draft);
    assert_eq!(draft.plan.test_type.as_str(), "2(2)");

    assert!(matches!(
        study.amend("tester", "  "),
        Err(AppError::Refused { .. })
    ));
    let amended = study
        .amend("tester", "pathology became the reference")
        .unwrap();
    assert_eq!(
        amended.previous_sha256.as_deref(),
        Some(lock.sha256.as_str())
    );
    assert!(
        amended
            .plan_changes
            .iter()
            .any(|c| c == "test_type: 2(1) → 2(2)"),
        "{:?}",
        amended.plan_changes
    );
    let plan = study.plan(PlanOptions::default()).unwrap();
    assert!(plan.protocol_locked && !plan.draft);
    assert!(matches!(
        study.amend("tester", "again"),
        Err(AppError::Unchanged { .. })
    ));
    let amendments = study.store.amendments().unwrap();
    assert_eq!(amendments[0].reason, "pathology became the reference");
    assert!(study.verify(None).unwrap().intact());
}

#[test]
fn amend_before_lock_is_refused() {
    let (_dir, mut study) = new_study();
    assert!(matches!(
        study.amend("tester", "why"),
        Err(AppError::NotLocked)
    ));
}

#[test]
fn invalid_protocol_cannot_be_locked() {
    let (_dir, mut study) = new_study();
    fs::write(
        study.protocol_path(),
        kizon_protocol::TEMPLATE.replace("[device]", "[devise]"),
    )
    .unwrap();
    let err = study.lock_protocol("tester").unwrap_err();
    assert!(err.to_string().contains("study.toml:"), "{err}");
    assert_eq!(study.audit_log().unwrap().len(), 1);
}

#[test]
fn plan_as_of_applies_the_revision_in_force_then() {
    let (_dir, study) = new_study();
    let before = study
        .plan(PlanOptions {
            as_of: Some(time::macros::date!(2024 - 01 - 10)),
            draft: false,
        })
        .unwrap();
    assert_eq!(before.plan.rules_version.id, "qa-2022-12-08");
    assert_eq!(before.as_of_source, "--as-of");
    let now = study.plan(PlanOptions::default()).unwrap();
    assert_eq!(now.plan.rules_version.id, "qa-2025-03-17");
    assert_eq!(now.as_of_source, "planned_on");
}

#[test]
fn demo_builds_a_locked_verified_2_2_study_and_refuses_to_clobber() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    let outcome = demo::demo(&root, "tester", false).unwrap();
    assert!(outcome.verified);
    assert_eq!(outcome.plan.plan.test_type.as_str(), "2(2)");
    assert_eq!(
        outcome.plan.plan.application_category,
        Some("改良医療機器（臨床あり）")
    );
    assert!(
        outcome
            .plan
            .plan
            .evidence_checklist
            .iter()
            .all(|c| c.complete)
    );
    assert!(
        outcome
            .plan
            .plan
            .flags
            .iter()
            .any(|f| f.code == "Q8-REGULATOR-ACCESS-NOT-IN-CONSENT")
    );
    assert!(matches!(
        demo::demo(&root, "tester", false),
        Err(AppError::Refused { .. })
    ));
    demo::demo(&root, "tester", true).unwrap();

    let other = dir.path().join("mine");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("keep.txt"), b"precious").unwrap();
    assert!(demo::demo(&other, "tester", true).is_err());
    assert!(other.join("keep.txt").exists());
}
