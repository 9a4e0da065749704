//! The database schema, and which tables the ledger covers.
//!
//! Every covered table is append-only (triggers refuse UPDATE and DELETE) and each of its rows
//! carries `ledger_seq`, the ledger entry that created it. The entry records a digest of exactly
//! those rows, so `verify` notices a row altered, removed or inserted behind kizon's back.

use rusqlite::Connection;

/// Bumped whenever the schema changes; stored in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 21;

/// Tables covered by the ledger, with the column that orders their rows in a digest.
pub const COVERED_TABLES: &[(&str, &str)] = &[
    ("documents", "sha256"),
    ("providers", "id"),
    ("evidence", "id"),
    ("locks", "id"),
    ("amendments", "id"),
    ("cases", "id"),
    ("items", "id"),
    ("findings", "id"),
    ("resolutions", "id"),
    ("training", "id"),
    ("readers", "id"),
    ("reads", "id"),
    ("reference_records", "id"),
    ("results", "id"),
    ("analyses", "id"),
    ("resolution_cases", "id"),
    ("users", "id"),
    ("assignments", "id"),
    ("marks", "id"),
    ("decoded", "sha256"),
    ("deviations", "id"),
    ("provider_keys", "id"),
    ("handovers", "id"),
    ("ocr", "sha256"),
    ("reading_events", "id"),
    ("user_status", "id"),
    ("session_assignments", "id"),
];

