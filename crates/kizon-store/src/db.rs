//! The one place that knows which database a study's store talks to: SQLite (a file in the
//! study folder, the default) or PostgreSQL (a server shared by several machines, issue 18).
//!
//! The rest of the crate writes its SQL once, in the subset both understand: numbered
//! placeholders `?1, ?2, …` (rewritten to PostgreSQL's `$1, $2, …` outside string literals),
//! `INSERT … ON CONFLICT … DO NOTHING`, `RETURNING`, `COALESCE`, `LIMIT … OFFSET`. What differs
//! beyond that (the DDL, pragmas, the full-text index) is chosen by [`Db::backend`] where it is
//! written. Values cross in five kinds, SQLite's storage classes ([`ValueRef`]): NULL, 64-bit
//! integer, double, text, blob. PostgreSQL columns are declared `BIGINT`, `DOUBLE PRECISION`,
//! `TEXT` and `BYTEA` so that each kind maps to one type both ways, and a row reads back as
//! the same values, hence the same digest (see `ledger::rows_digest`), on either backend.

use std::cell::RefCell;
use std::collections::HashMap;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why a database call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
    /// PostgreSQL refused a statement as written (a dialect difference): the statement named.
    #[error("{}, in: {sql}", postgres_message(.source))]
    Statement {
        sql: String,
        source: postgres::Error,
    },
    /// A query for one row found none.
    #[error("no row found")]
    NoRows,
    /// A column holds another kind of value than the one asked for.
    #[error("column {column}: {message}")]
    Conversion { column: usize, message: String },
    /// A value read that the caller refused (an unknown vocabulary word, see `words`).
    #[error(transparent)]
    Refused(Box<dyn std::error::Error + Send + Sync>),
}

pub type Result<T> = std::result::Result<T, Error>;

/// A PostgreSQL error as one line: the server's message, detail and hint where it sent them
/// (the client's own `Display` says only "db error").
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut message = format!("{}: {}", db.severity(), db.message());
            if let Some(detail) = db.detail() {
                message.push_str(&format!(" ({detail})"));
            }
            if let Some(hint) = db.hint() {
                message.push_str(&format!("; hint: {hint}"));
            }
            message
        }
        None => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

/// `.optional()` on a one-row query: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(Error::NoRows) => Ok(None),
            Err(Error::Sqlite(rusqlite::Error::QueryReturnedNoRows)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A value as it crosses to or from the database, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// What can be bound to a placeholder.
pub trait ToParam {
    fn to_param(&self) -> ValueRef<'_>;
}

macro_rules! integer_params {
    ($($t:ty),*) => {$(
        impl ToParam for $t {
            fn to_param(&self) -> ValueRef<'_> {
                ValueRef::Integer(*self as i64)
            }
        }
    )*};
}
integer_params!(i64, i32, u32, u16, u8, usize, u64);

impl ToParam for bool {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Integer(i64::from(*self))
    }
}

impl ToParam for f64 {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Real(*self)
    }
}

impl ToParam for str {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToParam for String {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToParam for std::borrow::Cow<'_, str> {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToParam for [u8] {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToParam for Vec<u8> {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl<T: ToParam + ?Sized> ToParam for &T {
    fn to_param(&self) -> ValueRef<'_> {
        (**self).to_param()
    }
}

impl<T: ToParam> ToParam for Option<T> {
    fn to_param(&self) -> ValueRef<'_> {
        match self {
            Some(value) => value.to_param(),
            None => ValueRef::Null,
        }
    }
}

impl ToParam for ValueRef<'_> {
    fn to_param(&self) -> ValueRef<'_> {
        *self
    }
}

/// An owned value, for parameters gathered at run time (a filter's conditions).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl ToParam for Value {
    fn to_param(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(v) => ValueRef::Integer(*v),
            Value::Real(v) => ValueRef::Real(*v),
            Value::Text(v) => ValueRef::Text(v),
            Value::Blob(v) => ValueRef::Blob(v),
        }
    }
}

/// Parameters gathered at run time, as a statement takes them.
pub fn param_refs<T: ToParam>(values: &[T]) -> Vec<&dyn ToParam> {
    values.iter().map(|v| v as &dyn ToParam).collect()
}

/// The parameters of a statement: `params![a, b, c]`.
#[macro_export]
#[doc(hidden)]
macro_rules! db_params {
    () => { &[] as &[&dyn $crate::db::ToParam] };
    ($($value:expr),+ $(,)?) => { &[$(&$value as &dyn $crate::db::ToParam),+] as &[&dyn $crate::db::ToParam] };
}
#[allow(unused_imports)]
pub(crate) use db_params as params;

