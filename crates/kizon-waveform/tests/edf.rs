//! EDF/EDF+/BDF on pyedflib's test files. Expected values were cross-checked once with pyedflib
//! 0.1.42 (`EdfReader`: labels, rates, sample counts, `readSignal(digital=True)`, `readAnnotations`,
//! start date/time); the tests do not need Python.

mod common;

use common::data;
use kizon_waveform::Format;
use kizon_waveform::edf::{
    EdfAnnotation, EdfHeader, EdfRecording, EdfSignal, EdfSignalData, EdfVariant, is_anonymized,
    read_annotations, read_info, read_samples, write_edf,
};

#[test]
fn edf_plus_test_file_has_11_signals_at_200_hz_for_600_s() {
    let bytes = data("edf/test_generator.edf");
    let info = read_info(&bytes).unwrap();
    assert_eq!(info.format, Format::EdfPlus);
    assert_eq!(
        info.channels.len(),
        11,
        "the 12th header signal is the annotation channel"
    );
    assert!(
        info.channels
            .iter()
            .all(|c| c.sampling_rate_hz == 200.0 && c.samples == 120_000)
    );
    assert_eq!(info.channels[6].label, "sine 8.1777 Hz");
    assert_eq!(info.duration_s, Some(600.0));
    assert_eq!(info.start.as_deref(), Some("2011-04-04T12:57:02"));
    assert_eq!(info.annotations, 2);
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
}

#[test]
fn edf_plus_patient_subfields_are_split() {
    let header = EdfHeader::parse(&data("edf/test_generator.edf")).unwrap();
    let p = header.patient_fields().unwrap();
    // pyedflib: code 'abcxyz99', name 'Hans Muller', sex Male, birthdate '30 jun 1969'.
    assert_eq!(p.code.as_deref(), Some("abcxyz99"));
    assert_eq!(p.sex.as_deref(), Some("M"));
    assert_eq!(p.birthdate_iso().as_deref(), Some("1969-06-30"));
    assert_eq!(p.name.as_deref(), Some("Hans_Muller"));
    assert_eq!(p.additional, vec!["patient"]);
    assert!(!is_anonymized(&header.patient));
    let r = header.recording_fields().unwrap();
    assert_eq!(
        (r.admin_code.as_deref(), r.technician.as_deref()),
        (Some("Dr._X"), Some("Mr._Spotty"))
    );
}

#[test]
fn edf_samples_and_physical_values_match_pyedflib() {
    let bytes = data("edf/test_generator.edf");
    let header = EdfHeader::parse(&bytes).unwrap();
    let ramp = read_samples(&header, &bytes, 1).unwrap();
    assert_eq!(ramp.len(), 120_000);
    assert_eq!(&ramp[..5], &[-3276, -3243, -3211, -3178, -3145]);
    let physical = header.signals[1].physical(ramp[0]).unwrap();
    assert!((physical - -99.96185244525826).abs() < 1e-9, "{physical}");
    let pulse = read_samples(&header, &bytes, 2).unwrap();
    assert_eq!(&pulse[..5], &[3276, 3276, 3276, 3276, 0]);
    let last = read_samples(&header, &bytes, 10).unwrap();
    assert_eq!(last.iter().map(|v| i64::from(*v)).sum::<i64>(), 0);
    assert_eq!(&last[last.len() - 3..], &[0, -3276, 0]);
}

#[test]
fn edf_plus_annotations_recording_starts_and_ends() {
    let bytes = data("edf/test_generator.edf");
    let header = EdfHeader::parse(&bytes).unwrap();
    let a = read_annotations(&header, &bytes).unwrap();
    let texts: Vec<(f64, &str)> = a
        .annotations
        .iter()
        .map(|a| (a.onset_s, a.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        vec![(0.0, "Recording starts"), (600.0, "Recording ends")]
    );
    assert_eq!(a.record_onsets_s.len(), 600);
    assert_eq!(a.record_onsets_s[599], 599.0);
}

#[test]
fn sub_second_onsets_are_kept() {
    let bytes = data("edf/test_subsecond.edf");
    let header = EdfHeader::parse(&bytes).unwrap();
    let a = read_annotations(&header, &bytes).unwrap();
    // The first record starts 0.3945312 s after the header's whole-second starttime (its
    // time-keeping TAL). TAL onsets are relative to the header starttime (EDF+ spec 2.2.4), so we
    // keep them as stored; pyedflib/EDFlib report them relative to the first record instead
    // (1.9511719, 3.4921875, 290.5019531, 583.5722656), i.e. minus that offset.
    assert_eq!(a.record_onsets_s[0], 0.3945312);
    let got: Vec<(f64, &str)> = a
        .annotations
        .iter()
        .map(|a| (a.onset_s, a.text.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2.3457031, "XLSpike"),
            (3.8867187, "Clip Note"),
            (290.8964843, "XLEvent"),
            (583.9667968, "XLSpike")
        ]
    );
    let pyedflib = [1.9511719, 3.4921875, 290.5019531, 583.5722656];
    for (a, expected) in a.annotations.iter().zip(pyedflib) {
        assert!(
            (a.onset_s - 0.3945312 - expected).abs() < 1e-6,
            "{} vs {expected}",
            a.onset_s
        );
    }
    // Physical range is inverted in this file (8711 .. -8711): conversion must follow it.
    let s = read_samples(&header, &bytes, 0).unwrap();
    assert_eq!(&s[..5], &[-24, -29, -39, -38, -26]);
    assert!((header.signals[0].physical(-24).unwrap() - 6.247302967879759).abs() < 1e-9);
    assert!(
        !is_anonymized(&header.patient),
        "birthdate 20-JAN-1998 is present"
    );
}

