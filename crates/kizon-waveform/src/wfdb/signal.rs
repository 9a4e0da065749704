//! WFDB signal files (`signal(5)`): frames of multiplexed samples, in one of the storage formats.
//!
//! | format | encoding |
//! |---|---|
//! | 8 | 8-bit first differences (sample = previous + d, starting from the initial value) |
//! | 16 / 61 | 16-bit two's complement, little / big endian |
//! | 80 / 160 | 8-bit / 16-bit offset binary (minus 128 / 32768) |
//! | 24 / 32 | 24-bit / 32-bit two's complement, little endian |
//! | 212 | two 12-bit samples in 3 bytes (MIT-BIH) |
//! | 310 | three 10-bit samples in two 16-bit words, low bit of each word unused |
//! | 311 | three 10-bit samples in one 32-bit word, top two bits unused |
//!
//! Packed formats pack consecutive samples of the multiplexed stream, across signals. Sample values
//! are returned exactly as stored (format 212's -2048 is WFDB's "invalid sample" marker).

use serde::Serialize;

use super::header::WfdbHeader;
use crate::bytes::slice;
use crate::error::{Error, Result};

/// The decoded signals of one signal file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WfdbSamples {
    /// Index in `WfdbHeader::signals` of each decoded signal.
    pub signal_indices: Vec<usize>,
    /// Digital samples, one vector per entry of `signal_indices`.
    pub samples: Vec<Vec<i32>>,
    pub warnings: Vec<String>,
}

/// Decodes every signal the header stores in `file_name`, from that file's bytes.
pub fn read_signal_file(header: &WfdbHeader, file_name: &str, bytes: &[u8]) -> Result<WfdbSamples> {
    let signal_indices: Vec<usize> = header
        .signals
        .iter()
        .enumerate()
        .filter(|(_, s)| s.file_name == file_name)
        .map(|(i, _)| i)
        .collect();
    let signals: Vec<_> = signal_indices
        .iter()
        .filter_map(|i| header.signals.get(*i))
        .collect();
    let first = signals.first().ok_or_else(|| {
        Error::unsupported(
            "signal file",
            format!("{file_name:?} is not named in the header"),
        )
    })?;
    if let Some(other) = signals
        .iter()
        .find(|s| s.format != first.format || s.byte_offset != first.byte_offset)
    {
        return Err(Error::unsupported(
            "signal file layout",
            format!(
                "{file_name:?} mixes format/offset {}+{} and {}+{}",
                first.format, first.byte_offset, other.format, other.byte_offset
            ),
        ));
    }
    let mut warnings = Vec::new();
    if signals.iter().any(|s| s.skew != 0) {
        warnings.push(format!(
            "{file_name}: skew is not applied; samples are returned as stored"
        ));
    }
    let frame_len = signals.iter().try_fold(0usize, |acc, s| {
        acc.checked_add(s.samples_per_frame as usize)
    });
    let frame_len = frame_len
        .filter(|n| *n > 0)
        .ok_or_else(|| Error::unsupported("samples per frame", "zero or overflowing"))?;
    let offset = usize::try_from(first.byte_offset).unwrap_or(usize::MAX);
    let data = slice(
        bytes,
        offset,
        bytes.len().saturating_sub(offset),
        "WFDB byte offset",
    )?;
    let limit = header.samples.map_or(usize::MAX, |n| {
        usize::try_from(n)
            .unwrap_or(usize::MAX)
            .saturating_mul(frame_len)
    });
    let stream = decode_stream(first.format, data, limit, &mut warnings)?;

    let frames = stream.len() / frame_len;
    if let Some(declared) = header.samples
        && (frames as u64) < declared
    {
        warnings.push(format!(
            "{file_name}: {frames} of {declared} declared samples per signal present"
        ));
    }
    let mut samples: Vec<Vec<i32>> = signals
        .iter()
        .map(|s| Vec::with_capacity(frames.saturating_mul(s.samples_per_frame as usize)))
        .collect();
    for frame in stream.chunks_exact(frame_len) {
        let mut pos = 0;
        for (out, s) in samples.iter_mut().zip(&signals) {
            let n = s.samples_per_frame as usize;
            out.extend_from_slice(frame.get(pos..pos + n).unwrap_or_default());
            pos += n;
        }
    }
    if first.format == 8 {
        for (out, s) in samples.iter_mut().zip(&signals) {
            let mut value = s.initial_value.unwrap_or(s.adc_zero) as i32;
            for d in out.iter_mut() {
                value = value.wrapping_add(*d);
                *d = value;
            }
        }
    }
    let complete = header.samples.is_some_and(|n| frames as u64 == n);
    for (out, (i, s)) in samples.iter().zip(signal_indices.iter().zip(&signals)) {
        if let (Some(expected), true) = (s.checksum, complete) {
            let actual = checksum(out);
            if actual != expected {
                warnings.push(format!(
                    "signal {} ({}): checksum {actual} differs from header {expected}",
                    i + 1,
                    s.description
                ));
            }
        }
        // Format 8 stores differences from the initial value, so only the others can be checked.
        if let (Some(first), Some(init), false) = (out.first(), s.initial_value, s.format == 8)
            && i64::from(*first) != init
        {
            warnings.push(format!("signal {} ({}): first sample {first} differs from the header's initial value {init}", i + 1, s.description));
        }
    }
    Ok(WfdbSamples {
        signal_indices,
        samples,
        warnings,
    })
}

/// WFDB checksum: the sum of all samples, modulo 2^16, as a signed 16-bit number.
pub fn checksum(samples: &[i32]) -> i16 {
    samples
        .iter()
        .fold(0i16, |acc, v| acc.wrapping_add(*v as i16))
}

