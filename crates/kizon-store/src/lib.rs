//! The study's persistent state, and the only crate that touches its database.
//!
//! A study directory holds:
//!
//! | path | what |
//! |---|---|
//! | `study.toml` | the protocol (written by the application layer, not here) |
//! | `kizon.sqlite` | the database: WAL, foreign keys on, synchronous FULL |
//! | `documents/sha256/ab/ab…` | the content-addressed document store, read-only files |
//! | `objects.url` | instead of `documents/`: the S3-compatible bucket that keeps them ([`documents`]) |
//! | `database.url` | instead of `kizon.sqlite`: the PostgreSQL database that keeps the study |
//! | `ledger.head` | the last ledger entry's sequence number and hash, an anchor outside the database |
//!
//! Every state change goes through [`Store::transact`]: one SQLite transaction in which the
//! command inserts its rows and appends exactly the ledger entries that cover them. The
//! [`ledger`] module describes the hash chain; [`verify`](Store::verify) checks it, the rows it
//! covers, the documents and the head anchor.

#![forbid(unsafe_code)]

mod cache;
pub mod db;
pub mod documents;
mod items;
pub mod ledger;
mod marks;
pub mod migrate;
pub mod migrate_documents;
mod moves;
mod pgpass;
mod placement;
mod postgres_tls;
mod reading;
mod records;
mod reference;
mod remembered_schema;
pub mod schema;
#[doc(hidden)]
pub mod throwaway;
mod users;
mod verify;
mod words;

use std::fs;
use std::path::{Path, PathBuf};

use crate::db::{Db, OptionalExtension, params};
use rusqlite::{Connection, OpenFlags};
use serde_json::{Map, Value};

pub use cache::{Decoded, OcrResult};
pub use documents::StoredDocument;
pub use items::{
    Case, Counts, FindingQuery, Item, ItemQuery, KnownSource, NewCase, NewFinding, NewItem,
    Resolution, RuleTally, StoredFinding,
};
pub use ledger::LedgerEntry;
pub use marks::{MarkOwner, NewMark, StoredMark};
pub use reading::{NewReadingEvent, ReadingEvent};
pub use records::{
    Amendment, Deviation, Evidence, Handover, Lock, NewProvider, Provider, ProviderKey,
};
pub use reference::{
    DeviceResult, NewRead, NewReader, NewReferenceRecord, NewResult, Read, Reader, ReferenceRecord,
    StoredAnalysis,
};
pub use users::{LoginLimit, PASSWORD_DIGEST_FIELD, Session, User, now_unix, password_digest};
pub use verify::{Problem, VerifyReport};

pub const DB_FILE: &str = "kizon.sqlite";
/// In the folder of a study kept in PostgreSQL: the database's URL, one line.
pub const DATABASE_URL_FILE: &str = "database.url";

/// A database URL with its password, if any, replaced by `***`, for messages.
pub fn redacted_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
pub const HEAD_FILE: &str = "ledger.head";

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: database error: {source}")]
    Database { path: PathBuf, source: db::Error },
    #[error("{0}: not a kizon study (no {DB_FILE})")]
    NotAStudy(PathBuf),
    #[error(
        "{path}: database schema version {found} is newer than this kizon understands ({supported})"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{0}")]
    Tampered(String),
    #[error("{0}")]
    Conflict(String),
    /// A new study's database or object-store prefix already holds a study (or objects):
    /// kizon never empties one.
    #[error("{0}")]
    Occupied(String),
    /// The study's object store could not be reached or refused a request.
    #[error("{0}")]
    Objects(String),
    /// The folder names another database or document store than the one this store was
    /// opened on (`kizon migrate-store` ran meanwhile): a write would be lost to the study.
    #[error("{0}")]
    Moved(String),
    /// `migrate-store` was asked to move the study where it is kept already.
    #[error("{0}")]
    AlreadyThere(String),
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// An open study store.
pub struct Store {
    root: PathBuf,
    conn: Db,
    objects: documents::Objects,
    /// What the folder named when the store was opened, checked before every write.
    placement: placement::Placement,
    /// The ledger entries up to this one have been read for moves made elsewhere (`moves`).
    moves_checked: i64,
    /// Counts of covered rows as of a ledger head (see `Store::count_covered`).
    memo: std::cell::RefCell<HeadMemo>,
}