/// What can be read from a column.
pub trait FromColumn: Sized {
    fn from_column(value: ValueRef<'_>, column: usize) -> Result<Self>;
}

fn mismatch<T>(value: ValueRef<'_>, column: usize, wanted: &str) -> Result<T> {
    Err(Error::Conversion {
        column,
        message: format!("{value:?} is not {wanted}"),
    })
}

impl FromColumn for i64 {
    fn from_column(value: ValueRef<'_>, column: usize) -> Result<Self> {
        match value {
            ValueRef::Integer(v) => Ok(v),
            other => mismatch(other, column, "an integer"),
        }
    }
}

impl FromColumn for u32 {
    fn from_column(value: ValueRef<'_>, column: usize) -> Result<Self> {
        let v = i64::from_column(value, column)?;
        u32::try_from(v).or_else(|_| mismatch(value, column, "a 32-bit count"))
    }
}

impl FromColumn for usize {
    fn from_column(value: ValueRef<'_>, column: usize) -> Result<Self> {
        let v = i64::from_column(value, column)?;
        usize::try_from(v).or_else(|_| mismatch(value, column, "a count"))
    }
}

impl FromColumn for bool {
    fn from_column(value: ValueRef<'_>, column: usize) -> Result<Self> {
        Ok(i64::from_column(value, column)? != 0)
    }
}

impl FromColumn for f64 {
    fn from_column(value: ValueRef<'_>, column: usize) -> Result<Self> {
        match value {
            ValueRef::Real(v) => Ok(v),
            ValueRef::Integer(v) => Ok(v as f64),
            other => mismatch(other, column, "a number"),
        }
    }
}

impl FromColumn for String {
    fn from_column(value: ValueRef<'_>, column: usize) -> Result<Self> {
        match value {
            ValueRef::Text(v) => Ok(v.to_owned()),
            other => mismatch(other, column, "text"),
        }
    }
}

impl FromColumn for Vec<u8> {
    fn from_column(value: ValueRef<'_>, column: usize) -> Result<Self> {
        match value {
            ValueRef::Blob(v) => Ok(v.to_owned()),
            ValueRef::Text(v) => Ok(v.as_bytes().to_owned()),
            other => mismatch(other, column, "bytes"),
        }
    }
}

impl<T: FromColumn> FromColumn for Option<T> {
    fn from_column(value: ValueRef<'_>, column: usize) -> Result<Self> {
        match value {
            ValueRef::Null => Ok(None),
            other => T::from_column(other, column).map(Some),
        }
    }
}

/// One row of a result.
pub enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

impl Row<'_> {
    /// Column `column` (from 0) as `T`.
    pub fn get<T: FromColumn>(&self, column: usize) -> Result<T> {
        T::from_column(self.get_ref(column)?, column)
    }

    /// Column `column` as it is stored.
    pub fn get_ref(&self, column: usize) -> Result<ValueRef<'_>> {
        match self {
            Row::Sqlite(row) => Ok(match row.get_ref(column)? {
                rusqlite::types::ValueRef::Null => ValueRef::Null,
                rusqlite::types::ValueRef::Integer(v) => ValueRef::Integer(v),
                rusqlite::types::ValueRef::Real(v) => ValueRef::Real(v),
                rusqlite::types::ValueRef::Text(v) => {
                    ValueRef::Text(std::str::from_utf8(v).map_err(|e| Error::Conversion {
                        column,
                        message: format!("text that is not UTF-8: {e}"),
                    })?)
                }
                rusqlite::types::ValueRef::Blob(v) => ValueRef::Blob(v),
            }),
            Row::Postgres(row) => postgres_value(row, column),
        }
    }

    /// The number of columns.
    pub fn column_count(&self) -> usize {
        match self {
            Row::Sqlite(row) => row.as_ref().column_count(),
            Row::Postgres(row) => row.len(),
        }
    }

    /// The name of column `column`.
    pub fn column_name(&self, column: usize) -> Option<&str> {
        match self {
            Row::Sqlite(row) => row.as_ref().column_name(column).ok(),
            Row::Postgres(row) => row.columns().get(column).map(|c| c.name()),
        }
    }
}

