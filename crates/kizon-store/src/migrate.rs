//! Moving a study's database between backends (`kizon migrate-store`): every row of every
//! table copied as it is, in the order the schema makes the tables (a row's references come
//! before it), into a new, empty database of the same schema version. The ledger is copied, not
//! extended: the copy's chain, row digests and head hash are the original's, which
//! `audit verify` on the copy shows. The folder then names the new database; the old one is
//! kept beside it under a `.before-migration` name, never deleted. A PostgreSQL database the
//! study moves out of, which other machines may still name, gets one more entry in its own
//! ledger, `database moved`, after which no command writes to it (see `moves`).

use std::fs;
use std::path::{Path, PathBuf};

use crate::db::{self, Backend, Db, Value, ValueRef};
use crate::{DATABASE_URL_FILE, DB_FILE, Store, StoreError, schema, sqlite};

/// What a migration did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Migrated {
    pub from: Backend,
    pub to: Backend,
    /// Rows copied, table by table, in copy order.
    pub tables: Vec<(String, u64)>,
    /// The ledger's head (sequence number and hash), the same in both.
    pub head: Option<(i64, String)>,
    /// Where the old database is kept (the SQLite file or the file with the old URL).
    pub kept: PathBuf,
}

/// The tables of the schema in the order its migrations make them (a table dropped and made
/// again counts where it was made last). `item_search_state` is left out: each backend's DDL
/// fills it (and on SQLite the trigram index it describes is rebuilt from `items`).
pub fn tables_in_order() -> Vec<String> {
    let mut tables: Vec<String> = Vec::new();
    for ddl in schema::migrations() {
        for line in ddl.lines() {
            let line = line.trim_start();
            if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                tables.retain(|t| *t != name);
                tables.push(name);
            } else if let Some(rest) = line.strip_prefix("DROP TABLE ") {
                let name = rest.trim_end_matches(';').trim();
                tables.retain(|t| t != name);
            }
        }
    }
    tables.retain(|t| t != "item_search_state");
    tables
}

/// Copies every row of `source` into `target` (a new database of the same schema), in one
/// transaction of the target. Returns the rows copied per table.
fn copy_rows(source: &Db, target: &mut Db) -> db::Result<Vec<(String, u64)>> {
    let tables = tables_in_order();
    let postgres_target = target.backend() == Backend::Postgres;
    let tx = target.begin()?;
    let mut copied = Vec::with_capacity(tables.len());
    for table in &tables {
        let mut insert: Option<String> = None;
        let mut rows = 0u64;
        source.for_each_row(&format!("SELECT * FROM {table} ORDER BY 1"), &[], |row| {
            let width = row.column_count();
            let values: Vec<Value> = (0..width)
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(v) => Value::Integer(v),
                        ValueRef::Real(v) => Value::Real(v),
                        ValueRef::Text(v) => Value::Text(v.to_owned()),
                        ValueRef::Blob(v) => Value::Blob(v.to_owned()),
                    })
                })
                .collect::<db::Result<_>>()?;
            let sql = insert.get_or_insert_with(|| {
                let placeholders: Vec<String> = (1..=width).map(|i| format!("?{i}")).collect();
                format!("INSERT INTO {table} VALUES ({})", placeholders.join(", "))
            });
            tx.execute(sql, &db::param_refs(&values))?;
            rows += 1;
            Ok(())
        })?;
        // Identity columns number on from the largest key copied, as SQLite's rowid would.
        if postgres_target && rows > 0 && has_identity(&tx, table)? {
            tx.query_row(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))::TEXT"
                ),
                &[],
                |_| Ok(()),
            )?;
        }
        copied.push((table.clone(), rows));
    }
    tx.commit()?;
    Ok(copied)
}

fn has_identity(db: &Db, table: &str) -> db::Result<bool> {
    use crate::db::OptionalExtension;
    Ok(db
        .query_row(
            "SELECT column_name::TEXT FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = ?1 AND column_name = 'id' AND is_identity = 'YES'",
            db::params![table],
            |r| r.get::<String>(0),
        )
        .optional()?
        .is_some())
}

/// A free name beside `path` for keeping the old database (or documents).
pub(crate) fn kept_name(path: &Path) -> PathBuf {
    let base = format!("{}.before-migration", path.display());
    let mut candidate = PathBuf::from(&base);
    let mut n = 1;
    while candidate.exists() {
        n += 1;
        candidate = PathBuf::from(format!("{base}.{n}"));
    }
    candidate
}

