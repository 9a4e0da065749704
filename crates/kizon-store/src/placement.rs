//! Where the study folder says the study is kept: which database (the SQLite file, by its
//! identity on disk, or the PostgreSQL URL in `database.url`) and which document store (the
//! bucket in `objects.url`, or `documents/`).
//!
//! `kizon migrate-store` changes it while other processes may hold the study open: a
//! `kizon serve` left running keeps its connection to the old database, whose SQLite file has
//! moved to `kizon.sqlite.before-migration`. A write of such a process would land in the old
//! place and be lost to the study, while the user is told it succeeded. So [`Store::transact`]
//! compares the folder's placement now with the one the store was opened on, after taking the
//! write lock (which `migrate-store` holds until the folder has switched), and refuses to write
//! when they differ ([`StoreError::Moved`]).
//!
//! [`Store::transact`]: crate::Store::transact
//! [`StoreError::Moved`]: crate::StoreError::Moved

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use crate::documents::OBJECTS_URL_FILE;
use crate::{DATABASE_URL_FILE, DB_FILE, StoreError};

/// The database and document store a study folder names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placement {
    database: Database,
    /// The `s3://` URL of `objects.url`, or `None` for `documents/`.
    objects: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Database {
    /// `kizon.sqlite`: the file's device and inode (a file renamed into its place is another
    /// file). Where the platform has no inode numbers, only that the file is there.
    Sqlite(Option<(u64, u64)>),
    /// `database.url`, trimmed.
    Postgres(String),
    /// Neither file (the study's database was moved away and nothing took its place).
    Missing,
}

impl Placement {
    /// What the folder `root` names now.
    pub(crate) fn read(root: &Path) -> Result<Placement, StoreError> {
        let sqlite = root.join(DB_FILE);
        let database = match fs::metadata(&sqlite) {
            Ok(meta) if meta.is_file() => Database::Sqlite(file_id(&meta)),
            Ok(_) => Database::Missing,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                match read_line(&root.join(DATABASE_URL_FILE))? {
                    Some(url) => Database::Postgres(url),
                    None => Database::Missing,
                }
            }
            Err(e) => return Err(StoreError::io(&sqlite, e)),
        };
        Ok(Placement {
            database,
            objects: read_line(&root.join(OBJECTS_URL_FILE))?,
        })
    }

    /// Why a store opened on `self` must not write to the folder `root` that now names `now`,
    /// or `None` when both name the same places.
    pub(crate) fn moved(&self, now: &Placement, root: &Path) -> Option<StoreError> {
        let what = if self.database != now.database {
            "database"
        } else if self.objects != now.objects {
            "documents"
        } else {
            return None;
        };
        Some(StoreError::Moved(format!(
            "{}: the study's {what} moved after this process opened the study (kizon migrate-store, or the folder's files changed); nothing was written",
            root.display()
        )))
    }
}

/// The first line of the file at `path`, trimmed, or `None` when there is no such file.
fn read_line(path: &Path) -> Result<Option<String>, StoreError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io(path, e)),
    }
}

#[cfg(unix)]
fn file_id(meta: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_meta: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_renamed_into_the_databases_place_is_another_placement() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join(DB_FILE), b"one").unwrap();
        let opened = Placement::read(root).unwrap();
        assert!(
            opened
                .moved(&Placement::read(root).unwrap(), root)
                .is_none()
        );

        fs::write(root.join("other"), b"two").unwrap();
        fs::rename(root.join("other"), root.join(DB_FILE)).unwrap();
        let error = opened.moved(&Placement::read(root).unwrap(), root).unwrap();
        assert!(error.to_string().contains("database moved"), "{error}");
    }

    #[test]
    fn a_database_url_or_objects_url_that_appears_or_changes_is_a_move() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join(DATABASE_URL_FILE), "postgres://a/one\n").unwrap();
        let opened = Placement::read(root).unwrap();
        fs::write(root.join(DATABASE_URL_FILE), "postgres://a/one").unwrap();
        assert!(
            opened
                .moved(&Placement::read(root).unwrap(), root)
                .is_none(),
            "the same URL, written without its newline"
        );

        fs::write(root.join(OBJECTS_URL_FILE), "s3://b/p\n").unwrap();
        let moved = opened.moved(&Placement::read(root).unwrap(), root).unwrap();
        assert!(moved.to_string().contains("documents moved"), "{moved}");

        fs::remove_file(root.join(OBJECTS_URL_FILE)).unwrap();
        fs::remove_file(root.join(DATABASE_URL_FILE)).unwrap();
        let gone = opened.moved(&Placement::read(root).unwrap(), root).unwrap();
        assert!(gone.to_string().contains("database moved"), "{gone}");
    }
}
