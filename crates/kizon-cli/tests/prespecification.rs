//! What goes to PMDA must be pre-specified: after the device's results are in, the endpoints,
//! acceptance criteria, analysis sets and reference standard cannot be changed to follow them;
//! amendments show what changed key by key.

mod common;

use std::path::Path;

use common::*;

fn edit_protocol(root: &Path, from: &str, to: &str) {
    let path = root.join("study.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// With results imported and the primary endpoint judged, lowering its criterion from 0.80
/// to 0.30 and amending used to turn the report's verdict into a pass.
#[test]
fn a_criterion_loosened_after_the_results_is_refused() {
    let (_tmp, root) = demo_study();
    let log_before = kizon(&root, &["audit", "log", "--json"]).ok().json();
    edit_protocol(
        &root,
        "lower_bound_at_least = 0.80",
        "lower_bound_at_least = 0.30",
    );
    let run = kizon(&root, &["amend", "--reason", "criterion revised"]).failed();
    assert!(
        run.error_line().contains("the device's results are in")
            && run
                .error_line()
                .contains("endpoints[0].lower_bound_at_least: 0.8 → 0.3"),
        "{}",
        run.stderr
    );
    // Nothing was recorded, and the analysis still runs only on the locked protocol.
    let log_after = kizon(&root, &["audit", "log", "--json"]).ok().json();
    assert_eq!(log_before, log_after);
    kizon(&root, &["analyze"]).failed();
    // Excluding cases after the results is refused too.
    edit_protocol(
        &root,
        "lower_bound_at_least = 0.30",
        "lower_bound_at_least = 0.80",
    );
    let run = kizon(&root, &["amend", "--dataset", "--reason", "drop a case"]).failed();
    assert!(run.error_line().contains("analysis set"), "{}", run.stderr);
}

/// A change outside what is pre-specified is still an amendment, and the report lists it key
/// by key (old → new) in both languages, not as two hashes.
#[test]
fn amendments_show_their_key_level_changes() {
    let (_tmp, root) = demo_study();
    edit_protocol(
        &root,
        "intended_use = \"胸部CT画像における肺結節の検出支援\"\nintended_use_en = \"detection support of lung nodules on chest CT\"",
        "intended_use = \"胸部CT画像における肺結節の検出支援（成人）\"\nintended_use_en = \"detection support of lung nodules on adult chest CT\"",
    );
    kizon(&root, &["amend", "--reason", "wording of the intended use"]).ok();
    kizon(&root, &["analyze"]).ok();
    for lang in ["ja", "en"] {
        let html = report_html(&root, lang);
        assert!(html.contains("device.intended_use: "), "{lang}");
        assert!(html.contains("device.intended_use_en: "), "{lang}");
        assert!(html.contains("adult chest CT"), "{lang}");
        // The title page prints the intended use in the report's own language.
        let (title_page, _) = html.split_once("<h2").unwrap();
        match lang {
            "ja" => assert!(
                title_page.contains("肺結節の検出支援（成人）")
                    && !title_page.contains("adult chest CT"),
                "{lang}"
            ),
            _ => assert!(
                title_page.contains("adult chest CT") && !title_page.contains("検出支援"),
                "{lang}"
            ),
        }
    }
}

/// Results of another version than the protocol's, for half the dataset: the import says how
/// many cases have no result and raises the version as a finding; the report names the version
/// it analyses (it used to print the protocol's version above version 2's numbers) and counts
/// the cases without a result in the flow diagram.
#[test]
fn another_version_and_missing_results_are_said_and_shown() {
    let (_tmp, root) = demo_study();
    let results = kizon(&root, &["results", "list", "--json"]).ok().json();
    let results = results.as_array().unwrap();
    let half = &results[..results.len() / 2];
    let mut csv = String::from("case_id,label,score\n");
    for r in half {
        csv.push_str(&format!(
            "{},{},{}\n",
            r["case_id"].as_str().unwrap(),
            r["label"].as_str().unwrap_or(""),
            r["score"]
                .as_f64()
                .map(|s| s.to_string())
                .unwrap_or_default()
        ));
    }
    let file = root.join("v3.csv");
    std::fs::write(&file, csv).unwrap();
    let run = kizon(
        &root,
        &[
            "results",
            "import",
            file.to_str().unwrap(),
            "--device-version",
            "3.0",
        ],
    )
    .ok();
    let missing = results.len() - half.len();
    assert!(
        run.stdout.contains(&format!(
            "{missing} of the locked dataset's cases have no result of version 3.0"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("differs from the protocol's 2.0.0"),
        "{}",
        run.stdout
    );
    let findings = kizon(&root, &["findings", "--open", "--json"]).ok().json();
    assert!(
        findings
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "device-version-differs"),
        "{findings}"
    );
    kizon(&root, &["analyze", "--device-version", "3.0"]).ok();
    let html = report_html(&root, "en");
    assert!(html.contains("3.0"), "the analysed version");
    assert!(
        !html.contains(">2.0.0<"),
        "not the protocol's version as the tested one"
    );
    assert!(
        html.contains(&format!("n = {missing}")),
        "no device result in the flow"
    );
}

/// `kizon analyze | head -1` used to panic with a stack trace (broken pipe) in about 4 % of
/// runs; the output's reader going away now ends kizon quietly, every time.
#[test]
fn a_closed_pipe_ends_output_quietly() {
    let (_tmp, root) = demo_study();
    for _ in 0..20 {
        let run = output(
            std::process::Command::new("sh")
                .current_dir(&root)
                .env("KIZON_HOME", key_home())
                .env("KIZON_PASSPHRASE", PASSPHRASE)
                .arg("-c")
                .arg(format!(
                    "{KIZON} audit log | head -c 1 >/dev/null; {KIZON} items | head -n 1"
                ))
                .output()
                .unwrap(),
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(!run.stderr.contains("Broken pipe"), "{}", run.stderr);
    }
}

/// `PatientBirthDate` values used to be stored in kizon.sqlite and shown on item pages. Only
/// the age derived from them is kept: a probe over the whole database file, the WAL and every
/// output finds no birth date, in any of its spellings.
#[test]
fn no_birth_date_enters_the_database_or_any_output() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    for file in [
        "dicom/deid/GREYSCALE_IMAGE.dcm",
        "dicom/pydicom-data/MR2_UNCR.dcm",
        "dicom/pydicom/waveform_ecg.dcm",
    ] {
        let name = std::path::Path::new(file).file_name().unwrap();
        std::fs::copy(shared(file), data.join(name)).unwrap();
    }
    kizon(
        &root,
        &["ingest", "--provider", "H", data.to_str().unwrap()],
    )
    .ok();
    kizon(&root, &["check"]).ok();
    let items = kizon(&root, &["items", "--json"]).ok().stdout;
    let findings = kizon(&root, &["findings", "--json"]).ok().stdout;
    let mut probe: Vec<u8> = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            probe.extend(std::fs::read(&path).unwrap());
        }
    }
    probe.extend(items.as_bytes());
    probe.extend(findings.as_bytes());
    for born in [
        "19510829",
        "1951-08-29",
        "19500112",
        "1950-01-12",
        "19710123",
        "1971-01-23",
    ] {
        assert!(
            !probe.windows(born.len()).any(|w| w == born.as_bytes()),
            "{born} found"
        );
    }
    // The age survives, with where it came from; the attribute is still named as identifying.
    assert!(
        items.contains("\"patient_age_source\":\"birth-date\"")
            || items.contains("patient_age_years"),
        "{items}"
    );
    assert!(findings.contains("PatientBirthDate"), "{findings}");
}

/// Open warnings used to be missing from the report's section that says it lists the doubts,
/// and a second decision replaced the first; now every finding is there, open ones as open, and
/// a query to the provider stays beside the decision that followed it.
#[test]
fn every_finding_and_every_decision_is_in_the_report_and_the_package() {
    let (tmp, root) = demo_study();
    // An open finding: results of another version than the protocol's.
    let results = kizon(&root, &["results", "list", "--json"]).ok().json();
    let first = &results.as_array().unwrap()[0];
    let file = root.join("v3.csv");
    std::fs::write(
        &file,
        format!(
            "case_id,label,score\n{},{},{}\n",
            first["case_id"].as_str().unwrap(),
            first["label"].as_str().unwrap_or(""),
            first["score"]
                .as_f64()
                .map(|s| s.to_string())
                .unwrap_or_default()
        ),
    )
    .unwrap();
    kizon(
        &root,
        &[
            "results",
            "import",
            file.to_str().unwrap(),
            "--device-version",
            "3.0",
        ],
    )
    .ok();
    let open = kizon(&root, &["findings", "--open", "--json"]).ok().json();
    let open_id = open.as_array().unwrap()[0]["id"].as_i64().unwrap();
    // A decided finding decided again: a query to the provider, then the decision on its answer.
    let all = kizon(&root, &["findings", "--json"]).ok().json();
    let decided = all
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "accepted")
        .unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    kizon(
        &root,
        &[
            "resolve",
            &decided,
            "--query-provider",
            "--reason",
            "asked the hospital on 2026-11-30",
        ],
    )
    .ok();
    kizon(
        &root,
        &[
            "resolve",
            &decided,
            "--accept",
            "--reason",
            "the hospital confirmed the source record",
        ],
    )
    .ok();
    kizon(&root, &["analyze", "--device-version", "2.0.0"]).ok();
    let html = report_html(&root, "en");
    assert!(
        html.contains("asked the hospital on 2026-11-30"),
        "the query stays"
    );
    assert!(
        html.contains("the hospital confirmed the source record"),
        "the decision"
    );
    assert!(
        html.contains("Open (not yet decided)"),
        "open findings are listed"
    );
    // Table 2 gives the locked dataset's count beside the cases collected (121 and 116 used to
    // stand under one heading), and the English report holds no Japanese half of a criterion.
    assert!(
        html.contains("Cases in the locked dataset"),
        "dataset column"
    );
    assert!(
        !html.contains("2019年4月1日"),
        "the inclusion criterion's Japanese half"
    );
    // Rules by their names, not their codes.
    assert!(
        html.contains("the same patient in several cases · Q7"),
        "rule names"
    );
    assert!(!html.contains("same-patient · Q7"), "no rule codes");
    assert!(
        html.contains(&format!("#{open_id}")),
        "open finding #{open_id}"
    );
    let pkg = tmp.path().join("pkg");
    kizon(&root, &["package", "--out", pkg.to_str().unwrap()]).ok();
    let decisions = std::fs::read_to_string(pkg.join("findings/decisions.json")).unwrap();
    assert!(decisions.contains("asked the hospital on 2026-11-30"));
    assert!(decisions.contains("the hospital confirmed the source record"));
}

