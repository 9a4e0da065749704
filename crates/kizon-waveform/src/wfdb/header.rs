//! WFDB header (`.hea`) files, per the WFDB `header(5)` manual page:
//!
//! ```text
//! record[/segments] signals [fs[/counter_fs[(base_counter)]] [samples [base_time [base_date]]]]
//! file format[xspf][:skew][+offset] [gain[(baseline)][/units] [adc_res [adc_zero [initial [checksum [block [description]]]]]]]
//! # comment (kept: often age, sex, diagnoses, medications)
//! ```
//! A multi-segment record lists `segment_name samples` lines instead of signal lines.

use serde::Serialize;

use crate::datetime::iso_datetime;
use crate::error::{Error, Result};
use crate::signal::{Channel, Format, WaveformInfo};

/// WFDB's default sampling frequency when the record line gives none.
pub const DEFAULT_FS: f64 = 250.0;

/// The record line and what follows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WfdbHeader {
    pub record_name: String,
    /// `Some(n)` for a multi-segment record (`name/n`).
    pub segment_count: Option<usize>,
    pub signal_count: usize,
    pub sampling_frequency_hz: f64,
    pub counter_frequency_hz: Option<f64>,
    pub base_counter: Option<f64>,
    /// Samples per signal (frames), if declared.
    pub samples: Option<u64>,
    /// `HH:MM:SS[.sss]` as written.
    pub base_time: Option<String>,
    /// `DD/MM/YYYY` as written.
    pub base_date: Option<String>,
    pub signals: Vec<WfdbSignal>,
    pub segments: Vec<WfdbSegment>,
    /// Text of `#` lines, without the `#`, in file order.
    pub comments: Vec<String>,
    pub warnings: Vec<String>,
}

/// One signal line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WfdbSignal {
    pub file_name: String,
    pub format: u16,
    pub samples_per_frame: u32,
    pub skew: u32,
    pub byte_offset: u64,
    /// ADC units per physical unit; 0 means uncalibrated.
    pub adc_gain: f64,
    pub baseline: i64,
    pub units: String,
    pub adc_resolution: u32,
    pub adc_zero: i64,
    /// First sample's value, if the line gives it (format 8 starts its differences from it, or
    /// from ADC zero when absent; for the other formats it is a check value).
    pub initial_value: Option<i64>,
    pub checksum: Option<i16>,
    pub block_size: u32,
    pub description: String,
}

/// One segment line of a multi-segment record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WfdbSegment {
    pub record_name: String,
    pub samples: u64,
}

impl WfdbHeader {
    /// Parses a header's text. Errors name the line (1-based) and field.
    pub fn parse(text: &str) -> Result<WfdbHeader> {
        let mut comments = Vec::new();
        let mut lines = text.lines().enumerate().filter_map(|(i, line)| {
            let t = line.trim();
            if let Some(c) = t.strip_prefix('#') {
                comments.push(c.trim().to_string());
                None
            } else {
                (!t.is_empty()).then_some((i + 1, t))
            }
        });
        let (record_line_no, record_line) = lines.next().ok_or_else(|| {
            Error::bad_line(1, "record line", "\"name signals [fs [samples]]\"", "")
        })?;
        let mut header = parse_record_line(record_line_no, record_line)?;
        let rest: Vec<(usize, &str)> = lines.collect();
        match header.segment_count {
            Some(n) => {
                for &(no, line) in rest.iter().take(n) {
                    header.segments.push(parse_segment_line(no, line)?);
                }
                if header.segments.len() < n {
                    return Err(Error::bad_line(
                        record_line_no,
                        "segments",
                        format!("{n} segment lines"),
                        header.segments.len().to_string(),
                    ));
                }
            }
            None => {
                for &(no, line) in rest.iter().take(header.signal_count) {
                    header.signals.push(parse_signal_line(no, line)?);
                }
                if header.signals.len() < header.signal_count {
                    return Err(Error::bad_line(
                        record_line_no,
                        "number of signals",
                        format!("{} signal lines", header.signal_count),
                        header.signals.len().to_string(),
                    ));
                }
            }
        }
        // `comments` is borrowed by the iterator until here.
        header.comments = comments;
        Ok(header)
    }

