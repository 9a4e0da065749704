//! `kizon ingest` and `kizon items` end to end, on the real files of testdata.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;

fn items(root: &Path) -> Vec<serde_json::Value> {
    kizon(root, &["items", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .clone()
}

/// Copies files into `dir` so that tests control exactly what a folder holds.
fn copy_into(dir: &Path, files: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    for file in files {
        let from = shared(file);
        std::fs::copy(&from, dir.join(from.file_name().unwrap())).unwrap();
    }
}

#[test]
fn mr_small_family_is_one_case_with_one_sop_instance() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("mr");
    let names = [
        "MR_small.dcm",
        "MR_small_implicit.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
    ];
    copy_into(
        &data,
        &names
            .map(|n| format!("dicom/pydicom/{n}"))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let run = kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            data.to_str().unwrap(),
            "--json",
        ],
    )
    .ok();
    let summary = run.json();
    assert_eq!(summary["added"], 5);
    assert_eq!(summary["cases_added"], 1);
    let listed = items(&root);
    assert_eq!(listed.len(), 5);
    for item in &listed {
        assert_eq!(item["kind"], "dicom");
        assert_eq!(
            item["metadata"]["sop_instance_uid"],
            "1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457"
        );
        assert_eq!(item["metadata"]["rows"], 64);
        assert_eq!(item["case_id"], listed[0]["case_id"]);
        // Shown relative to the folder given, never as the server's absolute path.
        let path = item["path"].as_str().unwrap();
        assert!(!path.starts_with('/'), "{path}");
        let bytes = std::fs::read(data.join(path)).unwrap();
        use sha2::Digest;
        let sha: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(item["sha256"], sha);
    }
    kizon(&root, &["audit", "verify"]).ok();
}

