//! ISO 8601 rendering of the dates the formats store, with range checks so that a corrupt header
//! yields `None` (and a warning) rather than an impossible date.

/// `YYYY-MM-DD`, if the components form a plausible calendar date.
pub(crate) fn iso_date(year: i64, month: u32, day: u32) -> Option<String> {
    let valid = (0..=9999).contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day);
    valid.then(|| format!("{year:04}-{month:02}-{day:02}"))
}

/// `YYYY-MM-DDThh:mm:ss`, if date and time are in range (a leap second 60 is accepted).
pub(crate) fn iso_datetime(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<String> {
    let date = iso_date(year, month, day)?;
    (hour < 24 && minute < 60 && second <= 60)
        .then(|| format!("{date}T{hour:02}:{minute:02}:{second:02}"))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Month number of an English three-letter abbreviation, any case (EDF+ uses `JAN`..`DEC`).
pub(crate) fn month_from_abbrev(s: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let upper = s.to_ascii_uppercase();
    MONTHS
        .iter()
        .position(|m| *m == upper)
        .map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_impossible_dates() {
        assert_eq!(iso_date(2011, 4, 4).as_deref(), Some("2011-04-04"));
        assert_eq!(iso_date(2011, 2, 29), None);
        assert_eq!(iso_date(2012, 2, 29).as_deref(), Some("2012-02-29"));
        assert_eq!(iso_datetime(2011, 4, 4, 24, 0, 0), None);
        assert_eq!(month_from_abbrev("apr"), Some(4));
    }
}