/// A PostgreSQL column read as one of the five kinds, by its declared type.
fn postgres_value(row: &postgres::Row, column: usize) -> Result<ValueRef<'_>> {
    use postgres::types::Type;
    let Some(declared) = row.columns().get(column).map(|c| c.type_().clone()) else {
        return mismatch(ValueRef::Null, column, "a column of the row");
    };
    let value = match declared {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(column)?
            .map(ValueRef::Integer),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(column)?
            .map(|v| ValueRef::Integer(i64::from(v))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(column)?
            .map(|v| ValueRef::Integer(i64::from(v))),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(column)?
            .map(|v| ValueRef::Integer(i64::from(v))),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(column)?.map(ValueRef::Real),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(column)?
            .map(|v| ValueRef::Real(f64::from(v))),
        Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => {
            row.try_get::<_, Option<&str>>(column)?.map(ValueRef::Text)
        }
        Type::BYTEA => row.try_get::<_, Option<&[u8]>>(column)?.map(ValueRef::Blob),
        other => {
            return Err(Error::Conversion {
                column,
                message: format!(
                    "PostgreSQL type {other} is none of BIGINT, DOUBLE PRECISION, TEXT, BYTEA"
                ),
            });
        }
    };
    Ok(value.unwrap_or(ValueRef::Null))
}

/// A parameter bound for PostgreSQL: encoded as the type the server expects where the value's
/// kind allows it (an integer for an `INT4` or `DOUBLE PRECISION` column, a text for `TEXT`).
#[derive(Debug)]
struct PgParam<'a>(ValueRef<'a>);

impl postgres::types::ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
    {
        use postgres::types::Type;
        match (self.0, ty) {
            (ValueRef::Null, _) => Ok(postgres::types::IsNull::Yes),
            (ValueRef::Integer(v), &Type::INT8) => v.to_sql(ty, out),
            (ValueRef::Integer(v), &Type::INT4) => i32::try_from(v)?.to_sql(ty, out),
            (ValueRef::Integer(v), &Type::INT2) => i16::try_from(v)?.to_sql(ty, out),
            (ValueRef::Integer(v), &Type::FLOAT8) => (v as f64).to_sql(ty, out),
            (ValueRef::Integer(v), &Type::BOOL) => (v != 0).to_sql(ty, out),
            (ValueRef::Integer(v), &Type::TEXT | &Type::VARCHAR) => v.to_string().to_sql(ty, out),
            (ValueRef::Real(v), &Type::FLOAT8) => v.to_sql(ty, out),
            (ValueRef::Real(v), &Type::FLOAT4) => (v as f32).to_sql(ty, out),
            (ValueRef::Text(v), &Type::BYTEA) => v.as_bytes().to_sql(ty, out),
            (ValueRef::Text(v), &Type::TEXT | &Type::VARCHAR | &Type::NAME | &Type::BPCHAR) => {
                v.to_sql(ty, out)
            }
            (ValueRef::Blob(v), &Type::BYTEA) => v.to_sql(ty, out),
            (value, ty) => Err(format!("{value:?} cannot be bound to a {ty} parameter").into()),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// SQLite's placeholders as PostgreSQL's, outside quoted strings and identifiers: `?N` is `$N`,
/// and a bare `?` takes the number after the largest one so far, as SQLite numbers it.
pub fn postgres_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut last = 0u32;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    out.push(c);
                }
                '?' => {
                    let mut digits = String::new();
                    while let Some(d) = chars.next_if(char::is_ascii_digit) {
                        digits.push(d);
                    }
                    let number = digits.parse().unwrap_or(last + 1);
                    last = last.max(number);
                    out.push_str(&format!("${number}"));
                }
                _ => out.push(c),
            },
        }
    }
    out
}

/// A connection to the study's database.
pub enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(Box<RefCell<Postgres>>),
}

/// A PostgreSQL client and the statements it has prepared, by their SQL.
pub struct Postgres {
    /// Always `Some` until dropped (see the `Drop` below).
    client: Option<postgres::Client>,
    prepared: HashMap<String, postgres::Statement>,
}

