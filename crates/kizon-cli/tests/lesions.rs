//! Lesion-level evaluation end to end: marks as data (CSV, JSON, COCO), the panel's lesion
//! reference locked with the reference standard, device marks after the locks, the FROC
//! section of the analysis and the report; and `kizon stats froc` on two files.
//!
//! Every expected number is computed by hand in the comments (AFROC: Chakraborty & Berbaum
//! 2004, ψ = 1, ½, 0; clustered ratio interval: Obuchowski 1998; Wilson intervals from
//! statsmodels 0.15.0 `proportion_confint(method="wilson")`) and again, from the
//! definitions, by `tools/oracle/lesion_fixtures.py`.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn close(value: &Value, expected: f64) {
    let got = value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"));
    assert!((got - expected).abs() < 1e-9, "{got} != {expected}");
}

const LESIONS: &str = "case_id,image,x,y,lesion_type
A,1,10,10,polyp
A,1,50,50,polyp
B,1,20,20,adenoma
C,1,,,
D,1,,,
";

/// A: hit L(10,10) at 0.9 (distance 1), NL at 0.4; B: hit L(20,20) at 0.6 (distance 2),
/// a second mark on it at 0.3 (discarded); C (normal): NL at 0.5; D: no mark.
const MARKS: &str = "case_id,image,x,y,rating
A,1,11,10,0.9
A,1,80,80,0.4
B,1,20,22,0.6
B,1,21,21,0.3
C,1,5,5,0.5
";

