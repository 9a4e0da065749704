//! A bounded view of a file too large to hold in memory, for inspection at ingest.
//!
//! An ISO-BMFF video (MP4/MOV) keeps its metadata in small boxes (`ftyp`, `moov`, `udta`,
//! `meta`, `uuid`) and its media in `mdat`, which may be gigabytes and may come before `moov`.
//! The view walks the top-level boxes by seeking, copies every box but the media ones, and
//! writes each media box (`mdat`, `free`, `skip`, `wide`) as an empty box of the same type: the
//! metadata reads exactly as from the whole file, at the cost of a few small reads.
//!
//! Anything else is viewed as its first `limit` bytes; when the format reader then finds the
//! content cut short, the item's problem says why, the same on every machine.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::AppError;
use crate::error::io;

/// What inspection sees of a large file.
pub struct View {
    pub bytes: Vec<u8>,
    /// Set when the view is a prefix: the problem to record if the reader finds it cut short.
    pub partial: Option<String>,
}

const MEDIA_BOXES: [&[u8; 4]; 4] = [b"mdat", b"free", b"skip", b"wide"];

/// Top-level boxes read from a large file; real files have a handful.
const MAX_TOP_LEVEL_BOXES: usize = 10_000;

/// A view of `path` (of `size` bytes) holding at most about `limit` bytes.
pub fn view(path: &Path, size: u64, limit: u64) -> Result<View, AppError> {
    let mut file = File::open(path).map_err(io(path))?;
    let mut head = [0u8; 8];
    let is_bmff = file.read_exact(&mut head).is_ok() && &head[4..8] == b"ftyp";
    if is_bmff && let Some(bytes) = bmff_view(&mut file, size, limit).map_err(io(path))? {
        return Ok(View {
            bytes,
            partial: None,
        });
    }
    file.seek(SeekFrom::Start(0)).map_err(io(path))?;
    let mut bytes = Vec::with_capacity(limit as usize);
    file.take(limit).read_to_end(&mut bytes).map_err(io(path))?;
    Ok(View {
        bytes,
        partial: Some(format!(
            "{size} bytes, more than the {} MiB kizon inspects whole: read from its first {} MiB, which do not hold all of its structure",
            limit >> 20,
            limit >> 20
        )),
    })
}

/// The top-level boxes of an ISO-BMFF file with the media boxes emptied; `None` when the box
/// structure does not hold (then the prefix view is used and the reader names the problem).
fn bmff_view(file: &mut File, size: u64, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    let mut at = 0u64;
    let mut boxes = 0usize;
    while at + 8 <= size {
        // Bounded in boxes and in bytes, emptied media boxes included: a file of nothing but
        // tiny `free` boxes falls back to the prefix view.
        boxes += 1;
        if boxes > MAX_TOP_LEVEL_BOXES || out.len() as u64 + 16 > limit {
            return Ok(None);
        }
        file.seek(SeekFrom::Start(at))?;
        let mut header = [0u8; 16];
        file.read_exact(&mut header[..8])?;
        let kind: [u8; 4] = header[4..8].try_into().expect("4 bytes");
        let (box_size, header_len) = match u32::from_be_bytes(header[..4].try_into().expect("4")) {
            0 => (size - at, 8u64),
            1 => {
                file.read_exact(&mut header[8..16])?;
                (
                    u64::from_be_bytes(header[8..16].try_into().expect("8")),
                    16u64,
                )
            }
            n => (u64::from(n), 8u64),
        };
        if box_size < header_len || at.saturating_add(box_size) > size {
            return Ok(None);
        }
        if MEDIA_BOXES.contains(&&kind) {
            out.extend_from_slice(&8u32.to_be_bytes());
            out.extend_from_slice(&kind);
        } else {
            if out.len() as u64 + box_size > limit {
                return Ok(None);
            }
            file.seek(SeekFrom::Start(at))?;
            let start = out.len();
            out.resize(start + box_size as usize, 0);
            file.read_exact(&mut out[start..])?;
        }
        at += box_size;
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bmff_box(kind: &[u8; 4], content: &[u8]) -> Vec<u8> {
        let mut b = ((content.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(content);
        b
    }

    #[test]
    fn a_large_mdat_is_emptied_and_the_other_boxes_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.mp4");
        let mut bytes = bmff_box(b"ftyp", b"isom\0\0\0\0isom");
        bytes.extend(bmff_box(b"mdat", &vec![7u8; 100_000]));
        let moov = bmff_box(b"moov", &bmff_box(b"udta", b"hello"));
        bytes.extend(&moov);
        std::fs::write(&path, &bytes).unwrap();
        let view = view(&path, bytes.len() as u64, 4096).unwrap();
        assert!(view.partial.is_none());
        let mut expected = bmff_box(b"ftyp", b"isom\0\0\0\0isom");
        expected.extend(bmff_box(b"mdat", b""));
        expected.extend(&moov);
        assert_eq!(view.bytes, expected);
    }

    #[test]
    fn anything_else_is_a_prefix_with_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.bin");
        std::fs::write(&path, vec![1u8; 10_000]).unwrap();
        let view = view(&path, 10_000, 4096).unwrap();
        assert_eq!(view.bytes.len(), 4096);
        assert!(view.partial.unwrap().contains("10000 bytes"));
    }
}
