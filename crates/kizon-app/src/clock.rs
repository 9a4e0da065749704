//! The time the use cases read. The system's clock in every command and server; in tests, a
//! time the test sets and moves, so that a washout of weeks passes without sleeping. The ledger
//! keeps its own timestamps from the system clock: this clock dates what a use case decides on
//! (a reading session's start, the events behind reading times), never the chain.

use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

/// Where "now" comes from.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    /// A time set by a test; every clone sees the same time.
    Set(Arc<Mutex<OffsetDateTime>>),
}

impl Clock {
    /// A clock showing `at` until moved.
    pub fn set_at(at: OffsetDateTime) -> Clock {
        Clock::Set(Arc::new(Mutex::new(at)))
    }

    pub fn now(&self) -> OffsetDateTime {
        match self {
            Clock::System => OffsetDateTime::now_utc(),
            Clock::Set(at) => *at.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a set clock forward (a system clock moves by itself).
    pub fn advance(&self, by: time::Duration) {
        if let Clock::Set(at) = self {
            let mut at = at.lock().unwrap_or_else(|e| e.into_inner());
            *at += by;
        }
    }
}

/// `at` as kizon writes times: UTC, RFC 3339 with microseconds.
pub fn format_utc(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .expect("UTC time formats")
}

/// A time written by [`format_utc`] (or any RFC 3339 time); `None` for anything else.
pub fn parse_utc(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_moves_only_when_told_and_round_trips_its_format() {
        let start = time::macros::datetime!(2026-12-01 09:00:00.25 UTC);
        let clock = Clock::set_at(start);
        let other = clock.clone();
        assert_eq!(clock.now(), start);
        other.advance(time::Duration::days(28));
        assert_eq!(clock.now(), start + time::Duration::days(28));
        let text = format_utc(clock.now());
        assert_eq!(text, "2026-12-29T09:00:00.250000Z");
        assert_eq!(parse_utc(&text), Some(clock.now()));
        assert_eq!(parse_utc("2026-12-29"), None);
    }
}
