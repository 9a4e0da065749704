//! EDF, EDF+ and BDF(+) de-identified in place: the header's patient and recording fields, its
//! start date, and the texts of EDF+ annotations that may identify. The file keeps its size and
//! every signal sample; only header characters and annotation text bytes change.
//!
//! EDF+ (Kemp & Olivan 2003, section 2.1.3): the patient field is `code sex birthdate name`, the
//! recording field `Startdate dd-MMM-yyyy admincode technician equipment`, `X` for a subfield
//! left out, and the header start date `01.01.85` with `Startdate X` when the date is not given.

use crate::dates::shift_da;
use crate::dicom::{Action, Tally};
use crate::profile::{DicomOption, Profile};
use crate::text;

/// The patient code of an EDF+ file (the first subfield of its patient field), if it has one.
pub fn patient_code(bytes: &[u8]) -> Option<String> {
    let header = Header::read(bytes).ok()?;
    if !header.plus {
        return None;
    }
    let field = String::from_utf8_lossy(&bytes[8..88]).into_owned();
    field
        .split_whitespace()
        .next()
        .filter(|code| *code != "X")
        .map(str::to_owned)
}

struct Header {
    signals: usize,
    header_bytes: usize,
    records: usize,
    plus: bool,
    bytes_per_sample: usize,
}

impl Header {
    fn read(bytes: &[u8]) -> Result<Header, String> {
        if bytes.len() < 256 {
            return Err("an EDF header is 256 bytes or more".into());
        }
        let field = |range: std::ops::Range<usize>| {
            String::from_utf8_lossy(&bytes[range]).trim().to_owned()
        };
        let bdf = bytes[0] == 0xFF;
        let signals: usize = field(252..256)
            .parse()
            .map_err(|_| "the number of signals is not a number".to_string())?;
        let header_bytes: usize = field(184..192)
            .parse()
            .map_err(|_| "the header size is not a number".to_string())?;
        if header_bytes != 256 * (signals + 1) || bytes.len() < header_bytes {
            return Err(format!(
                "the header size {header_bytes} does not match {signals} signals"
            ));
        }
        let reserved = field(192..236);
        let plus = reserved.starts_with("EDF+") || reserved.starts_with("BDF+");
        let records: i64 = field(236..244).parse().unwrap_or(-1);
        let bytes_per_sample = if bdf { 3 } else { 2 };
        let per_record: usize = (0..signals)
            .map(|i| {
                let at = 256 + signals * 216 + i * 8;
                field(at..at + 8).parse::<usize>().unwrap_or(0)
            })
            .sum::<usize>()
            * bytes_per_sample;
        let records = if records >= 0 {
            records as usize
        } else {
            (bytes.len() - header_bytes)
                .checked_div(per_record)
                .unwrap_or(0)
        };
        Ok(Header {
            signals,
            header_bytes,
            records,
            plus,
            bytes_per_sample,
        })
    }
}

/// Writes `text` into the fixed-width field at `at..at + width`, space-padded, cut to fit.
fn put(bytes: &mut [u8], at: usize, width: usize, text: &str) {
    let field = &mut bytes[at..at + width];
    field.fill(b' ');
    let text = text.as_bytes();
    let n = text.len().min(width);
    field[..n].copy_from_slice(&text[..n]);
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// The recording's start date as `YYYYMMDD`: the EDF+ recording field's four-digit year when it
/// gives one, else the header's `dd.mm.yy` (1985–2084, EDF's rule).
fn start_date(bytes: &[u8], plus: bool) -> Option<String> {
    if plus {
        let recording = String::from_utf8_lossy(&bytes[88..168]).into_owned();
        let mut fields = recording.split_whitespace();
        if fields.next() == Some("Startdate")
            && let Some(date) = fields.next()
            && let [d, m, y] = date.split('-').collect::<Vec<_>>()[..]
            && let Some(month) = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(m))
        {
            return Some(format!(
                "{:04}{:02}{:02}",
                y.parse::<u32>().ok()?,
                month + 1,
                d.parse::<u32>().ok()?
            ));
        }
    }
    let header = String::from_utf8_lossy(&bytes[168..176]).into_owned();
    let [d, m, y] = header.trim().split('.').collect::<Vec<_>>()[..] else {
        return None;
    };
    let yy: u32 = y.parse().ok()?;
    let year = if yy >= 85 { 1900 + yy } else { 2000 + yy };
    Some(format!(
        "{year:04}{:02}{:02}",
        m.parse::<u32>().ok()?,
        d.parse::<u32>().ok()?
    ))
}