/// A folder named `山田太郎_0012345678` used to appear verbatim, with the server's absolute
/// path, in ten findings of the report. Paths are now relative to the folder given, and a
/// component that looks like a patient ID is shown as `[ID?]` and is a Q1 finding itself.
#[test]
fn paths_are_relative_and_id_like_names_are_a_q1_finding() {
    let (tmp, root) = study_with_provider();
    let export = tmp.path().join("export");
    let patient = export.join("山田太郎_0012345678").join("ct");
    copy_as(&patient, &[("dicom/deid/GREYSCALE_IMAGE.dcm", "a.dcm")]);
    kizon(
        &root,
        &["ingest", "--provider", "H", export.to_str().unwrap()],
    )
    .ok();
    let items = kizon(&root, &["items", "--json"]).ok().json();
    assert_eq!(items[0]["path"], "山田太郎_0012345678/ct/a.dcm");
    kizon(&root, &["check"]).ok();
    let findings = kizon(&root, &["findings", "--json"]).ok().stdout;
    assert!(findings.contains("identifying-path"), "{findings}");
    let messages: Vec<String> = serde_json::from_str::<serde_json::Value>(&findings)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| [f["message_ja"].to_string(), f["message_en"].to_string()])
        .collect();
    for message in &messages {
        assert!(!message.contains("山田太郎"), "{message}");
        assert!(!message.contains("0012345678"), "{message}");
        assert!(!message.contains(tmp.path().to_str().unwrap()), "{message}");
    }
    assert!(
        messages.iter().any(|m| m.contains("[ID?]/ct/a.dcm")),
        "{messages:?}"
    );
}

