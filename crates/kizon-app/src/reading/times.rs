//! Reading time per case, from the server-side events of a reader's session.
//!
//! Time counts on a case from each of its events (opened, a mark placed or withdrawn) until the
//! reader's next event of the session, whichever case that is on: opening another case, a pause
//! or the submit ends it. A gap longer than [`IDLE_LIMIT_SECONDS`] counts as that limit (the
//! reader left the page without saying so). MRMC reports give reading time per condition
//! (e.g. Gallas et al. 2012, "Evaluating imaging and computer-aided detection and diagnosis
//! devices at the FDA", Acad Radiol 19: reading time as a secondary endpoint).

use std::collections::BTreeMap;

use serde::Serialize;

use super::event;
use crate::clock::parse_utc;
use crate::{AppError, Study};

/// The longest stretch between two events that counts as reading.
pub const IDLE_LIMIT_SECONDS: f64 = 600.0;

/// A reader's time on one case in one session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadingTime {
    pub reader: String,
    pub session: String,
    pub modality: Option<String>,
    pub case_id: String,
    pub seconds: f64,
    pub submitted: bool,
}

/// Reading times from a reader's events of one session, in the order recorded.
pub fn times_of(events: &[kizon_store::ReadingEvent]) -> BTreeMap<String, (f64, bool)> {
    let mut out: BTreeMap<String, (f64, bool)> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let Some(case) = &e.case_id else { continue };
        let entry = out.entry(case.clone()).or_default();
        if e.event == event::SUBMIT {
            entry.1 = true;
            continue;
        }
        let (Some(from), Some(next)) = (parse_utc(&e.at), events.get(i + 1)) else {
            continue;
        };
        if let Some(to) = parse_utc(&next.at) {
            let gap = (to - from).as_seconds_f64().max(0.0);
            entry.0 += gap.min(IDLE_LIMIT_SECONDS);
        }
    }
    out
}

impl Study {
    /// Every reader's time on every case they opened, per session.
    pub fn reading_times(&self) -> Result<Vec<ReadingTime>, AppError> {
        let sessions = self.reading_plan()?.sessions();
        let mut by_reader_session: BTreeMap<(String, String), Vec<kizon_store::ReadingEvent>> =
            BTreeMap::new();
        for e in self.store.reading_events()? {
            by_reader_session
                .entry((e.reader.clone(), e.session.clone()))
                .or_default()
                .push(e);
        }
        let mut out = Vec::new();
        for ((reader, session), events) in by_reader_session {
            let modality = sessions
                .iter()
                .find(|s| s.id == session)
                .and_then(|s| s.modality.clone());
            for (case_id, (seconds, submitted)) in times_of(&events) {
                out.push(ReadingTime {
                    reader: reader.clone(),
                    session: session.clone(),
                    modality: modality.clone(),
                    case_id,
                    seconds,
                    submitted,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: i64, case: Option<&str>, kind: &str, at: &str) -> kizon_store::ReadingEvent {
        kizon_store::ReadingEvent {
            id,
            reader: "R1".into(),
            session: "S1".into(),
            case_id: case.map(str::to_owned),
            event: kind.into(),
            mark: None,
            target: None,
            detail: None,
            at: at.into(),
            ledger_seq: id,
        }
    }

    /// Time counts from each event of a case to the reader's next event, a pause ends it, and a
    /// long silence counts as the idle limit.
    #[test]
    fn time_runs_between_events_and_stops_at_pauses_and_idle_gaps() {
        let events = [
            ev(1, None, "start", "2026-12-01T09:00:00Z"),
            ev(2, Some("A"), "open", "2026-12-01T09:00:10Z"),
            ev(3, Some("A"), "mark", "2026-12-01T09:00:40Z"),
            ev(4, None, "pause", "2026-12-01T09:01:00Z"),
            ev(5, Some("A"), "open", "2026-12-01T13:00:00Z"),
            ev(6, Some("A"), "submit", "2026-12-01T13:00:05Z"),
            ev(7, Some("B"), "open", "2026-12-01T13:00:06Z"),
            ev(8, Some("B"), "submit", "2026-12-01T14:00:06Z"),
            ev(9, Some("C"), "open", "2026-12-01T14:00:10Z"),
        ];
        let times = times_of(&events);
        assert_eq!(times["A"], (30.0 + 20.0 + 5.0, true));
        assert_eq!(times["B"], (IDLE_LIMIT_SECONDS, true));
        assert_eq!(times["C"], (0.0, false));
    }
}
