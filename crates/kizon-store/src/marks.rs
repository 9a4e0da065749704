//! Lesion marks: a reader's (panel or adjudicator) or a device version's marks on one case,
//! stored one row per mark, the set numbered by `ordinal`. The shape is JSON as the
//! application writes it (`{"shape": "box", "x0": …}`). Rows are append-only like every
//! covered table; whether a re-import is the same set is the application's decision.

use crate::db::{Row, params};
use serde::Serialize;

use kizon_vocab::ReadRole;

use crate::words::optional_role;
use crate::{Store, StoreError, Tx};

/// Whose marks: a registered reader in a role, or a device version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MarkOwner {
    Reader { reader_id: i64, role: ReadRole },
    Device { version: String },
}

/// One mark to record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewMark {
    pub case_id: String,
    /// The image or frame within the case (`""` when the case has one).
    pub image: String,
    pub owner: MarkOwner,
    pub ordinal: i64,
    /// JSON of the shape.
    pub shape: String,
    pub lesion_type: Option<String>,
    pub size_mm: Option<f64>,
    pub rating: Option<f64>,
    /// SHA-256 of the imported file (in the document store).
    pub source: String,
}

/// A stored mark; `reader` is the reader's code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredMark {
    pub id: i64,
    pub case_id: String,
    pub image: String,
    pub reader: Option<String>,
    pub role: Option<ReadRole>,
    pub device_version: Option<String>,
    pub ordinal: i64,
    pub shape: String,
    pub lesion_type: Option<String>,
    pub size_mm: Option<f64>,
    pub rating: Option<f64>,
    pub source: String,
    pub ledger_seq: i64,
}

const MARKS: &str = "SELECT m.id, m.case_id, m.image, d.code, m.role, m.device_version, m.ordinal, m.shape, m.lesion_type, m.size_mm, m.rating, m.source, m.ledger_seq
                     FROM marks m LEFT JOIN readers d ON d.id = m.reader_id";

fn mark_row(r: &Row<'_>) -> crate::db::Result<StoredMark> {
    Ok(StoredMark {
        id: r.get(0)?,
        case_id: r.get(1)?,
        image: r.get(2)?,
        reader: r.get(3)?,
        role: optional_role(r, "marks", 4)?,
        device_version: r.get(5)?,
        ordinal: r.get(6)?,
        shape: r.get(7)?,
        lesion_type: r.get(8)?,
        size_mm: r.get(9)?,
        rating: r.get(10)?,
        source: r.get(11)?,
        ledger_seq: r.get(12)?,
    })
}

impl Tx<'_> {
    /// The marks already recorded for `owner` on `case_id`, by ordinal.
    pub fn marks_of(
        &self,
        case_id: &str,
        owner: &MarkOwner,
    ) -> Result<Vec<StoredMark>, StoreError> {
        let (sql, reader, role, version) = match owner {
            MarkOwner::Reader { reader_id, role } => (
                format!(
                    "{MARKS} WHERE m.case_id = ?1 AND m.reader_id = ?2 AND m.role = ?3 ORDER BY m.ordinal"
                ),
                Some(*reader_id),
                Some(role.as_stored()),
                None,
            ),
            MarkOwner::Device { version } => (
                format!(
                    "{MARKS} WHERE m.case_id = ?1 AND m.device_version = ?2 ORDER BY m.ordinal"
                ),
                None,
                None,
                Some(version.as_str()),
            ),
        };
        let mut statement = self.sql().prepare_cached(&sql).map_err(|e| self.err(e))?;
        let params: Vec<&dyn crate::db::ToParam> = if version.is_some() {
            vec![&case_id, &version]
        } else {
            vec![&case_id, &reader, &role]
        };
        statement
            .query_map(params.as_slice(), mark_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    pub fn insert_mark(&mut self, mark: &NewMark) -> Result<(), StoreError> {
        let seq = self.pending_seq();
        let (reader_id, role, version) = match &mark.owner {
            MarkOwner::Reader { reader_id, role } => {
                (Some(*reader_id), Some(role.as_stored()), None)
            }
            MarkOwner::Device { version } => (None, None, Some(version.as_str())),
        };
        self.sql()
            .prepare_cached(
                "INSERT INTO marks (case_id, image, reader_id, role, device_version, ordinal, shape, lesion_type, size_mm, rating, source, ledger_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    mark.case_id,
                    mark.image,
                    reader_id,
                    role,
                    version,
                    mark.ordinal,
                    mark.shape,
                    mark.lesion_type,
                    mark.size_mm,
                    mark.rating,
                    mark.source,
                    seq
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

impl Store {
    /// Every mark, in the order recorded.
    pub fn marks(&self) -> Result<Vec<StoredMark>, StoreError> {
        let mut statement = self
            .conn()
            .prepare(&format!("{MARKS} ORDER BY m.id"))
            .map_err(|e| self.err(e))?;
        statement
            .query_map(params![], mark_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }
}