const CREATE: &str = r#"
CREATE TABLE ledger (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    command   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE documents (
    sha256     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    ledger_seq INTEGER NOT NULL
) STRICT;

CREATE TABLE providers (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    consent_model    TEXT NOT NULL,
    legal_basis      TEXT NOT NULL,
    regulator_access TEXT NOT NULL,
    ledger_seq       INTEGER NOT NULL
) STRICT;

CREATE TABLE evidence (
    id          INTEGER PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    kind        TEXT NOT NULL,
    document    TEXT NOT NULL REFERENCES documents(sha256),
    file_name   TEXT NOT NULL,
    note        TEXT,
    ledger_seq  INTEGER NOT NULL
) STRICT;

CREATE TABLE locks (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    document   TEXT REFERENCES documents(sha256),
    ledger_seq INTEGER NOT NULL
) STRICT;

CREATE TABLE amendments (
    id         INTEGER PRIMARY KEY,
    lock_kind  TEXT NOT NULL,
    old_sha256 TEXT NOT NULL,
    new_sha256 TEXT NOT NULL,
    reason     TEXT NOT NULL,
    document   TEXT REFERENCES documents(sha256),
    ledger_seq INTEGER NOT NULL
) STRICT;
"#;

/// Version 2: the cases and items of ingest.
const CASES_AND_ITEMS: &str = r#"
CREATE TABLE cases (
    id              TEXT PRIMARY KEY,
    provider_id     INTEGER NOT NULL REFERENCES providers(id),
    patient_key     TEXT,
    acquisition_date TEXT,
    collection_date TEXT,
    diagnosis       TEXT,
    diagnosis_date  TEXT,
    attributes      TEXT NOT NULL,
    ledger_seq      INTEGER NOT NULL
) STRICT;

CREATE TABLE items (
    id          INTEGER PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    case_id     TEXT NOT NULL REFERENCES cases(id),
    path        TEXT NOT NULL,
    source      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    modified_ns INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    metadata    TEXT NOT NULL,
    problem     TEXT,
    ledger_seq  INTEGER NOT NULL,
    UNIQUE (source, sha256)
) STRICT;
CREATE INDEX items_case ON items(case_id);
CREATE INDEX items_sha256 ON items(sha256);
"#;

/// Version 3: findings of `check` and the decisions on them.
const FINDINGS: &str = r#"
CREATE TABLE findings (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    rule       TEXT NOT NULL,
    clause     TEXT NOT NULL,
    severity   TEXT NOT NULL,
    case_ids   TEXT NOT NULL,
    item_ids   TEXT NOT NULL,
    message_ja TEXT NOT NULL,
    message_en TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL
) STRICT;

CREATE TABLE resolutions (
    id         INTEGER PRIMARY KEY,
    finding_id INTEGER NOT NULL REFERENCES findings(id),
    decision   TEXT NOT NULL,
    reason     TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL
) STRICT;
"#;

/// Version 4: every covered table indexed by the entry that created its rows, so that a
/// ledger entry's digest (at commit and in `verify`) reads only its own rows, not the table.
const LEDGER_SEQ_INDEXES: &str = r#"
CREATE INDEX documents_ledger_seq ON documents(ledger_seq);
CREATE INDEX providers_ledger_seq ON providers(ledger_seq);
CREATE INDEX evidence_ledger_seq ON evidence(ledger_seq);
CREATE INDEX locks_ledger_seq ON locks(ledger_seq);
CREATE INDEX amendments_ledger_seq ON amendments(ledger_seq);
CREATE INDEX cases_ledger_seq ON cases(ledger_seq);
CREATE INDEX items_ledger_seq ON items(ledger_seq);
CREATE INDEX findings_ledger_seq ON findings(ledger_seq);
CREATE INDEX resolutions_ledger_seq ON resolutions(ledger_seq);
"#;

/// Version 5: fingerprints of the device's training data, to prove the test data independent.
const TRAINING: &str = r#"
CREATE TABLE training (
    id         INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    value      TEXT NOT NULL,
    path       TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL,
    UNIQUE (fingerprint, value)
) STRICT;
CREATE INDEX training_ledger_seq ON training(ledger_seq);
"#;

/// Version 6: the reference standard (readers, their reads, confirmed diagnoses or comparator
/// results), the device's results and the analyses run on them.
const REFERENCE_AND_RESULTS: &str = r#"
CREATE TABLE readers (
    id               INTEGER PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE,
    qualification    TEXT NOT NULL,
    specialty        TEXT NOT NULL,
    years_experience INTEGER NOT NULL,
    independent      INTEGER NOT NULL,
    declaration      TEXT,
    ledger_seq       INTEGER NOT NULL
) STRICT;
CREATE INDEX readers_ledger_seq ON readers(ledger_seq);

CREATE TABLE reads (
    id         INTEGER PRIMARY KEY,
    reader_id  INTEGER NOT NULL REFERENCES readers(id),
    case_id    TEXT NOT NULL REFERENCES cases(id),
    role       TEXT NOT NULL,
    label      TEXT,
    score      REAL,
    marks      TEXT,
    read_at    TEXT,
    source     TEXT NOT NULL REFERENCES documents(sha256),
    ledger_seq INTEGER NOT NULL,
    UNIQUE (reader_id, case_id, role)
) STRICT;
CREATE INDEX reads_ledger_seq ON reads(ledger_seq);

CREATE TABLE reference_records (
    id              INTEGER PRIMARY KEY,
    case_id         TEXT NOT NULL UNIQUE REFERENCES cases(id),
    kind            TEXT NOT NULL,
    label           TEXT NOT NULL,
    diagnosis       TEXT,
    diagnosis_date  TEXT,
    source_document TEXT,
    source_date     TEXT,
    source_location TEXT,
    source          TEXT NOT NULL REFERENCES documents(sha256),
    ledger_seq      INTEGER NOT NULL
) STRICT;
CREATE INDEX reference_records_ledger_seq ON reference_records(ledger_seq);

CREATE TABLE results (
    id             INTEGER PRIMARY KEY,
    case_id        TEXT NOT NULL REFERENCES cases(id),
    device_version TEXT NOT NULL,
    label          TEXT,
    score          REAL,
    marks          TEXT,
    source         TEXT NOT NULL REFERENCES documents(sha256),
    device_file    TEXT,
    ledger_seq     INTEGER NOT NULL,
    UNIQUE (case_id, device_version)
) STRICT;
CREATE INDEX results_ledger_seq ON results(ledger_seq);

CREATE TABLE analyses (
    id            INTEGER PRIMARY KEY,
    inputs_sha256 TEXT NOT NULL UNIQUE,
    output        TEXT NOT NULL REFERENCES documents(sha256),
    ledger_seq    INTEGER NOT NULL
) STRICT;
CREATE INDEX analyses_ledger_seq ON analyses(ledger_seq);

CREATE TABLE resolution_cases (
    id            INTEGER PRIMARY KEY,
    resolution_id INTEGER NOT NULL REFERENCES resolutions(id),
    case_id       TEXT NOT NULL REFERENCES cases(id),
    ledger_seq    INTEGER NOT NULL
) STRICT;
CREATE INDEX resolution_cases_ledger_seq ON resolution_cases(ledger_seq);
"#;

/// Version 7: what `check` decoded from each file's pixels, keyed by the file's SHA-256. A cache,
/// not a record: it is a function of the content it is keyed by, so it is outside the ledger,
/// may be deleted at any time, and is refilled by the next `check`.
const DECODE_CACHE: &str = r#"
CREATE TABLE decoded (
    sha256       TEXT PRIMARY KEY,
    pixel_sha256 TEXT,
    phash        TEXT,
    error        TEXT
) STRICT;
"#;

/// Version 8: users of the web workspace and readers' case assignments (covered), their
/// password hashes and sessions (not covered: a secret and transient state; see `users.rs`),
/// and the indexes the web's item list pages with: by kind (each kind in id order) and by id
/// alone (a narrow copy of the keys, so that an unfiltered page far down skips rows cheaply).
const USERS: &str = r#"
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    reader_code TEXT,
    ledger_seq  INTEGER NOT NULL
) STRICT;
CREATE INDEX users_ledger_seq ON users(ledger_seq);

CREATE TABLE assignments (
    id          INTEGER PRIMARY KEY,
    reader_code TEXT NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    ledger_seq  INTEGER NOT NULL,
    UNIQUE (reader_code, case_id)
) STRICT;
CREATE INDEX assignments_ledger_seq ON assignments(ledger_seq);