/// De-identifies an EDF/BDF file under `profile` with the patient's pseudonym and date shift.
pub fn deidentify(
    bytes: &[u8],
    profile: &Profile,
    pseudonym: &str,
    shift_days: i32,
) -> Result<(Vec<u8>, Tally), String> {
    let header = Header::read(bytes)?;
    let mut out = bytes.to_vec();
    let mut tally = Tally::new();
    let mut count =
        |action: Action, what: &str| *tally.entry((action, what.to_owned())).or_default() += 1;
    let patient = String::from_utf8_lossy(&bytes[8..88]).into_owned();
    let recording = String::from_utf8_lossy(&bytes[88..168]).into_owned();
    let identifiers = text::identifiers(&[patient.trim(), recording.trim()]);

    // The patient field: the pseudonym, and (EDF+) the sex when patient characteristics stay.
    let sex = patient
        .split_whitespace()
        .nth(1)
        .filter(|s| {
            header.plus
                && matches!(*s, "M" | "F")
                && profile.has(DicomOption::RetainPatientCharacteristics)
        })
        .unwrap_or("X");
    // EDF+'s form in plain EDF too (its patient field is free text): the pseudonym, then the
    // mark that says it is one.
    let mark = kizon_waveform::PSEUDONYM_MARK;
    let new_patient = format!("{pseudonym} {sex} X X {mark}");
    put(&mut out, 8, 80, &new_patient);
    count(Action::PseudonymWritten, "EDF patient field");

    // The start date: moved by the shift, or left out.
    let shifted = profile
        .has(DicomOption::RetainModifiedDates)
        .then(|| start_date(bytes, header.plus).and_then(|d| shift_da(&d, shift_days)))
        .flatten();
    let (header_date, plus_date) = match &shifted {
        Some(date) => {
            let (y, m, d) = (&date[0..4], &date[4..6], &date[6..8]);
            let year: u32 = y.parse().unwrap_or(0);
            let yy = if (1985..=2084).contains(&year) {
                format!("{:02}", year % 100)
            } else {
                "yy".into()
            };
            let month = MONTHS[m.parse::<usize>().unwrap_or(1).clamp(1, 12) - 1];
            (format!("{d}.{m}.{yy}"), format!("{d}-{month}-{y}"))
        }
        None => ("01.01.85".to_owned(), "X".to_owned()),
    };
    put(&mut out, 168, 8, &header_date);
    count(
        if shifted.is_some() {
            Action::DateShifted
        } else {
            Action::Replaced
        },
        "EDF start date",
    );
    if !profile.has(DicomOption::RetainModifiedDates) {
        put(&mut out, 176, 8, "00.00.00");
    }

    // The recording field: only the start date and (under Retain Device Identity) the equipment.
    let new_recording = if header.plus {
        let equipment = recording
            .split_whitespace()
            .nth(4)
            .filter(|_| profile.has(DicomOption::RetainDeviceIdentity))
            .unwrap_or("X");
        format!("Startdate {plus_date} X X {equipment}")
    } else {
        "X".to_owned()
    };
    put(&mut out, 88, 80, &new_recording);
    count(Action::Replaced, "EDF recording field");

    // EDF+ annotation texts that may identify: overwritten with `X`, same length.
    let annotation_signals: Vec<usize> = (0..header.signals)
        .filter(|i| {
            let label =
                String::from_utf8_lossy(&bytes[256 + i * 16..256 + (i + 1) * 16]).into_owned();
            matches!(label.trim(), "EDF Annotations" | "BDF Annotations")
        })
        .collect();
    if !annotation_signals.is_empty() {
        let samples: Vec<usize> = (0..header.signals)
            .map(|i| {
                let at = 256 + header.signals * 216 + i * 8;
                String::from_utf8_lossy(&bytes[at..at + 8])
                    .trim()
                    .parse()
                    .unwrap_or(0)
            })
            .collect();
        let record_size: usize = samples.iter().sum::<usize>() * header.bytes_per_sample;
        for record in 0..header.records {
            let mut at = header.header_bytes + record * record_size;
            for (signal, n) in samples.iter().enumerate() {
                let size = n * header.bytes_per_sample;
                if annotation_signals.contains(&signal) && at + size <= out.len() {
                    let replaced = clean_tals(&mut out[at..at + size], &identifiers);
                    for _ in 0..replaced {
                        count(Action::Replaced, "EDF+ annotation text");
                    }
                }
                at += size;
            }
        }
    }
    Ok((out, tally))
}

/// Overwrites the identifying texts of the TALs in `region` (PS: `+onset[\x15dur]\x14text\x14…\x00`)
/// with `X`; returns how many.
fn clean_tals(region: &mut [u8], identifiers: &[Vec<u8>]) -> usize {
    let mut replaced = 0;
    let mut start = 0;
    while start < region.len() {
        let end = region[start..]
            .iter()
            .position(|b| *b == 0)
            .map_or(region.len(), |p| start + p);
        // Texts are the 0x14-separated parts after the time stamp.
        let tal = &mut region[start..end];
        let mut pieces: Vec<(usize, usize)> = Vec::new();
        let mut from = 0;
        for (i, b) in tal.iter().enumerate() {
            if *b == 0x14 {
                pieces.push((from, i));
                from = i + 1;
            }
        }
        for (from, to) in pieces.into_iter().skip(1) {
            if to > from && text::is_identifying(&tal[from..to], identifiers) {
                tal[from..to].fill(b'X');
                replaced += 1;
            }
        }
        start = end + 1;
    }
    replaced
}
