//! ISO base media files (MP4, MOV; ISO/IEC 14496-12) de-identified without re-encoding: the
//! metadata boxes that carry names, places and dates (`udta` with its GPS `©xyz`, `meta`, and
//! `uuid` boxes such as XMP) become `free` boxes of the same size with zeroed contents, and the
//! creation and modification times of `mvhd`, `tkhd` and `mdhd` move by the patient's shift (or
//! become 0). Nothing moves, so every chunk offset stays right and the media data (`mdat`) is
//! bit-identical.

use crate::dicom::{Action, Tally};
use crate::profile::{DicomOption, Profile};

const CONTAINERS: &[&[u8; 4]] = &[
    b"moov", b"trak", b"mdia", b"minf", b"edts", b"moof", b"traf", b"mfra", b"dinf", b"stbl",
];
const METADATA: &[&[u8; 4]] = &[b"udta", b"meta", b"uuid", b"Xtra", b"ilst"];
const TIMED: &[&[u8; 4]] = &[b"mvhd", b"tkhd", b"mdhd"];

/// De-identifies an ISO-BMFF file.
pub fn deidentify(
    bytes: &[u8],
    profile: &Profile,
    shift_days: i32,
) -> Result<(Vec<u8>, Tally), String> {
    if bytes.get(4..8) != Some(b"ftyp") {
        return Err("not an ISO base media file (no ftyp box first)".into());
    }
    let mut out = bytes.to_vec();
    let mut tally = Tally::new();
    let shift = profile
        .has(DicomOption::RetainModifiedDates)
        .then_some(i64::from(shift_days) * 86_400);
    walk(&mut out, 0, bytes.len(), shift, &mut tally)?;
    Ok((out, tally))
}

fn walk(
    data: &mut [u8],
    start: usize,
    end: usize,
    shift: Option<i64>,
    tally: &mut Tally,
) -> Result<(), String> {
    let mut at = start;
    while at + 8 <= end {
        let size32 = u32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes"));
        let kind: [u8; 4] = data[at + 4..at + 8].try_into().expect("4 bytes");
        let (header, size) = match size32 {
            0 => (8, end - at),
            1 => {
                let large = data.get(at + 8..at + 16).ok_or("a box size is cut off")?;
                (
                    16,
                    usize::try_from(u64::from_be_bytes(large.try_into().expect("8 bytes")))
                        .unwrap_or(usize::MAX),
                )
            }
            n => (8, n as usize),
        };
        if size < header || at.checked_add(size).is_none_or(|e| e > end) {
            return Err(format!(
                "box `{}` at byte {at} runs past its parent",
                String::from_utf8_lossy(&kind)
            ));
        }
        let body = at + header..at + size;
        let name = String::from_utf8_lossy(&kind).into_owned();
        if METADATA.contains(&&kind) {
            data[at + 4..at + 8].copy_from_slice(b"free");
            data[body].fill(0);
            *tally
                .entry((Action::Removed, format!("video `{name}` box")))
                .or_default() += 1;
        } else if CONTAINERS.contains(&&kind) {
            walk(data, body.start, body.end, shift, tally)?;
        } else if TIMED.contains(&&kind) {
            shift_times(&mut data[body], shift);
            let action = if shift.is_some() {
                Action::DateShifted
            } else {
                Action::Emptied
            };
            *tally
                .entry((
                    action,
                    format!("video `{name}` creation and modification time"),
                ))
                .or_default() += 1;
        }
        at += size;
    }
    Ok(())
}

/// The creation and modification times (seconds since 1904) of a full box whose body is
/// `body`: version 0 holds them as 32-bit numbers after the version and flags, version 1 as 64-bit.
fn shift_times(body: &mut [u8], shift: Option<i64>) {
    let Some(&version) = body.first() else { return };
    let width = if version == 1 { 8 } else { 4 };
    for field in 0..2 {
        let at = 4 + field * width;
        let Some(raw) = body.get_mut(at..at + width) else {
            return;
        };
        let value = if width == 8 {
            i64::from_be_bytes(raw.try_into().expect("8 bytes"))
        } else {
            i64::from(u32::from_be_bytes(raw.try_into().expect("4 bytes")))
        };
        let new = match shift {
            Some(s) if value != 0 => (value + s).max(0),
            _ => 0,
        };
        if width == 8 {
            raw.copy_from_slice(&new.to_be_bytes());
        } else {
            raw.copy_from_slice(&(new.min(i64::from(u32::MAX)) as u32).to_be_bytes());
        }
    }
}
