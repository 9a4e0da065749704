//! Which session a reader is in, whether it is open, and the reader's case order in it.

use std::collections::BTreeSet;

use kizon_protocol::{CaseOrder, ReadingSession};
use kizon_store::{NewReadingEvent, Read, ReadingEvent};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use super::{ReaderRef, event, session_role};
use crate::access::Account;
use crate::clock::{format_utc, parse_utc};
use crate::reference::REFERENCE;
use crate::{AppError, Study};

/// Whether a reader may read in their current session now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum SessionState {
    Open,
    /// The washout since the reader's previous session has not passed: open from `until`.
    Washout {
        until: String,
        previous_end: String,
    },
    /// The session cannot be read now (a lock decides it), with why.
    Closed {
        why_ja: String,
        why_en: String,
    },
    /// Every session is read.
    Finished,
    /// No case is assigned to the reader.
    NothingAssigned,
}

/// Where a reader stands: their session, its state and their progress in it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionStatus {
    pub reader: String,
    /// The current session (the last one when every session is read).
    pub session: String,
    pub modality: Option<String>,
    /// 1-based position of the session, of `sessions`.
    pub index: usize,
    pub sessions: usize,
    #[serde(flatten)]
    pub state: SessionState,
    /// Cases read in this session, of `total` assigned.
    pub done: usize,
    pub total: usize,
    pub case_read: kizon_protocol::CaseRead,
    /// When the reader started the session (`None`: not yet).
    pub started_at: Option<String>,
}

/// A reader's session, decided.
pub(crate) struct Current {
    pub reader: ReaderRef,
    pub session: ReadingSession,
    pub status: SessionStatus,
    /// The reader's assigned cases.
    pub assigned: Vec<String>,
    /// The reader's reads (every role).
    pub reads: Vec<Read>,
    /// The reader's events in the current session.
    pub events: Vec<ReadingEvent>,
}

impl Current {
    /// The reader's read of `case_id` in the current session.
    pub fn read_of(&self, case_id: &str) -> Option<&Read> {
        let role = session_role(&self.session);
        self.reads
            .iter()
            .find(|r| r.case_id == case_id && r.role == role)
    }

    /// The seed the reader's start of this session drew.
    pub fn seed(&self) -> Option<String> {
        self.events
            .iter()
            .find(|e| e.event == event::START)
            .and_then(|e| e.detail.as_deref())
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .and_then(|d| d["seed"].as_str().map(str::to_owned))
    }

    /// Refuses unless the session is open, saying why.
    pub fn require_open(&self) -> Result<(), AppError> {
        match &self.status.state {
            SessionState::Open => Ok(()),
            state => Err(not_open(&self.status, state)),
        }
    }
}

fn not_open(status: &SessionStatus, state: &SessionState) -> AppError {
    match state {
        SessionState::Open => unreachable!("an open session is open"),
        SessionState::Washout {
            until,
            previous_end,
        } => AppError::Refused {
            what: format!(
                "セッション {} はウォッシュアウト期間中です（前セッションの最終読影 {previous_end}、{until} から読影できます）/ session {} is in its washout: your last read of the previous session was at {previous_end}; it opens at {until}",
                status.session, status.session
            ),
            hint: "試験計画書の reading.sessions の washout_days を参照 / the washout is the protocol's washout_days: come back when it has passed".into(),
        },
        SessionState::Closed { why_ja, why_en } => AppError::Refused {
            what: format!(
                "セッション {} は読影できません：{why_ja} / session {} cannot be read: {why_en}",
                status.session, status.session
            ),
            hint: "試験の管理者に確認してください / ask the study's admin".into(),
        },
        SessionState::Finished => AppError::Refused {
            what: "すべてのセッションの読影が終わっています / every session is read".into(),
            hint: "読影は一度だけ記録され、上書きされません / a read is recorded once and never replaced".into(),
        },
        SessionState::NothingAssigned => AppError::Refused {
            what: "割り当てられた症例がありません / no case is assigned to you".into(),
            hint: "試験の管理者に割当てを依頼してください / ask the study's admin to assign cases".into(),
        },
    }
}

