//! Video containers.
//!
//! ISO base media files (MP4, QuickTime MOV, M4V, 3GP; ISO/IEC 14496-12) are parsed box by box
//! for what Q1 and Q7 need: duration, frame count, codec, frame size, creation time and the
//! metadata tags (title, comment, author, location…) that may identify a person. AVI (RIFF) and
//! Matroska/WebM are recognised by signature only. Box sizes are checked against the bytes
//! present, so a truncated or hostile file yields a `problem`, never a panic.

use std::collections::BTreeMap;

use crate::{Inspection, ItemKind, Metadata};

/// Seconds between 1904-01-01 (the ISO-BMFF epoch) and 1970-01-01.
const EPOCH_1904_TO_1970: i64 = 2_082_844_800;

pub fn inspect(bytes: &[u8]) -> Option<Inspection> {
    if bytes.get(4..8) == Some(b"ftyp") {
        return Some(inspect_bmff(bytes));
    }
    let video = |container: &str| Inspection {
        kind: Some(ItemKind::Video),
        metadata: Metadata {
            container: Some(container.into()),
            ..Metadata::default()
        },
        problem: None,
        patient_id: None,
    };
    if bytes.get(0..4) == Some(b"RIFF") && bytes.get(8..12) == Some(b"AVI ") {
        return Some(video("avi"));
    }
    if bytes.get(0..4) == Some(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(video("matroska"));
    }
    None
}

/// One box: its type and its payload (after the header).
struct Bmff<'a> {
    kind: [u8; 4],
    body: &'a [u8],
}

/// The boxes in `data`, or an error naming the box that overruns it.
fn boxes(data: &[u8]) -> Result<Vec<Bmff<'_>>, String> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 8 <= data.len() {
        let size32 = u32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes"));
        let kind: [u8; 4] = data[at + 4..at + 8].try_into().expect("4 bytes");
        let (header, size) = match size32 {
            0 => (8usize, data.len() - at),
            1 => {
                let large = data
                    .get(at + 8..at + 16)
                    .ok_or_else(|| format!("box `{}` truncated in its size", fourcc(&kind)))?;
                (
                    16,
                    usize::try_from(u64::from_be_bytes(large.try_into().expect("8 bytes")))
                        .unwrap_or(usize::MAX),
                )
            }
            n => (8, n as usize),
        };
        if size < header || at.checked_add(size).is_none_or(|end| end > data.len()) {
            return Err(format!(
                "box `{}` at byte {at} declares {size} bytes beyond the end of the file",
                fourcc(&kind)
            ));
        }
        out.push(Bmff {
            kind,
            body: &data[at + header..at + size],
        });
        at += size;
    }
    Ok(out)
}

fn fourcc(kind: &[u8; 4]) -> String {
    kind.iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect()
}

fn child<'a>(parent: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(parent)
        .ok()?
        .into_iter()
        .find(|b| &b.kind == kind)
        .map(|b| b.body)
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn inspect_bmff(bytes: &[u8]) -> Inspection {
    let mut metadata = Metadata {
        container: Some("iso-bmff".into()),
        ..Metadata::default()
    };
    let mut problem = None;
    let top = match boxes(bytes) {
        Ok(top) => top,
        Err(e) => {
            problem = Some(e);
            // Read what precedes the bad box.
            partial_boxes(bytes)
        }
    };
    for b in &top {
        match &b.kind {
            b"ftyp" => {
                if let Some(brand) = b.body.get(0..4) {
                    metadata.tags.insert(
                        "brand".into(),
                        String::from_utf8_lossy(brand).trim().to_owned(),
                    );
                }
            }
            b"moov" => read_moov(b.body, &mut metadata),
            _ => {}
        }
    }
    if !top.iter().any(|b| &b.kind == b"moov") && problem.is_none() {
        problem = Some("no `moov` box: the file has no track information (truncated?)".into());
    }
    Inspection {
        kind: Some(ItemKind::Video),
        metadata,
        problem,
        patient_id: None,
    }
}

/// The boxes before the first malformed one.
fn partial_boxes(bytes: &[u8]) -> Vec<Bmff<'_>> {
    let mut end = 0usize;
    let mut good = Vec::new();
    while end + 8 <= bytes.len() {
        let size = u32_at(bytes, end).unwrap_or(0) as usize;
        if size < 8 || end + size > bytes.len() {
            break;
        }
        good.push(Bmff {
            kind: bytes[end + 4..end + 8].try_into().expect("4 bytes"),
            body: &bytes[end + 8..end + size],
        });
        end += size;
    }
    good
}

fn read_moov(moov: &[u8], metadata: &mut Metadata) {
    let Ok(children) = boxes(moov) else { return };
    for b in &children {
        match &b.kind {
            b"mvhd" => {
                let version = b.body.first().copied().unwrap_or(0);
                let (creation, timescale, duration) = if version == 1 {
                    (u64_at(b.body, 4), u32_at(b.body, 20), u64_at(b.body, 24))
                } else {
                    (
                        u32_at(b.body, 4).map(u64::from),
                        u32_at(b.body, 12),
                        u32_at(b.body, 16).map(u64::from),
                    )
                };
                if let (Some(scale), Some(duration)) = (timescale, duration)
                    && scale > 0
                {
                    metadata.duration_s = Some(duration as f64 / f64::from(scale));
                }
                metadata.creation_time = creation
                    .filter(|&c| c > 0)
                    .and_then(|c| iso_datetime(c as i64 - EPOCH_1904_TO_1970));
            }
            b"trak" => read_trak(b.body, metadata),
            b"udta" => read_tags(b.body, &mut metadata.tags),
            _ => {}
        }
    }
}

