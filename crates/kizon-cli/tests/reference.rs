//! The expert-panel path end to end: dataset lock, readers, reads, consensus with an
//! adjudicator, reference lock, device results, analysis. Expected statistics come from
//! statsmodels 0.15.0 (`proportion_confint(method="wilson")`, `inter_rater.fleiss_kappa`).

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Cases C01…C20: the demo's generated chest CTs (clean ones), one per case, in a study made
/// from the template (2(1), expert panel, majority of 3 reads).
fn panel_study() -> (tempfile::TempDir, PathBuf) {
    panel_study_with(|_| {})
}

/// [`panel_study`], with the demo's images changed by `alter` (in the temporary copy) before
/// they are ingested.
fn panel_study_with(
    alter: impl FnOnce(&std::collections::BTreeMap<String, PathBuf>),
) -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = study_with_provider();
    kizon(tmp.path(), &["demo", "demo"]).ok();
    let images = demo_case_files(&tmp.path().join("demo"));
    alter(&images);
    let mut manifest = String::from("case_id,path\n");
    for n in 1..=20 {
        manifest.push_str(&format!(
            "C{n:02},{}\n",
            images[&format!("C-{:03}", 20 + n)].display()
        ));
    }
    let manifest_path = tmp.path().join("manifest.csv");
    std::fs::write(&manifest_path, manifest).unwrap();
    kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            "--manifest",
            manifest_path.to_str().unwrap(),
        ],
    )
    .ok();
    let check = kizon(&root, &["check", "--json"]).ok().json();
    assert_eq!(check["open_blocking"], 0, "{check}");
    (tmp, root)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Three panel reads per case (C19 only two), C03 split three ways and adjudicated.
fn panel_reads() -> String {
    let mut csv = String::from("reader,case_id,label\n");
    for n in 1..=20 {
        let votes = match n {
            2 => ["positive", "positive", "negative"],
            3 => ["positive", "negative", "indeterminate"],
            12 => ["negative", "positive", "negative"],
            1..=10 => ["positive"; 3],
            _ => ["negative"; 3],
        };
        for (reader, label) in ["R1", "R2", "R3"].iter().zip(votes) {
            if n == 19 && *reader == "R3" {
                continue;
            }
            csv.push_str(&format!("{reader},C{n:02},{label}\n"));
        }
    }
    csv
}

fn add_readers(root: &Path) {
    for code in ["R1", "R2", "R3", "A1"] {
        kizon(
            root,
            &[
                "readers",
                "add",
                code,
                "--qualification",
                "放射線診断専門医",
                "--specialty",
                "chest",
                "--years",
                "12",
                "--independent",
            ],
        )
        .ok();
    }
}

