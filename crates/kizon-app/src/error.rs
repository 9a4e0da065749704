//! The application's errors: one line saying what and where, and a hint.

use std::path::PathBuf;

use kizon_protocol::ProtocolError;
use kizon_rules::PlanError;
use kizon_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{}:{source}", file.display())]
    Protocol {
        file: PathBuf,
        source: ProtocolError,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{}: not a kizon study (no study.toml and kizon.sqlite or database.url)", .0.display())]
    NotAStudy(PathBuf),
    #[error("{}: already a kizon study", .0.display())]
    AlreadyAStudy(PathBuf),
    #[error("{}: changed since the protocol was locked (locked sha256 {locked}, now {now})", file.display())]
    ProtocolChanged {
        file: PathBuf,
        locked: String,
        now: String,
    },
    #[error("the protocol is already locked (ledger entry {seq}, sha256 {sha256})")]
    AlreadyLocked { seq: i64, sha256: String },
    #[error("the protocol is not locked yet: there is nothing to amend")]
    NotLocked,
    #[error("{}: unchanged since the protocol was locked or last amended (sha256 {sha256})", file.display())]
    Unchanged { file: PathBuf, sha256: String },
    #[error("unknown provider `{name}`")]
    UnknownProvider { name: String, known: Vec<String> },
    #[error("{what}: `{value}` is not one of {choices}")]
    InvalidValue {
        what: String,
        value: String,
        choices: String,
    },
    #[error("{0}")]
    Plan(#[from] PlanError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what}")]
    Refused { what: String, hint: String },
    /// The account's role may not do this (or not yet: results before the locks).
    #[error("{what}")]
    Forbidden { what: String, hint: String },
    /// No such thing, or nothing the account may know of.
    #[error("not found: {what}")]
    NotFound { what: String },
    /// A problem in a CSV file given to `kizon stats`: file, line, column when known.
    #[error("{}", kizon_tables::csv_location(file, *line, column.as_deref(), problem))]
    Csv {
        file: PathBuf,
        line: Option<u64>,
        column: Option<String>,
        problem: String,
        hint: String,
    },
    /// A problem in a JSON input file: the file and the JSON path of the value.
    #[error("{}: {path}: {problem}", file.display())]
    Json {
        file: PathBuf,
        path: String,
        problem: String,
        hint: String,
    },
    #[error("{0}")]
    Stats(#[from] kizon_stats::StatsError),
}

/// What kind of failure an error is, for the shells' status codes and logs: they never look
/// into the store's own errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request contradicts the study's state (a conflict, a refusal): the user can act.
    Conflict,
    /// The database failed.
    Database,
    /// A file could not be read or written.
    File,
    /// The study fails its integrity check.
    Tampered,
    /// Anything else on the server's side.
    Internal,
}

impl AppError {
    /// The kind of failure (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        use kizon_store::StoreError as S;
        match self {
            AppError::Refused { .. }
            | AppError::InvalidValue { .. }
            | AppError::UnknownProvider { .. }
            | AppError::Store(S::Conflict(_) | S::Moved(_) | S::AlreadyThere(_)) => {
                ErrorKind::Conflict
            }
            AppError::Store(S::Database { .. }) => ErrorKind::Database,
            AppError::Store(S::Objects(_)) => ErrorKind::File,
            AppError::Store(S::Io { .. }) | AppError::Io { .. } => ErrorKind::File,
            AppError::Store(S::Tampered(_)) => ErrorKind::Tampered,
            _ => ErrorKind::Internal,
        }
    }

    /// Whether `migrate-store` was asked to move the study where it is kept already.
    pub fn is_nothing_to_move(&self) -> bool {
        matches!(self, AppError::Store(StoreError::AlreadyThere(_)))
    }

    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            AppError::Protocol { source, .. } => source.hint(),
            AppError::Store(StoreError::Tampered(_)) => {
                "run `kizon audit verify` to see everything that does not match".into()
            }
            AppError::Store(StoreError::Conflict(_)) => "既に記録があります。一覧で確認してください / the study already records it: list what exists (e.g. `kizon provider list`, `kizon readers list`)".into(),
            AppError::Store(StoreError::NotAStudy(_)) | AppError::NotAStudy(_) => {
                "run `kizon init DIR` to create a study, or pass `--study DIR`".into()
            }
            AppError::Store(StoreError::Occupied(_)) => "既存の試験の保存先です / kizon never empties or replaces a database or prefix that holds a study, not even `kizon demo --force` (which rebuilds the folder only): give an empty database (`CREATE DATABASE NAME;`) or a prefix of the study's own (s3://BUCKET/STUDY-ID), or work in the study it holds with `--study DIR`".into(),
            AppError::Store(StoreError::AlreadyThere(_)) => "移行済みです / nothing to move: the study is kept there already (`kizon audit verify` shows where it is and that it is intact)".into(),
            AppError::Store(StoreError::Moved(_)) => "試験の保存先が移行されました / the study was moved by `kizon migrate-store`: run the command again, and it opens the study where this folder names it now; on another machine of the study, first make this folder's objects.url (or database.url) name the new place, as the message says".into(),
            AppError::Store(StoreError::Objects(_)) => "文書保管先（objects.url）に接続できません / the study's documents are in the object store its folder's objects.url names (or `--objects` gives): check that it runs, that the bucket exists, and AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_CA_BUNDLE for a private certificate authority)".into(),
            AppError::Store(StoreError::Database { path, source })
                if path.ends_with(kizon_store::DATABASE_URL_FILE)
                    && source.to_string().contains("permission denied") =>
            {
                "データベースの権限が不足しています / kizon's role needs CREATE on the schema the study is made in, and the item search's pg_trgm extension: ask the database's administrator to run `CREATE EXTENSION pg_trgm;` in it (or `GRANT CREATE ON DATABASE <name> TO <role>;` to let kizon make it), then run the command again".into()
            }
            AppError::Store(StoreError::Database { path, .. })
                if path.ends_with(kizon_store::DATABASE_URL_FILE) =>
            {
                "試験のデータベースは database.url の PostgreSQL です / the study's database is the PostgreSQL server its folder's database.url names: check that it runs and lets this machine in (the URL, PGPASSWORD or the password file ~/.pgpass / PGPASSFILE, and PGSSLROOTCERT for TLS)".into()
            }
            AppError::Store(_) => "check the study directory's files and permissions".into(),
            AppError::AlreadyAStudy(_) => "choose another directory, or work in this study with `--study DIR`".into(),
            AppError::ProtocolChanged { .. } => {
                "record the change with `kizon amend --reason \"...\"`, or restore study.toml; `kizon plan --draft` previews the edited protocol".into()
            }
            AppError::AlreadyLocked { .. } => "change the protocol with `kizon amend --reason \"...\"`".into(),
            AppError::NotLocked => "edit study.toml freely until `kizon lock protocol`".into(),
            AppError::Unchanged { .. } => "edit study.toml first, then amend".into(),
            AppError::UnknownProvider { known, .. } if known.is_empty() => {
                "register it first with `kizon provider add NAME --kind ... --consent ...`".into()
            }
            AppError::UnknownProvider { known, .. } => format!("registered providers: {}", known.join(", ")),
            AppError::InvalidValue { choices, .. } => format!("use one of {choices}"),
            AppError::Plan(_) => "give a date on or after 2022-12-08 (`planned_on` in study.toml or `--as-of`)".into(),
            AppError::Io { .. } => "check that the path exists and is readable".into(),
            AppError::Refused { hint, .. } => hint.clone(),
            AppError::Forbidden { hint, .. } => hint.clone(),
            AppError::NotFound { .. } => "check the id; readers see only the cases assigned to them".into(),
            AppError::Csv { hint, .. } | AppError::Json { hint, .. } => hint.clone(),
            AppError::Stats(error) => kizon_calc::hint(error),
        }
    }
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> AppError {
    let path = path.into();
    move |source| AppError::Io { path, source }
}

/// An input file refused: the same words as every other refusal of the application.
impl From<kizon_tables::InputError> for AppError {
    fn from(error: kizon_tables::InputError) -> AppError {
        use kizon_tables::InputError as I;
        match error {
            I::Io { path, source } => AppError::Io { path, source },
            I::Csv {
                file,
                line,
                column,
                problem,
                hint,
            } => AppError::Csv {
                file,
                line,
                column,
                problem,
                hint,
            },
            I::Refused { what, hint } => AppError::Refused { what, hint },
        }
    }
}

impl From<kizon_calc::CalcError> for AppError {
    fn from(error: kizon_calc::CalcError) -> AppError {
        match error {
            kizon_calc::CalcError::Input(e) => e.into(),
            kizon_calc::CalcError::Stats(e) => AppError::Stats(e),
            kizon_calc::CalcError::Refused { what, hint } => AppError::Refused { what, hint },
        }
    }
}
