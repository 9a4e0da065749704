//! The one error type of the crate: each variant says what was read, where, and what was expected.

use serde::Serialize;

/// A parse or encode failure. Every message is one line naming the field (or byte offset / line) and
/// what was expected, so a person can find the problem in the file.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
pub enum Error {
    /// Fewer bytes than a structure needs.
    #[error("truncated: {what} at byte {offset} needs {needed} bytes, only {available} present")]
    Truncated {
        what: String,
        offset: usize,
        needed: usize,
        available: usize,
    },

    /// A binary field whose value is not what the format allows.
    #[error("{field} at byte {offset}: expected {expected}, found {found:?}")]
    BadField {
        field: String,
        offset: usize,
        expected: String,
        found: String,
    },

    /// A text (header) line whose field is not what the format allows.
    #[error("line {line}, {field}: expected {expected}, found {found:?}")]
    BadLine {
        line: usize,
        field: String,
        expected: String,
        found: String,
    },

    /// A valid but unsupported feature (e.g. a WFDB storage format not implemented).
    #[error("unsupported {what}: {value}")]
    Unsupported { what: String, value: String },

    /// Inconsistent input given to a writer.
    #[error("cannot encode {what}: {reason}")]
    Encode { what: String, reason: String },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn truncated(
        what: impl Into<String>,
        offset: usize,
        needed: usize,
        available: usize,
    ) -> Self {
        Error::Truncated {
            what: what.into(),
            offset,
            needed,
            available,
        }
    }

    pub(crate) fn bad_field(
        field: impl Into<String>,
        offset: usize,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Error::BadField {
            field: field.into(),
            offset,
            expected: expected.into(),
            found: found.into(),
        }
    }

    pub(crate) fn bad_line(
        line: usize,
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Error::BadLine {
            line,
            field: field.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    pub(crate) fn unsupported(what: impl Into<String>, value: impl Into<String>) -> Self {
        Error::Unsupported {
            what: what.into(),
            value: value.into(),
        }
    }

    pub(crate) fn encode(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Encode {
            what: what.into(),
            reason: reason.into(),
        }
    }
}
