//! The CSV tables users give kizon: a hospital's manifest, a panel's reads, confirmed
//! diagnoses, a device's results, the inputs of `kizon stats`.
//!
//! - [`encoding`]: the text encodings hospitals and laboratories export (UTF-8 with or
//!   without a byte-order mark, UTF-16 with its mark, CP932), detected or as given.
//! - [`table`]: columns selected by their header name; every problem an [`InputError::Csv`]
//!   naming the file, the CSV line (the header is line 1) and the column. No row is dropped
//!   silently.
//!
//! Reads files and nothing else: no study, no ledger. Shared by the application layer
//! (kizon-app) and the study-less calculations (kizon-calc).

#![forbid(unsafe_code)]

use std::path::PathBuf;

pub mod encoding;
pub mod table;

pub use encoding::{Encoding, decode, decode_as};
pub use table::{Columns, Row, csv_location, parse_number, parse_table, read_columns, read_table};

/// Why a file given as input was refused.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A problem at a place in a CSV file: its line and column when known.
    #[error("{}", csv_location(file, *line, column.as_deref(), problem))]
    Csv {
        file: PathBuf,
        line: Option<u64>,
        column: Option<String>,
        problem: String,
        hint: String,
    },
    /// The input as a whole cannot be used (an encoding that is not text, a value out of
    /// range), with what to do.
    #[error("{what}")]
    Refused { what: String, hint: String },
}

impl InputError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            InputError::Io { .. } => "check that the path exists and is readable".into(),
            InputError::Csv { hint, .. } | InputError::Refused { hint, .. } => hint.clone(),
        }
    }
}