/// The synchronous client closes its connection by blocking on a runtime of its own, which
/// tokio refuses inside another runtime: a study dropped in `kizon serve` (its pool when the
/// server stops) aborted the process. The client is therefore closed on a thread of its own.
impl Drop for Postgres {
    fn drop(&mut self) {
        self.prepared.clear();
        if let Some(client) = self.client.take() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

impl Postgres {
    fn client(&mut self) -> &mut postgres::Client {
        self.client
            .as_mut()
            .expect("a client is open until it is dropped")
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let translated = postgres_sql(sql);
        let statement = self
            .client()
            .prepare(&translated)
            .map_err(|source| Error::Statement {
                sql: translated.split_whitespace().collect::<Vec<_>>().join(" "),
                source,
            })?;
        if self.prepared.len() > 256 {
            self.prepared.clear();
        }
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn query(&mut self, sql: &str, params: &[&dyn ToParam]) -> Result<Vec<postgres::Row>> {
        self.run(sql, params, |client, statement, refs| {
            client.query(statement, refs)
        })
    }

    fn execute(&mut self, sql: &str, params: &[&dyn ToParam]) -> Result<u64> {
        self.run(sql, params, |client, statement, refs| {
            client.execute(statement, refs)
        })
    }

    /// Runs `sql`, prepared once, with `params` bound as PostgreSQL takes them.
    fn run<T>(
        &mut self,
        sql: &str,
        params: &[&dyn ToParam],
        call: impl FnOnce(
            &mut postgres::Client,
            &postgres::Statement,
            &[&(dyn postgres::types::ToSql + Sync)],
        ) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        let statement = self.statement(sql)?;
        let bound: Vec<PgParam<'_>> = params.iter().map(|p| PgParam(p.to_param())).collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = bound
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        Ok(call(self.client(), &statement, &refs)?)
    }
}

/// Binds `params` to a SQLite statement, by position.
fn bind_sqlite(statement: &mut rusqlite::Statement<'_>, params: &[&dyn ToParam]) -> Result<()> {
    for (index, param) in params.iter().enumerate() {
        let value = match param.to_param() {
            ValueRef::Null => rusqlite::types::ValueRef::Null,
            ValueRef::Integer(v) => rusqlite::types::ValueRef::Integer(v),
            ValueRef::Real(v) => rusqlite::types::ValueRef::Real(v),
            ValueRef::Text(v) => rusqlite::types::ValueRef::Text(v.as_bytes()),
            ValueRef::Blob(v) => rusqlite::types::ValueRef::Blob(v),
        };
        statement.raw_bind_parameter(index + 1, rusqlite::types::ToSqlOutput::Borrowed(value))?;
    }
    Ok(())
}

impl Db {
    /// Connects to a PostgreSQL database by URL (`postgres://user@host:port/database`).
    pub fn connect_postgres(url: &str) -> Result<Db> {
        let client = crate::postgres_tls::connect(url)?;
        Ok(Db::Postgres(Box::new(RefCell::new(Postgres {
            client: Some(client),
            prepared: HashMap::new(),
        }))))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite connection (for what only SQLite has: pragmas, the full-text index).
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Db::Sqlite(conn) => Some(conn),
            Db::Postgres(_) => None,
        }
    }

    /// Runs one statement; returns the rows it changed.
    pub fn execute(&self, sql: &str, params: &[&dyn ToParam]) -> Result<usize> {
        match self {
            Db::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                bind_sqlite(&mut statement, params)?;
                Ok(statement.raw_execute()?)
            }
            Db::Postgres(pg) => Ok(pg.borrow_mut().execute(sql, params)? as usize),
        }
    }

    /// Runs an `INSERT` into a table keyed by `id` and returns the new row's key (`RETURNING`,
    /// which both backends have, rather than SQLite's `last_insert_rowid`).
    pub fn insert_returning_id(&self, sql: &str, params: &[&dyn ToParam]) -> Result<i64> {
        self.query_row(&format!("{sql} RETURNING id"), params, |r| r.get(0))
    }

    /// Runs several statements without parameters (DDL).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Db::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Db::Postgres(pg) => Ok(pg.borrow_mut().client().batch_execute(sql)?),
        }
    }

    /// The first row of a query mapped by `map`; [`Error::NoRows`] when there is none.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn ToParam],
        map: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        match self {
            Db::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                bind_sqlite(&mut statement, params)?;
                let mut rows = statement.raw_query();
                match rows.next()? {
                    Some(row) => map(&Row::Sqlite(row)),
                    None => Err(Error::NoRows),
                }
            }
            Db::Postgres(pg) => {
                let rows = pg.borrow_mut().query(sql, params)?;
                match rows.first() {
                    Some(row) => map(&Row::Postgres(row)),
                    None => Err(Error::NoRows),
                }
            }
        }
    }

    /// Every row of a query mapped by `map`, in order.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn ToParam],
        mut map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.for_each_row(sql, params, |row| {
            out.push(map(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `each` with every row of a query, in order, without holding them all: SQLite steps
    /// through the result; PostgreSQL streams it.
    pub fn for_each_row(
        &self,
        sql: &str,
        params: &[&dyn ToParam],
        mut each: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Db::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                bind_sqlite(&mut statement, params)?;
                let mut rows = statement.raw_query();
                while let Some(row) = rows.next()? {
                    each(&Row::Sqlite(row))?;
                }
                Ok(())
            }
            Db::Postgres(pg) => {
                use postgres::fallible_iterator::FallibleIterator;
                let mut pg = pg.borrow_mut();
                let statement = pg.statement(sql)?;
                let bound: Vec<PgParam<'_>> =
                    params.iter().map(|p| PgParam(p.to_param())).collect();
                let mut rows = pg.client().query_raw(&statement, bound.iter())?;
                while let Some(row) = rows.next()? {
                    each(&Row::Postgres(&row))?;
                }
                Ok(())
            }
        }
    }

    /// Starts a transaction that writes: on SQLite `BEGIN IMMEDIATE` (the write lock now, not
    /// at the first write); on PostgreSQL `BEGIN` at READ COMMITTED with the ledger's advisory
    /// lock taken, so that writers append one after another and never fork the chain. Rolled
    /// back when dropped uncommitted.
    pub fn begin(&mut self) -> Result<Transaction<'_>> {
        self.begin_locked(LEDGER_LOCK)
    }

    /// [`Db::begin`] serialised, on PostgreSQL, by the advisory lock `lock` instead of the
    /// ledger's (writes that never touch the ledger, such as the login limiter's, need not wait
    /// for a long ingest). A failure after `BEGIN` rolls back at once, so the connection is
    /// never left in an aborted transaction.
    pub fn begin_locked(&mut self, lock: i64) -> Result<Transaction<'_>> {
        match self {
            Db::Sqlite(conn) => conn.execute_batch("BEGIN IMMEDIATE")?,
            Db::Postgres(pg) => {
                let client = pg.get_mut().client();
                if let Err(e) =
                    client.batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock({lock})"))
                {
                    let _ = client.batch_execute("ROLLBACK");
                    return Err(e.into());
                }
            }
        }
        Ok(Transaction {
            db: self,
            finished: false,
        })
    }
}

