use std::fs;

use kizon_rules::{ConsentModel, EvidenceKind, ProviderKind, RegulatorAccess};

use super::*;
use crate::plan::PlanOptions;
use crate::providers::ProviderInput;

/// A fresh owner's key (kept in memory: tests hand it to the study).
pub(crate) fn owner() -> crate::owner_key::OwnerKey {
    crate::owner_key::OwnerKey::generate().unwrap()
}

fn new_study() -> (tempfile::TempDir, Study) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("study");
    let key = owner();
    init::init(&root, "tester", "init", &key).unwrap();
    let mut study = Study::open(&root).unwrap();
    study.set_owner_key(key);
    (dir, study)
}

fn hospital() -> ProviderInput {
    ProviderInput {
        name: "Hospital A".into(),
        kind: ProviderKind::Hospital,
        consent_model: ConsentModel::OptOut,
        legal_basis: "倫理指針に基づくオプトアウト".into(),
        regulator_access: RegulatorAccess::Unknown,
        public_key: None,
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
    let err = init::init(study.root(), "tester", "init", &owner()).unwrap_err();
    assert!(matches!(err, AppError::AlreadyAStudy(_)), "{err}");
}

#[test]
fn init_keeps_a_protocol_the_user_already_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let text = kizon_protocol::TEMPLATE.replace("KZ-0001", "MINE-7");
    fs::write(dir.path().join(PROTOCOL_FILE), &text).unwrap();
    let done = init::init(dir.path(), "tester", "init", &owner()).unwrap();
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
    init::init(dir.path(), "tester", "init", &owner()).unwrap();
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
    let stored = study
        .root()
        .join("documents/sha256")
        .join(&evidence.document[..2])
        .join(&evidence.document);
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
    let outcome = demo::demo_in(
        &root,
        "tester",
        false,
        demo::DemoStop::Complete,
        &dir.path().join("keys"),
    )
    .unwrap();
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
        demo::demo_in(
            &root,
            "tester",
            false,
            demo::DemoStop::Complete,
            &dir.path().join("keys")
        ),
        Err(AppError::Refused { .. })
    ));
    demo::demo_in(
        &root,
        "tester",
        true,
        demo::DemoStop::Complete,
        &dir.path().join("keys"),
    )
    .unwrap();

    let other = dir.path().join("mine");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("keep.txt"), b"precious").unwrap();
    assert!(
        demo::demo_in(
            &other,
            "tester",
            true,
            demo::DemoStop::Complete,
            &dir.path().join("keys")
        )
        .is_err()
    );
    assert!(other.join("keep.txt").exists());
}

mod access_and_workspace {
    use crate::access::{Account, Permission, Role};
    use crate::check::Decision;
    use crate::demo;
    use crate::reference::Label;
    use crate::{AppError, Study};

    use crate::testing::{PASSWORD, StudyBuilder};

    /// The demo stopped after `check`, with reader R1 (assigned C-001 and C-002), a reader
    /// account and a statistician's.
    fn checked_study() -> (tempfile::TempDir, Study) {
        let dir = tempfile::tempdir().unwrap();
        let (_, study) = StudyBuilder::checked()
            .reader("R1")
            .user("r1", Role::Reader, Some("R1"))
            .user("stat", Role::Statistician, None)
            .assign("R1", &["C-001", "C-002"])
            .build_in(dir.path())
            .unwrap();
        (dir, study)
    }

    fn account(study: &mut Study, name: &str) -> Account {
        study
            .login(name, PASSWORD)
            .unwrap()
            .expect("signs in")
            .account
    }

