//! Bounds on the free text users give: reasons, names, codes and case ids. Applied here, in the
//! application layer, so the CLI and the web meet the same limits: an unbounded reason once
//! stored 20 MB twice and made every page that lists it 20 MB long.

use crate::AppError;

/// Longest reason (a decision, an amendment): a long paragraph, in any script.
pub const MAX_REASON_CHARS: usize = 4_000;
/// Longest name or short free text (a provider, a legal basis, a qualification, a version).
pub const MAX_NAME_CHARS: usize = 200;
/// Longest identifier (a case id, a reader code).
pub const MAX_ID_CHARS: usize = 64;

/// A reason: trimmed, not empty, at most [`MAX_REASON_CHARS`], no control characters other than
/// line breaks and tabs.
pub fn reason<'t>(field: &str, value: &'t str, hint: &str) -> Result<&'t str, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::Refused {
            what: format!("{field}: a reason is needed"),
            hint: hint.to_owned(),
        });
    }
    bounded(field, value, MAX_REASON_CHARS, |c| {
        c.is_control() && c != '\n' && c != '\t' && c != '\r'
    })
}

/// A reason as the user wrote it, and its English version when they gave one besides it
/// (`--reason-en`). The two are stored as two fields: the Japanese report prints `text`, the
/// English one `en` (or `text` when there is none). Nothing is ever split at a separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason<'r> {
    pub text: &'r str,
    pub en: Option<&'r str>,
}

impl<'r> From<&'r str> for Reason<'r> {
    fn from(text: &'r str) -> Self {
        Reason { text, en: None }
    }
}

impl<'r> Reason<'r> {
    pub fn new(text: &'r str, en: Option<&'r str>) -> Self {
        Reason { text, en }
    }

    /// Both texts checked as [`reason`] checks one; an English text that is empty is absent.
    pub fn checked(self, field: &str, hint: &str) -> Result<Reason<'r>, AppError> {
        let text = reason(field, self.text, hint)?;
        let en = match self.en.map(str::trim).filter(|e| !e.is_empty()) {
            Some(en) => Some(reason(&format!("{field} (English)"), en, hint)?),
            None => None,
        };
        Ok(Reason { text, en })
    }
}

/// A name or a short free text: trimmed, at most [`MAX_NAME_CHARS`], one line.
pub fn name<'t>(field: &str, value: &'t str) -> Result<&'t str, AppError> {
    bounded(field, value.trim(), MAX_NAME_CHARS, char::is_control)
}

/// An identifier: at most [`MAX_ID_CHARS`], no control characters (a newline in a case id would
/// forge a line in every listing that prints it), no spaces at either end.
pub fn identifier<'t>(field: &str, value: &'t str) -> Result<&'t str, AppError> {
    if value.trim() != value {
        return Err(AppError::Refused {
            what: format!(
                "{field}: `{}` begins or ends with a space",
                value.escape_debug()
            ),
            hint: "remove the spaces around the identifier".into(),
        });
    }
    bounded(field, value, MAX_ID_CHARS, |c| {
        c.is_control() || is_invisible_format(c)
    })
}

/// Invisible format characters that make two identifiers look alike or reorder what is shown:
/// zero-width characters, bidirectional overrides and isolates, the byte-order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x061C | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064
        | 0x2066..=0x206F | 0xFEFF)
}

fn bounded<'t>(
    field: &str,
    value: &'t str,
    max_chars: usize,
    forbidden: impl Fn(char) -> bool,
) -> Result<&'t str, AppError> {
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(AppError::Refused {
            what: format!("{field}: {chars} characters, more than the {max_chars} allowed"),
            hint: format!(
                "shorten it to at most {max_chars} characters; put a long text in an evidence document and refer to it"
            ),
        });
    }
    if let Some(c) = value.chars().find(|c| forbidden(*c)) {
        return Err(AppError::Refused {
            what: format!(
                "{field}: `{}` holds the control character U+{:04X}",
                value.chars().take(40).collect::<String>().escape_debug(),
                c as u32
            ),
            hint: "remove line breaks, tabs and other control characters".into(),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_control_characters() {
        assert_eq!(reason("r", "  why  ", "h").unwrap(), "why");
        assert!(reason("r", "   ", "h").is_err());
        assert!(reason("r", "line one\nline two", "h").is_ok());
        assert!(reason("r", &"理".repeat(MAX_REASON_CHARS), "h").is_ok());
        assert!(reason("r", &"理".repeat(MAX_REASON_CHARS + 1), "h").is_err());
        assert!(reason("r", "bell\u{7}", "h").is_err());
        assert!(name("n", "病院 A").is_ok());
        assert!(name("n", "two\nlines").is_err());
        assert!(name("n", &"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(identifier("case_id", "C-001").is_ok());
        assert!(identifier("case_id", "C-001\nC-002").is_err());
        assert!(identifier("case_id", "C\u{1b}[31m").is_err());
        assert!(identifier("case_id", " C-001").is_err());
        assert!(identifier("case_id", "C-0\u{202E}01").is_err());
        assert!(identifier("case_id", "C-0\u{200B}01").is_err());
        assert!(identifier("case_id", &"C".repeat(MAX_ID_CHARS + 1)).is_err());
    }
}