    /// Files the record needs besides the header, in first-use order: the signal files (`~`, a
    /// null file, excluded), or the segment headers of a multi-segment record. Annotation files
    /// (`record.atr`, ...) are optional and not listed: the caller looks for them.
    pub fn companion_files(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let names = self.signals.iter().map(|s| s.file_name.clone()).chain(
            self.segments
                .iter()
                .map(|s| format!("{}.hea", s.record_name)),
        );
        for name in names.filter(|n| n != "~" && n != "~.hea") {
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    /// Start as ISO 8601 when the base date is given (`YYYY-MM-DD`, with `Thh:mm:ss` when the base
    /// time is given too). A base time alone is not a date and gives `None`.
    pub fn start_iso(&self) -> Option<String> {
        let mut d = self
            .base_date
            .as_deref()?
            .split('/')
            .map(|p| p.trim().parse::<u32>().ok());
        let (day, month, year) = (d.next()??, d.next()??, d.next()??);
        let date = crate::datetime::iso_date(i64::from(year), month, day)?;
        let Some(time) = self.base_time.as_deref() else {
            return Some(date);
        };
        // WFDB allows H:MM:SS, MM:SS or SS, with optional fraction (dropped here).
        let mut hms: Vec<u32> = time
            .split('.')
            .next()
            .unwrap_or_default()
            .split(':')
            .map(|p| p.trim().parse().ok())
            .collect::<Option<Vec<_>>>()?;
        while hms.len() < 3 {
            hms.insert(0, 0);
        }
        match hms[..] {
            [h, m, s] => iso_datetime(i64::from(year), month, day, h, m, s).or(Some(date)),
            _ => Some(date),
        }
    }

    /// The common description; `header_text` is the text this header was parsed from.
    pub fn info(&self, header_text: &str, annotations: usize) -> WaveformInfo {
        let frames = self.samples;
        let channels = self
            .signals
            .iter()
            .map(|s| Channel {
                label: s.description.clone(),
                sampling_rate_hz: self.sampling_frequency_hz * f64::from(s.samples_per_frame),
                samples: frames.map_or(0, |n| n.saturating_mul(u64::from(s.samples_per_frame))),
                physical_dimension: Some(s.units.clone()),
                transducer: None,
                gain: (s.adc_gain != 0.0).then_some(s.adc_gain),
                baseline: Some(s.baseline as f64),
                digital_min: digital_range(s).map(|r| r.0),
                digital_max: digital_range(s).map(|r| r.1),
                physical_min: None,
                physical_max: None,
            })
            .collect();
        let mut warnings = self.warnings.clone();
        if self.samples.is_none() {
            warnings.push("header does not declare the number of samples".to_string());
        }
        WaveformInfo {
            format: Format::Wfdb,
            channels,
            start: self.start_iso(),
            duration_s: self
                .samples
                .filter(|_| self.sampling_frequency_hz > 0.0)
                .map(|n| n as f64 / self.sampling_frequency_hz),
            patient_field: None,
            recording_field: None,
            header_text: header_text.to_string(),
            comments: self.comments.clone(),
            annotations,
            warnings,
        }
    }
}

/// Two's-complement range of the ADC resolution, offset by ADC zero.
fn digital_range(s: &WfdbSignal) -> Option<(i64, i64)> {
    let bits = s.adc_resolution;
    (1..=32).contains(&bits).then(|| {
        let half = 1i64 << (bits - 1);
        (
            s.adc_zero.saturating_sub(half),
            s.adc_zero.saturating_add(half - 1),
        )
    })
}

fn parse_record_line(no: usize, line: &str) -> Result<WfdbHeader> {
    let mut f = line.split_whitespace();
    let name_field = f.next().unwrap_or_default();
    let (record_name, segment_count) = match name_field.split_once('/') {
        Some((name, n)) => (
            name.to_string(),
            Some(parse(no, "number of segments", "an integer", n)?),
        ),
        None => (name_field.to_string(), None),
    };
    let signal_count = parse(
        no,
        "number of signals",
        "an integer",
        f.next().unwrap_or_default(),
    )?;
    let (mut fs, mut counter, mut base_counter) = (DEFAULT_FS, None, None);
    if let Some(tok) = f.next() {
        let (fs_part, counter_part) = tok
            .split_once('/')
            .map_or((tok, None), |(a, b)| (a, Some(b)));
        fs = parse(no, "sampling frequency", "a number of Hz", fs_part)?;
        if let Some(c) = counter_part {
            let (freq, base) = c
                .split_once('(')
                .map_or((c, None), |(a, b)| (a, Some(b.trim_end_matches(')'))));
            counter = Some(parse(no, "counter frequency", "a number", freq)?);
            base_counter = base
                .map(|b| parse(no, "base counter", "a number", b))
                .transpose()?;
        }
    }
    if !(fs.is_finite() && fs > 0.0) {
        return Err(Error::bad_line(
            no,
            "sampling frequency",
            "a positive number",
            fs.to_string(),
        ));
    }
    let samples = f
        .next()
        .map(|t| parse(no, "number of samples", "an integer", t))
        .transpose()?;
    let base_time = f.next().map(str::to_string);
    let base_date = f.next().map(str::to_string);
    Ok(WfdbHeader {
        record_name,
        segment_count,
        signal_count,
        sampling_frequency_hz: fs,
        counter_frequency_hz: counter,
        base_counter,
        samples,
        base_time,
        base_date,
        signals: Vec::new(),
        segments: Vec::new(),
        comments: Vec::new(),
        warnings: Vec::new(),
    })
}

fn parse_segment_line(no: usize, line: &str) -> Result<WfdbSegment> {
    let mut f = line.split_whitespace();
    let record_name = f.next().unwrap_or_default().to_string();
    let samples = parse(
        no,
        "segment samples",
        "an integer",
        f.next().unwrap_or_default(),
    )?;
    Ok(WfdbSegment {
        record_name,
        samples,
    })
}

fn parse_signal_line(no: usize, line: &str) -> Result<WfdbSignal> {
    let (fields, description) = split_fields(line, 8);
    let field = |i: usize| fields.get(i).copied();
    let file_name = field(0).unwrap_or_default().to_string();
    let (format, samples_per_frame, skew, byte_offset) =
        parse_format(no, field(1).unwrap_or_default())?;
    let (adc_gain, baseline, units) = match field(2) {
        Some(tok) => parse_gain(no, tok)?,
        None => (0.0, None, None),
    };
    let adc_resolution = field(3)
        .map(|t| parse(no, "ADC resolution", "an integer", t))
        .transpose()?
        .unwrap_or(match format {
            8 | 80 => 8,
            212 => 12,
            310 | 311 => 10,
            24 => 24,
            32 => 32,
            _ => 16,
        });
    let adc_zero = field(4)
        .map(|t| parse(no, "ADC zero", "an integer", t))
        .transpose()?
        .unwrap_or(0);
    let initial_value = field(5)
        .map(|t| parse(no, "initial value", "an integer", t))
        .transpose()?;
    let checksum = field(6)
        .map(|t| parse(no, "checksum", "a 16-bit integer", t))
        .transpose()?;
    let block_size = field(7)
        .map(|t| parse(no, "block size", "an integer", t))
        .transpose()?
        .unwrap_or(0);
    Ok(WfdbSignal {
        file_name,
        format,
        samples_per_frame,
        skew,
        byte_offset,
        adc_gain,
        baseline: baseline.unwrap_or(adc_zero),
        units: units.unwrap_or_else(|| "mV".to_string()),
        adc_resolution,
        adc_zero,
        initial_value,
        checksum,
        block_size,
        description: description.to_string(),
    })
}

/// `format[xspf][:skew][+offset]`
fn parse_format(no: usize, tok: &str) -> Result<(u16, u32, u32, u64)> {
    let end = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (format, mut rest) = tok.split_at(end(tok));
    let format = parse(no, "format", "a WFDB storage format number", format)?;
    let (mut spf, mut skew, mut offset) = (1u32, 0u32, 0u64);
    while let Some(c) = rest.chars().next() {
        let tail = &rest[c.len_utf8()..];
        let (num, after) = tail.split_at(end(tail));
        match c {
            'x' => spf = parse(no, "samples per frame", "an integer", num)?,
            ':' => skew = parse(no, "skew", "an integer", num)?,
            '+' => offset = parse(no, "byte offset", "an integer", num)?,
            _ => {
                return Err(Error::bad_line(
                    no,
                    "format",
                    "format[xspf][:skew][+offset]",
                    tok,
                ));
            }
        }
        rest = after;
    }
    if spf == 0 {
        return Err(Error::bad_line(no, "samples per frame", "at least 1", "0"));
    }
    Ok((format, spf, skew, offset))
}

/// `gain[(baseline)][/units]`
fn parse_gain(no: usize, tok: &str) -> Result<(f64, Option<i64>, Option<String>)> {
    let (value, units) = tok
        .split_once('/')
        .map_or((tok, None), |(a, b)| (a, Some(b.to_string())));
    let (gain, baseline) = match value.split_once('(') {
        Some((g, b)) => {
            let b = b
                .strip_suffix(')')
                .ok_or_else(|| Error::bad_line(no, "baseline", "(integer)", tok))?;
            (g, Some(parse(no, "baseline", "an integer", b)?))
        }
        None => (value, None),
    };
    let gain: f64 = parse(no, "ADC gain", "a number", gain)?;
    if !gain.is_finite() {
        return Err(Error::bad_line(no, "ADC gain", "a finite number", tok));
    }
    Ok((gain, baseline, units))
}

/// The first `n` whitespace-separated fields, and the rest of the line (the free-text description).
fn split_fields(line: &str, n: usize) -> (Vec<&str>, &str) {
    let mut fields = Vec::with_capacity(n);
    let mut rest = line.trim_start();
    while fields.len() < n && !rest.is_empty() {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        fields.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    (fields, rest.trim_end())
}

fn parse<T: std::str::FromStr>(no: usize, field: &str, expected: &str, tok: &str) -> Result<T> {
    tok.parse()
        .map_err(|_| Error::bad_line(no, field, expected, tok))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_modifiers_and_gain_with_baseline_and_units() {
        assert_eq!(parse_format(1, "16x2:3+512").unwrap(), (16, 2, 3, 512));
        assert_eq!(parse_format(1, "212").unwrap(), (212, 1, 0, 0));
        assert_eq!(
            parse_gain(1, "200(0)/mV").unwrap(),
            (200.0, Some(0), Some("mV".into()))
        );
        assert_eq!(
            parse_gain(1, "100/mV").unwrap(),
            (100.0, None, Some("mV".into()))
        );
        assert!(parse_gain(1, "200(0/mV").is_err());
    }

    #[test]
    fn record_line_with_counter_frequency_and_base_date() {
        let h = WfdbHeader::parse("rec 0 128/1000(5) 100 12:30:05 01/02/2003\n").unwrap();
        assert_eq!(h.counter_frequency_hz, Some(1000.0));
        assert_eq!(h.base_counter, Some(5.0));
        assert_eq!(h.start_iso().as_deref(), Some("2003-02-01T12:30:05"));
    }

    #[test]
    fn multi_segment_lists_segment_headers() {
        let h = WfdbHeader::parse("multi/2 2 360 1000\nseg1 400\nseg2 600\n").unwrap();
        assert_eq!(h.companion_files(), vec!["seg1.hea", "seg2.hea"]);
        assert_eq!(
            h.segments[1],
            WfdbSegment {
                record_name: "seg2".into(),
                samples: 600
            }
        );
    }
}
