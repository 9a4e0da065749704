//! Every parser and decoder that takes outside bytes, with the real files its inputs grow from.

use std::path::Path;
use std::sync::OnceLock;

use kizon_waveform::edf::{self, EdfHeader};
use kizon_waveform::mfer::{
    MferChannel, MferDataType, MferPatient, MferRecording, MferSensitivity, read_mfer, write_mfer,
};
use kizon_waveform::wfdb::{WfdbHeader, read_mit_annotations, read_signal_file};

use crate::{Target, testdata};

/// The header the WFDB signal target reads its (mutated) signal files with.
const WFDB_HEADER: &str = include_str!("../../../testdata/waveform/wfdb/test01_00s.hea");

fn file(relative: &str) -> Vec<u8> {
    let path = testdata().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Small DICOM files of the test data (under 64 KiB), in name order.
fn small_dicoms() -> Vec<Vec<u8>> {
    let mut paths = Vec::new();
    let mut stack = vec![testdata().join("dicom")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("testdata/dicom") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.metadata().is_ok_and(|m| m.len() < 64 * 1024) {
                paths.push(path);
            }
        }
    }
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).expect("a test file"))
        .collect()
}

/// One pixel encoding per seed: native, deflated, RLE, JPEG baseline and lossless, JPEG-LS,
/// JPEG 2000.
const PIXEL_SEEDS: &[&str] = &[
    "dicom/pydicom/MR_small.dcm",
    "dicom/pydicom/image_dfl.dcm",
    "dicom/pydicom/MR_small_RLE.dcm",
    "dicom/pydicom/SC_rgb_rle_32bit.dcm",
    "dicom/pydicom/SC_rgb_jpeg.dcm",
    "dicom/pydicom/JPEG-lossy.dcm",
    "dicom/pydicom/JPEGLSNearLossless_08.dcm",
    "dicom/pydicom/MR_small_jpeg_ls_lossless.dcm",
    "dicom/pydicom/JPEG2000.dcm",
    "dicom/pydicom/MR_small_jp2klossless.dcm",
];

/// An EDF cut to its header and first two data records (the record count says so), so that
/// mutations reach the header and the samples alike.
fn small_edf(relative: &str) -> Vec<u8> {
    let mut bytes = file(relative);
    let header = EdfHeader::parse(&bytes).expect("a valid EDF seed");
    let records = 2.min(header.data_records_present.max(1) as usize);
    bytes.truncate(header.header_len() + records * header.record_size());
    let count = format!("{records:<8}");
    bytes[236..244].copy_from_slice(count.as_bytes());
    bytes
}

/// A one-second two-channel MFER recording, written by kizon's own writer.
fn small_mfer(little_endian: bool) -> Vec<u8> {
    let sensitivity = Some(MferSensitivity {
        unit: 0,
        exponent: -6,
        mantissa: 5,
    });
    let channel = |label: &str, phase: i32| MferChannel {
        lead_code: Some(1),
        label: label.into(),
        sensitivity,
        samples: (0..250).map(|i| ((i * 7 + phase) % 200) - 100).collect(),
    };
    write_mfer(&MferRecording {
        preamble: "MFR kizon-fuzz seed".into(),
        little_endian,
        sampling_rate_hz: 250.0,
        data_type: MferDataType::Int16,
        block_length: 125,
        waveform_type: None,
        sensitivity,
        offset: Some(-4),
        patient: MferPatient::default(),
        measurement_time: None,
        comments: vec!["seed".into()],
        channels: vec![channel("I", 0), channel("II", 31)],
    })
    .expect("the seed recording writes")
}

const CSV_SEEDS: &[&str] = &[
    "case_id,label,score\nC-001,positive,0.91\nC-002,negative,0.12\n\"C-003\",陽性,\"0,5\"\n",
    "\u{feff}case_id,label\r\nC-001,1\r\n\r\nC-002,0\r\n",
    "case_id;label\nC-001;positive\n",
];

const MARKS_SEEDS: &[&str] = &[
    r#"[{"case_id": "C-001", "image": "1", "x": 10, "y": 20, "r": 5, "rating": 0.8},
        {"case_id": "C-002", "bbox": [1, 2, 30, 40], "lesion_type": "nodule"},
        {"case_id": "C-003", "polygon": [[0, 0], [10, 0], [10, 10]]}]"#,
    r#"{"images": [{"id": 1, "case_id": "C-001", "file_name": "a.dcm"}],
        "annotations": [{"image_id": 1, "bbox": [5, 5, 10, 10], "category_id": 1, "score": 0.7,
                         "segmentation": [[5, 5, 15, 5, 15, 15]]}],
        "categories": [{"id": 1, "name": "nodule"}]}"#,
];

