//! `kizon check`, `findings` and `resolve` end to end on the real files of testdata.

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
    // And OCR (Tesseract, installed by tools/test) reads the name, ID and date in its pixels:
    // a blocking finding that names where they are, never what they say.
    let text = with_rule(&all, "burned-in-text");
    assert_eq!(text.len(), 1, "{all:#?}");
    assert_eq!(
        (text[0]["clause"].as_str(), text[0]["severity"].as_str()),
        (Some("Q1"), Some("blocking"))
    );
    assert_eq!(text[0]["case_ids"], serde_json::json!(["C2"]));
    let message = text[0]["message_en"].as_str().unwrap();
    assert!(
        message.contains("4,36 131×15") && message.contains("tesseract"),
        "{message}"
    );
    assert!(
        !message.contains("MARY") && !message.contains("00047431395"),
        "{message}"
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

/// One decision for every unresolved finding of a rule: each gets the decision and the reason,
/// one ledger entry names them all, a finding already decided keeps its decision, and a rule
/// with nothing left to decide or no finding at all is refused with the rules that have some.
#[test]
fn a_rule_s_unresolved_findings_are_decided_at_once() {
    let (_tmp, root) = ingested(
        &[
            ("dicom/pydicom/CT_small.dcm", "a.dcm"),
            ("dicom/pydicom/CT_small.dcm", "b.dcm"),
            ("dicom/deid/ctbrain1.dcm", "c.dcm"),
            ("dicom/deid/ctbrain1.dcm", "d.dcm"),
            ("dicom/pydicom/MR_small.dcm", "e.dcm"),
            ("dicom/pydicom/MR_small.dcm", "f.dcm"),
        ],
        "case_id,path,collection_date\nC1,a.dcm,2024-01-01\nC2,b.dcm,2024-01-01\nC3,c.dcm,2024-01-01\nC4,d.dcm,2024-01-01\nC5,e.dcm,2024-01-01\nC6,f.dcm,2024-01-01\n",
    );
    kizon(&root, &["check"]).ok();
    let before = findings(&root);
    let same_file: Vec<String> = with_rule(&before, "same-file")
        .iter()
        .map(|f| f["id"].as_i64().unwrap().to_string())
        .collect();
    assert_eq!(same_file.len(), 3, "{before:#?}");
    // One of them is decided on its own first: it keeps that decision.
    kizon(
        &root,
        &[
            "resolve",
            &same_file[0],
            "--exclude-case",
            "--case",
            "C2",
            "--reason",
            "C2 is a copy",
        ],
    )
    .ok();
    let entries_before = kizon(&root, &["audit", "log", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len();
    let out = kizon(
        &root,
        &[
            "resolve",
            "--rule",
            "same-file",
            "--accept",
            "--reason",
            "同一施設の再送（提供元に確認済み）",
            "--reason-en",
            "resent by the same hospital (confirmed)",
        ],
    )
    .ok();
    assert!(
        out.stdout.contains("2 findings of rule same-file"),
        "{}",
        out.stdout
    );
    let after = findings(&root);
    for f in with_rule(&after, "same-file") {
        let id = f["id"].as_i64().unwrap().to_string();
        if id == same_file[0] {
            assert_eq!(f["status"], "excluded", "{f:#?}");
        } else {
            assert_eq!(f["status"], "accepted", "{f:#?}");
            assert_eq!(f["reason"], "同一施設の再送（提供元に確認済み）");
            assert_eq!(f["reason_en"], "resent by the same hospital (confirmed)");
        }
    }
    // Every other rule's findings are untouched.
    let untouched = |all: &[serde_json::Value]| -> Vec<String> {
        all.iter()
            .filter(|f| f["rule"] != "same-file")
            .map(|f| format!("{} {}", f["id"], f["status"]))
            .collect()
    };
    assert_eq!(untouched(&after), untouched(&before));
    let log = kizon(&root, &["audit", "log", "--json"]).ok().json();
    let log = log.as_array().unwrap();
    assert_eq!(
        log.len(),
        entries_before + 1,
        "one ledger entry for the rule"
    );
    let entry = log.last().unwrap();
    assert_eq!(entry["command"], "resolve");
    let detail: serde_json::Value =
        serde_json::from_str(entry["detail"].as_str().unwrap()).unwrap();
    assert_eq!(
        (detail["rule"].as_str(), detail["findings"].as_u64()),
        (Some("same-file"), Some(2)),
        "{detail:#?}"
    );
    assert_eq!(detail["decision"], "accept");
    kizon(&root, &["audit", "verify"]).ok();
    // Nothing left to decide, a rule without findings, a rule with a single finding's options.
    let done = kizon(
        &root,
        &[
            "resolve",
            "--rule",
            "same-file",
            "--accept",
            "--reason",
            "again",
        ],
    )
    .failed();
    assert!(done.stderr.contains("decided already"), "{}", done.stderr);
    let unknown = kizon(
        &root,
        &[
            "resolve",
            "--rule",
            "same-fiel",
            "--accept",
            "--reason",
            "x",
        ],
    )
    .failed();
    assert!(
        unknown.stderr.contains("no finding of rule `same-fiel`")
            && unknown.stderr.contains("same-file"),
        "{}",
        unknown.stderr
    );
    // --case names cases of one finding: clap refuses it beside --rule (a usage error, 2).
    let mixed = kizon(
        &root,
        &[
            "resolve",
            "--rule",
            "same-sop-instance",
            "--exclude-case",
            "--case",
            "C3",
            "--reason",
            "x",
        ],
    );
    assert_eq!(mixed.code, 2, "{}", mixed.stderr);
    let tally = kizon(&root, &["findings", "--by-rule", "--json"])
        .ok()
        .json();
    let same = tally
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["rule"] == "same-file")
        .unwrap();
    assert_eq!(
        (same["findings"].as_u64(), same["unresolved"].as_u64()),
        (Some(3), Some(0))
    );
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
    std::fs::write(training.join("list.csv"), "path\ntrain-0001.dcm\n").unwrap();
    let missing = training.join("bad.csv");
    std::fs::write(&missing, "path\nnot-there.dcm\n").unwrap();
    let run = kizon(
        &root,
        &[
            "training-set",
            "add",
            "--manifest",
            missing.to_str().unwrap(),
        ],
    )
    .failed();
    assert!(
        run.error_line()
            .contains("bad.csv:2: column `path`: `not-there.dcm` does not exist"),
        "{}",
        run.stderr
    );
    let manifest = training.join("list.csv");
    let run = kizon(
        &root,
        &[
            "training-set",
            "add",
            "--manifest",
            manifest.to_str().unwrap(),
        ],
    )
    .ok();
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

/// An MFER file (int16, little endian) of the given channels, written by kizon-waveform's writer.
fn mfer(rate: f64, block_length: usize, channels: &[(&str, Vec<i32>)]) -> Vec<u8> {
    use kizon_waveform::mfer::{
        MferChannel, MferDataType, MferPatient, MferRecording, lead_code, write_mfer,
    };
    write_mfer(&MferRecording {
        preamble: "MFR kizon check test".into(),
        little_endian: true,
        sampling_rate_hz: rate,
        data_type: MferDataType::Int16,
        block_length,
        waveform_type: None,
        sensitivity: None,
        offset: None,
        patient: MferPatient::default(),
        measurement_time: None,
        comments: Vec::new(),
        channels: channels
            .iter()
            .map(|(label, samples)| MferChannel {
                label: (*label).to_owned(),
                lead_code: lead_code(label),
                sensitivity: None,
                samples: samples.clone(),
            })
            .collect(),
    })
    .unwrap()
}

/// MIT-BIH record 100 (format 212: two 12-bit samples in three bytes), decoded here
/// independently of kizon's reader and checked against the header's checksums.
fn record_100() -> [Vec<i32>; 2] {
    let raw = std::fs::read(shared("waveform/wfdb/100.dat")).unwrap();
    let sext = |v: u32| ((v << 20) as i32) >> 20;
    let mut signals = [Vec::new(), Vec::new()];
    for b in raw.chunks_exact(3) {
        let (b0, b1, b2) = (u32::from(b[0]), u32::from(b[1]), u32::from(b[2]));
        signals[0].push(sext(b0 | (b1 & 0x0F) << 8));
        signals[1].push(sext(b2 | (b1 & 0xF0) << 4));
    }
    let checksum = |s: &[i32]| s.iter().fold(0i16, |a, v| a.wrapping_add(*v as i16));
    assert_eq!(
        (checksum(&signals[0]), checksum(&signals[1])),
        (-22131, 20052)
    );
    signals
}

/// The same ECG as two cases in two formats (Q7): WFDB record 100 as PhysioNet publishes it, and
/// the same samples written as MFER by kizon's own writer. No file is alike; the signal is.
#[test]
fn q7_record_100_as_mfer_is_the_same_signal_as_the_wfdb_original() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    std::fs::create_dir_all(data.join("wfdb")).unwrap();
    for name in ["100.hea", "100.dat", "100.atr"] {
        std::fs::copy(
            shared(&format!("waveform/wfdb/{name}")),
            data.join("wfdb").join(name),
        )
        .unwrap();
    }
    let [mlii, v5] = record_100();
    std::fs::write(
        data.join("100.mwf"),
        mfer(360.0, 1000, &[("MLII", mlii), ("V5", v5)]),
    )
    .unwrap();
    std::fs::write(
        data.join("manifest.csv"),
        "case_id,path,collection_date\nW1,wfdb,2024-01-01\nM1,100.mwf,2024-01-01\n",
    )
    .unwrap();
    ingest_manifest(&root, &data.join("manifest.csv"));
    let items = kizon(&root, &["items", "--json"]).ok().json();
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "mfer"),
        "{items:#}"
    );
    kizon(&root, &["check"]).ok();
    let all = findings(&root);
    let same_signal = with_rule(&all, "same-signal");
    assert_eq!(same_signal.len(), 1, "{all:#?}");
    assert_eq!(same_signal[0]["case_ids"], serde_json::json!(["M1", "W1"]));
    assert_eq!(same_signal[0]["clause"], "Q7");
    assert!(with_rule(&all, "same-file").is_empty());
    for rule in ["flat-line", "clipped-channel"] {
        assert!(
            with_rule(&all, rule).is_empty(),
            "record 100 is clean: {all:#?}"
        );
    }
}

