//! Dates moved by a patient's shift (PS3.15 E.3.6, Retain Longitudinal Temporal Information with
//! Modified Dates): every date of one patient moves by the same number of days, so the intervals
//! between examinations, and the order of events, stay exactly as they were.

use time::{Date, Duration, Month};

/// A DA value (`YYYYMMDD`, possibly several separated by `\`) shifted by `days`; `None` when a
/// value is not a full calendar date (it cannot be shifted exactly and is removed instead).
pub fn shift_da(value: &str, days: i32) -> Option<String> {
    let parts: Option<Vec<String>> = value
        .trim_end_matches(['\0', ' '])
        .split('\\')
        .map(|part| shift_date(part.trim(), days))
        .collect();
    parts.map(|p| p.join("\\"))
}

/// A DT value (`YYYYMMDDHHMMSS.FFFFFF&ZZXX`) with its date part shifted by `days` and the rest
/// kept; `None` when the value has no full date.
pub fn shift_dt(value: &str, days: i32) -> Option<String> {
    let parts: Option<Vec<String>> = value
        .trim_end_matches(['\0', ' '])
        .split('\\')
        .map(|part| {
            let part = part.trim();
            let (date, rest) = part.split_at_checked(8)?;
            Some(format!("{}{rest}", shift_date(date, days)?))
        })
        .collect();
    parts.map(|p| p.join("\\"))
}

fn shift_date(text: &str, days: i32) -> Option<String> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = text[0..4].parse().ok()?;
    let month = Month::try_from(text[4..6].parse::<u8>().ok()?).ok()?;
    let day: u8 = text[6..8].parse().ok()?;
    let shifted = Date::from_calendar_date(year, month, day)
        .ok()?
        .checked_add(Duration::days(days.into()))?;
    (1..=9999).contains(&shifted.year()).then(|| {
        format!(
            "{:04}{:02}{:02}",
            shifted.year(),
            u8::from(shifted.month()),
            shifted.day()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_move_by_whole_days_across_months_and_leap_years() {
        assert_eq!(shift_da("20240301", -1).as_deref(), Some("20240229"));
        assert_eq!(shift_da("20230301", -1).as_deref(), Some("20230228"));
        assert_eq!(
            shift_da("20200115\\20200201 ", -400).as_deref(),
            Some("20181211\\20181228")
        );
        assert_eq!(
            shift_dt("20200115103000.5+0900", 10).as_deref(),
            Some("20200125103000.5+0900")
        );
    }

    #[test]
    fn partial_or_invalid_dates_cannot_be_shifted() {
        assert_eq!(shift_da("2020", 1), None);
        assert_eq!(shift_da("20201345", 1), None);
        assert_eq!(shift_da("", 1), None);
        assert_eq!(shift_dt("202001", 1), None);
    }
}
