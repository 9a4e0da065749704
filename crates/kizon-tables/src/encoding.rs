//! The text encodings of the files hospitals and laboratories export: UTF-8 (with or without a
//! byte-order mark), UTF-16 with its mark, and CP932 (Windows Shift_JIS), which Japanese
//! hospital and laboratory systems write by default. Every CSV kizon reads goes through here.

use std::borrow::Cow;
use std::path::Path;

use crate::InputError;

/// The encoding a text was read as, or is to be read as (`--encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Utf8,
    Utf16,
    Cp932,
}

impl Encoding {
    /// `utf-8`, `utf-16`, `cp932` (also `shift_jis`, `sjis`), as users name them.
    pub fn parse(name: &str) -> Option<Encoding> {
        match name.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "utf-16" | "utf16" => Some(Encoding::Utf16),
            "cp932" | "shift-jis" | "sjis" | "windows-31j" | "ms932" => Some(Encoding::Cp932),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf16 => "UTF-16",
            Encoding::Cp932 => "CP932 (Shift_JIS)",
        }
    }
}

/// `bytes` of `file` read as `encoding` when one is given (`--encoding`), else as [`decode`]
/// detects it. A byte that is not text in the given encoding is refused naming its line and
/// offset: nothing is replaced silently.
pub fn decode_as<'b>(
    file: &Path,
    bytes: &'b [u8],
    encoding: Option<Encoding>,
) -> Result<(Cow<'b, str>, Encoding), InputError> {
    let Some(encoding) = encoding else {
        return decode(file, bytes);
    };
    let invalid = |at: usize| {
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        InputError::Refused {
            what: match bytes.get(at) {
                Some(byte) => format!(
                    "{}:{line}: byte {at} (0x{byte:02X}) is not {} text",
                    file.display(),
                    encoding.as_str()
                ),
                None => format!(
                    "{}: empty, or not {} text",
                    file.display(),
                    encoding.as_str()
                ),
            },
            hint: "check the file's encoding, or leave --encoding out to detect it".into(),
        }
    };
    match encoding {
        Encoding::Utf8 => {
            let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
            let offset = bytes.len() - body.len();
            std::str::from_utf8(body)
                .map(|text| (Cow::Borrowed(text), Encoding::Utf8))
                .map_err(|e| invalid(offset + e.valid_up_to()))
        }
        Encoding::Utf16 => {
            let (text, _, malformed) = encoding_rs::UTF_16LE.decode(bytes);
            if malformed || !matches!(bytes, [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..]) {
                return Err(invalid(0));
            }
            Ok((Cow::Owned(text.into_owned()), Encoding::Utf16))
        }
        Encoding::Cp932 => {
            let mut decoder = encoding_rs::SHIFT_JIS.new_decoder_without_bom_handling();
            let mut text = String::with_capacity(bytes.len() * 2);
            let (result, read) =
                decoder.decode_to_string_without_replacement(bytes, &mut text, true);
            match result {
                encoding_rs::DecoderResult::InputEmpty => Ok((Cow::Owned(text), Encoding::Cp932)),
                encoding_rs::DecoderResult::Malformed(bad, _) => {
                    Err(invalid(read.saturating_sub(usize::from(bad))))
                }
                encoding_rs::DecoderResult::OutputFull => {
                    unreachable!("the string grows as needed")
                }
            }
        }
    }
}

/// `bytes` of `file` as UTF-8 text: UTF-8 as it is (its byte-order mark dropped), UTF-16 by its
/// byte-order mark, otherwise CP932. Bytes that are none of these are refused naming the line
/// and the byte offset of the first that is not UTF-8.
pub fn decode<'b>(file: &Path, bytes: &'b [u8]) -> Result<(Cow<'b, str>, Encoding), InputError> {
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
    Err(InputError::Refused {
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
        // Named: read as given, a byte that is not text in that encoding is named.
        assert_eq!(
            decode_as(file, &cp932, Some(Encoding::Cp932)).unwrap().0,
            text
        );
        let error = decode_as(file, &cp932, Some(Encoding::Utf8))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("x.csv:2: byte") && error.contains("not UTF-8"),
            "{error}"
        );
        let error = decode_as(file, b"id\nA\x82\xff\n", Some(Encoding::Cp932))
            .unwrap_err()
            .to_string();
        assert!(error.contains("x.csv:2: byte 4 (0x82)"), "{error}");
        assert_eq!(Encoding::parse("Shift_JIS"), Some(Encoding::Cp932));
        assert_eq!(Encoding::parse("latin-1"), None);
        let bad = b"case_id\nA1\n\x82\xff\n";
        let error = decode(file, bad).unwrap_err().to_string();
        assert!(error.contains("x.csv:3: byte 11"), "{error}");
    }
}
