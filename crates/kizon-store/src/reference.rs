//! The reference standard and the device's results: readers, their reads, per-case reference
//! records (a confirmed diagnosis with a pointer to its source record, or a comparator
//! method's result), device results per version, and stored analyses.
//!
//! Labels and roles are stored as kizon-vocab spells them (`positive`, `negative`,
//! `indeterminate`; `panel`, `adjudicator`, `modality:NAME`) and read back exhaustively; marks (lesion locations) as JSON text. Every row is append-only like the
//! other covered tables: a second read of the same case by the same reader is refused here and
//! decided by the application (identical: nothing to do; different: refused or a finding).

use crate::db::{OptionalExtension, Row, params};
use serde::Serialize;

use kizon_vocab::{Label, ReadRole};

use crate::words::{Spelled, optional_word, role, word};
use crate::{Store, StoreError, Tx};

/// A reader of the expert panel, as registered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewReader {
    /// The reader's code in reads files (`R1`); names stay out of the study.
    pub code: String,
    pub qualification: String,
    /// The qualification in English, when given besides the text as written.
    pub qualification_en: Option<String>,
    pub specialty: String,
    pub years_experience: i64,
    /// Independent of the applicant (not employed by or paid by the device maker).
    pub independent: bool,
    /// The declaration of interests, when not independent, or any note.
    pub declaration: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reader {
    pub id: i64,
    pub code: String,
    pub qualification: String,
    /// The qualification in English, when given besides the text as written.
    pub qualification_en: Option<String>,
    pub specialty: String,
    pub years_experience: i64,
    pub independent: bool,
    pub declaration: Option<String>,
    pub ledger_seq: i64,
}

/// One reader's read of one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewRead {
    pub reader_id: i64,
    pub case_id: String,
    /// `panel` or `adjudicator`.
    pub role: ReadRole,
    pub label: Option<Label>,
    pub score: Option<f64>,
    pub marks: Option<String>,
    pub read_at: Option<String>,
    /// SHA-256 of the imported file (in the document store).
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Read {
    pub id: i64,
    pub reader: String,
    pub case_id: String,
    pub role: ReadRole,
    pub label: Option<Label>,
    pub score: Option<f64>,
    pub marks: Option<String>,
    pub read_at: Option<String>,
    pub source: String,
    pub ledger_seq: i64,
}

/// A case's reference from a confirmed diagnosis or a comparator method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewReferenceRecord {
    pub case_id: String,
    /// `confirmed-diagnosis` or `comparator-method`.
    pub kind: String,
    pub label: Label,
    pub diagnosis: Option<String>,
    pub diagnosis_date: Option<String>,
    /// Where the source record is, for source data verification (Q7): its type, date and
    /// where the provider keeps it.
    pub source_document: Option<String>,
    /// The source document's name in English, when given besides the text as written.
    pub source_document_en: Option<String>,
    pub source_date: Option<String>,
    pub source_location: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceRecord {
    pub id: i64,
    pub case_id: String,
    pub kind: String,
    pub label: Label,
    pub diagnosis: Option<String>,
    pub diagnosis_date: Option<String>,
    pub source_document: Option<String>,
    /// The source document's name in English, when given besides the text as written.
    pub source_document_en: Option<String>,
    pub source_date: Option<String>,
    pub source_location: Option<String>,
    pub source: String,
    pub ledger_seq: i64,
}

/// The device's output for one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewResult {
    pub case_id: String,
    pub device_version: String,
    pub label: Option<Label>,
    pub score: Option<f64>,
    pub marks: Option<String>,
    pub source: String,
    /// SHA-256 of the device's own output file, when given.
    pub device_file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceResult {
    pub id: i64,
    pub case_id: String,
    pub device_version: String,
    pub label: Option<Label>,
    pub score: Option<f64>,
    pub marks: Option<String>,
    pub source: String,
    pub device_file: Option<String>,
    pub ledger_seq: i64,
}

/// A stored analysis: its output document, keyed by the hash of its inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAnalysis {
    pub id: i64,
    pub inputs_sha256: String,
    pub output: String,
    pub ledger_seq: i64,
}