    #[test]
    fn each_role_has_exactly_its_permissions() {
        use Permission::*;
        let all = [
            ViewStudy,
            UploadEvidence,
            ResolveFindings,
            Read,
            ViewResults,
            Analyze,
            ViewAudit,
            ManageUsers,
        ];
        let granted = |role: Role| -> Vec<Permission> {
            let account = Account {
                name: "x".into(),
                role,
                reader_code: None,
            };
            all.into_iter().filter(|p| account.may(*p)).collect()
        };
        assert_eq!(
            granted(Role::Admin),
            [
                ViewStudy,
                UploadEvidence,
                ResolveFindings,
                ViewResults,
                Analyze,
                ViewAudit,
                ManageUsers
            ]
        );
        assert_eq!(
            granted(Role::DataManager),
            [ViewStudy, UploadEvidence, ResolveFindings]
        );
        assert_eq!(granted(Role::Reader), [Read]);
        assert_eq!(
            granted(Role::Statistician),
            [ViewStudy, ViewResults, Analyze]
        );
        assert_eq!(granted(Role::Auditor), [ViewStudy, ViewResults, ViewAudit]);
    }

    /// The web's one door: each use case checks the acting account's permission itself and
    /// records the account as the actor.
    #[test]
    pub(super) fn acting_checks_the_permission_of_each_use_case_and_records_the_account() {
        let (_dir, mut study) = checked_study();
        let reader = account(&mut study, "r1");
        let stat = account(&mut study, "stat");
        assert!(reader.reads_only() && !stat.reads_only());
        let refused = |e: AppError| matches!(e, AppError::Forbidden { .. });
        assert!(refused(study.overview(&reader).unwrap_err()));
        assert!(refused(study.acting(&reader).findings().unwrap_err()));
        assert!(refused(study.acting(&reader).audit_log().unwrap_err()));
        assert!(refused(
            study.acting(&reader).providers_and_evidence().unwrap_err()
        ));
        assert!(refused(
            study.acting(&stat).may_upload_evidence().unwrap_err()
        ));
        assert!(refused(study.acting(&stat).users().unwrap_err()));
        let open = study.acting(&stat).findings().unwrap();
        let first = open.first().expect("the demo's check found something").id;
        // Deciding on findings is the data manager's, not the statistician's: nothing recorded.
        let before = study.audit_log().unwrap().len();
        assert!(refused(
            study
                .acting(&stat)
                .resolve(first, Decision::Accept, "reviewed", &[])
                .unwrap_err()
        ));
        assert_eq!(study.audit_log().unwrap().len(), before);
        study
            .add_user("tester", "dm", Role::DataManager, None, PASSWORD)
            .unwrap();
        let manager = account(&mut study, "dm");
        study
            .acting(&manager)
            .resolve(first, Decision::Accept, "reviewed", &[])
            .unwrap();
        let last = study.audit_log().unwrap().pop().unwrap();
        assert_eq!(last.actor, manager.actor());
    }

    #[test]
    pub(super) fn a_session_lives_from_login_to_logout_and_only_its_hash_is_stored() {
        let (_dir, mut study) = checked_study();
        assert!(study.login("stat", "wrong password").unwrap().is_none());
        assert!(study.login("nobody", PASSWORD).unwrap().is_none());
        let login = study.login("stat", PASSWORD).unwrap().unwrap();
        assert_eq!(login.token.len(), 64);
        let (account, csrf) = study.session(&login.token).unwrap().unwrap();
        assert_eq!(account.role, Role::Statistician);
        assert_eq!(csrf, login.csrf);
        let db = std::fs::read(study.root().join(kizon_store::DB_FILE)).unwrap();
        let wal = std::fs::read(study.root().join(format!("{}-wal", kizon_store::DB_FILE)))
            .unwrap_or_default();
        let token = login.token.as_bytes();
        assert!(
            !db.windows(token.len()).any(|w| w == token)
                && !wal.windows(token.len()).any(|w| w == token),
            "the raw token is not in the database"
        );
        study.logout(&login.token).unwrap();
        assert!(study.session(&login.token).unwrap().is_none());
        let log = study.audit_log().unwrap();
        assert!(
            log.iter()
                .any(|e| e.command == "login" && e.actor == "stat (web, statistician)")
        );
        assert!(log.iter().any(|e| e.command == "logout"));
        // A password change ends every session of the user.
        let again = study.login("stat", PASSWORD).unwrap().unwrap();
        study
            .set_password("tester", "stat", "another long passphrase")
            .unwrap();
        assert!(study.session(&again.token).unwrap().is_none());
        assert!(study.login("stat", PASSWORD).unwrap().is_none());
        assert!(study.verify(None).unwrap().intact());
    }

