//! RLE Lossless (1.2.840.10008.1.2.5), DICOM PS3.5 Annex G.
//!
//! A frame is one RLE image (G.2): a 64-byte header of sixteen 32-bit little-endian values —
//! the number of segments (at most 15), then the offset of each segment from the start of the
//! header — followed by the segments. Each segment holds one byte plane (G.2: the most
//! significant byte of every sample first), for sample 0, then sample 1, …, and is a
//! PackBits byte stream (G.3.1): a header byte `n` in 0..=127 copies the next `n + 1` bytes,
//! `n` in -127..=-1 repeats the next byte `1 - n` times, and -128 does nothing.

use kizon_formats::dicom::PixelData;

use crate::{ImageInfo, PixelError, interpret};

fn corrupt(frame: u32, message: impl Into<String>) -> PixelError {
    PixelError::Corrupt {
        frame,
        codec: "RLE",
        message: message.into(),
    }
}

/// Decodes one RLE frame into pixel-interleaved values.
pub(crate) fn frame(
    data: &[u8],
    pixels: &PixelData<'_>,
    info: &ImageInfo,
    index: u32,
) -> Result<Vec<i64>, PixelError> {
    let bytes_per_sample = match pixels.bits_allocated {
        8 => 1usize,
        16 => 2,
        32 => 4,
        other => {
            return Err(PixelError::Unsupported(format!(
                "RLE with Bits Allocated {other}"
            )));
        }
    };
    let spp = info.samples_per_pixel as usize;
    let header = data
        .get(..64)
        .ok_or_else(|| corrupt(index, "the frame is shorter than the 64-byte RLE header"))?;
    let word = |i: usize| {
        u32::from_le_bytes([
            header[4 * i],
            header[4 * i + 1],
            header[4 * i + 2],
            header[4 * i + 3],
        ]) as usize
    };
    let segments = word(0);
    if segments != spp * bytes_per_sample {
        return Err(corrupt(
            index,
            format!(
                "{segments} segments where {spp} samples of {bytes_per_sample} bytes need {}",
                spp * bytes_per_sample
            ),
        ));
    }
    let pixel_count = info.rows as usize * info.columns as usize;
    let mut planes: Vec<Vec<u8>> = Vec::with_capacity(segments);
    for s in 0..segments {
        let start = word(s + 1);
        let end = if s + 1 < segments {
            word(s + 2)
        } else {
            data.len()
        };
        if start < 64 || start > end || end > data.len() {
            return Err(corrupt(
                index,
                format!("segment {s} lies at bytes {start}..{end} of {}", data.len()),
            ));
        }
        planes.push(unpack(&data[start..end], pixel_count).ok_or_else(|| {
            corrupt(
                index,
                format!("segment {s} decodes to fewer than {pixel_count} bytes"),
            )
        })?);
    }
    let (bs, signed) = (info.bits_stored, info.signed);
    let mut out = Vec::with_capacity(pixel_count * spp);
    #[allow(clippy::needless_range_loop)]
    for p in 0..pixel_count {
        for sample in 0..spp {
            let mut raw = 0u64;
            for b in 0..bytes_per_sample {
                raw = (raw << 8) | u64::from(planes[sample * bytes_per_sample + b][p]);
            }
            out.push(interpret(raw, bs, signed));
        }
    }
    Ok(out)
}

/// PackBits-decodes `segment` into exactly `length` bytes (G.3.1); `None` when it holds fewer.
/// Bytes past `length` (padding written by some encoders) are ignored.
fn unpack(segment: &[u8], length: usize) -> Option<Vec<u8>> {
    // Two bytes expand to at most 128: a shorter segment cannot hold `length` bytes, and is
    // refused before anything is allocated for it.
    if length > segment.len().saturating_mul(64) {
        return None;
    }
    let mut out = Vec::with_capacity(length);
    let mut at = 0;
    while out.len() < length && at < segment.len() {
        let n = segment[at] as i8;
        at += 1;
        if n >= 0 {
            let count = n as usize + 1;
            let literal = segment.get(at..at + count)?;
            out.extend_from_slice(literal);
            at += count;
        } else if n != -128 {
            let count = 1 - n as isize;
            let value = *segment.get(at)?;
            at += 1;
            out.resize(out.len() + count as usize, value);
        }
    }
    if out.len() < length {
        return None;
    }
    out.truncate(length);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::unpack;

    #[test]
    fn packbits_literal_and_replicate_runs() {
        // 2 literal bytes, then 4 × 0x07, then a no-op.
        let segment = [1, 0xAA, 0xBB, (-3i8) as u8, 0x07, 0x80];
        assert_eq!(unpack(&segment, 6).unwrap(), vec![0xAA, 0xBB, 7, 7, 7, 7]);
        assert_eq!(unpack(&segment, 7), None);
        assert_eq!(unpack(&[5, 1], 6), None);
    }
}
