//! The demo's own data: small chest CT DICOM files written here (no outside file is read), and a
//! manifest with collection and diagnosis dates, with realistic problems planted for `check`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use crate::AppError;
use crate::error::io;

/// One generated image.
struct Image<'a> {
    file: &'a str,
    study_date: &'a str,
    modality: &'a str,
    patient_name: Option<&'a str>,
    burned_in: Option<&'a str>,
    seed: u16,
}

/// A case of the manifest: collection date, diagnosis and its date.
struct Row<'a> {
    case: &'a str,
    file: &'a str,
    collected: &'a str,
    diagnosis: &'a str,
    diagnosed: &'a str,
}

/// Writes the images and `manifest.csv` into `dir`; returns the problems planted, for the demo
/// to show that `check` finds each.
pub fn write(dir: &Path) -> Result<Vec<&'static str>, AppError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    let images = [
        Image {
            file: "c001.dcm",
            study_date: "20230412",
            modality: "CT",
            patient_name: None,
            burned_in: Some("NO"),
            seed: 1,
        },
        Image {
            file: "c002.dcm",
            study_date: "20230520",
            modality: "CT",
            patient_name: None,
            burned_in: Some("NO"),
            seed: 2,
        },
        Image {
            file: "c003.dcm",
            study_date: "20230602",
            modality: "CT",
            patient_name: None,
            burned_in: Some("NO"),
            seed: 3,
        },
        Image {
            file: "c005.dcm",
            study_date: "20240801",
            modality: "CT",
            patient_name: None,
            burned_in: Some("NO"),
            seed: 5,
        },
        Image {
            file: "c006.dcm",
            study_date: "20220110",
            modality: "CT",
            patient_name: None,
            burned_in: Some("NO"),
            seed: 6,
        },
        Image {
            file: "c007.dcm",
            study_date: "20230715",
            modality: "US",
            patient_name: None,
            burned_in: Some("YES"),
            seed: 7,
        },
        Image {
            file: "c008.dcm",
            study_date: "20230901",
            modality: "CT",
            patient_name: Some("YAMADA^TARO"),
            burned_in: Some("NO"),
            seed: 8,
        },
    ];
    for (index, image) in images.iter().enumerate() {
        let path = dir.join(image.file);
        fs::write(&path, dicom(image, index)).map_err(io(&path))?;
    }
    // C-004 is C-001's image again, under another name: the same data as two cases (Q7).
    // C-004 is C-001's image again, re-encoded as implicit VR under a new SOP Instance UID:
    // neither the file nor its UIDs match, only the decoded pixels (Q7).
    let copy = Image {
        file: "c004.dcm",
        ..images[0]
    };
    let path = dir.join("c004.dcm");
    fs::write(&path, encode(&copy, 3, true)).map_err(io(&path))?;

    let rows = [
        Row {
            case: "C-001",
            file: "c001.dcm",
            collected: "2024-07-01",
            diagnosis: "adenocarcinoma",
            diagnosed: "2023-04-28",
        },
        Row {
            case: "C-002",
            file: "c002.dcm",
            collected: "2024-07-01",
            diagnosis: "benign",
            diagnosed: "2023-06-02",
        },
        Row {
            case: "C-003",
            file: "c003.dcm",
            collected: "2024-07-01",
            diagnosis: "adenocarcinoma",
            diagnosed: "2023-06-20",
        },
        Row {
            case: "C-004",
            file: "c004.dcm",
            collected: "2024-07-01",
            diagnosis: "benign",
            diagnosed: "2023-05-01",
        },
        // Imaged after the case was collected: not existing data (Q2).
        Row {
            case: "C-005",
            file: "c005.dcm",
            collected: "2024-07-15",
            diagnosis: "benign",
            diagnosed: "2024-08-20",
        },
        // Diagnosed two years after the image: a chronological contradiction (Q7).
        Row {
            case: "C-006",
            file: "c006.dcm",
            collected: "2024-07-01",
            diagnosis: "adenocarcinoma",
            diagnosed: "2024-01-15",
        },
        Row {
            case: "C-007",
            file: "c007.dcm",
            collected: "2024-07-01",
            diagnosis: "benign",
            diagnosed: "2023-07-30",
        },
        Row {
            case: "C-008",
            file: "c008.dcm",
            collected: "2024-07-01",
            diagnosis: "adenocarcinoma",
            diagnosed: "2023-09-10",
        },
    ];
    let mut manifest =
        String::from("case_id,path,collection_date,diagnosis,diagnosis_date,patient_key\n");
    let mut pathology = String::from(
        "case_id,label,diagnosis,diagnosis_date,source_document,source_document_en,source_date,source_location\n",
    );
    let mut results = String::from("case_id,label,score\n");
    for row in rows {
        let _ = writeln!(
            manifest,
            "{},{},{},{},{},",
            row.case, row.file, row.collected, row.diagnosis, row.diagnosed
        );
        let malignant = row.diagnosis != "benign";
        let _ = writeln!(
            pathology,
            "{},{},{},{},病理診断報告書,pathology report,{},Kizon Demo University Hospital 病理部門システム / pathology archive",
            row.case,
            if malignant { "positive" } else { "negative" },
            row.diagnosis,
            row.diagnosed,
            row.diagnosed
        );
        let score = if malignant { 0.81 } else { 0.22 };
        let _ = writeln!(results, "{},,{score}", row.case);
    }
    for case in ordinary_cases() {
        let path = dir.join(&case.file);
        let image = Image {
            file: &case.file,
            study_date: &case.study_date,
            modality: "CT",
            patient_name: None,
            burned_in: Some("NO"),
            seed: case.seed,
        };
        fs::write(&path, dicom(&image, usize::from(case.seed))).map_err(io(&path))?;
        let diagnosis = if case.malignant {
            "adenocarcinoma"
        } else {
            "benign"
        };
        let _ = writeln!(
            manifest,
            "{},{},2024-07-01,{diagnosis},{},{}",
            case.id, case.file, case.diagnosed, case.patient
        );
        let _ = writeln!(
            pathology,
            "{},{},{diagnosis},{},{},{},Kizon Demo University Hospital 病理部門システム / pathology archive",
            case.id,
            if case.malignant {
                "positive"
            } else {
                "negative"
            },
            case.diagnosed,
            if case.malignant {
                "病理診断報告書,pathology report"
            } else {
                "2年経過観察記録,2-year follow-up record"
            },
            case.diagnosed
        );
        let label = if case.indeterminate {
            "indeterminate"
        } else if case.score >= 0.5 {
            "positive"
        } else {
            "negative"
        };
        let _ = writeln!(results, "{},{label},{:.3}", case.id, case.score);
    }
    // C-121: a resting ECG whose lead II is off for 12 s: medically implausible data (Q7).
    let ecg = dir.join("c121-ecg.edf");
    fs::write(&ecg, flat_lead_ecg()).map_err(io(&ecg))?;
    let _ = writeln!(
        manifest,
        "C-121,c121-ecg.edf,2024-07-01,benign,2023-05-02,P-121"
    );
    for (name, text) in [
        ("manifest.csv", &manifest),
        ("pathology.csv", &pathology),
        ("device-results.csv", &results),
    ] {
        let path = dir.join(name);
        fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(vec![
        "C-004 is C-001's image re-encoded (implicit VR) under a new SOP Instance UID (Q7 same data as several cases)",
        "C-005 was imaged after its collection date (Q2 existing data)",
        "C-006 was diagnosed two years after imaging (Q7 chronology)",
        "C-007 has text burned into its pixels (Q1)",
        "C-008 carries the patient's name in its header (Q1)",
        "C-121's ECG has lead II flat for 12 s (Q7 medically implausible data)",
    ])
}

