//! Dates users give in manifests and imports: calendar dates (`2023-02-30` and `0000-00-00` are
//! not), and never in the future, since the data is existing data (Q2) and a diagnosis cannot
//! be dated after the day it is recorded.

use time::{Date, Month};

/// Why `value` is not a date kizon accepts: `None` when it is one. `today` comes from the caller
/// (the clock is read at the edge of a use case, once).
pub fn problem(value: &str, today: Date) -> Option<String> {
    match parse_iso(value) {
        None => Some(format!("`{value}` is not a calendar date (YYYY-MM-DD)")),
        Some(date) if date > today => Some(format!(
            "`{value}` is in the future (today is {today}): existing data cannot be dated later"
        )),
        Some(_) => None,
    }
}

/// `YYYY-MM-DD` as a calendar date (years 1800 to 9999).
pub fn parse_iso(value: &str) -> Option<Date> {
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &value[range];
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let year = number(0..4)? as i32;
    let month = Month::try_from(number(5..7)? as u8).ok()?;
    let day = number(8..10)? as u8;
    if year < 1800 {
        return None;
    }
    Date::from_calendar_date(year, month, day).ok()
}

/// Today's date (UTC), read once per use case.
pub fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_dates_only_and_none_in_the_future() {
        let today = Date::from_calendar_date(2026, Month::December, 1).unwrap();
        assert_eq!(problem("2023-02-28", today), None);
        assert_eq!(problem("2024-02-29", today), None);
        assert_eq!(problem("2026-12-01", today), None);
        for bad in [
            "2023-02-30",
            "2023-13-45",
            "0000-00-00",
            "2023-2-3",
            "20230203",
            "2023-02-0x",
        ] {
            assert!(
                problem(bad, today).unwrap().contains("not a calendar date"),
                "{bad}"
            );
        }
        assert!(problem("2099-01-01", today).unwrap().contains("future"));
        assert!(problem("2026-12-02", today).unwrap().contains("future"));
    }
}
