//! Creating a study directory.
//!
//! The database is built under a temporary name and renamed to `kizon.sqlite` last: a study
//! exists exactly when that file does, so a killed `init` leaves no half-made study, and running
//! it again completes the job (keeping a study.toml the user already wrote).

use std::fs;
use std::path::Path;

pub use kizon_protocol::TEMPLATE as PROTOCOL_TEMPLATE;
use kizon_store::{DB_FILE, Store};
use serde::Serialize;
use serde_json::json;

use crate::error::io;
use crate::{AppError, PROTOCOL_FILE, sha256_hex};

/// What `init` did.
#[derive(Debug, Clone, Serialize)]
pub struct Initialized {
    pub dir: String,
    /// False when an existing study.toml was kept.
    pub wrote_template: bool,
    pub protocol_sha256: String,
    pub ledger_head: String,
    /// The owner's public key the study records (64 hex digits).
    pub owner_public_key: String,
}

/// Refuses a directory that already holds a study.
pub fn refuse_existing(dir: &Path) -> Result<(), AppError> {
    if Store::backend_of(dir).is_some() {
        return Err(AppError::AlreadyAStudy(dir.to_owned()));
    }
    Ok(())
}

/// Creates a study in `dir` (created if needed); `created_by` names the command in the ledger.
/// `owner` is the owner's key: its public key is recorded in the first entry, which it signs.
pub fn init(
    dir: &Path,
    actor: &str,
    created_by: &str,
    owner: &crate::owner_key::OwnerKey,
) -> Result<Initialized, AppError> {
    init_placed(dir, actor, created_by, owner, &Placement::standard())
}

/// Where a new study keeps its state: by default a SQLite file and `documents/` in its folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// A `postgres://` URL: the study's database (an empty one) in PostgreSQL.
    pub database: Option<String>,
    /// An `s3://BUCKET/PREFIX?endpoint=…&region=…` URL: the study's documents in an
    /// S3-compatible object store (a prefix holding no document yet).
    pub objects: Option<String>,
}

#[cfg(test)]
thread_local! {
    /// In this crate's tests: where studies made without a placement go (the suite run again
    /// on PostgreSQL sets it).
    static TEST_PLACEMENT: std::cell::RefCell<Option<Box<dyn Fn() -> Placement>>> =
        const { std::cell::RefCell::new(None) };
}

/// In this crate's tests: makes every study this thread creates without a placement take the
/// one `make` gives (`None`: the folder's own files again).
#[cfg(test)]
pub(crate) fn place_test_studies(make: Option<Box<dyn Fn() -> Placement>>) {
    TEST_PLACEMENT.with(|placement| *placement.borrow_mut() = make);
}

impl Placement {
    /// Where a study made without a placement keeps its state: its folder's own files.
    pub(crate) fn standard() -> Placement {
        #[cfg(test)]
        if let Some(placement) =
            TEST_PLACEMENT.with(|make| make.borrow().as_ref().map(|make| make()))
        {
            return placement;
        }
        Placement::default()
    }

    /// Refuses, before anything is written, a database URL that is not PostgreSQL's, a
    /// database that cannot be reached or already holds a study, and an object store that
    /// cannot be reached or already holds objects. `dir`: the study folder to be, which names
    /// the database in errors.
    pub fn check(&self, dir: &Path) -> Result<(), AppError> {
        if let Some(url) = &self.database
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(AppError::Refused {
                what: format!("--database {}: not a PostgreSQL URL", kizon_store::redacted_url(url)),
                hint: "give postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, or leave --database out for a SQLite file in the study folder".into(),
            });
        }
        if let Some(url) = &self.database {
            kizon_store::Store::check_new_postgres_database(
                url,
                &dir.join(kizon_store::DATABASE_URL_FILE),
            )?;
        }
        if let Some(url) = &self.objects {
            kizon_store::documents::check_object_store(url)?;
        }
        Ok(())
    }
}

/// [`init`] with the study's state where `placement` says: its database in PostgreSQL (the
/// folder keeps `database.url`, which appears last: the commit point) and its documents in an
/// object store (the folder keeps `objects.url`).
pub fn init_placed(
    dir: &Path,
    actor: &str,
    created_by: &str,
    owner: &crate::owner_key::OwnerKey,
    placement: &Placement,
) -> Result<Initialized, AppError> {
    let database = placement.database.as_deref();
    refuse_existing(dir)?;
    placement.check(dir)?;
    fs::create_dir_all(dir).map_err(io(dir))?;

    let protocol_path = dir.join(PROTOCOL_FILE);
    let wrote_template = !protocol_path.exists();
    if wrote_template {
        let tmp = dir.join(format!("{PROTOCOL_FILE}.tmp"));
        fs::write(&tmp, kizon_protocol::TEMPLATE).map_err(io(&tmp))?;
        fs::rename(&tmp, &protocol_path).map_err(io(&protocol_path))?;
    }
    let protocol = fs::read(&protocol_path).map_err(io(&protocol_path))?;

    // Build the database in a staging directory beside the study, then move it into place.
    let staging = dir.join(".kizon-init");
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    fs::create_dir_all(&staging).map_err(io(&staging))?;
    if let Some(url) = &placement.objects {
        kizon_store::documents::use_object_store(&staging, url)?;
    }
    let head = {
        let mut store = match database {
            Some(url) => Store::create_postgres(&staging, url)?,
            None => Store::create(&staging)?,
        };
        let entry = store.transact(actor, |tx| {
            crate::signing::record_signed(
                tx,
                Some(owner),
                created_by,
                "study created",
                json!({
                    "kizon_version": env!("CARGO_PKG_VERSION"),
                    "protocol_sha256": sha256_hex(&protocol),
                    crate::signing::PUBLIC_KEY_FIELD: owner.public_hex(),
                }),
            )
        })?;
        entry.hash
    };
    kizon_store::documents::claim_object_store(&staging, &head)?;
    for name in [
        kizon_store::HEAD_FILE,
        kizon_store::documents::DOCUMENTS_DIR,
        kizon_store::documents::OBJECTS_URL_FILE,
    ] {
        // Whatever a killed init or a copied folder left under these names goes: an
        // `objects.url` the placement did not ask for would send the new study's documents
        // into another study's bucket.
        let target = dir.join(name);
        if target.exists() {
            let removed = if target.is_dir() {
                fs::remove_dir_all(&target)
            } else {
                fs::remove_file(&target)
            };
            removed.map_err(io(&target))?;
        }
        if staging.join(name).exists() {
            fs::rename(staging.join(name), &target).map_err(io(&target))?;
        }
    }
    // A clean close removes the WAL; should one remain, it must travel with the database.
    for suffix in ["-wal", "-shm"] {
        let side = staging.join(format!("{DB_FILE}{suffix}"));
        if side.exists() {
            let target = dir.join(format!("{DB_FILE}{suffix}"));
            fs::rename(&side, &target).map_err(io(&target))?;
        }
    }
    // The commit point: the database (or the URL of the one in PostgreSQL) appears under its
    // name.
    let marker = match database {
        Some(_) => kizon_store::DATABASE_URL_FILE,
        None => DB_FILE,
    };
    fs::rename(staging.join(marker), dir.join(marker)).map_err(io(dir.join(marker)))?;
    fs::remove_dir_all(&staging).map_err(io(&staging))?;

    Ok(Initialized {
        dir: dir.display().to_string(),
        wrote_template,
        protocol_sha256: sha256_hex(&protocol),
        ledger_head: head,
        owner_public_key: owner.public_hex(),
    })
}