/// The rhythm strip of a real 12-lead DICOM ECG, and the same strip as MFER, in two cases (Q7).
/// The DICOM object also holds a median-beat group, which the MFER lacks: each multiplex group
/// is a signal of its own, so the shared rhythm strip is found.
#[test]
fn q7_the_same_ecg_as_dicom_waveform_and_as_mfer_is_found() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(
        shared("dicom/pydicom/waveform_ecg.dcm"),
        data.join("ecg.dcm"),
    )
    .unwrap();
    // Decoded by kizon-formats (validated against pydicom in its tests).
    let bytes = std::fs::read(data.join("ecg.dcm")).unwrap();
    let waveform = kizon_formats::dicom::waveform::read_waveform(&bytes).unwrap();
    let rhythm = &waveform.groups[0];
    assert_eq!(
        (rhythm.label.as_deref(), rhythm.sampling_rate_hz),
        (Some("RHYTHM"), 1000.0)
    );
    let leads: Vec<(&str, Vec<i32>)> = rhythm
        .channels
        .iter()
        .map(|c| (c.label.as_str(), c.samples.clone()))
        .collect();
    std::fs::write(data.join("ecg.mwf"), mfer(1000.0, 1000, &leads)).unwrap();
    std::fs::write(
        data.join("manifest.csv"),
        "case_id,path,collection_date\nD1,ecg.dcm,2024-01-01\nM1,ecg.mwf,2024-01-01\n",
    )
    .unwrap();
    ingest_manifest(&root, &data.join("manifest.csv"));
    kizon(&root, &["check"]).ok();
    let all = findings(&root);
    let same_signal = with_rule(&all, "same-signal");
    assert_eq!(same_signal.len(), 1, "{all:#?}");
    assert_eq!(same_signal[0]["case_ids"], serde_json::json!(["D1", "M1"]));
    for rule in ["flat-line", "clipped-channel", "unreadable-item"] {
        assert!(with_rule(&all, rule).is_empty(), "{all:#?}");
    }
}

