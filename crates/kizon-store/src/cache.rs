//! The decode cache: what `check` computed from a file's pixels (content hash, perceptual
//! hash, or why it could not decode), keyed by the file's SHA-256. Derived from content whose
//! hash the ledger covers, but findings rest on it, so it is covered too (schema version 11):
//! each row is written once under a `decode` ledger entry, and `audit verify --deep` decodes the
//! files again and compares.

use rusqlite::params;
use serde::Serialize;

use crate::{Store, StoreError};

/// One file's decoded facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decoded {
    pub sha256: String,
    pub pixel_sha256: Option<String>,
    /// The 64-bit perceptual hash, 16 hex digits.
    pub phash: Option<String>,
    pub error: Option<String>,
}

impl Store {
    /// Every cached decode.
    pub fn decoded(&self) -> Result<Vec<Decoded>, StoreError> {
        let mut statement = self
            .conn()
            .prepare("SELECT sha256, pixel_sha256, phash, error FROM decoded")
            .map_err(|e| self.err(e))?;
        statement
            .query_map([], |r| {
                Ok(Decoded {
                    sha256: r.get(0)?,
                    pixel_sha256: r.get(1)?,
                    phash: r.get(2)?,
                    error: r.get(3)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// Adds decodes to the cache under one ledger entry; a file already decoded keeps its row.
    pub fn cache_decoded(&mut self, actor: &str, rows: &[Decoded]) -> Result<usize, StoreError> {
        self.transact(actor, |tx| {
            let seq = tx.pending_seq();
            let mut added = 0usize;
            {
                let mut insert = tx
                    .sql()
                    .prepare("INSERT OR IGNORE INTO decoded (sha256, pixel_sha256, phash, error, ledger_seq) VALUES (?1, ?2, ?3, ?4, ?5)")
                    .map_err(|e| tx.err(e))?;
                for row in rows {
                    added += insert
                        .execute(params![row.sha256, row.pixel_sha256, row.phash, row.error, seq])
                        .map_err(|e| tx.err(e))?;
                }
            }
            if added > 0 {
                tx.record(
                    "decode",
                    &format!("{added} files decoded for the Q7 pixel checks"),
                    serde_json::json!({ "files": added }),
                )?;
            } else {
                tx.abandon();
            }
            Ok(added)
        })
    }
}
