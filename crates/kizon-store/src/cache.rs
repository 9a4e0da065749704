//! The decode cache: what `check` computed from a file's pixels (content hash, perceptual
//! hash, or why it could not decode), keyed by the file's SHA-256. Derived from content whose
//! hash the ledger covers, but findings rest on it, so it is covered too (schema version 11):
//! each row is written once under a `decode` ledger entry, and `audit verify --deep` decodes the
//! files again and compares.

use crate::db::params;
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
            .query_map(params![], |r| {
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
                    .prepare("INSERT INTO decoded (sha256, pixel_sha256, phash, error, ledger_seq) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING")
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

/// What OCR found in one file's first frame: the engine (`tesseract 5.3.0 (eng+jpn)`) and the
/// regions `[x, y, width, height]` of text that may identify, or why it could not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OcrResult {
    pub sha256: String,
    pub engine: String,
    pub regions: Vec<[u32; 4]>,
    pub error: Option<String>,
}

impl Store {
    /// Every cached OCR result.
    pub fn ocr_results(&self) -> Result<Vec<OcrResult>, StoreError> {
        let mut statement = self
            .conn()
            .prepare("SELECT sha256, engine, regions, error FROM ocr")
            .map_err(|e| self.err(e))?;
        let rows: Vec<(String, String, String, Option<String>)> = statement
            .query_map(params![], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(sha256, engine, regions, error)| {
                let regions = serde_json::from_str(&regions).map_err(|_| {
                    StoreError::Tampered(format!(
                        "ocr row {sha256}: the stored regions `{regions}` are not a list of [x, y, width, height]"
                    ))
                })?;
                Ok(OcrResult {
                    sha256,
                    engine,
                    regions,
                    error,
                })
            })
            .collect()
    }

    /// Adds OCR results under one ledger entry; a file already read keeps its row.
    pub fn cache_ocr(&mut self, actor: &str, rows: &[OcrResult]) -> Result<usize, StoreError> {
        self.transact(actor, |tx| {
            let seq = tx.pending_seq();
            let mut added = 0usize;
            {
                let mut insert = tx
                    .sql()
                    .prepare("INSERT INTO ocr (sha256, engine, regions, error, ledger_seq) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING")
                    .map_err(|e| tx.err(e))?;
                for row in rows {
                    let regions = serde_json::to_string(&row.regions).expect("numbers serialise");
                    added += insert
                        .execute(params![row.sha256, row.engine, regions, row.error, seq])
                        .map_err(|e| tx.err(e))?;
                }
            }
            if added > 0 {
                tx.record(
                    "ocr",
                    &format!("{added} images read by OCR for burned-in text (Q1)"),
                    serde_json::json!({ "files": added }),
                )?;
            } else {
                tx.abandon();
            }
            Ok(added)
        })
    }
}