/// `ingest /data/hospA/../hospA/ct` used to re-add the same files as new cases; ingesting the
/// folder again without `--manifest` took `cases.csv` itself as data; both were accepted after
/// the dataset lock without a word.
#[test]
fn paths_are_canonical_manifests_are_not_data_and_the_lock_is_respected() {
    let (tmp, root) = study_with_provider();
    let hosp = tmp.path().join("hospA");
    let ct = hosp.join("ct");
    std::fs::create_dir_all(&ct).unwrap();
    for (i, f) in ["dicom/pydicom/CT_small.dcm", "dicom/pydicom/MR_small.dcm"]
        .iter()
        .enumerate()
    {
        std::fs::copy(shared(f), ct.join(format!("{i}.dcm"))).unwrap();
    }
    std::fs::write(ct.join("cases.csv"), "case_id,path\nC-1,0.dcm\nC-2,1.dcm\n").unwrap();
    let first = kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            "--manifest",
            ct.join("cases.csv").to_str().unwrap(),
            ct.to_str().unwrap(),
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(first["added"], 2, "{first}");
    let again = hosp.join("../hospA/ct");
    let run = kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            again.to_str().unwrap(),
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(
        (run["added"].as_u64(), run["cases_added"].as_u64()),
        (Some(0), Some(0)),
        "{run}"
    );
    assert!(
        run["skipped"].to_string().contains("a kizon manifest"),
        "{run}"
    );
    kizon(&root, &["lock", "protocol"]).ok();
    kizon(&root, &["check"]).ok();
    let findings = kizon(&root, &["findings", "--open", "--json"]).ok().json();
    for f in findings.as_array().unwrap() {
        let id = f["id"].as_i64().unwrap().to_string();
        kizon(
            &root,
            &["resolve", &id, "--accept", "--reason", "test data"],
        )
        .ok();
    }
    kizon(&root, &["lock", "dataset"]).ok();
    let run = kizon(&root, &["ingest", "--provider", "H", ct.to_str().unwrap()]).failed();
    assert!(
        run.error_line().contains("the dataset is locked"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--for-amendment"), "{}", run.stderr);
}

/// After `lock protocol` the checklist used to say 計画書 missing for every provider until the
/// protocol was added again as each provider's evidence: the locked protocol counts.
#[test]
fn the_locked_protocol_counts_as_each_providers_protocol() {
    let (_tmp, root) = study_with_provider();
    let status = |root: &Path| {
        let plan = kizon(root, &["plan", "--json"]).ok().json();
        plan["evidence_checklist"][0]["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "protocol")
            .map(|i| i["status"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(status(&root), "missing");
    kizon(&root, &["lock", "protocol"]).ok();
    assert_eq!(status(&root), "present");
}

/// A manifest saved as Shift_JIS used to fail with "stream did not contain valid UTF-8" and a
/// hint about the path; CP932 is read as such, 和暦 and slashed dates become ISO with the
/// original kept, and bytes that are neither name their line and byte.
#[test]
fn cp932_manifests_and_japanese_dates_are_read() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    copy_as(
        &data,
        &[
            ("dicom/pydicom/CT_small.dcm", "a.dcm"),
            ("dicom/pydicom/MR_small.dcm", "b.dcm"),
        ],
    );
    let text = "case_id,path,collection_date,diagnosis,部位\nC-1,a.dcm,令和6年4月1日,肺結節,胸部\nC-2,b.dcm,2024/4/2,正常,頭部\n";
    let (cp932, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable);
    let manifest = data.join("cases.csv");
    std::fs::write(&manifest, &cp932).unwrap();
    kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            "--manifest",
            manifest.to_str().unwrap(),
        ],
    )
    .ok();
    let conn = rusqlite::Connection::open(root.join("kizon.sqlite")).unwrap();
    let cases: Vec<String> = conn
        .prepare("SELECT collection_date || ' ' || diagnosis || ' ' || attributes FROM cases ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let cases = cases.join("\n");
    assert!(
        cases.contains("2024-04-01") && cases.contains("2024-04-02"),
        "{cases}"
    );
    assert!(
        cases.contains("令和6年4月1日"),
        "the original is kept: {cases}"
    );
    assert!(cases.contains("肺結節"), "{cases}");
    let mut bad = b"case_id,path\nC-3,".to_vec();
    bad.extend([0x82, 0xFF]);
    bad.extend(b".dcm\n");
    std::fs::write(&manifest, &bad).unwrap();
    let run = kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            "--manifest",
            manifest.to_str().unwrap(),
        ],
    )
    .failed();
    assert!(
        run.error_line().contains("cases.csv:2: byte"),
        "{}",
        run.stderr
    );
    assert!(
        run.error_line().contains("neither UTF-8 nor CP932"),
        "{}",
        run.stderr
    );
}

/// The plan says a 2(1) application needs a 症例一覧表 (Q10), and neither the report nor the
/// package had one: `kizon export case-list` writes it (UTF-8 with BOM or CP932, Japanese
/// headers), and the package carries it.
#[test]
fn the_case_list_is_exported_and_packaged() {
    let (tmp, root) = demo_study();
    let out = tmp.path().join("case-list.csv");
    kizon(
        &root,
        &["export", "case-list", "--out", out.to_str().unwrap()],
    )
    .ok();
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF]);
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "症例ID,データ提供元,データの種類,撮影日,採否,除外理由,参照標準,被験機器の結果,一致"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 121, "every case collected");
    assert!(
        rows.iter().any(|r| r[4] == "除外" && !r[5].is_empty()),
        "exclusions with reasons"
    );
    assert!(rows.iter().filter(|r| r[4] == "採用").count() >= 100);
    assert!(rows.iter().any(|r| r[8] == "一致"));
    let cp932 = tmp.path().join("case-list-sjis.csv");
    kizon(
        &root,
        &[
            "export",
            "case-list",
            "--out",
            cp932.to_str().unwrap(),
            "--encoding",
            "cp932",
        ],
    )
    .ok();
    let sjis_bytes = std::fs::read(&cp932).unwrap();
    let (decoded, _, bad) = encoding_rs::SHIFT_JIS.decode(&sjis_bytes);
    assert!(!bad);
    assert!(decoded.starts_with("症例ID,"));
    // Per-case device results (and reads) export the same way.
    let results_csv = tmp.path().join("results.csv");
    kizon(
        &root,
        &["export", "results", "--out", results_csv.to_str().unwrap()],
    )
    .ok();
    let text = String::from_utf8(std::fs::read(&results_csv).unwrap()[3..].to_vec()).unwrap();
    let results = kizon(&root, &["results", "list", "--json"]).ok().json();
    assert!(
        text.starts_with("症例ID,被験機器の版,判定,スコア"),
        "{text}"
    );
    assert_eq!(text.lines().count(), results.as_array().unwrap().len() + 1);
    let reads_csv = tmp.path().join("reads.csv");
    kizon(
        &root,
        &[
            "export",
            "reads",
            "--out",
            reads_csv.to_str().unwrap(),
            "--encoding",
            "cp932",
        ],
    )
    .ok();
    let pkg = tmp.path().join("pkg");
    kizon(&root, &["package", "--out", pkg.to_str().unwrap()]).ok();
    assert!(pkg.join("dataset/case-list.csv").is_file());
}

