//! Residual specimens on the real binary: each specimen its own case (`kizon specimens
//! import`), the specimen doubts of `kizon check` (Q2, Q7) against the protocol's
//! `[specimens]`, and bad files refused whole with the line and column.

mod common;

use std::path::{Path, PathBuf};

use common::*;

const PLAN: &str = "
[specimens]
collection_start = 2026-04-01
unit = \"%\"
measuring_interval = [4.0, 18.5]
physiological_limits = [2.0, 25.0]
max_freeze_thaw = 1
max_hours_between_methods = 24
[specimens.hil]
haemolysis = 100
icterus = 20
lipaemia = 100
[specimens.stability.whole-blood]
room = \"8h\"
refrigerated = \"7d\"
";

const HEADER: &str = "specimen_id,specimen_type,barcode,collected_at,storage_temperature,freeze_thaw_cycles,haemolysis_index,icterus_index,lipaemia_index,comparator_analysed_at,comparator_value,comparator_unit,device_analysed_at,device_value,device_unit";

/// A 2(1) study of an HbA1c analyser against a comparator, with one provider `Lab`.
fn specimen_study() -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = new_study();
    write_design(
        &root,
        "new",
        false,
        "comparator-method",
        "non-identifiable",
        "none",
    );
    let protocol = std::fs::read_to_string(root.join("study.toml"))
        .unwrap()
        .replace("data_kinds = [\"image\"]", "data_kinds = [\"specimen\"]")
        + PLAN;
    std::fs::write(root.join("study.toml"), protocol).unwrap();
    add_provider(&root, "Lab").ok();
    (tmp, root)
}

fn write(dir: &Path, name: &str, rows: &[&str]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
    path
}

fn import(root: &Path, file: &Path) -> Run {
    kizon(
        root,
        &[
            "specimens",
            "import",
            file.to_str().unwrap(),
            "--provider",
            "Lab",
        ],
    )
}

