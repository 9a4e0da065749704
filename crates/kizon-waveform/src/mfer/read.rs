//! MFER reader for the supported subset (see the module table). Unknown tags are skipped by
//! length; definitions may appear in any order before the data, as the encoding rules allow.

use serde::Serialize;

use super::tlv::{Length, read_channel_number, read_length};
use super::{
    MferChannel, MferDataType, MferPatient, MferRecording, MferSensitivity, MferTime, lead_name,
    tag,
};
use crate::bytes::{Cursor, int, uint};
use crate::error::{Error, Result};
use crate::signal::WaveformInfo;

/// A decoded MFER file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MferRead {
    pub recording: MferRecording,
    /// Tag 0x03, if present.
    pub text_encoding: Option<String>,
    /// Tags present in the file but not interpreted, each once, in order of appearance.
    pub skipped_tags: Vec<u8>,
    /// Everything before the waveform data, as (lossy UTF-8) text, for identifiability checks.
    pub header_text: String,
    pub warnings: Vec<String>,
}

impl MferRead {
    pub fn info(&self) -> WaveformInfo {
        self.recording
            .info(self.header_text.clone(), self.warnings.clone())
    }
}

/// Whether `bytes` start like an MFER file: a 32-byte preamble item whose text begins with
/// "MFR" or "MFER" (the signature BioSig uses).
pub fn looks_like_mfer(bytes: &[u8]) -> bool {
    let text = bytes.get(2..8).unwrap_or_default();
    bytes.starts_with(&[tag::PREAMBLE, 32])
        && (text.starts_with(b"MFR ") || text.starts_with(b" MFER "))
}

#[derive(Default)]
struct ChannelAttributes {
    label: Option<String>,
    lead_code: Option<u16>,
    sensitivity: Option<MferSensitivity>,
}

