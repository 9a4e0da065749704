//! The decode cache: what `check` computed from a file's pixels (content hash, perceptual
//! hash, or why it could not decode), keyed by the file's SHA-256. Outside the ledger: it is
//! derived from content whose hash the ledger covers, and recomputed when absent.

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

    /// Adds decodes to the cache, in one transaction (no ledger entry: see the module doc).
    pub fn cache_decoded(&mut self, rows: &[Decoded]) -> Result<(), StoreError> {
        let db = self.root().join(crate::DB_FILE);
        let wrap = |e| crate::sqlite(&db, e);
        let tx = self.conn_mut().transaction().map_err(wrap)?;
        {
            let mut insert = tx
                .prepare("INSERT OR REPLACE INTO decoded (sha256, pixel_sha256, phash, error) VALUES (?1, ?2, ?3, ?4)")
                .map_err(wrap)?;
            for row in rows {
                insert
                    .execute(params![row.sha256, row.pixel_sha256, row.phash, row.error])
                    .map_err(wrap)?;
            }
        }
        tx.commit().map_err(wrap)
    }
}
