//! An ingested item as the use cases hand it out, its metadata read back once and typed.

use kizon_formats::Metadata;
use kizon_vocab::ItemKind;
use serde::Serialize;

use crate::AppError;

/// An ingested file: where it came from, what it is, and what kizon read of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub id: i64,
    pub provider: String,
    pub case_id: String,
    /// As findings and pages show it: relative to the ingested root.
    pub path: String,
    pub source: String,
    pub size: i64,
    pub sha256: String,
    pub kind: ItemKind,
    /// Boxed (over a kilobyte inline): `check` moves a million items' metadata into the rules'
    /// facts without copying it.
    pub metadata: Box<Metadata>,
    /// Why the content could not be fully read, if it could not.
    pub problem: Option<String>,
    pub ledger_seq: i64,
}

impl Item {
    /// The item the store holds, its metadata read back: metadata that does not read is an
    /// error naming the item, never an empty default.
    pub(crate) fn from_stored(item: kizon_store::Item) -> Result<Item, AppError> {
        let metadata = Metadata::from_stored(&item.metadata).map_err(|e| {
            AppError::Store(kizon_store::StoreError::Tampered(format!(
                "item {} ({}): {e}",
                item.id, item.path
            )))
        })?;
        Ok(Item {
            id: item.id,
            provider: item.provider,
            case_id: item.case_id,
            path: item.path,
            source: item.source,
            size: item.size,
            sha256: item.sha256,
            kind: item.kind,
            metadata: Box::new(metadata),
            problem: item.problem,
            ledger_seq: item.ledger_seq,
        })
    }

    /// A WFDB header (`.hea`), as opposed to its signal files: what a reader opens.
    pub fn is_wfdb_header(&self) -> bool {
        self.kind == ItemKind::Wfdb && self.metadata.role.as_deref() == Some("header")
    }
}