/// Reads an MFER file.
pub fn read_mfer(bytes: &[u8]) -> Result<MferRead> {
    let mut cur = Cursor::new(bytes);
    let mut warnings = Vec::new();
    let mut skipped_tags = Vec::new();
    let mut le = false;
    let (mut block_length, mut channel_count, mut sequences) = (1u64, 1u64, 1u64);
    let mut data_type = MferDataType::Int16;
    let (mut rate, mut waveform_type, mut sensitivity, mut offset_raw) = (None, None, None, None);
    let (mut preamble, mut text_encoding) = (String::new(), None);
    let mut patient = MferPatient::default();
    let (mut measurement_time, mut comments) = (None, Vec::new());
    let mut attributes: Vec<(u64, ChannelAttributes)> = Vec::new();
    let mut data: Option<&[u8]> = None;
    let mut header_end = bytes.len();

    while !cur.is_empty() {
        let at = cur.pos();
        let t = cur.u8("MFER tag")?;
        if t == tag::END {
            break;
        }
        if t == tag::CHANNEL_ATTRIBUTES {
            let number = read_channel_number(&mut cur)?;
            let attrs = match read_length(&mut cur)? {
                Length::Definite(n) => parse_attributes(
                    &mut Cursor::new(cur.take(n, "MFER channel attributes")?),
                    le,
                    false,
                )?,
                Length::Indefinite => parse_attributes(&mut cur, le, true)?,
            };
            attributes.push((number, attrs));
            continue;
        }
        let len = match read_length(&mut cur)? {
            Length::Definite(n) => n,
            Length::Indefinite => {
                return Err(Error::bad_field(
                    format!("MFER tag 0x{t:02X} length"),
                    at + 1,
                    "a definite length",
                    "0x80",
                ));
            }
        };
        let value = if t == tag::WAVEFORM_DATA && len > cur.remaining() {
            warnings.push(format!(
                "waveform data declares {len} bytes, {} present",
                cur.remaining()
            ));
            cur.take(cur.remaining(), "MFER waveform data")?
        } else {
            cur.take(len, &format!("MFER tag 0x{t:02X} value"))?
        };
        let field = |name: &str| format!("MFER {name} (tag 0x{t:02X})");
        let count = |name: &str| {
            uint(value, le).ok_or_else(|| {
                Error::bad_field(
                    field(name),
                    at,
                    "an integer of 1–8 bytes",
                    format!("{len} bytes"),
                )
            })
        };
        match t {
            tag::PREAMBLE => preamble = text(value),
            tag::BYTE_ORDER => le = value.first() == Some(&1),
            tag::TEXT_ENCODING => text_encoding = Some(text(value)),
            tag::BLOCK_LENGTH => block_length = count("block length")?,
            tag::CHANNELS => channel_count = count("channels")?,
            tag::SEQUENCES => sequences = count("sequences")?,
            tag::WAVEFORM_TYPE => waveform_type = Some(count("waveform type")? as u16),
            tag::DATA_TYPE => {
                let code = value.first().copied().unwrap_or(0);
                data_type = MferDataType::from_code(code).ok_or_else(|| {
                    Error::unsupported("MFER data type (tag 0x0A)", code.to_string())
                })?;
            }
            tag::SAMPLING => rate = Some(sampling_rate(value, le, at)?),
            tag::SENSITIVITY => sensitivity = Some(decimal_value(value, le, at, "sensitivity")?),
            tag::OFFSET => offset_raw = Some(value),
            tag::COMMENT => comments.push(text(value)),
            tag::PATIENT_NAME => patient.name = Some(text(value)),
            tag::PATIENT_ID => patient.id = Some(text(value)),
            tag::PATIENT_AGE => {
                patient.age_years = value.first().copied();
                if let (Some(y), Some(&m), Some(&d)) = (
                    value.get(3..5).and_then(|b| uint(b, le)),
                    value.get(5),
                    value.get(6),
                ) {
                    patient.birthdate = (y != 0 || m != 0 || d != 0).then_some((y as u16, m, d));
                }
            }
            tag::PATIENT_SEX => patient.sex = value.first().copied(),
            tag::MEASUREMENT_TIME => measurement_time = time(value, le),
            tag::WAVEFORM_DATA => {
                header_end = header_end.min(at);
                data = Some(value);
            }
            other => {
                if !skipped_tags.contains(&other) {
                    skipped_tags.push(other);
                }
            }
        }
    }

    let sampling_rate_hz =
        rate.ok_or_else(|| Error::bad_field("MFER sampling (tag 0x0B)", 0, "present", "missing"))?;
    // Cap the channel count by the bytes present before allocating per-channel vectors.
    let channels = usize::try_from(channel_count)
        .ok()
        .filter(|n| *n <= bytes.len())
        .ok_or_else(|| {
            Error::bad_field(
                "MFER channels (tag 0x05)",
                0,
                "at most one channel per byte of file",
                channel_count.to_string(),
            )
        })?;
    let block = usize::try_from(block_length).unwrap_or(usize::MAX);
    let data = data.unwrap_or_else(|| {
        warnings.push("no waveform data (tag 0x1E)".to_string());
        &[]
    });
    let mut samples = decode(
        data,
        data_type,
        le,
        channels,
        block,
        sequences,
        &mut warnings,
    );
    let offset = offset_raw.map(|raw| match data_type {
        MferDataType::Int16 | MferDataType::Int32 | MferDataType::Int8 => int(raw, le).unwrap_or(0),
        _ => uint(raw, le).map_or(0, |v| v as i64),
    });

    let mut attrs: Vec<ChannelAttributes> = (0..channels)
        .map(|_| ChannelAttributes::default())
        .collect();
    for (number, a) in attributes {
        match usize::try_from(number).ok().and_then(|n| attrs.get_mut(n)) {
            Some(slot) => *slot = a,
            None => warnings.push(format!(
                "channel attributes for channel {number}, but the file has {channels} channels"
            )),
        }
    }
    let channels = attrs
        .into_iter()
        .enumerate()
        .map(|(i, a)| MferChannel {
            label: a
                .label
                .or_else(|| a.lead_code.and_then(lead_name).map(str::to_string))
                .unwrap_or_else(|| format!("channel {}", i + 1)),
            lead_code: a.lead_code,
            sensitivity: a.sensitivity,
            samples: std::mem::take(samples.get_mut(i).unwrap_or(&mut Vec::new())),
        })
        .collect();
    let recording = MferRecording {
        preamble,
        little_endian: le,
        sampling_rate_hz,
        data_type,
        block_length: block,
        waveform_type,
        sensitivity,
        offset,
        patient,
        measurement_time,
        comments,
        channels,
    };
    let header_text =
        String::from_utf8_lossy(bytes.get(..header_end).unwrap_or_default()).into_owned();
    Ok(MferRead {
        recording,
        text_encoding,
        skipped_tags,
        header_text,
        warnings,
    })
}

