//! MFER (ISO 22077-1, the Japanese standard for ECG and other waveforms) de-identified item by
//! item: patient name (0x81) removed, patient ID (0x82) replaced by the pseudonym, the birth date
//! inside the age item (0x83) zeroed (the age in years and days kept under Retain Patient
//! Characteristics, else the item removed), sex (0x84) kept only under that option, the
//! measurement time (0x85) moved by the shift (or removed), comments (0x16) removed at every
//! level. Every other item, waveform data included, is copied byte for byte.

use crate::dicom::{Action, Tally};
use crate::profile::{DicomOption, Profile};

const BYTE_ORDER: u8 = 0x01;
const COMMENT: u8 = 0x16;
const CHANNEL_ATTRIBUTES: u8 = 0x3F;
const END: u8 = 0x80;
const PATIENT_NAME: u8 = 0x81;
const PATIENT_ID: u8 = 0x82;
const PATIENT_AGE: u8 = 0x83;
const PATIENT_SEX: u8 = 0x84;
const MEASUREMENT_TIME: u8 = 0x85;

struct Item<'a> {
    tag: u8,
    /// The channel number's bytes (channel attributes only).
    channel: &'a [u8],
    value: &'a [u8],
}

/// The items of `bytes` (definite lengths only); the end item and anything after it are kept
/// as the tail.
fn items(bytes: &[u8]) -> Result<(Vec<Item<'_>>, &[u8]), String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let tag = bytes[at];
        if tag == END {
            return Ok((out, &bytes[at..]));
        }
        let mut cursor = at + 1;
        let channel_start = cursor;
        if tag == CHANNEL_ATTRIBUTES {
            loop {
                let b = *bytes
                    .get(cursor)
                    .ok_or("an MFER channel number is cut off")?;
                cursor += 1;
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        let channel = &bytes[channel_start..cursor];
        let first = *bytes.get(cursor).ok_or("an MFER length is cut off")?;
        cursor += 1;
        let length = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7F);
            if n == 0 || n > 8 {
                return Err(format!(
                    "MFER item 0x{tag:02X} at byte {at} has an indefinite or oversized length"
                ));
            }
            let raw = bytes
                .get(cursor..cursor + n)
                .ok_or("an MFER length is cut off")?;
            cursor += n;
            raw.iter().fold(0usize, |v, b| (v << 8) | usize::from(*b))
        };
        let value = bytes
            .get(
                cursor
                    ..cursor
                        .checked_add(length)
                        .ok_or("an MFER length overflows")?,
            )
            .ok_or_else(|| format!("MFER item 0x{tag:02X} at byte {at} runs past the end"))?;
        out.push(Item {
            tag,
            channel,
            value,
        });
        at = cursor + length;
    }
    Ok((out, &[]))
}

fn write_item(out: &mut Vec<u8>, tag: u8, channel: &[u8], value: &[u8]) {
    out.push(tag);
    out.extend_from_slice(channel);
    if value.len() < 0x80 {
        out.push(value.len() as u8);
    } else {
        let be = (value.len() as u64).to_be_bytes();
        let skip = be.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&be[skip..]);
    }
    out.extend_from_slice(value);
}

/// The patient ID (0x82) of an MFER file, if it has one.
pub fn patient_id(bytes: &[u8]) -> Option<String> {
    let (items, _) = items(bytes).ok()?;
    items
        .iter()
        .find(|i| i.tag == PATIENT_ID)
        .map(|i| {
            String::from_utf8_lossy(i.value)
                .trim_end_matches(['\0', ' '])
                .trim()
                .to_owned()
        })
        .filter(|id| !id.is_empty())
}