/// A statement about to run: what `prepare` gives, so that the store's queries read as
/// rusqlite's (`db.prepare(sql)?.query_map(params, map)`). The statement is prepared, and
/// cached, when it runs.
pub struct Prepared<'a> {
    db: &'a Db,
    sql: String,
}

impl Db {
    pub fn prepare(&self, sql: &str) -> Result<Prepared<'_>> {
        Ok(Prepared {
            db: self,
            sql: sql.to_owned(),
        })
    }

    pub fn prepare_cached(&self, sql: &str) -> Result<Prepared<'_>> {
        self.prepare(sql)
    }
}

impl Prepared<'_> {
    /// Every row mapped by `map`, as results to collect (the first error ends them).
    pub fn query_map<T>(
        &mut self,
        params: &[&dyn ToParam],
        map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        Ok(match self.db.query_map(&self.sql, params, map) {
            Ok(rows) => rows.into_iter().map(Ok).collect::<Vec<_>>().into_iter(),
            Err(e) => vec![Err(e)].into_iter(),
        })
    }

    pub fn query_row<T>(
        &mut self,
        params: &[&dyn ToParam],
        map: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.db.query_row(&self.sql, params, map)
    }

    pub fn execute(&mut self, params: &[&dyn ToParam]) -> Result<usize> {
        self.db.execute(&self.sql, params)
    }
}

/// The key of the PostgreSQL advisory lock that serialises writing transactions (an arbitrary
/// constant: "kizon" in ASCII).
pub const LEDGER_LOCK: i64 = 0x6b_697a_6f6e;

/// The advisory lock of the login limiter's transactions.
pub const LOGIN_LOCK: i64 = LEDGER_LOCK + 1;