/// What was read of covered tables for one ledger head, which those tables cannot change
/// without moving: row counts, the item list's page anchors and a search's matches when
/// few, by (SQL, values).
#[derive(Default)]
struct HeadMemo {
    head: i64,
    counts: std::collections::HashMap<MemoKey, i64>,
    anchors: std::collections::HashMap<MemoKey, std::sync::Arc<Vec<i64>>>,
    /// A search's matches, if few (`None`: too many to keep).
    matches: std::collections::HashMap<MemoKey, Option<std::sync::Arc<Vec<i64>>>>,
}

/// A statement and the values bound to it.
type MemoKey = (String, Vec<String>);

impl Store {
    /// Creates the database and document store in `root` (which must exist and hold no database).
    pub fn create(root: &Path) -> Result<Store, StoreError> {
        let db = root.join(DB_FILE);
        if db.exists() {
            return Err(StoreError::Conflict(format!(
                "{}: a study database already exists",
                db.display()
            )));
        }
        let objects = documents::objects_of(root)?;
        make_local_documents(root, &objects)?;
        let conn = Connection::open(&db).map_err(|e| sqlite(&db, e.into()))?;
        configure(&conn).map_err(|e| sqlite(&db, e.into()))?;
        schema::create(&conn).map_err(|e| sqlite(&db, e.into()))?;
        Ok(Store {
            root: root.to_owned(),
            conn: Db::Sqlite(conn),
            objects,
            placement: placement::Placement::read(root)?,
            moves_checked: 0,
            memo: Default::default(),
        })
    }

    /// Creates a study whose database is the PostgreSQL database at `url` (which must hold no
    /// kizon study yet), with its document store in `root`. `root` records the URL in
    /// [`DATABASE_URL_FILE`] (readable by its owner only: the URL may carry a password), so
    /// that every later command on the folder opens the same database.
    pub fn create_postgres(root: &Path, url: &str) -> Result<Store, StoreError> {
        let marker = root.join(DATABASE_URL_FILE);
        if root.join(DB_FILE).exists() || marker.exists() {
            return Err(StoreError::Conflict(format!(
                "{}: the folder already holds a study",
                root.display()
            )));
        }
        let objects = documents::objects_of(root)?;
        make_local_documents(root, &objects)?;
        let conn = Store::new_postgres_database(url, &marker)?;
        migrate::write_private(&marker, &format!("{url}\n"))?;
        Ok(Store {
            root: root.to_owned(),
            conn,
            objects,
            placement: placement::Placement::read(root)?,
            moves_checked: 0,
            memo: Default::default(),
        })
    }

    /// Checks, writing nothing, that the PostgreSQL database at `url` can take a new study:
    /// it can be reached and holds no kizon study. `marker` names it in errors.
    pub fn check_new_postgres_database(url: &str, marker: &Path) -> Result<(), StoreError> {
        Store::connect_new_postgres_database(url, marker).map(drop)
    }

    fn connect_new_postgres_database(url: &str, marker: &Path) -> Result<Db, StoreError> {
        let conn = Db::connect_postgres(url).map_err(|e| sqlite(marker, e))?;
        if schema::postgres_version(&conn)
            .map_err(|e| sqlite(marker, e))?
            .is_some()
        {
            return Err(StoreError::Occupied(format!(
                "{}: the database already holds a kizon study",
                redacted_url(url)
            )));
        }
        Ok(conn)
    }