/// Issue 13.6: text given in two languages is stored as two fields and each report prints its
/// own: a decision's reason (`--reason` / `--reason-en`), the confirmed diagnosis's source
/// documents (`source_document` / `source_document_en`), the eligibility criteria and the
/// intended use (`{ ja, en }`, `intended_use_en`). A reason given in one language only is
/// printed as written in both, never cut at a slash.
#[test]
fn bilingual_text_is_two_fields_and_each_report_prints_its_language() {
    let (_tmp, root) = demo_study();
    kizon(
        &root,
        &[
            "resolve",
            "6",
            "--accept",
            "--reason",
            "同一患者の2検査は計画どおり（再確認）",
            "--reason-en",
            "two scans of one patient, by design (checked again)",
        ],
    )
    .ok();
    kizon(
        &root,
        &[
            "resolve",
            "7",
            "--accept",
            "--reason",
            "ratio of A/B / 比は計画どおり",
        ],
    )
    .ok();
    // The applicant's name in both languages (sponsor_en), through an amendment.
    edit_protocol(
        &root,
        "sponsor = \"Kizon Demo Medical K.K.\"",
        "sponsor = \"既存デモ医療株式会社\"\nsponsor_en = \"Kizon Demo Medical K.K.\"",
    );
    kizon(
        &root,
        &[
            "amend",
            "--reason",
            "申請者名の表記",
            "--reason-en",
            "the applicant's name",
        ],
    )
    .ok();
    kizon(&root, &["analyze"]).ok();
    let (ja, en) = (report_html(&root, "ja"), report_html(&root, "en"));
    for (ja_text, en_text) in [
        (
            "同一患者の2検査は計画どおり（再確認）",
            "two scans of one patient, by design (checked again)",
        ),
        (
            "識別情報を含むため除外",
            "identifying information in the image",
        ),
        ("病理診断報告書", "pathology report"),
        ("2年経過観察記録", "2-year follow-up record"),
        (
            "被験機器の学習に用いられたデータ",
            "data used to train the device",
        ),
        (
            "胸部CT画像における肺結節の検出支援",
            "detection support of lung nodules on chest CT",
        ),
    ] {
        assert!(
            ja.contains(ja_text) && !ja.contains(en_text),
            "ja: {ja_text} / {en_text}"
        );
        assert!(
            en.contains(en_text) && !en.contains(ja_text),
            "en: {ja_text} / {en_text}"
        );
    }
    // The title page names the applicant in the report's language.
    let title_page = |html: &str| html.split_once("<h2").unwrap().0.to_owned();
    assert!(title_page(&ja).contains("既存デモ医療株式会社"));
    assert!(!title_page(&ja).contains("Kizon Demo Medical K.K."));
    assert!(title_page(&en).contains("Kizon Demo Medical K.K."));
    assert!(!title_page(&en).contains("既存デモ医療株式会社"));
    // One language only: as written in both reports.
    for html in [&ja, &en] {
        assert!(html.contains("ratio of A/B / 比は計画どおり"));
    }
}

