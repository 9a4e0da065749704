//! The append-only, hash-chained audit ledger.
//!
//! An entry's hash is the SHA-256 of this UTF-8 text, fields separated by `\n`:
//!
//! ```text
//! kizon-ledger-v1
//! {seq}
//! {at}
//! {actor}
//! {command}
//! {detail}
//! {prev_hash}
//! ```
//!
//! `detail` is the JSON text exactly as stored; `prev_hash` of the first entry is 64 zeros. An
//! auditor can recompute the chain with `sqlite3` and `sha256sum` alone. The detail's `rows`
//! object holds, per covered table, the count and SHA-256 of the rows the entry created (see
//! [`rows_digest`]), binding the tables to the chain.

use crate::db::{Db, OptionalExtension, ValueRef, params};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::schema::COVERED_TABLES;

pub const GENESIS_PREV_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// One ledger entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LedgerEntry {
    pub seq: i64,
    /// UTC, RFC 3339 with microseconds.
    pub at: String,
    pub actor: String,
    pub command: String,
    /// JSON: `summary`, command-specific fields, and `rows`.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl LedgerEntry {
    /// The hash this entry's fields give (whatever its `hash` field says).
    pub fn computed_hash(&self) -> String {
        entry_hash(
            self.seq,
            &self.at,
            &self.actor,
            &self.command,
            &self.detail,
            &self.prev_hash,
        )
    }

    /// The detail as JSON (an empty object if it does not parse, which `verify` reports).
    pub fn detail_json(&self) -> Value {
        serde_json::from_str(&self.detail).unwrap_or(Value::Object(Map::new()))
    }

    /// The one-line summary of what changed.
    pub fn summary(&self) -> String {
        self.detail_json()
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

pub fn entry_hash(
    seq: i64,
    at: &str,
    actor: &str,
    command: &str,
    detail: &str,
    prev_hash: &str,
) -> String {
    let preimage =
        format!("kizon-ledger-v1\n{seq}\n{at}\n{actor}\n{command}\n{detail}\n{prev_hash}");
    hex(&Sha256::digest(preimage.as_bytes()))
}

pub use kizon_objects::hex;

/// Count and SHA-256 of the rows of `table` created by entry `seq`, in the table's order.
///
/// Each value is written as a type tag and its bytes (integers big-endian, text and blobs
/// length-prefixed), each row prefixed by its column count, so that no two different row sets
/// share a digest. Trailing NULL columns are not hashed (nor counted): a column that a
/// migration adds is last and NULL in the rows written before it, so their digests stay those
/// the ledger recorded (every covered table's own last column, `ledger_seq`, is NOT NULL).
pub fn rows_digest(
    conn: &Db,
    table: &str,
    order_by: &str,
    seq: i64,
) -> crate::db::Result<(i64, String)> {
    let mut hasher = Sha256::new();
    let mut count = 0i64;
    conn.for_each_row(
        &format!("SELECT * FROM {table} WHERE ledger_seq = ?1 ORDER BY {order_by}"),
        params![seq],
        |row| {
            count += 1;
            hash_row(&mut hasher, row, 0)
        },
    )?;
    Ok((count, hex(&hasher.finalize())))
}

/// [`rows_digest`] of every entry at once: one ordered pass over `table` instead of a query
/// per entry (what `verify` runs over a whole ledger), by entry. Entries that created no row
/// of the table are absent.
pub fn rows_digests_by_entry(
    conn: &Db,
    table: &str,
    order_by: &str,
) -> crate::db::Result<std::collections::HashMap<i64, (i64, String)>> {
    let mut digests = std::collections::HashMap::new();
    let mut current: Option<(i64, i64, Sha256)> = None;
    conn.for_each_row(
        &format!("SELECT ledger_seq, * FROM {table} ORDER BY ledger_seq, {order_by}"),
        params![],
        |row| {
            // NULL never matches an entry (`verify` reports those rows as strays).
            let ValueRef::Integer(seq) = row.get_ref(0)? else {
                return Ok(());
            };
            if current.as_ref().is_none_or(|(s, _, _)| *s != seq) {
                if let Some((s, count, hasher)) = current.take() {
                    digests.insert(s, (count, hex(&hasher.finalize())));
                }
                current = Some((seq, 0, Sha256::new()));
            }
            let (_, count, hasher) = current.as_mut().expect("set above");
            *count += 1;
            hash_row(hasher, row, 1)
        },
    )?;
    if let Some((s, count, hasher)) = current {
        digests.insert(s, (count, hex(&hasher.finalize())));
    }
    Ok(digests)
}

/// Hashes one row from column `first` on, as [`rows_digest`] documents.
fn hash_row(hasher: &mut Sha256, row: &crate::db::Row<'_>, first: usize) -> crate::db::Result<()> {
    let mut width = row.column_count();
    while width > first && matches!(row.get_ref(width - 1)?, ValueRef::Null) {
        width -= 1;
    }
    hasher.update(((width - first) as u32).to_be_bytes());
    for i in first..width {
        match row.get_ref(i)? {
            ValueRef::Null => hasher.update([0u8]),
            ValueRef::Integer(v) => {
                hasher.update([1u8]);
                hasher.update(v.to_be_bytes());
            }
            ValueRef::Real(v) => {
                hasher.update([2u8]);
                hasher.update(v.to_bits().to_be_bytes());
            }
            ValueRef::Text(text) => {
                hasher.update([3u8]);
                hasher.update((text.len() as u64).to_be_bytes());
                hasher.update(text.as_bytes());
            }
            ValueRef::Blob(bytes) => {
                hasher.update([3u8]);
                hasher.update((bytes.len() as u64).to_be_bytes());
                hasher.update(bytes);
            }
        }
    }
    Ok(())
}

/// The `rows` object of an entry: every covered table with rows created by `seq`.
pub fn rows_record(conn: &Db, seq: i64) -> crate::db::Result<Map<String, Value>> {
    let mut record = Map::new();
    for (table, order_by) in COVERED_TABLES {
        let (count, sha256) = rows_digest(conn, table, order_by, seq)?;
        if count > 0 {
            record.insert(
                (*table).to_owned(),
                serde_json::json!({ "count": count, "sha256": sha256 }),
            );
        }
    }
    Ok(record)
}

/// The one statement of [`refuse_rows_ahead`]: for table `i` of [`COVERED_TABLES`], its first
/// row at or past `?1` (order `2i`) and its first row without an entry (order `2i + 1`); the
/// lowest order found names what is reported, as checking the tables one by one did.
fn rows_ahead_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let lookups: Vec<String> = COVERED_TABLES
            .iter()
            .enumerate()
            .flat_map(|(i, (table, key))| {
                [(2 * i, "ledger_seq >= ?1"), (2 * i + 1, "ledger_seq IS NULL")].map(
                    |(order, condition)| {
                        format!(
                            "SELECT * FROM (SELECT CAST({order} AS BIGINT) AS lookup, CAST({key} AS TEXT) AS row_key, ledger_seq FROM {table} WHERE {condition} LIMIT 1) AS lookup{order}"
                        )
                    },
                )
            })
            .collect();
        format!("{} ORDER BY lookup LIMIT 1", lookups.join(" UNION ALL "))
    })
}

