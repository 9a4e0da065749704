//! The demo's own data: small chest CT DICOM files written here (no outside file is read), and a
//! manifest with collection and diagnosis dates, with realistic problems planted for `check`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use crate::AppError;
use crate::error::io;

/// One generated image and whose it is, as the file says.
struct Image<'a> {
    file: &'a str,
    study_date: &'a str,
    modality: &'a str,
    patient: Patient<'a>,
    burned_in: Option<&'a str>,
    seed: u16,
}

/// The patient attributes a file carries: at the hospital all of them (its PACS export is
/// identifiable); at the biobank none (its codes are in its manifest), but for the one name its
/// export missed.
#[derive(Clone, Copy)]
struct Patient<'a> {
    id: &'a str,
    name: Option<&'a str>,
    birth_date: Option<&'a str>,
    accession: Option<&'a str>,
    institution: Option<&'a str>,
}

/// A case of a case list: collection date, diagnosis and its date.
struct Row<'a> {
    case: &'a str,
    file: &'a str,
    collected: &'a str,
    diagnosis: &'a str,
    diagnosed: &'a str,
}

/// Where the demo's data starts, and what was planted in it.
pub struct Written {
    /// The hospital's export from its PACS, ECG system and pathology system: identifiable, it
    /// never leaves the hospital (`kizon deidentify` hands it over).
    pub hospital_export: std::path::PathBuf,
    /// The hospital's case list and its pathology table, in `hospital_export`.
    pub hospital_cases: std::path::PathBuf,
    pub hospital_pathology: std::path::PathBuf,
    /// The manifest of the biobank's delivery (de-identified by the biobank's own process,
    /// unsigned) and its diagnoses.
    pub biobank_manifest: std::path::PathBuf,
    pub biobank_diagnoses: std::path::PathBuf,
    /// The device's results, made at the sponsor.
    pub device_results: std::path::PathBuf,
    /// The problems planted, for the demo to show that `deidentify` and `check` find each.
    pub planted: Vec<&'static str>,
}

const HOSPITAL: &str = "Kizon Demo University Hospital";

/// A fictitious patient of the hospital: MRN, name and birth date, from a number.
fn hospital_patient(n: u16) -> (String, String, String) {
    const FAMILY: [&str; 10] = [
        "SATO",
        "SUZUKI",
        "TAKAHASHI",
        "TANAKA",
        "ITO",
        "WATANABE",
        "YAMAMOTO",
        "NAKAMURA",
        "KOBAYASHI",
        "KATO",
    ];
    const GIVEN: [&str; 8] = [
        "HANAKO", "ICHIRO", "YUKI", "KENJI", "AKIRA", "MIKI", "HIROSHI", "SACHIKO",
    ];
    let n = usize::from(n);
    (
        format!("{:08}", 20_000_000 + n * 7_919),
        format!("{}^{}", FAMILY[n % 10], GIVEN[(n / 10 + n) % 8]),
        format!("19{:02}{:02}{:02}", 40 + n % 45, 1 + n % 12, 1 + n % 28),
    )
}