impl Tx<'_> {
    pub fn insert_reader(&mut self, reader: &NewReader) -> Result<i64, StoreError> {
        if self.reader_id(&reader.code)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "reader `{}` is already registered",
                reader.code
            )));
        }
        let seq = self.pending_seq();
        self.sql()
            .insert_returning_id(
                "INSERT INTO readers (code, qualification, specialty, years_experience, independent, declaration, ledger_seq, qualification_en)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![reader.code, reader.qualification, reader.specialty, reader.years_experience, reader.independent, reader.declaration, seq, reader.qualification_en],
            )
            .map_err(|e| self.err(e))
    }

    pub fn reader_id(&self, code: &str) -> Result<Option<i64>, StoreError> {
        query_reader_id(self.sql(), code).map_err(|e| self.err(e))
    }

    /// The read already recorded for this reader, case and role.
    pub fn existing_read(
        &self,
        reader_id: i64,
        case_id: &str,
        role: &ReadRole,
    ) -> Result<Option<Read>, StoreError> {
        self.sql()
            .prepare_cached(&format!(
                "{READS} WHERE r.reader_id = ?1 AND r.case_id = ?2 AND r.role = ?3"
            ))
            .and_then(|mut s| {
                s.query_row(params![reader_id, case_id, role.as_stored()], read_row)
                    .optional()
            })
            .map_err(|e| self.err(e))
    }

    pub fn insert_read(&mut self, read: &NewRead) -> Result<(), StoreError> {
        let seq = self.pending_seq();
        self.sql()
            .prepare_cached(
                "INSERT INTO reads (reader_id, case_id, role, label, score, marks, read_at, source, ledger_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![read.reader_id, read.case_id, read.role.as_stored(), read.label.map(Label::as_str), read.score, read.marks, read.read_at, read.source, seq])
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn existing_reference_record(
        &self,
        case_id: &str,
    ) -> Result<Option<ReferenceRecord>, StoreError> {
        self.sql()
            .prepare_cached(&format!("{REFERENCE_RECORDS} WHERE case_id = ?1"))
            .and_then(|mut s| s.query_row(params![case_id], reference_row).optional())
            .map_err(|e| self.err(e))
    }

    pub fn insert_reference_record(
        &mut self,
        record: &NewReferenceRecord,
    ) -> Result<(), StoreError> {
        let seq = self.pending_seq();
        self.sql()
            .prepare_cached(
                "INSERT INTO reference_records (case_id, kind, label, diagnosis, diagnosis_date, source_document, source_date, source_location, source, ledger_seq, source_document_en)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .and_then(|mut s| {
                s.execute(params![record.case_id, record.kind, Spelled(record.label), record.diagnosis, record.diagnosis_date, record.source_document, record.source_date, record.source_location, record.source, seq, record.source_document_en])
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn existing_result(
        &self,
        case_id: &str,
        device_version: &str,
    ) -> Result<Option<DeviceResult>, StoreError> {
        self.sql()
            .prepare_cached(&format!(
                "{RESULTS} WHERE case_id = ?1 AND device_version = ?2"
            ))
            .and_then(|mut s| {
                s.query_row(params![case_id, device_version], result_row)
                    .optional()
            })
            .map_err(|e| self.err(e))
    }

    pub fn insert_result(&mut self, result: &NewResult) -> Result<(), StoreError> {
        let seq = self.pending_seq();
        self.sql()
            .prepare_cached(
                "INSERT INTO results (case_id, device_version, label, score, marks, source, device_file, ledger_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut s| {
                s.execute(params![result.case_id, result.device_version, result.label.map(Label::as_str), result.score, result.marks, result.source, result.device_file, seq])
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records an analysis's output document under the hash of its inputs; `false` when an
    /// analysis of the same inputs is stored already.
    pub fn insert_analysis(
        &mut self,
        inputs_sha256: &str,
        output: &str,
    ) -> Result<bool, StoreError> {
        let known: Option<i64> = self
            .sql()
            .query_row(
                "SELECT id FROM analyses WHERE inputs_sha256 = ?1",
                params![inputs_sha256],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if known.is_some() {
            return Ok(false);
        }
        let seq = self.pending_seq();
        self.sql()
            .execute(
                "INSERT INTO analyses (inputs_sha256, output, ledger_seq) VALUES (?1, ?2, ?3)",
                params![inputs_sha256, output, seq],
            )
            .map_err(|e| self.err(e))?;
        Ok(true)
    }
}

const READS: &str = "SELECT r.id, d.code, r.case_id, r.role, r.label, r.score, r.marks, r.read_at, r.source, r.ledger_seq
                     FROM reads r JOIN readers d ON d.id = r.reader_id";
const REFERENCE_RECORDS: &str = "SELECT id, case_id, kind, label, diagnosis, diagnosis_date, source_document, source_date, source_location, source, ledger_seq, source_document_en
                                 FROM reference_records";
const RESULTS: &str = "SELECT id, case_id, device_version, label, score, marks, source, device_file, ledger_seq FROM results";

fn query_reader_id(conn: &crate::db::Db, code: &str) -> crate::db::Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM readers WHERE code = ?1",
        params![code],
        |r| r.get(0),
    )
    .optional()
}

fn read_row(r: &Row<'_>) -> crate::db::Result<Read> {
    Ok(Read {
        id: r.get(0)?,
        reader: r.get(1)?,
        case_id: r.get(2)?,
        role: role(r, "reads", 3)?,
        label: optional_word(r, "reads", 4)?,
        score: r.get(5)?,
        marks: r.get(6)?,
        read_at: r.get(7)?,
        source: r.get(8)?,
        ledger_seq: r.get(9)?,
    })
}

fn reference_row(r: &Row<'_>) -> crate::db::Result<ReferenceRecord> {
    Ok(ReferenceRecord {
        id: r.get(0)?,
        case_id: r.get(1)?,
        kind: r.get(2)?,
        label: word(r, "reference_records", 3)?,
        diagnosis: r.get(4)?,
        diagnosis_date: r.get(5)?,
        source_document: r.get(6)?,
        source_date: r.get(7)?,
        source_location: r.get(8)?,
        source: r.get(9)?,
        ledger_seq: r.get(10)?,
        source_document_en: r.get(11)?,
    })
}

fn result_row(r: &Row<'_>) -> crate::db::Result<DeviceResult> {
    Ok(DeviceResult {
        id: r.get(0)?,
        case_id: r.get(1)?,
        device_version: r.get(2)?,
        label: optional_word(r, "results", 3)?,
        score: r.get(4)?,
        marks: r.get(5)?,
        source: r.get(6)?,
        device_file: r.get(7)?,
        ledger_seq: r.get(8)?,
    })
}

impl Store {
    /// Every row `sql` gives, through `row`.
    pub(crate) fn all<T>(
        &self,
        sql: &str,
        row: impl FnMut(&Row<'_>) -> crate::db::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut statement = self.conn().prepare(sql).map_err(|e| self.err(e))?;
        statement
            .query_map(params![], row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    pub fn readers(&self) -> Result<Vec<Reader>, StoreError> {
        self.all(
            "SELECT id, code, qualification, specialty, years_experience, independent, declaration, ledger_seq, qualification_en FROM readers ORDER BY id",
            |r| {
                Ok(Reader {
                    id: r.get(0)?,
                    code: r.get(1)?,
                    qualification: r.get(2)?,
                    specialty: r.get(3)?,
                    years_experience: r.get(4)?,
                    independent: r.get(5)?,
                    declaration: r.get(6)?,
                    ledger_seq: r.get(7)?,
                    qualification_en: r.get(8)?,
                })
            },
        )
    }

    /// The id of the reader registered under `code`.
    pub fn reader_id(&self, code: &str) -> Result<Option<i64>, StoreError> {
        query_reader_id(self.conn(), code).map_err(|e| self.err(e))
    }

    /// Every read, in the order recorded.
    pub fn reads(&self) -> Result<Vec<Read>, StoreError> {
        self.all(&format!("{READS} ORDER BY r.id"), read_row)
    }

    /// One reader's reads, in the order recorded (the reading session's checks, on every
    /// request a reader makes, ask for these alone).
    pub fn reads_of(&self, reader_code: &str) -> Result<Vec<Read>, StoreError> {
        let mut statement = self
            .conn()
            .prepare_cached(&format!("{READS} WHERE d.code = ?1 ORDER BY r.id"))
            .map_err(|e| self.err(e))?;
        statement
            .query_map(params![reader_code], read_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    pub fn reference_records(&self) -> Result<Vec<ReferenceRecord>, StoreError> {
        self.all(&format!("{REFERENCE_RECORDS} ORDER BY id"), reference_row)
    }

    pub fn results(&self) -> Result<Vec<DeviceResult>, StoreError> {
        self.all(&format!("{RESULTS} ORDER BY id"), result_row)
    }

    pub fn analyses(&self) -> Result<Vec<StoredAnalysis>, StoreError> {
        self.all(
            "SELECT id, inputs_sha256, output, ledger_seq FROM analyses ORDER BY id",
            |r| {
                Ok(StoredAnalysis {
                    id: r.get(0)?,
                    inputs_sha256: r.get(1)?,
                    output: r.get(2)?,
                    ledger_seq: r.get(3)?,
                })
            },
        )
    }
}