#[test]
fn expert_panel_consensus_reference_lock_results_and_analysis() {
    let (tmp, root) = panel_study();
    let dir = tmp.path();

    // Order of locks: nothing before the dataset lock.
    let early = kizon(&root, &["lock", "reference"]).failed();
    assert!(
        early.error_line().contains("dataset is not locked"),
        "{}",
        early.stderr
    );
    kizon(&root, &["lock", "protocol"]).ok();
    let lock = kizon(&root, &["lock", "dataset", "--json"]).ok().json();
    assert_eq!(lock["cases"], 20);
    assert_eq!(lock["merkle_root"].as_str().unwrap().len(), 64);

    add_readers(&root);
    let reads = write(dir, "reads.csv", &panel_reads());
    let unknown = write(
        dir,
        "unknown.csv",
        "reader,case_id,label\nR9,C01,positive\n",
    );
    let run = kizon(&root, &["reads", "import", &unknown]).failed();
    assert!(
        run.error_line()
            .contains("unknown.csv:2: column `reader`: unknown reader `R9`"),
        "{}",
        run.stderr
    );

    let imported = kizon(&root, &["reads", "import", &reads, "--json"])
        .ok()
        .json();
    assert_eq!(
        (imported["new"].as_u64(), imported["unchanged"].as_u64()),
        (Some(59), Some(0))
    );
    let again = kizon(&root, &["reads", "import", &reads, "--json"])
        .ok()
        .json();
    assert_eq!(
        (again["new"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(59))
    );
    let changed = write(
        dir,
        "changed.csv",
        "reader,case_id,label\nR1,C05,negative\n",
    );
    let run = kizon(&root, &["reads", "import", &changed]).failed();
    assert!(
        run.error_line()
            .contains("changed.csv:2: reader R1 already read case C05 as positive"),
        "{}",
        run.stderr
    );

    // Before the adjudication, C03 is undecided.
    let shown = kizon(&root, &["reference", "show", "--json"]).ok().json();
    let undecided: Vec<&str> = shown["reference"]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["label"].is_null())
        .map(|c| c["case_id"].as_str().unwrap())
        .collect();
    assert_eq!(undecided, ["C03", "C19"]);
    let fleiss = &shown["reference"]["agreement"]["fleiss"];
    assert_eq!(fleiss["cases"], 19);
    assert!(
        (fleiss["kappa"]["estimate"].as_f64().unwrap() - 0.7624999999999997).abs() < 1e-12,
        "{fleiss}"
    );

    let adjudication = write(
        dir,
        "adjudication.csv",
        "reader,case_id,label\nA1,C03,陽性\n",
    );
    kizon(
        &root,
        &["reads", "import", &adjudication, "--role", "adjudicator"],
    )
    .ok();

    // Results are refused before the reference lock.
    let results = write(dir, "results.csv", &{
        let mut csv = String::from("case_id,label,score\n");
        for n in 1..=20 {
            let (label, score) = match n {
                1..=8 => ("positive", "0.9"),
                9 => ("negative", "0.3"),
                10 => ("indeterminate", ""),
                11 => ("positive", "0.7"),
                20 => ("", "0.2"),
                _ => ("negative", "0.1"),
            };
            csv.push_str(&format!("C{n:02},{label},{score}\n"));
        }
        csv
    });
    let run = kizon(
        &root,
        &["results", "import", &results, "--device-version", "1.0.0"],
    )
    .failed();
    assert!(
        run.error_line()
            .contains("reference standard is not locked"),
        "{}",
        run.stderr
    );

    let locked = kizon(&root, &["lock", "reference", "--json"]).ok().json();
    assert_eq!(
        (
            locked["decided"].as_u64(),
            locked["positive"].as_u64(),
            locked["negative"].as_u64()
        ),
        (Some(19), Some(10), Some(9))
    );
    let late = kizon(&root, &["reads", "import", &adjudication]).failed();
    assert!(
        late.error_line().contains("reference standard is locked"),
        "{}",
        late.stderr
    );

    kizon(
        &root,
        &["results", "import", &results, "--device-version", "1.0.0"],
    )
    .ok();
    let differing = write(dir, "rerun.csv", "case_id,label,score\nC09,positive,0.6\n");
    let rerun = kizon(
        &root,
        &[
            "results",
            "import",
            &differing,
            "--device-version",
            "1.0.0",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(rerun["changed"], 1);
    let findings = kizon(&root, &["findings", "--json", "--open"]).ok().json();
    let changed: Vec<_> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "device-result-changed")
        .collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["case_ids"], serde_json::json!(["C09"]));

    let analysis = kizon(&root, &["analyze", "--json"]).ok().json();
    let flow = &analysis["flow"];
    assert_eq!(flow["collected"], 20);
    assert_eq!(flow["analysed"], 18);
    assert_eq!(flow["no_reference"], serde_json::json!(["C19"]));
    assert_eq!(flow["device_indeterminate"], serde_json::json!(["C10"]));
    let sensitivity = &analysis["endpoints"][0];
    assert_eq!(sensitivity["metric"], "sensitivity");
    assert_eq!(
        sensitivity["table"],
        serde_json::json!({"tp": 8, "fp": 1, "fn": 1, "tn": 8})
    );
    assert_eq!(sensitivity["cells"]["fn"], serde_json::json!(["C09"]));
    let e = &sensitivity["estimate"];
    assert!((e["estimate"].as_f64().unwrap() - 8.0 / 9.0).abs() < 1e-12);
    assert!(
        (e["lower"].as_f64().unwrap() - 0.5650002944233438).abs() < 1e-9,
        "{e}"
    );
    assert!(
        (e["upper"].as_f64().unwrap() - 0.980109112361455).abs() < 1e-9,
        "{e}"
    );
    assert_eq!(sensitivity["pass"], false, "lower bound 0.565 < 0.80");
    let as_positive = analysis["sensitivity_analyses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["analysis"] == "indeterminate-as-positive" && s["endpoint"] == "primary-sensitivity"
        })
        .unwrap();
    assert_eq!(as_positive["table"]["tp"], 9);
    assert!((as_positive["estimate"]["lower"].as_f64().unwrap() - 0.5958499732047614).abs() < 1e-9);

    // The same inputs give the same bytes, and nothing new in the ledger.
    let entries = kizon(&root, &["audit", "log", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len();
    let first = kizon(&root, &["analyze", "--json"]).ok().stdout;
    let second = kizon(&root, &["analyze", "--json"]).ok().stdout;
    assert_eq!(first, second);
    let after = kizon(&root, &["audit", "log", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len();
    assert_eq!(entries, after);
    kizon(&root, &["audit", "verify"]).ok();
}

#[test]
fn a_blocking_finding_keeps_the_dataset_unlocked_until_decided() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    let file = shared("dicom/pydicom/CT_small.dcm");
    std::fs::copy(&file, data.join("a.dcm")).unwrap();
    std::fs::copy(&file, data.join("b.dcm")).unwrap();
    std::fs::write(
        data.join("manifest.csv"),
        "case_id,path\nK1,a.dcm\nK2,b.dcm\n",
    )
    .unwrap();
    kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            "--manifest",
            data.join("manifest.csv").to_str().unwrap(),
        ],
    )
    .ok();
    kizon(&root, &["check"]).ok();
    kizon(&root, &["lock", "protocol"]).ok();
    let refused = kizon(&root, &["lock", "dataset"]).failed();
    assert!(
        refused
            .error_line()
            .contains("blocking finding(s) unresolved"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("hint: decide each"),
        "{}",
        refused.stderr
    );
    for finding in kizon(&root, &["findings", "--json", "--open"])
        .ok()
        .json()
        .as_array()
        .unwrap()
    {
        let id = finding["id"].to_string();
        let cases: Vec<&str> = finding["case_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        if cases.contains(&"K2") && cases.len() > 1 {
            kizon(
                &root,
                &[
                    "resolve",
                    &id,
                    "--exclude-case",
                    "--case",
                    "K2",
                    "--reason",
                    "K2 repeats K1",
                ],
            )
            .ok();
        } else {
            kizon(
                &root,
                &[
                    "resolve",
                    &id,
                    "--accept",
                    "--reason",
                    "checked with the provider",
                ],
            )
            .ok();
        }
    }
    let dataset = kizon(&root, &["lock", "dataset", "--json"]).ok().json();
    assert_eq!(
        (dataset["cases"].as_u64(), dataset["excluded"].as_u64()),
        (Some(1), Some(1))
    );
    let shown = kizon(&root, &["dataset", "show", "--json"]).ok().json();
    assert_eq!(shown["dataset"]["excluded"][0]["case_id"], "K2");
    assert_eq!(shown["dataset"]["excluded"][0]["reason"], "K2 repeats K1");
    let again = kizon(&root, &["lock", "dataset"]).failed();
    assert!(
        again.stderr.contains("kizon amend --dataset"),
        "{}",
        again.stderr
    );
}

/// Against a comparator method the analysis reports agreement (PPA/NPA), never sensitivity;
/// a reference record needs no source pointer then, but a confirmed diagnosis does.
#[test]
fn comparator_method_gives_agreement_and_confirmed_diagnosis_needs_its_source_record() {
    let (tmp, root) = panel_study();
    let dir = tmp.path();
    write_design(
        &root,
        "new",
        false,
        "comparator-method",
        "non-identifiable",
        "at-provider",
    );
    let protocol = std::fs::read_to_string(root.join("study.toml")).unwrap()
        + "\n[[endpoints]]\nid = \"ppa\"\nprimary = true\nmetric = \"ppa\"\nci = \"wilson\"\nlower_bound_at_least = 0.5\n\n[[endpoints]]\nid = \"npa\"\nmetric = \"npa\"\n";
    std::fs::write(root.join("study.toml"), protocol).unwrap();
    kizon(&root, &["lock", "protocol"]).ok();
    kizon(&root, &["lock", "dataset"]).ok();
    let mut comparator = String::from("case_id,label\n");
    let mut device = String::from("case_id,label\n");
    for n in 1..=20 {
        comparator.push_str(&format!(
            "C{n:02},{}\n",
            if n <= 10 { "positive" } else { "negative" }
        ));
        device.push_str(&format!(
            "C{n:02},{}\n",
            if n <= 9 || n == 20 {
                "positive"
            } else {
                "negative"
            }
        ));
    }
    let comparator = write(dir, "comparator.csv", &comparator);
    let device = write(dir, "device.csv", &device);
    let reads = kizon(&root, &["reads", "import", &comparator]).failed();
    assert!(
        reads.error_line().contains("column `reader`"),
        "{}",
        reads.stderr
    );
    kizon(&root, &["reference", "import", &comparator]).ok();
    kizon(&root, &["lock", "reference"]).ok();
    kizon(
        &root,
        &["results", "import", &device, "--device-version", "2"],
    )
    .ok();
    let analysis = kizon(&root, &["analyze", "--json"]).ok().json();
    let names: Vec<&str> = analysis["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name_en"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Positive percent agreement", "Negative percent agreement"]
    );
    assert_eq!(analysis["endpoints"][0]["name_ja"], "陽性一致率");
    assert_eq!(
        analysis["endpoints"][0]["table"],
        serde_json::json!({"tp": 9, "fp": 1, "fn": 1, "tn": 9})
    );
    assert!(
        !kizon(&root, &["analyze"])
            .ok()
            .stdout
            .to_lowercase()
            .contains("sensitivity")
    );

    // A 2(2) protocol's confirmed diagnosis must say where its source record is.
    let (tmp2, root2) = panel_study();
    write_design(
        &root2,
        "new",
        true,
        "confirmed-diagnosis",
        "non-identifiable",
        "at-provider",
    );
    kizon(&root2, &["lock", "protocol"]).ok();
    kizon(&root2, &["lock", "dataset"]).ok();
    let bare = write(
        tmp2.path(),
        "pathology.csv",
        "case_id,label,source_document,source_location\nC01,positive,病理診断報告書,\n",
    );
    let run = kizon(&root2, &["reference", "import", &bare]).failed();
    assert!(
        run.error_line()
            .contains("pathology.csv:2: column `source_location`: empty"),
        "{}",
        run.stderr
    );
}

/// `R1,C01,陽性` then `R1,C01,positive` in another file used to fail with "internal: rows
/// written without a ledger entry" and leave an orphan document; a different read was refused
/// with an unrelated hint; a row repeated within a file cited a ledger entry that did not exist.
#[test]
fn label_variants_repeats_and_conflicting_reads_are_clear_and_write_nothing() {
    let (tmp, root) = panel_study();
    let dir = tmp.path();
    kizon(&root, &["lock", "protocol"]).ok();
    kizon(&root, &["lock", "dataset"]).ok();
    add_readers(&root);
    let first = write(dir, "first.csv", "reader,case_id,label\nR1,C01,陽性\n");
    kizon(&root, &["reads", "import", &first]).ok();
    let head = |root: &Path| {
        kizon(root, &["audit", "log", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len()
    };
    let before = head(&root);
    for variant in ["positive", "pos", "1", "Positive "] {
        let same = write(
            dir,
            "same.csv",
            &format!("reader,case_id,label\nR1,C01,{variant}\n"),
        );
        let run = kizon(&root, &["reads", "import", &same, "--json"])
            .ok()
            .json();
        assert_eq!(
            (run["new"].as_u64(), run["unchanged"].as_u64()),
            (Some(0), Some(1)),
            "{variant}"
        );
    }
    assert_eq!(
        head(&root),
        before,
        "an import that adds nothing records nothing"
    );
    let verify = kizon(&root, &["audit", "verify"]).ok();
    assert!(
        !verify.stdout.contains("not referenced"),
        "{}",
        verify.stdout
    );

    let different = write(dir, "different.csv", "reader,case_id,label\nR1,C01,陰性\n");
    let run = kizon(&root, &["reads", "import", &different]).failed();
    assert!(
        run.error_line()
            .contains("different.csv:2: reader R1 already read case C01 as positive"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("a read is never replaced")
            && !run.stderr.contains("choose another name"),
        "{}",
        run.stderr
    );

    let repeated = write(
        dir,
        "repeated.csv",
        "reader,case_id,label\nR2,C02,positive\nR2,C03,negative\nR2,C02,positive\n",
    );
    let run = kizon(&root, &["reads", "import", &repeated]).failed();
    assert!(
        run.error_line().contains("repeated.csv:4")
            && run.error_line().contains("line 4 repeats line 2"),
        "{}",
        run.stderr
    );
    let contradicting = write(
        dir,
        "contradicting.csv",
        "reader,case_id,label\nR2,C02,positive\nR2,C02,negative\n",
    );
    let run = kizon(&root, &["reads", "import", &contradicting]).failed();
    assert!(
        run.error_line().contains("line 3 contradicts line 2"),
        "{}",
        run.stderr
    );
    assert_eq!(head(&root), before);
    kizon(&root, &["audit", "verify"]).ok();
}

/// Scores on one positive and one negative case only, with no AUC in the protocol: `analyze`
/// used to abort ("the DeLong variance needs at least 2 positive and 2 negative cases"); what
/// the protocol does not ask for never stops the analysis.
#[test]
fn a_quantity_that_is_not_an_endpoint_never_stops_the_analysis() {
    let (tmp, root) = panel_study();
    let dir = tmp.path();
    kizon(&root, &["lock", "protocol"]).ok();
    kizon(&root, &["lock", "dataset"]).ok();
    add_readers(&root);
    let reads = write(dir, "reads.csv", &panel_reads());
    kizon(&root, &["reads", "import", &reads]).ok();
    let adjudication = write(
        dir,
        "adj.csv",
        "reader,case_id,label,role\nA1,C03,positive,adjudicator\nA1,C19,negative,adjudicator\n",
    );
    let _ = kizon(&root, &["reads", "import", &adjudication]);
    kizon(&root, &["lock", "reference"]).ok();
    let mut csv = String::from("case_id,label,score\n");
    for n in 1..=20 {
        let label = if n <= 10 { "positive" } else { "negative" };
        let score = match n {
            1 => "0.9",
            20 => "0.1",
            _ => "",
        };
        csv.push_str(&format!("C{n:02},{label},{score}\n"));
    }
    let results = write(dir, "results.csv", &csv);
    kizon(
        &root,
        &["results", "import", &results, "--device-version", "1.0.0"],
    )
    .ok();
    let analysis = kizon(&root, &["analyze", "--json"]).ok().json();
    assert!(
        analysis["analysis"]["roc"].is_null() || analysis["roc"].is_null(),
        "{analysis}"
    );
}

/// Blanks the Patient's Age (0010,1010) of a demo image, so that its case's age is unknown.
fn blank_age(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let tag = b"\x10\x00\x10\x10AS\x04\x00";
    let at = bytes
        .windows(tag.len())
        .position(|w| w == tag)
        .expect("the demo image has a Patient's Age")
        + tag.len();
    bytes[at..at + 4].copy_from_slice(b"    ");
    std::fs::write(path, bytes).unwrap();
}

/// Issue 13.8: one set of counts. Cases of unknown age are shown (in the background table and
/// as a subgroup), the subgroups of an endpoint add up to its denominator, and the ROC curve,
/// the 2×2 table and the flow diagram count the same analysed cases.
/// The panel study with C01 and C16 of unknown age, read, its reference locked and the device's
/// results imported (C04 indeterminate with a score).
fn analysable_panel_study() -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = panel_study_with(|images| {
        blank_age(&images["C-021"]); // C01, positive
        blank_age(&images["C-036"]); // C16, negative
    });
    let dir = tmp.path();
    kizon(&root, &["lock", "protocol"]).ok();
    kizon(&root, &["lock", "dataset"]).ok();
    add_readers(&root);
    let reads = write(dir, "reads.csv", &panel_reads());
    kizon(&root, &["reads", "import", &reads]).ok();
    let adjudication = write(
        dir,
        "adj.csv",
        "reader,case_id,label,role\nA1,C03,positive,adjudicator\nA1,C19,negative,adjudicator\n",
    );
    kizon(&root, &["reads", "import", &adjudication]).ok();
    kizon(&root, &["lock", "reference"]).ok();
    // C04 indeterminate with a score: out of the 2×2 table, and so out of the ROC curve too.
    let mut csv = String::from("case_id,label,score\n");
    for n in 1..=20 {
        let (label, score) = match n {
            4 => ("indeterminate", 0.55),
            7 => ("negative", 0.3),
            14 => ("positive", 0.7),
            1..=10 => ("positive", 0.6 + n as f64 / 50.0),
            _ => ("negative", 0.1 + n as f64 / 100.0),
        };
        csv.push_str(&format!("C{n:02},{label},{score}\n"));
    }
    let results = write(dir, "results.csv", &csv);
    kizon(
        &root,
        &["results", "import", &results, "--device-version", "1.0.0"],
    )
    .ok();
    (tmp, root)
}

#[test]
fn one_set_of_counts_feeds_every_table_and_figure() {
    let (_tmp, root) = analysable_panel_study();
    let a = kizon(&root, &["analyze", "--json"]).ok().json();
    let flow = &a["flow"];
    let (positive, negative) = (
        flow["reference_positive"].as_u64().unwrap(),
        flow["reference_negative"].as_u64().unwrap(),
    );
    assert_eq!(flow["analysed"].as_u64().unwrap(), positive + negative);
    assert_eq!(flow["device_indeterminate"].as_array().unwrap().len(), 1);
    let roc = &a["roc"];
    assert_eq!(
        (
            roc["positives"].as_u64().unwrap(),
            roc["negatives"].as_u64().unwrap()
        ),
        (positive, negative),
        "the ROC curve counts the analysis set"
    );
    for e in a["endpoints"].as_array().unwrap() {
        let t = &e["table"];
        let col = |x: &str, y: &str| t[x].as_u64().unwrap() + t[y].as_u64().unwrap();
        assert_eq!(
            (col("tp", "fn"), col("fp", "tn")),
            (positive, negative),
            "{e}"
        );
    }
    // Every age band, `unknown` included, and their sensitivity denominators add up.
    let ages: Vec<&serde_json::Value> = a["subgroups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["variable"] == "age-band" && s["metric"] == "sensitivity")
        .collect();
    assert!(ages.iter().any(|s| s["level"] == "unknown"), "{ages:?}");
    let denominators: u64 = ages
        .iter()
        .map(|s| s["table"]["tp"].as_u64().unwrap() + s["table"]["fn"].as_u64().unwrap())
        .sum();
    assert_eq!(denominators, positive);
    let cases: u64 = ages.iter().map(|s| s["n"].as_u64().unwrap()).sum();
    assert_eq!(cases, positive + negative);

    // The report shows them: 不明 in the background table and the subgroups, the ROC caption
    // with the 2×2 table's counts.
    let html = report_html(&root, "ja");
    assert!(
        html.contains("年齢区分：不明"),
        "background table lacks the unknown age"
    );
    assert!(
        html.contains(&format!(
            "{}例（参照標準 陽性{positive}例、陰性{negative}例）",
            positive + negative
        )),
        "the ROC caption's counts differ from the 2×2 table"
    );
    let (body, appendix) = html.rsplit_once("付録A").expect("the appendix");
    assert!(
        !body.contains("primary-sensitivity") && appendix.contains("primary-sensitivity"),
        "endpoint ids belong in the traceability appendix only"
    );
}

/// Issue 13.10: what a reviewer expects in a 2(1) report: the sample-size rationale with kizon's
/// calculation, how the panel read (conditions, case order, blinding), the protocol deviations
/// (recorded and found), and the 症例一覧表 as Appendix B, in both languages.
#[test]
fn a_2_1_report_has_the_sample_size_reading_deviations_and_case_list() {
    let (tmp, root) = analysable_panel_study();
    let run = kizon(
        &root,
        &[
            "deviation",
            "add",
            "--description",
            "読影者 R2 が C05 を読影室外で読影",
            "--description-en",
            "reader R2 read C05 outside the reading room",
            "--case",
            "C05",
        ],
    )
    .ok();
    assert!(run.stdout.contains("deviation recorded"), "{}", run.stdout);
    kizon(
        &root,
        &["deviation", "add", "--description", "x", "--case", "C99"],
    )
    .failed();
    kizon(&root, &["analyze"]).ok();
    let (ja, en) = (report_html(&root, "ja"), report_html(&root, "en"));
    // The template's [sample_size]: sensitivity 0.92 expected against the criterion's 0.80.
    for needle in [
        "症例数の設定根拠",
        "参照標準陽性例",
        "Flahault",
        "読影の方法",
        "診断用モニタ（3MP）",
        "読影記録ファイル",
        "計画からの逸脱",
        "読影者 R2 が C05 を読影室外で読影",
        "症例数の設定根拠の必要数",
        "付録B　症例一覧表",
        "Fleiss の κ",
        "過半数（同数のときは判定者）",
        "性能評価試験に関する Q&amp;A（2025-03-17 改正）",
        "DICOM 画像",
    ] {
        assert!(ja.contains(needle), "ja lacks {needle}");
    }
    assert!(
        !ja.contains("不一致は判定者"),
        "the majority rule is not 'disagreements to the adjudicator'"
    );
    for needle in [
        "Sample size",
        "reference-positive cases",
        "Reading conditions: diagnostic 3 MP monitor",
        "Protocol deviations",
        "reader R2 read C05 outside the reading room",
        "found by kizon",
        "Appendix B. Case list",
        "Agreement between readers (before consensus)",
        "majority (a tie goes to the adjudicator)",
    ] {
        assert!(en.contains(needle), "en lacks {needle}");
    }
    // Every case of the dataset is a row of the case list.
    let appendix = ja.rsplit_once("付録B").unwrap().1;
    for n in 1..=20 {
        assert!(
            appendix.contains(&format!(">C{n:02}<")),
            "C{n:02} is not in the case list"
        );
    }
    // The package has the deviations too.
    let package = tmp.path().join("pkg");
    kizon(&root, &["package", "--out", package.to_str().unwrap()]).ok();
    let deviations = std::fs::read_to_string(package.join("protocol/deviations.json")).unwrap();
    assert!(deviations.contains("C05"), "{deviations}");
    // The reading files as imported, which the report says the package holds, and the others.
    for folder in ["reads", "results"] {
        let files = std::fs::read_dir(package.join("imports").join(folder))
            .unwrap_or_else(|e| panic!("imports/{folder}: {e}"))
            .count();
        assert!(files >= 1, "imports/{folder} is empty");
    }
    kizon(&root, &["package", "verify", package.to_str().unwrap()]).ok();
}
