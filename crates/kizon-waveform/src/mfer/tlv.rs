//! MFER item framing, shared by the reader and the writer: tag, (channel number), length, value.

use crate::bytes::Cursor;
use crate::error::{Error, Result};

/// Length of an item: definite, or indefinite (0x80; ends at a 0x00 0x00 item).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Length {
    Definite(usize),
    Indefinite,
}

/// Reads a length: one byte below 0x80, else `0x80 | n` followed by `n` big-endian bytes.
pub(crate) fn read_length(cur: &mut Cursor<'_>) -> Result<Length> {
    let at = cur.pos();
    let first = cur.u8("MFER length")?;
    if first < 0x80 {
        return Ok(Length::Definite(usize::from(first)));
    }
    let n = usize::from(first & 0x7F);
    if n == 0 {
        return Ok(Length::Indefinite);
    }
    let bytes = cur.take(n, "MFER long length")?;
    crate::bytes::uint(bytes, false)
        .and_then(|v| usize::try_from(v).ok())
        .map(Length::Definite)
        .ok_or_else(|| {
            Error::bad_field(
                "MFER length",
                at,
                "at most 8 length bytes",
                format!("{n} bytes"),
            )
        })
}

/// Reads a channel number: 7 bits per byte, most significant first, high bit set on all but the last.
pub(crate) fn read_channel_number(cur: &mut Cursor<'_>) -> Result<u64> {
    let at = cur.pos();
    let mut value: u64 = 0;
    for _ in 0..9 {
        let b = cur.u8("MFER channel number")?;
        value = (value << 7) | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(Error::bad_field(
        "MFER channel number",
        at,
        "at most 9 bytes",
        "more",
    ))
}

pub(crate) fn write_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

pub(crate) fn write_channel_number(out: &mut Vec<u8>, n: u64) {
    let groups = (1..10).find(|g| n >> (7 * g) == 0).unwrap_or(10);
    for g in (0..groups).rev() {
        let more = if g > 0 { 0x80 } else { 0 };
        out.push(((n >> (7 * g)) & 0x7F) as u8 | more);
    }
}

/// Appends a complete item.
pub(crate) fn write_item(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    write_length(out, value.len());
    out.extend_from_slice(value);
}

/// `v` in the fewest two's-complement bytes that sign-extend back to it, in the file's byte order.
pub(crate) fn int_bytes(v: i64, little_endian: bool) -> Vec<u8> {
    let n = (1..=8)
        .find(|n| crate::bytes::int(&v.to_be_bytes()[8 - n..], false) == Some(v))
        .unwrap_or(8);
    order(&v.to_be_bytes()[8 - n..], little_endian)
}

/// `v` in the fewest unsigned bytes (at least one), in the file's byte order.
pub(crate) fn uint_bytes(v: u64, little_endian: bool) -> Vec<u8> {
    let be = v.to_be_bytes();
    let skip = be.iter().take_while(|b| **b == 0).count().min(7);
    order(&be[skip..], little_endian)
}

/// Reorders big-endian bytes into the file's byte order.
pub(crate) fn order(be: &[u8], little_endian: bool) -> Vec<u8> {
    if little_endian {
        be.iter().rev().copied().collect()
    } else {
        be.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_channel_numbers_round_trip() {
        for len in [0usize, 1, 127, 128, 255, 256, 1_300_000] {
            let mut out = Vec::new();
            write_length(&mut out, len);
            assert_eq!(
                read_length(&mut Cursor::new(&out)).unwrap(),
                Length::Definite(len)
            );
        }
        for n in [0u64, 1, 127, 128, 300, u64::from(u32::MAX)] {
            let mut out = Vec::new();
            write_channel_number(&mut out, n);
            assert_eq!(read_channel_number(&mut Cursor::new(&out)).unwrap(), n);
        }
        assert_eq!(int_bytes(360, false), vec![0x01, 0x68]);
        assert_eq!(int_bytes(-6, true), vec![0xFA]);
        assert_eq!(uint_bytes(0, true), vec![0]);
    }
}
