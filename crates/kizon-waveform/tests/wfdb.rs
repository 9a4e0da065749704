//! WFDB on MIT-BIH record 100 and wfdb-python's `test01_00s`. Expected values were cross-checked
//! once with wfdb-python 4.x (`rdrecord(physical=False)`, `rdann`): first and last samples, per
//! signal sums (MLII 625781133, V5 640765524), checksums and annotation counts.

mod common;

use common::data;
use kizon_waveform::wfdb::{WfdbHeader, checksum, read_mit_annotations, read_signal_file};

fn header_100() -> (String, WfdbHeader) {
    let text = String::from_utf8(data("wfdb/100.hea")).unwrap();
    let header = WfdbHeader::parse(&text).unwrap();
    (text, header)
}

#[test]
fn wfdb_100_has_two_leads_mlii_and_v5_at_360_hz() {
    let (text, h) = header_100();
    let info = h.info(&text, 0);
    let labels: Vec<&str> = info.channels.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["MLII", "V5"]);
    assert!(
        info.channels
            .iter()
            .all(|c| c.sampling_rate_hz == 360.0 && c.samples == 650_000)
    );
    assert_eq!(info.duration_s.map(|d| d.round()), Some(1806.0)); // 30 min 06 s
    assert_eq!(h.signals[0].format, 212);
    assert_eq!(
        (
            h.signals[0].adc_gain,
            h.signals[0].baseline,
            h.signals[0].adc_resolution
        ),
        (200.0, 1024, 11)
    );
    assert_eq!(h.companion_files(), vec!["100.dat"]);
    // Comments (age, sex, medication) are identifying context and must be kept.
    assert_eq!(
        info.comments,
        vec![
            "unnecessary comment",
            "69 M 1085 1629 x1",
            "Aldomet, Inderal"
        ]
    );
    assert_eq!(info.start, None, "record 100 states no base date");
}

#[test]
fn wfdb_100_first_samples_match_physionet() {
    let (_, h) = header_100();
    let s = read_signal_file(&h, "100.dat", &data("wfdb/100.dat")).unwrap();
    // The header's initial-value field is the first sample: 995 (MLII) and 1011 (V5).
    let initial: Vec<i64> = h.signals.iter().map(|s| s.initial_value.unwrap()).collect();
    assert_eq!(initial, [995, 1011]);
    assert_eq!(&s.samples[0][..5], &[995; 5]);
    assert_eq!(&s.samples[1][..5], &[1011; 5]);
    // MLII starts at -0.145 mV: (995 - 1024) / 200.
    let mlii = h.info("", 0).channels[0].physical(s.samples[0][0]).unwrap();
    assert!((mlii - -0.145).abs() < 1e-12);
    // wfdb-python: last three frames [[889, 951], [871, 957], [768, 1024]].
    assert_eq!(&s.samples[0][649_997..], &[889, 871, 768]);
    assert_eq!(&s.samples[1][649_997..], &[951, 957, 1024]);
    let sums: Vec<i64> = s
        .samples
        .iter()
        .map(|v| v.iter().map(|x| i64::from(*x)).sum())
        .collect();
    assert_eq!(sums, [625_781_133, 640_765_524]);
    // The header checksums (-22131, 20052) verify: no warning.
    assert_eq!(checksum(&s.samples[0]), -22131);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn wfdb_checksum_mismatch_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut dat = data("wfdb/100.dat");
    dat[3000] ^= 0x01; // one low bit of one sample
    std::fs::write(dir.path().join("100.dat"), &dat).unwrap();
    let (_, h) = header_100();
    let s = read_signal_file(
        &h,
        "100.dat",
        &std::fs::read(dir.path().join("100.dat")).unwrap(),
    )
    .unwrap();
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(s.warnings[0].contains("checksum"));
}

#[test]
fn test01_four_channels_format_16_at_500_hz() {
    let text = String::from_utf8(data("wfdb/test01_00s.hea")).unwrap();
    let h = WfdbHeader::parse(&text).unwrap();
    assert_eq!(
        (h.signals.len(), h.sampling_frequency_hz, h.samples),
        (4, 500.0, Some(4000))
    );
    assert_eq!(h.signals[0].units, "mV");
    assert_eq!(
        h.signals[3].description, "ECG 4",
        "descriptions may contain spaces"
    );
    let s = read_signal_file(&h, "test01_00s.dat", &data("wfdb/test01_00s.dat")).unwrap();
    let first: Vec<i32> = s.samples.iter().map(|v| v[0]).collect();
    assert_eq!(first, [10, -8, -57, -66]);
    assert_eq!(s.samples[0][2], 13);
    let sums: Vec<i64> = s
        .samples
        .iter()
        .map(|v| v.iter().map(|x| i64::from(*x)).sum())
        .collect();
    assert_eq!(
        sums,
        [114, 941, -119, -401],
        "wfdb-python sums, equal to the header checksums"
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(
        h.comments,
        vec!["<age>: 25  <sex>: M  <diagnoses>: (none)  <medications>: (none)"]
    );
}

/// `100.atr` holds 2,274 annotations, of which 2,273 are beats: the first annotation (sample 18) is
/// a `+` rhythm annotation with aux "(N", not a beat. PhysioNet's MIT-BIH table for record 100
/// lists 2,239 normal, 33 APC and 1 PVC = 2,273 beats; wfdb-python's `rdann` gives the same
/// counts (N 2239, A 33, V 1, + 1). SOURCES.md's "2,274 reference beat annotations" counts all
/// annotations, so the test asserts both numbers separately.
#[test]
fn atr_100_counts_beats() {
    let atr = read_mit_annotations(&data("wfdb/100.atr")).unwrap();
    assert!(atr.warnings.is_empty(), "{:?}", atr.warnings);
    assert_eq!(atr.annotations.len(), 2274);
    assert_eq!(atr.beats(), 2273);
    let count = |m: &str| atr.annotations.iter().filter(|a| a.mnemonic == m).count();
    assert_eq!(
        (count("N"), count("A"), count("V"), count("+")),
        (2239, 33, 1, 1)
    );
    let first = &atr.annotations[0];
    assert_eq!(
        (first.sample, first.mnemonic.as_str(), first.aux.as_deref()),
        (18, "+", Some("(N"))
    );
    let samples: Vec<u64> = atr.annotations.iter().take(5).map(|a| a.sample).collect();
    assert_eq!(samples, [18, 77, 370, 662, 946]);
    assert!(atr.annotations.last().unwrap().sample < 650_000);
}
