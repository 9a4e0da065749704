//! The hospital's side end to end, on the real binary and real files: `kizon provider keygen`
//! and `kizon deidentify` at the hospital, the signed hand-over checked by `kizon ingest` at the
//! sponsor, and what a hospital data manager and an attacker would try. The output is read back
//! with independent tools: pydicom (`tests/hospital/dicom_facts.py`) and dicom3tools' `dciodvfy`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

/// The files a hospital hands over in these tests: two patients' MR studies (dicognito's study
/// tree: one patient with two images of one series, one with two studies a day apart), a CT
/// twice (the same file under two names: the sponsor's Q7 checks must still see both), an
/// MR of the first tree's patient ID in three encodings (one SOP Instance UID), a 12-lead ECG,
/// and what must be kept back: an ultrasound, an image with burned-in text, an enhanced MR
/// without Patient ID, a text file.
const CASES: &[(&str, &str)] = &[
    (
        "dicom/dicognito/study-tree/p01_s01_s01_i01.dcm",
        "tree/p01_1.dcm",
    ),
    (
        "dicom/dicognito/study-tree/p01_s01_s01_i02.dcm",
        "tree/p01_2.dcm",
    ),
    (
        "dicom/dicognito/study-tree/p02_s01_s01_i01.dcm",
        "tree/p02_1.dcm",
    ),
    (
        "dicom/dicognito/study-tree/p02_s02_s01_i01.dcm",
        "tree/p02_2.dcm",
    ),
    ("dicom/pydicom/CT_small.dcm", "ct/CT_small.dcm"),
    ("dicom/pydicom/CT_small.dcm", "ct/copy/CT_small.dcm"),
    ("dicom/pydicom/MR_small.dcm", "mr/MR_small.dcm"),
    (
        "dicom/pydicom/MR_small_implicit.dcm",
        "mr/MR_small_implicit.dcm",
    ),
    (
        "dicom/pydicom/MR_small_bigendian.dcm",
        "mr/MR_small_bigendian.dcm",
    ),
    ("dicom/pydicom/waveform_ecg.dcm", "ecg/waveform_ecg.dcm"),
    ("dicom/pydicom-data/US1_UNCR.dcm", "us/US1_UNCR.dcm"),
    ("dicom/deid/GREYSCALE_IMAGE.dcm", "us/GREYSCALE_IMAGE.dcm"),
    ("dicom/pydicom-data/emri_small.dcm", "mr/emri_small.dcm"),
    ("dicom/pydicom/README.txt", "README.txt"),
];
const HANDED_OVER: usize = 10;
const KEPT_BACK: usize = 4;

/// A hospital's working folder: its signing key (`hosp.key`, `hosp.pub`) and the cases.
fn hospital() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    kizon(&dir, &["provider", "keygen", "--out", "hosp"]).ok();
    let cases = dir.join("cases");
    for (from, to) in CASES {
        let target = cases.join(to);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(shared(from), target).unwrap();
    }
    (tmp, dir)
}

/// A sponsor's new study with provider `Hospital A` registered with the hospital's public key.
fn sponsor_trusting(public: &Path) -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = new_study();
    kizon(
        &root,
        &[
            "provider",
            "add",
            "Hospital A",
            "--kind",
            "hospital",
            "--consent",
            "opt-out",
            "--legal-basis",
            "opt-out",
            "--public-key",
            public.to_str().unwrap(),
        ],
    )
    .ok();
    (tmp, root)
}

fn deidentify(dir: &Path, out: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "deidentify",
        "--out",
        out,
        "--signing-key",
        "hosp.key",
        "--key-table",
        "keys.kizon",
        "--json",
    ];
    args.extend_from_slice(extra);
    args.push("cases");
    kizon(dir, &args)
}

