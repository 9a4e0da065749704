//! EDF+ Time-stamped Annotation Lists (EDF+ spec §2.2.2).
//!
//! An annotation signal's bytes in a data record are a sequence of TALs, each
//! `+onset[\x15duration]\x14text\x14text...\x14\x00`, padded with `\x00`. Onsets are seconds
//! relative to the file start, with any number of decimals (sub-second onsets are common). The first
//! text of the first TAL of each record is empty: that TAL time-keeps the record (its onset is the
//! record's start, which matters for EDF+D). Texts are UTF-8.

use serde::Serialize;

const ONSET_END: u8 = 0x15;
const TEXT_SEP: u8 = 0x14;

/// One annotation text with its onset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdfAnnotation {
    /// Seconds from the file start (may be negative).
    pub onset_s: f64,
    pub duration_s: Option<f64>,
    pub text: String,
}

/// All annotations of a file, the time-keeping onset of each record, and problems found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EdfAnnotations {
    pub annotations: Vec<EdfAnnotation>,
    pub record_onsets_s: Vec<f64>,
    pub warnings: Vec<String>,
}

/// Parses the TALs of one record's annotation-signal bytes into `out`. A malformed TAL becomes a
/// warning (naming the record) and is skipped: one bad annotation must not hide the signals.
pub(crate) fn parse_record(bytes: &[u8], record: usize, out: &mut EdfAnnotations) {
    for (i, tal) in bytes
        .split(|b| *b == 0)
        .filter(|t| !t.is_empty())
        .enumerate()
    {
        let mut parts = tal.split(|b| *b == TEXT_SEP);
        let timing = parts.next().unwrap_or_default();
        let (onset, duration) = match timing.iter().position(|b| *b == ONSET_END) {
            Some(p) => (&timing[..p], Some(&timing[p + 1..])),
            None => (timing, None),
        };
        let Some(onset_s) = parse_seconds(onset, true) else {
            out.warnings.push(format!(
                "data record {}: TAL onset {:?} is not ±seconds",
                record + 1,
                String::from_utf8_lossy(onset)
            ));
            continue;
        };
        let duration_s = match duration.map(|d| parse_seconds(d, false)) {
            Some(None) => {
                out.warnings.push(format!(
                    "data record {}: TAL duration at onset {onset_s} is not seconds",
                    record + 1
                ));
                None
            }
            Some(d) => d,
            None => None,
        };
        let mut texts = parts.peekable();
        if i == 0 && texts.peek().is_some_and(|t| t.is_empty()) {
            texts.next();
            out.record_onsets_s.push(onset_s);
        }
        for text in texts.filter(|t| !t.is_empty()) {
            let text = match std::str::from_utf8(text) {
                Ok(t) => t.to_string(),
                Err(_) => {
                    out.warnings.push(format!(
                        "data record {}: annotation at {onset_s} s is not valid UTF-8",
                        record + 1
                    ));
                    String::from_utf8_lossy(text).into_owned()
                }
            };
            out.annotations.push(EdfAnnotation {
                onset_s,
                duration_s,
                text,
            });
        }
    }
}

/// `[+-]digits[.digits]` (onsets, sign required) or `digits[.digits]` (durations).
fn parse_seconds(bytes: &[u8], signed: bool) -> Option<f64> {
    let (sign, rest) = match bytes.split_first() {
        Some((b'+', rest)) if signed => (1.0, rest),
        Some((b'-', rest)) if signed => (-1.0, rest),
        _ if signed => return None,
        _ => (1.0, bytes),
    };
    let ok = !rest.is_empty()
        && rest.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        && rest.iter().filter(|b| **b == b'.').count() <= 1;
    let value: f64 = std::str::from_utf8(rest)
        .ok()
        .filter(|_| ok)?
        .parse()
        .ok()?;
    Some(sign * value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_tal_keeps_time_and_later_tals_are_annotations() {
        let mut out = EdfAnnotations::default();
        parse_record(
            b"+0\x14\x14Recording starts\x14\x00+1.9511719\x1530\x14XLSpike\x14\x00\x00\x00",
            0,
            &mut out,
        );
        assert_eq!(out.record_onsets_s, vec![0.0]);
        assert_eq!(out.annotations.len(), 2);
        assert_eq!(
            out.annotations[1],
            EdfAnnotation {
                onset_s: 1.9511719,
                duration_s: Some(30.0),
                text: "XLSpike".into()
            }
        );
        assert!(out.warnings.is_empty());
    }

    #[test]
    fn malformed_onset_is_a_warning() {
        let mut out = EdfAnnotations::default();
        parse_record(b"+0\x14\x14\x00nonsense\x14x\x14\x00", 3, &mut out);
        assert_eq!(out.annotations.len(), 0);
        assert_eq!(out.warnings.len(), 1);
        assert!(out.warnings[0].starts_with("data record 4"));
    }
}
