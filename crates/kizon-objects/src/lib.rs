//! The content-addressed object store behind a study's documents (consent documents, locked
//! protocols and datasets, manifests, analyses): every object is named by the SHA-256 of its
//! content, written once, and checked against its name whenever it is read.
//!
//! Two places can hold them, behind one interface ([`Objects`]):
//! - [`Objects::Local`]: the study folder's `documents/sha256/ab/ab…`, read-only files (the
//!   default, and what an offline study uses);
//! - [`Objects::S3`]: an S3-compatible bucket (AWS S3, MinIO, Ceph RGW), keys
//!   `PREFIX/sha256/ab/ab…`, for a study that several machines serve (issue 18).
//!
//! The crate knows nothing of the database: which object a study's rows refer to is the store
//! crate's business. An object without a row is an orphan, harmless, and `verify` notes it.
//!
//! Invariants:
//! - an object is never visible under its name before the whole of it is written (a local
//!   file is renamed into place after `fsync`; an S3 PUT is atomic);
//! - nothing read is trusted: [`Objects::get`] and [`Objects::check`] hash what they read.

mod local;
mod s3;
pub mod throwaway;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use local::DOCUMENTS_DIR;
pub use rusty_s3::Credentials;
pub use s3::{S3Location, S3Store};

/// What an object store failed at. Every message names the object or file and the place.
#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The object store could not be reached or refused a request.
    #[error("{0}")]
    Remote(String),
    /// An object's content does not match its name.
    #[error("{0}")]
    Tampered(String),
    /// The configuration (an `objects.url`) is not one kizon can use.
    #[error("{0}")]
    Config(String),
}

impl ObjectsError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ObjectsError {
        ObjectsError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// An object as stored: its name (the SHA-256 of its content, lower-case hex) and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub sha256: String,
    pub size: u64,
}

/// Whether an object the study refers to is there as it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Intact,
    Missing,
    /// Present, but its content no longer hashes to its name.
    Altered,
}

/// Where a study's documents are kept.
#[derive(Clone)]
pub enum Objects {
    /// `documents/` in this study folder.
    Local(std::path::PathBuf),
    /// A bucket (and prefix) of an S3-compatible store.
    S3(Arc<S3Store>),
}

impl fmt::Debug for Objects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Objects({})", self.describe())
    }
}

impl Objects {
    /// The document store in the folder `root`.
    pub fn local(root: &Path) -> Objects {
        Objects::Local(root.to_owned())
    }

    /// Where the objects are, for messages: a folder, or `s3://bucket/prefix (endpoint)`.
    pub fn describe(&self) -> String {
        match self {
            Objects::Local(root) => root.join(DOCUMENTS_DIR).display().to_string(),
            Objects::S3(store) => store.location().to_string(),
        }
    }

    /// Where the object named `sha256` is (or would be), for messages.
    pub fn location_of(&self, sha256: &str) -> String {
        match self {
            Objects::Local(root) => local::path_of(root, sha256).display().to_string(),
            Objects::S3(store) => store.url_of(sha256),
        }
    }

    /// Stores the content of the file `source`, hashing it as it goes. Storing content that is
    /// already there keeps the stored object, after checking it is intact.
    pub fn put_file(&self, source: &Path) -> Result<StoredObject, ObjectsError> {
        match self {
            Objects::Local(root) => local::put_file(root, source),
            Objects::S3(store) => {
                let bytes = std::fs::read(source).map_err(|e| ObjectsError::io(source, e))?;
                store.put(&bytes)
            }
        }
    }

    /// Stores `bytes`, as [`Objects::put_file`] does.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<StoredObject, ObjectsError> {
        match self {
            Objects::Local(root) => local::put_bytes(root, bytes),
            Objects::S3(store) => store.put(bytes),
        }
    }

    /// The content of the object named `sha256`, checked against its name. A missing object
    /// is `Ok(None)`; an altered one is [`ObjectsError::Tampered`].
    pub fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, ObjectsError> {
        if !is_object_name(sha256) {
            return Err(ObjectsError::Tampered(format!(
                "`{sha256}` is not a document's name (64 hex digits of SHA-256)"
            )));
        }
        let bytes = match self {
            Objects::Local(root) => local::get(root, sha256)?,
            Objects::S3(store) => store.get(sha256)?,
        };
        match bytes {
            Some(bytes) if sha256_hex(&bytes) != sha256 => Err(ObjectsError::Tampered(format!(
                "{}: content does not match its name",
                self.location_of(sha256)
            ))),
            other => Ok(other),
        }
    }

    /// Whether the object named `sha256` is there and intact (its content is read and hashed).
    pub fn check(&self, sha256: &str) -> Result<Presence, ObjectsError> {
        match self.get(sha256) {
            Ok(Some(_)) => Ok(Presence::Intact),
            Ok(None) => Ok(Presence::Missing),
            Err(ObjectsError::Tampered(_)) => Ok(Presence::Altered),
            Err(e) => Err(e),
        }
    }

    /// The names of every object stored, sorted, each with its location.
    pub fn list(&self) -> Result<Vec<(String, String)>, ObjectsError> {
        match self {
            Objects::Local(root) => local::list(root),
            Objects::S3(store) => store.list(),
        }
    }

    /// Removes the object named `sha256`, which no row refers to (a rolled-back transaction's).
    /// A failure leaves an orphan, which is harmless.
    pub fn remove_unreferenced(&self, sha256: &str) {
        match self {
            Objects::Local(root) => local::remove(root, sha256),
            Objects::S3(store) => {
                let _ = store.delete(sha256);
            }
        }
    }
}

/// SHA-256 of `bytes`, lower-case hex: an object's name.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes` (the one encoder the workspace uses; kizon-store re-exports it).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Whether `name` can be an object's name: 64 lower-case hex digits. Keeps a name taken from
/// a database row from reaching outside the store as a path or a key.
pub fn is_object_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests;
