//! `kizon plan` end to end: the regulatory path for every combination of the deciding keys.

mod common;

use common::*;

#[test]
fn every_subcommand_has_help_with_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let top = kizon(tmp.path(), &["--help"]).ok();
    assert!(top.stdout.contains("Examples") && top.stdout.contains("kizon demo"));
    for args in [
        &["init", "--help"][..],
        &["plan", "--help"],
        &["provider", "add", "--help"],
        &["evidence", "add", "--help"],
        &["amend", "--help"],
        &["audit", "verify", "--help"],
        &["demo", "--help"],
    ] {
        let run = kizon(tmp.path(), args).ok();
        assert!(run.stdout.contains("Example"), "{args:?}: {}", run.stdout);
    }
}

#[test]
fn plan_json_has_the_fixed_keys_and_strings() {
    let (_tmp, root) = new_study();
    let plan = kizon(&root, &["plan", "--json"]).ok().json();
    assert_eq!(plan["test_type"], "2(1)");
    assert_eq!(plan["application_category"], "新医療機器");
    assert_eq!(plan["protocol_consultation"], "医療機器プロトコル相談 性能");
    assert_eq!(plan["reliability_consultation"], "全般相談");
    assert_eq!(plan["case_list_required"], true);
    assert!(plan["required_attachments"].is_array());
    assert!(plan["evidence_checklist"].is_array());
    assert_eq!(plan["rules_version"]["id"], "qa-2025-03-17");
    for flag in plan["flags"].as_array().unwrap() {
        for key in ["code", "clause", "message_ja", "message_en"] {
            assert!(flag[key].is_string(), "{flag}");
        }
    }
    assert!(
        plan["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["clause"].as_str().unwrap().starts_with('Q'))
    );
}

#[test]
fn plan_text_is_in_japanese_and_english() {
    let (_tmp, root) = new_study();
    let both = kizon(&root, &["plan"]).ok().stdout;
    assert!(
        both.contains("承認申請時の申請区分 / Application category: 新医療機器"),
        "{both}"
    );
    let ja = kizon(&root, &["plan", "--lang", "ja"]).ok().stdout;
    assert!(ja.contains("試験区分") && !ja.contains("Test type"));
    let en = kizon(&root, &["plan", "--lang", "en"]).ok().stdout;
    assert!(en.contains("Test type") && !en.contains("試験区分"));
}

/// Every combination of novelty × linked_clinical_info × reference_standard × privacy ×
/// correspondence_table: a contradiction is refused naming both keys; everything else gets the
/// path of Q4/Q10 (and Q11, Q4 flags) through the real binary.
#[test]
fn plan_gives_the_right_path_for_every_combination() {
    let (_tmp, root) = new_study();
    let (mut planned, mut refused) = (0, 0);
    for novelty in ["new", "improved", "generic"] {
        for linked in [false, true] {
            for reference in ["expert-panel", "comparator-method", "confirmed-diagnosis"] {
                for privacy in [
                    "identifiable",
                    "pseudonymized",
                    "anonymized",
                    "non-identifiable",
                ] {
                    for table in ["none", "at-provider", "at-applicant"] {
                        write_design(&root, novelty, linked, reference, privacy, table);
                        let run = kizon(&root, &["plan", "--json"]);
                        let contradiction = (reference == "confirmed-diagnosis" && !linked)
                            || (table == "at-applicant"
                                && matches!(privacy, "anonymized" | "non-identifiable"))
                            || (privacy == "anonymized" && table != "none")
                            || (privacy == "pseudonymized" && table == "none")
                            || (linked && privacy == "non-identifiable" && table == "none");
                        let case = format!("{novelty} {linked} {reference} {privacy} {table}");
                        if contradiction {
                            let run = run.failed();
                            let error = run.error_line();
                            assert!(
                                error.contains("contradicts")
                                    && error.matches("design.").count() == 2,
                                "{case}: {error}"
                            );
                            refused += 1;
                            continue;
                        }
                        let plan = run.ok().json();
                        planned += 1;
                        assert_eq!(
                            plan["test_type"],
                            if linked { "2(2)" } else { "2(1)" },
                            "{case}"
                        );
                        let category = match (novelty, linked) {
                            ("new", _) => serde_json::json!("新医療機器"),
                            ("improved", false) => serde_json::json!("改良医療機器（臨床なし）"),
                            ("improved", true) => serde_json::json!("改良医療機器（臨床あり）"),
                            _ => serde_json::Value::Null,
                        };
                        assert_eq!(plan["application_category"], category, "{case}");
                        assert_eq!(
                            plan["protocol_consultation"],
                            if linked {
                                "医療機器プロトコル相談 性能（既存の診療情報を用いる試験）"
                            } else {
                                "医療機器プロトコル相談 性能"
                            },
                            "{case}"
                        );
                        assert_eq!(plan["reliability_consultation"], "全般相談");
                        assert_eq!(plan["case_list_required"], !linked, "{case}");
                        let codes: Vec<&str> = plan["flags"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|f| f["code"].as_str().unwrap())
                            .collect();
                        assert_eq!(
                            codes.contains(&"Q11-ANONYMIZED-CONSULT-PMDA"),
                            privacy == "anonymized",
                            "{case}"
                        );
                        assert_eq!(
                            codes.contains(&"Q4-REPORT-AGREEMENT"),
                            reference == "comparator-method",
                            "{case}"
                        );
                        assert_eq!(
                            codes.contains(&"Q10-OUTSIDE-SCOPE"),
                            novelty == "generic",
                            "{case}"
                        );
                        assert_eq!(
                            codes.contains(&"Q5-TABLE-AT-PROVIDER-STAYS-2-1"),
                            !linked && table == "at-provider",
                            "{case}"
                        );
                    }
                }
            }
        }
    }
    assert_eq!((planned, refused), (3 * 37, 3 * 35));
}

#[test]
fn plan_as_of_before_the_revision_shows_the_old_answer() {
    let (_tmp, root) = new_study();
    write_design(
        &root,
        "improved",
        true,
        "confirmed-diagnosis",
        "pseudonymized",
        "at-provider",
    );
    let old = kizon(&root, &["plan", "--json", "--as-of", "2024-06-01"])
        .ok()
        .json();
    assert_eq!(old["rules_version"]["id"], "qa-2022-12-08");
    assert_eq!(old["protocol_consultation"], "ＰＭＤＡに確認すること");
    assert_eq!(old["case_list_required"], true);
    assert_eq!(old["application_category"], "改良医療機器（臨床あり）");
    let new = kizon(&root, &["plan", "--json", "--as-of", "2025-03-17"])
        .ok()
        .json();
    assert_eq!(new["rules_version"]["id"], "qa-2025-03-17");
    assert_eq!(new["case_list_required"], false);
    let before_any = kizon(&root, &["plan", "--as-of", "2021-10-01"]).failed();
    assert!(before_any.error_line().contains("2022-12-08"));
}

#[test]
fn plan_as_of_rejects_a_malformed_date() {
    let (_tmp, root) = new_study();
    let run = kizon(&root, &["plan", "--as-of", "2024-13-01"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("YYYY-MM-DD"), "{}", run.stderr);
}

#[test]
fn protocol_errors_name_file_line_and_column() {
    let (_tmp, root) = new_study();
    let text = std::fs::read_to_string(root.join("study.toml")).unwrap();
    std::fs::write(
        root.join("study.toml"),
        text.replace("privacy = ", "privacy_level = "),
    )
    .unwrap();
    let run = kizon(&root, &["plan"]).failed();
    let line = text
        .lines()
        .position(|l| l.starts_with("privacy = "))
        .unwrap()
        + 1;
    assert!(
        run.error_line().starts_with(&format!(
            "error: study.toml:{line}:1: unknown field `privacy_level`"
        )),
        "{}",
        run.stderr
    );

    std::fs::write(
        root.join("study.toml"),
        text.replace("data_kinds = [\"image\"]", "data_kinds = \"image\""),
    )
    .unwrap();
    let run = kizon(&root, &["plan"]).failed();
    let line = text
        .lines()
        .position(|l| l.starts_with("data_kinds"))
        .unwrap()
        + 1;
    assert!(
        run.error_line().contains(&format!("study.toml:{line}:14:")),
        "{}",
        run.stderr
    );
}

#[test]
fn outside_a_study_the_error_says_how_to_make_one() {
    let tmp = tempfile::tempdir().unwrap();
    let run = kizon(tmp.path(), &["plan"]).failed();
    assert!(run.stderr.contains("kizon init"));
}