fn inspect(bytes: &[u8]) {
    let _ = kizon_formats::inspect(bytes);
}

fn pixels(bytes: &[u8]) {
    let _ = kizon_pixels::pixel_content_hash(bytes);
    let _ = kizon_pixels::perceptual_hash(bytes);
}

fn dicom_waveform(bytes: &[u8]) {
    let _ = kizon_formats::dicom::waveform::read_waveform(bytes);
}

fn edf(bytes: &[u8]) {
    let _ = edf::read_info(bytes);
    if let Ok(header) = EdfHeader::parse(bytes) {
        for index in 0..header.signals.len() {
            let _ = edf::read_samples(&header, bytes, index);
        }
        let _ = edf::read_annotations(&header, bytes);
    }
}

fn wfdb_header(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Ok(header) = WfdbHeader::parse(&text) {
        let _ = header.companion_files();
        let _ = header.start_iso();
        let _ = header.info(&text, 0);
    }
}

fn wfdb_signal(bytes: &[u8]) {
    // Parsed once, not per input: only the signal file is under test here.
    static HEADER: OnceLock<WfdbHeader> = OnceLock::new();
    let header =
        HEADER.get_or_init(|| WfdbHeader::parse(WFDB_HEADER).expect("the seed header parses"));
    let _ = read_signal_file(header, "test01_00s.dat", bytes);
}

fn wfdb_annotations(bytes: &[u8]) {
    let _ = read_mit_annotations(bytes);
}

fn mfer(bytes: &[u8]) {
    let _ = read_mfer(bytes);
}

fn csv(bytes: &[u8]) {
    let _ = kizon_tables::parse_table(
        Path::new("fuzz.csv"),
        bytes,
        &["case_id", "label"],
        &["score"],
        None,
    );
}

fn marks(bytes: &[u8]) {
    let _ = kizon_app::lesions::read_json_marks(Path::new("fuzz.json"), bytes);
}

fn study_toml(bytes: &[u8]) {
    if let Ok(protocol) = kizon_protocol::Protocol::parse(&String::from_utf8_lossy(bytes)) {
        let _ = kizon_protocol::lint::warnings(&protocol);
    }
}

/// The hospital's de-identification of every kind it rewrites (DICOM through kizon-formats'
/// tree, EDF/BDF, MFER, WFDB headers, ISO-BMFF video): a hostile file must be refused, never
/// crash the hospital's run.
fn deidentify(bytes: &[u8]) {
    static PROFILE: OnceLock<kizon_deid::Profile> = OnceLock::new();
    let profile = PROFILE.get_or_init(kizon_deid::Profile::default_profile);
    let keys = kizon_deid::dicom::Keys {
        secret: b"fuzz secret",
        pseudonym: "CASE-0001",
        shift_days: -400,
    };
    if let Ok(parsed) = kizon_formats::dicom::tree::parse(bytes) {
        let _ = kizon_deid::dicom::identity(&parsed);
        let _ = kizon_deid::dicom::deidentify(&parsed, profile, &keys);
    }
    let _ = kizon_deid::edf::patient_code(bytes);
    let _ = kizon_deid::edf::deidentify(bytes, profile, "CASE-0001", -400);
    let _ = kizon_deid::mfer::patient_id(bytes);
    let _ = kizon_deid::mfer::deidentify(bytes, profile, "CASE-0001", -400);
    let _ = kizon_deid::video::deidentify(bytes, profile, -400);
    let _ = kizon_deid::wfdb::deidentify(&String::from_utf8_lossy(bytes), profile, -400);
}

/// The harness's own hospital key, made once per run: inputs are signed with it, so that a
/// hostile manifest gets past the signature to the manifest's parser and path checks.
fn handover_key() -> &'static kizon_app::owner_key::OwnerKey {
    static KEY: OnceLock<kizon_app::owner_key::OwnerKey> = OnceLock::new();
    KEY.get_or_init(|| kizon_app::owner_key::OwnerKey::generate().expect("a key is generated"))
}

