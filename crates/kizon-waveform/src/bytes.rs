//! Bounds-checked access to a byte slice. Every reader goes through these helpers so that no
//! index can go out of range: a short file becomes [`Error::Truncated`], never a panic.

use crate::error::{Error, Result};

/// `bytes[offset..offset + len]`, or a `Truncated` error naming `what`.
pub(crate) fn slice<'a>(
    bytes: &'a [u8],
    offset: usize,
    len: usize,
    what: &str,
) -> Result<&'a [u8]> {
    offset
        .checked_add(len)
        .and_then(|end| bytes.get(offset..end))
        .ok_or_else(|| Error::truncated(what, offset, len, bytes.len().saturating_sub(offset)))
}

/// A forward-only reader over a byte slice.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8]> {
        let s = slice(self.bytes, self.pos, len, what)?;
        self.pos += len; // cannot overflow: slice() checked pos + len
        Ok(s)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn u16_le(&mut self, what: &str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
}

/// Unsigned big- or little-endian integer of 0..=8 bytes (MFER stores counts in as few bytes as needed).
pub(crate) fn uint(bytes: &[u8], little_endian: bool) -> Option<u64> {
    if bytes.len() > 8 {
        return None;
    }
    let fold = |acc: u64, b: &u8| (acc << 8) | u64::from(*b);
    Some(if little_endian {
        bytes.iter().rev().fold(0, fold)
    } else {
        bytes.iter().fold(0, fold)
    })
}

/// Two's-complement signed integer of 1..=8 bytes, sign-extended.
pub(crate) fn int(bytes: &[u8], little_endian: bool) -> Option<i64> {
    let n = bytes.len();
    if n == 0 {
        return Some(0);
    }
    let raw = uint(bytes, little_endian)?;
    let shift = 64 - 8 * n as u32;
    Some(((raw << shift) as i64) >> shift)
}

/// Text of a fixed-width ASCII field with trailing spaces and NULs removed. Bytes outside ASCII are
/// replaced (lossy), so identifying text is never silently dropped.
pub(crate) fn ascii_field(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches([' ', '\0'])
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_sign_extends_any_width() {
        assert_eq!(int(&[0xff], false), Some(-1));
        assert_eq!(int(&[0xfe, 0xff], true), Some(-2));
        assert_eq!(int(&[0x01, 0x68], false), Some(360));
        assert_eq!(uint(&[0x68, 0x01], true), Some(360));
        assert_eq!(uint(&[0; 9], true), None);
    }

    #[test]
    fn slice_reports_truncation_instead_of_panicking() {
        assert!(slice(b"abc", 2, 5, "x").is_err());
        assert!(slice(b"abc", usize::MAX, 2, "x").is_err());
        assert_eq!(slice(b"abc", 1, 2, "x").unwrap(), b"bc");
    }
}