/// Demultiplexes `sequences` blocks of `channels × block` samples (complete blocks only).
fn decode(
    data: &[u8],
    t: MferDataType,
    le: bool,
    channels: usize,
    block: usize,
    sequences: u64,
    warnings: &mut Vec<String>,
) -> Vec<Vec<i32>> {
    let size = t.size();
    let block_bytes = channels
        .checked_mul(block)
        .and_then(|n| n.checked_mul(size))
        .unwrap_or(usize::MAX);
    let present = data.len().checked_div(block_bytes).unwrap_or(0) as u64;
    let blocks = present.min(sequences) as usize; // ≤ data.len()
    if present < sequences && block_bytes > 0 {
        warnings.push(format!(
            "waveform data holds {present} of {sequences} declared blocks"
        ));
    }
    let mut out: Vec<Vec<i32>> = (0..channels)
        .map(|_| Vec::with_capacity(blocks.saturating_mul(block)))
        .collect();
    for b in data.chunks_exact(block_bytes.max(1)).take(blocks) {
        for (channel, chunk) in out.iter_mut().zip(b.chunks_exact(block * size)) {
            channel.extend(chunk.chunks_exact(size).map(|v| sample(v, t, le)));
        }
    }
    out
}

fn sample(v: &[u8], t: MferDataType, le: bool) -> i32 {
    let signed = matches!(
        t,
        MferDataType::Int16 | MferDataType::Int32 | MferDataType::Int8
    );
    // Values are at most 4 bytes (checked by the data type), so they fit i64 and then i32.
    if signed {
        int(v, le).unwrap_or(0) as i32
    } else {
        uint(v, le).unwrap_or(0) as i32
    }
}

/// Nested items of a channel attribute (0x3F): lead (0x09) and sensitivity (0x0C); others skipped.
fn parse_attributes(cur: &mut Cursor<'_>, le: bool, indefinite: bool) -> Result<ChannelAttributes> {
    let mut a = ChannelAttributes::default();
    while !cur.is_empty() {
        let at = cur.pos();
        let t = cur.u8("MFER channel attribute tag")?;
        let len = match read_length(cur)? {
            Length::Definite(n) => n,
            Length::Indefinite => {
                return Err(Error::bad_field(
                    "MFER nested length",
                    at + 1,
                    "a definite length",
                    "0x80",
                ));
            }
        };
        if indefinite && t == 0 && len == 0 {
            break;
        }
        let value = cur.take(len, "MFER channel attribute value")?;
        match (t, value.len()) {
            (tag::LEAD, 1 | 2) => a.lead_code = uint(value, le).map(|c| c as u16),
            (tag::LEAD, _) => a.label = Some(text(value)),
            (tag::SENSITIVITY, _) => {
                a.sensitivity = Some(decimal_value(value, le, at, "channel sensitivity")?)
            }
            _ => {}
        }
    }
    Ok(a)
}

/// Tag 0x0B: unit 0 = frequency in Hz, 1 = interval in s.
fn sampling_rate(value: &[u8], le: bool, at: usize) -> Result<f64> {
    let v = decimal_value(value, le, at, "sampling")?;
    let x = v.value();
    let rate = match v.unit {
        0 => x,
        1 => 1.0 / x,
        unit => {
            return Err(Error::unsupported(
                "MFER sampling unit (tag 0x0B)",
                unit.to_string(),
            ));
        }
    };
    if rate.is_finite() && rate > 0.0 {
        Ok(rate)
    } else {
        Err(Error::bad_field(
            "MFER sampling (tag 0x0B)",
            at,
            "a positive rate",
            rate.to_string(),
        ))
    }
}

/// `unit, exponent, mantissa` layout shared by 0x0B and 0x0C.
fn decimal_value(value: &[u8], le: bool, at: usize, name: &str) -> Result<MferSensitivity> {
    match value {
        [unit, exponent, mantissa @ ..] if !mantissa.is_empty() => Ok(MferSensitivity {
            unit: *unit,
            exponent: *exponent as i8,
            mantissa: int(mantissa, le).ok_or_else(|| {
                Error::bad_field(
                    format!("MFER {name}"),
                    at,
                    "a mantissa of 1–8 bytes",
                    format!("{} bytes", mantissa.len()),
                )
            })?,
        }),
        _ => Err(Error::bad_field(
            format!("MFER {name}"),
            at,
            "unit, exponent and mantissa (≥ 3 bytes)",
            format!("{} bytes", value.len()),
        )),
    }
}

fn time(v: &[u8], le: bool) -> Option<MferTime> {
    let u16_at = |i: usize| v.get(i..i + 2).and_then(|b| uint(b, le)).map(|x| x as u16);
    Some(MferTime {
        year: u16_at(0)?,
        month: *v.get(2)?,
        day: *v.get(3)?,
        hour: *v.get(4)?,
        minute: *v.get(5)?,
        second: *v.get(6)?,
        millisecond: u16_at(7).unwrap_or(0),
        microsecond: u16_at(9).unwrap_or(0),
    })
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v)
        .trim_end_matches([' ', '\0'])
        .to_string()
}