#[test]
fn ingest_twice_adds_nothing_and_records_nothing() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    copy_into(
        &data,
        &[
            "dicom/pydicom/CT_small.dcm",
            "video/bikes.mp4",
            "waveform/edf/test_generator.edf",
        ],
    );
    kizon(
        &root,
        &["ingest", "--provider", "H", data.to_str().unwrap()],
    )
    .ok();
    let entries = kizon(&root, &["audit", "log", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len();
    let again = kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            data.to_str().unwrap(),
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(
        (again["added"].as_u64(), again["skipped_unchanged"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(
        kizon(&root, &["audit", "log", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        entries
    );
    assert_eq!(items(&root).len(), 3);
}

#[test]
fn every_kind_carries_its_metadata() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    copy_into(
        &data,
        &[
            "dicom/pydicom/waveform_ecg.dcm",
            "video/bikes.mp4",
            "waveform/edf/test_generator.edf",
            "waveform/wfdb/100.hea",
            "waveform/wfdb/100.dat",
            "waveform/wfdb/100.atr",
        ],
    );
    std::fs::write(
        data.join("results.csv"),
        "specimen,analyte,value\nS1,CRP,0.3\nS2,CRP,1.2\n",
    )
    .unwrap();
    kizon(
        &root,
        &["ingest", "--provider", "H", data.to_str().unwrap()],
    )
    .ok();
    let listed = items(&root);
    let by_name = |name: &str| {
        listed
            .iter()
            .find(|i| i["path"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    let ecg = by_name("waveform_ecg.dcm");
    assert_eq!(
        (ecg["kind"].as_str(), ecg["metadata"]["channels"].as_u64()),
        (Some("dicom-waveform"), Some(12))
    );
    assert_eq!(ecg["metadata"]["sampling_rate_hz"], 1000.0);
    let video = by_name("bikes.mp4");
    assert_eq!(
        (
            video["kind"].as_str(),
            video["metadata"]["width"].as_u64(),
            video["metadata"]["height"].as_u64()
        ),
        (Some("video"), Some(640), Some(272))
    );
    assert_eq!(video["metadata"]["frames"], 250);
    let edf = by_name("test_generator.edf");
    assert_eq!(
        (edf["kind"].as_str(), edf["metadata"]["channels"].as_u64()),
        (Some("edf"), Some(11))
    );
    assert_eq!(edf["metadata"]["sampling_rate_hz"], 200.0);
    let hea = by_name("100.hea");
    assert_eq!(
        (hea["kind"].as_str(), hea["metadata"]["samples"].as_u64()),
        (Some("wfdb"), Some(650_000))
    );
    assert_eq!(hea["metadata"]["sampling_rate_hz"], 360.0);
    for (name, role) in [("100.dat", "signal"), ("100.atr", "annotation")] {
        let item = by_name(name);
        assert_eq!(
            (item["kind"].as_str(), item["metadata"]["role"].as_str()),
            (Some("wfdb"), Some(role)),
            "{name}"
        );
        assert_eq!(item["case_id"], hea["case_id"], "a WFDB record is one case");
    }
    let table = by_name("results.csv");
    assert_eq!(table["kind"], "table");
}

#[test]
fn manifest_assigns_cases_and_dates() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    copy_into(
        &data,
        &[
            "dicom/dicognito/burned_in_yes.dcm",
            "dicom/dicognito/burned_in_no.dcm",
            "dicom/deid/ctbrain1.dcm",
        ],
    );
    std::fs::write(
        data.join("manifest.csv"),
        "case_id,path,collection_date,diagnosis,diagnosis_date,site\n\
         C-001,burned_in_yes.dcm,2024-05-01,nodule,2024-06-01,A\n\
         C-001,burned_in_no.dcm,2024-05-01,nodule,2024-06-01,A\n\
         C-002,ctbrain1.dcm,2024-05-02,normal,2024-05-20,B\n",
    )
    .unwrap();
    let summary = kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            "--manifest",
            data.join("manifest.csv").to_str().unwrap(),
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(
        (summary["added"].as_u64(), summary["cases_added"].as_u64()),
        (Some(3), Some(2))
    );
    let listed = items(&root);
    let cases: Vec<&str> = listed
        .iter()
        .map(|i| i["case_id"].as_str().unwrap())
        .collect();
    assert_eq!(cases.iter().filter(|c| **c == "C-001").count(), 2);
    assert!(cases.contains(&"C-002"));
}

#[test]
fn manifest_errors_name_file_and_line() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    copy_into(&data, &["dicom/pydicom/CT_small.dcm"]);
    let manifest = data.join("m.csv");
    for (text, expected) in [
        (
            "case,path\nC1,CT_small.dcm\n",
            "m.csv:1: no `case_id` column",
        ),
        (
            "case_id,path,collection_date\nC1,CT_small.dcm,01/05/2024\n",
            "m.csv:2: `collection_date`: `01/05/2024` is not a calendar date",
        ),
        (
            "case_id,path\nC1,missing.dcm\n",
            "m.csv:2: `missing.dcm` does not exist",
        ),
    ] {
        std::fs::write(&manifest, text).unwrap();
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
        assert!(run.error_line().contains(expected), "{}", run.stderr);
    }
    assert!(items(&root).is_empty(), "nothing written");
}

#[test]
fn unknown_provider_is_refused_with_the_known_ones() {
    let (tmp, root) = study_with_provider();
    let run = kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "Nobody",
            tmp.path().to_str().unwrap(),
        ],
    )
    .failed();
    assert!(
        run.stderr.contains("registered providers: H"),
        "{}",
        run.stderr
    );
}

#[test]
fn broken_files_are_items_with_problems_not_failures() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    copy_into(
        &data,
        &[
            "dicom/pydicom/MR_truncated.dcm",
            "dicom/pydicom/rtplan_truncated.dcm",
            "dicom/dicognito/bad.dcm",
        ],
    );
    std::fs::write(data.join("random.bin"), [0u8, 1, 2, 3, 255, 254]).unwrap();
    let summary = kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            data.to_str().unwrap(),
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(summary["added"], 4);
    let listed = items(&root);
    let truncated = listed
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("MR_truncated.dcm"))
        .unwrap();
    assert!(
        truncated["problem"]
            .as_str()
            .unwrap()
            .starts_with("truncated")
    );
    let random = listed
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("random.bin"))
        .unwrap();
    assert_eq!(random["kind"], "unknown");
}

/// Kills ingest mid-way over a corpus of many files; a rerun completes with nothing lost or doubled.
#[test]
fn killed_ingest_resumes_with_nothing_lost_or_doubled() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("corpus");
    std::fs::create_dir_all(&data).unwrap();
    let template = std::fs::read(shared("dicom/pydicom/CT_small.dcm")).unwrap();
    let files = 3000;
    for i in 0..files {
        let mut bytes = template.clone();
        bytes.extend_from_slice(format!("{i:08}").as_bytes()); // distinct content per file
        std::fs::write(data.join(format!("f{i:05}.dcm")), bytes).unwrap();
    }
    let head = || std::fs::read_to_string(root.join("ledger.head")).unwrap();
    let initial = head();
    let mut child = command(
        &root,
        &["ingest", "--provider", "H", data.to_str().unwrap()],
    )
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    // Kill as soon as the first batch is committed: mid-way through twelve.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while head() == initial && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let _ = child.wait();
    kizon(&root, &["audit", "verify"]).ok();
    let before = items(&root).len();
    assert!(
        before > 0 && before < files,
        "the kill should land mid-way: {before} of {files}"
    );
    let rerun = kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            data.to_str().unwrap(),
            "--json",
        ],
    )
    .ok()
    .json();
    let after = items(&root);
    assert_eq!(after.len(), files, "killed after {before} items");
    assert_eq!(rerun["added"].as_u64().unwrap() as usize, files - before);
    let mut shas: Vec<&str> = after
        .iter()
        .map(|i| i["sha256"].as_str().unwrap())
        .collect();
    shas.sort();
    shas.dedup();
    assert_eq!(shas.len(), files, "no item doubled");
    kizon(&root, &["audit", "verify"]).ok();
}

