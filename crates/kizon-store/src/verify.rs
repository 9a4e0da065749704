//! Checking the ledger, the rows it covers, the documents and the head anchor.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

use crate::db::{OptionalExtension, params};
use crate::ledger::{self, GENESIS_PREV_HASH};
use crate::schema::COVERED_TABLES;
use crate::{Store, StoreError, documents, read_head};

/// One thing found wrong, attached to the ledger entry it concerns where there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub seq: Option<i64>,
    pub message: String,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub entries: usize,
    pub documents: usize,
    /// The last entry's sequence number and hash.
    pub head: Option<(i64, String)>,
    /// Problems, first bad entry first. Empty: intact.
    pub problems: Vec<Problem>,
    /// Things worth knowing that are not tampering (an orphan document from an interrupted command).
    pub notes: Vec<String>,
}

impl VerifyReport {
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Store {
    /// Checks everything the ledger vouches for. `expected_head`: a hash recorded elsewhere (in a
    /// report, say) that must be an entry of the chain.
    pub fn verify(&self, expected_head: Option<&str>) -> Result<VerifyReport, StoreError> {
        let conn = self.conn();
        if conn.backend() == crate::db::Backend::Postgres {
            // Always made afresh: nothing remembered in the study folder is taken on trust here.
            crate::schema::prepare_postgres_differences(conn, crate::schema::Reference::Fresh)
                .map_err(|e| self.err(e))?;
        }
        let mut problems = Vec::new();
        let mut notes = Vec::new();
        let problem = |seq: Option<i64>, message: String| Problem { seq, message };

        // SQLite: the full integrity check, not `quick_check`: the digests below find rows
        // through the `ledger_seq` indexes, and an index rebuilt to mis-key a row would hide it
        // from them; `integrity_check` compares every index with its table. Foreign keys too:
        // a row may not name a document or a case that is not there. (PostgreSQL enforces its
        // foreign keys and checks its pages itself.)
        let mut dangling: Vec<(String, Option<i64>, String)> = Vec::new();
        if let Some(sqlite) = conn.sqlite() {
            let integrity: Vec<String> = sqlite
                .prepare("PRAGMA integrity_check(20)")
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .map_err(|e| self.err(e.into()))?;
            if integrity != ["ok"] {
                problems.push(problem(
                    None,
                    format!(
                        "database damaged or an index altered: {}",
                        integrity.join("; ")
                    ),
                ));
            }
            dangling = sqlite
                .prepare("PRAGMA foreign_key_check")
                .and_then(|mut s| {
                    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                        .collect()
                })
                .map_err(|e| self.err(e.into()))?;
        }
        for (table, rowid, parent) in dangling.iter().take(20) {
            problems.push(problem(
                None,
                format!(
                    "`{table}` row {} refers to a `{parent}` row that is not there",
                    rowid.map_or("?".to_owned(), |r| r.to_string())
                ),
            ));
        }

        let entries = self.ledger()?;
        // Each covered table read once, in entry order: a query per entry and table made
        // verify (and so every signed command, which verifies first) grow as entries × 27.
        let mut digests = Vec::with_capacity(COVERED_TABLES.len());
        for (table, order_by) in COVERED_TABLES {
            digests.push(
                ledger::rows_digests_by_entry(conn, table, order_by).map_err(|e| self.err(e))?,
            );
        }
        let mut previous_hash = GENESIS_PREV_HASH.to_owned();
        for (index, entry) in entries.iter().enumerate() {
            let expected_seq = index as i64 + 1;
            let seq = Some(entry.seq);
            if entry.seq != expected_seq {
                problems.push(problem(
                    seq,
                    format!("entry {} is out of sequence: expected entry {expected_seq} here (an entry was removed or inserted)", entry.seq),
                ));
            }
            if entry.prev_hash != previous_hash {
                problems.push(problem(
                    seq,
                    format!("entry {} does not follow the entry before it: its previous hash does not match (removed, inserted or reordered)", entry.seq),
                ));
            }
            if entry.computed_hash() != entry.hash {
                problems.push(problem(
                    seq,
                    format!(
                        "entry {} was altered: its hash does not match its content",
                        entry.seq
                    ),
                ));
            }
            let recorded = match serde_json::from_str::<Value>(&entry.detail) {
                Ok(detail) => detail.get("rows").cloned().unwrap_or(Value::Null),
                Err(_) => {
                    problems.push(problem(
                        seq,
                        format!("entry {}: detail is not JSON", entry.seq),
                    ));
                    Value::Null
                }
            };
            for ((table, _), by_entry) in COVERED_TABLES.iter().zip(&digests) {
                let (count, sha256) = by_entry
                    .get(&entry.seq)
                    .map_or((0, ""), |(count, sha256)| (*count, sha256.as_str()));
                let want_count = recorded
                    .pointer(&format!("/{table}/count"))
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let want_sha = recorded
                    .pointer(&format!("/{table}/sha256"))
                    .and_then(Value::as_str);
                if count != want_count || (count > 0 && want_sha != Some(sha256)) {
                    problems.push(problem(
                        seq,
                        format!(
                            "entry {}: the `{table}` rows it created were altered, removed or added ({want_count} recorded, {count} found)",
                            entry.seq
                        ),
                    ));
                }
            }
            previous_hash = entry.hash.clone();
        }

        for (table, _) in COVERED_TABLES {
            let strays: i64 = conn
                .query_row(
                    &format!("SELECT count(*) FROM {table} WHERE ledger_seq IS NULL OR ledger_seq NOT IN (SELECT seq FROM ledger)"),
                    params![],
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            if strays > 0 {
                problems.push(problem(None, format!("`{table}`: {strays} rows belong to no ledger entry (inserted outside kizon)")));
            }
        }

        let differences = match conn.sqlite() {
            Some(sqlite) => crate::schema::differences(sqlite).map_err(|e| self.err(e.into()))?,
            None => crate::schema::postgres_differences(conn).map_err(|e| self.err(e))?,
        };
        for message in differences {
            problems.push(problem(None, message));
        }

        // Password hashes sit outside the covered rows (a secret must not travel in a
        // package), but the ledger records the digest of each one it set.
        let (hashes, recorded) = self.credentials_and_records()?;
        for (user, hash) in hashes {
            let entry = recorded.get(&user);
            let vouched = crate::users::vouched(entry, &hash);
            if vouched.is_none() {
                notes.push(format!("the password of `{user}` was set before kizon recorded password digests in the ledger: it opens nothing until set again (kizon user passwd {user})"));
            }
            if vouched == Some(false) {
                problems.push(problem(
                    entry.map(|(seq, _)| *seq),
                    match entry {
                        Some((seq, _)) => format!("the password of `{user}` is not the one entry {seq} set: the `credentials` row was changed outside kizon (it opens nothing)"),
                        None => format!("`credentials` holds a password for `{user}` that no ledger entry set (written outside kizon; it opens nothing)"),
                    },
                ));
            }
        }

        // A move recorded in the ledger that this folder does not follow: the documents below
        // are looked for where this folder names them, or the database was left behind.
        if let Some(moved) =
            crate::moves::refusal(conn, 0, self.objects()).map_err(|e| self.err(e))?
        {
            notes.push(moved);
        }

        let mut registered = HashSet::new();
        {
            let mut statement = conn
                .prepare("SELECT sha256, ledger_seq FROM documents ORDER BY ledger_seq, sha256")
                .map_err(|e| self.err(e))?;
            let rows: Vec<(String, i64)> = statement
                .query_map(params![], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect())
                .map_err(|e| self.err(e))?;
            for (sha256, seq) in rows {
                if !documents::is_object_name(&sha256) {
                    problems.push(problem(
                        Some(seq),
                        format!("a document row names `{sha256}`, which is not a SHA-256: the row was written outside kizon"),
                    ));
                    continue;
                }
                let presence = self.objects().check(&sha256)?;
                let location = self.objects().location_of(&sha256);
                match presence {
                    documents::Presence::Intact => {}
                    documents::Presence::Missing => problems.push(problem(
                        Some(seq),
                        format!("document {sha256} is missing from the store ({location})"),
                    )),
                    documents::Presence::Altered => problems.push(problem(
                        Some(seq),
                        format!(
                            "document {sha256} was altered: its content no longer matches its hash ({location})"
                        ),
                    )),
                }
                registered.insert(sha256);
            }
        }
        for (name, location) in self.objects().list()? {
            if !registered.contains(&name) {
                notes.push(format!(
                    "{location}: stored but not referenced by any entry (left by an interrupted command; not part of the study)"
                ));
            }
        }

        let head = entries.last().map(|e| (e.seq, e.hash.clone()));
        match (read_head(self.root())?, &head) {
            (None, Some(_)) => problems.push(problem(
                None,
                format!(
                    "{} is missing: the end of the ledger cannot be checked",
                    crate::HEAD_FILE
                ),
            )),
            (None, None) => {}
            (Some((anchor_seq, anchor_hash)), _) => {
                // An anchor past the entries read here names an entry another command
                // committed while this verify ran (a web login, say): that entry is read now,
                // and it must be the one the anchor names. Its own checks wait for the next
                // verify; a truncation leaves no such entry.
                let committed_meanwhile =
                    if head.as_ref().is_some_and(|(last, _)| anchor_seq > *last) {
                        conn.query_row(
                            "SELECT hash FROM ledger WHERE seq = ?1",
                            params![anchor_seq],
                            |r| r.get::<String>(0),
                        )
                        .optional()
                        .map_err(|e| self.err(e))?
                    } else {
                        None
                    };
                match entries.iter().find(|e| e.seq == anchor_seq) {
                    None if committed_meanwhile.as_deref() == Some(anchor_hash.as_str()) => {
                        notes.push(format!(
                            "entries after {} were committed while this verify ran; they are checked by the next one",
                            head.as_ref().map_or(0, |h| h.0)
                        ));
                    }
                    None => problems.push(problem(
                        Some(anchor_seq),
                        format!(
                            "the ledger was truncated: {} names entry {anchor_seq}, which is gone (the ledger ends at {})",
                            crate::HEAD_FILE,
                            head.as_ref().map_or(0, |h| h.0)
                        ),
                    )),
                    Some(entry) if entry.hash != anchor_hash => problems.push(problem(
                        Some(anchor_seq),
                        format!("entry {anchor_seq} differs from the one {} recorded", crate::HEAD_FILE),
                    )),
                    Some(_) => {
                        if head.as_ref().is_some_and(|h| h.0 > anchor_seq) {
                            notes.push(format!(
                                "{} names entry {anchor_seq}, the ledger ends at {}: a command was interrupted after its commit; the next command updates the anchor",
                                crate::HEAD_FILE,
                                head.as_ref().map_or(0, |h| h.0)
                            ));
                        }
                    }
                }
            }
        }
        if let Some(expected) = expected_head
            && !entries.iter().any(|e| e.hash == expected)
        {
            problems.push(problem(
                None,
                format!("no entry of the ledger has the hash {expected} given with --head"),
            ));
        }

        problems.sort_by_key(|p| p.seq.unwrap_or(i64::MAX));
        Ok(VerifyReport {
            entries: entries.len(),
            documents: registered.len(),
            head,
            problems,
            notes,
        })
    }
}
