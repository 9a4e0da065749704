//! `kizon check`, `findings` and `resolve` end to end on the real files of ../shared/data.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// A study whose data folder holds `files` (copied under the given names) and a manifest.
fn ingested(files: &[(&str, &str)], manifest: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    for (from, name) in files {
        std::fs::copy(shared(from), data.join(name)).unwrap();
    }
    std::fs::write(data.join("manifest.csv"), manifest).unwrap();
    ingest_manifest(&root, &data.join("manifest.csv"));
    (tmp, root)
}

/// `kizon ingest --provider H --manifest MANIFEST`.
fn ingest_manifest(root: &Path, manifest: &Path) {
    kizon(
        root,
        &[
            "ingest",
            "--provider",
            "H",
            "--manifest",
            manifest.to_str().unwrap(),
        ],
    )
    .ok();
}

fn findings(root: &Path) -> Vec<serde_json::Value> {
    kizon(root, &["findings", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .clone()
}

fn with_rule<'a>(all: &'a [serde_json::Value], rule: &str) -> Vec<&'a serde_json::Value> {
    all.iter().filter(|f| f["rule"] == rule).collect()
}

#[test]
fn q7_same_data_as_several_cases_is_found() {
    let (_tmp, root) = ingested(
        &[
            ("dicom/pydicom/CT_small.dcm", "a.dcm"),
            ("dicom/pydicom/CT_small.dcm", "b.dcm"),
            ("dicom/deid/ctbrain1.dcm", "c.dcm"),
            ("dicom/deid/ctbrain2.dcm", "d.dcm"),
        ],
        "case_id,path,collection_date\nC1,a.dcm,2024-01-01\nC2,b.dcm,2024-01-01\nC3,c.dcm,2024-01-01\nC4,d.dcm,2024-01-01\n",
    );
    kizon(&root, &["check"]).ok();
    let all = findings(&root);
    let same_file = with_rule(&all, "same-file");
    assert_eq!(same_file.len(), 1, "{all:#?}");
    assert_eq!(same_file[0]["clause"], "Q7");
    assert_eq!(same_file[0]["case_ids"], serde_json::json!(["C1", "C2"]));
    assert_eq!(same_file[0]["paths"].as_array().unwrap().len(), 2);
    let same_sop: Vec<_> = with_rule(&all, "same-sop-instance")
        .into_iter()
        .filter(|f| f["case_ids"] == serde_json::json!(["C3", "C4"]))
        .collect();
    assert_eq!(
        same_sop.len(),
        1,
        "ctbrain1 and ctbrain2 share a SOP Instance UID"
    );
    assert_eq!(same_sop[0]["severity"], "blocking");
}

#[test]
fn q1_burned_in_text_and_q2_late_acquisition_are_found() {
    let (_tmp, root) = ingested(
        &[
            ("dicom/dicognito/burned_in_yes.dcm", "yes.dcm"),
            ("dicom/deid/RGB_IMAGE.dcm", "us.dcm"),
        ],
        // burned_in_yes was acquired 1997-08-06; collected before that it cannot be existing data.
        "case_id,path,collection_date\nC1,yes.dcm,1990-01-01\nC2,us.dcm,2024-01-01\n",
    );
    kizon(&root, &["check"]).ok();
    let all = findings(&root);
    let burned = with_rule(&all, "burned-in-annotation");
    let yes = burned
        .iter()
        .find(|f| f["case_ids"] == serde_json::json!(["C1"]))
        .unwrap();
    assert_eq!(
        (yes["clause"].as_str(), yes["severity"].as_str()),
        (Some("Q1"), Some("blocking"))
    );
    let missing = burned
        .iter()
        .find(|f| f["case_ids"] == serde_json::json!(["C2"]))
        .unwrap();
    assert_eq!(
        missing["severity"], "warning",
        "US without BurnedInAnnotation"
    );
    let late = with_rule(&all, "acquired-after-collection");
    assert!(
        late.iter().any(|f| f["clause"] == "Q2"
            && f["case_ids"] == serde_json::json!(["C1"])
            && f["severity"] == "blocking"),
        "{all:#?}"
    );
}

