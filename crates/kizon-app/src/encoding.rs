//! The text encodings of the files hospitals and laboratories export: UTF-8 (with or without a
//! byte-order mark), UTF-16 with its mark, and CP932 (Windows Shift_JIS), which Japanese
//! hospital and laboratory systems write by default. Every CSV kizon reads goes through here.

use std::borrow::Cow;
use std::path::Path;

use crate::AppError;

/// The encoding a text was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Utf8,
    Utf16,
    Cp932,
}

/// `bytes` of `file` as UTF-8 text: UTF-8 as it is (its byte-order mark dropped), UTF-16 by its
/// byte-order mark, otherwise CP932. Bytes that are none of these are refused naming the line
/// and the byte offset of the first that is not UTF-8.
pub fn decode<'b>(file: &Path, bytes: &'b [u8]) -> Result<(Cow<'b, str>, Encoding), AppError> {
    if let [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] = bytes {
        let (text, _, malformed) = encoding_rs::UTF_16LE.decode(bytes);
        if !malformed {
            return Ok((Cow::Owned(text.into_owned()), Encoding::Utf16));
        }
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let utf8_error = match std::str::from_utf8(body) {
        Ok(text) => return Ok((Cow::Borrowed(text), Encoding::Utf8)),
        Err(e) => e,
    };
    if let Some(text) =
        encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(body)
    {
        return Ok((Cow::Owned(text.into_owned()), Encoding::Cp932));
    }
    let at = utf8_error.valid_up_to();
    let line = 1 + body[..at].iter().filter(|&&b| b == b'\n').count();
    Err(AppError::Refused {
        what: format!(
            "{}:{line}: byte {at} (0x{:02X}) is neither UTF-8 nor CP932 (Shift_JIS) text",
            file.display(),
            body[at]
        ),
        hint: "save the file as UTF-8 (Excel: CSV UTF-8) or as CP932 / Shift_JIS".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bom_utf16_and_cp932_read_alike() {
        let text = "case_id,label\nA1,陽性\n";
        let file = Path::new("x.csv");
        assert_eq!(
            decode(file, text.as_bytes()).unwrap(),
            (Cow::Borrowed(text), Encoding::Utf8)
        );
        let with_bom = [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat();
        assert_eq!(decode(file, &with_bom).unwrap().0, text);
        let (cp932, _, _) = encoding_rs::SHIFT_JIS.encode(text);
        assert_eq!(
            decode(file, &cp932).unwrap(),
            (Cow::Owned(text.to_owned()), Encoding::Cp932)
        );
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            utf16.extend(unit.to_le_bytes());
        }
        assert_eq!(decode(file, &utf16).unwrap().0, text);
        let bad = b"case_id\nA1\n\x82\xff\n";
        let error = decode(file, bad).unwrap_err().to_string();
        assert!(error.contains("x.csv:3: byte 11"), "{error}");
    }
}