/// test01_00s channel 1 (8 s at 500 Hz) with its peaks cut at a rail: the top 3 % of samples.
fn clipped_test01() -> (Vec<i32>, i64, i64) {
    let raw = std::fs::read(shared("waveform/wfdb/test01_00s.dat")).unwrap();
    let samples: Vec<i32> = raw
        .chunks_exact(8)
        .map(|f| i32::from(i16::from_le_bytes([f[0], f[1]])))
        .collect();
    let mut sorted = samples.clone();
    sorted.sort_unstable();
    let (low, high) = (sorted[0] - 1, sorted[sorted.len() * 97 / 100]);
    let clipped = samples.iter().map(|v| (*v).min(high)).collect();
    (clipped, i64::from(low), i64::from(high))
}

/// An EDF whose one channel declares the digital range `[min, max]`.
fn edf_with_range(label: &str, samples: Vec<i32>, min: i64, max: i64) -> Vec<u8> {
    use kizon_waveform::edf::{EdfRecording, EdfSignal, EdfSignalData, write_edf};
    write_edf(&EdfRecording {
        patient: "X X X X".into(),
        recording: "Startdate X X X X".into(),
        start_date: "01.01.20".into(),
        start_time: "00.00.00".into(),
        record_duration_s: 1.0,
        signals: vec![EdfSignalData {
            signal: EdfSignal {
                label: label.into(),
                transducer: String::new(),
                physical_dimension: "uV".into(),
                physical_min: min as f64,
                physical_max: max as f64,
                digital_min: min,
                digital_max: max,
                prefiltering: String::new(),
                samples_per_record: 500,
                reserved: String::new(),
            },
            samples,
        }],
        annotations: None,
    })
    .unwrap()
}