    #[test]
    pub(super) fn results_are_refused_to_the_statistician_until_both_locks() {
        let (_dir, mut study) = checked_study();
        let stat = account(&mut study, "stat");
        let refused = study.require(&stat, Permission::ViewResults).unwrap_err();
        assert!(matches!(refused, AppError::Forbidden { .. }), "{refused}");
        // Refused for the lock state, and told so, not to sign in with another role.
        assert!(refused.hint().contains("locked"), "{}", refused.hint());
        assert!(!refused.hint().contains("sign in"), "{}", refused.hint());
        demo::settle_and_lock_dataset(&mut study, "tester").unwrap();
        assert!(
            study.require(&stat, Permission::ViewResults).is_err(),
            "the reference is not locked yet"
        );
        demo::reference_to_analysis(&mut study, "tester").unwrap();
        study.require(&stat, Permission::ViewResults).unwrap();
    }

    /// The reference panel marks lesions in its session (the one a protocol without sessions
    /// has): the marks in hand go with the submitted read, in the role `panel`, exactly as a
    /// marks file would store them; marking closes with the reference lock.
    #[test]
    pub(super) fn panel_marks_go_with_the_read_and_close_with_the_reference_lock() {
        use crate::reading::MarkInput;
        let (_dir, mut study) = checked_study();
        let path = study.root().join(crate::PROTOCOL_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            format!("{text}\n[lesions]\ncriterion = \"distance\"\nradius = 5\nunits = \"pixels\"\ntypes = [\"nodule\"]\n"),
        )
        .unwrap();
        study.amend("tester", "the panel marks lesions").unwrap();
        let reader = account(&mut study, "r1");
        let item_of =
            |study: &Study, case: &str| study.blinded_case(&reader, case).unwrap().0[0].id;
        let (first, second) = (item_of(&study, "C-001"), item_of(&study, "C-002"));
        let mark = |item: i64, lesion: &str| MarkInput {
            item,
            frame: 0,
            shape: "circle".into(),
            points: vec![[10.0, 12.0], [13.0, 16.0]],
            lesion_type: Some(lesion.into()),
            rating: None,
        };
        let wrong = study
            .add_mark(&reader, "C-001", mark(first, "mass"))
            .unwrap_err();
        assert!(
            wrong.to_string().contains("not one of the protocol's"),
            "{wrong}"
        );
        study
            .add_mark(&reader, "C-001", mark(first, "nodule"))
            .unwrap();
        study
            .record_read(&reader, "C-001", Some(Label::Positive), None)
            .unwrap();
        let marks = study.marks().unwrap();
        assert_eq!(marks.len(), 1);
        assert_eq!(marks[0].role, Some(kizon_vocab::ReadRole::Panel));
        assert_eq!(marks[0].reader.as_deref(), Some("R1"));
        assert_eq!(
            marks[0].shape,
            r#"{"shape":"circle","x":10.0,"y":12.0,"r":5.0}"#
        );
        assert_eq!(marks[0].lesion_type.as_deref(), Some("nodule"));
        study
            .add_mark(&reader, "C-002", mark(second, "nodule"))
            .unwrap();

        demo::settle_and_lock_dataset(&mut study, "tester").unwrap();
        let _ = demo::reference_to_analysis(&mut study, "tester");
        assert!(
            study
                .store
                .lock(crate::reference::REFERENCE)
                .unwrap()
                .is_some()
        );
        let late = study
            .add_mark(&reader, "C-002", mark(second, "nodule"))
            .unwrap_err();
        assert!(
            late.to_string().contains("reference standard is locked"),
            "{late}"
        );
        assert!(study.verify(None).unwrap().intact());
    }