/// De-identifies an MFER file.
pub fn deidentify(
    bytes: &[u8],
    profile: &Profile,
    pseudonym: &str,
    shift_days: i32,
) -> Result<(Vec<u8>, Tally), String> {
    let (top, tail) = items(bytes)?;
    let little_endian = top
        .iter()
        .find(|i| i.tag == BYTE_ORDER)
        .is_some_and(|i| i.value.first() == Some(&1));
    let mut tally = Tally::new();
    let mut out = Vec::with_capacity(bytes.len());
    let characteristics = profile.has(DicomOption::RetainPatientCharacteristics);
    let mut id_written = false;
    for item in &top {
        let mut count =
            |action: Action, what: &str| *tally.entry((action, what.to_owned())).or_default() += 1;
        match item.tag {
            PATIENT_NAME => count(Action::Removed, "MFER patient name (0x81)"),
            PATIENT_ID => {
                write_item(&mut out, PATIENT_ID, &[], pseudonym.as_bytes());
                id_written = true;
                count(Action::PseudonymWritten, "MFER patient ID (0x82)");
            }
            PATIENT_AGE if characteristics && item.value.len() >= 3 => {
                // age in years (1 byte) and days (2 bytes) kept; the birth date after them zeroed
                let mut value = item.value.to_vec();
                let birth = 3.min(value.len());
                value[birth..].fill(0);
                write_item(&mut out, PATIENT_AGE, &[], &value);
                count(Action::Cleaned, "MFER patient age and birth date (0x83)");
            }
            PATIENT_AGE => count(Action::Removed, "MFER patient age and birth date (0x83)"),
            PATIENT_SEX if characteristics => write_item(&mut out, PATIENT_SEX, &[], item.value),
            PATIENT_SEX => count(Action::Removed, "MFER patient sex (0x84)"),
            MEASUREMENT_TIME => match shifted_time(item.value, little_endian, shift_days)
                .filter(|_| profile.has(DicomOption::RetainModifiedDates))
            {
                Some(value) => {
                    write_item(&mut out, MEASUREMENT_TIME, &[], &value);
                    count(Action::DateShifted, "MFER measurement time (0x85)");
                }
                None => count(Action::Removed, "MFER measurement time (0x85)"),
            },
            COMMENT => count(Action::Removed, "MFER comment (0x16)"),
            CHANNEL_ATTRIBUTES => {
                let (inner, inner_tail) = items(item.value)?;
                let mut value = Vec::with_capacity(item.value.len());
                for attribute in &inner {
                    if attribute.tag == COMMENT {
                        count(Action::Removed, "MFER comment (0x16)");
                    } else {
                        write_item(
                            &mut value,
                            attribute.tag,
                            attribute.channel,
                            attribute.value,
                        );
                    }
                }
                value.extend_from_slice(inner_tail);
                write_item(&mut out, CHANNEL_ATTRIBUTES, item.channel, &value);
            }
            _ => write_item(&mut out, item.tag, item.channel, item.value),
        }
    }
    if !id_written {
        // The sponsor groups by the pseudonym: write it before the end item.
        write_item(&mut out, PATIENT_ID, &[], pseudonym.as_bytes());
        *tally
            .entry((Action::PseudonymWritten, "MFER patient ID (0x82)".into()))
            .or_default() += 1;
    }
    // The mark that says the ID is a pseudonym (the one comment left).
    write_item(
        &mut out,
        COMMENT,
        &[],
        kizon_waveform::PSEUDONYM_MARK.as_bytes(),
    );
    out.extend_from_slice(tail);
    Ok((out, tally))
}

/// The measurement time (year as 2 bytes in the file's byte order, then month, day, hour,
/// minute, second, and milli/microseconds) with its date moved by `days`.
fn shifted_time(value: &[u8], little_endian: bool, days: i32) -> Option<Vec<u8>> {
    let year = if little_endian {
        u16::from_le_bytes([*value.first()?, *value.get(1)?])
    } else {
        u16::from_be_bytes([*value.first()?, *value.get(1)?])
    };
    let (month, day) = (*value.get(2)?, *value.get(3)?);
    let iso = format!("{year:04}{month:02}{day:02}");
    let shifted = crate::dates::shift_da(&iso, days)?;
    let new_year: u16 = shifted[0..4].parse().ok()?;
    let mut out = value.to_vec();
    let year_bytes = if little_endian {
        new_year.to_le_bytes()
    } else {
        new_year.to_be_bytes()
    };
    out[0..2].copy_from_slice(&year_bytes);
    out[2] = shifted[4..6].parse().ok()?;
    out[3] = shifted[6..8].parse().ok()?;
    Some(out)
}