/// Normal cases C (highest NL 0.5) and D (none, −∞); lesions rated 0.9, −∞, 0.6.
/// AFROC: C: ψ(0.5, 0.9) + ψ(0.5, −∞) + ψ(0.5, 0.6) = 1 + 0 + 1 = 2; D: 1 + ½ + 1 = 2.5;
/// θ = 4.5 / (2 · 3) = 0.75. wAFROC (weights ½, ½ in A, 1 in B): C: ½ + 0 + 1 = 1.5;
/// D: ½ + ¼ + 1 = 1.75; θ_w = 3.25 / (2 · 2) = 0.8125.
/// LLF 2/3, clustered by case: A (1 of 2), B (1 of 1); residuals ∓⅓; var = 2 · (2/9) / 9,
/// se = 2/9, lower = 2/3 − 1.959964 · 2/9 = 0.231119. NLs 2 over 4 images (one per case):
/// 0.5, residuals ±0.5, var = (4/3) · 1 / 16, upper = 0.5 + 1.959964 · 0.288675 = 1.065793.
/// Case sensitivity 2/2 (Wilson 0.342380–1), specificity 1/2 (Wilson 0.094531–0.905469).
#[test]
fn stats_froc_on_two_csv_files_gives_the_hand_computed_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let lesions = write(dir, "lesions.csv", LESIONS);
    let marks = write(dir, "marks.csv", MARKS);
    let out = kizon(
        dir,
        &[
            "stats",
            "froc",
            "--lesions",
            &lesions,
            "--marks",
            &marks,
            "--criterion",
            "distance",
            "--radius",
            "5",
            "--units",
            "mm",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(out["criterion"], "distance ≤ 5 mm");
    assert_eq!(
        (
            &out["cases"],
            &out["normal_cases"],
            &out["images"],
            &out["lesions"]
        ),
        (
            &Value::from(4),
            &Value::from(2),
            &Value::from(4),
            &Value::from(3)
        )
    );
    assert_eq!(
        (&out["hits"], &out["nl_marks"], &out["duplicate_marks"]),
        (&Value::from(2), &Value::from(2), &Value::from(1))
    );
    close(&out["afroc"]["estimate"], 0.75);
    close(&out["wafroc"]["estimate"], 0.8125);
    assert!(out["afroc"]["lower"].as_f64().unwrap() <= 0.75);
    close(&out["lesion_sensitivity"]["estimate"], 2.0 / 3.0);
    let z = 1.959963984540054;
    close(
        &out["lesion_sensitivity"]["lower"],
        2.0 / 3.0 - z * 2.0 / 9.0,
    );
    close(&out["fp_per_image"]["estimate"], 0.5);
    close(
        &out["fp_per_image"]["upper"],
        0.5 + z * (1.0f64 / 12.0).sqrt(),
    );
    close(&out["fp_per_case"]["estimate"], 0.5);
    close(&out["case_sensitivity"]["lower"], 0.3423802275066531);
    close(&out["case_specificity"]["lower"], 0.09453120573423063);
    close(&out["case_specificity"]["upper"], 0.9054687942657694);
    close(&out["localisation"]["mean_distance"], 1.5);
    close(&out["localisation"]["max_distance"], 2.0);
    assert!(
        out["localisation"].get("segmentation").is_none(),
        "points have no region"
    );
    // FROC: origin, then ratings 0.9, 0.6, 0.5, 0.4: LLF 1/3, 2/3, 2/3, 2/3; NLs per case
    // 0, 0, 1/4, 2/4.
    let froc = out["froc_curve"].as_array().unwrap();
    let points: Vec<(Option<f64>, f64, f64)> = froc
        .iter()
        .map(|p| {
            (
                p["threshold"].as_f64(),
                p["nlf"].as_f64().unwrap(),
                p["llf"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(points.len(), 5, "{points:?}");
    assert_eq!(points[0], (None, 0.0, 0.0));
    assert_eq!(points[3].0, Some(0.5));
    assert_eq!(points[4].1, 0.5);
    close(&Value::from(points[1].2), 1.0 / 3.0);
    let afroc = out["afroc_curve"].as_array().unwrap();
    assert_eq!(afroc.last().unwrap()["fpf"], 1.0);

    // At the operating point 0.55: NL 0.5 and 0.4 no longer count, LLF still 2/3.
    let at = kizon(
        dir,
        &[
            "stats",
            "froc",
            "--lesions",
            &lesions,
            "--marks",
            &marks,
            "--radius",
            "5",
            "--threshold",
            "0.55",
            "--reps",
            "0",
            "--json",
        ],
    )
    .ok()
    .json();
    close(&at["fp_per_image"]["estimate"], 0.0);
    close(&at["case_specificity"]["estimate"], 1.0);
    assert!(at["afroc"]["lower"].is_null());

    // Text output, bilingual.
    let text = kizon(
        dir,
        &[
            "stats",
            "froc",
            "--lesions",
            &lesions,
            "--marks",
            &marks,
            "--radius",
            "5",
        ],
    )
    .ok()
    .stdout;
    assert!(text.contains("病変単位感度 / lesion sensitivity"), "{text}");
    assert!(text.contains("0.7500"), "{text}");
}

/// The same evaluation with boxes: lesions as a CSV of corners, marks as COCO detection
/// results. IoU of [10,10,20,20] with the mark [11,10,21,20] (bbox [11,10,10,10]) is
/// 90/110 = 0.8182 ≥ 0.5: a hit; the mark [40,40,50,50] on the normal case is an NL.
#[test]
fn stats_froc_reads_coco_boxes_and_names_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let lesions = write(
        dir,
        "boxes.csv",
        "case_id,image,x0,y0,x1,y1\nA,a.dcm,10,10,20,20\nB,b.dcm,,,,\n",
    );
    let coco = write(
        dir,
        "detections.json",
        r#"{"images": [{"id": 1, "case_id": "A", "file_name": "a.dcm"}, {"id": 2, "case_id": "B", "file_name": "b.dcm"}],
            "categories": [{"id": 7, "name": "polyp"}],
            "annotations": [
              {"image_id": 1, "category_id": 7, "bbox": [11, 10, 10, 10], "score": 0.8},
              {"image_id": 2, "category_id": 7, "bbox": [40, 40, 10, 10], "score": 0.3}
            ]}"#,
    );
    let out = kizon(
        dir,
        &[
            "stats",
            "froc",
            "--lesions",
            &lesions,
            "--marks",
            &coco,
            "--criterion",
            "iou",
            "--iou",
            "0.5",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(
        (&out["hits"], &out["nl_marks"]),
        (&Value::from(1), &Value::from(1))
    );
    // One normal case (FP 0.3), one lesion at 0.8: θ = 1.
    close(&out["afroc"]["estimate"], 1.0);
    close(&out["localisation"]["mean_iou"], 90.0 / 110.0);
    close(&out["localisation"]["mean_distance"], 1.0);
    // Segmentation overlap of the hit: Dice = 2 · (9/11) / (1 + 9/11) = 0.9.
    close(&out["localisation"]["segmentation"]["mean_dice"], 0.9);
    assert_eq!(out["localisation"]["segmentation"]["regions"], 1);

    // Bad input: file, line and column (CSV), or file and JSON path, with a hint.
    let bad = write(dir, "bad.csv", "case_id,x,y,rating\nA,1,2,0.5\nA,3,,0.5\n");
    let run = kizon(
        dir,
        &[
            "stats",
            "froc",
            "--lesions",
            &lesions,
            "--marks",
            &bad,
            "--radius",
            "5",
        ],
    )
    .failed();
    assert!(
        run.error_line().contains("bad.csv:3: column `y`: empty"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    let unrated = write(dir, "unrated.csv", "case_id,x,y\nA,1,2\n");
    let run = kizon(
        dir,
        &[
            "stats",
            "froc",
            "--lesions",
            &lesions,
            "--marks",
            &unrated,
            "--radius",
            "5",
        ],
    )
    .failed();
    assert!(
        run.error_line()
            .contains("unrated.csv:2: column `rating`: a mark needs its rating"),
        "{}",
        run.stderr
    );
    let broken = write(
        dir,
        "broken.json",
        r#"[{"case_id": "A", "bbox": [1, 2, 3], "score": 1}]"#,
    );
    let run = kizon(
        dir,
        &[
            "stats",
            "froc",
            "--lesions",
            &lesions,
            "--marks",
            &broken,
            "--radius",
            "5",
        ],
    )
    .failed();
    assert!(
        run.error_line()
            .contains("broken.json: [0].bbox: `[1,2,3]` is not [x, y, width, height]"),
        "{}",
        run.stderr
    );
    let run = kizon(
        dir,
        &[
            "stats",
            "froc",
            "--lesions",
            &lesions,
            "--marks",
            &coco,
            "--criterion",
            "distance",
        ],
    )
    .failed();
    assert!(
        run.error_line().contains("needs --radius"),
        "{}",
        run.stderr
    );
}

/// Cases C01…C06: the demo's generated chest CTs, one per case, with `[lesions]`
/// (distance ≤ 5 mm, k = 2) in the protocol.
fn lesion_study() -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = study_with_provider();
    kizon(tmp.path(), &["demo", "demo"]).ok();
    let images = demo_case_files(&tmp.path().join("demo"));
    let mut manifest = String::from("case_id,path\n");
    for n in 1..=6 {
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
    let toml = root.join("study.toml");
    let text = std::fs::read_to_string(&toml).unwrap().replace(
        "# 解析（kizon analyze）の設定",
        "[lesions]\ncriterion = \"distance\"\nradius = 5.0\nk = 2\n\n# 解析（kizon analyze）の設定",
    );
    std::fs::write(&toml, text).unwrap();
    (tmp, root)
}

/// Panel marks (readers in a column): C01 (10,10) by R1, R2, R3 → L1; C01 (50,50) by R1
/// alone, confirmed by the adjudicator A1 at (52,50) → L2; C02 (30,30) and (31,31) by R1 and
/// R2 → L3 at (30.5, 30.5); C03 (20,20) and (22,21) by R1, R3 → L4; C03 (70,70) by R2 alone
/// → rejected (X1).
const PANEL_MARKS: &str = "reader,case_id,image,x,y,lesion_type,size_mm
R1,C01,1,10,10,nodule,6
R2,C01,1,12,10,nodule,8
R3,C01,1,10,13,mass,7
R1,C01,1,50,50,nodule,
R1,C02,1,30,30,nodule,5
R2,C02,1,31,31,nodule,5
R1,C03,1,20,20,nodule,
R3,C03,1,22,21,nodule,
R2,C03,1,70,70,nodule,
";

/// Device marks: C01 (11,10) 0.9 → L1 at (32/3, 11) (distance √10/3 = 1.054093); C01 (80,80) 0.4 → NL; C02 (30,32) 0.6 →
/// L3 (distance √2.5 = 1.581139); C04 (normal) (5,5) 0.5 → NL. L2 and L4 unmarked.
///
/// Normal cases C04 (0.5), C05, C06 (−∞); lesions 0.9, −∞, 0.6, −∞.
/// AFROC: C04: 1 + 0 + 1 + 0 = 2; C05, C06: 1 + ½ + 1 + ½ = 3 each; θ = 8 / (3 · 4) = ⅔.
/// wAFROC (C01's two lesions ½ each): C04: ½ + 0 + 1 + 0 = 1.5; C05, C06: ½ + ¼ + 1 + ½
/// = 2.25; θ_w = 6 / (3 · 3) = ⅔. LLF 2/4; NLs 2 over 6 images; cases: sensitivity 2/3
/// (C01, C02 marked; C03 not), specificity 2/3 (C04 marked).
const DEVICE_MARKS: &str = "case_id,image,x,y,score
C01,1,11,10,0.9
C01,1,80,80,0.4
C02,1,30,32,0.6
C04,1,5,5,0.5
";

#[test]
fn panel_marks_become_locked_lesions_and_device_marks_a_froc_analysis_and_report() {
    let (tmp, root) = lesion_study();
    let dir = tmp.path();
    kizon(&root, &["lock", "protocol"]).ok();
    kizon(&root, &["lock", "dataset"]).ok();
    for code in ["R1", "R2", "R3", "A1"] {
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
                "12",
                "--independent",
            ],
        )
        .ok();
    }
    let mut reads = String::from("reader,case_id,label\n");
    for n in 1..=6 {
        for r in ["R1", "R2", "R3"] {
            let label = if n <= 3 { "positive" } else { "negative" };
            reads.push_str(&format!("{r},C{n:02},{label}\n"));
        }
    }
    kizon(
        &root,
        &["reads", "import", &write(dir, "reads.csv", &reads)],
    )
    .ok();

    // Bad marks: an unknown case names its line and column; nothing is written.
    let bad = write(
        dir,
        "bad-marks.csv",
        "reader,case_id,x,y\nR1,C01,1,2\nR1,C99,1,2\n",
    );
    let run = kizon(&root, &["marks", "import", &bad, "--reader", "R1"]).failed();
    assert!(
        run.error_line()
            .contains("bad-marks.csv:3: column `case_id`: no case `C99`"),
        "{}",
        run.stderr
    );
    assert_eq!(
        kizon(&root, &["marks", "list", "--json"]).ok().json(),
        serde_json::json!([])
    );
    // Device marks before the reference lock are refused.
    let device = write(dir, "device-marks.csv", DEVICE_MARKS);
    let run = kizon(
        &root,
        &["marks", "import", &device, "--device-version", "1.0"],
    )
    .failed();
    assert!(
        run.error_line()
            .contains("reference standard is not locked"),
        "{}",
        run.stderr
    );

    let panel = write(dir, "panel-marks.csv", PANEL_MARKS);
    let imported = kizon(
        &root,
        &["marks", "import", &panel, "--reader", "R1", "--json"],
    )
    .ok()
    .json();
    assert_eq!(
        (&imported["marks"], &imported["new"]),
        (&Value::from(9), &Value::from(8))
    );
    let again = kizon(
        &root,
        &["marks", "import", &panel, "--reader", "R1", "--json"],
    )
    .ok()
    .json();
    assert_eq!(
        (&again["new"], &again["unchanged"]),
        (&Value::from(0), &Value::from(8))
    );
    assert!(again["ledger_seq"].is_null());
    let moved = write(dir, "moved.csv", "case_id,image,x,y\nC02,1,30,29\n");
    let run = kizon(&root, &["marks", "import", &moved, "--reader", "R1"]).failed();
    assert!(
        run.error_line()
            .contains("reader R1 already marked case C02"),
        "{}",
        run.stderr
    );
    let adjudication = write(
        dir,
        "adjudication.json",
        r#"[{"case_id": "C01", "image": "1", "x": 52, "y": 50}]"#,
    );
    kizon(
        &root,
        &[
            "marks",
            "import",
            &adjudication,
            "--reader",
            "A1",
            "--role",
            "adjudicator",
        ],
    )
    .ok();

    let locked = kizon(&root, &["lock", "reference", "--json"]).ok().json();
    assert_eq!(locked["lesions"], 4);
    let shown = kizon(&root, &["reference", "show", "--json"]).ok().json();
    let reference = &shown["reference"]["lesions"];
    let lesions = reference["lesions"].as_array().unwrap();
    let summary: Vec<(&str, &str, &str, usize)> = lesions
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap(),
                l["case_id"].as_str().unwrap(),
                l["basis"].as_str().unwrap(),
                l["readers"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("L1", "C01", "panel", 3),
            ("L2", "C01", "adjudicator", 1),
            ("L3", "C02", "panel", 2),
            ("L4", "C03", "panel", 2)
        ]
    );
    // L1: mean of (10,10), (12,10), (10,13); type by majority; mean size (6+8+7)/3.
    close(&lesions[0]["shape"]["x"], 32.0 / 3.0);
    close(&lesions[0]["shape"]["y"], 11.0);
    assert_eq!(lesions[0]["lesion_type"], "nodule");
    close(&lesions[0]["size_mm"], 7.0);
    assert_eq!(lesions[0]["marks"].as_array().unwrap().len(), 3);
    assert_eq!(lesions[1]["adjudicator_marks"].as_array().unwrap().len(), 1);
    let rejected = reference["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        (&rejected[0]["id"], &rejected[0]["case_id"]),
        (&Value::from("X1"), &Value::from("C03"))
    );
    assert_eq!(reference["marks"], 10, "every individual mark is kept");

    // Reader marks after the lock are refused.
    let run = kizon(&root, &["marks", "import", &panel, "--reader", "R1"]).failed();
    assert!(
        run.error_line().contains("reference standard is locked"),
        "{}",
        run.stderr
    );

    let mut results = String::from("case_id,label\n");
    for n in 1..=6 {
        results.push_str(&format!(
            "C{n:02},{}\n",
            if n <= 2 || n == 4 {
                "positive"
            } else {
                "negative"
            }
        ));
    }
    kizon(
        &root,
        &[
            "results",
            "import",
            &write(dir, "results.csv", &results),
            "--device-version",
            "1.0",
        ],
    )
    .ok();
    // A device mark needs its rating.
    let unrated = write(dir, "unrated.csv", "case_id,image,x,y\nC01,1,11,10\n");
    let run = kizon(
        &root,
        &["marks", "import", &unrated, "--device-version", "1.0"],
    )
    .failed();
    assert!(
        run.error_line().contains("unrated.csv:2: column `rating`"),
        "{}",
        run.stderr
    );
    let imported = kizon(
        &root,
        &[
            "marks",
            "import",
            &device,
            "--device-version",
            "1.0",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(
        (&imported["marks"], &imported["sets"]),
        (&Value::from(4), &Value::from(3))
    );

    // An MRMC reader study: R1–R3 rate every case without and with the device (1–5).
    let ratings: [(&str, &str, [u8; 6]); 6] = [
        ("unaided", "R1", [4, 3, 2, 3, 1, 2]),
        ("unaided", "R2", [5, 2, 3, 2, 2, 1]),
        ("unaided", "R3", [3, 4, 2, 1, 3, 2]),
        ("aided", "R1", [5, 4, 3, 2, 1, 1]),
        ("aided", "R2", [5, 4, 4, 1, 2, 1]),
        ("aided", "R3", [4, 5, 3, 1, 2, 2]),
    ];
    let mut long = String::from("reader,modality,case,truth,score\n");
    for modality in ["unaided", "aided"] {
        let mut csv = String::from("reader,case_id,score\n");
        for (m, reader, scores) in &ratings {
            if *m != modality {
                continue;
            }
            for (c, score) in scores.iter().enumerate() {
                csv.push_str(&format!("{reader},C{:02},{score}\n", c + 1));
                long.push_str(&format!(
                    "{reader},{m},C{:02},{},{score}\n",
                    c + 1,
                    u8::from(c < 3)
                ));
            }
        }
        let file = write(dir, &format!("{modality}.csv"), &csv);
        kizon(&root, &["reads", "import", &file, "--modality", modality]).ok();
    }
    let unscored = write(
        dir,
        "unscored.csv",
        "reader,case_id,label\nR1,C01,positive\n",
    );
    let run = kizon(
        &root,
        &["reads", "import", &unscored, "--modality", "aided"],
    )
    .failed();
    assert!(
        run.error_line().contains(
            "unscored.csv:2: column `score`: empty: a reader-study read needs its rating"
        ),
        "{}",
        run.stderr
    );

    let analysis = kizon(&root, &["analyze", "--json"]).ok().json();
    // The study's MRMC analysis equals `kizon stats mrmc` (validated against Van Dyke and
    // MRMCaov) on the same ratings.
    let stats = kizon(
        dir,
        &[
            "stats",
            "mrmc",
            "--csv",
            &write(dir, "long.csv", &long),
            "--reader",
            "reader",
            "--modality",
            "modality",
            "--case",
            "case",
            "--truth",
            "truth",
            "--score",
            "score",
            "--json",
        ],
    )
    .ok()
    .json();
    let study = &analysis["reader_study"];
    assert_eq!(study["modalities"], serde_json::json!(["unaided", "aided"]));
    assert_eq!(
        (&study["cases"], &study["positives"]),
        (&Value::from(6), &Value::from(3))
    );
    close(&study["f"], stats["f"].as_f64().unwrap());
    close(&study["df2"], stats["df2"].as_f64().unwrap());
    close(&study["p_value"], stats["p_value"].as_f64().unwrap());
    close(
        &study["differences"][0]["difference"]["estimate"],
        stats["difference"]["estimate"].as_f64().unwrap(),
    );
    close(
        &study["differences"][0]["difference"]["lower"],
        stats["difference"]["lower"].as_f64().unwrap(),
    );
    close(
        &study["modality_aucs"][1]["auc"]["estimate"],
        stats["modalities"][1]["auc"].as_f64().unwrap(),
    );
    // R1 unaided: positives 4, 3, 2 against negatives 3, 1, 2: 6 wins, 2 ties of 9 → 7/9.
    close(&study["reader_aucs"][0]["auc"]["estimate"], 7.0 / 9.0);
    assert_eq!(
        analysis["inputs"]["marks_sha256"].as_str().unwrap().len(),
        64
    );
    let f = &analysis["lesions"]["figures"];
    assert_eq!(f["criterion"], "distance ≤ 5 mm");
    assert_eq!(
        (&f["cases"], &f["normal_cases"], &f["lesions"], &f["images"]),
        (
            &Value::from(6),
            &Value::from(3),
            &Value::from(4),
            &Value::from(6)
        )
    );
    close(&f["afroc"]["estimate"], 2.0 / 3.0);
    close(&f["wafroc"]["estimate"], 2.0 / 3.0);
    assert!(f["afroc"]["lower"].as_f64().unwrap() < 2.0 / 3.0);
    close(&f["lesion_sensitivity"]["estimate"], 0.5);
    // Intervals from tools/oracle/lesion_fixtures.py (ratio estimator; statsmodels Wilson).
    close(&f["lesion_sensitivity"]["lower"], 0.07565534972143562);
    close(&f["fp_per_image"]["upper"], 0.7465300215363744);
    close(&f["case_sensitivity"]["lower"], 0.2076596008020477);
    close(&f["case_sensitivity"]["upper"], 0.9385080552796037);
    close(&f["fp_per_image"]["estimate"], 2.0 / 6.0);
    close(&f["case_sensitivity"]["estimate"], 2.0 / 3.0);
    close(&f["case_specificity"]["estimate"], 2.0 / 3.0);
    close(
        &f["localisation"]["mean_distance"],
        (10f64.sqrt() / 3.0 + 2.5f64.sqrt()) / 2.0,
    );
    assert_eq!(
        analysis["lesions"]["lesion_types"],
        serde_json::json!([["nodule", 4]])
    );
    let first = kizon(&root, &["analyze", "--json"]).ok().stdout;
    let second = kizon(&root, &["analyze", "--json"]).ok().stdout;
    assert_eq!(first, second);

    // The report shows the lesion section in both languages, byte-identical when rerendered.
    let html_ja = dir.join("r-ja.html");
    let html_en = dir.join("r-en.html");
    for (lang, out) in [("ja", &html_ja), ("en", &html_en)] {
        kizon(
            &root,
            &[
                "report",
                "--lang",
                lang,
                "--format",
                "html",
                "--out",
                out.to_str().unwrap(),
                "--date",
                "2026-12-01",
            ],
        )
        .ok();
    }
    let ja = std::fs::read_to_string(&html_ja).unwrap();
    let en = std::fs::read_to_string(&html_en).unwrap();
    assert!(
        ja.contains("病変単位の評価") && ja.contains("AFROC"),
        "no lesion section (ja)"
    );
    assert!(
        en.contains("Lesion-level evaluation") && en.contains("FROC curve"),
        "no lesion section (en)"
    );
    assert!(en.contains("0.667"), "the FOM is in the report");
    assert!(
        ja.contains("複数読影者による読影試験（MRMC）") && en.contains("AUC by reader"),
        "no MRMC section"
    );
    assert!(
        en.contains("0.778"),
        "R1's unaided AUC 7/9 is in the reader table"
    );
    assert_eq!(ja.matches("<svg").count(), en.matches("<svg").count());
    let again = dir.join("again.html");
    kizon(
        &root,
        &[
            "report",
            "--lang",
            "ja",
            "--format",
            "html",
            "--out",
            again.to_str().unwrap(),
            "--date",
            "2026-12-01",
        ],
    )
    .ok();
    assert_eq!(std::fs::read(&again).unwrap(), ja.as_bytes());
    // The PDF (Typst draws the SVG curves with the embedded fonts) renders and rerenders
    // byte-identically too.
    let pdfs: Vec<Vec<u8>> = ["a.pdf", "b.pdf"]
        .iter()
        .map(|name| {
            let out = dir.join(name);
            kizon(
                &root,
                &[
                    "report",
                    "--lang",
                    "ja",
                    "--format",
                    "pdf",
                    "--out",
                    out.to_str().unwrap(),
                    "--date",
                    "2026-12-01",
                ],
            )
            .ok();
            std::fs::read(out).unwrap()
        })
        .collect();
    assert!(pdfs[0].starts_with(b"%PDF"));
    assert_eq!(pdfs[0], pdfs[1]);

    // Text output of the reference and the analysis; the package carries every mark.
    let text = kizon(&root, &["reference", "show"]).ok().stdout;
    assert!(text.contains("lesions / 病変: 4 in 3 cases from 10 marks (k = 2, or the adjudicator); 1 clusters below k not admitted"), "{text}");
    let text = kizon(&root, &["analyze"]).ok().stdout;
    assert!(text.contains("JAFROC FOM 0.667"), "{text}");
    assert!(
        text.contains("reader study / 読影試験 (MRMC, 3 readers, 6 cases): unaided AUC"),
        "{text}"
    );
    let package = dir.join("package");
    kizon(&root, &["package", "--out", package.to_str().unwrap()]).ok();
    let marks: Value =
        serde_json::from_slice(&std::fs::read(package.join("reference/marks.json")).unwrap())
            .unwrap();
    assert_eq!(
        marks.as_array().unwrap().len(),
        14,
        "10 reader and 4 device marks"
    );
    kizon(dir, &["package", "verify", package.to_str().unwrap()]).ok();

    // A different re-import of the device's marks is not stored but a blocking finding.
    let rerun = write(
        dir,
        "rerun.csv",
        "case_id,image,x,y,score\nC02,1,30,32,0.7\n",
    );
    let changed = kizon(
        &root,
        &[
            "marks",
            "import",
            &rerun,
            "--device-version",
            "1.0",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(changed["changed"], 1);
    let findings = kizon(&root, &["findings", "--json", "--open"]).ok().json();
    let raised: Vec<&Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "device-marks-changed")
        .collect();
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0]["severity"], "blocking");
    assert_eq!(raised[0]["case_ids"], serde_json::json!(["C02"]));
    kizon(&root, &["audit", "verify"]).ok();
}

/// `kizon readers assign --sessions` on the reader-study demo: the demo's readers take part in
/// its two sessions; a reader is given sessions of the protocol only, with the protocol's ids in
/// the hint; `kizon reading order` before a reader's start says why there is no order yet.
#[test]
fn readers_are_assigned_reading_sessions_on_the_command_line() {
    let root = tempfile::tempdir().unwrap();
    let study = root.path().join("study");
    let dir = study.to_str().unwrap();
    kizon(root.path(), &["demo", dir, "--kind", "reader-study"]).ok();
    let unknown = kizon(
        root.path(),
        &[
            "--study",
            dir,
            "readers",
            "assign",
            "R1",
            "--sessions",
            "second-look",
        ],
    )
    .failed();
    assert!(
        unknown.stderr.contains("`second-look`") && unknown.stderr.contains("unaided, aided"),
        "{}",
        unknown.stderr
    );
    let aided = kizon(
        root.path(),
        &[
            "--study",
            dir,
            "readers",
            "assign",
            "T1",
            "--dataset",
            "--sessions",
            "aided",
        ],
    )
    .ok();
    assert!(
        aided.stdout.contains("reader T1 reads in sessions aided"),
        "{}",
        aided.stdout
    );
    assert!(aided.stdout.contains("24 cases newly assigned"));
    let before = kizon(
        root.path(),
        &[
            "--study",
            dir,
            "reading",
            "order",
            "--reader",
            "R1",
            "--session",
            "unaided",
        ],
    )
    .failed();
    assert!(
        before.stderr.contains("has not started session unaided")
            && before.stderr.contains("opens the worklist"),
        "{}",
        before.stderr
    );
    let log = kizon(root.path(), &["--study", dir, "audit", "log"]).ok();
    assert!(
        log.stdout
            .contains("reader T1 assigned reading sessions aided"),
        "{}",
        log.stdout
    );
}

/// The reader-study demo at another size: `--cases 3 --slices 4` is three CT series of four
/// 512×512 RLE slices, ingested, checked, locked and ready for reading; the options are the
/// reader study's only.
#[test]
fn the_reader_study_demo_is_built_at_the_size_asked_for() {
    let root = tempfile::tempdir().unwrap();
    let study = root.path().join("study");
    let dir = study.to_str().unwrap();
    let built = kizon(
        root.path(),
        &[
            "demo",
            dir,
            "--kind",
            "reader-study",
            "--cases",
            "3",
            "--slices",
            "4",
            "--json",
        ],
    )
    .ok();
    assert_eq!(built.json()["verified"], true, "{}", built.stdout);
    let items = kizon(root.path(), &["--study", dir, "items", "--json"])
        .ok()
        .json();
    let items = items.as_array().expect("an array of items");
    assert_eq!(items.len(), 12);
    assert!(
        items.iter().all(|i| i["metadata"]["rows"] == 512
            && i["metadata"]["transfer_syntax"] == "1.2.840.10008.1.2.5"),
        "{items:?}"
    );
    let refused = kizon(
        root.path(),
        &[
            "demo",
            root.path().join("other").to_str().unwrap(),
            "--cases",
            "3",
        ],
    )
    .failed();
    assert!(
        refused.stderr.contains("reader-study demo only"),
        "{}",
        refused.stderr
    );
}