#[test]
fn utf8_annotation_text_is_decoded() {
    let bytes = data("edf/test_utf8.edf");
    let header = EdfHeader::parse(&bytes).unwrap();
    let a = read_annotations(&header, &bytes).unwrap();
    assert_eq!(a.annotations.len(), 5);
    assert_eq!(a.annotations[2].text, "中文测试八个字");
    // pyedflib: 119.6054688 s after the first record, which starts 0.3945312 s after starttime.
    assert!((a.annotations[2].onset_s - a.record_onsets_s[0] - 119.6054688).abs() < 1e-6);
    assert!(a.warnings.is_empty());
}

#[test]
fn bdf_plus_decodes_24_bit_samples() {
    let bytes = data("edf/test_generator.bdf");
    let header = EdfHeader::parse(&bytes).unwrap();
    assert_eq!(
        header.variant,
        EdfVariant::BdfPlus {
            discontinuous: false
        }
    );
    let info = header.info(&bytes, 0);
    let rates: Vec<f64> = info.channels.iter().map(|c| c.sampling_rate_hz).collect();
    assert_eq!(rates, vec![1000.0, 800.0, 500.0, 975.0, 999.0]);
    assert_eq!(info.start.as_deref(), Some("2000-01-01T00:00:00"));
    assert!(is_anonymized(&header.patient), "patient field is 'X X X X'");
    assert_eq!(
        &read_samples(&header, &bytes, 0).unwrap()[..3],
        &[87830, 175574, 263145]
    );
    assert_eq!(
        &read_samples(&header, &bytes, 2).unwrap()[..2],
        &[-2691811, -2587419]
    );
    let noise = read_samples(&header, &bytes, 4).unwrap();
    assert_eq!(noise.len(), 29_970);
    assert_eq!(
        noise.iter().map(|v| i64::from(*v)).sum::<i64>(),
        -354_224_397
    );
}

#[test]
fn century_rule_applies_without_edf_plus_startdate() {
    let mut bytes = write_edf(&small_recording(None)).unwrap();
    bytes[168..176].copy_from_slice(b"31.12.85");
    assert_eq!(
        EdfHeader::parse(&bytes).unwrap().start.as_deref(),
        Some("1985-12-31T10:20:30")
    );
    bytes[168..176].copy_from_slice(b"01.01.84");
    assert_eq!(
        EdfHeader::parse(&bytes).unwrap().start.as_deref(),
        Some("2084-01-01T10:20:30")
    );
}

#[test]
fn truncated_file_reports_records_present() {
    let bytes = data("edf/test_generator.edf");
    let header = EdfHeader::parse(&bytes).unwrap();
    let cut = &bytes[..header.header_len() + header.record_size() * 10 + 7];
    let short = EdfHeader::parse(cut).unwrap();
    assert_eq!(short.data_records_present, 10);
    assert_eq!(read_samples(&short, cut, 0).unwrap().len(), 2000);
    assert!(
        short.warnings.iter().any(|w| w.contains("10 of 600")),
        "{:?}",
        short.warnings
    );
}

fn small_recording(annotations: Option<Vec<EdfAnnotation>>) -> EdfRecording {
    let signal = EdfSignal {
        label: "ECG II".into(),
        transducer: "AgAgCl electrode".into(),
        physical_dimension: "mV".into(),
        physical_min: -3.2768,
        physical_max: 3.2767,
        digital_min: -32768,
        digital_max: 32767,
        prefiltering: "HP:0.05Hz".into(),
        samples_per_record: 250,
        reserved: String::new(),
    };
    EdfRecording {
        patient: "X X X X".into(),
        recording: "Startdate X X X X".into(),
        start_date: "05.06.24".into(),
        start_time: "10.20.30".into(),
        record_duration_s: 1.0,
        signals: vec![EdfSignalData {
            signal,
            samples: (0..2500).map(|i| (i * 13 % 2000) - 1000).collect(),
        }],
        annotations,
    }
}

#[test]
fn written_edf_plus_reads_back_identically() {
    let annotations = vec![
        EdfAnnotation {
            onset_s: 0.5,
            duration_s: None,
            text: "start".into(),
        },
        EdfAnnotation {
            onset_s: 7.25,
            duration_s: Some(1.5),
            text: "心室性期外収縮".into(),
        },
    ];
    let rec = small_recording(Some(annotations.clone()));
    let bytes = write_edf(&rec).unwrap();
    let header = EdfHeader::parse(&bytes).unwrap();
    assert_eq!(
        header.variant,
        EdfVariant::EdfPlus {
            discontinuous: false
        }
    );
    assert_eq!(header.signals[0], rec.signals[0].signal);
    assert_eq!(header.start.as_deref(), Some("2024-06-05T10:20:30"));
    assert_eq!(
        read_samples(&header, &bytes, 0).unwrap(),
        rec.signals[0].samples
    );
    assert_eq!(
        read_annotations(&header, &bytes).unwrap().annotations,
        annotations
    );
    assert!(header.warnings.is_empty(), "{:?}", header.warnings);
    assert!(is_anonymized(&header.patient));
}

#[test]
fn writer_refuses_samples_outside_the_digital_range() {
    let mut rec = small_recording(None);
    rec.signals[0].signal.digital_max = 100;
    let err = write_edf(&rec).unwrap_err().to_string();
    assert!(err.contains("outside the digital range"), "{err}");
}