#[test]
fn decisions_are_recorded_and_kept_when_check_runs_again() {
    let (_tmp, root) = ingested(
        &[
            ("dicom/pydicom/CT_small.dcm", "a.dcm"),
            ("dicom/pydicom/CT_small.dcm", "b.dcm"),
        ],
        "case_id,path,collection_date\nC1,a.dcm,2024-01-01\nC2,b.dcm,2024-01-01\n",
    );
    kizon(&root, &["check"]).ok();
    let before = findings(&root);
    let id = with_rule(&before, "same-file")[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    kizon(&root, &["resolve", &id, "--accept", "--reason", " "]).failed();
    kizon(
        &root,
        &[
            "resolve",
            &id,
            "--exclude-case",
            "--reason",
            "C2 is a copy of C1",
        ],
    )
    .ok();
    let summary = kizon(&root, &["check", "--json"]).ok().json();
    assert_eq!(summary["new_findings"], 0);
    let after = findings(&root);
    assert_eq!(after.len(), before.len());
    let decided = after
        .iter()
        .find(|f| f["id"].as_i64().unwrap().to_string() == id)
        .unwrap();
    assert_eq!(
        (decided["status"].as_str(), decided["reason"].as_str()),
        (Some("excluded"), Some("C2 is a copy of C1"))
    );
    let open = kizon(&root, &["findings", "--open", "--json"]).ok().json();
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"].as_i64().unwrap().to_string() != id)
    );
    let log = kizon(&root, &["audit", "log", "--json"]).ok().json();
    assert_eq!(
        log.as_array().unwrap().last().unwrap()["command"],
        "resolve"
    );
    kizon(&root, &["audit", "verify"]).ok();
    kizon(&root, &["resolve", "999", "--accept", "--reason", "x"]).failed();
}

/// An EDF file of the given channels (digital samples, one-second records).
fn edf(channels: &[(&str, f64, Vec<i32>)]) -> Vec<u8> {
    use kizon_waveform::edf::{EdfRecording, EdfSignal, EdfSignalData, write_edf};
    let signals = channels
        .iter()
        .map(|(label, rate, samples)| EdfSignalData {
            signal: EdfSignal {
                label: (*label).to_owned(),
                transducer: String::new(),
                physical_dimension: "uV".into(),
                physical_min: -32768.0,
                physical_max: 32767.0,
                digital_min: -32768,
                digital_max: 32767,
                prefiltering: String::new(),
                samples_per_record: *rate as usize,
                reserved: String::new(),
            },
            samples: samples.clone(),
        })
        .collect();
    write_edf(&EdfRecording {
        patient: "X X X X".into(),
        recording: "Startdate X X X X".into(),
        start_date: "01.01.20".into(),
        start_time: "00.00.00".into(),
        record_duration_s: 1.0,
        signals,
        annotations: None,
    })
    .unwrap()
}