/// A manifest as `kizon deidentify` writes one: the seed of the `handover` target.
fn handover_manifest() -> Vec<u8> {
    use kizon_app::hospital::manifest::{FileEntry, Manifest, ProfileRecord, Removal};
    let manifest = Manifest {
        format: kizon_app::hospital::manifest::FORMAT.into(),
        created_at: "2026-11-20T09:00:00Z".into(),
        kizon_version: "0.1.0".into(),
        public_key: handover_key().public_hex(),
        profile: ProfileRecord {
            sha256: "0".repeat(64),
            options: vec!["retain-longitudinal-temporal-information-modified-dates".into()],
            text: "[dicom]\noptions = []\n".into(),
        },
        files: vec![
            FileEntry {
                path: "files/CASE-0001/ct/1.dcm".into(),
                sha256: "1".repeat(64),
                size: 1024,
                kind: "dicom".into(),
            },
            FileEntry {
                path: "files/CASE-0002/ecg.edf".into(),
                sha256: "2".repeat(64),
                size: 2048,
                kind: "edf".into(),
            },
        ],
        counts_by_kind: [("dicom".to_owned(), 1), ("edf".to_owned(), 1)].into(),
        patients: 2,
        removed: vec![Removal {
            action: "remove".into(),
            attribute: "(0010,0010) PatientName".into(),
            count: 1,
        }],
        quarantined: 0,
        quarantine_reasons: Default::default(),
        record_sha256: "3".repeat(64),
        ocr: None,
        record_pdf_sha256: "4".repeat(64),
        case_list_sha256: None,
    };
    serde_json::to_vec_pretty(&manifest).expect("serialises")
}

/// The signed hand-over (Q5): the input as a manifest, signed here so that the manifest's
/// parser and its path checks (nothing outside `files/`) see it; and the input as the
/// signature file of a real manifest (its JSON, hex key and signature).
fn handover(bytes: &[u8]) {
    use kizon_app::hospital::manifest::{check_signed_bytes, signature_file};
    static SEED: OnceLock<Vec<u8>> = OnceLock::new();
    let key = handover_key();
    let keys = [key.public_hex()];
    let signature = signature_file(key, &kizon_app::sha256_hex(bytes));
    let _ = check_signed_bytes(bytes, &signature, &keys);
    let _ = check_signed_bytes(SEED.get_or_init(handover_manifest), bytes, &keys);
}

/// Every target, its seeds read from the repository's test data.
pub fn targets() -> Vec<Target> {
    let texts = |seeds: &[&str]| seeds.iter().map(|s| s.as_bytes().to_vec()).collect();
    vec![
        Target {
            name: "inspect",
            seeds: {
                let mut seeds = small_dicoms();
                seeds.push(file("video/carphone_distorted.mp4"));
                seeds.push(file("waveform/wfdb/100.hea"));
                seeds.push(small_edf("waveform/edf/test_subsecond.edf"));
                seeds.push(small_mfer(false));
                seeds.push(CSV_SEEDS[0].as_bytes().to_vec());
                seeds
            },
            parse: inspect,
        },
        Target {
            name: "pixels",
            seeds: PIXEL_SEEDS.iter().map(|p| file(p)).collect(),
            parse: pixels,
        },
        Target {
            name: "dicom-waveform",
            seeds: vec![file("dicom/pydicom/waveform_ecg.dcm")],
            parse: dicom_waveform,
        },
        Target {
            name: "edf",
            seeds: vec![
                small_edf("waveform/edf/test_subsecond.edf"),
                small_edf("waveform/edf/test_utf8.edf"),
                small_edf("waveform/edf/test_generator.bdf"),
            ],
            parse: edf,
        },
        Target {
            name: "wfdb-header",
            seeds: vec![
                file("waveform/wfdb/100.hea"),
                file("waveform/wfdb/test01_00s.hea"),
            ],
            parse: wfdb_header,
        },
        Target {
            name: "wfdb-signal",
            seeds: vec![file("waveform/wfdb/test01_00s.dat")],
            parse: wfdb_signal,
        },
        Target {
            name: "wfdb-annotations",
            seeds: vec![file("waveform/wfdb/100.atr")],
            parse: wfdb_annotations,
        },
        Target {
            name: "mfer",
            seeds: vec![small_mfer(false), small_mfer(true)],
            parse: mfer,
        },
        Target {
            name: "csv",
            seeds: texts(CSV_SEEDS),
            parse: csv,
        },
        Target {
            name: "marks-json",
            seeds: texts(MARKS_SEEDS),
            parse: marks,
        },
        Target {
            name: "deidentify",
            seeds: {
                let mut seeds = small_dicoms();
                seeds.push(small_edf("waveform/edf/test_generator.edf"));
                seeds.push(small_edf("waveform/edf/test_generator.bdf"));
                seeds.push(small_mfer(false));
                seeds.push(small_mfer(true));
                seeds.push(file("waveform/wfdb/100.hea"));
                seeds.push(file("video/carphone_distorted.mp4"));
                seeds
            },
            parse: deidentify,
        },
        Target {
            name: "handover",
            seeds: {
                let manifest = handover_manifest();
                let signature = kizon_app::hospital::manifest::signature_file(
                    handover_key(),
                    &kizon_app::sha256_hex(&manifest),
                );
                vec![manifest, signature]
            },
            parse: handover,
        },
        Target {
            name: "study-toml",
            seeds: vec![kizon_protocol::TEMPLATE.as_bytes().to_vec()],
            parse: study_toml,
        },
    ]
}