CREATE TABLE credentials (
    user_name     TEXT PRIMARY KEY REFERENCES users(name),
    password_hash TEXT NOT NULL
) STRICT;

CREATE INDEX items_kind ON items(kind);
CREATE INDEX items_order ON items(id);

CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_name    TEXT NOT NULL REFERENCES users(name),
    csrf         TEXT NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
"#;

/// Version 9: lesion marks — points, circles, boxes or polygons on an image (or frame) of a
/// case, by a reader (panel or adjudicator: the lesion reference) or by a device version (with
/// a confidence rating). A reader's or a device's marks on one case are one set, numbered by
/// `ordinal`; a set is never edited (a different re-import is refused or becomes a finding).
const MARKS: &str = r#"
CREATE TABLE marks (
    id             INTEGER PRIMARY KEY,
    case_id        TEXT NOT NULL REFERENCES cases(id),
    image          TEXT NOT NULL,
    reader_id      INTEGER REFERENCES readers(id),
    role           TEXT,
    device_version TEXT,
    ordinal        INTEGER NOT NULL,
    shape          TEXT NOT NULL,
    lesion_type    TEXT,
    size_mm        REAL,
    rating         REAL,
    source         TEXT NOT NULL REFERENCES documents(sha256),
    ledger_seq     INTEGER NOT NULL,
    CHECK ((reader_id IS NULL) <> (device_version IS NULL))
) STRICT;
CREATE INDEX marks_ledger_seq ON marks(ledger_seq);
CREATE INDEX marks_case ON marks(case_id);
"#;

/// Version 10: a trigram full-text index over item paths and case ids, for searching a large
/// study in the web workspace (SQLite FTS5, `tokenize='trigram'`: any substring of three
/// characters or more, case-insensitive). A cache, outside the ledger like `decoded`: it holds
/// nothing but what `items` holds, and `Store::refresh_item_search` brings it up to date from
/// `indexed_upto` before a search, so ingest does not pay for it.
const ITEM_SEARCH: &str = r#"
CREATE VIRTUAL TABLE item_search USING fts5(path, case_id, content='items', content_rowid='id', tokenize='trigram');
CREATE TABLE item_search_state (indexed_upto INTEGER NOT NULL) STRICT;
INSERT INTO item_search_state (indexed_upto) VALUES (0);
"#;

/// Version 11: the owner's signatures of ledger checkpoints (not covered: each is checked against
/// the owner's public key, and one cannot be made without the private key), and the decode cache
/// covered by the ledger. `check` rests its Q7 findings (same pixels, near-duplicate images,
/// training overlap) on the cached pixel and perceptual hashes: a row changed behind kizon's
/// back would hide a duplicate, so each row is now written once, under the ledger entry of the
/// `check` that decoded it. The old, uncovered cache is dropped; the next `check` refills it.
const SIGNATURES_AND_COVERED_DECODES: &str = r#"
CREATE TABLE signatures (
    seq        INTEGER PRIMARY KEY,
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL
) STRICT;
DROP TABLE decoded;
CREATE TABLE decoded (
    sha256       TEXT PRIMARY KEY,
    pixel_sha256 TEXT,
    phash        TEXT,
    error        TEXT,
    ledger_seq   INTEGER NOT NULL
) STRICT;
CREATE INDEX decoded_ledger_seq ON decoded(ledger_seq);
"#;

/// Version 12: the English text of what users write in both languages, as a field of its own
/// beside the text as written (never one string split at a separator): a decision's and an
/// amendment's reason, a reader's qualification, a reference record's source document. The
/// columns are last and NULL in older rows, which the ledger's row digest does not hash
/// (trailing NULLs), so every digest recorded before the migration still holds.
const ENGLISH_TEXT: &str = r#"
ALTER TABLE resolutions ADD COLUMN reason_en TEXT;
ALTER TABLE amendments ADD COLUMN reason_en TEXT;
ALTER TABLE readers ADD COLUMN qualification_en TEXT;
ALTER TABLE reference_records ADD COLUMN source_document_en TEXT;
"#;

/// Version 13: protocol deviations as the study team records them (`kizon deviation add`), for
/// the report's 計画からの逸脱 and the package.
const DEVIATIONS: &str = r#"
CREATE TABLE deviations (
    id             INTEGER PRIMARY KEY,
    description    TEXT NOT NULL,
    description_en TEXT,
    case_ids       TEXT NOT NULL,
    ledger_seq     INTEGER NOT NULL
) STRICT;
CREATE INDEX deviations_ledger_seq ON deviations(ledger_seq);
"#;