/// Issue 13.14: every CSV import takes `--encoding`. A CP932 manifest read as UTF-8 is refused
/// naming the line and byte, nothing written; read as CP932 it is ingested; an encoding kizon
/// does not read is a usage error that lists those it does.
#[test]
fn csv_imports_take_an_encoding() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    copy_as(&data, &[("dicom/pydicom/CT_small.dcm", "a.dcm")]);
    let text = "case_id,path,diagnosis\nC-1,a.dcm,肺結節\n";
    let (cp932, _, _) = encoding_rs::SHIFT_JIS.encode(text);
    let manifest = data.join("cases.csv");
    std::fs::write(&manifest, &cp932).unwrap();
    let ingest = |encoding: &str| {
        kizon(
            &root,
            &[
                "ingest",
                "--provider",
                "H",
                "--manifest",
                manifest.to_str().unwrap(),
                "--encoding",
                encoding,
            ],
        )
    };
    let head = head_seq(&root);
    let run = ingest("utf-8").failed();
    assert!(
        run.error_line().contains("cases.csv:2: byte")
            && run.error_line().contains("is not UTF-8 text"),
        "{}",
        run.stderr
    );
    assert_eq!(head_seq(&root), head, "nothing written");
    let run = ingest("ebcdic");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("utf-8, cp932"), "{}", run.stderr);
    ingest("shift_jis").ok();
    let diagnosis: String = rusqlite::Connection::open(root.join("kizon.sqlite"))
        .unwrap()
        .query_row("SELECT diagnosis FROM cases", [], |r| r.get(0))
        .unwrap();
    assert_eq!(diagnosis, "肺結節");
    // The other imports take it too.
    for command in [
        &["reads", "import", "x.csv", "--encoding", "cp932"][..],
        &["reference", "import", "x.csv", "--encoding", "cp932"],
        &[
            "results",
            "import",
            "x.csv",
            "--device-version",
            "1",
            "--encoding",
            "cp932",
        ],
        &[
            "marks",
            "import",
            "x.csv",
            "--reader",
            "R1",
            "--encoding",
            "cp932",
        ],
    ] {
        let run = kizon(&root, command);
        assert_ne!(run.code, 2, "{command:?}: {}", run.stderr);
    }
}

