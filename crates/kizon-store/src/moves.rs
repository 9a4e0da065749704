//! Moves of a study's documents or database, as its ledger records them, so that every machine
//! serving a study learns of a move made on another.
//!
//! A study kept in PostgreSQL is served from several folders on several machines, each with its
//! own `objects.url`. When one of them moves the documents (`migrate-store --objects`) or the
//! database (`--to sqlite`), the others' folders still name the old places, and their writes
//! would go there: documents into a bucket the study no longer reads, rows into a database it
//! has left. So the move appends an entry (`documents moved`, with where to; `database moved`,
//! in the database left behind), and [`Store::transact`] refuses to write when the ledger says
//! the documents are elsewhere than this store keeps them, or that this database was left.
//! The ledger is read only past the entries already checked, so a process pays once for the
//! whole ledger and then for what others appended.
//!
//! [`Store::transact`]: crate::Store::transact

use serde_json::Value;

use crate::db::{self, Db, params};
use crate::documents::Objects;

/// The entry of a move of the documents; its detail's `to` names the new place.
pub(crate) const DOCUMENTS_MOVED: &str = "documents moved";
/// The last entry of a database the study moved out of; its detail's `to` names the new one.
pub(crate) const DATABASE_MOVED: &str = "database moved";

/// How a `documents moved` entry names a document store: `local` for a study folder's own
/// `documents/`, else the bucket's `s3://` URL as `objects.url` holds it.
pub(crate) fn identity(objects: &Objects) -> String {
    match objects {
        Objects::Local(_) => "local".to_owned(),
        Objects::S3(store) => store.location().to_url(),
    }
}

/// Why a store keeping its documents in `objects` must not write to the database `db`, from the
/// moves its ledger records after entry `after`; `None` when it may.
pub(crate) fn refusal(db: &Db, after: i64, objects: &Objects) -> db::Result<Option<String>> {
    let mut last_documents: Option<(i64, String)> = None;
    let mut left: Option<(i64, String)> = None;
    db.for_each_row(
        "SELECT seq, command, detail FROM ledger WHERE seq > ?1 AND command IN (?2, ?3) ORDER BY seq",
        params![after, DOCUMENTS_MOVED, DATABASE_MOVED],
        |row| {
            let seq: i64 = row.get(0)?;
            let command: String = row.get(1)?;
            let detail: String = row.get(2)?;
            let to = serde_json::from_str::<Value>(&detail)
                .ok()
                .and_then(|d| d.get("to").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            if command == DATABASE_MOVED {
                left.get_or_insert((seq, to));
            } else {
                last_documents = Some((seq, to));
            }
            Ok(())
        },
    )?;
    if let Some((seq, to)) = left {
        return Ok(Some(format!(
            "the study moved out of this database to {to} (ledger entry {seq}); the database is kept as it was and takes no more writes"
        )));
    }
    let here = identity(objects);
    Ok(last_documents.and_then(|(seq, to)| {
        (to != here).then(|| {
            format!(
                "the study's documents moved to {to} (ledger entry {seq}), but this folder keeps them at {here}; write `{to}` into its objects.url (or remove objects.url for `local`)"
            )
        })
    }))
}