    #[test]
    pub(super) fn a_reader_reads_only_assigned_cases_once_and_sees_no_metadata() {
        let (_dir, mut study) = checked_study();
        let reader = account(&mut study, "r1");
        let worklist = study.worklist(&reader).unwrap();
        // The assigned cases, in the reader's own random order ([reading] case_order's default),
        // derived from the seed the start of the session recorded.
        let order = study.derive_order("R1", "panel").unwrap();
        assert!(order.matches_recorded);
        assert_eq!(order.seed.len(), 32);
        let mut expected = vec!["C-001", "C-002"];
        expected.sort_by_key(|c| crate::reading::session_order_key(&order.seed, "R1", "panel", c));
        assert_eq!(
            worklist
                .iter()
                .map(|c| c.case_id.as_str())
                .collect::<Vec<_>>(),
            expected
        );
        assert!(matches!(
            study.item_page(&reader, &Default::default()),
            Err(AppError::Forbidden { .. })
        ));
        let (items, read) = study.blinded_case(&reader, "C-001").unwrap();
        assert!(read.is_none());
        assert_eq!(items.len(), 1);
        let shown = serde_json::to_string(&items).unwrap();
        assert_eq!(
            shown,
            format!(
                r#"[{{"id":{},"kind":"dicom","frames":1,"width":{},"height":{}}}]"#,
                items[0].id,
                items[0].width.unwrap(),
                items[0].height.unwrap()
            ),
            "ids, kinds and frame sizes only"
        );
        let (png, _) = study.item_png(&reader, items[0].id, 0, None).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        assert!(matches!(
            study.blinded_case(&reader, "C-050"),
            Err(AppError::NotFound { .. })
        ));
        assert!(matches!(
            study.record_read(&reader, "C-050", Some(Label::Positive), None),
            Err(AppError::NotFound { .. })
        ));
        assert!(
            study.record_read(&reader, "C-001", None, None).is_err(),
            "a read needs a label or a score"
        );

        let read = study
            .record_read(&reader, "C-001", Some(Label::Positive), Some(0.9))
            .unwrap();
        assert_eq!(read.label, Some(Label::Positive));
        let again = study
            .record_read(&reader, "C-001", Some(Label::Negative), None)
            .unwrap_err();
        assert!(again.to_string().contains("never replaced"), "{again}");
        // In Japanese too, with a hint that fits (not "choose another name").
        assert!(again.to_string().contains("読影済み"), "{again}");
        assert!(again.hint().contains("never replaced"), "{}", again.hint());
        assert!(!again.hint().contains("another name"), "{}", again.hint());
        let stored = study.reads().unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(
            (stored[0].reader.as_str(), &stored[0].role, stored[0].score),
            ("R1", &kizon_vocab::ReadRole::Panel, Some(0.9))
        );
        assert_eq!(
            study
                .worklist(&reader)
                .unwrap()
                .iter()
                .find(|c| c.case_id == "C-001")
                .and_then(|c| c.read.as_ref())
                .and_then(|r| r.label),
            Some(Label::Positive)
        );
        assert!(study.verify(None).unwrap().intact());

        // Readers' work closes with the reference lock.
        demo::settle_and_lock_dataset(&mut study, "tester").unwrap();
        demo::reference_to_analysis(&mut study, "tester").unwrap();
        let late = study
            .record_read(&reader, "C-002", Some(Label::Negative), None)
            .unwrap_err();
        assert!(
            late.to_string().contains("reference standard is locked"),
            "{late}"
        );
    }

