//! MFER, Medical waveform Format Encoding Rules (ISO 22077-1; JIS T 7307; the MML waveform format
//! used by Japanese ECG devices).
//!
//! An MFER file is a sequence of tag-length-value items. The length is one byte below 0x80;
//! otherwise its low 7 bits count the big-endian length bytes that follow (0x80 alone, allowed for
//! channel attributes, means "until a 0x00 0x00 item"). Multi-byte values use the byte order set by
//! tag 0x01 (big endian by default). The waveform data (tag 0x1E) is `sequences` blocks, each
//! holding, channel after channel, `block_length` samples.
//!
//! # Supported tags
//! | tag | name | value |
//! |---|---|---|
//! | 0x40 | preamble | 32 bytes of text; `"@ MFR "` at the file start identifies MFER |
//! | 0x01 | byte order | 0 big endian, 1 little endian |
//! | 0x03 | text encoding | kept as text (e.g. `UTF-8`); texts are decoded as UTF-8, lossily |
//! | 0x04 | block length | samples per channel per block |
//! | 0x05 | channels | count |
//! | 0x06 | sequences | number of blocks |
//! | 0x08 | waveform type | 1 or 2 bytes code (1 = standard 12-lead ECG) |
//! | 0x09 | lead | 1–2 bytes: lead code; longer: lead name text (inside 0x3F) |
//! | 0x0A | data type | 0 int16, 1 uint16, 2 int32, 3 uint8, 4 16-bit status, 5 int8 |
//! | 0x0B | sampling | unit (0 Hz, 1 s), signed exponent, mantissa: `mantissa × 10^exponent` |
//! | 0x0C | sensitivity | unit code, exponent, mantissa: physical value of one digital step |
//! | 0x0D | offset | a value of the data type, added to each sample before scaling |
//! | 0x16 | comment | text |
//! | 0x3F | channel attributes | channel number (7 bits per byte, high bit = more), nested 0x09, 0x0C |
//! | 0x81–0x85 | patient name, ID, age/birthdate, sex, measurement time | see [`MferPatient`] |
//! | 0x1E | waveform data | samples |
//! | 0x80 | end | no value |
//!
//! Other tags are skipped by length and listed in [`MferRead::skipped_tags`]. Float data types,
//! compression (0x0E) and events (0x41) are not supported.
//!
//! Sources: the tag numbers, value layouts, length encoding and file signature follow BioSig's
//! MFER reader (`biosig4c++/biosig.c`, `sopen` MFER branch, and `biosig/t200/mwfopen.m`, GPL,
//! A. Schlögl), which cites MFER101E-2003; no code was copied. The lead codes are the SCP-ECG /
//! MFER table (1 I, 2 II, 3–8 V1–V6, 61 III, 62 aVR, 63 aVL, 64 aVF). Files written here are
//! checked against BioSig's `save2gdf` in `tests/mfer.rs` when Debian's `biosig-tools` is present.

mod read;
mod tlv;
mod write;

pub use read::{MferRead, looks_like_mfer, read_mfer};
pub use write::write_mfer;

use serde::Serialize;

use crate::signal::{Channel, Format, WaveformInfo};

/// MFER tag numbers.
pub mod tag {
    pub const BYTE_ORDER: u8 = 0x01;
    pub const TEXT_ENCODING: u8 = 0x03;
    pub const BLOCK_LENGTH: u8 = 0x04;
    pub const CHANNELS: u8 = 0x05;
    pub const SEQUENCES: u8 = 0x06;
    pub const WAVEFORM_TYPE: u8 = 0x08;
    pub const LEAD: u8 = 0x09;
    pub const DATA_TYPE: u8 = 0x0A;
    pub const SAMPLING: u8 = 0x0B;
    pub const SENSITIVITY: u8 = 0x0C;
    pub const OFFSET: u8 = 0x0D;
    pub const COMMENT: u8 = 0x16;
    pub const WAVEFORM_DATA: u8 = 0x1E;
    pub const CHANNEL_ATTRIBUTES: u8 = 0x3F;
    pub const PREAMBLE: u8 = 0x40;
    pub const END: u8 = 0x80;
    pub const PATIENT_NAME: u8 = 0x81;
    pub const PATIENT_ID: u8 = 0x82;
    pub const PATIENT_AGE: u8 = 0x83;
    pub const PATIENT_SEX: u8 = 0x84;
    pub const MEASUREMENT_TIME: u8 = 0x85;
}

