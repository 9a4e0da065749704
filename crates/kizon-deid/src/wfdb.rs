//! A WFDB header de-identified: its comment lines (`#`, free text: age, sex, medication, names)
//! removed and its base date moved by the shift (or removed). Record and signal lines stay, so
//! the signal and annotation files it names are copied unchanged.
//!
//! Record line (WFDB header(5)): `name[/segments] nsig [fs[/counter][(base)] [nsamp [time [date]]]]`,
//! the base date as `dd/mm/yyyy`.

use crate::dates::shift_da;
use crate::dicom::{Action, Tally};
use crate::profile::{DicomOption, Profile};

/// De-identifies a WFDB header's text.
pub fn deidentify(
    text: &str,
    profile: &Profile,
    shift_days: i32,
) -> Result<(String, Tally), String> {
    let mut tally = Tally::new();
    let mut out = String::with_capacity(text.len());
    let mut record_line_seen = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            *tally
                .entry((Action::Removed, "WFDB header comment".into()))
                .or_default() += 1;
            continue;
        }
        if !record_line_seen && !trimmed.is_empty() {
            record_line_seen = true;
            out.push_str(&record_line(trimmed, profile, shift_days, &mut tally)?);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if !record_line_seen {
        return Err("a WFDB header without a record line".into());
    }
    Ok((out, tally))
}

fn record_line(
    line: &str,
    profile: &Profile,
    shift_days: i32,
    tally: &mut Tally,
) -> Result<String, String> {
    let mut fields: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    if fields.len() >= 6 {
        let date = &fields[5];
        let parts: Vec<&str> = date.split('/').collect();
        let shifted = match parts[..] {
            [d, m, y] if profile.has(DicomOption::RetainModifiedDates) => {
                let iso = format!("{:0>4}{:0>2}{:0>2}", y, m, d);
                shift_da(&iso, shift_days)
                    .map(|s| format!("{}/{}/{}", &s[6..8], &s[4..6], &s[0..4]))
            }
            _ => None,
        };
        match shifted {
            Some(date) => {
                fields[5] = date;
                *tally
                    .entry((Action::DateShifted, "WFDB base date".into()))
                    .or_default() += 1;
            }
            None => {
                fields.truncate(5);
                *tally
                    .entry((Action::Removed, "WFDB base date".into()))
                    .or_default() += 1;
            }
        }
    }
    Ok(fields.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_go_and_the_base_date_moves() {
        let profile = Profile::default_profile();
        let text = "100 2 360 650000 10:00:00 15/01/2020\n100.dat 212 200 11 1024 995 -22131 0 MLII\n# 69 M 1085 1629 x1\n# Aldomet, Inderal\n";
        let (out, tally) = deidentify(text, &profile, -10).unwrap();
        assert_eq!(
            out,
            "100 2 360 650000 10:00:00 05/01/2020\n100.dat 212 200 11 1024 995 -22131 0 MLII\n"
        );
        assert_eq!(
            tally[&(Action::Removed, "WFDB header comment".to_owned())],
            2
        );
        let mut plain = profile.clone();
        plain.dicom.options.clear();
        let (out, _) = deidentify(text, &plain, -10).unwrap();
        assert!(out.starts_with("100 2 360 650000 10:00:00\n"), "{out}");
    }
}