/// A 30 s, two-lead resting ECG at 250 Hz (EDF, anonymised header): Gaussian P, QRS and T
/// waves at 72 beats per minute, lead II disconnected from 10 s to 22 s.
fn flat_lead_ecg() -> Vec<u8> {
    use kizon_waveform::edf::{EdfRecording, EdfSignal, EdfSignalData, write_edf};
    const RATE: usize = 250;
    let beat = |t: f64| -> f64 {
        let phase = t % (60.0 / 72.0);
        let wave = |centre: f64, width: f64, height: f64| {
            height * (-((phase - centre) / width).powi(2)).exp()
        };
        wave(0.10, 0.025, 150.0) + wave(0.25, 0.012, 1200.0) - wave(0.27, 0.01, 250.0)
            + wave(0.50, 0.05, 300.0)
    };
    let lead = |gain: f64, off: Option<(f64, f64)>| -> Vec<i32> {
        (0..30 * RATE)
            .map(|i| {
                let t = i as f64 / RATE as f64;
                match off {
                    Some((from, to)) if (from..to).contains(&t) => 0,
                    _ => (gain * beat(t)).round() as i32,
                }
            })
            .collect()
    };
    let signal = |label: &str, samples: Vec<i32>| EdfSignalData {
        signal: EdfSignal {
            label: label.to_owned(),
            transducer: "AgAgCl electrode".into(),
            physical_dimension: "uV".into(),
            physical_min: -3276.8,
            physical_max: 3276.7,
            digital_min: -32768,
            digital_max: 32767,
            prefiltering: "HP:0.05Hz LP:150Hz".into(),
            samples_per_record: RATE,
            reserved: String::new(),
        },
        samples,
    };
    write_edf(&EdfRecording {
        patient: "X X X X".into(),
        recording: "Startdate 01-MAY-2023 X X X".into(),
        start_date: "01.05.23".into(),
        start_time: "10.00.00".into(),
        record_duration_s: 1.0,
        signals: vec![
            signal("ECG I", lead(6.0, None)),
            signal("ECG II", lead(9.0, Some((10.0, 22.0)))),
        ],
        annotations: None,
    })
    .expect("a well-formed EDF recording")
}

