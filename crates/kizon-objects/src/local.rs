//! The document store in the study folder: `documents/sha256/ab/abcdef…`, read-only files.
//!
//! A file is written to a temporary name, synced, made read-only and renamed into place, so a
//! killed command leaves either the whole file or an orphan temporary that nothing refers to.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{ObjectsError, StoredObject, hex};

/// The folder, inside the study folder, that holds its documents.
pub const DOCUMENTS_DIR: &str = "documents";

/// Where the document with this hash lives under the study root.
pub(crate) fn path_of(root: &Path, sha256: &str) -> PathBuf {
    root.join(DOCUMENTS_DIR)
        .join("sha256")
        .join(sha256.get(..2).unwrap_or_default())
        .join(sha256)
}

pub(crate) fn put_file(root: &Path, source: &Path) -> Result<StoredObject, ObjectsError> {
    let file = File::open(source).map_err(|e| ObjectsError::io(source, e))?;
    put_reader(root, file, source)
}

pub(crate) fn put_bytes(root: &Path, bytes: &[u8]) -> Result<StoredObject, ObjectsError> {
    put_reader(root, bytes, Path::new("<memory>"))
}

fn put_reader(
    root: &Path,
    mut reader: impl Read,
    source: &Path,
) -> Result<StoredObject, ObjectsError> {
    let tmp_dir = root.join(DOCUMENTS_DIR).join("tmp");
    fs::create_dir_all(&tmp_dir).map_err(|e| ObjectsError::io(&tmp_dir, e))?;
    let tmp_path = tmp_dir.join(format!(
        "{}-{}",
        std::process::id(),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    ));
    let mut tmp = File::create(&tmp_path).map_err(|e| ObjectsError::io(&tmp_path, e))?;
    let mut hasher = Sha256::new();
    let copied = for_each_chunk(&mut reader, source, |chunk| {
        hasher.update(chunk);
        tmp.write_all(chunk)
            .map_err(|e| ObjectsError::io(&tmp_path, e))
    });
    let size = match copied {
        Ok(size) => size,
        Err(e) => {
            let _ = fs::remove_file(&tmp_path);
            return Err(e);
        }
    };
    tmp.sync_all().map_err(|e| ObjectsError::io(&tmp_path, e))?;
    drop(tmp);
    let sha256 = hex(&hasher.finalize());
    let target = path_of(root, &sha256);
    if target.exists() {
        // Same content already stored: keep the existing file, after checking it is intact.
        let _ = fs::remove_file(&tmp_path);
        if hash_file(&target)? != sha256 {
            return Err(ObjectsError::Tampered(format!(
                "stored document {} does not match its name",
                target.display()
            )));
        }
    } else {
        let parent = target.parent().expect("document path has a parent");
        fs::create_dir_all(parent).map_err(|e| ObjectsError::io(parent, e))?;
        set_read_only(&tmp_path)?;
        fs::rename(&tmp_path, &target).map_err(|e| ObjectsError::io(&target, e))?;
    }
    Ok(StoredObject { sha256, size })
}

pub(crate) fn get(root: &Path, sha256: &str) -> Result<Option<Vec<u8>>, ObjectsError> {
    let path = path_of(root, sha256);
    match fs::read(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ObjectsError::io(&path, e)),
    }
}

/// SHA-256 of a file's content.
fn hash_file(path: &Path) -> Result<String, ObjectsError> {
    let mut file = File::open(path).map_err(|e| ObjectsError::io(path, e))?;
    let mut hasher = Sha256::new();
    for_each_chunk(&mut file, path, |chunk| {
        hasher.update(chunk);
        Ok(())
    })?;
    Ok(hex(&hasher.finalize()))
}

/// Reads `reader` to its end in 64 KiB chunks, handing each to `each`; read errors name
/// `source`. Returns the number of bytes read.
fn for_each_chunk(
    reader: &mut impl Read,
    source: &Path,
    mut each: impl FnMut(&[u8]) -> Result<(), ObjectsError>,
) -> Result<u64, ObjectsError> {
    let mut buffer = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => {
                each(&buffer[..n])?;
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ObjectsError::io(source, e)),
        }
    }
}

fn set_read_only(path: &Path) -> Result<(), ObjectsError> {
    let mut permissions = fs::metadata(path)
        .map_err(|e| ObjectsError::io(path, e))?
        .permissions();
    permissions.set_readonly(true);
    fs::set_permissions(path, permissions).map_err(|e| ObjectsError::io(path, e))
}

/// Every file in the store that is named by a hash, as (hash, path).
pub(crate) fn list(root: &Path) -> Result<Vec<(String, String)>, ObjectsError> {
    let base = root.join(DOCUMENTS_DIR).join("sha256");
    let mut found = Vec::new();
    let Ok(shards) = fs::read_dir(&base) else {
        return Ok(found);
    };
    for shard in shards {
        let shard = shard.map_err(|e| ObjectsError::io(&base, e))?.path();
        let entries = fs::read_dir(&shard).map_err(|e| ObjectsError::io(&shard, e))?;
        for entry in entries {
            let path = entry.map_err(|e| ObjectsError::io(&shard, e))?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            found.push((name, path.display().to_string()));
        }
    }
    found.sort();
    Ok(found)
}

/// Removes the file of the document named `sha256`; a failure leaves an orphan.
pub(crate) fn remove(root: &Path, sha256: &str) {
    let path = path_of(root, sha256);
    if let Ok(meta) = fs::metadata(&path) {
        let mut permissions = meta.permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        let _ = fs::set_permissions(&path, permissions);
        let _ = fs::remove_file(&path);
    }
}