/// Issue 13.11: the 症例一覧表 as an Excel workbook, read back by an independent reader
/// (openpyxl, Debian's python3-openpyxl): the Japanese headers, one row per case collected, a
/// case id that looks like a formula kept as text, and an excluded case with its reason.
#[test]
fn the_case_list_is_an_excel_workbook() {
    let (tmp, root) = demo_study();
    let out = tmp.path().join("症例一覧表.xlsx");
    let run = kizon(
        &root,
        &["export", "case-list", "--out", out.to_str().unwrap()],
    )
    .ok();
    assert!(run.stdout.contains("121 rows"), "{}", run.stdout);
    let script = r#"
import json, sys, openpyxl
book = openpyxl.load_workbook(sys.argv[1])
sheet = book.active
rows = [[c.value for c in row] for row in sheet.iter_rows()]
print(json.dumps({"title": sheet.title, "rows": rows, "freeze": sheet.freeze_panes}, ensure_ascii=False))
"#;
    let python = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script, out.to_str().unwrap()])
        .output()
        .expect("run /usr/bin/python3 (Debian python3-openpyxl)");
    assert!(
        python.status.success(),
        "openpyxl could not read the workbook (install Debian python3-openpyxl): {}",
        String::from_utf8_lossy(&python.stderr)
    );
    let book: serde_json::Value = serde_json::from_slice(&python.stdout).unwrap();
    assert_eq!(book["title"], "症例一覧表");
    assert_eq!(book["freeze"], "A2");
    let rows = book["rows"].as_array().unwrap();
    assert_eq!(rows[0][0], "症例ID");
    assert_eq!(rows[0][8], "一致");
    assert_eq!(rows.len(), 1 + 121);
    let c005 = rows
        .iter()
        .find(|r| r[0] == "C-005")
        .expect("C-005 is listed");
    assert_eq!(c005[4], "除外");
    assert!(
        c005[5].as_str().unwrap().contains("収集日以降の取得"),
        "{c005:?}"
    );
    // The same rows as the CSV export.
    let csv_out = tmp.path().join("case-list.csv");
    kizon(
        &root,
        &["export", "case-list", "--out", csv_out.to_str().unwrap()],
    )
    .ok();
    let csv = std::fs::read_to_string(&csv_out).unwrap();
    assert_eq!(csv.lines().count(), rows.len());
    // --format wins over the extension.
    let forced = tmp.path().join("list.dat");
    kizon(
        &root,
        &[
            "export",
            "case-list",
            "--out",
            forced.to_str().unwrap(),
            "--format",
            "xlsx",
        ],
    )
    .ok();
    assert!(std::fs::read(&forced).unwrap().starts_with(b"PK\x03\x04"));
}

