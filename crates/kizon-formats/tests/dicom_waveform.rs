//! DICOM waveform samples (PS3.3 C.10.9) decoded by kizon-formats, checked against pydicom on the
//! real 12-lead ECG `waveform_ecg.dcm` (fixture from `tools/oracle/make_dicom_waveform_fixture.py`)
//! and on small hand-built data sets for the encodings that file does not use.

use std::path::{Path, PathBuf};

use kizon_formats::dicom::waveform::{SampleEncoding, WaveformError, a_law, mu_law, read_waveform};
use kizon_formats::{ItemKind, inspect};
use sha2::{Digest, Sha256};

fn data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(relative)
}

fn ecg() -> Vec<u8> {
    std::fs::read(data("dicom/pydicom/waveform_ecg.dcm")).unwrap()
}

fn fixture() -> serde_json::Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/waveform_ecg_pydicom.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn waveform_ecg_samples_match_pydicom() {
    let expected = fixture();
    assert_eq!(expected["versions"]["pydicom"], "3.0.2");
    let waveform = read_waveform(&ecg()).unwrap();
    assert!(waveform.warnings.is_empty(), "{:?}", waveform.warnings);
    let groups = expected["groups"].as_array().unwrap();
    assert_eq!(waveform.groups.len(), groups.len());
    for (group, want) in waveform.groups.iter().zip(groups) {
        assert_eq!(group.label.as_deref(), want["label"].as_str());
        assert_eq!(
            group.sampling_rate_hz,
            want["sampling_frequency_hz"].as_f64().unwrap()
        );
        assert_eq!(group.encoding, SampleEncoding::Signed16);
        let definitions = want["channel_definitions"].as_array().unwrap();
        assert_eq!(group.channels.len(), definitions.len());
        assert_eq!(
            group.channels.len() as u64,
            want["channels"].as_u64().unwrap()
        );
        for (channel, want) in group.channels.iter().zip(definitions) {
            let name = &channel.label;
            assert_eq!(Some(name.as_str()), want["source"].as_str());
            assert_eq!(
                channel.samples.len() as u64,
                want["samples"].as_u64().unwrap()
            );
            let bytes: Vec<u8> = channel
                .samples
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect();
            assert_eq!(
                hex(&Sha256::digest(&bytes)),
                want["int32le_sha256"].as_str().unwrap(),
                "{name}"
            );
            let sum: i64 = channel.samples.iter().map(|v| i64::from(*v)).sum();
            assert_eq!(sum, want["sum"].as_i64().unwrap(), "{name}");
            assert_eq!(
                i64::from(*channel.samples.iter().min().unwrap()),
                want["min"].as_i64().unwrap()
            );
            assert_eq!(
                i64::from(*channel.samples.iter().max().unwrap()),
                want["max"].as_i64().unwrap()
            );
            assert_eq!(channel.sensitivity, want["sensitivity"].as_f64());
            assert_eq!(
                channel.correction_factor,
                want["correction_factor"].as_f64()
            );
            assert_eq!(channel.baseline, want["baseline"].as_f64());
            assert_eq!(
                channel.sensitivity_units.as_deref(),
                want["sensitivity_units"].as_str()
            );
            assert_eq!(
                channel.bits_stored.map(u64::from),
                want["bits_stored"].as_u64()
            );
            assert_eq!(
                (channel.digital_min, channel.digital_max),
                (-32_768, 32_767)
            );
            // Physical values as pydicom's waveform_array computes them.
            for (index, value) in want["physical_at"].as_object().unwrap() {
                let i: usize = index.parse().unwrap();
                let physical = channel.physical(channel.samples[i]).unwrap();
                assert!(
                    (physical - value.as_f64().unwrap()).abs() < 1e-9,
                    "{name}[{i}]"
                );
            }
            let physical_sum: f64 = channel
                .samples
                .iter()
                .map(|v| channel.physical(*v).unwrap())
                .sum();
            assert!(
                (physical_sum - want["physical_sum"].as_f64().unwrap()).abs() < 1e-6,
                "{name}"
            );
            // kizon-waveform's calibration says the same.
            let common = channel.channel(group.sampling_rate_hz);
            assert_eq!(
                common.physical(channel.samples[0]),
                channel.physical(channel.samples[0])
            );
        }
    }
}

