//! MFER: no MFER sample file is published, so files are written from real WFDB data (MIT-BIH
//! record 100) and read back, by this crate and, when Debian's `biosig-tools` is installed, by
//! BioSig's independent reader (`save2gdf`).

mod common;

use std::process::Command;

use common::data;
use kizon_waveform::mfer::{
    MferChannel, MferDataType, MferPatient, MferRecording, MferSensitivity, MferTime,
    WAVEFORM_STANDARD_12_LEAD_ECG, lead_code, looks_like_mfer, read_mfer, write_mfer,
};
use kizon_waveform::wfdb::{WfdbHeader, read_signal_file};

/// Record 100 as MFER: 360 Hz, int16, 5 µV per step (gain 200/mV) with offset -1024 (baseline).
fn mfer_from_wfdb_100(little_endian: bool, seconds: Option<usize>) -> MferRecording {
    let header = WfdbHeader::parse(&String::from_utf8(data("wfdb/100.hea")).unwrap()).unwrap();
    let decoded = read_signal_file(&header, "100.dat", &data("wfdb/100.dat")).unwrap();
    let n = seconds.map_or(650_000, |s| s * 360);
    let channels = header
        .signals
        .iter()
        .zip(&decoded.samples)
        .map(|(s, samples)| MferChannel {
            lead_code: lead_code(&s.description),
            label: s.description.clone(),
            sensitivity: Some(MferSensitivity {
                unit: 0,
                exponent: -6,
                mantissa: 5,
            }),
            samples: samples[..n].to_vec(),
        })
        .collect();
    MferRecording {
        preamble: "MFR kizon-waveform test".into(),
        little_endian,
        sampling_rate_hz: header.sampling_frequency_hz,
        data_type: MferDataType::Int16,
        // One-second blocks for excerpts; the whole record (650,000 samples) in blocks of 1,000.
        block_length: if seconds.is_some() { 360 } else { 1000 },
        waveform_type: Some(WAVEFORM_STANDARD_12_LEAD_ECG),
        sensitivity: Some(MferSensitivity {
            unit: 0,
            exponent: -6,
            mantissa: 5,
        }),
        offset: Some(-1024),
        patient: MferPatient {
            name: Some("山田^太郎".into()),
            id: Some("P-0100".into()),
            age_years: Some(69),
            birthdate: Some((1906, 1, 2)),
            sex: Some(1),
        },
        measurement_time: Some(MferTime {
            year: 1975,
            month: 6,
            day: 1,
            hour: 12,
            minute: 30,
            second: 5,
            millisecond: 250,
            microsecond: 0,
        }),
        comments: vec!["MIT-BIH record 100".into()],
        channels,
    }
}

#[test]
fn mfer_round_trip_keeps_samples() {
    for little_endian in [false, true] {
        let rec = mfer_from_wfdb_100(little_endian, None);
        let bytes = write_mfer(&rec).unwrap();
        assert!(looks_like_mfer(&bytes));
        let read = read_mfer(&bytes).unwrap();
        assert_eq!(read.recording, rec, "little_endian = {little_endian}");
        assert!(read.warnings.is_empty(), "{:?}", read.warnings);
        assert!(read.skipped_tags.is_empty());
        let info = read.info();
        assert_eq!(info.channels[0].sampling_rate_hz, 360.0);
        assert_eq!(info.channels[1].label, "V5");
        assert_eq!(info.start.as_deref(), Some("1975-06-01T12:30:05"));
        // Same physical value as WFDB: MLII starts at -0.145 mV.
        let volts = info.channels[0].physical(995).unwrap();
        assert!((volts - -0.145e-3).abs() < 1e-12, "{volts}");
        assert!(info.header_text.contains("P-0100") && info.header_text.contains("山田"));
    }
}