/// An ordinary case of the demo: nothing wrong with it.
struct Ordinary {
    id: String,
    file: String,
    study_date: String,
    diagnosed: String,
    patient: String,
    seed: u16,
    malignant: bool,
    score: f64,
    indeterminate: bool,
}

/// Cases C-009 … C-120: about 40 % malignant; the device scores most malignant cases high
/// and most benign ones low, with misses and false alarms; three results indeterminate; six
/// patients contribute two cases each (so the analysis reports clustered intervals too).
fn ordinary_cases() -> Vec<Ordinary> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (9u16..=120)
        .map(|n| {
            let malignant = uniform() < 0.4;
            let score = match (malignant, uniform()) {
                (true, u) if u < 0.06 => 0.2 + 0.25 * uniform(),
                (true, _) => 0.55 + 0.44 * uniform(),
                (false, u) if u < 0.12 => 0.5 + 0.4 * uniform(),
                (false, _) => 0.05 + 0.4 * uniform(),
            };
            let month = 1 + (n % 12);
            let day = 1 + (n % 27);
            let patient = if (9..21).contains(&n) {
                format!("P-{:03}", 9 + (n - 9) / 2)
            } else {
                format!("P-{n:03}")
            };
            Ordinary {
                id: format!("C-{n:03}"),
                file: format!("c{n:03}.dcm"),
                study_date: format!("2023{month:02}{day:02}"),
                diagnosed: format!("2023-{month:02}-{:02}", day + 1),
                patient,
                seed: n,
                malignant,
                score,
                indeterminate: matches!(n, 33 | 71 | 104),
            }
        })
        .collect()
}

/// A 32×32 12-bit phantom of its own for each seed: a tilted background and three discs
/// placed, sized and shaded by a xorshift generator, so that no two cases look alike (a
/// perceptual hash tells them apart) while each file stays a few kilobytes.
fn phantom(seed: u16) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ u64::from(seed).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let mut next = move |below: u32| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % u64::from(below)) as i32
    };
    let tilt = (next(7) - 3, next(7) - 3);
    let discs: Vec<(i32, i32, i32, i32)> = (0..3)
        .map(|_| (4 + next(24), 4 + next(24), 2 + next(6), 300 + next(3000)))
        .collect();
    (0..32 * 32)
        .flat_map(|i: i32| {
            let (x, y) = (i % 32, i / 32);
            let mut value = 200 + tilt.0 * x * 4 + tilt.1 * y * 4 + next(40);
            for (cx, cy, r, level) in &discs {
                if (x - cx).pow(2) + (y - cy).pow(2) < r * r {
                    value = *level;
                }
            }
            (value.clamp(0, 4095) as u16).to_le_bytes()
        })
        .collect()
}

/// A small Part 10 file, explicit VR little endian, 32×32 16-bit pixels.
fn dicom(image: &Image<'_>, index: usize) -> Vec<u8> {
    encode(image, index, false)
}

/// Re-encodes a data set written by [`encode`] (explicit VR little endian) as implicit VR:
/// tag, 4-byte length, value (PS3.5 7.1.3).
fn to_implicit(explicit: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(explicit.len());
    let mut at = 0;
    while at + 8 <= explicit.len() {
        let tag = &explicit[at..at + 4];
        let vr = &explicit[at + 4..at + 6];
        let (length, header) = if matches!(vr, b"OB" | b"OW") {
            (
                u32::from_le_bytes(explicit[at + 8..at + 12].try_into().expect("4 bytes")) as usize,
                12,
            )
        } else {
            (
                u16::from_le_bytes(explicit[at + 6..at + 8].try_into().expect("2 bytes")) as usize,
                8,
            )
        };
        out.extend_from_slice(tag);
        out.extend_from_slice(&(length as u32).to_le_bytes());
        out.extend_from_slice(&explicit[at + header..at + header + length]);
        at += header + length;
    }
    out
}