/// WFDB record test01_00s and the same signal rewritten as EDF, in two cases: the same data as
/// two cases although no file is alike (Q7). An ECG with a lead off for 10 s is implausible (Q7).
#[test]
fn q7_same_signal_in_another_format_and_flat_lines_are_found() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    std::fs::create_dir_all(data.join("wfdb")).unwrap();
    for name in ["test01_00s.hea", "test01_00s.dat"] {
        std::fs::copy(
            shared(&format!("waveform/wfdb/{name}")),
            data.join("wfdb").join(name),
        )
        .unwrap();
    }
    // The same samples, read independently of kizon's own decoder: format 16 is little-endian i16,
    // four channels interleaved.
    let raw = std::fs::read(data.join("wfdb/test01_00s.dat")).unwrap();
    let values: Vec<i32> = raw
        .chunks_exact(2)
        .map(|b| i32::from(i16::from_le_bytes([b[0], b[1]])))
        .collect();
    let channel = |c: usize| {
        values
            .iter()
            .skip(c)
            .step_by(4)
            .copied()
            .collect::<Vec<_>>()
    };
    let same = edf(&(0..4)
        .map(|c| (["ECG 1", "ECG 2", "ECG 3", "ECG 4"][c], 500.0, channel(c)))
        .collect::<Vec<_>>());
    std::fs::write(data.join("copy.edf"), same).unwrap();
    let mut lead_off = channel(0);
    lead_off[1000..].fill(7);
    std::fs::write(
        data.join("lead_off.edf"),
        edf(&[("ECG I", 500.0, lead_off)]),
    )
    .unwrap();
    std::fs::write(
        data.join("manifest.csv"),
        "case_id,path,collection_date\nW1,wfdb,2024-01-01\nW2,copy.edf,2024-01-01\nW3,lead_off.edf,2024-01-01\n",
    )
    .unwrap();
    ingest_manifest(&root, &data.join("manifest.csv"));
    kizon(&root, &["check"]).ok();
    let all = findings(&root);
    let same_signal = with_rule(&all, "same-signal");
    assert_eq!(same_signal.len(), 1, "{all:#?}");
    assert_eq!(same_signal[0]["case_ids"], serde_json::json!(["W1", "W2"]));
    assert!(
        with_rule(&all, "same-file").is_empty(),
        "the files differ; only the signal is the same"
    );
    let flat = with_rule(&all, "flat-line");
    assert_eq!(flat.len(), 1, "{all:#?}");
    assert_eq!(
        (flat[0]["case_ids"].clone(), flat[0]["clause"].as_str()),
        (serde_json::json!(["W3"]), Some("Q7"))
    );
    assert!(
        flat[0]["message_en"]
            .as_str()
            .unwrap()
            .contains("ECG I 6.0 s"),
        "{}",
        flat[0]["message_en"]
    );
}

/// The device was trained on MR_small; the test set holds the same image in another encoding
/// (another file, same SOP instance) and an unrelated CT: only the MR is an overlap.
#[test]
fn test_data_overlapping_the_training_data_is_found() {
    let (tmp, root) = ingested(
        &[
            ("dicom/pydicom/MR_small_RLE.dcm", "mr.dcm"),
            ("dicom/pydicom/CT_small.dcm", "ct.dcm"),
        ],
        "case_id,path,collection_date\nT1,mr.dcm,2024-01-01\nT2,ct.dcm,2024-01-01\n",
    );
    let training = tmp.path().join("training");
    std::fs::create_dir_all(&training).unwrap();
    std::fs::copy(
        shared("dicom/pydicom/MR_small.dcm"),
        training.join("train-0001.dcm"),
    )
    .unwrap();
    let run = kizon(&root, &["training-set", "add", training.to_str().unwrap()]).ok();
    assert!(run.stdout.contains("1 files"), "{}", run.stdout);
    kizon(&root, &["check"]).ok();
    let all = findings(&root);
    let overlap = with_rule(&all, "training-overlap");
    assert_eq!(overlap.len(), 1, "{all:#?}");
    assert_eq!(overlap[0]["case_ids"], serde_json::json!(["T1"]));
    assert!(
        overlap[0]["message_en"]
            .as_str()
            .unwrap()
            .contains("train-0001.dcm")
    );
    kizon(&root, &["audit", "verify"]).ok();
}

/// `[checks] flat_line_s` in the protocol sets how long a flat channel must be to be a doubt.
#[test]
fn protocol_sets_the_flat_line_threshold() {
    let (tmp, root) = study_with_provider();
    let protocol = root.join("study.toml");
    let text = std::fs::read_to_string(&protocol)
        .unwrap()
        .replace("flat_line_s = 5", "flat_line_s = 10");
    std::fs::write(&protocol, text).unwrap();
    let data = tmp.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    let mut samples: Vec<i32> = (0..4000).map(|i| (i % 37) * 10).collect();
    samples[1000..].fill(7); // flat for 6 s at 500 Hz
    std::fs::write(data.join("lead_off.edf"), edf(&[("ECG I", 500.0, samples)])).unwrap();
    kizon(
        &root,
        &["ingest", "--provider", "H", data.to_str().unwrap()],
    )
    .ok();
    kizon(&root, &["check"]).ok();
    assert!(
        with_rule(&findings(&root), "flat-line").is_empty(),
        "6 s is below the protocol's 10 s"
    );
}