/// MFER waveform type code of the standard 12-lead ECG.
pub const WAVEFORM_STANDARD_12_LEAD_ECG: u16 = 1;

/// Sample encodings (tag 0x0A) this crate reads; the writer uses `Int16` or `Int32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MferDataType {
    Int16,
    Uint16,
    Int32,
    Uint8,
    Status16,
    Int8,
}

impl MferDataType {
    pub fn code(self) -> u8 {
        match self {
            MferDataType::Int16 => 0,
            MferDataType::Uint16 => 1,
            MferDataType::Int32 => 2,
            MferDataType::Uint8 => 3,
            MferDataType::Status16 => 4,
            MferDataType::Int8 => 5,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        [
            Self::Int16,
            Self::Uint16,
            Self::Int32,
            Self::Uint8,
            Self::Status16,
            Self::Int8,
        ]
        .into_iter()
        .find(|t| t.code() == code)
    }

    /// The values the data type can hold: the rails a saturated signal sits at.
    pub fn range(self) -> (i64, i64) {
        match self {
            MferDataType::Int16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
            MferDataType::Uint16 | MferDataType::Status16 => (0, i64::from(u16::MAX)),
            MferDataType::Int32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
            MferDataType::Uint8 => (0, i64::from(u8::MAX)),
            MferDataType::Int8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
        }
    }

    pub fn size(self) -> usize {
        match self {
            MferDataType::Int16 | MferDataType::Uint16 | MferDataType::Status16 => 2,
            MferDataType::Int32 => 4,
            MferDataType::Uint8 | MferDataType::Int8 => 1,
        }
    }
}

/// A value `mantissa × 10^exponent` in the unit `unit` (tag 0x0C's layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MferSensitivity {
    /// MFER unit code: 0 V, 1 mmHg, 2 Pa, 3 cmH2O, 4 mmHg/s, 5 dyne, 6 N, 7 %, 8 °C, ...
    pub unit: u8,
    pub exponent: i8,
    pub mantissa: i64,
}

impl MferSensitivity {
    /// Physical value of one digital step.
    pub fn value(&self) -> f64 {
        self.mantissa as f64 * 10f64.powi(i32::from(self.exponent))
    }

    /// Unit symbol of the unit code, if known.
    pub fn unit_symbol(&self) -> Option<&'static str> {
        const UNITS: [&str; 23] = [
            "V",
            "mmHg",
            "Pa",
            "cmH2O",
            "mmHg/s",
            "dyne",
            "N",
            "%",
            "°C",
            "1/min",
            "1/s",
            "Ohm",
            "A",
            "rpm",
            "W",
            "dB",
            "kg",
            "J",
            "dyne s m-2 cm-5",
            "",
            "L/s",
            "L/min",
            "cd",
        ];
        UNITS
            .get(usize::from(self.unit))
            .copied()
            .filter(|u| !u.is_empty())
    }
}

/// One channel: its lead and digital samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MferChannel {
    /// Lead name; when only a lead code is stored, the standard name of the code.
    pub label: String,
    /// MFER/SCP-ECG lead code, when the lead has one.
    pub lead_code: Option<u16>,
    /// Channel-specific sensitivity (overrides the recording's).
    pub sensitivity: Option<MferSensitivity>,
    pub samples: Vec<i32>,
}

