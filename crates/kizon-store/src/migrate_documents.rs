//! Moving a study's documents between its folder's `documents/` and an S3-compatible bucket
//! (`kizon migrate-store --objects`), the counterpart of moving its database ([`migrate`]):
//! a study begun on one machine can be served from several once its database is in
//! PostgreSQL and its documents in a bucket.
//!
//! Every document the study's rows name is read from where it is, checked against its name,
//! written to the new place and read back and checked there, all under the study's write lock,
//! so no command stores a document meanwhile. Only then does the folder switch (`objects.url`
//! appears, changes or moves away), in one rename. The old place is kept as it was: the folder
//! `documents/` is renamed `documents.before-migration`, a bucket is left untouched. The ledger
//! is not extended: no row changes, as with the database's move.
//!
//! A move that is interrupted (killed, a network failure) is simply run again: a bucket's
//! prefix is claimed for this study (by its first ledger entry's hash) before the first
//! document is copied, so the second run recognises the prefix as its own, and a document
//! already copied intact is kept.
//!
//! [`migrate`]: crate::migrate

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use kizon_objects::{Objects, Presence, S3Location, S3Store};

use crate::db::{self, Db};
use crate::documents::{DOCUMENTS_DIR, OBJECTS_URL_FILE, objects_of};
use crate::migrate::kept_name;
use crate::{Store, StoreError, placement, sqlite};

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
    /// Moves this study's documents to `target` and makes the folder use it there. The study
    /// is closed by the move; open it again.
    pub fn migrate_documents(
        self,
        target: DocumentsTarget<'_>,
    ) -> Result<MovedDocuments, StoreError> {
        let root = self.root.clone();
        let from = self.objects.clone();
        let mut store = self;
        let db_path = store.db_path();
        // The write lock is held from before the documents are listed until the folder has
        // switched: no command stores a document in the old place meanwhile.
        let source = store.conn.begin().map_err(|e| sqlite(&db_path, e))?;
        if let Some(moved) = store
            .placement
            .moved(&placement::Placement::read(&root)?, &root)
        {
            return Err(moved);
        }
        let names = referenced_documents(&source).map_err(|e| sqlite(&db_path, e))?;
        let to = match target {
            DocumentsTarget::Folder => {
                if let Objects::Local(_) = from {
                    return Err(StoreError::Conflict(format!(
                        "{}: the study's documents are already in this folder",
                        from.describe()
                    )));
                }
                let folder = root.join(DOCUMENTS_DIR).join("sha256");
                fs::create_dir_all(&folder).map_err(|e| StoreError::io(&folder, e))?;
                Objects::local(&root)
            }
            DocumentsTarget::Bucket(url) => {
                let location = S3Location::parse(url)?;
                if let Objects::S3(current) = &from
                    && current.location().to_url() == location.to_url()
                {
                    return Err(StoreError::Conflict(format!(
                        "{}: the study's documents are already in this bucket",
                        current.location()
                    )));
                }
                let bucket = S3Store::connect(location)?;
                let genesis = genesis_hash(&source).map_err(|e| sqlite(&db_path, e))?;
                claim_for(&bucket, &genesis)?;
                Objects::S3(Arc::new(bucket))
            }
        };

        let mut bytes = 0u64;
        for sha256 in &names {
            let content = from.get(sha256)?.ok_or_else(|| {
                StoreError::Tampered(format!(
                    "document {sha256} is missing from {}; nothing was moved",
                    from.location_of(sha256)
                ))
            })?;
            to.put_bytes(&content)?;
            match to.check(sha256)? {
                Presence::Intact => {}
                Presence::Missing | Presence::Altered => {
                    return Err(StoreError::Objects(format!(
                        "{}: the copy does not read back as it was written; nothing was switched",
                        to.location_of(sha256)
                    )));
                }
            }
            bytes += content.len() as u64;
        }

        // The switch: `objects.url` appears, is replaced or moves away in one rename; what
        // kept the documents before stays beside it.
        let marker = root.join(OBJECTS_URL_FILE);
        let kept = match &to {
            Objects::S3(bucket) => {
                let tmp = root.join(format!("{OBJECTS_URL_FILE}.tmp"));
                fs::write(&tmp, format!("{}\n", bucket.location().to_url()))
                    .map_err(|e| StoreError::io(&tmp, e))?;
                let kept = match &from {
                    Objects::Local(_) => kept_name(&root.join(DOCUMENTS_DIR)),
                    Objects::S3(_) => {
                        let kept = kept_name(&marker);
                        fs::copy(&marker, &kept).map_err(|e| StoreError::io(&kept, e))?;
                        kept
                    }
                };
                fs::rename(&tmp, &marker).map_err(|e| StoreError::io(&marker, e))?;
                if let Objects::Local(_) = from {
                    let folder = root.join(DOCUMENTS_DIR);
                    fs::rename(&folder, &kept).map_err(|e| StoreError::io(&folder, e))?;
                }
                kept
            }
            Objects::Local(_) => {
                let kept = kept_name(&marker);
                fs::rename(&marker, &kept).map_err(|e| StoreError::io(&marker, e))?;
                kept
            }
        };
        drop(source);
        drop(store);
        // The folder now opens on the new place (checked, not assumed).
        let now = objects_of(&root)?;
        Ok(MovedDocuments {
            from: from.describe(),
            to: now.describe(),
            documents: names.len() as u64,
            bytes,
            kept,
        })
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
    match bucket.read_claim()? {
        Some(claim) if claim.contains(&mark) => Ok(()),
        Some(_) => Err(StoreError::Occupied(format!(
            "{}: the prefix is claimed by another study",
            bucket.location()
        ))),
        None if !bucket.probe_empty()? => Err(StoreError::Occupied(format!(
            "{}: the prefix already holds objects (another study's?)",
            bucket.location()
        ))),
        None => Ok(bucket.claim(&format!(
            "kizon study, {mark}, documents moved in {}\n",
            crate::now_utc()
        ))?),
    }
}
