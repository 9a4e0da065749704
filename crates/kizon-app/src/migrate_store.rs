//! `kizon migrate-store`: the study's database moved between a SQLite file in the study folder
//! and a PostgreSQL database (issue 18), with the ledger, its row digests and its head hash as
//! they were (see kizon-store's `migrate`).

use crate::{AppError, Study};

pub use kizon_store::migrate::Migrated;

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

impl Study {
    /// Moves the study's database to `target`. The study is closed by the move; open it again.
    pub fn migrate_store(self, target: Target<'_>) -> Result<Migrated, AppError> {
        let store = self.store;
        Ok(match target {
            Target::Postgres(url) => store.migrate_to_postgres(url)?,
            Target::Sqlite => store.migrate_to_sqlite()?,
        })
    }
}
