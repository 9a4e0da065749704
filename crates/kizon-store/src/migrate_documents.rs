//! Moving a study's documents between its folder's `documents/` and an S3-compatible bucket
//! (`kizon migrate-store --objects`), the counterpart of moving its database ([`migrate`]):
//! a study begun on one machine can be served from several once its database is in
//! PostgreSQL and its documents in a bucket.
//!
//! Every document the study's rows name is read from where it is, checked against its name,
//! written to the new place and read back and checked there, all in one write transaction, so
//! no command stores a document meanwhile (on any machine). The move is recorded in the ledger
//! (`documents moved`, with where to), and the folder switches (`objects.url` appears, changes
//! or moves away) in one rename before the entry commits. Every other folder of the study (a
//! second machine's) then refuses to write until its `objects.url` names the new place (see
//! [`moves`]). The old place is kept as it was: the folder `documents/` is renamed
//! `documents.before-migration`, a bucket is left untouched.
//!
//! A move that is interrupted (killed, a network failure) is simply run again: a bucket's
//! prefix is claimed for this study (by its first ledger entry's hash) before the first
//! document is copied, so the second run recognises the prefix as its own, and a document
//! already copied intact is kept.
//!
//! [`moves`]: crate::moves
//! [`migrate`]: crate::migrate

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kizon_objects::{Objects, Presence, S3Location, S3Store};

use crate::db::{self, Db};
use crate::documents::{DOCUMENTS_DIR, OBJECTS_URL_FILE};
use crate::migrate::kept_name;
use crate::moves::{self, DOCUMENTS_MOVED};
use crate::{Store, StoreError};

/// Where `migrate-store --objects` moves the documents.
#[derive(Debug, Clone, Copy)]
pub enum DocumentsTarget<'a> {
    /// The study folder's `documents/`.
    Folder,
    /// An S3-compatible bucket and prefix: `s3://BUCKET/PREFIX?endpoint=URL&region=R`.
    Bucket(&'a str),
}

/// What a move of the documents did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MovedDocuments {
    /// Where the documents were (a folder, or `s3://bucket/prefix at endpoint`).
    pub from: String,
    /// Where they are now.
    pub to: String,
    /// Documents copied and read back intact.
    pub documents: u64,
    pub bytes: u64,
    /// What keeps the old place: the renamed `documents/` folder, or the file with the old
    /// bucket's URL.
    pub kept: PathBuf,
}

impl Store {
    /// Moves this study's documents to `target` and makes the folder use it there, as `actor`.
    /// The study is closed by the move; open it again.
    pub fn migrate_documents(
        mut self,
        actor: &str,
        target: DocumentsTarget<'_>,
    ) -> Result<MovedDocuments, StoreError> {
        let root = self.root.clone();
        let from = self.objects.clone();
        let location = match target {
            DocumentsTarget::Folder => {
                if let Objects::Local(_) = from {
                    return Err(StoreError::AlreadyThere(format!(
                        "{}: the study's documents are already in this folder",
                        from.describe()
                    )));
                }
                None
            }
            DocumentsTarget::Bucket(url) => {
                let location = S3Location::parse(url)?;
                if let Objects::S3(current) = &from
                    && current.location().to_url() == location.to_url()
                {
                    return Err(StoreError::AlreadyThere(format!(
                        "{}: the study's documents are already in this bucket",
                        current.location()
                    )));
                }
                Some(location)
            }
        };
        // In one transaction, so under the write lock from before the documents are listed
        // until the folder has switched: no command stores a document in the old place
        // meanwhile, here or on another machine.
        let (documents, bytes, to, kept) = self.transact(actor, |tx| {
            let names = referenced_documents(tx.sql()).map_err(|e| tx.err(e))?;
            let to = match location {
                None => {
                    let folder = root.join(DOCUMENTS_DIR).join("sha256");
                    fs::create_dir_all(&folder).map_err(|e| StoreError::io(&folder, e))?;
                    Objects::local(&root)
                }
                Some(location) => {
                    let bucket = S3Store::connect(location)?;
                    let genesis = genesis_hash(tx.sql()).map_err(|e| tx.err(e))?;
                    claim_for(&bucket, &genesis)?;
                    Objects::S3(Arc::new(bucket))
                }
            };
            let mut bytes = 0u64;
            for sha256 in &names {
                let content = from.get(sha256)?.ok_or_else(|| {
                    StoreError::Tampered(format!(
                        "document {sha256} is missing from {}; the study still keeps its documents there (run the command again once it is back)",
                        from.location_of(sha256)
                    ))
                })?;
                to.put_bytes(&content)?;
                if to.check(sha256)? != Presence::Intact {
                    return Err(StoreError::Objects(format!(
                        "{}: the copy does not read back as it was written; the study still keeps its documents where they were",
                        to.location_of(sha256)
                    )));
                }
                bytes += content.len() as u64;
            }
            // The write lock is the database session's: if that was lost during a long copy
            // (a network failure, a server's idle timeout), another command may have stored a
            // document meanwhile. The database answering the same list proves it was not.
            let again = referenced_documents(tx.sql()).map_err(|e| tx.err(e))?;
            if again != names {
                return Err(StoreError::Conflict(
                    "documents were added while they were being copied; run the command again"
                        .into(),
                ));
            }
            tx.record(
                DOCUMENTS_MOVED,
                &format!("documents moved to {}", to.describe()),
                serde_json::json!({
                    "from": moves::identity(&from),
                    "to": moves::identity(&to),
                    "documents": names.len(),
                    "bytes": bytes,
                }),
            )?;
            let kept = switch(&root, &from, &to)?;
            Ok((names.len() as u64, bytes, to.describe(), kept))
        })?;
        Ok(MovedDocuments {
            from: from.describe(),
            to,
            documents,
            bytes,
            kept,
        })
    }
}