/// When a reader's session ended: their last submitted read in it (the submit event's time, or,
/// for reads imported from a file, the read's own time when it is one).
fn session_end(events: &[ReadingEvent], reads: &[&Read]) -> Option<OffsetDateTime> {
    let submitted = events
        .iter()
        .filter(|e| e.event == event::SUBMIT)
        .filter_map(|e| parse_utc(&e.at));
    let imported = reads
        .iter()
        .filter_map(|r| r.read_at.as_deref().and_then(parse_utc));
    submitted.chain(imported).max()
}

/// The key of a case in a reader's order of a session: SHA-256 of the seed the reader's start
/// of the session drew, the reader, the session and the case. Derivable again from the ledger.
pub fn session_order_key(seed: &str, reader: &str, session: &str, case_id: &str) -> String {
    crate::sha256_hex(format!("{seed}\n{reader}\n{session}\n{case_id}").as_bytes())
}

/// The SHA-256 of an order (case ids joined by newlines), as recorded at a session's start.
pub fn order_digest(cases: &[String]) -> String {
    crate::sha256_hex(cases.join("\n").as_bytes())
}

impl Study {
    /// The reader's current session and whether it is open now.
    pub(crate) fn current_session(&self, account: &Account) -> Result<Current, AppError> {
        let reader = self.reader_ref(account)?;
        let sessions = self.reader_sessions(&reader.code)?;
        let assigned = self.store.assignments(&reader.code)?;
        let reads: Vec<Read> = self.store.reads_of(&reader.code)?;
        let assigned_set: BTreeSet<&str> = assigned.iter().map(String::as_str).collect();
        let done_in = |session: &ReadingSession| -> Vec<&Read> {
            let role = session_role(session);
            reads
                .iter()
                .filter(|r| r.role == role && assigned_set.contains(r.case_id.as_str()))
                .collect()
        };
        let index = sessions
            .iter()
            .position(|s| done_in(s).len() < assigned.len())
            .unwrap_or(sessions.len());
        let finished = index == sessions.len();
        let session = sessions[index.min(sessions.len() - 1)].clone();
        let events = self.store.reading_events_of(reader.id, &session.id)?;
        let state = if assigned.is_empty() {
            SessionState::NothingAssigned
        } else if finished {
            SessionState::Finished
        } else {
            self.session_state(&reader, &reads, &sessions, index)?
        };
        let status = SessionStatus {
            reader: reader.code.clone(),
            session: session.id.clone(),
            modality: session.modality.clone(),
            index: index.min(sessions.len() - 1) + 1,
            sessions: sessions.len(),
            state,
            done: done_in(&session).len(),
            total: assigned.len(),
            case_read: session.case_read,
            started_at: events
                .iter()
                .find(|e| e.event == event::START)
                .map(|e| e.at.clone()),
        };
        Ok(Current {
            reader,
            session,
            status,
            assigned,
            reads,
            events,
        })
    }

    /// Whether session `index` is open to the reader now: the locks its role needs, and the
    /// washout since their previous session (`reads`: the reader's reads, every role).
    fn session_state(
        &self,
        reader: &ReaderRef,
        reads: &[Read],
        sessions: &[ReadingSession],
        index: usize,
    ) -> Result<SessionState, AppError> {
        let session = &sessions[index];
        let reference_locked = self.store.lock(REFERENCE)?.is_some();
        match &session.modality {
            None if reference_locked => {
                return Ok(SessionState::Closed {
                    why_ja: "参照標準が固定されました（参照標準のための読影は固定前に行います）。パネルの読影者でなければ、管理者が読影するセッションを割り当てます"
                        .into(),
                    why_en: "the reference standard is locked (the panel reads before its lock); a reader who is not on the panel is assigned their sessions by the admin"
                        .into(),
                });
            }
            Some(_) if self.store.lock(crate::dataset::DATASET)?.is_none() || !reference_locked => {
                return Ok(SessionState::Closed {
                    why_ja:
                        "リーダースタディの読影は解析対象データセットと参照標準の固定後に行います"
                            .into(),
                    why_en: "reader-study reads come after the dataset and reference locks".into(),
                });
            }
            _ => {}
        }
        if index == 0 || session.washout_days == 0 {
            return Ok(SessionState::Open);
        }
        let previous = &sessions[index - 1];
        let role = session_role(previous);
        let previous_reads: Vec<&Read> = reads.iter().filter(|r| r.role == role).collect();
        let events = self.store.reading_events_of(reader.id, &previous.id)?;
        let Some(end) = session_end(&events, &previous_reads) else {
            // Reads imported without a time: the washout cannot be measured, so it is not
            // assumed to have passed.
            return Ok(SessionState::Closed {
                why_ja: format!(
                    "前セッション {} の最終読影の日時が記録されていないため、ウォッシュアウト期間を確認できません",
                    previous.id
                ),
                why_en: format!(
                    "the time of your last read in session {} is not recorded, so the washout cannot be checked",
                    previous.id
                ),
            });
        };
        let until = end + time::Duration::days(i64::from(session.washout_days));
        Ok(if self.clock.now() < until {
            SessionState::Washout {
                until: format_utc(until),
                previous_end: format_utc(end),
            }
        } else {
            SessionState::Open
        })
    }