/// Every file of a hand-over's `files/`.
fn handed_over(handover: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![handover.join("files")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// pydicom's facts about `files`, by path.
fn facts(files: &[PathBuf]) -> BTreeMap<String, Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hospital/dicom_facts.py");
    let output = Command::new("/usr/bin/python3")
        .arg(script)
        .args(files)
        .output()
        .expect("python3 with pydicom runs (tools/test installs python3-pydicom)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice::<BTreeMap<String, Value>>(&output.stdout).unwrap()
}

fn originals(dir: &Path) -> Vec<PathBuf> {
    CASES
        .iter()
        .filter(|(_, to)| to.ends_with(".dcm"))
        .map(|(_, to)| dir.join("cases").join(to))
        .collect()
}

fn days(date: &str) -> i64 {
    let (y, m, d) = (
        date[0..4].parse::<i64>().unwrap(),
        date[4..6].parse::<i64>().unwrap(),
        date[6..8].parse::<i64>().unwrap(),
    );
    // days from civil (Howard Hinnant's algorithm)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[test]
fn a_hospital_hands_over_de_identified_dicom_that_independent_readers_accept() {
    let (_tmp, dir) = hospital();
    let summary = deidentify(&dir, "handover-1", &[]).ok().json();
    assert_eq!(summary["files"], HANDED_OVER, "{summary}");
    assert_eq!(summary["quarantined"], KEPT_BACK, "{summary}");
    assert_eq!(summary["patients"], 4, "{summary}"); // 4MR1 (tree + MR_small), 4MR2, 1CT1, the ECG's
    let handover = dir.join("handover-1");
    for name in [
        "handover.json",
        "handover.sig",
        "deidentification-record.html",
        "deidentification-record.pdf",
    ] {
        assert!(handover.join(name).is_file(), "{name}");
    }
    // The record as PDF, read back with poppler: Japanese and English, counts, no value.
    let text = Command::new("pdftotext")
        .arg(handover.join("deidentification-record.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("仮名加工記録") && text.contains("De-identification record"),
        "{text}"
    );
    assert!(
        text.contains("Patient's Name") && text.contains("113100"),
        "{text}"
    );
    // The signing key and the profile's hash wrap inside their cells (in groups of 16): no word
    // runs past the right margin of the A4 page (595 pt wide).
    let boxes = Command::new("pdftotext")
        .args(["-bbox"])
        .arg(handover.join("deidentification-record.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    let boxes = String::from_utf8_lossy(&boxes.stdout);
    let widest = boxes
        .split("xMax=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse::<f64>().ok())
        .fold(0.0, f64::max);
    assert!(
        widest > 300.0 && widest < 575.0,
        "a word ends at {widest} pt"
    );
    assert!(
        !text.contains("4MR1") && !text.contains("CompressedSamples"),
        "{text}"
    );
    assert!(!handover.join("keys.kizon").exists());
    assert!(dir.join("handover-1.quarantine/quarantine.json").is_file());

    let output = facts(&handed_over(&handover));
    let input = facts(&originals(&dir));
    assert_eq!(output.len(), HANDED_OVER);
    // Each output's original: the inputs with its fingerprint (the same data in several
    // encodings, such as MR_small explicit and implicit, share one and agree on what is checked;
    // the tree's two images of patient 1 differ only in their UIDs).
    let candidates_of = |file: &Value| -> Vec<&Value> {
        input
            .values()
            .filter(|o| o["fingerprint"] == file["fingerprint"])
            .collect()
    };
    let original_of = |file: &Value| -> &Value {
        let candidates: Vec<&Value> = input
            .values()
            .filter(|o| o["fingerprint"] == file["fingerprint"])
            .collect();
        assert!(!candidates.is_empty(), "no original for {file}");
        for other in &candidates[1..] {
            for key in ["dates", "StudyInstanceUID", "PatientID"] {
                assert_eq!(other[key], candidates[0][key], "{key}");
            }
        }
        candidates[0]
    };

    // Nothing of the originals' identifiers is left, in any element, at any depth.
    let mut identifiers = BTreeSet::new();
    for original in input.values() {
        for key in [
            "PatientName",
            "PatientID",
            "StudyInstanceUID",
            "SOPInstanceUID",
        ] {
            let value = original[key].as_str().unwrap();
            if value.len() > 3 {
                identifiers.insert(value.to_owned());
            }
        }
    }
    let mut shifts: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut sop_of_pseudonym_mr = BTreeSet::new();
    for (path, file) in &output {
        assert_eq!(file["PatientIdentityRemoved"], "YES", "{path}");
        assert_eq!(
            file["methods"],
            serde_json::json!(["113100", "113107", "113108", "113109"]),
            "{path}"
        );
        let pseudonym = file["PatientID"].as_str().unwrap();
        assert!(pseudonym.starts_with("CASE-"), "{path}: {pseudonym}");
        assert_eq!(file["PatientName"], format!("{pseudonym}^"), "{path}");
        for text in file["texts"].as_array().unwrap() {
            let text = text.as_str().unwrap();
            assert!(
                !identifiers.iter().any(|id| text.contains(id.as_str())),
                "{path}: an original identifier survives in {text:?}"
            );
        }
        // Meta and data set agree on the new SOP Instance UID.
        assert_eq!(file["SOPInstanceUID"], file["MediaStorageSOPInstanceUID"]);
        assert!(
            file["SOPInstanceUID"]
                .as_str()
                .unwrap()
                .starts_with("2.25.")
        );
        // Pixels bit-identical: the fingerprint includes the Pixel Data's hash.
        {
            let original = original_of(file);
            // Every date moved by the patient's one shift.
            for (keyword, date) in original["dates"].as_object().unwrap() {
                if keyword == "PatientBirthDate" {
                    // Z in the Basic Profile: gone; the age it implied is written instead.
                    assert!(
                        file["dates"].get(keyword).is_none(),
                        "{path}: birth date kept"
                    );
                    continue;
                }
                let shifted = file["dates"][keyword]
                    .as_str()
                    .unwrap_or_else(|| panic!("{path}: {keyword} dropped"));
                shifts
                    .entry(pseudonym.to_owned())
                    .or_default()
                    .insert(days(shifted) - days(date.as_str().unwrap()));
            }
            let one_instance = candidates_of(file)
                .iter()
                .all(|c| c["SOPInstanceUID"] == original["SOPInstanceUID"]);
            if one_instance && original["PatientID"] == "4MR1" {
                sop_of_pseudonym_mr.insert((
                    original["SOPInstanceUID"].as_str().unwrap().to_owned(),
                    file["SOPInstanceUID"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    for (pseudonym, shift) in &shifts {
        assert_eq!(shift.len(), 1, "{pseudonym}: dates moved by {shift:?}");
        let days = *shift.iter().next().unwrap();
        assert!((-1095..=-365).contains(&days), "{pseudonym}: {days}");
    }
    // The same original UID gives the same new one in every file (MR_small in three encodings).
    let originals_seen: BTreeSet<&String> = sop_of_pseudonym_mr.iter().map(|(o, _)| o).collect();
    assert_eq!(
        originals_seen.len(),
        sop_of_pseudonym_mr.len(),
        "{sop_of_pseudonym_mr:?}"
    );
    assert!(!sop_of_pseudonym_mr.is_empty());

    // Series and studies keep their shape: the tree's first patient has two images of one
    // series, the second two studies a day apart.
    let tree: Vec<&Value> = output
        .values()
        .filter(|f| {
            original_of(f)["StudyInstanceUID"]
                .as_str()
                .unwrap()
                .contains("5458")
        })
        .collect();
    assert_eq!(tree.len(), 4);
    // Their birth dates (1983-02-14/15) are gone; the ages they imply at the study remain.
    let ages: BTreeSet<&str> = tree
        .iter()
        .map(|f| f["PatientAge"].as_str().unwrap())
        .collect();
    assert_eq!(ages, BTreeSet::from(["020Y"]));
    let series: BTreeSet<&str> = tree
        .iter()
        .map(|f| f["SeriesInstanceUID"].as_str().unwrap())
        .collect();
    let studies: BTreeSet<&str> = tree
        .iter()
        .map(|f| f["StudyInstanceUID"].as_str().unwrap())
        .collect();
    assert_eq!((series.len(), studies.len()), (3, 3));

    // dcmtk and dicom3tools read every file, and dciodvfy finds no error the original lacked.
    for path in output.keys() {
        let dump = Command::new("dcmdump")
            .arg(path)
            .output()
            .expect("dcmdump (dcmtk) runs");
        assert!(
            dump.status.success(),
            "{path}: {}",
            String::from_utf8_lossy(&dump.stderr)
        );
    }
    for file in handed_over(&handover) {
        let pixels = output[file.to_str().unwrap()]["pixel_sha256"]
            .as_str()
            .map(str::to_owned);
        let original = input
            .iter()
            .find(|(_, o)| o["pixel_sha256"].as_str().map(str::to_owned) == pixels)
            .map(|(p, _)| PathBuf::from(p))
            .unwrap();
        let before = dciodvfy_errors(&original);
        let after = dciodvfy_errors(&file);
        let new: Vec<&String> = after.difference(&before).collect();
        assert!(
            new.is_empty(),
            "{}: new dciodvfy errors {new:?}",
            original.display()
        );
    }
}

/// dciodvfy's error lines, without the values and numbers that differ between two files.
fn dciodvfy_errors(file: &Path) -> BTreeSet<String> {
    let output = Command::new("dciodvfy")
        .arg(file)
        .output()
        .expect("dciodvfy (dicom3tools) runs");
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .chain(String::from_utf8_lossy(&output.stdout).lines())
        .filter(|l| l.starts_with("Error"))
        .map(|l| {
            l.split(" - value")
                .next()
                .unwrap()
                .chars()
                .filter(|c| !c.is_ascii_digit())
                .collect()
        })
        .collect()
}

#[test]
fn the_sponsor_ingests_a_signed_hand_over_and_check_finds_no_identifier_in_it() {
    let (_tmp, dir) = hospital();
    deidentify(&dir, "handover-1", &[]).ok();
    let (_study_tmp, root) = sponsor_trusting(&dir.join("hosp.pub"));
    let handover = dir.join("handover-1");
    let ingest = kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "Hospital A",
            handover.to_str().unwrap(),
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(ingest["added"], HANDED_OVER, "{ingest}");
    kizon(&root, &["check"]).ok();
    let findings = kizon(&root, &["findings", "--json"]).ok().json();
    let q1: Vec<&Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("identifying"))
        .collect();
    assert!(q1.is_empty(), "{q1:#?}");
    // The CT given twice arrives twice: two items with one content, for the Q7 checks to see.
    let items = kizon(&root, &["items", "--json"]).ok().json();
    let mut contents: BTreeMap<String, usize> = BTreeMap::new();
    for item in items.as_array().unwrap() {
        *contents
            .entry(item["sha256"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(
        contents.values().filter(|n| **n == 2).count(),
        1,
        "{contents:?}"
    );
    let log = kizon(&root, &["audit", "log", "--json"]).ok().json();
    let handover_entry = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["command"] == "handover")
        .expect("the hand-over is in the ledger");
    let detail: Value = serde_json::from_str(handover_entry["detail"].as_str().unwrap()).unwrap();
    assert_eq!(
        (detail["files"].as_u64(), detail["quarantined"].as_u64()),
        (Some(10), Some(4)),
        "{detail}"
    );
    kizon(&root, &["audit", "verify"]).ok();
    // The evidence package carries the manifest as received, verifiable offline with the key.
    let package = root.join("package");
    kizon(&root, &["package", "--out", package.to_str().unwrap()]).ok();
    let packed =
        std::fs::read(package.join("providers/handovers/Hospital_A/1-handover.json")).unwrap();
    assert_eq!(
        packed,
        std::fs::read(handover.join("handover.json")).unwrap()
    );
    let listed: Value =
        serde_json::from_slice(&std::fs::read(package.join("providers/handovers.json")).unwrap())
            .unwrap();
    let signature = std::fs::read_to_string(handover.join("handover.sig")).unwrap();
    assert!(signature.contains(listed["handovers"][0]["signature"].as_str().unwrap()));
    kizon(&root, &["package", "verify", package.to_str().unwrap()]).ok();
    // A rerun adds nothing and records the hand-over once.
    let again = kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "Hospital A",
            handover.to_str().unwrap(),
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(again["added"], 0);
    let log = kizon(&root, &["audit", "log", "--json"]).ok().json();
    let count = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["command"] == "handover")
        .count();
    assert_eq!(count, 1);
}

/// A hospital's folder with a fresh hand-over, and a sponsor's study with Hospital A's key
/// registered (after the provider, with `kizon provider key`).
struct Sponsor {
    _hospital: tempfile::TempDir,
    _study: tempfile::TempDir,
    root: PathBuf,
    handover: PathBuf,
}

fn sponsor_and_handover() -> Sponsor {
    let (hospital_tmp, dir) = hospital();
    deidentify(&dir, "handover-1", &[]).ok();
    let (study_tmp, root) = new_study();
    kizon(
        &root,
        &[
            "provider",
            "add",
            "Hospital A",
            "--kind",
            "hospital",
            "--consent",
            "opt-out",
            "--legal-basis",
            "opt-out",
        ],
    )
    .ok();
    let public = dir.join("hosp.pub");
    kizon(
        &root,
        &[
            "provider",
            "key",
            "Hospital A",
            "--public-key",
            public.to_str().unwrap(),
        ],
    )
    .ok();
    Sponsor {
        _hospital: hospital_tmp,
        _study: study_tmp,
        root,
        handover: dir.join("handover-1"),
    }
}

fn ingest_refused(root: &Path, handover: &Path) -> String {
    let head = head_seq(root);
    let run = kizon(
        root,
        &[
            "ingest",
            "--provider",
            "Hospital A",
            handover.to_str().unwrap(),
        ],
    )
    .failed();
    assert_eq!(head_seq(root), head, "something was stored: {}", run.stderr);
    let items = kizon(root, &["items", "--json"]).ok().json();
    assert_eq!(items.as_array().map_or(0, Vec::len), 0);
    run.error_line().to_owned()
}

#[test]
fn an_altered_missing_or_added_file_or_a_foreign_key_is_refused_with_nothing_stored() {
    let sponsor = sponsor_and_handover();
    let (root, handover) = (&sponsor.root, &sponsor.handover);
    let files = handed_over(handover);

    // One byte of one file's pixels changed.
    let victim = &files[0];
    let original = std::fs::read(victim).unwrap();
    let mut altered = original.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    std::fs::write(victim, &altered).unwrap();
    let error = ingest_refused(root, handover);
    assert!(
        error.contains(victim.file_name().unwrap().to_str().unwrap()) && error.contains("altered"),
        "{error}"
    );
    std::fs::write(victim, &original).unwrap();

    // A file removed.
    std::fs::rename(victim, handover.join("aside")).unwrap();
    let error = ingest_refused(root, handover);
    assert!(
        error.contains("aside") && error.contains("not list"),
        "{error}"
    );
    std::fs::rename(handover.join("aside"), victim).unwrap();
    let moved = handover.parent().unwrap().join("aside.dcm");
    std::fs::rename(victim, &moved).unwrap();
    let error = ingest_refused(root, handover);
    assert!(error.contains("missing"), "{error}");
    std::fs::rename(&moved, victim).unwrap();

    // The PDF record changed after signing.
    let record = handover.join("deidentification-record.pdf");
    let pdf = std::fs::read(&record).unwrap();
    let mut changed = pdf.clone();
    changed.extend_from_slice(b"\n%");
    std::fs::write(&record, &changed).unwrap();
    let error = ingest_refused(root, handover);
    assert!(error.contains("deidentification-record.pdf"), "{error}");
    std::fs::write(&record, &pdf).unwrap();

    // A file added, even hidden.
    let extra = victim.parent().unwrap().join(".extra.dcm");
    std::fs::write(&extra, &original).unwrap();
    let error = ingest_refused(root, handover);
    assert!(error.contains(".extra.dcm"), "{error}");
    std::fs::remove_file(&extra).unwrap();

    // The manifest edited (a file's hash replaced to match an altered file).
    let manifest_path = handover.join("handover.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    std::fs::write(
        &manifest_path,
        manifest.replace("\"patients\": 4", "\"patients\": 5"),
    )
    .unwrap();
    let error = ingest_refused(root, handover);
    assert!(error.contains("changed after it was signed"), "{error}");
    std::fs::write(&manifest_path, &manifest).unwrap();

    // Signed again with another hospital's key, manifest and signature both.
    let other = tempfile::tempdir().unwrap();
    kizon(other.path(), &["provider", "keygen", "--out", "other"]).ok();
    let second = other.path().join("cases");
    std::fs::create_dir_all(&second).unwrap();
    std::fs::copy(shared("dicom/pydicom/CT_small.dcm"), second.join("ct.dcm")).unwrap();
    kizon(
        other.path(),
        &[
            "deidentify",
            "--out",
            "forged",
            "--signing-key",
            "other.key",
            "--key-table",
            "k.kizon",
            "cases",
        ],
    )
    .ok();
    let error = ingest_refused(root, &other.path().join("forged"));
    assert!(error.contains("not a registered key"), "{error}");

    // Unsigned data from a provider that signs.
    let error = ingest_refused(root, &second);
    assert!(error.contains("not a signed hand-over"), "{error}");

    // Intact again: accepted.
    kizon(
        root,
        &[
            "ingest",
            "--provider",
            "Hospital A",
            handover.to_str().unwrap(),
        ],
    )
    .ok();
    kizon(root, &["audit", "verify"]).ok();
}

#[test]
fn the_same_patients_keep_their_pseudonyms_and_uids_in_a_later_hand_over() {
    let (_tmp, dir) = hospital();
    let first = deidentify(&dir, "handover-1", &[]).ok().json();
    let second = deidentify(&dir, "handover-2", &[]).ok().json();
    assert_eq!(second["new_patients"], 0, "{second}");
    assert_eq!(first["patients"], second["patients"]);
    let names = |h: &str| -> Vec<String> {
        handed_over(&dir.join(h))
            .iter()
            .map(|p| p.strip_prefix(dir.join(h)).unwrap().display().to_string())
            .collect()
    };
    // Same content, same names: the files are byte-identical.
    assert_eq!(names("handover-1"), names("handover-2"));
    for (a, b) in handed_over(&dir.join("handover-1"))
        .iter()
        .zip(handed_over(&dir.join("handover-2")))
    {
        assert_eq!(
            std::fs::read(a).unwrap(),
            std::fs::read(&b).unwrap(),
            "{}",
            a.display()
        );
    }
}

#[test]
fn lookup_gives_the_originals_back_and_is_recorded() {
    let (_tmp, dir) = hospital();
    deidentify(&dir, "handover-1", &[]).ok();
    let file = &handed_over(&dir.join("handover-1"))[0];
    let pseudonym = file
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let found = kizon(
        &dir,
        &[
            "deidentify",
            "lookup",
            &pseudonym,
            "--key-table",
            "keys.kizon",
            "--json",
        ],
    )
    .ok()
    .json();
    let original_ids: BTreeSet<String> = facts(&originals(&dir))
        .values()
        .map(|f| f["PatientID"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        original_ids.contains(found["patient_id"].as_str().unwrap()),
        "{found}"
    );
    assert_eq!(found["pseudonym"], pseudonym.as_str());
    let missing = kizon(
        &dir,
        &[
            "deidentify",
            "lookup",
            "CASE-9999",
            "--key-table",
            "keys.kizon",
        ],
    )
    .failed();
    assert!(
        missing.error_line().contains("CASE-9999"),
        "{}",
        missing.stderr
    );
    // The table is not plain text.
    let table = std::fs::read_to_string(dir.join("keys.kizon")).unwrap();
    assert!(!table.contains(found["patient_id"].as_str().unwrap()));
}

#[test]
fn a_wrong_passphrase_leaves_the_correspondence_table_untouched_and_makes_nothing() {
    let (_tmp, dir) = hospital();
    deidentify(&dir, "handover-1", &[]).ok();
    let before = std::fs::read(dir.join("keys.kizon")).unwrap();
    let run = output(
        command(
            &dir,
            &[
                "deidentify",
                "--out",
                "handover-2",
                "--signing-key",
                "hosp.key",
                "--key-table",
                "keys.kizon",
                "cases",
            ],
        )
        .env("KIZON_KEY_TABLE_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap(),
    )
    .failed();
    assert!(run.error_line().contains("does not open"), "{}", run.stderr);
    assert_eq!(std::fs::read(dir.join("keys.kizon")).unwrap(), before);
    assert!(!dir.join("handover-2").exists() && !dir.join("handover-2.quarantine").exists());
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("staging"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_profile_with_an_unknown_option_is_refused_with_its_line_and_column() {
    let (_tmp, dir) = hospital();
    let profile = kizon(&dir, &["deidentify", "--print-profile"]).ok().stdout;
    assert!(profile.contains("retain-longitudinal-modified-dates"));
    std::fs::write(
        dir.join("profile.toml"),
        profile.replace(
            "\"retain-device-identity\",",
            "\"retain-device-identity\", \"keep-names\",",
        ),
    )
    .unwrap();
    let run = deidentify(&dir, "handover-1", &["--profile", "profile.toml"]).failed();
    let error = run.error_line();
    assert!(
        error.contains("profile.toml")
            && error.contains("keep-names")
            && error.contains("line 16, column"),
        "{error}"
    );
    assert!(!dir.join("handover-1").exists());
}

#[test]
fn the_quarantine_lists_what_was_kept_back_and_records_a_review() {
    let (_tmp, dir) = hospital();
    deidentify(&dir, "handover-1", &[]).ok();
    let list = kizon(&dir, &["deidentify", "review", "handover-1", "--json"])
        .ok()
        .json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), KEPT_BACK);
    let reasons: Vec<&str> = list.iter().map(|f| f["reason"].as_str().unwrap()).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("BurnedInAnnotation is YES")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("modality US")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("without Patient ID")),
        "{reasons:?}"
    );
    // The copies are the originals, at the hospital.
    let burned = list
        .iter()
        .find(|f| f["original"].as_str().unwrap().contains("GREYSCALE"))
        .unwrap();
    let copy = dir
        .join("handover-1.quarantine")
        .join(burned["stored"].as_str().unwrap());
    assert_eq!(
        std::fs::read(copy).unwrap(),
        std::fs::read(shared("dicom/deid/GREYSCALE_IMAGE.dcm")).unwrap()
    );
    // Nothing of the kept-back files is in the hand-over's manifest but counts.
    let manifest = std::fs::read_to_string(dir.join("handover-1/handover.json")).unwrap();
    assert!(!manifest.contains("GREYSCALE") && !manifest.contains("US1_UNCR"));
    let n = burned["number"].as_u64().unwrap().to_string();
    kizon(
        &dir,
        &[
            "deidentify",
            "review",
            "handover-1",
            "--reviewed",
            &n,
            "--note",
            "name in pixels; left out",
        ],
    )
    .ok();
    let list = kizon(&dir, &["deidentify", "review", "handover-1", "--json"])
        .ok()
        .json();
    let reviewed = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["reviewed"].is_null())
        .count();
    assert_eq!(reviewed, 1);
}

#[test]
fn a_killed_deidentify_leaves_no_hand_over_or_a_complete_one() {
    let (_tmp, dir) = hospital();
    // More work, so that a kill lands in the middle: the whole DICOM testdata.
    let all = shared("dicom");
    for delay_ms in [30u64, 120, 400] {
        let out = format!("killed-{delay_ms}");
        let mut child = command(
            &dir,
            &[
                "deidentify",
                "--out",
                &out,
                "--signing-key",
                "hosp.key",
                "--key-table",
                "keys.kizon",
                all.to_str().unwrap(),
            ],
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let handover = dir.join(&out);
        if handover.exists() {
            // complete: it verifies at a sponsor
            assert!(handover.join("handover.sig").is_file(), "{out}");
        }
        // The table, when there is one, opens (the old or the new one, never half of either).
        if dir.join("keys.kizon").exists() {
            let lookup = kizon(
                &dir,
                &[
                    "deidentify",
                    "lookup",
                    "CASE-0001",
                    "--key-table",
                    "keys.kizon",
                ],
            );
            assert!(
                lookup.code == 0 || lookup.stderr.contains("no patient"),
                "{}",
                lookup.stderr
            );
        }
        // A rerun completes.
        let _ = std::fs::remove_dir_all(&handover);
        let _ = std::fs::remove_dir_all(dir.join(format!("{out}.quarantine")));
        kizon(
            &dir,
            &[
                "deidentify",
                "--out",
                &out,
                "--signing-key",
                "hosp.key",
                "--key-table",
                "keys.kizon",
                all.to_str().unwrap(),
            ],
        )
        .ok();
    }
}

/// `save2gdf -JSON` (Debian's biosig-tools, an independent EDF/MFER reader) on `file`.
fn biosig(file: &Path) -> Value {
    let output = Command::new("save2gdf")
        .arg("-JSON")
        .arg(file)
        .output()
        .expect("save2gdf (biosig-tools) runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let json = &text[text.find('{').expect("JSON from save2gdf")..];
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

#[test]
fn waveforms_and_video_are_handed_over_clean_and_the_sponsor_finds_no_identifier() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    kizon(dir, &["provider", "keygen", "--out", "hosp"]).ok();
    // An export laid out by patient: the EEG's own EDF+ patient code names its patient; the
    // ECG record and the video are named by their folders; one EDF lies outside any folder.
    copy_as(
        &dir.join("cases/PT-0001"),
        &[("waveform/edf/test_generator.edf", "eeg.edf")],
    );
    copy_as(
        &dir.join("cases/PT-0002"),
        &[
            ("waveform/wfdb/100.hea", "100.hea"),
            ("waveform/wfdb/100.dat", "100.dat"),
            ("waveform/wfdb/100.atr", "100.atr"),
        ],
    );
    copy_as(
        &dir.join("cases/PT-0003"),
        &[("video/bikes.mp4", "endoscopy.mp4")],
    );
    copy_as(
        &dir.join("cases"),
        &[("waveform/edf/test_utf8.edf", "loose.edf")],
    );
    let summary = deidentify(dir, "handover", &[]).ok().json();
    assert_eq!(
        (
            summary["files"].as_u64(),
            summary["patients"].as_u64(),
            summary["quarantined"].as_u64()
        ),
        (Some(5), Some(3), Some(1)),
        "{summary}"
    );
    let files = handed_over(&dir.join("handover"));
    let find = |extension: &str| {
        files
            .iter()
            .find(|f| f.extension().is_some_and(|e| e == extension))
            .unwrap()
            .clone()
    };

    // EDF+: biosig reads the pseudonym, no birth date (so no age), the shifted start.
    let eeg = biosig(&find("edf"));
    assert!(
        eeg["Patient"]["Id"].as_str().unwrap().starts_with("CASE-"),
        "{eeg}"
    );
    assert!(
        eeg["Patient"].get("Age").is_none() && eeg["Patient"].get("Birthday").is_none(),
        "{eeg}"
    );
    let original = biosig(&shared("waveform/edf/test_generator.edf"));
    assert_ne!(eeg["StartOfRecording"], original["StartOfRecording"]);
    assert_eq!(eeg["NumberOfSamples"], original["NumberOfSamples"]);
    let edf = std::fs::read(find("edf")).unwrap();
    assert!(!edf.windows(6).any(|w| w == b"Muller") && !edf.windows(8).any(|w| w == b"abcxyz99"));

    // WFDB: the header's comments gone, the signal and annotation files byte-identical.
    let header = std::fs::read_to_string(find("hea")).unwrap();
    assert!(!header.contains('#'), "{header}");
    assert_eq!(
        std::fs::read(find("dat")).unwrap(),
        std::fs::read(shared("waveform/wfdb/100.dat")).unwrap()
    );
    assert_eq!(
        std::fs::read(find("atr")).unwrap(),
        std::fs::read(shared("waveform/wfdb/100.atr")).unwrap()
    );

    // Video: same size, no metadata box left (the ffmpeg tag of the original is gone).
    let video = std::fs::read(find("mp4")).unwrap();
    let source = std::fs::read(shared("video/bikes.mp4")).unwrap();
    assert_eq!(video.len(), source.len());
    assert!(source.windows(4).any(|w| w == b"udta") && !video.windows(4).any(|w| w == b"udta"));

    // The loose EDF was kept back, with the reason.
    let list = kizon(dir, &["deidentify", "review", "handover", "--json"])
        .ok()
        .json();
    assert!(
        list[0]["reason"]
            .as_str()
            .unwrap()
            .contains("patient's folder"),
        "{list}"
    );

    // The sponsor: everything ingested, recognised as before, and no Q1 finding.
    let (_study, root) = sponsor_trusting(&dir.join("hosp.pub"));
    let handover = dir.join("handover");
    let ingest = kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "Hospital A",
            handover.to_str().unwrap(),
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(
        ingest["by_kind"],
        serde_json::json!({"edf": 1, "video": 1, "wfdb": 3}),
        "{ingest}"
    );
    kizon(&root, &["check"]).ok();
    let findings = kizon(&root, &["findings", "--json"]).ok().json();
    let q1: Vec<&Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let rule = f["rule"].as_str().unwrap();
            rule.starts_with("identifying") || rule == "video-metadata"
        })
        .collect();
    assert!(q1.is_empty(), "{q1:#?}");
}

/// pydicom and numpy on an original and its blanked output (`tests/hospital/blanked.py`).
fn blanked(original: &Path, output: &Path, rectangles: &[[u32; 4]]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hospital/blanked.py");
    let mut command = Command::new("/usr/bin/python3");
    command.arg(script).arg(original).arg(output);
    for rectangle in rectangles {
        command.args(rectangle.iter().map(u32::to_string));
    }
    let out = command
        .output()
        .expect("python3 with pydicom and numpy runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn burned_in_text_is_blanked_by_a_profile_rule_and_every_other_pixel_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    kizon(dir, &["provider", "keygen", "--out", "hosp"]).ok();
    // deid-data's ultrasounds show a patient's name, ID, birth date and the hospital in their
    // top band (GREYSCALE_IMAGE says BurnedInAnnotation YES, RGB_IMAGE says nothing).
    copy_as(
        &dir.join("cases"),
        &[
            ("dicom/deid/GREYSCALE_IMAGE.dcm", "grey.dcm"),
            ("dicom/deid/RGB_IMAGE.dcm", "rgb.dcm"),
            ("dicom/pydicom-data/OBXXXX1A_rle.dcm", "rle.dcm"),
            ("dicom/pydicom-data/US1_UNCR.dcm", "logiq.dcm"),
        ],
    );
    let profile = kizon(dir, &["deidentify", "--print-profile"]).ok().stdout;
    let rules = r#"
[[pixels.blank]]
name = "EPIQ 5G header band"
modality = "US"
model = "EPIQ 5G"
rows = 768
columns = 1024
rectangles = [[0, 0, 1024, 40]]

[[pixels.blank]]
name = "S2000 header"
modality = "US"
model = "S2000"
rectangles = [[0, 0, 1024, 60], [0, 700, 1024, 68]]

[[pixels.blank]]
name = "CX50 header"
modality = "US"
model = "CX50"
rectangles = [[0, 0, 800, 40]]
"#;
    std::fs::write(dir.join("profile.toml"), format!("{profile}{rules}")).unwrap();
    let summary = deidentify(dir, "handover", &["--profile", "profile.toml"])
        .ok()
        .json();
    assert_eq!(
        (summary["files"].as_u64(), summary["quarantined"].as_u64()),
        (Some(2), Some(2)),
        "{summary}"
    );

    let files = handed_over(&dir.join("handover"));
    let facts = facts(&files);
    for (original, rectangles) in [
        ("dicom/deid/GREYSCALE_IMAGE.dcm", vec![[0, 0, 1024, 40]]),
        (
            "dicom/deid/RGB_IMAGE.dcm",
            vec![[0, 0, 1024, 60], [0, 700, 1024, 68]],
        ),
    ] {
        let original = shared(original);
        // Its output: the file whose pixels, outside the rectangles, are the original's.
        let output = files
            .iter()
            .map(|f| (f, blanked(&original, f, &rectangles)))
            .find(|(_, r)| {
                r["shape"] == blanked(&original, &original, &rectangles)["shape"]
                    && r["outside_changed"] == 0
            })
            .unwrap_or_else(|| panic!("{}: no output keeps its pixels", original.display()));
        let (file, result) = output;
        assert_eq!(result["inside_not_zero"], 0, "{result}");
        assert!(
            result["inside_before_not_zero"].as_u64().unwrap() > 100,
            "the rectangle held text: {result}"
        );
        let fact = &facts[file.to_str().unwrap()];
        assert!(
            fact["methods"]
                .as_array()
                .unwrap()
                .contains(&Value::from("113101")),
            "{fact}"
        );
    }
    let list = kizon(dir, &["deidentify", "review", "handover", "--json"])
        .ok()
        .json();
    let reasons: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("compressed")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("no pixel rule")),
        "{reasons:?}"
    );
    let record =
        std::fs::read_to_string(dir.join("handover/deidentification-record.html")).unwrap();
    assert!(record.contains("EPIQ 5G header band") && record.contains("pixel rectangles blanked"));

    // A rule too narrow for the S2000 (its patient ID line at y = 36 stays): OCR reads the
    // blanked image again and keeps it at the hospital.
    let narrow = rules.replace(
        "rectangles = [[0, 0, 1024, 60], [0, 700, 1024, 68]]",
        "rectangles = [[0, 0, 1024, 30]]",
    );
    std::fs::write(dir.join("narrow.toml"), format!("{profile}{narrow}")).unwrap();
    let summary = deidentify(dir, "narrow", &["--profile", "narrow.toml"])
        .ok()
        .json();
    assert_eq!(
        (summary["files"].as_u64(), summary["quarantined"].as_u64()),
        (Some(1), Some(3)),
        "{summary}"
    );
    let list = kizon(dir, &["deidentify", "review", "narrow", "--json"])
        .ok()
        .json();
    let kept = list
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["original"] == "rgb.dcm")
        .unwrap();
    assert!(
        kept["reason"].as_str().unwrap().contains("widen the rule"),
        "{kept}"
    );
}

#[test]
fn a_cp932_specimen_table_is_handed_over_by_column_and_its_patients_match_their_images() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    kizon(dir, &["provider", "keygen", "--out", "hosp"]).ok();
    copy_as(
        &dir.join("cases/ct"),
        &[("dicom/pydicom/CT_small.dcm", "ct.dcm")],
    );
    // A laboratory export in CP932, as Japanese hospital systems write it; patient 1CT1 is also
    // the CT's patient.
    let table = "患者ID,氏名,検体ID,採取日,結果\r\n1CT1,山田太郎,S-000123,2024/03/01,12.5\r\nP-777,佐藤花子,S-000124,2024-03-02 09:30,7.1\r\n";
    let encoded = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import sys; sys.stdout.buffer.write(sys.stdin.read().encode('cp932'))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(table.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap()
        .stdout;
    assert!(std::str::from_utf8(&encoded).is_err(), "CP932, not UTF-8");
    std::fs::write(dir.join("cases/specimens.csv"), &encoded).unwrap();

    // Without [tables] in the profile a table is kept back.
    let summary = deidentify(dir, "plain", &[]).ok().json();
    assert_eq!(summary["quarantined"], 1, "{summary}");

    let profile = kizon(dir, &["deidentify", "--print-profile"]).ok().stdout;
    let tables = "\n[tables]\npatient = \"患者ID\"\ndrop = [\"氏名\"]\npseudonymise = [\"検体ID\"]\nshift_dates = [\"採取日\"]\n";
    std::fs::write(dir.join("profile.toml"), format!("{profile}{tables}")).unwrap();
    let summary = deidentify(dir, "handover", &["--profile", "profile.toml"])
        .ok()
        .json();
    assert_eq!(
        (summary["files"].as_u64(), summary["quarantined"].as_u64()),
        (Some(2), Some(0)),
        "{summary}"
    );
    assert_eq!(summary["patients"], 2, "1CT1 (the CT and a row) and P-777");

    let files = handed_over(&dir.join("handover"));
    let csv = files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "csv"))
        .unwrap();
    let text = std::fs::read_to_string(csv).expect("UTF-8 out");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "患者ID,検体ID,採取日,結果");
    assert!(
        !text.contains("山田")
            && !text.contains("佐藤")
            && !text.contains("S-000123")
            && !text.contains("1CT1")
    );
    let ct = files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "dcm"))
        .unwrap();
    let ct_pseudonym = ct.parent().unwrap().file_name().unwrap().to_str().unwrap();
    let first: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(
        first[0], ct_pseudonym,
        "the same patient, the same pseudonym in the table and the image"
    );
    assert!(
        first[1].starts_with("ID-") && first[3] == "12.5",
        "{first:?}"
    );
    // The row's date moved by its patient's shift, as the look-up gives it.
    let found = kizon(
        dir,
        &[
            "deidentify",
            "lookup",
            ct_pseudonym,
            "--key-table",
            "keys.kizon",
            "--json",
        ],
    )
    .ok()
    .json();
    let shift = found["shift_days"].as_i64().unwrap();
    let expected = days("20240301") + shift;
    let written = first[2].replace('/', "");
    assert_eq!(days(&written), expected, "{first:?}");
    let second: Vec<&str> = lines[2].split(',').collect();
    assert!(
        second[2].ends_with(" 09:30") && second[2].as_bytes()[4] == b'-',
        "the form kept: {second:?}"
    );
}

/// A throwaway Orthanc (Debian's `orthanc` with `orthanc-dicomweb`, installed by tools/test) in
/// a temporary folder on free ports; stopped when dropped.
struct Orthanc {
    child: std::process::Child,
    http: u16,
}

impl Drop for Orthanc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP request to the test's Orthanc, without a client library: the status and body.
fn http(port: u16, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))
        .ok()
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let start = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(raw.len(), |p| p + 4);
    (status, raw[start..].to_vec())
}

fn orthanc(dir: &Path) -> Orthanc {
    let (http_port, dicom_port) = (free_port(), free_port());
    let storage = dir.join("orthanc-db");
    let config = serde_json::json!({
        "Name": "kizon-test",
        "StorageDirectory": storage,
        "IndexDirectory": storage,
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "RemoteAccessAllowed": false,
        "AuthenticationEnabled": false,
        "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"],
        "DicomWeb": { "Enable": true, "Root": "/dicom-web/" }
    });
    let path = dir.join("orthanc.json");
    std::fs::write(&path, config.to_string()).unwrap();
    // Debian installs it in /usr/sbin, which a user's PATH may lack.
    let program = if Path::new("/usr/sbin/Orthanc").exists() {
        "/usr/sbin/Orthanc"
    } else {
        "Orthanc"
    };
    let child = Command::new(program)
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("Orthanc (Debian's orthanc, installed by tools/test) runs");
    let server = Orthanc {
        child,
        http: http_port,
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", http_port)).is_ok()
            && http(http_port, "GET", "/system", b"").0 == 200
        {
            return server;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("Orthanc did not answer on port {http_port}");
}

#[test]
fn cases_are_pulled_from_a_pacs_over_dicomweb_and_no_identifiable_file_stays_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pacs = orthanc(dir);
    for file in [
        "dicom/dicognito/study-tree/p01_s01_s01_i01.dcm",
        "dicom/dicognito/study-tree/p01_s01_s01_i02.dcm",
        "dicom/dicognito/study-tree/p02_s01_s01_i01.dcm",
        "dicom/pydicom/CT_small.dcm",
    ] {
        let (status, body) = http(
            pacs.http,
            "POST",
            "/instances",
            &std::fs::read(shared(file)).unwrap(),
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
    kizon(dir, &["provider", "keygen", "--out", "hosp"]).ok();
    std::fs::write(
        dir.join("list.txt"),
        "# the study's cases\npatient:4MR1\npatient:1CT1\nACC-NOT-THERE\n",
    )
    .unwrap();
    let url = format!("http://127.0.0.1:{}/dicom-web", pacs.http);
    let run = kizon(
        dir,
        &[
            "deidentify",
            "--out",
            "handover",
            "--signing-key",
            "hosp.key",
            "--key-table",
            "keys.kizon",
            "--from-dicomweb",
            &url,
            "--accessions",
            "list.txt",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(run["pulled"]["studies"], 2, "{run}");
    assert_eq!(run["pulled"]["files"], 3, "{run}");
    assert_eq!(run["pulled"]["not_found"], serde_json::json!([3]), "{run}");
    assert_eq!(
        (run["files"].as_u64(), run["patients"].as_u64()),
        (Some(3), Some(2)),
        "{run}"
    );
    // Only the hand-over and its quarantine are left: the pulled files are gone.
    let mut left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.starts_with("handover"))
        .collect();
    left.sort();
    assert_eq!(left, ["handover", "handover.quarantine"]);
    let output = facts(&handed_over(&dir.join("handover")));
    for file in output.values() {
        assert!(
            file["PatientID"].as_str().unwrap().starts_with("CASE-"),
            "{file}"
        );
        assert!(!file["texts"].to_string().contains("4MR1"));
    }
    // An unreachable PACS is a clear error, and nothing is made.
    let refused = kizon(
        dir,
        &[
            "deidentify",
            "--out",
            "second",
            "--signing-key",
            "hosp.key",
            "--key-table",
            "keys.kizon",
            "--from-dicomweb",
            &format!("http://127.0.0.1:{}/dicom-web", free_port()),
            "--accessions",
            "list.txt",
        ],
    )
    .failed();
    assert!(
        refused.error_line().contains("QIDO-RS"),
        "{}",
        refused.stderr
    );
    assert!(!dir.join("second").exists());
}

#[test]
fn a_case_list_handed_over_with_the_files_keeps_q2_and_q7_working_on_shifted_dates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    kizon(dir, &["provider", "keygen", "--out", "hosp"]).ok();
    copy_as(
        &dir.join("cases/ct"),
        &[("dicom/pydicom/CT_small.dcm", "ct.dcm")],
    );
    copy_as(
        &dir.join("cases/mr"),
        &[("dicom/pydicom/MR_small.dcm", "mr.dcm")],
    );
    copy_as(
        &dir.join("cases/extra"),
        &[("dicom/pydicom/MR_small_implicit.dcm", "mr.dcm")],
    );
    // CT_small was acquired 1997-04-30, after its case's collection on 1997-04-01: not existing
    // data (Q2). Were only the image's dates shifted (back by a year or more), it would seem
    // acquired before. MR_small (2004-08-26) has a diagnosis a week after it; were its date not
    // shifted with the image's, it would seem years after (Q7 chronology). The patient column
    // holds the hospital's own IDs: they must not leave.
    // Its other columns follow the profile's table rules: the name dropped, the accession
    // number replaced by a keyed token, the profile's patient column by the pseudonym.
    std::fs::write(
        dir.join("cases/cases.csv"),
        "case_id,path,collection_date,diagnosis_date,diagnosis,patient_key,name,accession,mrn\nC1,ct,1997/04/01,,nodule,MRN-0001,SATO^HANAKO,A0412,77001\nC2,mr,2024-01-01,2004-09-02,none,MRN-0002,KATO^KENJI,A0413,77002\n",
    )
    .unwrap();
    let default_profile = kizon(dir, &["deidentify", "--print-profile"]).ok().stdout;
    std::fs::write(
        dir.join("profile.toml"),
        format!(
            "{default_profile}\n[tables]\npatient = \"mrn\"\ndrop = [\"name\"]\npseudonymise = [\"accession\"]\n"
        ),
    )
    .unwrap();
    let summary = kizon(
        dir,
        &[
            "deidentify",
            "--out",
            "handover",
            "--signing-key",
            "hosp.key",
            "--key-table",
            "keys.kizon",
            "--profile",
            "profile.toml",
            "--case-list",
            "cases/cases.csv",
            "--json",
            "cases",
        ],
    )
    .ok()
    .json();
    // The file in no row of the case list is kept back; the case list itself, inside the folder
    // given, is not data.
    assert_eq!(
        (summary["files"].as_u64(), summary["quarantined"].as_u64()),
        (Some(2), Some(1)),
        "{summary}"
    );
    let handed = std::fs::read_to_string(dir.join("handover/cases.csv")).unwrap();
    assert!(
        handed.starts_with(
            "case_id,path,accession,collection_date,diagnosis,diagnosis_date,mrn,patient_key\n"
        ),
        "{handed}"
    );
    assert!(
        !handed.contains("1990")
            && !handed.contains("2024-01-01")
            && !handed.contains("_original")
            && !handed.contains("MRN-")
            && !handed.contains("7700")
            && !handed.contains("A041")
            && !handed.contains('^'),
        "{handed}"
    );
    // Each row's patient is the pseudonym its file was handed over under; the accession number
    // a keyed token.
    for line in handed.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let folder = cells[1].split('/').nth(1).unwrap();
        assert_eq!((cells[6], cells[7]), (folder, folder), "{handed}");
        assert!(cells[2].starts_with("ID-"), "{handed}");
    }
    assert!(
        handed
            .lines()
            .skip(1)
            .all(|l| l.split(',').nth(1).unwrap().starts_with("files/CASE-")),
        "{handed}"
    );

    // At the sponsor the case list is the manifest; the shifted dates keep their relations.
    let (_study, root) = sponsor_trusting(&dir.join("hosp.pub"));
    let handover = dir.join("handover");
    kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "Hospital A",
            handover.to_str().unwrap(),
        ],
    )
    .ok();
    kizon(&root, &["check"]).ok();
    let findings = kizon(&root, &["findings", "--json"]).ok().json();
    let late: Vec<&Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "acquired-after-collection")
        .collect();
    assert_eq!(late.len(), 1, "{late:#?}");
    assert_eq!(
        (late[0]["case_ids"].clone(), late[0]["severity"].clone()),
        (serde_json::json!(["C1"]), Value::from("blocking"))
    );
    let c2: Vec<&Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["case_ids"] == serde_json::json!(["C2"])
                && (f["clause"] == "Q2" || f["rule"] == "chronology")
        })
        .collect();
    assert!(c2.is_empty(), "{c2:#?}");
    kizon(&root, &["audit", "verify"]).ok();
}