#[test]
fn a_waveform_data_shorter_than_declared_is_an_ingest_problem_and_a_decode_error() {
    let mut bytes = ecg();
    // Number of Waveform Samples (003A,0010) UL of the first group: 10,000 becomes 20,000.
    let tag = [0x3A, 0x00, 0x10, 0x00, b'U', b'L', 4, 0];
    let at = bytes.windows(8).position(|w| w == tag).unwrap() + 8;
    assert_eq!(bytes[at..at + 4], 10_000u32.to_le_bytes());
    bytes[at..at + 4].copy_from_slice(&20_000u32.to_le_bytes());
    let inspection = inspect(&bytes);
    assert_eq!(inspection.kind(), ItemKind::DicomWaveform);
    let problem = inspection.problem.unwrap();
    assert!(
        problem.contains("multiplex group 1: Waveform Data holds 240000 bytes, 480000 needed"),
        "{problem}"
    );
    assert!(matches!(
        read_waveform(&bytes),
        Err(WaveformError::Truncated { group: 1, .. })
    ));
    assert!(inspect(&ecg()).problem.is_none());
}

#[test]
fn files_without_a_waveform_are_told_apart() {
    let ct = std::fs::read(data("dicom/pydicom/CT_small.dcm")).unwrap();
    assert_eq!(read_waveform(&ct), Err(WaveformError::NoWaveform));
    assert_eq!(read_waveform(b"not dicom"), Err(WaveformError::NotDicom));
}

/// Every prefix (sampled) and seeded byte flips of the real file: a result or an error, never a
/// panic, and never an allocation beyond the bytes present.
#[test]
fn truncations_and_byte_flips_never_panic() {
    let bytes = ecg();
    for cut in (0..bytes.len())
        .step_by(331)
        .chain(bytes.len() - 64..bytes.len())
    {
        let _ = read_waveform(&bytes[..cut]);
    }
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // Flips in the header (where the counts and lengths are) and anywhere.
    let header = bytes.len() - 240_000 - 28_800;
    for round in 0..1000 {
        let mut flipped = bytes.clone();
        let span = if round % 2 == 0 { header } else { bytes.len() };
        for _ in 0..3 {
            let at = (next() % span as u64) as usize;
            flipped[at] ^= (next() % 255 + 1) as u8;
        }
        let _ = read_waveform(&flipped);
    }
}

// --- Hand-built data sets (no file meta, explicit VR) for encodings the real file lacks. ---

struct Writer {
    big_endian: bool,
    out: Vec<u8>,
}

impl Writer {
    fn u16(&mut self, v: u16) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.out.extend_from_slice(&b);
    }

    fn u32(&mut self, v: u32) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.out.extend_from_slice(&b);
    }

    fn tag(&mut self, group: u16, element: u16) {
        self.u16(group);
        self.u16(element);
    }

    fn short(&mut self, group: u16, element: u16, vr: &[u8; 2], value: &[u8]) {
        self.tag(group, element);
        self.out.extend_from_slice(vr);
        self.u16(value.len() as u16);
        self.out.extend_from_slice(value);
    }

    fn long(&mut self, group: u16, element: u16, vr: &[u8; 2], value: &[u8]) {
        self.tag(group, element);
        self.out.extend_from_slice(vr);
        self.u16(0);
        self.u32(value.len() as u32);
        self.out.extend_from_slice(value);
    }

    fn us(&mut self, group: u16, element: u16, v: u16) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.short(group, element, b"US", &b);
    }

    fn ul(&mut self, group: u16, element: u16, v: u32) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.short(group, element, b"UL", &b);
    }

    fn sequence_start(&mut self, group: u16, element: u16) {
        self.tag(group, element);
        self.out.extend_from_slice(b"SQ");
        self.u16(0);
        self.u32(u32::MAX);
    }

    fn item_start(&mut self) {
        self.tag(0xFFFE, 0xE000);
        self.u32(u32::MAX);
    }

    fn item_end(&mut self) {
        self.tag(0xFFFE, 0xE00D);
        self.u32(0);
    }

    fn sequence_end(&mut self) {
        self.tag(0xFFFE, 0xE0DD);
        self.u32(0);
    }
}