/// Version 14: the hospital's side. A provider's Ed25519 public keys (the hospital signs its
/// hand-overs with the private key, which never leaves it), and each signed hand-over accepted at
/// ingest: its manifest (a stored document), the key that signed it and the signature.
const HANDOVERS: &str = r#"
CREATE TABLE provider_keys (
    id          INTEGER PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    public_key  TEXT NOT NULL,
    ledger_seq  INTEGER NOT NULL,
    UNIQUE (provider_id, public_key)
) STRICT;
CREATE INDEX provider_keys_ledger_seq ON provider_keys(ledger_seq);
CREATE TABLE handovers (
    id          INTEGER PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    manifest    TEXT NOT NULL UNIQUE REFERENCES documents(sha256),
    public_key  TEXT NOT NULL,
    signature   TEXT NOT NULL,
    files       INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    ledger_seq  INTEGER NOT NULL
) STRICT;
CREATE INDEX handovers_ledger_seq ON handovers(ledger_seq);
"#;

/// Version 15: what OCR found in a file's pixels (Q1 burned-in text): the engine and the regions
/// of identifying text (never the text), keyed by the file's SHA-256 like the decode cache, and
/// covered like it (findings rest on it).
const OCR: &str = r#"
CREATE TABLE ocr (
    sha256     TEXT PRIMARY KEY,
    engine     TEXT NOT NULL,
    regions    TEXT NOT NULL,
    error      TEXT,
    ledger_seq INTEGER NOT NULL
) STRICT;
CREATE INDEX ocr_ledger_seq ON ocr(ledger_seq);
"#;

/// Version 16: reading sessions as they happen (the reader's server-side events: a session
/// started with its seed, cases opened, marks placed and withdrawn, pauses, submissions), from
/// which the marks in hand and the reading time per case are computed; and users deactivated
/// and reactivated (the latest row decides).
const READING_EVENTS: &str = r#"
CREATE TABLE reading_events (
    id         INTEGER PRIMARY KEY,
    reader_id  INTEGER NOT NULL REFERENCES readers(id),
    session    TEXT NOT NULL,
    case_id    TEXT REFERENCES cases(id),
    event      TEXT NOT NULL,
    mark       TEXT,
    target     INTEGER REFERENCES reading_events(id),
    detail     TEXT,
    at         TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL
) STRICT;
CREATE INDEX reading_events_ledger_seq ON reading_events(ledger_seq);
CREATE INDEX reading_events_reader ON reading_events(reader_id, session);
CREATE TABLE user_status (
    id         INTEGER PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES users(name),
    active     INTEGER NOT NULL CHECK (active IN (0, 1)),
    ledger_seq INTEGER NOT NULL
) STRICT;
CREATE INDEX user_status_ledger_seq ON user_status(ledger_seq);
CREATE INDEX user_status_user ON user_status(user_name);
"#;

/// Version 17: readers assigned to reading sessions and withdrawn from them (the latest row of
/// a reader and session decides; a reader without any row takes part in every session the
/// protocol declares).
const SESSION_ASSIGNMENTS: &str = r#"
CREATE TABLE session_assignments (
    id          INTEGER PRIMARY KEY,
    reader_code TEXT NOT NULL REFERENCES readers(code),
    session     TEXT NOT NULL,
    assigned    INTEGER NOT NULL CHECK (assigned IN (0, 1)),
    ledger_seq  INTEGER NOT NULL
) STRICT;
CREATE INDEX session_assignments_ledger_seq ON session_assignments(ledger_seq);
CREATE INDEX session_assignments_reader ON session_assignments(reader_code, session);
"#;

/// Version 18: a finding's decisions found by the finding, not by scanning every decision. The
/// findings list reads each finding's latest decision and its cases; without these indexes that
/// was a scan of all decisions per finding (4 s per `resolve` at 12,000 findings).
const RESOLUTIONS_BY_FINDING: &str = r#"
CREATE INDEX resolutions_finding ON resolutions(finding_id, id);
CREATE INDEX resolution_cases_resolution ON resolution_cases(resolution_id);
"#;

/// Version 19: login attempts counted in the database, not in one server's memory, so that
/// several `kizon serve` processes on one study share the limit (outside the ledger, like
/// `sessions`: a count that expires is no evidence). One row per limiter key: the attempts in
/// the window that began at `since` (Unix seconds).
const LOGIN_ATTEMPTS: &str = r#"
CREATE TABLE login_attempts (
    key   TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    since INTEGER NOT NULL
) STRICT;
CREATE INDEX login_attempts_since ON login_attempts(since);
"#;

/// Version 20: on PostgreSQL, trigram indexes for the item search (pg_trgm, a trusted extension
/// the database's owner may create; made only when missing, since even `IF NOT EXISTS` needs
/// the privilege to create it), which SQLite has had since version 10 in FTS5: a search of
/// 100,000 items took 60–100 ms reading every row. Nothing on SQLite: the lines are comments
/// there, and [`postgres_ddl`] makes them statements.
const POSTGRES_ITEM_SEARCH: &str = r#"
-- postgres: DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN CREATE EXTENSION pg_trgm; END IF; END $$;
-- postgres: CREATE INDEX items_search_path ON items USING gin (path gin_trgm_ops);
-- postgres: CREATE INDEX items_search_case ON items USING gin (case_id gin_trgm_ops);
"#;