/// Patient and measurement fields (tags 0x81–0x85).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MferPatient {
    pub name: Option<String>,
    pub id: Option<String>,
    /// Age in whole years (0x83 byte 0).
    pub age_years: Option<u8>,
    /// Birthdate `(year, month, day)` (0x83 bytes 3–6).
    pub birthdate: Option<(u16, u8, u8)>,
    /// 0 unknown, 1 male, 2 female, 3 other (0x84).
    pub sex: Option<u8>,
}

/// Measurement start (0x85): year, month, day, hour, minute, second, millisecond, microsecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MferTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub millisecond: u16,
    pub microsecond: u16,
}

/// A recording in the subset of MFER this crate reads and writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MferRecording {
    pub preamble: String,
    pub little_endian: bool,
    pub sampling_rate_hz: f64,
    pub data_type: MferDataType,
    /// Samples per channel per block; every channel holds `block_length × sequences` samples.
    pub block_length: usize,
    pub waveform_type: Option<u16>,
    /// Recording-wide sensitivity (0x0C).
    pub sensitivity: Option<MferSensitivity>,
    /// Recording-wide offset (0x0D): `physical = (digital + offset) × sensitivity`.
    pub offset: Option<i64>,
    pub patient: MferPatient,
    pub measurement_time: Option<MferTime>,
    pub comments: Vec<String>,
    pub channels: Vec<MferChannel>,
}

/// Standard name of an MFER/SCP-ECG lead code.
pub fn lead_name(code: u16) -> Option<&'static str> {
    Some(match code {
        1 => "I",
        2 => "II",
        3 => "V1",
        4 => "V2",
        5 => "V3",
        6 => "V4",
        7 => "V5",
        8 => "V6",
        61 => "III",
        62 => "aVR",
        63 => "aVL",
        64 => "aVF",
        _ => return None,
    })
}

/// Lead code of a standard lead name (the inverse of [`lead_name`]).
pub fn lead_code(name: &str) -> Option<u16> {
    (1..=64).find(|c| lead_name(*c) == Some(name))
}

impl MferRecording {
    /// The common description. `header_text` is the header as text (see [`MferRead`]).
    pub fn info(&self, header_text: String, warnings: Vec<String>) -> WaveformInfo {
        let channels = self
            .channels
            .iter()
            .map(|c| {
                let sensitivity = c.sensitivity.or(self.sensitivity);
                let step = sensitivity
                    .map(|s| s.value())
                    .filter(|v| *v != 0.0 && v.is_finite());
                let mut ch = Channel::new(
                    c.label.clone(),
                    self.sampling_rate_hz,
                    c.samples.len() as u64,
                );
                ch.physical_dimension = sensitivity
                    .and_then(|s| s.unit_symbol())
                    .map(str::to_string);
                ch.gain = step.map(|v| 1.0 / v);
                ch.baseline = Some(-(self.offset.unwrap_or(0) as f64));
                (ch.digital_min, ch.digital_max) = {
                    let (min, max) = self.data_type.range();
                    (Some(min), Some(max))
                };
                ch
            })
            .collect();
        let t = self.measurement_time;
        WaveformInfo {
            format: Format::Mfer,
            channels,
            start: t.and_then(|t| {
                crate::datetime::iso_datetime(
                    i64::from(t.year),
                    u32::from(t.month),
                    u32::from(t.day),
                    u32::from(t.hour),
                    u32::from(t.minute),
                    u32::from(t.second),
                )
            }),
            duration_s: self
                .channels
                .first()
                .filter(|_| self.sampling_rate_hz > 0.0)
                .map(|c| c.samples.len() as f64 / self.sampling_rate_hz),
            patient_field: match (&self.patient.name, &self.patient.id) {
                (None, None) => None,
                (n, i) => Some(
                    format!(
                        "{} {}",
                        n.as_deref().unwrap_or(""),
                        i.as_deref().unwrap_or("")
                    )
                    .trim()
                    .to_string(),
                ),
            },
            recording_field: None,
            header_text,
            comments: self.comments.clone(),
            annotations: 0,
            warnings,
        }
    }
}
