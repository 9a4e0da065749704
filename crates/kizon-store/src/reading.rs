//! Reading sessions as they happen: one row per server-side event of a reader (a session
//! started with its seed, a case opened, a mark placed or withdrawn, a pause, a read
//! submitted). Covered and append-only like every table: the marks a reader has in hand before
//! submitting are the `mark` events not withdrawn by an `unmark`, and the reading time of a case
//! is computed from the events' times, so both can be shown again at the reliability
//! investigation.

use crate::db::{Row, params};
use serde::Serialize;

use crate::{Store, StoreError, Tx};

/// One event to record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewReadingEvent {
    pub reader_id: i64,
    pub session: String,
    pub case_id: Option<String>,
    /// `start`, `open`, `mark`, `unmark`, `pause` or `submit` (the application's words).
    pub event: String,
    /// A `mark`'s JSON, as the application writes it.
    pub mark: Option<String>,
    /// An `unmark`'s withdrawn `mark` event.
    pub target: Option<i64>,
    /// JSON the application keeps with the event (a session's seed and order digest).
    pub detail: Option<String>,
    /// UTC, RFC 3339, from the application's clock.
    pub at: String,
}

/// A recorded event; `reader` is the reader's code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadingEvent {
    pub id: i64,
    pub reader: String,
    pub session: String,
    pub case_id: Option<String>,
    pub event: String,
    pub mark: Option<String>,
    pub target: Option<i64>,
    pub detail: Option<String>,
    pub at: String,
    pub ledger_seq: i64,
}

const EVENTS: &str = "SELECT e.id, r.code, e.session, e.case_id, e.event, e.mark, e.target, e.detail, e.at, e.ledger_seq
                      FROM reading_events e JOIN readers r ON r.id = e.reader_id";

fn event_row(r: &Row<'_>) -> crate::db::Result<ReadingEvent> {
    Ok(ReadingEvent {
        id: r.get(0)?,
        reader: r.get(1)?,
        session: r.get(2)?,
        case_id: r.get(3)?,
        event: r.get(4)?,
        mark: r.get(5)?,
        target: r.get(6)?,
        detail: r.get(7)?,
        at: r.get(8)?,
        ledger_seq: r.get(9)?,
    })
}

/// A reader's events in one session, in the order recorded: the one query behind the
/// transaction's and the store's `reading_events_of`.
fn query_events_of(
    conn: &crate::db::Db,
    reader_id: i64,
    session: &str,
) -> crate::db::Result<Vec<ReadingEvent>> {
    conn.prepare_cached(&format!(
        "{EVENTS} WHERE e.reader_id = ?1 AND e.session = ?2 ORDER BY e.id"
    ))?
    .query_map(params![reader_id, session], event_row)?
    .collect()
}

impl Tx<'_> {
    /// Records one event; its row id names it (a mark's id in the reader's hands).
    pub fn insert_reading_event(&mut self, event: &NewReadingEvent) -> Result<i64, StoreError> {
        let seq = self.pending_seq();
        self.sql()
            .insert_returning_id(
                "INSERT INTO reading_events (reader_id, session, case_id, event, mark, target, detail, at, ledger_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    event.reader_id,
                    event.session,
                    event.case_id,
                    event.event,
                    event.mark,
                    event.target,
                    event.detail,
                    event.at,
                    seq
                ],
            )
            .map_err(|e| self.err(e))
    }

    /// A reader's events in one session, in the order recorded (inside the transaction, so
    /// that a decision on them holds when it is written).
    pub fn reading_events_of(
        &self,
        reader_id: i64,
        session: &str,
    ) -> Result<Vec<ReadingEvent>, StoreError> {
        query_events_of(self.sql(), reader_id, session).map_err(|e| self.err(e))
    }
}

impl Store {
    /// A reader's events in one session, in the order recorded.
    pub fn reading_events_of(
        &self,
        reader_id: i64,
        session: &str,
    ) -> Result<Vec<ReadingEvent>, StoreError> {
        query_events_of(self.conn(), reader_id, session).map_err(|e| self.err(e))
    }

    /// Every reading event, in the order recorded.
    pub fn reading_events(&self) -> Result<Vec<ReadingEvent>, StoreError> {
        let mut statement = self
            .conn()
            .prepare(&format!("{EVENTS} ORDER BY e.id"))
            .map_err(|e| self.err(e))?;
        statement
            .query_map(params![], event_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }
}