/// Version 21: the ledger by command, for what a sign-in reads (the entries that set a user's
/// password, `users::credentials_and_records`) on a ledger every sign-in lengthens.
const LEDGER_BY_COMMAND: &str = r#"
CREATE INDEX IF NOT EXISTS ledger_command ON ledger(command, seq);
"#;

/// The DDL that brings a database from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    CREATE,
    CASES_AND_ITEMS,
    FINDINGS,
    LEDGER_SEQ_INDEXES,
    TRAINING,
    REFERENCE_AND_RESULTS,
    DECODE_CACHE,
    USERS,
    MARKS,
    ITEM_SEARCH,
    SIGNATURES_AND_COVERED_DECODES,
    ENGLISH_TEXT,
    DEVIATIONS,
    HANDOVERS,
    OCR,
    READING_EVENTS,
    SESSION_ASSIGNMENTS,
    RESOLUTIONS_BY_FINDING,
    LOGIN_ATTEMPTS,
    POSTGRES_ITEM_SEARCH,
    LEDGER_BY_COMMAND,
];

/// Every migration's DDL, in order (for copying a study table by table).
pub fn migrations() -> &'static [&'static str] {
    MIGRATIONS
}

/// Creates the schema in an empty database.
pub fn create(conn: &Connection) -> rusqlite::Result<()> {
    migrate(conn, 0)
}

/// Applies the migrations after `from`, in one transaction, with append-only triggers on every
/// covered table that lacks them.
pub fn migrate(conn: &Connection, from: i64) -> rusqlite::Result<()> {
    let mut sql = String::from("BEGIN IMMEDIATE;");
    for ddl in &MIGRATIONS[from as usize..] {
        sql.push_str(ddl);
    }
    for table in std::iter::once("ledger").chain(COVERED_TABLES.iter().map(|(t, _)| *t)) {
        sql.push_str(&format!(
            "CREATE TRIGGER IF NOT EXISTS {table}_append_only_update BEFORE UPDATE ON {table}
               BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;
             CREATE TRIGGER IF NOT EXISTS {table}_append_only_delete BEFORE DELETE ON {table}
               BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"
        ));
    }
    sql.push_str(&format!("PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"));
    conn.execute_batch(&sql)
}

/// Where the database's schema departs from the one this kizon creates: a table, index or
/// trigger that is missing, added or defined otherwise (a `NOT NULL` or `STRICT` dropped, an
/// append-only trigger removed, a trigger added that rewrites rows). Each difference is one line.
///
/// Migrations only add, and add the same text a new study gets, so every study of this schema
/// version has exactly the objects of a database created afresh; they are compared by type,
/// name, table and SQL text.
pub fn differences(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    static EXPECTED: std::sync::OnceLock<SchemaObjects> = std::sync::OnceLock::new();
    let expected = match EXPECTED.get() {
        Some(expected) => expected,
        None => {
            let fresh = Connection::open_in_memory()?;
            create(&fresh)?;
            let objects = schema_objects(&fresh)?;
            EXPECTED.get_or_init(|| objects)
        }
    };
    Ok(compare_objects(expected, &schema_objects(conn)?))
}

/// Each object that `found` lacks, defines otherwise or adds against `expected`, one line each
/// (both backends' schema checks).
fn compare_objects(expected: &SchemaObjects, found: &SchemaObjects) -> Vec<String> {
    let mut differences = Vec::new();
    for (key, sql) in expected {
        match found.get(key) {
            None => differences.push(format!(
                "the database's schema lacks the {} `{}` (removed outside kizon)",
                key.0, key.1
            )),
            Some(actual) if actual != sql => differences.push(format!(
                "the {} `{}` is defined otherwise than kizon defines it (altered outside kizon): {}",
                key.0,
                key.1,
                actual.as_deref().unwrap_or("-").split_whitespace().collect::<Vec<_>>().join(" ")
            )),
            Some(_) => {}
        }
    }
    for key in found.keys().filter(|key| !expected.contains_key(*key)) {
        differences.push(format!(
            "the database holds a {} `{}` that kizon does not create (added outside kizon)",
            key.0, key.1
        ));
    }
    differences
}

/// The tables FTS5 makes for `item_search` (its content is `items`, so it has no `_content`).
const FTS5_SHADOW_TABLES: &[&str] = &[
    "item_search_data",
    "item_search_idx",
    "item_search_docsize",
    "item_search_config",
];

pub(crate) type SchemaObjects = std::collections::BTreeMap<(String, String), Option<String>>;