/// Why [`refuse_rows_ahead`] refused.
pub(crate) enum AheadError {
    Database(crate::db::Error),
    Ahead(String),
}

/// Refuses a covered table that holds a row the ledger cannot have written: one carrying the
/// sequence number of the entry about to be appended, or a later one, or none at all. Such a row
/// was inserted outside kizon; appending the next entry would seal it into the chain.
pub(crate) fn refuse_rows_ahead(conn: &Db, next_seq: i64) -> Result<(), AheadError> {
    // Per table two lookups in its `ledger_seq` index, each stopping at its first row: a row at
    // or past the next entry, and a row without one (one condition `IS NULL OR >=` scanned the
    // whole index instead, on every write). All of them go as one statement: on PostgreSQL
    // each statement is a round trip, and every transaction begins here.
    let found = conn
        .query_row(rows_ahead_sql(), params![next_seq], |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<String>(1)?,
                r.get::<Option<i64>>(2)?,
            ))
        })
        .optional()
        .map_err(AheadError::Database)?;
    if let Some((order, row, seq)) = found {
        let table = COVERED_TABLES[(order / 2) as usize].0;
        let carries = match seq {
            Some(seq) => format!("ledger entry {seq}"),
            None => "no ledger entry (NULL)".to_owned(),
        };
        return Err(AheadError::Ahead(format!(
            "`{table}` row {row} carries {carries}, but the ledger ends at entry {}: the row was inserted outside kizon, and no command runs until it is gone",
            next_seq - 1
        )));
    }
    let signature_ahead: Option<i64> = conn
        .query_row(
            "SELECT seq FROM signatures WHERE seq >= ?1 LIMIT 1",
            params![next_seq],
            |r| r.get(0),
        )
        .optional()
        .map_err(AheadError::Database)?;
    if let Some(seq) = signature_ahead {
        return Err(AheadError::Ahead(format!(
            "`signatures` holds a signature of entry {seq}, but the ledger ends at entry {}: it was put there outside kizon",
            next_seq - 1
        )));
    }
    Ok(())
}

/// Reads the whole ledger in sequence order.
pub fn read_all(conn: &Db) -> crate::db::Result<Vec<LedgerEntry>> {
    read(conn, "", params![])
}

/// The entries meeting `condition` (SQL over the ledger's columns, its one parameter `value`),
/// in sequence order.
pub(crate) fn read_where(
    conn: &Db,
    condition: &str,
    value: &dyn crate::db::ToParam,
) -> crate::db::Result<Vec<LedgerEntry>> {
    read(conn, &format!("WHERE {condition}"), &[value])
}

/// The entries `filter` (empty, or a `WHERE` clause over `params`) selects, in sequence order.
fn read(
    conn: &Db,
    filter: &str,
    params: &[&dyn crate::db::ToParam],
) -> crate::db::Result<Vec<LedgerEntry>> {
    let mut statement = conn.prepare(&format!(
        "SELECT seq, at, actor, command, detail, prev_hash, hash FROM ledger {filter} ORDER BY seq"
    ))?;
    statement
        .query_map(params, |row| {
            Ok(LedgerEntry {
                seq: row.get(0)?,
                at: row.get(1)?,
                actor: row.get(2)?,
                command: row.get(3)?,
                detail: row.get(4)?,
                prev_hash: row.get(5)?,
                hash: row.get(6)?,
            })
        })?
        .collect()
}

/// The last entry's sequence number and hash, if any.
pub fn head(conn: &Db) -> crate::db::Result<Option<(i64, String)>> {
    conn.query_row(
        "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1",
        params![],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
}
