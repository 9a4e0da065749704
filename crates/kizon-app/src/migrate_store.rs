//! `kizon migrate-store`: the study's database moved between a SQLite file in the study folder
//! and a PostgreSQL database (issue 18), with the ledger, its row digests and its head hash as
//! they were (see kizon-store's `migrate`); and its documents moved between the folder's
//! `documents/` and an S3-compatible bucket, each read back intact at the new place (see
//! kizon-store's `migrate_documents`).

use crate::{AppError, Study};

pub use kizon_store::migrate::Migrated;
pub use kizon_store::migrate_documents::{DocumentsTarget, MovedDocuments};

/// Where `migrate-store --to` moves the database.
pub enum Target<'a> {
    /// A new SQLite file in the study folder.
    Sqlite,
    /// An empty PostgreSQL database.
    Postgres(&'a str),
}

impl<'a> Target<'a> {
    /// `sqlite`, or a `postgres://` URL.
    pub fn parse(text: &'a str) -> Result<Target<'a>, AppError> {
        if text == "sqlite" {
            Ok(Target::Sqlite)
        } else if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(Target::Postgres(text))
        } else {
            Err(AppError::Refused {
                what: format!(
                    "--to {}: neither `sqlite` nor a PostgreSQL URL",
                    kizon_store::redacted_url(text)
                ),
                hint: "kizon migrate-store --to postgres://USER@HOST/DATABASE (an empty database), or --to sqlite".into(),
            })
        }
    }
}

/// `--objects`: `local` (the folder's `documents/`) or an `s3://` URL.
pub fn parse_documents_target(text: &str) -> Result<DocumentsTarget<'_>, AppError> {
    if text == "local" {
        Ok(DocumentsTarget::Folder)
    } else if text.starts_with("s3://") {
        Ok(DocumentsTarget::Bucket(text))
    } else {
        Err(AppError::Refused {
            what: format!("--objects {text}: neither `local` nor an s3:// URL"),
            hint: "kizon migrate-store --objects 's3://BUCKET/STUDY-ID?endpoint=URL&region=R' (a prefix of the study's own), or --objects local".into(),
        })
    }
}

impl Study {
    /// Whether the study is still where this handle opened it: `migrate-store` has not moved
    /// its database or documents since. A server opens such a study again instead of using it.
    pub fn is_where_it_was(&self) -> bool {
        self.store.is_where_it_was()
    }

    /// Moves the study's documents to `target`, each read back intact there before the folder
    /// switches. The study is closed by the move; open it again.
    pub fn migrate_documents(
        self,
        actor: &str,
        target: DocumentsTarget<'_>,
    ) -> Result<MovedDocuments, AppError> {
        Ok(self.store.migrate_documents(actor, target)?)
    }

    /// Moves the study's database to `target`, as `actor` (who is named in the ledger of a
    /// PostgreSQL database the study leaves). The study is closed by the move; open it again.
    pub fn migrate_store(self, actor: &str, target: Target<'_>) -> Result<Migrated, AppError> {
        let store = self.store;
        Ok(match target {
            Target::Postgres(url) => store.migrate_to_postgres(url)?,
            Target::Sqlite => store.migrate_to_sqlite(actor)?,
        })
    }
}
