//! Quality measures on real signals, and the canonical form across formats: record 100 read from
//! WFDB, from an EDF written from it, and from an MFER written from it must hash alike.

mod common;

use common::data;
use kizon_waveform::ChannelSamples;
use kizon_waveform::edf::{self, EdfHeader, EdfRecording, EdfSignal, EdfSignalData, write_edf};
use kizon_waveform::mfer::{
    MferChannel, MferDataType, MferPatient, MferRecording, read_mfer, write_mfer,
};
use kizon_waveform::quality::{canonical_bytes, clipping, flat_line};
use kizon_waveform::wfdb::{WfdbHeader, read_signal_file};

fn record_100() -> (WfdbHeader, Vec<Vec<i32>>) {
    let header = WfdbHeader::parse(&String::from_utf8(data("wfdb/100.hea")).unwrap()).unwrap();
    let samples = read_signal_file(&header, "100.dat", &data("wfdb/100.dat"))
        .unwrap()
        .samples;
    (header, samples)
}

fn view(rate: f64, channels: &[Vec<i32>]) -> Vec<ChannelSamples<'_>> {
    channels
        .iter()
        .map(|s| ChannelSamples {
            sampling_rate_hz: rate,
            samples: s,
        })
        .collect()
}

#[test]
fn same_signal_in_wfdb_edf_and_mfer_has_the_same_canonical_bytes() {
    let (header, samples) = record_100();
    let wfdb = canonical_bytes(&view(360.0, &samples));

    // EDF: 1-second records; 650,000 is not a multiple of 360, so take the first 1,805 s.
    let n = 1805 * 360;
    let excerpt: Vec<Vec<i32>> = samples.iter().map(|s| s[..n].to_vec()).collect();
    let signals = header
        .signals
        .iter()
        .zip(&excerpt)
        .map(|(s, v)| EdfSignalData {
            signal: EdfSignal {
                label: s.description.clone(),
                transducer: String::new(),
                physical_dimension: "mV".into(),
                physical_min: -5.12,
                physical_max: 5.115, // (0 - 1024) / 200 and (2047 - 1024) / 200
                digital_min: 0,
                digital_max: 2047,
                prefiltering: String::new(),
                samples_per_record: 360,
                reserved: String::new(),
            },
            samples: v.clone(),
        })
        .collect();
    let rec = EdfRecording {
        patient: "X X X X".into(),
        recording: "Startdate X X X X".into(),
        start_date: "01.01.85".into(),
        start_time: "00.00.00".into(),
        record_duration_s: 1.0,
        signals,
        annotations: None,
    };
    let bytes = write_edf(&rec).unwrap();
    let h = EdfHeader::parse(&bytes).unwrap();
    let from_edf: Vec<Vec<i32>> = (0..2)
        .map(|i| edf::read_samples(&h, &bytes, i).unwrap())
        .collect();
    let rate = h.sampling_rate_hz(0).unwrap();
    assert_eq!(
        canonical_bytes(&view(rate, &from_edf)),
        canonical_bytes(&view(360.0, &excerpt))
    );

    // MFER: the whole record.
    let mfer = MferRecording {
        preamble: "MFR".into(),
        little_endian: true,
        sampling_rate_hz: 360.0,
        data_type: MferDataType::Int16,
        block_length: 1000,
        waveform_type: None,
        sensitivity: None,
        offset: None,
        patient: MferPatient::default(),
        measurement_time: None,
        comments: Vec::new(),
        channels: samples
            .iter()
            .map(|s| MferChannel {
                label: "ECG".into(),
                lead_code: None,
                sensitivity: None,
                samples: s.clone(),
            })
            .collect(),
    };
    let read = read_mfer(&write_mfer(&mfer).unwrap()).unwrap().recording;
    let from_mfer: Vec<Vec<i32>> = read.channels.into_iter().map(|c| c.samples).collect();
    assert_eq!(
        canonical_bytes(&view(read.sampling_rate_hz, &from_mfer)),
        wfdb
    );
    // A one-sample change changes the form.
    let mut changed = samples.clone();
    changed[1][123_456] += 1;
    assert_ne!(canonical_bytes(&view(360.0, &changed)), wfdb);
}

#[test]
fn record_100_has_no_flat_line_and_no_clipping() {
    let (header, samples) = record_100();
    for (s, sig) in samples.iter().zip(&header.signals) {
        let f = flat_line(s, 360.0, 1.0);
        assert_eq!(f.flat_fraction, 0.0, "{}", sig.description);
        assert!(f.longest_run_s < 0.2, "{}: {f:?}", sig.description);
        // 11-bit ADC around zero 1024: digital range 0..2047 (format 212 stores 12 bits).
        let c = clipping(s, 0, 2047);
        assert_eq!(c.fraction, 0.0, "{}", sig.description);
    }
}

#[test]
fn edf_pulse_signal_is_mostly_flat() {
    // pyedflib's "squarewave" holds each level for 0.5 s at 200 Hz; at 0.25 s threshold it is all flat.
    let bytes = data("edf/test_generator.edf");
    let h = EdfHeader::parse(&bytes).unwrap();
    let square = edf::read_samples(&h, &bytes, 0).unwrap();
    let f = flat_line(&square, 200.0, 0.25);
    assert!(f.flat_fraction > 0.99, "{f:?}");
    assert_eq!(flat_line(&square, 200.0, 10.0).flat_fraction, 0.0);
}
