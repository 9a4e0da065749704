//! Dates users give in manifests and imports: calendar dates (`2023-02-30` and `0000-00-00` are
//! not), and never in the future, since the data is existing data (Q2) and a diagnosis cannot
//! be dated after the day it is recorded.

use time::{Date, Month};

/// Why `value` is not a date kizon accepts: `None` when it is one. `today` comes from the caller
/// (the clock is read at the edge of a use case, once).
pub fn problem(value: &str, today: Date) -> Option<String> {
    match parse(value) {
        None => Some(format!(
            "`{value}` is not a calendar date (YYYY-MM-DD, YYYY/MM/DD or 和暦 such as 令和6年4月1日 or R6.4.1)"
        )),
        Some(date) if date > today => Some(format!(
            "`{value}` is in the future (today is {today}): existing data cannot be dated later"
        )),
        Some(_) => None,
    }
}

/// A date as Japanese hospital systems write it, as an ISO date: `2024-04-01`, `2024/4/1`,
/// 和暦 `令和6年4月1日`, `R6.4.1`, `R06/04/01` (明治 M, 大正 T, 昭和 S, 平成 H, 令和 R). `None`
/// when it is none of these or not a calendar date.
pub fn parse(value: &str) -> Option<Date> {
    let value = value.trim();
    if let Some(date) = parse_iso(value) {
        return Some(date);
    }
    // Gregorian with slashes.
    if let Some(parts) = split_numbers(value, &['/'])
        && let [y, m, d] = parts[..]
        && (1800..=9999).contains(&y)
    {
        return calendar(y, m, d);
    }
    // 和暦: an era, then year, month, day.
    const ERAS: [(&str, char, i32); 5] = [
        ("明治", 'M', 1868),
        ("大正", 'T', 1912),
        ("昭和", 'S', 1926),
        ("平成", 'H', 1989),
        ("令和", 'R', 2019),
    ];
    for (kanji, letter, first_year) in ERAS {
        let rest = value.strip_prefix(kanji).or_else(|| {
            value
                .strip_prefix(letter)
                .or_else(|| value.strip_prefix(letter.to_ascii_lowercase()))
        });
        let Some(rest) = rest else { continue };
        let rest = rest.replace("元", "1");
        let parts = split_numbers(&rest, &['年', '月', '日', '.', '/', '-'])?;
        let [n, m, d] = parts[..] else { return None };
        // No era lasted a hundred years; the bound also keeps the sum below from overflowing.
        if !(1..=100).contains(&n) {
            return None;
        }
        return calendar(first_year + n - 1, m, d);
    }
    None
}

/// `value` as an ISO date, and whether it was written otherwise (so that the original is kept
/// beside it).
pub fn normalize(value: &str) -> Option<(String, bool)> {
    let date = parse(value)?;
    let iso = date.to_string();
    let changed = iso != value.trim();
    Some((iso, changed))
}

/// A date with an optional time of day, as laboratory systems write it (`2024/4/1 8:05`,
/// `2024-04-01T08:05:00`, `R6.4.1 08:05`), as `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ss`; `None`
/// when the date is none of [`parse`]'s or the time is not a time of day.
pub fn normalize_date_time(value: &str) -> Option<String> {
    let value = value.trim();
    // Past the first character: 大正's letter is a `T` too (`T10.4.1`).
    let separator = value
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == 'T' || c == ' ');
    let (date, time) = match separator {
        Some((at, _)) => (&value[..at], Some(value[at + 1..].trim())),
        None => (value, None),
    };
    let date = parse(date)?;
    let Some(time) = time else {
        return Some(date.to_string());
    };
    let parts = split_numbers(time, &[':'])?;
    let (hour, minute, second) = match parts[..] {
        [h, m] => (h, m, 0),
        [h, m, s] => (h, m, s),
        _ => return None,
    };
    ((0..24).contains(&hour) && (0..60).contains(&minute) && (0..60).contains(&second))
        .then(|| format!("{date}T{hour:02}:{minute:02}:{second:02}"))
}

fn split_numbers(value: &str, separators: &[char]) -> Option<Vec<i32>> {
    let parts: Vec<&str> = value
        .split(|c: char| separators.contains(&c))
        .filter(|p| !p.is_empty())
        .collect();
    parts
        .iter()
        .map(|p| {
            p.chars()
                .all(|c| c.is_ascii_digit())
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect()
}

fn calendar(year: i32, month: i32, day: i32) -> Option<Date> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

/// `YYYY-MM-DD` as a calendar date (years 1800 to 9999).
pub fn parse_iso(value: &str) -> Option<Date> {
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let [year, month, day] = split_numbers(value, &['-'])?[..] else {
        return None;
    };
    if year < 1800 {
        return None;
    }
    calendar(year, month, day)
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

    #[test]
    fn japanese_dates_become_iso() {
        for (written, iso) in [
            ("2024/04/01", "2024-04-01"),
            ("2024/4/1", "2024-04-01"),
            ("令和6年4月1日", "2024-04-01"),
            ("R6.4.1", "2024-04-01"),
            ("R06/04/01", "2024-04-01"),
            ("平成31年4月30日", "2019-04-30"),
            ("H31.4.30", "2019-04-30"),
            ("令和元年5月1日", "2019-05-01"),
            ("昭和64年1月7日", "1989-01-07"),
            ("S40.12.3", "1965-12-03"),
        ] {
            assert_eq!(
                normalize(written),
                Some((iso.to_owned(), true)),
                "{written}"
            );
        }
        assert_eq!(
            normalize("2024-04-01"),
            Some(("2024-04-01".to_owned(), false))
        );
        for bad in [
            "令和6年2月30日",
            "R6.13.1",
            "2024/02/30",
            "X6.4.1",
            "令和0年1月1日",
            "R2147483647.1.1",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}

#[cfg(test)]
mod date_time_tests {
    use super::normalize_date_time;

    #[test]
    fn laboratory_date_times_read_as_iso() {
        let n = |s| normalize_date_time(s);
        assert_eq!(n("2024/4/1 8:05").as_deref(), Some("2024-04-01T08:05:00"));
        assert_eq!(
            n("2024-04-01T08:05:30").as_deref(),
            Some("2024-04-01T08:05:30")
        );
        assert_eq!(n("R6.4.1 23:59").as_deref(), Some("2024-04-01T23:59:00"));
        assert_eq!(n("2024-04-01").as_deref(), Some("2024-04-01"));
        assert_eq!(n("2024-04-01 24:00"), None);
        assert_eq!(n("2024-04-01 8"), None);
        assert_eq!(n("2024-02-30 08:00"), None);
        assert_eq!(n("yesterday"), None);
        assert_eq!(n("T10.4.1 08:00").as_deref(), Some("1921-04-01T08:00:00"));
    }
}