/// A small Part 10 file, 32×32 16-bit pixels, explicit or implicit VR little endian.
fn encode(image: &Image<'_>, index: usize, implicit: bool) -> Vec<u8> {
    const CT_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
    const US_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.6.1";
    let class = if image.modality == "US" {
        US_IMAGE
    } else {
        CT_IMAGE
    };
    let instance = format!("2.25.1959{index:03}{}", image.seed);
    let study = format!("2.25.2959{index:03}{}", image.seed);
    let mut data = Vec::new();
    let put = |out: &mut Vec<u8>, group: u16, element: u16, vr: &[u8; 2], value: &[u8]| {
        let mut value = value.to_vec();
        if value.len() % 2 == 1 {
            value.push(if vr == b"UI" { 0 } else { b' ' });
        }
        out.extend_from_slice(&group.to_le_bytes());
        out.extend_from_slice(&element.to_le_bytes());
        out.extend_from_slice(vr);
        if matches!(vr, b"OB" | b"OW") {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        out.extend_from_slice(&value);
    };
    put(&mut data, 0x0008, 0x0016, b"UI", class.as_bytes());
    put(&mut data, 0x0008, 0x0018, b"UI", instance.as_bytes());
    put(
        &mut data,
        0x0008,
        0x0020,
        b"DA",
        image.study_date.as_bytes(),
    );
    put(
        &mut data,
        0x0008,
        0x0022,
        b"DA",
        image.study_date.as_bytes(),
    );
    put(&mut data, 0x0008, 0x0060, b"CS", image.modality.as_bytes());
    put(&mut data, 0x0008, 0x0070, b"LO", b"Kizon Demo Imaging");
    if let Some(name) = image.patient_name {
        put(&mut data, 0x0010, 0x0010, b"PN", name.as_bytes());
    }
    put(
        &mut data,
        0x0010,
        0x0040,
        b"CS",
        if index.is_multiple_of(2) { b"M" } else { b"F" },
    );
    put(
        &mut data,
        0x0010,
        0x1010,
        b"AS",
        format!("{:03}Y", 35 + (index * 7) % 50).as_bytes(),
    );
    put(
        &mut data,
        0x0018,
        0x0015,
        b"CS",
        if image.modality == "US" {
            b"ABDOMEN"
        } else {
            b"CHEST"
        },
    );
    put(&mut data, 0x0018, 0x0050, b"DS", b"1.25");
    put(&mut data, 0x0020, 0x000D, b"UI", study.as_bytes());
    put(
        &mut data,
        0x0020,
        0x000E,
        b"UI",
        format!("{study}.1").as_bytes(),
    );
    put(&mut data, 0x0028, 0x0002, b"US", &1u16.to_le_bytes());
    put(&mut data, 0x0028, 0x0004, b"CS", b"MONOCHROME2");
    put(&mut data, 0x0028, 0x0010, b"US", &32u16.to_le_bytes());
    put(&mut data, 0x0028, 0x0011, b"US", &32u16.to_le_bytes());
    put(&mut data, 0x0028, 0x0030, b"DS", b"0.7\\0.7");
    put(&mut data, 0x0028, 0x0100, b"US", &16u16.to_le_bytes());
    put(&mut data, 0x0028, 0x0101, b"US", &12u16.to_le_bytes());
    put(&mut data, 0x0028, 0x0102, b"US", &11u16.to_le_bytes());
    put(&mut data, 0x0028, 0x0103, b"US", &0u16.to_le_bytes());
    if let Some(burned) = image.burned_in {
        put(&mut data, 0x0028, 0x0301, b"CS", burned.as_bytes());
    }
    put(&mut data, 0x7FE0, 0x0010, b"OW", &phantom(image.seed));

    let mut meta = Vec::new();
    put(&mut meta, 0x0002, 0x0001, b"OB", &[0, 1]);
    put(&mut meta, 0x0002, 0x0002, b"UI", class.as_bytes());
    put(&mut meta, 0x0002, 0x0003, b"UI", instance.as_bytes());
    let data = if implicit { to_implicit(&data) } else { data };
    let syntax: &[u8] = if implicit {
        b"1.2.840.10008.1.2"
    } else {
        b"1.2.840.10008.1.2.1"
    };
    put(&mut meta, 0x0002, 0x0010, b"UI", syntax);
    let mut file = vec![0u8; 128];
    file.extend_from_slice(b"DICM");
    put(
        &mut file,
        0x0002,
        0x0000,
        b"UL",
        &(meta.len() as u32).to_le_bytes(),
    );
    file.extend_from_slice(&meta);
    file.extend_from_slice(&data);
    file
}