/// `resolve --exclude-case` after the dataset lock used to say "now excluded" while the locked
/// dataset kept the case, and after the results it changed nothing at all. Now: before the
/// results the decision is recorded and the command says the case leaves the dataset with
/// `amend --dataset`, and results are refused until it has; after the results an exclusion is
/// refused (the analysis set is pre-specified); a finding about no case cannot exclude one.
#[test]
fn an_exclusion_after_the_dataset_lock_waits_for_the_amendment_and_none_after_the_results() {
    let (tmp, root) = study_with_provider();
    kizon(tmp.path(), &["demo", "demo"]).ok();
    let images = demo_case_files(&tmp.path().join("demo"));
    let data = tmp.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    let mut manifest = String::from("case_id,path\n");
    for n in 1..=6 {
        let file = format!("c{:03}.dcm", 20 + n);
        std::fs::copy(&images[&format!("C-{:03}", 20 + n)], data.join(&file)).unwrap();
        manifest.push_str(&format!("C{n:02},{file}\n"));
    }
    // C07 is C01's file again: the same data as two cases (Q7).
    std::fs::copy(&images["C-021"], data.join("copy.dcm")).unwrap();
    manifest.push_str("C07,copy.dcm\n");
    std::fs::write(data.join("cases.csv"), manifest).unwrap();
    kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            "--manifest",
            data.join("cases.csv").to_str().unwrap(),
        ],
    )
    .ok();
    kizon(&root, &["check"]).ok();
    let findings = kizon(&root, &["findings", "--json"]).ok().json();
    let duplicate = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            let cases = f["case_ids"].as_array().unwrap();
            cases.iter().any(|c| c == "C07") && cases.iter().any(|c| c == "C01")
        })
        .expect("C07 duplicates C01")["id"]
        .as_i64()
        .unwrap()
        .to_string();
    kizon(
        &root,
        &["resolve", &duplicate, "--accept", "--reason", "checked"],
    )
    .ok();
    for open in findings.as_array().unwrap() {
        let id = open["id"].as_i64().unwrap().to_string();
        if id != duplicate {
            let _ = kizon(&root, &["resolve", &id, "--accept", "--reason", "checked"]);
        }
    }
    kizon(&root, &["lock", "protocol"]).ok();
    kizon(&root, &["lock", "dataset"]).ok();

    let run = kizon(
        &root,
        &[
            "resolve",
            &duplicate,
            "--exclude-case",
            "--case",
            "C07",
            "--reason",
            "C07 は C01 と同一",
        ],
    )
    .ok();
    assert!(
        run.stdout.contains("case C07 excluded")
            && run.stdout.contains("the locked dataset still holds C07")
            && run.stdout.contains("kizon amend --dataset"),
        "{}",
        run.stdout
    );
    let dataset = kizon(&root, &["dataset", "show", "--json"]).ok().json();
    assert!(
        dataset.to_string().contains("C07"),
        "still in the locked dataset"
    );
    kizon(&root, &["amend", "--dataset", "--reason", "C07 excluded"]).ok();
    let dataset = kizon(&root, &["dataset", "show", "--json"]).ok().json();
    assert!(
        !dataset["cases"].to_string().contains("\"C07\""),
        "{dataset}"
    );

    // Reads of an excluded case are refused (they used to be imported without a word).
    for code in ["R1", "R2", "R3"] {
        kizon(
            &root,
            &[
                "readers",
                "add",
                code,
                "--qualification",
                "放射線診断専門医",
                "--specialty",
                "chest",
                "--years",
                "10",
                "--independent",
            ],
        )
        .ok();
    }
    let reads_of = |cases: std::ops::RangeInclusive<u32>| {
        let mut reads = String::from("reader,case_id,label\n");
        for n in cases {
            let label = if n <= 3 { "positive" } else { "negative" };
            for r in ["R1", "R2", "R3"] {
                reads.push_str(&format!("{r},C{n:02},{label}\n"));
            }
        }
        let path = tmp.path().join("reads.csv");
        std::fs::write(&path, reads).unwrap();
        path
    };
    let refused = kizon(
        &root,
        &["reads", "import", reads_of(1..=7).to_str().unwrap()],
    )
    .failed();
    assert!(
        refused
            .error_line()
            .contains("`C07` is not in the locked dataset"),
        "{}",
        refused.stderr
    );
    kizon(
        &root,
        &["reads", "import", reads_of(1..=6).to_str().unwrap()],
    )
    .ok();
    kizon(&root, &["lock", "reference"]).ok();

    // A second exclusion (C01, the other half of the pair) waits for its amendment: results
    // are refused until it is made.
    kizon(
        &root,
        &[
            "resolve",
            &duplicate,
            "--exclude-case",
            "--case",
            "C01",
            "--reason",
            "C01 も除外",
        ],
    )
    .ok();
    let results_file = tmp.path().join("results.csv");
    let mut results = String::from("case_id,label\n");
    for n in 2..=6 {
        results.push_str(&format!(
            "C{n:02},{}\n",
            if n <= 3 { "positive" } else { "negative" }
        ));
    }
    std::fs::write(&results_file, results).unwrap();
    let import = [
        "results",
        "import",
        results_file.to_str().unwrap(),
        "--device-version",
        "1.0.0",
    ];
    let refused = kizon(&root, &import).failed();
    assert!(
        refused
            .error_line()
            .contains("exclude C01 from the locked dataset"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("kizon amend --dataset"),
        "{}",
        refused.stderr
    );
    kizon(&root, &["amend", "--dataset", "--reason", "C01 excluded"]).ok();
    // Both exclusions of the pair hold: the second does not bring C07 back.
    let dataset = kizon(&root, &["dataset", "show", "--json"]).ok().json();
    let cases = dataset["cases"].to_string();
    assert!(
        !cases.contains("\"C07\"") && !cases.contains("\"C01\""),
        "{dataset}"
    );
    // Each case keeps the reason of the decision that excluded it (the lock used to give both
    // the latest decision's reason).
    let list = tmp.path().join("list.csv");
    kizon(
        &root,
        &["export", "case-list", "--out", list.to_str().unwrap()],
    )
    .ok();
    let list = std::fs::read_to_string(&list).unwrap();
    let line = |case: &str| {
        list.lines()
            .find(|l| l.starts_with(&format!("{case},")))
            .unwrap_or_else(|| panic!("{case} is not listed"))
            .to_owned()
    };
    assert!(line("C07").contains("C07 は C01 と同一"), "{}", line("C07"));
    assert!(line("C01").contains("C01 も除外"), "{}", line("C01"));
    assert!(!line("C07").contains("C01 も除外"), "{}", line("C07"));
    kizon(&root, &import).ok();

    // After the results: an exclusion is refused, and nothing is recorded.
    let head = head_seq(&root);
    let late = kizon(
        &root,
        &["resolve", &duplicate, "--exclude-case", "--reason", "late"],
    )
    .failed();
    assert!(
        late.error_line().contains("the device's results are in"),
        "{}",
        late.stderr
    );
    assert!(
        late.stderr.contains("kizon deviation add"),
        "{}",
        late.stderr
    );
    assert_eq!(head_seq(&root), head);
}