#[test]
fn mfer_lead_code_v5_is_written_as_code_7() {
    let rec = mfer_from_wfdb_100(false, Some(1));
    assert_eq!(rec.channels[1].lead_code, Some(7));
    assert_eq!(
        rec.channels[0].lead_code, None,
        "MLII has no MFER lead code; its name is stored"
    );
    let bytes = write_mfer(&rec).unwrap();
    // 0x3F, channel number 1, length, then the nested lead item 0x09 0x01 0x07.
    assert!(
        bytes
            .windows(6)
            .any(|w| w[..2] == [0x3F, 0x01] && w[3..] == [0x09, 0x01, 0x07]),
        "channel 1 attribute: lead code 7"
    );
}

#[test]
fn mfer_truncated_data_keeps_whole_blocks() {
    let bytes = write_mfer(&mfer_from_wfdb_100(true, Some(10))).unwrap();
    let cut = &bytes[..bytes.len() - 3000];
    let read = read_mfer(cut).unwrap();
    assert_eq!(read.recording.channels[0].samples.len() % 360, 0);
    assert!(read.recording.channels[0].samples.len() < 3600);
    assert!(
        read.warnings.iter().any(|w| w.contains("declared")),
        "{:?}",
        read.warnings
    );
}

#[test]
fn writer_refuses_a_partial_block() {
    let mut rec = mfer_from_wfdb_100(false, Some(1));
    rec.block_length = 7;
    assert!(write_mfer(&rec).unwrap_err().to_string().contains("block"));
}

/// BioSig (Debian `biosig-tools` 2.5, `save2gdf -JSON`) reads our MFER file independently and
/// agrees on the structure: 2 channels, 360 Hz, 10 blocks of 360 samples, labels MLII (stored as
/// text) and V5 (stored as lead code 7), 5 µV per step with offset -5.12 mV (-1024 steps).
///
/// Known BioSig limitation, found with this test: BioSig 2.5 leaves the *first* channel without a
/// data type (it reports digital range 0..65536 and `save2gdf -f=ASCII` fails with "SREAD: datatype
/// not supported") whatever the tag order or lead encoding, so sample values could not be compared
/// through BioSig; they are checked by our own round trip against the WFDB source instead.
#[test]
fn biosig_reads_our_mfer_like_we_do() {
    if Command::new("save2gdf").arg("--version").output().is_err() {
        eprintln!("NOTE: save2gdf (Debian biosig-tools) not installed; MFER oracle check skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("100.mwf");
    std::fs::write(
        &path,
        write_mfer(&mfer_from_wfdb_100(false, Some(10))).unwrap(),
    )
    .unwrap();
    let out = Command::new("save2gdf")
        .arg("-JSON")
        .arg(&path)
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&out.stdout);
    let values = |key: &str| -> Vec<String> {
        json.lines()
            .filter_map(|l| l.trim().strip_prefix(&format!("\"{key}\"")))
            .map(|v| {
                v.trim()
                    .trim_start_matches(':')
                    .trim()
                    .trim_end_matches(',')
                    .trim_matches('"')
                    .to_string()
            })
            .collect()
    };
    assert_eq!(values("TYPE"), ["MFER"], "{json}");
    assert_eq!(values("NumberOfChannels"), ["2"]);
    assert_eq!(values("NumberOfRecords"), ["10"]);
    assert_eq!(values("SamplesPerRecords"), ["360"]);
    // The second channel's label comes from its lead code (V5). BioSig 2.5 mishandles the
    // first channel (see above); its label is read from uninitialised state on some runs
    // ("(Manufacturere specific)" instead of MLII), so only its presence is compared.
    let labels = values("Label");
    assert_eq!(labels.len(), 2, "{json}");
    assert_eq!(labels[1], "V5");
    let rates: Vec<f64> = values("Samplingrate")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    // The record's rate and the second channel's; the first channel's fields are unreliable
    // in BioSig 2.5 (see above: on some runs it reads garbage there).
    assert_eq!(rates.len(), 3, "{json}");
    assert_eq!((rates[0], rates[2]), (360.0, 360.0));
    let scaling: Vec<f64> = values("scaling")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(scaling.last(), Some(&5e-6), "{scaling:?}");
    let offset: Vec<f64> = values("offset")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(
        offset.last().is_some_and(|o| (o - -0.00512).abs() < 1e-12),
        "{offset:?}"
    );
    assert_eq!(values("Id"), ["P-0100"]);
}