/// A transaction in progress; every query of [`Db`] runs in it.
pub struct Transaction<'a> {
    db: &'a mut Db,
    finished: bool,
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Transaction<'_> {
    /// Commits; a commit that fails is rolled back, so the connection can begin again.
    pub fn commit(mut self) -> Result<()> {
        self.finished = true;
        let committed = self.db.execute_batch("COMMIT");
        if committed.is_err() {
            let _ = self.db.execute_batch("ROLLBACK");
        }
        committed
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.db.execute_batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same statements on both backends: values of every kind round-trip, NULLs and
    /// optional rows read as `None`, a conflict is skipped, `RETURNING` gives the new key, a
    /// dropped transaction is rolled back and a committed one stays.
    fn exercise(db: &mut Db, integer: &str, real: &str, blob: &str) {
        db.execute_batch(&format!(
            "CREATE TABLE t (id {integer} PRIMARY KEY, n {integer}, x {real}, s TEXT NOT NULL UNIQUE, b {blob})"
        ))
        .unwrap();
        let inserted: i64 = db
            .query_row(
                "INSERT INTO t (id, n, x, s, b) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                params![
                    7i64,
                    i64::MIN,
                    0.1f64,
                    "名前 'quoted' ?1",
                    vec![0u8, 255, 1]
                ],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(inserted, 7);
        let none: Option<i64> = None;
        db.execute(
            "INSERT INTO t (id, n, x, s, b) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![8i64, none, none, "second", none],
        )
        .unwrap();
        let skipped = db
            .execute(
                "INSERT INTO t (id, n, x, s) VALUES (?1, 1, 1.0, ?2) ON CONFLICT (s) DO NOTHING",
                params![9i64, "second"],
            )
            .unwrap();
        assert_eq!(skipped, 0);
        let row: (i64, Option<i64>, Option<f64>, String, Option<Vec<u8>>) = db
            .query_row(
                "SELECT id, n, x, s, b FROM t WHERE id = ?1",
                params![7i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(
            row,
            (
                7,
                Some(i64::MIN),
                Some(0.1),
                "名前 'quoted' ?1".into(),
                Some(vec![0, 255, 1])
            )
        );
        let nulls: Vec<ValueRef<'static>> = db
            .query_row("SELECT n, x, b FROM t WHERE id = 8", params![], |r| {
                Ok((0..r.column_count())
                    .map(|i| match r.get_ref(i).unwrap() {
                        ValueRef::Null => ValueRef::Null,
                        _ => ValueRef::Integer(1),
                    })
                    .collect())
            })
            .unwrap();
        assert_eq!(nulls, vec![ValueRef::Null; 3]);
        let missing = db
            .query_row("SELECT s FROM t WHERE id = ?1", params![99i64], |r| {
                r.get::<String>(0)
            })
            .optional()
            .unwrap();
        assert_eq!(missing, None);
        let ids: Vec<i64> = db
            .query_map("SELECT id FROM t ORDER BY id DESC", params![], |r| r.get(0))
            .unwrap();
        assert_eq!(ids, vec![8, 7]);
        {
            let tx = db.begin().unwrap();
            tx.execute("DELETE FROM t", params![]).unwrap();
            assert_eq!(
                tx.query_map("SELECT id FROM t", params![], |r| r.get::<i64>(0))
                    .unwrap()
                    .len(),
                0
            );
        }
        let count: i64 = db
            .query_row("SELECT count(*) FROM t", params![], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 2, "a dropped transaction is rolled back");
        let tx = db.begin().unwrap();
        tx.execute("DELETE FROM t WHERE id = ?1", params![8i64])
            .unwrap();
        tx.commit().unwrap();
        let count: i64 = db
            .query_row("SELECT count(*) FROM t", params![], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 1);
        let wrong = db.query_row("SELECT s FROM t", params![], |r| r.get::<i64>(0));
        assert!(
            matches!(wrong, Err(Error::Conversion { column: 0, .. })),
            "{wrong:?}"
        );
    }

    #[test]
    fn sqlite_and_postgres_answer_the_same_statements_alike() {
        let mut sqlite = Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        exercise(&mut sqlite, "INTEGER", "REAL", "BLOB");
        let server = crate::throwaway::ThrowawayPostgres::start().unwrap();
        let mut postgres = Db::connect_postgres(&server.new_database().unwrap()).unwrap();
        exercise(&mut postgres, "BIGINT", "DOUBLE PRECISION", "BYTEA");
    }

    #[test]
    fn placeholders_become_postgres_ones_outside_quotes() {
        assert_eq!(
            postgres_sql("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND \"d?\" = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND \"d?\" = $12"
        );
        assert_eq!(
            postgres_sql("x = 'it''s ?1' OR y = ?2"),
            "x = 'it''s ?1' OR y = $2"
        );
        assert_eq!(
            postgres_sql("a = ? AND b = ? AND c = ?5 AND d = ?"),
            "a = $1 AND b = $2 AND c = $5 AND d = $6"
        );
    }
}