/// Writes the hospital's export, the biobank's delivery and the device's results under `dir`.
pub fn write(dir: &Path) -> Result<Written, AppError> {
    let hospital = dir.join("at-hospital").join("export");
    let biobank = dir.join("biobank");
    for folder in [&hospital, &biobank] {
        fs::create_dir_all(folder).map_err(io(folder))?;
    }
    let put = |path: std::path::PathBuf, bytes: &[u8]| -> Result<(), AppError> {
        fs::write(&path, bytes).map_err(io(&path))
    };

    // The hospital's planted cases. C-004 is C-001's image filed again under a second patient
    // record, re-encoded as implicit VR under a new SOP Instance UID: neither the file nor its
    // UIDs match, only the decoded pixels (Q7 the same data as several cases).
    let planted_cases: [(&str, &str, u16, Row<'_>); 5] = [
        (
            "c001.dcm",
            "20230412",
            1,
            Row {
                case: "C-001",
                file: "c001.dcm",
                collected: "2024-07-01",
                diagnosis: "adenocarcinoma",
                diagnosed: "2023-04-28",
            },
        ),
        (
            "c002.dcm",
            "20230520",
            2,
            Row {
                case: "C-002",
                file: "c002.dcm",
                collected: "2024-07-01",
                diagnosis: "benign",
                diagnosed: "2023-06-02",
            },
        ),
        (
            "c003.dcm",
            "20230602",
            3,
            Row {
                case: "C-003",
                file: "c003.dcm",
                collected: "2024-07-01",
                diagnosis: "adenocarcinoma",
                diagnosed: "2023-06-20",
            },
        ),
        // Imaged after the case was collected: not existing data (Q2).
        (
            "c005.dcm",
            "20240801",
            5,
            Row {
                case: "C-005",
                file: "c005.dcm",
                collected: "2024-07-15",
                diagnosis: "benign",
                diagnosed: "2024-08-20",
            },
        ),
        // Diagnosed two years after the image: a chronological contradiction (Q7).
        (
            "c006.dcm",
            "20220110",
            6,
            Row {
                case: "C-006",
                file: "c006.dcm",
                collected: "2024-07-01",
                diagnosis: "adenocarcinoma",
                diagnosed: "2024-01-15",
            },
        ),
    ];
    let mut cases = String::from("case_id,path,collection_date,diagnosis,diagnosis_date\n");
    let mut pathology = String::from(
        "patient_id,patient_name,birth_date,accession,case_id,label,diagnosis,diagnosis_date,source_document,source_document_en,source_date,source_location\n",
    );
    let pathology_row = |out: &mut String, patient: &(String, String, String), row: &Row<'_>| {
        let malignant = row.diagnosis != "benign";
        let case_number: u32 = row.case.trim_start_matches("C-").parse().unwrap_or(0);
        let _ = writeln!(
            out,
            "{},{},{},A{:07},{},{},{},{},{},{},{HOSPITAL} 病理部門システム / pathology archive",
            patient.0,
            patient.1,
            patient.2,
            4_100_000 + case_number,
            row.case,
            if malignant { "positive" } else { "negative" },
            row.diagnosis,
            row.diagnosed,
            if malignant {
                "病理診断報告書,pathology report"
            } else {
                "2年経過観察記録,2-year follow-up record"
            },
            row.diagnosed,
        );
    };
    let mut results = String::from("case_id,label,score\n");
    for (index, (file, study_date, seed, row)) in planted_cases.iter().enumerate() {
        let patient = hospital_patient(*seed);
        let accession = format!("A{:07}", 4_100_000 + u32::from(*seed));
        let image = Image {
            file,
            study_date,
            modality: "CT",
            patient: Patient {
                id: &patient.0,
                name: Some(&patient.1),
                birth_date: Some(&patient.2),
                accession: Some(&accession),
                institution: Some(HOSPITAL),
            },
            burned_in: Some("NO"),
            seed: *seed,
        };
        put(hospital.join(file), &dicom(&image, index))?;
        if *seed == 1 {
            let second = hospital_patient(4);
            let copy = Image {
                file: "c004.dcm",
                patient: Patient {
                    id: &second.0,
                    name: Some(&second.1),
                    birth_date: Some(&second.2),
                    ..image.patient
                },
                ..image
            };
            put(hospital.join("c004.dcm"), &encode(&copy, 3, true))?;
        }
        let _ = writeln!(
            cases,
            "{},{},{},{},{}",
            row.case, row.file, row.collected, row.diagnosis, row.diagnosed
        );
        pathology_row(&mut pathology, &patient, row);
        let score = if row.diagnosis == "benign" {
            0.22
        } else {
            0.81
        };
        let _ = writeln!(results, "{},,{score}", row.case);
        if *seed == 1 {
            let c004 = Row {
                case: "C-004",
                file: "c004.dcm",
                collected: "2024-07-01",
                diagnosis: "benign",
                diagnosed: "2023-05-01",
            };
            let _ = writeln!(
                cases,
                "{},{},{},{},{}",
                c004.case, c004.file, c004.collected, c004.diagnosis, c004.diagnosed
            );
            pathology_row(&mut pathology, &hospital_patient(4), &c004);
            let _ = writeln!(results, "C-004,,0.22");
        }
    }

    for case in ordinary_cases() {
        let patient = hospital_patient(case.patient);
        let accession = format!("A{:07}", 4_100_000 + u32::from(case.seed));
        let image = Image {
            file: &case.file,
            study_date: &case.study_date,
            modality: "CT",
            patient: Patient {
                id: &patient.0,
                name: Some(&patient.1),
                birth_date: Some(&patient.2),
                accession: Some(&accession),
                institution: Some(HOSPITAL),
            },
            burned_in: Some("NO"),
            seed: case.seed,
        };
        put(
            hospital.join(&case.file),
            &dicom(&image, usize::from(case.seed)),
        )?;
        let diagnosis = if case.malignant {
            "adenocarcinoma"
        } else {
            "benign"
        };
        let row = Row {
            case: &case.id,
            file: &case.file,
            collected: "2024-07-01",
            diagnosis,
            diagnosed: &case.diagnosed,
        };
        let _ = writeln!(
            cases,
            "{},{},{},{},{}",
            row.case, row.file, row.collected, row.diagnosis, row.diagnosed
        );
        pathology_row(&mut pathology, &patient, &row);
        let label = if case.indeterminate {
            "indeterminate"
        } else if case.score >= 0.5 {
            "positive"
        } else {
            "negative"
        };
        let _ = writeln!(results, "{},{label},{:.3}", case.id, case.score);
        // C-045's abdominal ultrasound of the same day says it carries burned-in text, and the
        // hospital's profile has no pixel rule for it: `deidentify` keeps it back (Q1).
        if case.seed == 45 {
            let us = Image {
                file: "c045-us.dcm",
                modality: "US",
                burned_in: Some("YES"),
                seed: 1045,
                ..image
            };
            put(hospital.join("c045-us.dcm"), &dicom(&us, 1045))?;
            let _ = writeln!(
                cases,
                "{},c045-us.dcm,2024-07-01,{diagnosis},{}",
                case.id, case.diagnosed
            );
        }
    }
    // C-121: a resting ECG whose lead II is off for 12 s: medically implausible data (Q7).
    let ecg_patient = hospital_patient(121);
    put(hospital.join("c121-ecg.edf"), &flat_lead_ecg(&ecg_patient))?;
    let _ = writeln!(cases, "C-121,c121-ecg.edf,2024-07-01,benign,2023-05-02");
    let c121 = Row {
        case: "C-121",
        file: "c121-ecg.edf",
        collected: "2024-07-01",
        diagnosis: "benign",
        diagnosed: "2023-05-02",
    };
    pathology_row(&mut pathology, &ecg_patient, &c121);
    let _ = writeln!(results, "C-121,,0.22");

    // The biobank's delivery: its own codes, and two problems its de-identification let
    // through (Q1).
    let biobank_cases = [
        (
            Image {
                file: "c007.dcm",
                study_date: "20230715",
                modality: "US",
                patient: Patient {
                    id: "",
                    name: None,
                    birth_date: None,
                    accession: None,
                    institution: None,
                },
                burned_in: Some("YES"),
                seed: 7,
            },
            Row {
                case: "C-007",
                file: "c007.dcm",
                collected: "2024-07-01",
                diagnosis: "benign",
                diagnosed: "2023-07-30",
            },
        ),
        (
            Image {
                file: "c008.dcm",
                study_date: "20230901",
                modality: "CT",
                patient: Patient {
                    id: "",
                    name: Some("YAMADA^TARO"),
                    birth_date: None,
                    accession: None,
                    institution: None,
                },
                burned_in: Some("NO"),
                seed: 8,
            },
            Row {
                case: "C-008",
                file: "c008.dcm",
                collected: "2024-07-01",
                diagnosis: "adenocarcinoma",
                diagnosed: "2023-09-10",
            },
        ),
    ];
    let mut manifest =
        String::from("case_id,path,collection_date,diagnosis,diagnosis_date,patient_key\n");
    let mut diagnoses = String::from(
        "case_id,label,diagnosis,diagnosis_date,source_document,source_document_en,source_date,source_location\n",
    );
    for (index, (image, row)) in biobank_cases.iter().enumerate() {
        put(biobank.join(image.file), &dicom(image, 5 + index))?;
        let _ = writeln!(
            manifest,
            "{},{},{},{},{},BB-{:04}",
            row.case, row.file, row.collected, row.diagnosis, row.diagnosed, image.seed
        );
        let malignant = row.diagnosis != "benign";
        let _ = writeln!(
            diagnoses,
            "{},{},{},{},病理診断報告書,pathology report,{},Kizon Demo Biobank 臨床情報データベース / clinical database",
            row.case,
            if malignant { "positive" } else { "negative" },
            row.diagnosis,
            row.diagnosed,
            row.diagnosed
        );
        let score = if malignant { 0.81 } else { 0.22 };
        let _ = writeln!(results, "{},,{score}", row.case);
    }

    let written = Written {
        hospital_cases: hospital.join("cases.csv"),
        hospital_pathology: hospital.join("pathology.csv"),
        biobank_manifest: biobank.join("manifest.csv"),
        biobank_diagnoses: biobank.join("diagnoses.csv"),
        device_results: dir.join("device-results.csv"),
        hospital_export: hospital,
        planted: vec![
            "C-045's ultrasound says it carries burned-in text: the hospital's deidentify keeps it back (Q1)",
            "C-004 is C-001's image filed under a second patient and re-encoded (implicit VR) under a new SOP Instance UID (Q7 same data as several cases)",
            "C-005 was imaged after its collection date (Q2 existing data)",
            "C-006 was diagnosed two years after imaging (Q7 chronology)",
            "C-007 (biobank) has text burned into its pixels (Q1)",
            "C-008 (biobank) carries the patient's name in its header (Q1)",
            "C-121's ECG has lead II flat for 12 s (Q7 medically implausible data)",
        ],
    };
    put(written.hospital_cases.clone(), cases.as_bytes())?;
    put(written.hospital_pathology.clone(), pathology.as_bytes())?;
    put(written.biobank_manifest.clone(), manifest.as_bytes())?;
    put(written.biobank_diagnoses.clone(), diagnoses.as_bytes())?;
    put(written.device_results.clone(), results.as_bytes())?;
    Ok(written)
}

