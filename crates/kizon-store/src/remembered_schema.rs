//! The reference schema of a PostgreSQL study, remembered in the study folder between
//! commands (see [`crate::schema::Reference::Remembered`]): made afresh it costs a few hundred
//! DDL statements on the server; read back, one file.
//!
//! The file is only ever written from a reference made afresh, never from the study's own
//! schema, and it is used only when the study's schema matches it exactly; anything else (a
//! file for another kizon, server or search path, a damaged file, a difference) sends the
//! command back to making the reference afresh.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::schema::SchemaObjects;

/// The file, in the study folder, next to `database.url`.
pub const FILE: &str = "database.schema.json";

/// What the reference depends on besides the DDL: kizon's version, the server's version (how
/// it prints definitions), the session's search path and where pg_trgm lives (how operator
/// classes are named). A hex SHA-256.
pub fn key(db: &crate::db::Db, ddl: &str) -> crate::db::Result<String> {
    let server: String = db.query_row(
        "SELECT current_setting('server_version_num') || ' ' || current_setting('search_path')
           || ' ' || COALESCE((SELECT extnamespace::regnamespace::TEXT || ' ' || extversion
                               FROM pg_extension WHERE extname = 'pg_trgm'), '')",
        crate::db::params![],
        |r| r.get(0),
    )?;
    let mut hasher = Sha256::new();
    for part in [env!("CARGO_PKG_VERSION"), &server, ddl] {
        hasher.update(part.len().to_le_bytes());
        hasher.update(part.as_bytes());
    }
    Ok(kizon_objects::hex(&hasher.finalize()))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Remembered {
    key: String,
    /// (kind, name, definition) of every object.
    objects: Vec<(String, String, Option<String>)>,
}

/// The reference remembered under `key`; `None` if there is none, or it was made for another
/// key, or the file cannot be read as one.
pub fn read(file: &Path, key: &str) -> Option<SchemaObjects> {
    let text = std::fs::read(file).ok()?;
    let remembered: Remembered = serde_json::from_slice(&text).ok()?;
    (remembered.key == key).then(|| {
        remembered
            .objects
            .into_iter()
            .map(|(kind, name, definition)| ((kind, name), definition))
            .collect()
    })
}

/// Remembers a reference made afresh, replacing the file whole (a file half written by a
/// command killed meanwhile is never read).
pub fn write(file: &Path, key: &str, objects: &SchemaObjects) -> std::io::Result<()> {
    let remembered = Remembered {
        key: key.to_owned(),
        objects: objects
            .iter()
            .map(|((kind, name), definition)| (kind.clone(), name.clone(), definition.clone()))
            .collect(),
    };
    let partial = file.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&partial, serde_json::to_vec(&remembered)?)?;
    std::fs::rename(&partial, file).inspect_err(|_| {
        let _ = std::fs::remove_file(&partial);
    })
}
