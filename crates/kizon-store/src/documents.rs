//! Where a study's documents are kept: `documents/` in the study folder (the default), or the
//! S3-compatible bucket and prefix that the folder's `objects.url` names (issue 18), so that
//! several machines serving one PostgreSQL study share one document store. The storing itself
//! is kizon-objects'; this module chooses the place and turns its errors into the store's.
//!
//! `objects.url` holds no secret: the credentials come from the environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`).

use std::fs;
use std::path::Path;
use std::sync::Arc;

pub use kizon_objects::{
    DOCUMENTS_DIR, Objects, ObjectsError, Presence, StoredObject as StoredDocument, is_object_name,
};
use kizon_objects::{S3Location, S3Store};

use crate::StoreError;

/// In a study folder whose documents are in an object store: its `s3://` URL, one line.
pub const OBJECTS_URL_FILE: &str = "objects.url";

impl From<ObjectsError> for StoreError {
    fn from(error: ObjectsError) -> StoreError {
        match error {
            ObjectsError::Io { path, source } => StoreError::Io { path, source },
            ObjectsError::Tampered(message) => StoreError::Tampered(message),
            ObjectsError::Remote(message) => StoreError::Objects(message),
            ObjectsError::Config(message) => StoreError::Objects(message),
        }
    }
}

/// The document store of the study in `root`.
pub(crate) fn objects_of(root: &Path) -> Result<Objects, StoreError> {
    let marker = root.join(OBJECTS_URL_FILE);
    match fs::read_to_string(&marker) {
        Ok(url) => {
            let location = S3Location::parse(url.trim())
                .map_err(|e| StoreError::Objects(format!("{}: {e}", marker.display())))?;
            Ok(Objects::S3(Arc::new(S3Store::connect(location)?)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Objects::local(root)),
        Err(e) => Err(StoreError::io(&marker, e)),
    }
}

/// Checks, writing nothing, that a new study can keep its documents at the `s3://` URL `url`:
/// the bucket is reachable with the environment's credentials and holds no document under the
/// prefix. Returns the URL written out (endpoint and region).
pub fn check_object_store(url: &str) -> Result<String, StoreError> {
    let location = S3Location::parse(url)?;
    let written = location.to_url();
    let store = S3Store::connect(location)?;
    if !store.probe_empty()? {
        return Err(StoreError::Occupied(format!(
            "{}: the prefix already holds objects (another study's?)",
            store.location()
        )));
    }
    Ok(written)
}

/// Claims the prefix of the study being created in `root` (`PREFIX/kizon-study`), so that no
/// other study is made on it, naming the study by `genesis`, the hash of its first ledger entry
/// (which lets the study's documents come back to the prefix later). Called once that entry is
/// committed: an `init` that fails before leaves the prefix free for the next try.
pub fn claim_object_store(root: &Path, genesis: &str) -> Result<(), StoreError> {
    if let Objects::S3(store) = objects_of(root)?
        && !store.claim(&format!(
            "kizon study, {}, created {}\n",
            claim_mark(genesis),
            crate::now_utc()
        ))?
    {
        return Err(StoreError::Occupied(format!(
            "{}: another study claimed the prefix while this one was being made",
            store.location()
        )));
    }
    Ok(())
}

/// What a prefix's claim says of the study whose first ledger entry hashes to `genesis`.
pub(crate) fn claim_mark(genesis: &str) -> String {
    format!("ledger entry 1 {genesis}")
}

/// Makes `root` (a study being created) keep its documents at the `s3://` URL `url`, which
/// [`check_object_store`] has passed. Records the URL, endpoint and region written out, in
/// [`OBJECTS_URL_FILE`]; returns it.
pub fn use_object_store(root: &Path, url: &str) -> Result<String, StoreError> {
    let written = S3Location::parse(url)?.to_url();
    let marker = root.join(OBJECTS_URL_FILE);
    fs::write(&marker, format!("{written}\n")).map_err(|e| StoreError::io(&marker, e))?;
    Ok(written)
}