/// The bytes of every file under `dir`.
fn every_file(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            every_file(&path, out);
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
}

/// `kizon demo` used to ingest its hospital's files as they were; its hospital now hands its
/// cases and its pathology table over through `kizon deidentify`, signed, the correspondence
/// table kept in the hospital: no MRN, name, birth date or accession number of the export is in
/// what the sponsor received (the quarantine with the original it kept back stays at the hospital),
/// the one ultrasound with burned-in text is kept back, the sponsor's ledger records both
/// hand-overs, and the hospital can still find the patient behind a case (Q7 source records).
#[test]
fn the_demo_hospital_hands_over_signed_and_no_identifier_leaves_it() {
    let tmp = tempfile::tempdir().unwrap();
    kizon(tmp.path(), &["demo", "d"]).ok();
    let demo = tmp.path().join("d");
    let sources = demo.join("demo-sources");
    // What the sponsor received; the quarantine stayed at the hospital.
    let received = sources.join("received");
    let handover = received.join("handover-2026-11-images");
    assert!(!received.join("handover-2026-11-images.quarantine").exists());
    for name in [
        "handover.json",
        "handover.sig",
        "cases.csv",
        "deidentification-record.pdf",
    ] {
        assert!(handover.join(name).is_file(), "{name}");
    }

    // What identified the hospital's patients: every MRN, name, birth date and accession number
    // in its pathology export (the same as in its images' headers), and every name and birth
    // date as the ECG writes them.
    let export = std::fs::read_to_string(sources.join("at-hospital/export/pathology.csv")).unwrap();
    let mut identifiers = BTreeSet::new();
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    for line in export.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let (mrn, name, birth, accession) = (cells[0], cells[1], cells[2], cells[3]);
        identifiers.insert(mrn.to_owned());
        identifiers.insert(name.to_owned());
        identifiers.insert(name.replace('^', "_"));
        identifiers.insert(birth.to_owned());
        let month: usize = birth[4..6].parse().unwrap();
        identifiers.insert(format!(
            "{}-{}-{}",
            &birth[6..8],
            MONTHS[month - 1],
            &birth[0..4]
        ));
        identifiers.insert(accession.to_owned());
    }
    assert!(identifiers.len() > 500, "{}", identifiers.len());
    let mut files = Vec::new();
    every_file(&handover, &mut files);
    every_file(&received.join("handover-2026-11-pathology"), &mut files);
    assert!(files.len() > 120, "{}", files.len());
    // An MRN counts where it stands alone: the decimal UIDs the hand-over is full of may hold
    // any eight digits inside them.
    let alone = |bytes: &[u8], at: usize, len: usize| {
        let digit = |i: Option<usize>| i.and_then(|i| bytes.get(i)).is_some_and(u8::is_ascii_digit);
        !digit(at.checked_sub(1)) && !digit(Some(at + len))
    };
    for (path, bytes) in &files {
        for identifier in &identifiers {
            let found = bytes
                .windows(identifier.len())
                .enumerate()
                .any(|(at, w)| w == identifier.as_bytes() && alone(bytes, at, w.len()));
            assert!(!found, "{} holds `{identifier}`", path.display());
        }
    }
    assert!(
        export.contains("20039595,"),
        "the MRN of C-005's patient, looked up below"
    );

    let quarantine = kizon(
        &sources,
        &[
            "deidentify",
            "review",
            "at-hospital/handover-2026-11-images.quarantine",
        ],
    )
    .ok();
    assert!(
        quarantine.stdout.contains("1 files kept back")
            && quarantine.stdout.contains("c045-us.dcm")
            && quarantine.stdout.contains("BurnedInAnnotation is YES"),
        "{}",
        quarantine.stdout
    );

    // At the sponsor: both hand-overs verified and in the ledger; check found no identifier in
    // the hospital's cases (the two Q1 findings are the biobank's, sent unsigned).
    let log = kizon(&demo, &["audit", "log", "--json"]).ok().json();
    let handovers: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["command"] == "handover")
        .collect();
    assert_eq!(handovers.len(), 2, "{handovers:#?}");
    let findings = kizon(&demo, &["findings", "--json"]).ok().json();
    let q1: BTreeSet<String> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["clause"] == "Q1")
        .flat_map(|f| f["case_ids"].as_array().unwrap().clone())
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        q1,
        ["C-007", "C-008"].map(String::from).into_iter().collect()
    );

    // The report says how the hospital's data arrived (Q1, Q5, Q7), in both languages.
    let report = std::fs::read_to_string(demo.join("report-en.html")).unwrap();
    assert!(
        report.contains(
            "Kizon Demo University Hospital sent its data as 2 signed hand-over(s) of 120 files"
        ) && report.contains("1 file(s) were kept back in the provider"),
        "{report}"
    );
    let report = std::fs::read_to_string(demo.join("report.html")).unwrap();
    assert!(report.contains("署名付き提供データ 2 件（ファイル 120 件）"));

    // The hospital finds C-005's patient again from the pseudonym the sponsor sees.
    let cases = std::fs::read_to_string(handover.join("cases.csv")).unwrap();
    let c005 = cases.lines().find(|l| l.starts_with("C-005,")).unwrap();
    let pseudonym = c005.split(',').nth(1).unwrap().split('/').nth(1).unwrap();
    let found = kizon(
        &sources,
        &[
            "deidentify",
            "lookup",
            pseudonym,
            "--key-table",
            "at-hospital/correspondence-table.kizon",
        ],
    )
    .ok();
    assert!(found.stdout.contains("20039595"), "{}", found.stdout);
}
