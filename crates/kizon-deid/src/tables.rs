//! CSV tables (specimen lists, analyser exports; UTF-8, UTF-16 or the CP932 of Japanese hospital
//! systems) de-identified column by column as the profile's `[tables]` says: the patient column
//! replaced by each row's pseudonym, named columns dropped or replaced by a keyed token, dates
//! moved by each row's patient's shift. Columns the profile does not name are kept. The output
//! is UTF-8.

use serde::Deserialize;

use crate::dates::shift_da;
use crate::dicom::{Action, Tally};
use crate::profile::{DicomOption, Profile};

/// The profile's `[tables]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableProfile {
    /// The column that names each row's patient (by header, as written).
    pub patient: Option<String>,
    /// Columns removed.
    #[serde(default)]
    pub drop: Vec<String>,
    /// Columns whose values become a keyed token (`ID-` and letters): the same value gives the
    /// same token, nothing of the value can be read back.
    #[serde(default)]
    pub pseudonymise: Vec<String>,
    /// Columns of dates (`YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD`, a time may follow) moved by the
    /// row's patient's shift.
    #[serde(default)]
    pub shift_dates: Vec<String>,
}

/// The table's text and rows, decoded.
fn read(bytes: &[u8]) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let (text, _) = kizon_tables::encoding::decode(std::path::Path::new("table"), bytes)
        .map_err(|e| e.to_string().replacen("table:", "line ", 1))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("the header cannot be read: {e}"))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("line {}: {e}", n + 2))?;
        rows.push(record.iter().map(str::to_owned).collect());
    }
    Ok((header, rows))
}

fn column(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h == name.trim())
}

/// The patient IDs of the rows, in order (each once).
pub fn patients(bytes: &[u8], profile: &Profile) -> Result<Vec<String>, String> {
    let Some(name) = &profile.tables.patient else {
        return Err("the profile names no patient column ([tables] patient = \"...\")".into());
    };
    let (header, rows) = read(bytes)?;
    let at = column(&header, name)
        .ok_or_else(|| format!("no column `{name}` (the profile's tables.patient)"))?;
    let mut out: Vec<String> = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        let id = row[at].trim();
        if id.is_empty() {
            return Err(format!("line {}: no patient in column `{name}`", n + 2));
        }
        if !out.iter().any(|o| o == id) {
            out.push(id.to_owned());
        }
    }
    Ok(out)
}

/// De-identifies a table; `patient_of` gives each patient ID's pseudonym and shift.
pub fn deidentify(
    bytes: &[u8],
    profile: &Profile,
    secret: &[u8],
    patient_of: &dyn Fn(&str) -> Option<(String, i32)>,
) -> Result<(Vec<u8>, Tally), String> {
    let tables = &profile.tables;
    let name = tables
        .patient
        .as_deref()
        .ok_or("the profile names no patient column")?;
    let (header, rows) = read(bytes)?;
    let patient = column(&header, name).ok_or_else(|| format!("no column `{name}`"))?;
    let listed = |list: &[String], h: &str| list.iter().any(|c| c.trim() == h);
    let keep: Vec<usize> = (0..header.len())
        .filter(|i| !listed(&tables.drop, &header[*i]))
        .collect();
    let mut tally = Tally::new();
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(keep.iter().map(|i| &header[*i]))
        .map_err(|e| e.to_string())?;
    for dropped in header.iter().filter(|h| listed(&tables.drop, h)) {
        *tally
            .entry((Action::Removed, format!("table column `{dropped}`")))
            .or_default() += rows.len() as u32;
    }
    let shift_dates = profile.has(DicomOption::RetainModifiedDates);
    for (n, row) in rows.iter().enumerate() {
        let id = row[patient].trim();
        let (pseudonym, shift) = patient_of(id)
            .ok_or_else(|| format!("line {}: the row's patient has no pseudonym", n + 2))?;
        let mut cells = Vec::with_capacity(keep.len());
        for &i in &keep {
            let h = &header[i];
            let value = row[i].trim();
            let cell = if i == patient {
                *tally
                    .entry((Action::PseudonymWritten, format!("table column `{h}`")))
                    .or_default() += 1;
                pseudonym.clone()
            } else if listed(&tables.pseudonymise, h) && !value.is_empty() {
                *tally
                    .entry((Action::Replaced, format!("table column `{h}`")))
                    .or_default() += 1;
                token(secret, value)
            } else if listed(&tables.shift_dates, h) && !value.is_empty() {
                match shifted(value, shift).filter(|_| shift_dates) {
                    Some(date) => {
                        *tally
                            .entry((Action::DateShifted, format!("table column `{h}`")))
                            .or_default() += 1;
                        date
                    }
                    None => {
                        *tally
                            .entry((Action::Emptied, format!("table column `{h}`")))
                            .or_default() += 1;
                        String::new()
                    }
                }
            } else {
                row[i].clone()
            };
            cells.push(cell);
        }
        out.write_record(&cells).map_err(|e| e.to_string())?;
    }
    let bytes = out.into_inner().map_err(|e| e.to_string())?;
    Ok((bytes, tally))
}

/// A keyed token for a value: `ID-` and 12 letters of HMAC-SHA256(secret, value).
pub fn token(secret: &[u8], value: &str) -> String {
    let mac = crate::uid::hmac_sha256(secret, &[b"kizon-table-token-v1\0", value.as_bytes()]);
    let letters: String = mac[..6]
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0F])
        .map(|n| (b'A' + n) as char)
        .collect();
    format!("ID-{letters}")
}

/// A date (`YYYY-MM-DD`, `YYYY/MM/DD` or `YYYYMMDD`, anything after kept) moved by `days`, in
/// the form it was written.
fn shifted(value: &str, days: i32) -> Option<String> {
    let (date, separator, rest) = if value.len() >= 10
        && matches!(value.as_bytes()[4], b'-' | b'/')
        && value.as_bytes()[7] == value.as_bytes()[4]
    {
        let sep = value.as_bytes()[4] as char;
        (value[..10].replace(sep, ""), Some(sep), &value[10..])
    } else if value.len() >= 8 && value.as_bytes()[..8].iter().all(u8::is_ascii_digit) {
        (value[..8].to_owned(), None, &value[8..])
    } else {
        return None;
    };
    let moved = shift_da(&date, days)?;
    Some(match separator {
        Some(sep) => format!(
            "{}{sep}{}{sep}{}{rest}",
            &moved[0..4],
            &moved[4..6],
            &moved[6..8]
        ),
        None => format!("{moved}{rest}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_keep_their_form() {
        assert_eq!(shifted("2024-03-01", -1).as_deref(), Some("2024-02-29"));
        assert_eq!(
            shifted("2024/03/01 10:00", -1).as_deref(),
            Some("2024/02/29 10:00")
        );
        assert_eq!(shifted("20240301", 1).as_deref(), Some("20240302"));
        assert_eq!(shifted("R6.3.1", 1), None);
    }
}