/// Makes the folder `root` keep its documents in `to` instead of `from`: `objects.url` appears,
/// is replaced or moves away in one rename; what kept the documents before stays beside it
/// (returned).
fn switch(root: &Path, from: &Objects, to: &Objects) -> Result<PathBuf, StoreError> {
    let marker = root.join(OBJECTS_URL_FILE);
    match to {
        Objects::S3(bucket) => {
            let tmp = root.join(format!("{OBJECTS_URL_FILE}.tmp"));
            fs::write(&tmp, format!("{}\n", bucket.location().to_url()))
                .map_err(|e| StoreError::io(&tmp, e))?;
            if let Objects::S3(_) = from {
                let kept = kept_name(&marker);
                fs::copy(&marker, &kept).map_err(|e| StoreError::io(&kept, e))?;
                fs::rename(&tmp, &marker).map_err(|e| StoreError::io(&marker, e))?;
                return Ok(kept);
            }
            fs::rename(&tmp, &marker).map_err(|e| StoreError::io(&marker, e))?;
            // The folder no longer reads `documents/`; renamed, nobody takes it for the
            // study's. A failure here leaves it in place, unused.
            let folder = root.join(DOCUMENTS_DIR);
            let kept = kept_name(&folder);
            Ok(match fs::rename(&folder, &kept) {
                Ok(()) => kept,
                Err(_) => folder,
            })
        }
        Objects::Local(_) => {
            let kept = kept_name(&marker);
            fs::rename(&marker, &kept).map_err(|e| StoreError::io(&marker, e))?;
            Ok(kept)
        }
    }
}

/// The names of every document the study's rows refer to, oldest first.
fn referenced_documents(db: &Db) -> db::Result<Vec<String>> {
    let mut names = Vec::new();
    db.for_each_row(
        "SELECT sha256 FROM documents ORDER BY ledger_seq, sha256",
        &[],
        |row| {
            names.push(row.get::<String>(0)?);
            Ok(())
        },
    )?;
    Ok(names)
}

/// The hash of the study's first ledger entry: what names the study in a bucket's claim.
fn genesis_hash(db: &Db) -> db::Result<String> {
    db.query_row("SELECT hash FROM ledger WHERE seq = 1", &[], |r| {
        r.get::<String>(0)
    })
}

/// Claims `bucket`'s prefix for the study whose first ledger entry is `genesis`: an empty
/// prefix is claimed; one already claimed for this study (an earlier, interrupted move) is
/// taken as it is; any other is refused.
fn claim_for(bucket: &S3Store, genesis: &str) -> Result<(), StoreError> {
    let mark = crate::documents::claim_mark(genesis);
    let another = || {
        StoreError::Occupied(format!(
            "{}: the prefix is claimed by another study",
            bucket.location()
        ))
    };
    match bucket.read_claim()? {
        Some(claim) if claim.contains(&mark) => Ok(()),
        Some(_) => Err(another()),
        None if !bucket.probe_empty()? => Err(StoreError::Occupied(format!(
            "{}: the prefix already holds objects (another study's?)",
            bucket.location()
        ))),
        None => {
            let text = format!(
                "kizon study, {mark}, documents moved in {}\n",
                crate::now_utc()
            );
            // Claimed at the same moment by another: whose claim it is decides.
            if bucket.claim(&text)? {
                return Ok(());
            }
            match bucket.read_claim()? {
                Some(claim) if claim.contains(&mark) => Ok(()),
                _ => Err(another()),
            }
        }
    }
}