/// Medically implausible data (Q7) in each signal format that check decodes: an EDF channel
/// clipped at its upper rail (3 % of samples), an MFER lead off (flat) for 50 s, and a DICOM
/// waveform lead saturated at +32,767 for 1 s.
#[test]
fn q7_flat_and_clipped_channels_are_found_in_every_signal_format() {
    let (tmp, root) = study_with_provider();
    let data = tmp.path().join("d");
    std::fs::create_dir_all(&data).unwrap();

    let (clipped, low, high) = clipped_test01();
    std::fs::write(
        data.join("clipped.edf"),
        edf_with_range("ECG 1", clipped, low, high),
    )
    .unwrap();

    let [mlii, v5] = record_100();
    let mut lead_off = v5[..60 * 360].to_vec();
    lead_off[10 * 360..].fill(-12);
    std::fs::write(
        data.join("lead_off.mwf"),
        mfer(
            360.0,
            360,
            &[("MLII", mlii[..60 * 360].to_vec()), ("V5", lead_off)],
        ),
    )
    .unwrap();

    // Lead II of the rhythm group (channel 2 of 12, 16-bit, frames interleaved) at +32,767
    // from 2.0 s to 3.0 s.
    let mut dicom = std::fs::read(shared("dicom/pydicom/waveform_ecg.dcm")).unwrap();
    let tag = [0x00, 0x54, 0x10, 0x10, b'O', b'W', 0, 0];
    let at = dicom.windows(8).position(|w| w == tag).unwrap();
    let length = u32::from_le_bytes(dicom[at + 8..at + 12].try_into().unwrap());
    assert_eq!(length, 10_000 * 12 * 2);
    let start = at + 12;
    for frame in 2000..3000 {
        let offset = start + (frame * 12 + 1) * 2;
        dicom[offset..offset + 2].copy_from_slice(&32_767i16.to_le_bytes());
    }
    std::fs::write(data.join("saturated.dcm"), dicom).unwrap();

    std::fs::write(
        data.join("manifest.csv"),
        "case_id,path,collection_date\nE1,clipped.edf,2024-01-01\nM1,lead_off.mwf,2024-01-01\nD1,saturated.dcm,2024-01-01\n",
    )
    .unwrap();
    ingest_manifest(&root, &data.join("manifest.csv"));
    kizon(&root, &["check"]).ok();
    let all = findings(&root);
    let cases_of = |rule: &str| -> Vec<String> {
        let mut cases: Vec<String> = with_rule(&all, rule)
            .iter()
            .flat_map(|f| f["case_ids"].as_array().unwrap().clone())
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        cases.sort();
        cases
    };
    assert_eq!(cases_of("clipped-channel"), ["D1", "E1"], "{all:#?}");
    assert_eq!(cases_of("flat-line"), ["M1"], "{all:#?}");
    for f in with_rule(&all, "clipped-channel")
        .into_iter()
        .chain(with_rule(&all, "flat-line"))
    {
        assert_eq!(
            (f["clause"].as_str(), f["severity"].as_str()),
            (Some("Q7"), Some("blocking"))
        );
        assert!(
            f["message_ja"]
                .as_str()
                .unwrap()
                .contains("医学的に妥当性の低いデータ")
        );
    }
    let message = |case: &str| -> String {
        with_rule(&all, "clipped-channel")
            .into_iter()
            .find(|f| f["case_ids"] == serde_json::json!([case]))
            .unwrap()["message_en"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let dicom = message("D1");
    assert!(
        dicom.contains(
            "RHYTHM/Lead II 10.0 % of samples at the rails (-32768, 32767), longest 1.00 s"
        ),
        "{dicom}"
    );
    assert!(
        !dicom.contains("Lead I "),
        "only lead II is saturated: {dicom}"
    );
    let edf = message("E1");
    assert!(edf.contains("ECG 1 3."), "{edf}");
    let flat = &with_rule(&all, "flat-line")[0]["message_en"];
    assert!(flat.as_str().unwrap().contains("V5 50.0 s"), "{flat}");
    // The same findings on a second run: keys are stable.
    assert_eq!(
        kizon(&root, &["check", "--json"]).ok().json()["new_findings"],
        0
    );
}

/// `[checks] clipping_fraction` and `clipping_s` in the protocol set when a channel is clipped.
#[test]
fn protocol_sets_the_clipping_limits() {
    let (tmp, root) = study_with_provider();
    let protocol = root.join("study.toml");
    let text = std::fs::read_to_string(&protocol)
        .unwrap()
        .replace("clipping_fraction = 0.01", "clipping_fraction = 0.05")
        .replace("clipping_s = 0.5", "clipping_s = 2");
    std::fs::write(&protocol, text).unwrap();
    let data = tmp.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    let (clipped, low, high) = clipped_test01();
    std::fs::write(
        data.join("clipped.edf"),
        edf_with_range("ECG 1", clipped, low, high),
    )
    .unwrap();
    kizon(
        &root,
        &["ingest", "--provider", "H", data.to_str().unwrap()],
    )
    .ok();
    kizon(&root, &["check"]).ok();
    assert!(
        with_rule(&findings(&root), "clipped-channel").is_empty(),
        "3 % at the rail is below the protocol's 5 %"
    );
}

/// Analyser result tables against the protocol's `[[tables]]`: a value outside the reportable
/// range and a table without a declared column are findings (Q7); a table that complies is not.
#[test]
fn analyser_tables_are_checked_against_their_declared_columns_and_ranges() {
    let (tmp, root) = study_with_provider();
    let protocol = std::fs::read_to_string(root.join("study.toml")).unwrap()
        + "\n[[tables]]\nname = \"hba1c-analyser\"\ncolumns = [\"specimen_id\", \"measured_on\", \"hba1c_percent\"]\n[tables.reportable_range]\nhba1c_percent = [4.0, 18.5]\n";
    std::fs::write(root.join("study.toml"), protocol).unwrap();
    let data = tmp.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("run1.csv"),
        "specimen_id,measured_on,hba1c_percent\nS-001,2024-02-01,6.2\nS-002,2024-02-01,31.0\nS-003,2024-02-02,7.9\n",
    )
    .unwrap();
    std::fs::write(
        data.join("run2.csv"),
        "specimen_id,measured_on,hba1c_percent\nS-004,2024-02-03,5.5\nS-005,2024-02-03,8.1\n",
    )
    .unwrap();
    std::fs::write(
        data.join("run3.csv"),
        "specimen,date,value\nS-006,2024-02-04,6.0\nS-007,2024-02-04,6.1\n",
    )
    .unwrap();
    std::fs::write(
        data.join("manifest.csv"),
        "case_id,path,collection_date\nT1,run1.csv,2024-03-01\nT2,run2.csv,2024-03-01\nT3,run3.csv,2024-03-01\n",
    )
    .unwrap();
    ingest_manifest(&root, &data.join("manifest.csv"));
    kizon(&root, &["check"]).ok();
    let all = findings(&root);
    let range = with_rule(&all, "reportable-range");
    assert_eq!(range.len(), 1, "{all:?}");
    assert_eq!(range[0]["case_ids"], serde_json::json!(["T1"]));
    assert_eq!(range[0]["clause"], "Q7");
    assert!(
        range[0]["message_en"]
            .as_str()
            .unwrap()
            .contains("line 3: hba1c_percent = 31 (range 4–18.5)"),
        "{}",
        range[0]
    );
    let columns = with_rule(&all, "table-columns");
    assert_eq!(columns.len(), 1);
    assert_eq!(columns[0]["case_ids"], serde_json::json!(["T3"]));
    assert!(
        columns[0]["message_ja"]
            .as_str()
            .unwrap()
            .contains("specimen_id, measured_on, hba1c_percent")
    );
}

/// Decoded pixels (Q7): the MR_small family in six lossless encodings as six cases is one
/// image; 693 uncompressed and as lossy JPEG 2000 are near duplicates (perceptual hash); a
/// rerun decodes nothing new and keeps the same findings.
#[test]
fn the_same_image_in_other_encodings_and_a_lossy_copy_are_found() {
    let family = [
        "MR_small.dcm",
        "MR_small_RLE.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_implicit.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
    ];
    let mut files: Vec<(String, String)> = family
        .iter()
        .map(|f| (format!("dicom/pydicom/{f}"), (*f).to_owned()))
        .collect();
    files.push((
        "dicom/pydicom-data/693_UNCR.dcm".into(),
        "693_UNCR.dcm".into(),
    ));
    files.push(("dicom/pydicom/693_J2KI.dcm".into(), "693_J2KI.dcm".into()));
    let mut manifest = String::from("case_id,path,collection_date\n");
    for (i, (_, name)) in files.iter().enumerate() {
        manifest.push_str(&format!("P{i},{name},2026-01-01\n"));
    }
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (_tmp, root) = ingested(&borrowed, &manifest);
    kizon(&root, &["check"]).ok();
    let all = findings(&root);
    let same = with_rule(&all, "same-pixels");
    assert_eq!(same.len(), 1, "{same:?}");
    assert_eq!(
        same[0]["case_ids"],
        serde_json::json!(["P0", "P1", "P2", "P3", "P4", "P5"])
    );
    assert_eq!(same[0]["clause"], "Q7");
    let near = with_rule(&all, "near-duplicate");
    assert_eq!(near.len(), 1, "{near:?}");
    assert_eq!(near[0]["case_ids"], serde_json::json!(["P6", "P7"]));
    let again = kizon(&root, &["check", "--json"]).ok().json();
    assert_eq!(again["new_findings"], 0);
}