    /// The sessions a reader takes part in, in the protocol's order: those assigned to them
    /// (`kizon readers assign R --sessions ...`), or every session the protocol declares when
    /// none is (a reference panel reads in its session only, a reader of the study in theirs).
    pub(crate) fn reader_sessions(
        &self,
        reader_code: &str,
    ) -> Result<Vec<ReadingSession>, AppError> {
        let sessions = self.reading_plan()?.sessions();
        let Some(assigned) = self.store.session_assignments(reader_code)? else {
            return Ok(sessions);
        };
        let theirs: Vec<ReadingSession> = sessions
            .into_iter()
            .filter(|s| assigned.contains(&s.id))
            .collect();
        if theirs.is_empty() {
            // Assigned sessions the protocol no longer declares (an amendment removed them).
            return Err(AppError::Refused {
                what: format!(
                    "読影者 {reader_code} に割り当てられたセッション（{}）が計画書にありません / reader {reader_code}'s sessions ({}) are not in the protocol",
                    assigned.join(", "),
                    assigned.join(", ")
                ),
                hint: "assign the reader sessions of the protocol: kizon readers assign CODE --sessions ID,..."
                    .into(),
            });
        }
        Ok(theirs)
    }

    /// The reader's session as it stands (no event recorded).
    pub fn session_status(&self, account: &Account) -> Result<SessionStatus, AppError> {
        Ok(self.current_session(account)?.status)
    }

    /// The reader's current session, started if it is open and not yet started: the start is
    /// recorded with a seed drawn now and the digest of the order it gives.
    pub(crate) fn enter_session(&mut self, account: &Account) -> Result<Current, AppError> {
        let current = self.current_session(account)?;
        if current.status.state != SessionState::Open || current.status.started_at.is_some() {
            return Ok(current);
        }
        let seed = crate::access::random_hex(16)?;
        let order = order_cases(
            &self.reading_plan()?.case_order,
            Some(&seed),
            &current.reader.code,
            &current.session.id,
            current.assigned.clone(),
        );
        let at = format_utc(self.clock.now());
        let detail = json!({
            "seed": seed,
            "case_order": self.reading_plan()?.case_order.as_str(),
            "cases": order.len(),
            "order_sha256": order_digest(&order),
        });
        let (code, session, reader_id) = (
            current.reader.code.clone(),
            current.session.id.clone(),
            current.reader.id,
        );
        self.store.transact(&account.actor(), |tx| {
            // Two first requests at once: the second finds the start already made.
            if tx
                .reading_events_of(reader_id, &session)?
                .iter()
                .any(|e| e.event == event::START)
            {
                tx.abandon();
                return Ok(());
            }
            tx.insert_reading_event(&NewReadingEvent {
                reader_id,
                session: session.clone(),
                case_id: None,
                event: event::START.into(),
                mark: None,
                target: None,
                detail: Some(detail.to_string()),
                at: at.clone(),
            })?;
            tx.record(
                "reading start",
                &format!("reader {code} started reading session {session}"),
                json!({ "reader": code, "session": session, "at": at, "detail": detail }),
            )?;
            Ok(())
        })?;
        self.current_session(account)
    }