/// A 30 s, two-lead resting ECG at 250 Hz (EDF+, the patient's MRN, sex, birth date and name
/// in its header, as the ECG system exports it): Gaussian P, QRS and T waves at 72 beats per
/// minute, lead II disconnected from 10 s to 22 s.
fn flat_lead_ecg(patient: &(String, String, String)) -> Vec<u8> {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let (id, name, birth) = patient;
    let month: usize = birth[4..6].parse().unwrap_or(1);
    let edf_patient = format!(
        "{id} F {}-{}-{} {}",
        &birth[6..8],
        MONTHS[month.clamp(1, 12) - 1],
        &birth[0..4],
        name.replace('^', "_")
    );
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
        patient: edf_patient,
        recording: "Startdate 01-MAY-2023 ECG-0457 Cardiology_Lab MAC5500".into(),
        start_date: "01.05.23".into(),
        start_time: "10.00.00".into(),
        record_duration_s: 1.0,
        signals: vec![
            signal("ECG I", lead(6.0, None)),
            signal("ECG II", lead(9.0, Some((10.0, 22.0)))),
        ],
        annotations: Some(Vec::new()),
    })
    .expect("a well-formed EDF recording")
}

/// An ordinary case of the demo: nothing wrong with it.
struct Ordinary {
    id: String,
    file: String,
    study_date: String,
    diagnosed: String,
    /// The hospital patient's number: six patients have two cases each.
    patient: u16,
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
                9 + (n - 9) / 2
            } else {
                n
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
    element(&mut data, 0x0008, 0x0016, b"UI", class.as_bytes());
    element(&mut data, 0x0008, 0x0018, b"UI", instance.as_bytes());
    element(
        &mut data,
        0x0008,
        0x0020,
        b"DA",
        image.study_date.as_bytes(),
    );
    element(
        &mut data,
        0x0008,
        0x0022,
        b"DA",
        image.study_date.as_bytes(),
    );
    if let Some(accession) = image.patient.accession {
        element(&mut data, 0x0008, 0x0050, b"SH", accession.as_bytes());
    }
    element(&mut data, 0x0008, 0x0060, b"CS", image.modality.as_bytes());
    element(&mut data, 0x0008, 0x0070, b"LO", b"Kizon Demo Imaging");
    if let Some(institution) = image.patient.institution {
        element(&mut data, 0x0008, 0x0080, b"LO", institution.as_bytes());
    }
    if let Some(name) = image.patient.name {
        element(&mut data, 0x0010, 0x0010, b"PN", name.as_bytes());
    }
    if !image.patient.id.is_empty() {
        element(
            &mut data,
            0x0010,
            0x0020,
            b"LO",
            image.patient.id.as_bytes(),
        );
    }
    if let Some(birth) = image.patient.birth_date {
        element(&mut data, 0x0010, 0x0030, b"DA", birth.as_bytes());
    }
    element(
        &mut data,
        0x0010,
        0x0040,
        b"CS",
        if index.is_multiple_of(2) { b"M" } else { b"F" },
    );
    element(
        &mut data,
        0x0010,
        0x1010,
        b"AS",
        format!("{:03}Y", 35 + (index * 7) % 50).as_bytes(),
    );
    element(
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
    element(&mut data, 0x0018, 0x0050, b"DS", b"1.25");
    element(&mut data, 0x0020, 0x000D, b"UI", study.as_bytes());
    element(
        &mut data,
        0x0020,
        0x000E,
        b"UI",
        format!("{study}.1").as_bytes(),
    );
    element(&mut data, 0x0028, 0x0002, b"US", &1u16.to_le_bytes());
    element(&mut data, 0x0028, 0x0004, b"CS", b"MONOCHROME2");
    element(&mut data, 0x0028, 0x0010, b"US", &32u16.to_le_bytes());
    element(&mut data, 0x0028, 0x0011, b"US", &32u16.to_le_bytes());
    element(&mut data, 0x0028, 0x0030, b"DS", b"0.7\\0.7");
    element(&mut data, 0x0028, 0x0100, b"US", &16u16.to_le_bytes());
    element(&mut data, 0x0028, 0x0101, b"US", &12u16.to_le_bytes());
    element(&mut data, 0x0028, 0x0102, b"US", &11u16.to_le_bytes());
    element(&mut data, 0x0028, 0x0103, b"US", &0u16.to_le_bytes());
    if let Some(burned) = image.burned_in {
        element(&mut data, 0x0028, 0x0301, b"CS", burned.as_bytes());
    }
    element(&mut data, 0x7FE0, 0x0010, b"OW", &phantom(image.seed));

    let data = if implicit { to_implicit(&data) } else { data };
    let syntax = if implicit {
        "1.2.840.10008.1.2"
    } else {
        "1.2.840.10008.1.2.1"
    };
    part10(class, &instance, syntax, &data)
}

/// One element, explicit VR little endian, its value padded to even length (PS3.5 7.1.2).
pub(super) fn element(out: &mut Vec<u8>, group: u16, element: u16, vr: &[u8; 2], value: &[u8]) {
    let pad = value.len() % 2;
    let length = value.len() + pad;
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&element.to_le_bytes());
    out.extend_from_slice(vr);
    if matches!(vr, b"OB" | b"OW") {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(length as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(length as u16).to_le_bytes());
    }
    out.extend_from_slice(value);
    if pad == 1 {
        out.push(if vr == b"UI" { 0 } else { b' ' });
    }
}

/// A Part 10 file (PS3.10 7.1): preamble, `DICM`, the file meta group for `class`, `instance`
/// and `syntax`, then the data set as encoded.
pub(super) fn part10(class: &str, instance: &str, syntax: &str, data: &[u8]) -> Vec<u8> {
    let mut meta = Vec::new();
    element(&mut meta, 0x0002, 0x0001, b"OB", &[0, 1]);
    element(&mut meta, 0x0002, 0x0002, b"UI", class.as_bytes());
    element(&mut meta, 0x0002, 0x0003, b"UI", instance.as_bytes());
    element(&mut meta, 0x0002, 0x0010, b"UI", syntax.as_bytes());
    let mut file = vec![0u8; 128];
    file.extend_from_slice(b"DICM");
    element(
        &mut file,
        0x0002,
        0x0000,
        b"UL",
        &(meta.len() as u32).to_le_bytes(),
    );
    file.extend_from_slice(&meta);
    file.extend_from_slice(data);
    file
}