/// Every table, index, trigger and view, by (type, name), with its SQL text; SQLite's own
/// statistics tables left out (`ANALYZE` may add them legitimately).
fn schema_objects(conn: &Connection) -> rusqlite::Result<SchemaObjects> {
    // Cached: `Store::transact` compares the schema before every command's entry.
    let mut statement = conn.prepare_cached(
        // Exact names: `LIKE 'sqlite_stat%'` would also pass `sqlitexstat_seal` (`_` is a
        // wildcard there), a trigger an attacker could hide behind it.
        "SELECT type, name, tbl_name, sql FROM sqlite_master
         WHERE NOT (type = 'table' AND name IN ('sqlite_stat1', 'sqlite_stat2', 'sqlite_stat3', 'sqlite_stat4'))",
    )?;
    let rows = statement.query_map([], |r| {
        let kind: String = r.get(0)?;
        let name: String = r.get(1)?;
        let table: String = r.get(2)?;
        let sql: Option<String> = r.get(3)?;
        // The search index's shadow tables are SQLite's own DDL, which another SQLite version
        // may word otherwise: compared by name and type only (they decide nothing).
        let sql = if kind == "table" && FTS5_SHADOW_TABLES.contains(&name.as_str()) {
            None
        } else {
            sql.map(|sql| format!("ON {table}: {sql}"))
        };
        Ok(((kind, name), sql))
    })?;
    rows.collect()
}

/// The version of a PostgreSQL study's schema lives in this table (SQLite keeps it in
/// `PRAGMA user_version`).
const POSTGRES_VERSION_TABLE: &str = "kizon_schema";