    /// The reader's cases in their order of the current session.
    pub(crate) fn session_order(&self, current: &Current) -> Result<Vec<String>, AppError> {
        Ok(order_cases(
            &self.reading_plan()?.case_order,
            current.seed().as_deref(),
            &current.reader.code,
            &current.session.id,
            current.assigned.clone(),
        ))
    }

    /// A reader's order of a session derived again from the seed their start recorded, with
    /// whether it is the order whose digest the start recorded (for the reliability
    /// investigation: `kizon reading order`).
    pub fn derive_order(&self, reader: &str, session: &str) -> Result<DerivedOrder, AppError> {
        let id = self
            .store
            .reader_id(reader)?
            .ok_or_else(|| AppError::NotFound {
                what: format!("reader {reader}"),
            })?;
        let start = self
            .store
            .reading_events_of(id, session)?
            .into_iter()
            .find(|e| e.event == event::START)
            .ok_or_else(|| AppError::Refused {
                what: format!(
                    "読影者 {reader} はセッション {session} を開始していません / reader {reader} has not started session {session}: its order is drawn at the start"
                ),
                hint: format!(
                    "the order exists once {reader} opens the worklist of session {session}; the sessions are those of [[reading.sessions]] in study.toml"
                ),
            })?;
        let detail: serde_json::Value =
            crate::stored_json("a reading start", start.detail.as_deref().unwrap_or(""))?;
        let seed = detail["seed"].as_str().unwrap_or_default().to_owned();
        let case_order = detail["case_order"]
            .as_str()
            .and_then(CaseOrder::parse)
            .unwrap_or_default();
        let assigned = self.store.assignments(reader)?;
        let cases = order_cases(&case_order, Some(&seed), reader, session, assigned);
        let recorded = detail["order_sha256"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok(DerivedOrder {
            reader: reader.to_owned(),
            session: session.to_owned(),
            seed,
            started_at: start.at,
            ledger_seq: start.ledger_seq,
            matches_recorded: order_digest(&cases) == recorded,
            recorded_sha256: recorded,
            cases,
        })
    }
}

/// A reader's case order of a session, derived again.
#[derive(Debug, Clone, Serialize)]
pub struct DerivedOrder {
    pub reader: String,
    pub session: String,
    pub seed: String,
    pub started_at: String,
    pub ledger_seq: i64,
    pub cases: Vec<String>,
    pub recorded_sha256: String,
    /// False when the assignments changed after the start (the order then holds the cases
    /// assigned since, in their places by key).
    pub matches_recorded: bool,
}

fn order_cases(
    order: &CaseOrder,
    seed: Option<&str>,
    reader: &str,
    session: &str,
    mut cases: Vec<String>,
) -> Vec<String> {
    // Before the reader's start there is no seed yet: the cases as assigned, never an order
    // that the start would then change.
    if let (CaseOrder::RandomPerReader, Some(seed)) = (order, seed) {
        cases.sort_by_cached_key(|c| session_order_key(seed, reader, session, c));
    }
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each reader and session has an order of its own, the same whenever it is derived from
    /// the same seed, and a new seed gives a new order.
    #[test]
    fn orders_are_per_reader_session_and_seed() {
        let cases: Vec<String> = (1..=30).map(|n| format!("C-{n:03}")).collect();
        let order = |seed: &str, reader: &str, session: &str| {
            order_cases(
                &CaseOrder::RandomPerReader,
                Some(seed),
                reader,
                session,
                cases.clone(),
            )
        };
        let base = order("ab", "R1", "S1");
        assert_eq!(base, order("ab", "R1", "S1"));
        assert_ne!(base, order("ab", "R2", "S1"));
        assert_ne!(base, order("ab", "R1", "S2"));
        assert_ne!(base, order("cd", "R1", "S1"));
        assert_ne!(base, cases);
        let mut sorted = base.clone();
        sorted.sort();
        assert_eq!(sorted, cases);
        assert_eq!(
            order_cases(
                &CaseOrder::AsAssigned,
                Some("ab"),
                "R1",
                "S1",
                cases.clone()
            ),
            cases
        );
        assert_ne!(order_digest(&base), order_digest(&cases));
    }
}