impl Store {
    /// Copies this SQLite study into the empty PostgreSQL database at `url` and makes the
    /// folder use it (`database.url`); the SQLite file is kept as `kizon.sqlite.before-migration`.
    pub fn migrate_to_postgres(self, url: &str) -> Result<Migrated, StoreError> {
        let root = self.root.clone();
        let marker = root.join(DATABASE_URL_FILE);
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::AlreadyThere(format!(
                "{}: the study is already kept in PostgreSQL",
                root.display()
            )));
        }
        let mut target = Store::new_postgres_database(url, &marker)?;
        let db_path = root.join(DB_FILE);
        let mut store = self;
        // The source's write lock is held from before the head is read until the folder has
        // switched: no command (a server, an ingest) writes to the old database meanwhile, so
        // the copy is one consistent state and nothing is written after it.
        let source = store.conn.begin().map_err(|e| sqlite(&db_path, e))?;
        // Another move that held the lock before this one may have switched the folder.
        if let Some(moved) = store
            .placement
            .moved(&crate::placement::Placement::read(&root)?, &root)
        {
            return Err(moved);
        }
        let head = crate::ledger::head(&source).map_err(|e| sqlite(&db_path, e))?;
        let tables = copy_rows(&source, &mut target).map_err(|e| sqlite(&marker, e))?;
        // A bulk load leaves PostgreSQL without statistics or a visibility map: every count
        // would read the whole heap (25 ms for 100,000 items) until autovacuum came by. The
        // copy stands without them, so a failure is not the move's.
        let _ = target.execute_batch("VACUUM ANALYZE");
        // The URL appears first, then the SQLite file moves away: `open` takes the SQLite file
        // while both are there, so a crash between the two leaves the old study as it was.
        let tmp = root.join(format!("{DATABASE_URL_FILE}.tmp"));
        write_private(&tmp, &format!("{url}\n"))?;
        fs::rename(&tmp, &marker).map_err(|e| StoreError::io(&marker, e))?;
        let kept = kept_name(&db_path);
        fs::rename(&db_path, &kept).map_err(|e| StoreError::io(&db_path, e))?;
        for suffix in ["-wal", "-shm"] {
            let side = root.join(format!("{DB_FILE}{suffix}"));
            if side.exists() {
                let _ = fs::rename(&side, format!("{}{suffix}", kept.display()));
            }
        }
        drop(source);
        drop(store);
        Ok(Migrated {
            from: Backend::Sqlite,
            to: Backend::Postgres,
            tables,
            head,
            kept,
        })
    }

    /// Copies this PostgreSQL study into a new SQLite file in its folder and makes the folder
    /// use it, as `actor`; the file with the URL is kept as `database.url.before-migration`.
    /// The PostgreSQL database is left with one more entry, `database moved`, after which it
    /// takes no more writes: another machine's folder still naming it refuses to write there
    /// (see `moves`) instead of forking the study.
    pub fn migrate_to_sqlite(mut self, actor: &str) -> Result<Migrated, StoreError> {
        let root = self.root.clone();
        if self.backend() != Backend::Postgres {
            return Err(StoreError::AlreadyThere(format!(
                "{}: the study is already kept in a SQLite file",
                root.display()
            )));
        }
        let marker = root.join(DATABASE_URL_FILE);
        let db_file = root.join(DB_FILE);
        // In one transaction of the source, so under its write lock until the folder has
        // switched: no command, here or on another machine, writes meanwhile.
        let (head, tables, kept) = self.transact(actor, |tx| {
            if db_file.exists() {
                return Err(StoreError::Conflict(format!(
                    "{}: a SQLite database is already there",
                    db_file.display()
                )));
            }
            let source = tx.sql();
            let head = crate::ledger::head(source).map_err(|e| sqlite(&marker, e))?;
            let staging = root.join(".kizon-migrate");
            if staging.exists() {
                fs::remove_dir_all(&staging).map_err(|e| StoreError::io(&staging, e))?;
            }
            fs::create_dir_all(&staging).map_err(|e| StoreError::io(&staging, e))?;
            let staged = staging.join(DB_FILE);
            let tables = {
                let conn =
                    rusqlite::Connection::open(&staged).map_err(|e| sqlite(&staged, e.into()))?;
                crate::configure(&conn).map_err(|e| sqlite(&staged, e.into()))?;
                schema::create(&conn).map_err(|e| sqlite(&staged, e.into()))?;
                let mut target = Db::Sqlite(conn);
                copy_rows(source, &mut target).map_err(|e| sqlite(&staged, e))?
            };
            // The SQLite file appears first (a clean close left no WAL beside it), then the URL
            // moves away: `open` takes the SQLite file while both are there.
            fs::rename(&staged, &db_file).map_err(|e| StoreError::io(&db_file, e))?;
            let kept = kept_name(&marker);
            fs::rename(&marker, &kept).map_err(|e| StoreError::io(&marker, e))?;
            // PostgreSQL's remembered reference schema means nothing to a SQLite study.
            let _ = fs::remove_file(root.join(crate::remembered_schema::FILE));
            let _ = fs::remove_dir_all(&staging);
            // The seal of the database left behind; the folder's `ledger.head` stays the new
            // database's head.
            tx.record(
                crate::moves::DATABASE_MOVED,
                "database moved to a SQLite file",
                serde_json::json!({ "to": format!("a SQLite file ({})", db_file.display()) }),
            )?;
            tx.anchor_elsewhere();
            Ok((head, tables, kept))
        })?;
        Ok(Migrated {
            from: Backend::Postgres,
            to: Backend::Sqlite,
            tables,
            head,
            kept,
        })
    }
}

/// Writes `text` to a new file only its owner may read (a URL may carry a password).
pub(crate) fn write_private(path: &Path, text: &str) -> Result<(), StoreError> {
    let _ = fs::remove_file(path);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| StoreError::io(path, e))?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| StoreError::io(path, e))?;
    file.sync_all().map_err(|e| StoreError::io(path, e))
}