    #[test]
    pub(super) fn the_overview_names_what_blocks_the_dataset_lock() {
        let (_dir, mut study) = checked_study();
        let stat = account(&mut study, "stat");
        let overview = study.overview(&stat).unwrap();
        let plan = overview
            .plan
            .as_ref()
            .expect("the demo's protocol gives a plan");
        assert_eq!(
            plan.test_type, "2(2)",
            "the demo links confirmed diagnoses (Q5)"
        );
        assert_eq!(plan.application_category, Some("改良医療機器（臨床あり）"));
        let dataset = overview.steps.iter().find(|s| s.key == "dataset").unwrap();
        assert_eq!(dataset.state, crate::workspace::StepState::Blocked);
        let open_blocking = study
            .findings()
            .unwrap()
            .iter()
            .filter(|f| f.is_unresolved_blocking())
            .count();
        assert_eq!(dataset.blockers.len(), open_blocking);
        assert!(open_blocking > 0);
        let results = overview.steps.iter().find(|s| s.key == "results").unwrap();
        assert_eq!(
            results.detail_en, "(visible after the locks)",
            "no counts of results before the locks"
        );
    }
}

/// A table of confirmed diagnoses handed over signed by the hospital is verified whole before
/// it is imported as the reference standard: one byte changed in it (a diagnosis turned), or
/// the manifest removed, is refused with nothing imported; as handed over, it is imported and
/// the hand-over recorded in the ledger.
#[test]
fn a_signed_pathology_hand_over_is_verified_before_its_diagnoses_are_imported() {
    let dir = tempfile::tempdir().unwrap();
    let (root, mut study) = checked_demo(dir.path());
    demo::settle_and_lock_dataset(&mut study, "tester").unwrap();
    let handover = root.join("demo-sources/received/handover-2026-11-pathology");
    let table = fs::read_dir(handover.join("files/tables"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let original = fs::read(&table).unwrap();
    let text = String::from_utf8(original.clone()).unwrap();
    let turned = text.replacen(",negative,benign,", ",positive,benign,", 1);
    assert_ne!(turned, text);
    fs::write(&table, turned).unwrap();
    let handovers = |study: &Study| {
        study
            .audit_log()
            .unwrap()
            .iter()
            .filter(|e| e.command == "handover")
            .count()
    };
    let before = handovers(&study);
    match study.import_reference("tester", &table) {
        Err(AppError::Refused { what, .. }) => {
            assert!(what.contains(&table.display().to_string()), "{what}")
        }
        other => panic!("{other:?}"),
    }
    assert!(study.store.reference_records().unwrap().is_empty());
    assert_eq!(handovers(&study), before);

    fs::write(&table, original).unwrap();
    // Removing the manifest does not turn the hand-over into unsigned files.
    let manifest = handover.join("handover.json");
    let kept = fs::read(&manifest).unwrap();
    fs::remove_file(&manifest).unwrap();
    assert!(study.import_reference("tester", &table).is_err());
    assert!(study.store.reference_records().unwrap().is_empty());
    fs::write(&manifest, kept).unwrap();
    let imported = study.import_reference("tester", &table).unwrap();
    assert_eq!(imported.new, 119);
    assert_eq!(handovers(&study), before + 1);
}

/// The demo stopped after `check` in `dir/demo` (findings open, nothing decided), opened
/// with its owner's key.
fn checked_demo(dir: &std::path::Path) -> (std::path::PathBuf, Study) {
    let root = dir.join("demo");
    let outcome = demo::demo_in(
        &root,
        "tester",
        false,
        demo::DemoStop::Checked,
        &dir.join("keys"),
    )
    .unwrap();
    let mut study = Study::open(&root).unwrap();
    study.set_owner_key(outcome.owner_key.unwrap());
    (root, study)
}

/// A decision for a whole rule is one row of the report's findings section, naming how many
/// findings and cases it decided, its reason, date and ledger entry; the findings it decided
/// are not listed one by one, and every other finding still is.
#[test]
fn the_report_shows_a_decision_for_a_whole_rule_as_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut study) = checked_demo(dir.path());
    let tallies = study.finding_rules().unwrap();
    let rule = tallies
        .iter()
        .filter(|t| t.unresolved >= 2)
        .max_by_key(|t| t.unresolved)
        .expect("a rule with several open findings")
        .rule
        .clone();
    let decided = study
        .resolve_rule(
            "tester",
            &rule,
            crate::check::Decision::Accept,
            crate::text::Reason::new("一括で確認済み", Some("checked together")),
        )
        .unwrap();
    assert!(decided.findings.len() >= 2);
    demo::settle_and_lock_dataset(&mut study, "tester").unwrap();
    demo::reference_to_analysis(&mut study, "tester").unwrap();
    let (report, _) = study.report_model("2026-12-03").unwrap();
    assert_eq!(
        report.rule_decisions.len(),
        1,
        "{:#?}",
        report.rule_decisions
    );
    let row = &report.rule_decisions[0];
    assert_eq!(row.rule, rule);
    assert_eq!(row.findings, decided.findings.len() as u64);
    assert!(row.cases >= 1);
    assert_eq!(row.reason.en, "checked together");
    assert_eq!(row.actor, "tester");
    let listed: Vec<String> = report.findings.iter().map(|f| f.id.clone()).collect();
    for id in &decided.findings {
        assert!(
            !listed.contains(&format!("#{id}")),
            "#{id} is in the rule's row"
        );
    }
    let all = study.findings().unwrap();
    assert_eq!(listed.len() + decided.findings.len(), all.len());
    let html = kizon_report::render_html(&report, kizon_report::Lang::En).unwrap();
    assert!(html.contains("Decisions for a whole rule") && html.contains("checked together"));
}