/// A WFDB record is its header with its signal and annotation files. A manifest row naming the
/// header used to ingest the 166-byte header alone, so the signal's bytes were never hashed
/// into the dataset; ingesting the folder afterwards made `100.dat` and `100.atr` cases of
/// their own. Now the header brings its companions into its case, either way.
#[test]
fn a_wfdb_header_brings_its_signal_and_annotations_into_its_case() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    copy_into(
        &data.join("ecg"),
        &[
            "waveform/wfdb/100.hea",
            "waveform/wfdb/100.dat",
            "waveform/wfdb/100.atr",
        ],
    );
    // A file that only shares the record's name is not part of the record.
    std::fs::write(data.join("ecg/100.jpg"), b"not an annotation").unwrap();
    std::fs::write(data.join("cases.csv"), "case_id,path\nE-1,ecg/100.hea\n").unwrap();
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
    let listed = items(&root);
    let mut files: Vec<(&str, &str)> = listed
        .iter()
        .map(|i| (i["case_id"].as_str().unwrap(), i["path"].as_str().unwrap()))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            ("E-1", "ecg/100.atr"),
            ("E-1", "ecg/100.dat"),
            ("E-1", "ecg/100.hea")
        ],
        "{listed:?}"
    );
    assert!(listed.iter().all(|i| i["kind"] == "wfdb"), "{listed:?}");
    // The folder again (without the unrelated file, which would be a case of its own):
    // nothing new, no stray case.
    std::fs::remove_file(data.join("ecg/100.jpg")).unwrap();
    let again = kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            data.join("ecg").to_str().unwrap(),
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(again["added"], 0, "{again}");
    assert_eq!(items(&root).len(), 3);

    // Header first, alone (the folder held only it), then the folder with the signal: the
    // signal joins the header's record, not a case of its own.
    let (tmp, root) = study_with_provider();
    let folder = tmp.path().join("rec");
    copy_into(&folder, &["waveform/wfdb/100.hea"]);
    kizon(
        &root,
        &["ingest", "--provider", "H", folder.to_str().unwrap()],
    )
    .ok();
    copy_into(&folder, &["waveform/wfdb/100.dat"]);
    kizon(
        &root,
        &["ingest", "--provider", "H", folder.to_str().unwrap()],
    )
    .ok();
    let listed = items(&root);
    let cases: std::collections::BTreeSet<&str> = listed
        .iter()
        .map(|i| i["case_id"].as_str().unwrap())
        .collect();
    assert_eq!(cases.len(), 1, "{listed:?}");
    assert!(listed.iter().all(|i| i["kind"] == "wfdb"), "{listed:?}");
}