/// One multiplex group of `channels` labelled channels; `data` is the Waveform Data as stored.
fn synthetic(
    big_endian: bool,
    bits: u16,
    interpretation: &str,
    labels: &[&str],
    samples: u32,
    data_vr: &[u8; 2],
    data: &[u8],
) -> Vec<u8> {
    let mut w = Writer {
        big_endian,
        out: Vec::new(),
    };
    w.short(0x0008, 0x0016, b"UI", b"1.2.840.10008.5.1.4.1.1.9.1.1\0");
    w.sequence_start(0x5400, 0x0100);
    w.item_start();
    w.us(0x003A, 0x0005, labels.len() as u16);
    w.ul(0x003A, 0x0010, samples);
    w.short(0x003A, 0x001A, b"DS", b"500 ");
    w.sequence_start(0x003A, 0x0200);
    for label in labels {
        w.item_start();
        let mut text = label.as_bytes().to_vec();
        if text.len() % 2 == 1 {
            text.push(b' ');
        }
        w.short(0x003A, 0x0203, b"SH", &text);
        w.short(0x003A, 0x0210, b"DS", b"2.5 ");
        w.item_end();
    }
    w.sequence_end();
    w.us(0x5400, 0x1004, bits);
    w.short(0x5400, 0x1006, b"CS", interpretation.as_bytes());
    w.long(0x5400, 0x1010, data_vr, data);
    w.item_end();
    w.sequence_end();
    w.out
}

#[test]
fn big_endian_16_bit_samples_are_demultiplexed() {
    let values: [i16; 6] = [1, -1, 2, -2, 3, -32768];
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
    let bytes = synthetic(true, 16, "SS", &["I", "II"], 3, b"OW", &data);
    let waveform = read_waveform(&bytes).unwrap();
    let group = &waveform.groups[0];
    assert_eq!(group.sampling_rate_hz, 500.0);
    let labels: Vec<&str> = group.channels.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["I", "II"]);
    assert_eq!(group.channels[0].samples, [1, 2, 3]);
    assert_eq!(group.channels[1].samples, [-1, -2, -32768]);
    assert_eq!(group.channels[1].physical(-2), Some(-5.0));
}

#[test]
fn companded_8_bit_samples_are_expanded_with_g711() {
    let codes = [0x00u8, 0x80, 0xFF, 0xD5];
    let mu = read_waveform(&synthetic(false, 8, "MB", &["A"], 4, b"OB", &codes)).unwrap();
    assert_eq!(mu.groups[0].channels[0].samples, codes.map(mu_law));
    assert_eq!(
        mu.groups[0].channels[0].samples[..2],
        [-32_124, 32_124],
        "µ-law extremes"
    );
    let a = read_waveform(&synthetic(false, 8, "AB", &["A"], 4, b"OB", &codes)).unwrap();
    assert_eq!(a.groups[0].channels[0].samples, codes.map(a_law));
    // Big endian OW swaps byte pairs: the decoder swaps them back.
    let swapped = [0x80u8, 0x00, 0xD5, 0xFF];
    let be = read_waveform(&synthetic(true, 8, "SB", &["A"], 4, b"OW", &swapped)).unwrap();
    assert_eq!(be.groups[0].channels[0].samples, [0, -128, -1, -43]);
}

#[test]
fn unsupported_encodings_and_missing_attributes_are_errors() {
    let bytes = synthetic(false, 12, "SS", &["A"], 1, b"OB", &[0, 0]);
    assert!(matches!(
        read_waveform(&bytes),
        Err(WaveformError::Unsupported {
            group: 1,
            bits: 12,
            ..
        })
    ));
    let bytes = synthetic(false, 16, "SS", &[], 1, b"OW", &[0, 0]);
    assert!(matches!(
        read_waveform(&bytes),
        Err(WaveformError::Invalid { group: 1, .. })
    ));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