/// One migration's DDL as PostgreSQL takes it: the same tables, columns (in the same order, so
/// that a row digests alike on both backends), keys, references, checks and indexes, with
/// PostgreSQL's types for SQLite's storage classes (`INTEGER` → `BIGINT`, `REAL` → `DOUBLE
/// PRECISION`, `BLOB` → `BYTEA`; an `id INTEGER PRIMARY KEY` numbered by an identity column as
/// SQLite numbers its rowid), without `STRICT` (PostgreSQL's columns always are). SQLite's
/// full-text index (`item_search`, FTS5) has no counterpart: on PostgreSQL the item search
/// has trigram indexes of its own, from lines `-- postgres: …` (comments to SQLite).
pub fn postgres_ddl(sqlite: &str) -> String {
    let mut out = String::with_capacity(sqlite.len() + 256);
    for line in sqlite.lines() {
        if line.starts_with("CREATE VIRTUAL TABLE") {
            continue;
        }
        if let Some(statement) = line.strip_prefix("-- postgres: ") {
            out.push_str(statement);
            out.push('\n');
            continue;
        }
        let line = line.replace(") STRICT;", ");");
        let line = if line.trim_start().starts_with("seq ") {
            line.replace("INTEGER PRIMARY KEY", "BIGINT PRIMARY KEY")
        } else {
            line.replace(
                "INTEGER PRIMARY KEY",
                "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            )
        };
        // Text compares and sorts byte by byte, as SQLite's BINARY collation does: a row
        // digest reads rows in key order, and a case id must sort the same on both backends
        // and whatever the server's locale.
        let line = line
            .replace(" TEXT", " TEXT COLLATE \"C\"")
            .replace("INTEGER", "BIGINT")
            .replace(" REAL", " DOUBLE PRECISION")
            .replace(" BLOB", " BYTEA");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Creates the schema in an empty PostgreSQL database.
/// One transaction: a schema that cannot be made whole (a role that may not create pg_trgm, a
/// process killed) leaves the database as empty as it was, and `init` can be run again.
pub fn create_postgres(db: &crate::db::Db) -> crate::db::Result<()> {
    let made = db.execute_batch(&format!(
        "BEGIN; SELECT pg_advisory_xact_lock({lock});
         CREATE TABLE {POSTGRES_VERSION_TABLE} (version BIGINT NOT NULL);
         INSERT INTO {POSTGRES_VERSION_TABLE} (version) VALUES (0);
         {} COMMIT;",
        postgres_migration(0, FunctionHome::StudySchema),
        lock = crate::db::LEDGER_LOCK,
    ));
    if made.is_err() {
        let _ = db.execute_batch("ROLLBACK");
    }
    made
}

/// The schema version of a PostgreSQL study; `None`: the database holds no kizon study.
pub fn postgres_version(db: &crate::db::Db) -> crate::db::Result<Option<i64>> {
    use crate::db::OptionalExtension;
    let exists: Option<String> = db
        .query_row(
            "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?1",
            crate::db::params![POSTGRES_VERSION_TABLE],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(None);
    }
    db.query_row(
        &format!("SELECT version FROM {POSTGRES_VERSION_TABLE}"),
        crate::db::params![],
        |r| r.get(0),
    )
    .map(Some)
}

/// Applies the migrations after `from` to a PostgreSQL study, in one transaction, with the
/// append-only triggers on the ledger and every covered table (one function refuses the
/// change, as SQLite's `RAISE(ABORT)` does).
pub fn migrate_postgres(db: &crate::db::Db, from: i64) -> crate::db::Result<()> {
    // Two processes upgrading at once: the second waits, then finds nothing left to do.
    let migrated = db.execute_batch(&format!(
        "BEGIN; SELECT pg_advisory_xact_lock({lock});
         DO $$ BEGIN IF (SELECT version FROM {POSTGRES_VERSION_TABLE}) <> {from} THEN
           RAISE EXCEPTION 'kizon: the schema moved on meanwhile'; END IF; END $$;
         {} COMMIT;",
        postgres_migration(from, FunctionHome::StudySchema),
        lock = crate::db::LEDGER_LOCK,
    ));
    if migrated.is_err() {
        let _ = db.execute_batch("ROLLBACK");
        // Another process migrated first: nothing is wrong if the schema is now current.
        if postgres_version(db)? == Some(SCHEMA_VERSION) {
            return Ok(());
        }
    }
    migrated
}

/// Where [`postgres_migration`] puts the append-only trigger function.
#[derive(Clone, Copy)]
enum FunctionHome {
    /// The study's schema, the first of the search path: a study as it is made.
    StudySchema,
    /// The session's temporary schema, for the reference schema [`postgres_differences`]
    /// compares with. PostgreSQL never creates an unqualified function there, nor looks one up
    /// there, so both the function and the triggers name it `pg_temp.` explicitly.
    SessionTemporary,
}

/// The statements that bring a PostgreSQL study from version `from` to this one, with the
/// append-only triggers, without a transaction of their own.
fn postgres_migration(from: i64, home: FunctionHome) -> String {
    let function = match home {
        FunctionHome::StudySchema => "kizon_append_only",
        FunctionHome::SessionTemporary => "pg_temp.kizon_append_only",
    };
    let mut sql = format!(
        "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;",
    );
    for ddl in &MIGRATIONS[from as usize..] {
        sql.push_str(&postgres_ddl(ddl));
    }
    for table in std::iter::once("ledger").chain(COVERED_TABLES.iter().map(|(t, _)| *t)) {
        sql.push_str(&format!(
            "CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
               FOR EACH ROW EXECUTE FUNCTION {function}();"
        ));
    }
    sql.push_str(&format!(
        "UPDATE {POSTGRES_VERSION_TABLE} SET version = {SCHEMA_VERSION};"
    ));
    sql
}

/// [`differences`] for a PostgreSQL study: its schema's tables (columns, types, NOT NULL,
/// identity, defaults), constraints, indexes, triggers, functions, rules and views, compared
/// with those of the schema made afresh (once per process, in a schema of its own inside a
/// transaction that is rolled back). A trigger added behind kizon's back, one removed, a
/// constraint dropped or a rule that rewrites rows is one line each.
pub fn postgres_differences(db: &crate::db::Db) -> crate::db::Result<Vec<String>> {
    let expected = EXPECTED_POSTGRES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .as_ref()
        .map(|(objects, _)| objects.clone());
    let Some(expected) = expected else {
        return Err(crate::db::Error::Conversion {
            column: 0,
            message:
                "internal: the expected PostgreSQL schema was not made when the study was opened"
                    .into(),
        });
    };
    Ok(compare_objects(&expected, &postgres_objects(db)?))
}

/// The reference [`postgres_differences`] compares with, made at most once per process
/// afresh (see [`prepare_postgres_differences`]), and whether it was made afresh.
static EXPECTED_POSTGRES: std::sync::Mutex<Option<(std::sync::Arc<SchemaObjects>, bool)>> =
    std::sync::Mutex::new(None);

/// How [`prepare_postgres_differences`] may come by the reference schema.
pub enum Reference<'a> {
    /// Made afresh in this process, whatever was remembered: `audit verify`.
    Fresh,
    /// Taken from the file an earlier command wrote when it made the reference afresh, if that
    /// was for this kizon, this server and this search path, and if the study's schema is
    /// exactly the one remembered; otherwise made afresh and remembered there. Making it costs
    /// some 250 ms of DDL on the server, which every write command paid (issue 18's ingest
    /// benchmark); reading it, a few ms.
    ///
    /// What this gives away: someone who could alter both the study's schema and this file
    /// in the study folder, consistently, would pass the check before writes; `audit verify`
    /// (always [`Reference::Fresh`]) still names the alteration.
    Remembered(&'a std::path::Path),
}

/// Makes or finds the objects [`postgres_differences`] compares with; called before a
/// PostgreSQL study's first write and by `verify`, outside any transaction (making them uses
/// one of its own).
pub fn prepare_postgres_differences(
    db: &crate::db::Db,
    reference: Reference<'_>,
) -> crate::db::Result<()> {
    let held = EXPECTED_POSTGRES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .as_ref()
        .map(|(_, fresh)| *fresh);
    let file = match (reference, held) {
        (_, Some(true)) | (Reference::Remembered(_), Some(false)) => return Ok(()),
        (Reference::Fresh, _) => None,
        (Reference::Remembered(file), None) => Some(file),
    };
    let ddl = postgres_migration(0, FunctionHome::SessionTemporary);
    let key = crate::remembered_schema::key(db, &ddl)?;
    if let Some(file) = file
        && let Some(remembered) = crate::remembered_schema::read(file, &key)
        && compare_objects(&remembered, &postgres_objects(db)?).is_empty()
    {
        set_expected_postgres(remembered, false);
        return Ok(());
    }
    let objects = expected_postgres_objects(db, &ddl)?;
    if let Some(file) = file {
        // Best effort: a study folder that cannot be written makes the next command slower,
        // nothing else.
        let _ = crate::remembered_schema::write(file, &key, &objects);
    }
    set_expected_postgres(objects, true);
    Ok(())
}

fn set_expected_postgres(objects: SchemaObjects, fresh: bool) {
    *EXPECTED_POSTGRES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) =
        Some((std::sync::Arc::new(objects), fresh));
}

/// The objects of the schema as kizon makes it: made in the session's temporary schema inside
/// a transaction that is rolled back, so nothing of it stays.
///
/// Temporary, not a schema of its own: temporary tables write no WAL and need no CREATE on the
/// database (only TEMPORARY, which every role has by default). Still some 230 ms of DDL on the
/// server (a scratch schema took some 300), which is why the result is remembered
/// ([`Reference::Remembered`]).
fn expected_postgres_objects(db: &crate::db::Db, ddl: &str) -> crate::db::Result<SchemaObjects> {
    // The temporary schema first, so the tables go there; then the session's own path, where
    // the extensions the schema uses (pg_trgm's operator classes) are found.
    let path: String = db.query_row(
        "SELECT current_setting('search_path')",
        crate::db::params![],
        |r| r.get(0),
    )?;
    let made = db.execute_batch(&format!(
        "BEGIN; SET LOCAL search_path TO pg_temp, {path};
         CREATE TABLE {POSTGRES_VERSION_TABLE} (version BIGINT NOT NULL);
         INSERT INTO {POSTGRES_VERSION_TABLE} (version) VALUES (0);
         {ddl}"
    ));
    let objects = made.and_then(|()| postgres_objects(db));
    db.execute_batch("ROLLBACK")?;
    objects
}

/// Every object of the current schema that decides what a write does, by (kind, name), with
/// its definition, the schema's name taken out so that two schemas compare.
fn postgres_objects(db: &crate::db::Db) -> crate::db::Result<SchemaObjects> {
    use crate::db::params;
    let schema: String = db.query_row("SELECT current_schema()::TEXT", params![], |r| r.get(0))?;
    let mut objects = SchemaObjects::new();
    // PostgreSQL names the session's temporary schema (`pg_temp_3`) `pg_temp` in definitions.
    let alias = schema.starts_with("pg_temp_").then_some("pg_temp.");
    let plain = |text: String| {
        let text = text.replace(&format!("{schema}."), "");
        match alias {
            Some(alias) => text.replace(alias, ""),
            None => text,
        }
    };
    let queries: [(&str, &str); 8] = [
        (
            "row security of table",
            "SELECT c.relname::TEXT, c.relrowsecurity::TEXT || ' ' || c.relforcerowsecurity::TEXT
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind = 'r'",
        ),
        (
            "policy",
            "SELECT tablename::TEXT || '.' || policyname::TEXT, cmd || ' ' || COALESCE(qual, '') || ' ' || COALESCE(with_check, '')
             FROM pg_policies WHERE schemaname = current_schema()",
        ),
        (
            "table",
            "SELECT c.relname::TEXT, string_agg(a.attname::TEXT || ' ' || format_type(a.atttypid, a.atttypmod)
                 || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                 || CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::TEXT ELSE '' END
                 || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''), ', ' ORDER BY a.attnum)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
             GROUP BY c.relname",
        ),
        (
            "constraint",
            "SELECT cl.relname::TEXT || '.' || co.conname::TEXT, pg_get_constraintdef(co.oid)
             FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
             JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = current_schema()",
        ),
        (
            "index",
            "SELECT indexname::TEXT, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
        ),
        (
            "trigger",
            "SELECT cl.relname::TEXT || '.' || t.tgname::TEXT, pg_get_triggerdef(t.oid) || ' ENABLED ' || t.tgenabled::TEXT
             FROM pg_trigger t JOIN pg_class cl ON cl.oid = t.tgrelid
             JOIN pg_namespace n ON n.oid = cl.relnamespace
             WHERE n.nspname = current_schema() AND NOT t.tgisinternal",
        ),
        (
            "function",
            "SELECT p.proname::TEXT, pg_get_functiondef(p.oid)
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema()
               AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                               WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                                 AND d.deptype = 'e' AND e.extname = 'pg_trgm')",
        ),
        (
            "rule",
            "SELECT tablename::TEXT || '.' || rulename::TEXT, definition FROM pg_rules WHERE schemaname = current_schema()",
        ),
    ];
    for (kind, sql) in queries {
        for (name, definition) in db.query_map(sql, params![], |r| {
            Ok((r.get::<String>(0)?, r.get::<Option<String>>(1)?))
        })? {
            objects.insert((kind.to_owned(), name), definition.map(plain));
        }
    }
    Ok(objects)
}