    /// Connects to the PostgreSQL database at `url`, which must hold no kizon study, and makes
    /// the schema in it; `marker` names it in errors.
    fn new_postgres_database(url: &str, marker: &Path) -> Result<Db, StoreError> {
        let conn = Store::connect_new_postgres_database(url, marker)?;
        schema::create_postgres(&conn).map_err(|e| sqlite(marker, e))?;
        Ok(conn)
    }

    /// Which database the study in `root` keeps: its SQLite file, or the PostgreSQL URL.
    pub fn backend_of(root: &Path) -> Option<db::Backend> {
        if root.join(DB_FILE).is_file() {
            Some(db::Backend::Sqlite)
        } else if root.join(DATABASE_URL_FILE).is_file() {
            Some(db::Backend::Postgres)
        } else {
            None
        }
    }

    /// Opens the study store in `root`.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        let db = root.join(DB_FILE);
        if !db.is_file() && root.join(DATABASE_URL_FILE).is_file() {
            return Store::open_postgres(root);
        }
        // Read before the file is opened: a file moved away in between is not opened at all.
        let placement = placement::Placement::read(root)?;
        if !db.is_file() {
            return Err(StoreError::NotAStudy(root.to_owned()));
        }
        let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(|e| sqlite(&db, e.into()))?;
        configure(&conn).map_err(|e| sqlite(&db, e.into()))?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| sqlite(&db, e.into()))?;
        if version > schema::SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: db,
                found: version,
                supported: schema::SCHEMA_VERSION,
            });
        }
        // A study made by an older kizon gains the newer tables, in one transaction.
        if version < schema::SCHEMA_VERSION {
            schema::migrate(&conn, version).map_err(|e| sqlite(&db, e.into()))?;
        }
        Ok(Store {
            root: root.to_owned(),
            conn: Db::Sqlite(conn),
            objects: documents::objects_of(root)?,
            placement,
            moves_checked: 0,
            memo: Default::default(),
        })
    }

    fn open_postgres(root: &Path) -> Result<Store, StoreError> {
        let placement = placement::Placement::read(root)?;
        let marker = root.join(DATABASE_URL_FILE);
        let url = fs::read_to_string(&marker).map_err(|e| StoreError::io(&marker, e))?;
        let url = url.trim();
        let conn = Db::connect_postgres(url).map_err(|e| sqlite(&marker, e))?;
        let version = schema::postgres_version(&conn)
            .map_err(|e| sqlite(&marker, e))?
            .ok_or_else(|| {
                StoreError::Conflict(format!(
                    "{}: the database {} holds no kizon study",
                    marker.display(),
                    redacted_url(url)
                ))
            })?;
        if version > schema::SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: marker,
                found: version,
                supported: schema::SCHEMA_VERSION,
            });
        }
        if version < schema::SCHEMA_VERSION {
            schema::migrate_postgres(&conn, version).map_err(|e| sqlite(&marker, e))?;
        }
        Ok(Store {
            root: root.to_owned(),
            conn,
            objects: documents::objects_of(root)?,
            placement,
            moves_checked: 0,
            memo: Default::default(),
        })
    }

    /// After a bulk load (a large ingest): PostgreSQL's statistics and visibility map for the
    /// item tables, without which its planner misjudges them and every count reads the whole
    /// heap until autovacuum comes by. SQLite needs nothing (its counts read the b-tree).
    pub fn refresh_statistics(&self) -> Result<(), StoreError> {
        if self.backend() == db::Backend::Postgres {
            self.conn
                .execute_batch("VACUUM (ANALYZE) items, cases")
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Which database this store talks to.
    pub fn backend(&self) -> db::Backend {
        self.conn.backend()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the folder still names the database and document store this store was opened
    /// on (`migrate-store` has not moved them since). A store that is not can only read the
    /// old place, and refuses to write ([`StoreError::Moved`]): open the study again.
    pub fn is_where_it_was(&self) -> bool {
        placement::Placement::read(&self.root)
            .is_ok_and(|now| self.placement.moved(&now, &self.root).is_none())
    }

    /// Where this study's documents are kept.
    pub fn objects(&self) -> &documents::Objects {
        &self.objects
    }

    /// The document named `sha256`, checked against its name: a missing or altered document
    /// is an error ([`StoreError::Tampered`]) naming where it should be.
    pub fn document(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        self.objects.get(sha256)?.ok_or_else(|| {
            StoreError::Tampered(format!(
                "document {sha256} is missing from the store ({})",
                self.objects.location_of(sha256)
            ))
        })
    }

    /// What names the database in messages: the SQLite file, or the file with the URL.
    fn db_path(&self) -> PathBuf {
        match self.conn.backend() {
            db::Backend::Sqlite => self.root.join(DB_FILE),
            db::Backend::Postgres => self.root.join(DATABASE_URL_FILE),
        }
    }

    pub(crate) fn err(&self, e: db::Error) -> StoreError {
        sqlite(&self.db_path(), e)
    }

    /// Runs `change` in one transaction as `actor`. `change` inserts rows through the [`Tx`] and
    /// calls [`Tx::record`] once per ledger entry; rows not covered by an entry are refused. On
    /// any error nothing is written. After the commit the head anchor is rewritten.
    pub fn transact<T>(
        &mut self,
        actor: &str,
        change: impl FnOnce(&mut Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let db = self.db_path();
        let objects = self.objects.clone();
        // PostgreSQL: the schema to compare with is found once per process, before the first
        // write (making it needs a transaction of its own); commands that only read never pay
        // for it.
        if self.conn.backend() == db::Backend::Postgres {
            let remembered = self.root.join(remembered_schema::FILE);
            schema::prepare_postgres_differences(
                &self.conn,
                schema::Reference::Remembered(&remembered),
            )
            .map_err(|e| sqlite(&db, e))?;
        }
        let tx = self.conn.begin().map_err(|e| sqlite(&db, e))?;
        // With the write lock held, the folder cannot switch any more: if it names another
        // database or document store than this store's (`migrate-store` ran while this process
        // had the study open), what this transaction wrote would be lost to the study.
        if let Some(moved) = self
            .placement
            .moved(&placement::Placement::read(&self.root)?, &self.root)
        {
            return Err(moved);
        }
        let head = ledger::head(&tx).map_err(|e| sqlite(&db, e))?;
        // A move made from another folder (another machine's) is known from the ledger only.
        let head_seq = head.as_ref().map_or(0, |(seq, _)| *seq);
        if head_seq > self.moves_checked {
            if let Some(why) = moves::refusal(&tx, self.moves_checked, &self.objects)
                .map_err(|e| sqlite(&db, e))?
            {
                return Err(StoreError::Moved(format!("{}: {why}", db.display())));
            }
            self.moves_checked = head_seq;
        }
        let next_seq = head.as_ref().map_or(1, |(seq, _)| seq + 1);
        // The entry this transaction appends digests every row carrying its sequence number;
        // a row put there beforehand, behind kizon's back, would be sealed into it as if the
        // command had written it. Refuse to start instead, naming the row.
        ledger::refuse_rows_ahead(&tx, next_seq).map_err(|e| match e {
            ledger::AheadError::Database(e) => sqlite(&db, e),
            ledger::AheadError::Ahead(message) => StoreError::Tampered(message),
        })?;
        // A trigger or table added behind kizon's back could write rows into this very entry
        // (a trigger on `documents` sealing a forged decision): no command runs on such a schema.
        let differences = match tx.sqlite() {
            Some(sqlite) => schema::differences(sqlite).map_err(|e| sqlite_error(&db, e))?,
            None => schema::postgres_differences(&tx).map_err(|e| sqlite(&db, e))?,
        };
        if let Some(difference) = differences.into_iter().next() {
            return Err(StoreError::Tampered(difference));
        }
        let mut context = Tx {
            tx,
            objects,
            db: db.clone(),
            actor: actor.to_owned(),
            next_seq,
            prev_hash: head.map_or(ledger::GENESIS_PREV_HASH.to_owned(), |(_, hash)| hash),
            unrecorded_rows: false,
            appended: None,
            abandoned: false,
            anchor_elsewhere: false,
            new_documents: Vec::new(),
            cases_seen: std::collections::HashMap::new(),
        };
        let value = change(&mut context)?;
        if context.abandoned {
            // Nothing to record after all: take away the document files this transaction added
            // while it still holds the write lock (no other command can register them
            // meanwhile), then roll back.
            for sha256 in std::mem::take(&mut context.new_documents) {
                self.objects.remove_unreferenced(&sha256);
            }
            drop(context);
            return Ok(value);
        }
        if context.unrecorded_rows {
            return Err(StoreError::Conflict(
                "internal: rows written without a ledger entry".into(),
            ));
        }
        let appended = context
            .appended
            .take()
            .filter(|_| !context.anchor_elsewhere);
        context.tx.commit().map_err(|e| sqlite(&db, e))?;
        if let Some((seq, _)) = &appended {
            // This transaction's own entry is no move made elsewhere: the next one reads on
            // from after it.
            self.moves_checked = *seq;
        }
        if let Some((seq, hash)) = appended {
            // The change is committed: the command has succeeded whatever happens to the
            // anchor. A head that could not be rewritten lags behind, which `verify` reports as
            // a note and the next command mends.
            let _ = write_head(&self.root, seq, &hash);
        }
        Ok(value)
    }

    /// The whole ledger, oldest first.
    pub fn ledger(&self) -> Result<Vec<LedgerEntry>, StoreError> {
        ledger::read_all(&self.conn).map_err(|e| self.err(e))
    }

    /// One entry, by its sequence number.
    pub fn entry(&self, seq: i64) -> Result<Option<LedgerEntry>, StoreError> {
        Ok(ledger::read_where(&self.conn, "seq = ?1", &seq)
            .map_err(|e| self.err(e))?
            .pop())
    }

    /// The entries whose detail holds `text` anywhere (a prefilter: the caller reads the
    /// detail), oldest first.
    pub fn entries_mentioning(&self, text: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        ledger::read_where(&self.conn, "detail LIKE '%' || ?1 || '%'", &text)
            .map_err(|e| self.err(e))
    }

    /// The owner's signature of entry `seq`: (public key, signature).
    pub fn signature_of(&self, seq: i64) -> Result<Option<(String, String)>, StoreError> {
        self.conn
            .query_row(
                "SELECT public_key, signature FROM signatures WHERE seq = ?1",
                db::params![seq],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The last entry's sequence number and hash.
    pub fn head(&self) -> Result<Option<(i64, String)>, StoreError> {
        ledger::head(&self.conn).map_err(|e| self.err(e))
    }

    /// The owner's signatures of ledger checkpoints: (seq, public key, signature), by seq.
    pub fn signatures(&self) -> Result<Vec<(i64, String, String)>, StoreError> {
        self.all(
            "SELECT seq, public_key, signature FROM signatures ORDER BY seq",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    pub(crate) fn conn(&self) -> &Db {
        &self.conn
    }
}

pub(crate) fn sqlite_error(path: &Path, source: rusqlite::Error) -> StoreError {
    sqlite(path, source.into())
}

pub(crate) fn sqlite(path: &Path, source: db::Error) -> StoreError {
    if let Some(unknown) = words::unknown_word(&source) {
        return StoreError::Tampered(format!("{}: {unknown}", path.display()));
    }
    StoreError::Database {
        path: path.to_owned(),
        source,
    }
}

/// Makes the folder `documents/` of a study whose documents are kept there.
fn make_local_documents(root: &Path, objects: &documents::Objects) -> Result<(), StoreError> {
    if let documents::Objects::Local(_) = objects {
        let dir = root.join(documents::DOCUMENTS_DIR).join("sha256");
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
    }
    Ok(())
}

pub(crate) fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Every transaction digests each covered table with its own statement (27 of them, see
    // `ledger::COVERED_TABLES`): rusqlite's default cache of 16 would prepare them anew each time.
    conn.set_prepared_statement_cache_capacity(128);
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Every commit is still fsynced to the WAL (FULL); checkpointing at 32 MiB rather than
    // SQLite's 4 MiB only writes hot pages (indexes, the ledger) back to the database less often.
    conn.pragma_update(None, "wal_autocheckpoint", 8192)?;
    conn.pragma_update(None, "foreign_keys", "ON")
}

/// The lock file that serialises writers of `ledger.head` across processes.
pub const HEAD_LOCK_FILE: &str = "ledger.head.lock";

/// Writes `ledger.head` atomically and monotonically: under an exclusive lock on
/// [`HEAD_LOCK_FILE`], only if the anchor does not already name this entry or a later one, through
/// a temporary file of this process's own renamed into place. Commands committing at once (two
/// ingests, a burst of web logins) each write their own entry and the anchor ends at the last;
/// none can rename another's temporary file away or put an older entry back.
fn write_head(root: &Path, seq: i64, hash: &str) -> Result<(), StoreError> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let path = root.join(HEAD_FILE);
    let lock_path = root.join(HEAD_LOCK_FILE);
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| StoreError::io(&lock_path, e))?;
    // Bounded: someone holding the lock must not hang a command that has already committed
    // (the anchor then lags, which `verify` notes and the next command mends).
    let mut locked = false;
    for _ in 0..200 {
        if lock.try_lock().is_ok() {
            locked = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    if !locked {
        return Ok(());
    }
    if let Ok(Some((current, _))) = read_head(root)
        && current >= seq
    {
        return Ok(());
    }
    let unique = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = root.join(format!("{HEAD_FILE}.{}.{unique}.tmp", std::process::id()));
    let written = fs::write(&tmp, format!("{seq} {hash}\n"))
        .and_then(|()| fs::File::open(&tmp)?.sync_all())
        .and_then(|()| fs::rename(&tmp, &path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.map_err(|e| StoreError::io(&path, e))
}

/// Reads `ledger.head`: `None` when absent.
pub fn read_head(root: &Path) -> Result<Option<(i64, String)>, StoreError> {
    let path = root.join(HEAD_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(&path, e)),
    };
    let mut parts = text.split_whitespace();
    match (parts.next().and_then(|s| s.parse().ok()), parts.next()) {
        (Some(seq), Some(hash)) => Ok(Some((seq, hash.to_owned()))),
        _ => Err(StoreError::Tampered(format!(
            "{}: not a ledger head (`SEQ HASH`)",
            path.display()
        ))),
    }
}

/// A transaction in progress: rows go in, then [`Tx::record`] appends the entry covering them.
pub struct Tx<'a> {
    tx: db::Transaction<'a>,
    objects: documents::Objects,
    db: PathBuf,
    actor: String,
    next_seq: i64,
    prev_hash: String,
    unrecorded_rows: bool,
    appended: Option<(i64, String)>,
    /// Set by [`Tx::abandon`]: roll back instead of committing.
    abandoned: bool,
    /// Set when the folder no longer keeps this database (it moved): `ledger.head` is the new
    /// database's anchor and is not rewritten.
    anchor_elsewhere: bool,
    /// Documents first registered by this transaction.
    new_documents: Vec<String>,
    /// Cases inserted or found in this transaction, with their facts (see `insert_case`).
    cases_seen: std::collections::HashMap<String, items::StoredCaseFacts>,
}

impl Tx<'_> {
    pub(crate) fn err(&self, e: db::Error) -> StoreError {
        sqlite(&self.db, e)
    }

    /// The sequence number the next ledger entry will take; rows inserted now carry it.
    pub(crate) fn pending_seq(&mut self) -> i64 {
        self.unrecorded_rows = true;
        self.next_seq
    }

    /// The change turned out to add nothing (say, an import whose every row is already
    /// recorded): roll the transaction back, documents included, and succeed without an entry.
    pub fn abandon(&mut self) {
        self.abandoned = true;
        self.unrecorded_rows = false;
    }

    /// The folder has switched to another database (a move): its `ledger.head` anchors that
    /// one, and this transaction's entry is not written there.
    pub(crate) fn anchor_elsewhere(&mut self) {
        self.anchor_elsewhere = true;
    }

    /// The sequence number of the last entry before this transaction's first.
    pub fn head_seq(&self) -> i64 {
        self.next_seq - 1
    }

    /// Attaches the owner's signature of the entry `seq` (appended in this transaction) to it.
    pub fn put_signature(
        &mut self,
        seq: i64,
        public_key: &str,
        signature: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO signatures (seq, public_key, signature) VALUES (?1, ?2, ?3)",
                params![seq, public_key, signature],
            )
            .map_err(|e| sqlite(&self.db, e))?;
        Ok(())
    }

    pub(crate) fn sql(&self) -> &Db {
        &self.tx
    }

    /// Stores a file in the document store and registers it (once per content).
    pub fn put_document_file(&mut self, source: &Path) -> Result<StoredDocument, StoreError> {
        let stored = self.objects.put_file(source)?;
        self.register_document(&stored)?;
        Ok(stored)
    }

    /// Stores bytes in the document store and registers them (once per content).
    pub fn put_document_bytes(&mut self, bytes: &[u8]) -> Result<StoredDocument, StoreError> {
        let stored = self.objects.put_bytes(bytes)?;
        self.register_document(&stored)?;
        Ok(stored)
    }

    fn register_document(&mut self, stored: &StoredDocument) -> Result<(), StoreError> {
        let known: Option<i64> = self
            .tx
            .query_row(
                "SELECT 1 FROM documents WHERE sha256 = ?1",
                params![stored.sha256],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if known.is_none() {
            let seq = self.pending_seq();
            self.tx
                .execute(
                    "INSERT INTO documents (sha256, size, ledger_seq) VALUES (?1, ?2, ?3)",
                    params![stored.sha256, stored.size as i64, seq],
                )
                .map_err(|e| sqlite(&self.db, e))?;
            self.new_documents.push(stored.sha256.clone());
        }
        Ok(())
    }

    /// Appends the ledger entry for `command`, covering every row inserted since the last one.
    /// `detail` must be a JSON object; `summary` and `rows` are added to it.
    pub fn record(
        &mut self,
        command: &str,
        summary: &str,
        detail: Value,
    ) -> Result<LedgerEntry, StoreError> {
        let seq = self.next_seq;
        let mut object = match detail {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                let mut map = Map::new();
                map.insert("value".into(), other);
                map
            }
        };
        object.insert("summary".into(), Value::String(summary.to_owned()));
        object.insert(
            "rows".into(),
            Value::Object(ledger::rows_record(&self.tx, seq).map_err(|e| self.err(e))?),
        );
        let entry = {
            let at = now_utc();
            let detail = Value::Object(object).to_string();
            let hash = ledger::entry_hash(seq, &at, &self.actor, command, &detail, &self.prev_hash);
            LedgerEntry {
                seq,
                at,
                actor: self.actor.clone(),
                command: command.to_owned(),
                detail,
                prev_hash: self.prev_hash.clone(),
                hash,
            }
        };
        self.tx
            .execute(
                "INSERT INTO ledger (seq, at, actor, command, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![entry.seq, entry.at, entry.actor, entry.command, entry.detail, entry.prev_hash, entry.hash],
            )
            .map_err(|e| self.err(e))?;
        self.next_seq += 1;
        self.prev_hash = entry.hash.clone();
        self.unrecorded_rows = false;
        self.appended = Some((entry.seq, entry.hash.clone()));
        Ok(entry)
    }
}

/// Now, UTC, RFC 3339 with microseconds.
pub fn now_utc() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .expect("UTC time formats")
}

#[cfg(test)]
mod tests;
