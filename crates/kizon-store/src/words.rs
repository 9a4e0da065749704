//! The shared vocabularies (kizon-vocab) in and out of SQLite.
//!
//! A word is written as its one spelling and read back exhaustively: a stored spelling that
//! is none of the vocabulary's was written behind kizon's back, and reading it fails with
//! [`StoreError::Tampered`](crate::StoreError::Tampered), naming the column and the value.
//! Nothing is defaulted.

use std::fmt;

use kizon_vocab::{ReadRole, Word};

use crate::db::{Error, Row, ToParam, ValueRef};

/// A stored spelling that is not a word of its vocabulary.
#[derive(Debug)]
pub(crate) struct UnknownWord {
    /// Where the value is: `results row 20: the stored label`.
    pub column: String,
    pub value: String,
    pub expected: String,
}

impl fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} `{}` is none of {}: the database was changed outside kizon",
            self.column,
            self.value.escape_debug(),
            self.expected
        )
    }
}

impl std::error::Error for UnknownWord {}

fn unknown(row: &Row<'_>, table: &str, idx: usize, value: &str, expected: String) -> Error {
    let name = row
        .column_name(idx)
        .map_or_else(|| format!("column {idx}"), str::to_owned);
    // Every query that reads a word has the row's id first (for resolutions, the finding's).
    let column = match row.get::<i64>(0) {
        Ok(id) => format!("{table} row {id}: the stored {name}"),
        Err(_) => format!("{table}: the stored {name}"),
    };
    Error::Refused(Box::new(UnknownWord {
        column,
        value: value.to_owned(),
        expected,
    }))
}

/// The word in column `idx`.
pub(crate) fn word<T: Word>(row: &Row<'_>, table: &str, idx: usize) -> crate::db::Result<T> {
    let text: String = row.get(idx)?;
    T::parse(&text).ok_or_else(|| unknown(row, table, idx, &text, T::choices()))
}

/// The word in column `idx`, which may be NULL.
pub(crate) fn optional_word<T: Word>(
    row: &Row<'_>,
    table: &str,
    idx: usize,
) -> crate::db::Result<Option<T>> {
    match row.get::<Option<String>>(idx)? {
        None => Ok(None),
        Some(text) => T::parse(&text)
            .map(Some)
            .ok_or_else(|| unknown(row, table, idx, &text, T::choices())),
    }
}

/// The read role in column `idx`, which may be NULL.
pub(crate) fn optional_role(
    row: &Row<'_>,
    table: &str,
    idx: usize,
) -> crate::db::Result<Option<ReadRole>> {
    match row.get::<Option<String>>(idx)? {
        None => Ok(None),
        Some(text) => ReadRole::parse(&text).map(Some).ok_or_else(|| {
            unknown(
                row,
                table,
                idx,
                &text,
                "panel | adjudicator | modality:NAME".to_owned(),
            )
        }),
    }
}

/// The read role in column `idx`.
pub(crate) fn role(row: &Row<'_>, table: &str, idx: usize) -> crate::db::Result<ReadRole> {
    optional_role(row, table, idx)?.ok_or(Error::Conversion {
        column: idx,
        message: "NULL is not a read role".to_owned(),
    })
}

/// A word as an SQL parameter: its spelling.
pub(crate) struct Spelled<T>(pub T);

impl<T: Word> ToParam for Spelled<T> {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Text(self.0.as_str())
    }
}

/// The error a read of an unknown word became, if `e` is one.
pub(crate) fn unknown_word(e: &Error) -> Option<&UnknownWord> {
    match e {
        Error::Refused(inner) => inner.downcast_ref(),
        _ => None,
    }
}
