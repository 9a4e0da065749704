//! Q1 on waveform headers: which fields name a person, never their values. WFDB header comments
//! with a date or a name, the EDF+ recording field's administration code or technician, and the
//! MFER patient name or ID are identifying; the real record 100's comments are not.

use kizon_formats::inspect;
use kizon_waveform::edf::{EdfRecording, EdfSignal, EdfSignalData, write_edf};

fn shared(relative: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn wfdb_header(comment: &str) -> Vec<String> {
    let text = String::from_utf8(shared("waveform/wfdb/100.hea")).unwrap();
    inspect(format!("{text}# {comment}\n").as_bytes())
        .metadata
        .identifying_attributes
}

#[test]
fn wfdb_comments_with_a_date_or_a_name_identify_but_record_100s_do_not() {
    assert!(
        inspect(&shared("waveform/wfdb/100.hea"))
            .metadata
            .identifying_attributes
            .is_empty()
    );
    assert!(wfdb_header("69 M 1085 1629 x1").is_empty());
    assert!(wfdb_header("Aldomet, Inderal").is_empty());
    for comment in [
        "recorded 2023-05-01",
        "admitted 01/05/2023",
        "Patient: Yamada Taro",
        "氏名 山田太郎",
    ] {
        assert_eq!(
            wfdb_header(comment),
            ["WFDB header comment (a date or a name)"],
            "{comment}"
        );
    }
}

fn edf(recording: &str) -> Vec<u8> {
    edf_with(recording, "X X X X")
}

fn edf_with(recording: &str, patient: &str) -> Vec<u8> {
    write_edf(&EdfRecording {
        patient: patient.into(),
        recording: recording.into(),
        start_date: "01.05.23".into(),
        start_time: "10.00.00".into(),
        record_duration_s: 1.0,
        signals: vec![EdfSignalData {
            signal: EdfSignal {
                label: "ECG".into(),
                transducer: String::new(),
                physical_dimension: "uV".into(),
                physical_min: -100.0,
                physical_max: 100.0,
                digital_min: -100,
                digital_max: 100,
                prefiltering: String::new(),
                samples_per_record: 10,
                reserved: String::new(),
            },
            samples: (0..20).collect(),
        }],
        annotations: None,
    })
    .unwrap()
}

#[test]
fn an_edf_recording_field_naming_the_technician_identifies() {
    assert!(
        inspect(&edf("Startdate 01-MAY-2023 X X X"))
            .metadata
            .identifying_attributes
            .is_empty()
    );
    assert_eq!(
        inspect(&edf("Startdate 01-MAY-2023 ADM-4711 Sato X"))
            .metadata
            .identifying_attributes,
        ["EDF recording field (administration code or technician)"]
    );
}

fn mfer(patient: kizon_waveform::mfer::MferPatient) -> Vec<u8> {
    use kizon_waveform::mfer::{MferChannel, MferDataType, MferRecording, write_mfer};
    write_mfer(&MferRecording {
        preamble: "MFR kizon test".into(),
        little_endian: true,
        sampling_rate_hz: 500.0,
        data_type: MferDataType::Int16,
        block_length: 10,
        waveform_type: None,
        sensitivity: None,
        offset: None,
        patient,
        measurement_time: None,
        comments: Vec::new(),
        channels: vec![MferChannel {
            label: "II".into(),
            lead_code: Some(2),
            sensitivity: None,
            samples: (0..20).collect(),
        }],
    })
    .unwrap()
}

#[test]
fn an_mfer_patient_name_or_id_identifies() {
    use kizon_waveform::mfer::MferPatient;
    assert!(
        inspect(&mfer(MferPatient::default()))
            .metadata
            .identifying_attributes
            .is_empty()
    );
    let named = MferPatient {
        name: Some("YAMADA TARO".into()),
        ..MferPatient::default()
    };
    let seen = inspect(&mfer(named.clone()));
    assert_eq!(
        seen.kind(),
        kizon_formats::ItemKind::Mfer,
        "{:?}",
        seen.problem
    );
    assert_eq!(
        inspect(&mfer(named)).metadata.identifying_attributes,
        ["MFER patient name/ID (0x81, 0x82)"]
    );
}

/// A provider's pseudonym with its mark is not the hospital's identifier; the mark does not
/// excuse a name or a birth date beside it, nor a code without it.
#[test]
fn a_marked_pseudonym_in_an_edf_patient_field_does_not_identify_but_a_name_beside_it_does() {
    let attributes = |patient: &str| {
        inspect(&edf_with("Startdate 01-MAY-2023 X X X", patient))
            .metadata
            .identifying_attributes
    };
    assert!(attributes("CASE-0001 M X X PSEUDONYM").is_empty());
    assert_eq!(attributes("CASE-0001 M X X"), ["EDF patient field"]);
    assert_eq!(
        attributes("CASE-0001 M X Hans_Muller PSEUDONYM"),
        ["EDF patient field"]
    );
    assert_eq!(
        attributes("CASE-0001 M 30-JUN-1969 X PSEUDONYM"),
        ["EDF patient field"]
    );
}