/// What the application attaches follows the Q&A in force on the report's date, not on the
/// protocol's: the 2025-03-17 revision waived the case list for 2(2) (Q10), so a 2(2) study
/// planned under the 2022 Q&A and reported now attaches none. The demo (2(2), planned
/// 2026-11-01) shows the mechanism from the other side: dated before the revision, the same
/// report would attach the case list under the Q&A then in force.
#[test]
fn the_case_list_follows_the_qa_in_force_on_the_report_date() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut study) = checked_demo(dir.path());
    demo::settle_and_lock_dataset(&mut study, "tester").unwrap();
    demo::reference_to_analysis(&mut study, "tester").unwrap();
    // The regulatory plan's line named `item` (in English).
    fn plan_line<'r>(report: &'r kizon_report::Report, item: &str) -> &'r kizon_report::PlanLine {
        let lines = &report.regulatory_plan.lines;
        lines
            .iter()
            .find(|l| l.item.en == item)
            .unwrap_or_else(|| panic!("no line {item}"))
    }
    let case_list_line =
        |report: &kizon_report::Report| plan_line(report, "Case list").value.en.clone();
    let (now, _) = study.report_model("2026-12-03").unwrap();
    assert_eq!(now.study.rules_version, "qa-2025-03-17");
    assert!(case_list_line(&now).starts_with("not required"));
    assert!(now.case_list.is_empty());
    let (before, _) = study.report_model("2025-03-16").unwrap();
    assert_eq!(before.study.rules_version, "qa-2022-12-08");
    assert!(case_list_line(&before).starts_with("required"));
    assert!(!before.case_list.is_empty());
    // The protocol consultation stays the one asked under the protocol's Q&A.
    assert_eq!(
        plan_line(&now, "Protocol consultation").value,
        plan_line(&before, "Protocol consultation").value
    );
    // The applicant's SDV decision (Q7), from the demo's protocol, with its reason.
    let sdv = plan_line(&now, "Source data verification (SDV)");
    assert_eq!(sdv.clause, "Q7");
    assert!(
        sdv.value
            .en
            .starts_with("on a sample of cases (The confirmed diagnosis")
    );
    assert!(sdv.value.ja.starts_with("一部の症例で行う（確定診断"));
}