/// The multiplexed sample stream of a file, at most `limit` samples.
fn decode_stream(
    format: u16,
    data: &[u8],
    limit: usize,
    warnings: &mut Vec<String>,
) -> Result<Vec<i32>> {
    let mut out = Vec::with_capacity(limit.min(data.len()));
    let tail = match format {
        8 => each::<1>(data, limit, &mut out, |[b]| i32::from(b as i8)),
        80 => each::<1>(data, limit, &mut out, |[b]| i32::from(b) - 128),
        16 => each::<2>(data, limit, &mut out, |b| i32::from(i16::from_le_bytes(b))),
        61 => each::<2>(data, limit, &mut out, |b| i32::from(i16::from_be_bytes(b))),
        160 => each::<2>(data, limit, &mut out, |b| {
            i32::from(u16::from_le_bytes(b)) - 32768
        }),
        24 => each::<3>(data, limit, &mut out, |[a, b, c]| {
            i32::from_le_bytes([0, a, b, c]) >> 8
        }),
        32 => each::<4>(data, limit, &mut out, i32::from_le_bytes),
        212 => {
            let tail = each_group::<3, 2>(data, limit, &mut out, |[b0, b1, b2]| {
                [
                    sext(u32::from(b0) | (u32::from(b1 & 0x0F) << 8), 12),
                    sext(u32::from(b2) | (u32::from(b1 & 0xF0) << 4), 12),
                ]
            });
            // An odd total leaves one sample in two bytes.
            match tail {
                [b0, b1] if out.len() < limit => {
                    out.push(sext(u32::from(*b0) | (u32::from(b1 & 0x0F) << 8), 12));
                    &[][..]
                }
                t => t,
            }
        }
        310 => each_group::<4, 3>(data, limit, &mut out, |b| {
            let (w0, w1) = (
                u32::from(u16::from_le_bytes([b[0], b[1]])),
                u32::from(u16::from_le_bytes([b[2], b[3]])),
            );
            [
                sext((w0 >> 1) & 0x3FF, 10),
                sext((w1 >> 1) & 0x3FF, 10),
                sext(((w0 >> 11) & 0x1F) | (((w1 >> 11) & 0x1F) << 5), 10),
            ]
        }),
        311 => each_group::<4, 3>(data, limit, &mut out, |b| {
            let w = u32::from_le_bytes(b);
            [
                sext(w & 0x3FF, 10),
                sext((w >> 10) & 0x3FF, 10),
                sext((w >> 20) & 0x3FF, 10),
            ]
        }),
        other => return Err(Error::unsupported("WFDB storage format", other.to_string())),
    };
    if out.len() < limit && !tail.is_empty() {
        warnings.push(format!(
            "{} trailing bytes do not form a whole format-{format} sample group",
            tail.len()
        ));
    }
    Ok(out)
}

/// One sample per `N` bytes; returns the bytes left over.
fn each<'a, const N: usize>(
    data: &'a [u8],
    limit: usize,
    out: &mut Vec<i32>,
    f: impl Fn([u8; N]) -> i32,
) -> &'a [u8] {
    each_group::<N, 1>(data, limit, out, |b| [f(b)])
}

/// `K` samples per `N` bytes, stopping at `limit` samples; returns the bytes left over.
fn each_group<'a, const N: usize, const K: usize>(
    data: &'a [u8],
    limit: usize,
    out: &mut Vec<i32>,
    f: impl Fn([u8; N]) -> [i32; K],
) -> &'a [u8] {
    let chunks = data.chunks_exact(N);
    let rest = chunks.remainder();
    for chunk in chunks {
        if out.len() >= limit {
            return &[];
        }
        let mut group = [0u8; N];
        group.copy_from_slice(chunk);
        let take = K.min(limit - out.len());
        out.extend_from_slice(&f(group)[..take]);
    }
    rest
}

/// Sign-extends the low `bits` bits of `v`.
fn sext(v: u32, bits: u32) -> i32 {
    ((v << (32 - bits)) as i32) >> (32 - bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_212_packs_two_12_bit_samples_in_three_bytes() {
        let mut w = Vec::new();
        // 995 = 0x3E3, 1011 = 0x3F3: b0 = E3, b1 = (3 << 4) | 3, b2 = F3
        assert_eq!(
            decode_stream(212, &[0xE3, 0x33, 0xF3], 10, &mut w).unwrap(),
            vec![995, 1011]
        );
        assert_eq!(
            decode_stream(212, &[0xFF, 0x0F, 0x00, 0x01, 0x08], 10, &mut w).unwrap(),
            vec![-1, 0, -2047]
        );
        assert!(w.is_empty());
    }

    #[test]
    fn format_311_and_310_unpack_three_10_bit_samples() {
        let mut w = Vec::new();
        let word: u32 = 5 | (0x3FF << 10) | (512 << 20);
        assert_eq!(
            decode_stream(311, &word.to_le_bytes(), 10, &mut w).unwrap(),
            vec![5, -1, -512]
        );
        let (a, b, c) = (7u32, 0x3FEu32, 0b10110_00101u32);
        let w0 = ((a << 1) | ((c & 0x1F) << 11)) as u16;
        let w1 = ((b << 1) | ((c >> 5) << 11)) as u16;
        let bytes = [w0.to_le_bytes(), w1.to_le_bytes()].concat();
        assert_eq!(
            decode_stream(310, &bytes, 10, &mut w).unwrap(),
            vec![7, -2, sext(c, 10)]
        );
    }

    #[test]
    fn checksum_wraps_like_wfdb() {
        assert_eq!(checksum(&[30000, 30000]), (60000i32 - 65536) as i16);
    }
}