fn read_trak(trak: &[u8], metadata: &mut Metadata) {
    let Some(mdia) = child(trak, b"mdia") else {
        return;
    };
    let handler = child(mdia, b"hdlr")
        .and_then(|h| h.get(8..12))
        .map(|h| h.to_vec());
    if handler.as_deref() != Some(b"vide") || metadata.codec.is_some() {
        return;
    }
    if let Some(tkhd) = child(trak, b"tkhd") {
        // Width and height are the last two 16.16 fixed-point fields.
        if tkhd.len() >= 8 {
            let width = u32_at(tkhd, tkhd.len() - 8).map(|w| w >> 16);
            let height = u32_at(tkhd, tkhd.len() - 4).map(|h| h >> 16);
            metadata.width = width.filter(|&w| w > 0);
            metadata.height = height.filter(|&h| h > 0);
        }
    }
    let Some(stbl) = child(mdia, b"minf").and_then(|minf| child(minf, b"stbl")) else {
        return;
    };
    if let Some(stsd) = child(stbl, b"stsd") {
        // version/flags (4), entry count (4), then the first sample entry: size (4), format (4),
        // reserved (6), data reference index (2), pre-defined (16), width (2), height (2).
        if let Some(format) = stsd.get(12..16) {
            metadata.codec = Some(String::from_utf8_lossy(format).trim().to_owned());
        }
        if metadata.width.is_none() {
            metadata.width = u16_at(stsd, 8 + 32).map(u32::from).filter(|&w| w > 0);
            metadata.height = u16_at(stsd, 8 + 34).map(u32::from).filter(|&h| h > 0);
        }
    }
    if let Some(stsz) = child(stbl, b"stsz") {
        metadata.frames = u32_at(stsz, 8).map(u64::from);
    } else if let Some(stz2) = child(stbl, b"stz2") {
        metadata.frames = u32_at(stz2, 8).map(u64::from);
    }
}

/// QuickTime `©xxx` user-data atoms and iTunes-style `meta`/`ilst` items, as name → text.
fn read_tags(udta: &[u8], tags: &mut BTreeMap<String, String>) {
    let Ok(children) = boxes(udta) else { return };
    for b in children {
        if &b.kind == b"meta" {
            // ISO `meta` is a full box (4 bytes version/flags); QuickTime's is not.
            let body = if b.body.get(4..8) == Some(b"hdlr") {
                b.body
            } else {
                b.body.get(4..).unwrap_or_default()
            };
            if let Some(ilst) = child(body, b"ilst") {
                for item in boxes(ilst).unwrap_or_default() {
                    if let Some(data) = child(item.body, b"data").and_then(|d| d.get(8..)) {
                        insert_tag(tags, &item.kind, data);
                    }
                }
            }
        } else if b.kind[0] == 0xA9 {
            // [u16 length, u16 language, text]
            let len = u16_at(b.body, 0).unwrap_or(0) as usize;
            if let Some(text) = b.body.get(4..4 + len) {
                insert_tag(tags, &b.kind, text);
            }
        }
    }
}

fn insert_tag(tags: &mut BTreeMap<String, String>, kind: &[u8; 4], value: &[u8]) {
    let name = match kind {
        [0xA9, b'n', b'a', b'm'] => "title".to_owned(),
        [0xA9, b'c', b'm', b't'] => "comment".to_owned(),
        [0xA9, b'A', b'R', b'T'] => "artist".to_owned(),
        [0xA9, b'a', b'u', b't'] => "author".to_owned(),
        [0xA9, b'd', b'a', b'y'] => "date".to_owned(),
        [0xA9, b'x', b'y', b'z'] => "location".to_owned(),
        [0xA9, b't', b'o', b'o'] => "encoder".to_owned(),
        [0xA9, b'd', b'e', b's'] | b"desc" => "description".to_owned(),
        other => fourcc(other).trim_start_matches('?').to_owned(),
    };
    let text = String::from_utf8_lossy(value)
        .trim_matches(char::from(0))
        .trim()
        .to_owned();
    if !text.is_empty() {
        tags.insert(name, text);
    }
}

/// Unix seconds as `YYYY-MM-DDThh:mm:ssZ` (civil-from-days, Hinnant's algorithm).
fn iso_datetime(unix: i64) -> Option<String> {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (1900..=9999).contains(&year).then(|| {
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_datetime_of_known_instants() {
        assert_eq!(iso_datetime(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(iso_datetime(1_709_251_199).unwrap(), "2024-02-29T23:59:59Z");
        assert_eq!(iso_datetime(951_782_400).unwrap(), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn hostile_box_sizes_are_problems_not_panics() {
        let mut bytes = vec![
            0, 0, 0, 16, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm', 0, 0, 2, 0,
        ];
        bytes.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, b'm', b'o', b'o', b'v']);
        let inspection = inspect(&bytes).unwrap();
        assert!(inspection.problem.unwrap().contains("moov"));
        bytes.extend_from_slice(&[0, 0, 0, 1, b'x', b'x', b'x', b'x', 0xFF]);
        inspect(&bytes).unwrap();
    }
}