/// Issue 18, point 5: the use cases above again, each study in a database of its own on a
/// throwaway PostgreSQL server (initdb/pg_ctl in a temporary folder), made through the same
/// `init` and demos. Left out, with why: `init_after_an_interrupted_init_completes` plants a
/// half-made SQLite file (its PostgreSQL counterpart is the `init` refusal tested on the
/// binary); `open_outside_a_study_says_so` and `each_role_has_exactly_its_permissions` make no
/// study;
/// `a_session_lives_from_login_to_logout_and_only_its_hash_is_stored` reads the SQLite file's
/// bytes for the raw token (the two-server test on the binary logs in and out on PostgreSQL).
#[test]
fn the_use_cases_pass_on_postgresql_too() {
    let server = kizon_store::throwaway::ThrowawayPostgres::start().unwrap();
    let made = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let (databases, made_there) = (std::rc::Rc::new(server), made.clone());
    crate::init::place_test_studies(Some(Box::new(move || {
        let url = databases.new_database().unwrap();
        made_there.borrow_mut().push(url.clone());
        crate::init::Placement {
            database: Some(url),
            objects: None,
        }
    })));
    let use_cases: [(&str, fn()); 17] = [
        (
            "init_writes_the_template_and_a_verifiable_ledger",
            init_writes_the_template_and_a_verifiable_ledger,
        ),
        ("init_twice_is_refused", init_twice_is_refused),
        (
            "init_keeps_a_protocol_the_user_already_wrote",
            init_keeps_a_protocol_the_user_already_wrote,
        ),
        (
            "evidence_is_stored_by_hash_and_fills_the_checklist",
            evidence_is_stored_by_hash_and_fills_the_checklist,
        ),
        (
            "evidence_for_an_unknown_provider_names_the_known_ones",
            evidence_for_an_unknown_provider_names_the_known_ones,
        ),
        (
            "locked_protocol_refuses_an_edited_file_until_amended",
            locked_protocol_refuses_an_edited_file_until_amended,
        ),
        ("amend_before_lock_is_refused", amend_before_lock_is_refused),
        (
            "invalid_protocol_cannot_be_locked",
            invalid_protocol_cannot_be_locked,
        ),
        (
            "plan_as_of_applies_the_revision_in_force_then",
            plan_as_of_applies_the_revision_in_force_then,
        ),
        (
            "demo_builds_a_locked_verified_2_2_study_and_refuses_to_clobber",
            demo_builds_a_locked_verified_2_2_study_and_refuses_to_clobber,
        ),
        (
            "acting_checks_the_permission_of_each_use_case_and_records_the_account",
            access_and_workspace::acting_checks_the_permission_of_each_use_case_and_records_the_account,
        ),
        (
            "results_are_refused_to_the_statistician_until_both_locks",
            access_and_workspace::results_are_refused_to_the_statistician_until_both_locks,
        ),
        (
            "panel_marks_go_with_the_read_and_close_with_the_reference_lock",
            access_and_workspace::panel_marks_go_with_the_read_and_close_with_the_reference_lock,
        ),
        (
            "a_reader_reads_only_assigned_cases_once_and_sees_no_metadata",
            access_and_workspace::a_reader_reads_only_assigned_cases_once_and_sees_no_metadata,
        ),
        (
            "the_overview_names_what_blocks_the_dataset_lock",
            access_and_workspace::the_overview_names_what_blocks_the_dataset_lock,
        ),
        (
            "a_signed_pathology_hand_over_is_verified_before_its_diagnoses_are_imported",
            a_signed_pathology_hand_over_is_verified_before_its_diagnoses_are_imported,
        ),
        (
            "the_report_shows_a_decision_for_a_whole_rule_as_one_row",
            the_report_shows_a_decision_for_a_whole_rule_as_one_row,
        ),
    ];
    let mut failed = Vec::new();
    for (name, use_case) in use_cases {
        let before = made.borrow().len();
        if std::panic::catch_unwind(use_case).is_err() {
            failed.push(name);
        } else if made.borrow().len() == before {
            // It passed, but not on PostgreSQL.
            failed.push(name);
        }
    }
    crate::init::place_test_studies(None);
    assert!(
        failed.is_empty(),
        "failed on PostgreSQL, or made no study there: {failed:?}"
    );
}