fn findings(root: &Path) -> Vec<serde_json::Value> {
    kizon(root, &["findings", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .clone()
}

/// Each finding as `rule case` (one line per case it names), sorted, once each.
fn doubts(root: &Path) -> Vec<String> {
    let mut lines: Vec<String> = findings(root)
        .iter()
        .flat_map(|f| {
            let rule = f["rule"].as_str().unwrap().to_owned();
            f["case_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |c| format!("{rule} {}", c.as_str().unwrap()))
                .collect::<Vec<_>>()
        })
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

const GOOD: &str =
    "whole-blood,,2025-10-01 08:00,4,0,10,2,15,2025-10-02 09:00,6.5,%,2025-10-02 10:00,6.6,%";

/// Before: a CSV of four specimens was one item of one case, so the one value outside the
/// measuring interval excluded all four. Now each specimen is a case of its own, the finding
/// names only its case, and the dataset keeps the other three.
#[test]
fn one_value_outside_the_measuring_interval_excludes_only_its_specimen() {
    let (tmp, root) = specimen_study();
    let file = write(
        tmp.path(),
        "hba1c.csv",
        &[
            &format!("S-001,{GOOD}"),
            "S-002,whole-blood,,2025-10-01 08:00,4,0,10,2,15,2025-10-02 09:00,6.9,%,2025-10-02 10:00,19.2,%",
            "S-003,whole-blood,,2025-10-01 09:00,4,0,12,2,15,2025-10-02 09:00,7.4,%,2025-10-02 10:00,7.5,%",
            "S-004,whole-blood,,2025-10-01 10:00,4,0,11,3,16,2025-10-02 09:00,8.1,%,2025-10-02 10:00,8.0,%",
        ],
    );
    let run = import(&root, &file).ok();
    assert!(run.stdout.contains("4 new specimens"), "{}", run.stdout);
    kizon(&root, &["check"]).ok();
    let all = findings(&root);
    let blocking: Vec<&serde_json::Value> =
        all.iter().filter(|f| f["severity"] == "blocking").collect();
    assert_eq!(blocking.len(), 1, "{all:#?}");
    assert_eq!(blocking[0]["rule"], "specimen-implausible");
    assert_eq!(blocking[0]["clause"], "Q7");
    assert_eq!(blocking[0]["case_ids"], serde_json::json!(["S-002"]));
    assert!(
        blocking[0]["message_en"]
            .as_str()
            .unwrap()
            .contains("the device's value 19.2 is outside the measuring interval [4, 18.5]"),
        "{}",
        blocking[0]
    );
    let id = blocking[0]["id"].to_string();
    kizon(
        &root,
        &[
            "resolve",
            &id,
            "--exclude-case",
            "--reason",
            "測定範囲外",
            "--reason-en",
            "beyond the measuring interval",
        ],
    )
    .ok();
    kizon(&root, &["lock", "protocol"]).ok();
    kizon(&root, &["lock", "dataset"]).ok();
    let shown = kizon(&root, &["dataset", "show", "--json"]).ok().json();
    assert_eq!(shown["locked"], true);
    let dataset = &shown["dataset"];
    let cases: Vec<&str> = dataset["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(cases, ["S-001", "S-003", "S-004"], "{dataset}");
    assert_eq!(dataset["excluded"][0]["case_id"], "S-002");
    // Each specimen case holds its one record, hashed into the Merkle root.
    assert_eq!(dataset["cases"][0]["items"][0]["kind"], "specimen");
    // After the lock, more specimens are refused with the way forward.
    let more = write(tmp.path(), "more.csv", &[&format!("S-005,{GOOD}")]);
    let run = import(&root, &more).failed();
    assert!(
        run.error_line().contains("the dataset is locked"),
        "{}",
        run.stderr
    );
}

/// Every specimen doubt the issue lists, planted once each in one laboratory export, is found
/// on its specimen and no other, naming its Q&A item.
#[test]
fn every_planted_specimen_doubt_is_found_on_its_specimen() {
    let (tmp, root) = specimen_study();
    let file = write(
        tmp.path(),
        "export.csv",
        &[
            // A clean specimen, and one sharing its barcode.
            "S-01,whole-blood,BC-1,2025-10-01 08:00,4,0,10,2,15,2025-10-02 09:00,6.5,%,2025-10-02 10:00,6.6,%",
            "S-02,whole-blood,BC-1,2025-10-01 08:10,4,0,10,2,15,2025-10-02 09:00,6.1,%,2025-10-02 10:00,6.2,%",
            // Collected after the study's collection start (Q2), and with no date at all.
            "S-03,whole-blood,,2026-05-01 08:00,4,0,10,2,15,2026-05-02 09:00,6.5,%,2026-05-02 10:00,6.7,%",
            "S-04,whole-blood,,,4,0,10,2,15,2025-10-02 09:00,6.3,%,2025-10-02 10:00,6.4,%",
            // Haemolysed; icteric.
            "S-05,whole-blood,,2025-10-01 08:00,4,0,250,2,15,2025-10-02 09:00,5.9,%,2025-10-02 10:00,6.0,%",
            "S-06,whole-blood,,2025-10-01 08:00,4,0,10,40,15,2025-10-02 09:00,5.8,%,2025-10-02 10:00,5.7,%",
            // Twelve hours at room temperature, beyond the 8 h of whole blood.
            "S-07,whole-blood,,2025-10-01 08:00,室温,0,10,2,15,2025-10-01 20:00,7.2,%,2025-10-01 20:30,7.1,%",
            // Analysed before it was collected.
            "S-08,whole-blood,,2025-10-03 08:00,4,0,10,2,15,2025-10-02 09:00,7.0,%,2025-10-03 10:00,7.1,%",
            // Three freeze–thaw cycles; the methods run three days apart.
            "S-09,whole-blood,,2025-10-01 08:00,4,3,10,2,15,2025-10-02 09:00,8.2,%,2025-10-02 10:00,8.3,%",
            "S-10,whole-blood,,2025-10-01 08:00,4,0,10,2,15,2025-10-02 09:00,8.4,%,2025-10-05 09:00,8.5,%",
            // Another unit; a censored value above the measuring interval; a value no patient has.
            "S-11,whole-blood,,2025-10-01 08:00,4,0,10,2,15,2025-10-02 09:00,6.8,%,2025-10-02 10:00,51,mmol/mol",
            "S-12,whole-blood,,2025-10-01 08:00,4,0,10,2,15,2025-10-02 09:00,>18.5,%,2025-10-02 10:00,18.4,%",
            "S-13,whole-blood,,2025-10-01 08:00,4,0,10,2,15,2025-10-02 09:00,1.2,%,2025-10-02 10:00,6.0,%",
            // Two specimens whose every result is the same to the last digit.
            "S-14,whole-blood,,2025-10-01 08:00,4,0,13,3,17,2025-10-02 09:00,7.13,%,2025-10-02 10:00,7.21,%",
            "S-15,whole-blood,,2025-10-01 09:00,4,0,13,3,17,2025-10-02 09:00,7.13,%,2025-10-02 10:00,7.21,%",
            // Serum kept deep-frozen: the protocol states no stability for it.
            "S-16,serum,,2025-10-01 08:00,-80,0,10,2,15,2025-10-20 09:00,6.6,%,2025-10-20 10:00,6.5,%",
        ],
    );
    import(&root, &file).ok();
    kizon(&root, &["check"]).ok();
    assert_eq!(
        doubts(&root),
        [
            "identical-results S-14",
            "identical-results S-15",
            "same-specimen S-01",
            "same-specimen S-02",
            "specimen-chronology S-07",
            "specimen-chronology S-08",
            "specimen-chronology S-09",
            "specimen-chronology S-10",
            "specimen-chronology S-16",
            "specimen-existing S-03",
            "specimen-existing S-04",
            "specimen-implausible S-11",
            "specimen-implausible S-12",
            "specimen-implausible S-13",
            "specimen-interference S-05",
            "specimen-interference S-06",
        ]
    );
    let all = findings(&root);
    let of = |case: &str| -> Vec<&serde_json::Value> {
        all.iter()
            .filter(|f| f["case_ids"].as_array().unwrap().iter().any(|c| c == case))
            .collect()
    };
    let message = |case: &str| {
        of(case)
            .iter()
            .map(|f| f["message_en"].as_str().unwrap())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    assert_eq!(of("S-03")[0]["clause"], "Q2");
    assert!(message("S-03").contains("on or after the study's collection start 2026-04-01"));
    // Q2 lets a specimen collected after the start count as existing if it had been collected
    // when its case was: with no case collection date to tell, a warning asking for one.
    assert_eq!(of("S-03")[0]["severity"], "warning");
    assert!(message("S-04").contains("no collection date"));
    assert!(message("S-07").contains("12 h after collection, beyond the stability of whole blood stored at room temperature (8 h)"), "{}", message("S-07"));
    assert!(message("S-08").contains("before the collection"));
    assert!(message("S-09").contains("3 freeze–thaw cycles, more than the 1 allowed"));
    assert!(
        message("S-10").contains("run 3 d apart"),
        "{}",
        message("S-10")
    );
    assert!(message("S-11").contains("unit `mmol/mol` is not the protocol's `%`"));
    assert!(message("S-12").contains(">18.5 is outside the measuring interval"));
    assert!(message("S-13").contains("outside the physiological limits [2, 25]"));
    assert!(message("S-05").contains("haemolysis index 250 is above the limit 100"));
    assert_eq!(of("S-16")[0]["severity"], "warning");
    assert_eq!(of("S-14")[0]["severity"], "warning");
    assert_eq!(of("S-01")[0]["severity"], "blocking");
    assert!(message("S-01").contains("BC-1"));
    // The findings read in Japanese too, in the Q&A's terms.
    assert!(
        of("S-03")[0]["message_ja"]
            .as_str()
            .unwrap()
            .contains("症例の収集時に既に採取されていれば既存の検体として扱える")
    );
    // A second check finds nothing new.
    let again = kizon(&root, &["check", "--json"]).ok().json();
    assert_eq!(again["new_findings"], 0, "{again}");
}

/// Q2 judges each specimen against its own case: collected after the study began collecting but
/// before its case was collected for the test, it is existing data (a blocking "not existing"
/// finding used to exclude exactly such specimens); drawn after its case was collected, it was
/// taken for the test and is not. The case's collection date goes to the case list as well.
#[test]
fn a_specimen_is_existing_when_it_was_collected_before_its_case() {
    let (tmp, root) = specimen_study();
    let file = tmp.path().join("dated.csv");
    std::fs::write(
        &file,
        "specimen_id,specimen_type,collected_at,collection_date,comparator_analysed_at,comparator_value,comparator_unit,device_analysed_at,device_value,device_unit
         S-21,whole-blood,2026-05-01 08:00,2026-05-02,2026-05-01 12:00,6.5,%,2026-05-01 13:00,6.6,%
         S-22,whole-blood,2026-05-05 08:00,2026-05-03,2026-05-05 12:00,6.1,%,2026-05-05 13:00,6.2,%
",
    )
    .unwrap();
    import(&root, &file).ok();
    kizon(&root, &["check"]).ok();
    let all = findings(&root);
    let existing: Vec<&serde_json::Value> = all
        .iter()
        .filter(|f| f["rule"] == "specimen-existing")
        .collect();
    assert_eq!(existing.len(), 1, "{existing:#?}");
    assert_eq!(existing[0]["case_ids"][0], "S-22");
    assert_eq!(existing[0]["severity"], "blocking");
    assert_eq!(existing[0]["clause"], "Q2");
    assert!(
        existing[0]["message_en"]
            .as_str()
            .unwrap()
            .contains("after its case was collected for the test on 2026-05-03"),
        "{existing:#?}"
    );
    let listed = kizon(&root, &["specimens", "list", "--json"]).ok().json();
    assert_eq!(listed[0]["record"]["case_collection_date"], "2026-05-02");
    // A collection date that is no calendar date is refused with its line and column.
    let bad = tmp.path().join("bad.csv");
    std::fs::write(
        &bad,
        "specimen_id,specimen_type,collection_date
S-23,whole-blood,2026-02-30
",
    )
    .unwrap();
    let run = import(&root, &bad).failed();
    assert!(
        run.error_line().contains("collection_date") && run.error_line().contains("2026-02-30"),
        "{}",
        run.stderr
    );
}

/// A CP932 export with Japanese words (血清, 冷蔵, 陽性) and 和暦 dates reads as the same
/// records; importing it again adds nothing; a changed record is refused, nothing replaced.
#[test]
fn a_cp932_export_imports_and_evidence_is_never_replaced() {
    let (tmp, root) = specimen_study();
    let text = "specimen_id,case_id,specimen_type,collected_at,storage_temperature,comparator_value,comparator_unit,comparator_result,device_value,device_unit,device_result\n\
                検体-1,C-1,血清,R7.10.1 8:30,冷蔵,6.5,%,陽性,6.6,%,陽性\n\
                \n\
                検体-2,C-2,全血,2025/10/01 09:00,−20℃,5.1,%,陰性,5.0,%,陰性\n";
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(text);
    let file = tmp.path().join("検体一覧.csv");
    std::fs::write(&file, &bytes).unwrap();
    import(&root, &file).ok();
    let listed = kizon(&root, &["specimens", "list", "--json"]).ok().json();
    assert_eq!(listed[0]["case_id"], "C-1");
    let record = &listed[0]["record"];
    assert_eq!(record["specimen_id"], "検体-1");
    assert_eq!(record["specimen_type"], "serum");
    assert_eq!(record["collected_at"], "2025-10-01T08:30:00");
    assert_eq!(record["storage"], "refrigerated");
    assert_eq!(record["comparator"]["judgement"], "positive");
    assert_eq!(listed[1]["record"]["storage"], "frozen");
    assert_eq!(listed[1]["record"]["storage_celsius"], -20.0);
    assert_eq!(listed[0]["path"], "検体一覧.csv:2");

    let before = head_seq(&root);
    let run = import(&root, &file).ok();
    assert!(
        run.stdout
            .contains("0 new specimens (each its own case), 2 already recorded"),
        "{}",
        run.stdout
    );
    assert_eq!(head_seq(&root), before);

    // The second specimen, after a blank line, changed: refused naming its own line.
    let changed = text.replace("5.0,%,陰性", "5.2,%,陰性");
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&changed);
    std::fs::write(&file, &bytes).unwrap();
    let run = import(&root, &file).failed();
    assert!(
        run.error_line().contains("検体一覧.csv:4")
            && run
                .error_line()
                .contains("imported earlier with another record"),
        "{}",
        run.stderr
    );
    assert_eq!(head_seq(&root), before);

    // Another specimen under a case id that exists already is refused: a specimen is a case.
    let other = tmp.path().join("other.csv");
    std::fs::write(
        &other,
        "specimen_id,case_id,specimen_type\n検体-9,C-1,serum\n",
    )
    .unwrap();
    let run = import(&root, &other).failed();
    assert!(
        run.error_line().contains("other.csv:2: column `case_id`")
            && run.error_line().contains("holds specimen `検体-1` already"),
        "{}",
        run.stderr
    );
    assert_eq!(head_seq(&root), before);
}

/// Every malformed file is refused with its line and column, and nothing is stored: not the
/// good rows before the bad one, not the file.
#[test]
fn a_malformed_specimen_file_names_line_and_column_and_stores_nothing() {
    let (tmp, root) = specimen_study();
    let before = head_seq(&root);
    let good = format!("S-001,{GOOD}");
    let cases: [(&str, String, &str); 7] = [
        (
            "type",
            "S-002,blood,,2025-10-01 08:00,4,0,10,2,15,,,,,,".into(),
            "bad.csv:3: column `specimen_type`",
        ),
        (
            "value",
            "S-002,serum,,2025-10-01 08:00,4,0,10,2,15,,6.5%,%,,,".into(),
            "bad.csv:3: column `comparator_value`",
        ),
        (
            "date",
            "S-002,serum,,2025-10-32 08:00,4,0,10,2,15,,,,,,".into(),
            "bad.csv:3: column `collected_at`",
        ),
        (
            "future",
            "S-002,serum,,2099-01-01 08:00,4,0,10,2,15,,,,,,".into(),
            "bad.csv:3: column `collected_at`",
        ),
        (
            "temperature",
            "S-002,serum,,2025-10-01 08:00,cold,0,10,2,15,,,,,,".into(),
            "bad.csv:3: column `storage_temperature`",
        ),
        (
            "cycles",
            "S-002,serum,,2025-10-01 08:00,4,-1,10,2,15,,,,,,".into(),
            "bad.csv:3: column `freeze_thaw_cycles`",
        ),
        (
            "twice",
            format!("S-001,{GOOD}"),
            "bad.csv:3: column `case_id`",
        ),
    ];
    for (what, bad, expected) in cases {
        let file = write(tmp.path(), "bad.csv", &[&good, &bad]);
        let run = import(&root, &file).failed();
        assert!(
            run.error_line().contains(expected),
            "{what}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("hint:"), "{what}: {}", run.stderr);
        assert_eq!(head_seq(&root), before, "{what}: something was stored");
    }
    // A missing required column names the column and the header line.
    let file = tmp.path().join("no-type.csv");
    std::fs::write(&file, "specimen_id,collected_at\nS-1,2025-10-01\n").unwrap();
    let run = import(&root, &file).failed();
    assert!(
        run.error_line()
            .contains("no-type.csv:1: column `specimen_type`"),
        "{}",
        run.stderr
    );
    // An unknown provider is named with the known ones.
    let file = write(tmp.path(), "ok.csv", &[&good]);
    let run = kizon(
        &root,
        &[
            "specimens",
            "import",
            file.to_str().unwrap(),
            "--provider",
            "Nobody",
        ],
    )
    .failed();
    assert!(run.error_line().contains("Nobody"), "{}", run.stderr);
    assert!(
        run.stderr.contains("Lab"),
        "the known providers are named: {}",
        run.stderr
    );
    assert_eq!(head_seq(&root), before);
    let listed = kizon(&root, &["specimens", "list", "--json"]).ok().json();
    assert_eq!(listed, serde_json::json!([]));
}

/// The correlation study end to end: 60 specimens of mcr's fixture `proportional-60` imported,
/// checked, locked; the comparator's and device's judgements at 50 as the reference standard
/// and the results; `kizon analyze` gives each pre-specified `[[method_comparison]]` with
/// R mcr's estimates and intervals (tools/oracle/method_comparison.R), a censored specimen
/// listed as not analysed, and the acceptance criteria judged on the intervals.
#[test]
fn analyze_gives_the_pre_specified_method_comparisons_as_mcr_does() {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../kizon-stats/tests/fixtures/method_comparison_mcr.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let case = fixture["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "proportional-60" && c["level"] == 0.95)
        .unwrap();
    let values = |k: &str| -> Vec<f64> {
        case[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let (x, y) = (values("x"), values("y"));

    let (tmp, root) = new_study();
    write_design(
        &root,
        "new",
        false,
        "comparator-method",
        "non-identifiable",
        "none",
    );
    let protocol = std::fs::read_to_string(root.join("study.toml"))
        .unwrap()
        .replace("data_kinds = [\"image\"]", "data_kinds = [\"specimen\"]")
        + "\n[[endpoints]]\nid = \"ppa\"\nprimary = true\nmetric = \"ppa\"\nci = \"wilson\"\n\
           \n[specimens]\ncollection_start = 2026-04-01\n\
           \n[[method_comparison]]\nid = \"deming\"\nmethod = \"deming\"\n\
           decision_points = [10, 50, 90]\nslope_ci_within = [0.9, 1.1]\nbias_within = [-10, 10]\n\
           \n[[method_comparison]]\nid = \"pb\"\nmethod = \"passing-bablok\"\n\
           slope_ci_within = [0.95, 1.05]\n\
           \n[[method_comparison]]\nid = \"ba\"\nmethod = \"bland-altman\"\n";
    std::fs::write(root.join("study.toml"), protocol).unwrap();
    add_provider(&root, "Lab").ok();
    let label = |v: f64| if v >= 50.0 { "positive" } else { "negative" };
    let mut specimens = String::from(
        "specimen_id,specimen_type,collected_at,comparator_value,comparator_result,device_value,device_result\n",
    );
    let mut comparator = String::from("case_id,label\n");
    let mut device = String::from("case_id,label,score\n");
    for (i, (x, y)) in x.iter().zip(&y).enumerate() {
        let id = format!("S{i:03}");
        specimens.push_str(&format!(
            "{id},serum,2025-10-01 08:00,{x},{},{y},{}\n",
            label(*x),
            label(*y)
        ));
        comparator.push_str(&format!("{id},{}\n", label(*x)));
        device.push_str(&format!("{id},{},{y}\n", label(*y)));
    }
    // A specimen whose device result is above what the analyser reports: not analysed.
    specimens.push_str("S999,serum,2025-10-01 08:00,120,positive,>100,positive\n");
    comparator.push_str("S999,positive\n");
    device.push_str("S999,positive,\n");
    let dir = tmp.path();
    std::fs::write(dir.join("specimens.csv"), specimens).unwrap();
    std::fs::write(dir.join("comparator.csv"), comparator).unwrap();
    std::fs::write(dir.join("device.csv"), device).unwrap();
    import(&root, &dir.join("specimens.csv")).ok();
    kizon(&root, &["check"]).ok();
    kizon(&root, &["lock", "protocol"]).ok();
    kizon(&root, &["lock", "dataset"]).ok();
    kizon(
        &root,
        &[
            "reference",
            "import",
            dir.join("comparator.csv").to_str().unwrap(),
        ],
    )
    .ok();
    kizon(&root, &["lock", "reference"]).ok();
    kizon(
        &root,
        &[
            "results",
            "import",
            dir.join("device.csv").to_str().unwrap(),
            "--device-version",
            "1",
        ],
    )
    .ok();
    let run = kizon(&root, &["analyze"]).ok();
    assert!(
        run.stdout
            .contains("method comparison / 相関性試験 deming (deming, n = 60, 1 not analysed)"),
        "{}",
        run.stdout
    );
    let analysis = kizon(&root, &["analyze", "--json"]).ok().json();
    let comparisons = analysis["method_comparisons"].as_array().unwrap();
    let close = |ours: &serde_json::Value, theirs: &serde_json::Value, what: &str| {
        let (a, b) = (ours.as_f64().unwrap(), theirs.as_f64().unwrap());
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{what}: kizon {a}, mcr {b}"
        );
    };
    let by_id = |id: &str| comparisons.iter().find(|c| c["id"] == id).unwrap();
    for (id, oracle) in [("deming", "deming"), ("pb", "passing_bablok")] {
        let ours = &by_id(id)["statistics"];
        let theirs = &case[oracle];
        for key in ["slope", "intercept"] {
            close(&ours[key], &theirs[key], &format!("{id} {key}"));
        }
        for key in ["slope_ci", "intercept_ci"] {
            for k in 0..2 {
                close(&ours[key][k], &theirs[key][k], &format!("{id} {key}[{k}]"));
            }
        }
    }
    let deming = by_id("deming");
    for (k, point) in case["deming"]["bias_at"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        close(
            &deming["statistics"]["bias_at"][k]["bias"],
            &point["bias"],
            "deming bias",
        );
        close(
            &deming["statistics"]["bias_at"][k]["bias_ci"][1],
            &point["bias_ci"][1],
            "deming bias CI",
        );
    }
    let ba = &by_id("ba")["statistics"];
    close(
        &ba["bias"],
        &case["bland_altman"]["bias"],
        "Bland–Altman bias",
    );
    close(
        &ba["loa"][0],
        &case["bland_altman"]["loa"][0],
        "Bland–Altman lower LoA",
    );
    // mcr's Deming slope CI [1.032, 1.140] reaches past 1.1: the criterion fails.
    assert_eq!(deming["pass"], false);
    let slope = &deming["criteria"][0];
    assert_eq!(
        (slope["quantity"].as_str(), slope["pass"].as_bool()),
        (Some("slope"), Some(false))
    );
    assert_eq!(
        deming["criteria"].as_array().unwrap().len(),
        4,
        "the slope and the bias at 3 points"
    );
    assert_eq!(
        by_id("ba")["pass"],
        serde_json::Value::Null,
        "no criterion, no verdict"
    );
    assert_eq!(
        deming["not_analysed"],
        serde_json::json!([{ "case_id": "S999", "reason": "device value >100 is censored" }])
    );
    assert_eq!(deming["pairs"].as_array().unwrap().len(), 60);
    // The fitted line's band: at the decision point 50 it is mcr's interval of the predicted
    // value (50 + the bias interval); Passing–Bablok has none.
    let band = deming["band"].as_array().unwrap();
    assert!(band.len() > 40, "a grid and the decision points");
    let at_50 = band.iter().find(|p| p[0] == 50.0).expect("the band at 50");
    let mcr_50 = &case["deming"]["bias_at"][1];
    assert_eq!(mcr_50["level"], 50);
    for k in 0..2 {
        let expected = serde_json::json!(50.0 + mcr_50["bias_ci"][k].as_f64().unwrap());
        close(&at_50[k + 1], &expected, "the band at 50");
    }
    assert!(by_id("pb").get("band").is_none());
    // The device's values came as scores too; against a comparator they make no ROC curve
    // (which the report used to refuse to render: "Auc needs a reference standard").
    assert_eq!(analysis["roc"], serde_json::Value::Null);

    // The report's correlation study, in both languages: the estimates as analysed, the
    // criteria with their verdicts, the two figures with one point per specimen analysed.
    let en = report_html(&root, "en");
    let section = &en[en
        .find("Method comparison with the comparator")
        .expect("the section")..];
    let slope = deming["statistics"]["slope"].as_f64().unwrap();
    assert!(
        section.contains(&format!("{slope:.4}")),
        "the Deming slope {slope:.4}"
    );
    assert!(section.contains("Deming regression (jackknife intervals, Linnet 1990)"));
    assert!(section.contains("S999: device value &gt;100 is censored"));
    assert!(section.contains("Scatter plot") && section.contains("Bland–Altman plot"));
    let first_svg = &section[section.find("<svg").unwrap()..];
    let first_svg = &first_svg[..first_svg.find("</svg>").unwrap()];
    assert_eq!(
        first_svg.matches("<circle").count(),
        60,
        "one point per specimen analysed"
    );
    let ja = report_html(&root, "ja");
    assert!(ja.contains("相関性試験（対照法との比較）"));
    assert!(ja.contains("判断値 50 での偏り"));
    assert!(ja.contains("不適合"), "the Deming criteria fail");
    // And the PDF renders with the figures.
    let pdf = root.join("report.pdf");
    kizon(
        &root,
        &[
            "report",
            "--lang",
            "ja",
            "--format",
            "pdf",
            "--out",
            pdf.to_str().unwrap(),
        ],
    )
    .ok();
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
}

/// `kizon demo --kind specimen`: 300 generated specimens with five planted doubts, each found
/// by `check` on its specimen and excluded with a reason, through the locked dataset, the
/// comparator's judgements, the device's results and the pre-specified method comparisons to
/// the reports and a package that verifies.
#[test]
fn the_specimen_demo_finds_what_was_planted_and_reports_the_correlation_study() {
    let tmp = tempfile::tempdir().unwrap();
    let outcome = kizon(tmp.path(), &["demo", "--kind", "specimen", "d", "--json"])
        .ok()
        .json();
    assert_eq!(outcome["verified"], true, "{outcome:#}");
    let findings = outcome["findings"].as_array().unwrap();
    let blocking: Vec<(String, Vec<String>)> = findings
        .iter()
        .filter(|f| f["severity"] == "blocking")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["case_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    let mut found: Vec<String> = blocking
        .iter()
        .map(|(rule, cases)| format!("{rule} {}", cases.join(" ")))
        .collect();
    found.sort();
    found.dedup();
    assert_eq!(
        found,
        [
            "same-specimen S-0017 S-0042",
            // Both methods' analyses came past the stability: one finding each.
            "specimen-chronology S-0088",
            "specimen-existing S-0201",
            "specimen-implausible S-0150",
            "specimen-interference S-0123",
        ],
        "exactly the planted doubts block"
    );
    let root = tmp.path().join("d");
    let dataset = kizon(&root, &["dataset", "show", "--json"]).ok().json();
    assert_eq!(dataset["dataset"]["cases"].as_array().unwrap().len(), 294);
    assert_eq!(dataset["dataset"]["excluded"].as_array().unwrap().len(), 6);
    let en = std::fs::read_to_string(root.join("report-en.html")).unwrap();
    assert!(en.contains("Method comparison with the comparator (correlation study)"));
    assert!(en.contains("Passing–Bablok regression"));
    let ja = std::fs::read_to_string(root.join("report.html")).unwrap();
    assert!(ja.contains("相関性試験（対照法との比較）"));
    // The flow diagram names why specimens left: the specimen rules in the Q&A's terms.
    assert!(
        ja.contains("溶血・黄疸・乳びによる干渉"),
        "the exclusion reason in the flow"
    );
    kizon(
        &root,
        &["package", "verify", root.join("package").to_str().unwrap()],
    )
    .ok();
}
