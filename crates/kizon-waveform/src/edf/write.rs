//! A small EDF / EDF+C writer, for tests and for kizon's demo data generator. It writes exactly what
//! it is given (no resampling, no rescaling) and refuses inconsistent input rather than guessing.

use serde::Serialize;

use super::{BLOCK, EdfAnnotation, EdfSignal};
use crate::error::{Error, Result};

/// One signal to write: its header block and its digital samples (a whole number of records).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdfSignalData {
    pub signal: EdfSignal,
    pub samples: Vec<i32>,
}

/// A recording to write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdfRecording {
    pub patient: String,
    pub recording: String,
    /// `dd.mm.yy`
    pub start_date: String,
    /// `hh.mm.ss`
    pub start_time: String,
    pub record_duration_s: f64,
    pub signals: Vec<EdfSignalData>,
    /// `Some` writes EDF+C with an "EDF Annotations" signal (also when the list is empty); `None`
    /// writes plain EDF.
    pub annotations: Option<Vec<EdfAnnotation>>,
}

/// Encodes `rec` as EDF (16-bit). Errors name the field that does not fit: a text longer than its
/// fixed width or not ASCII, a number that cannot be written in 8 characters, a sample outside the
/// signal's digital range, or signals with different numbers of records.
pub fn write_edf(rec: &EdfRecording) -> Result<Vec<u8>> {
    let records = record_count(rec)?;
    let mut signals: Vec<(EdfSignal, Vec<u8>)> = Vec::with_capacity(rec.signals.len() + 1);
    for (i, s) in rec.signals.iter().enumerate() {
        signals.push((s.signal.clone(), encode_samples(i, s)?));
    }
    if let Some(annotations) = &rec.annotations {
        signals.push(annotation_signal(
            annotations,
            records,
            rec.record_duration_s,
        )?);
    }

    let ns = signals.len();
    let mut out = Vec::new();
    put(&mut out, "0", 8, "version")?;
    put(&mut out, &rec.patient, 80, "patient identification")?;
    put(&mut out, &rec.recording, 80, "recording identification")?;
    put(&mut out, &rec.start_date, 8, "startdate")?;
    put(&mut out, &rec.start_time, 8, "starttime")?;
    put(
        &mut out,
        &(BLOCK * (ns + 1)).to_string(),
        8,
        "number of bytes in header",
    )?;
    put(
        &mut out,
        if rec.annotations.is_some() {
            "EDF+C"
        } else {
            ""
        },
        44,
        "reserved",
    )?;
    put(&mut out, &records.to_string(), 8, "number of data records")?;
    put(
        &mut out,
        &fit_number(rec.record_duration_s, 8, "duration of a data record")?,
        8,
        "duration of a data record",
    )?;
    put(&mut out, &ns.to_string(), 4, "number of signals")?;

    let each = |f: &dyn Fn(&EdfSignal) -> Result<String>,
                width: usize,
                name: &str,
                out: &mut Vec<u8>|
     -> Result<()> {
        signals
            .iter()
            .try_for_each(|(s, _)| put(out, &f(s)?, width, &format!("{name} of {:?}", s.label)))
    };
    each(&|s| Ok(s.label.clone()), 16, "label", &mut out)?;
    each(&|s| Ok(s.transducer.clone()), 80, "transducer", &mut out)?;
    each(
        &|s| Ok(s.physical_dimension.clone()),
        8,
        "physical dimension",
        &mut out,
    )?;
    each(
        &|s| fit_number(s.physical_min, 8, "physical minimum"),
        8,
        "physical minimum",
        &mut out,
    )?;
    each(
        &|s| fit_number(s.physical_max, 8, "physical maximum"),
        8,
        "physical maximum",
        &mut out,
    )?;
    each(
        &|s| Ok(s.digital_min.to_string()),
        8,
        "digital minimum",
        &mut out,
    )?;
    each(
        &|s| Ok(s.digital_max.to_string()),
        8,
        "digital maximum",
        &mut out,
    )?;
    each(
        &|s| Ok(s.prefiltering.clone()),
        80,
        "prefiltering",
        &mut out,
    )?;
    each(
        &|s| Ok(s.samples_per_record.to_string()),
        8,
        "samples per record",
        &mut out,
    )?;
    each(&|s| Ok(s.reserved.clone()), 32, "reserved", &mut out)?;

    for r in 0..records {
        for (s, data) in &signals {
            let len = s.samples_per_record * 2;
            out.extend_from_slice(data.get(r * len..(r + 1) * len).unwrap_or_default());
        }
    }
    Ok(out)
}

/// Records implied by the signals, which must agree; one record for an annotation-only file.
fn record_count(rec: &EdfRecording) -> Result<usize> {
    if !(rec.record_duration_s.is_finite() && rec.record_duration_s > 0.0) {
        return Err(Error::encode(
            "duration of a data record",
            "must be a positive number of seconds",
        ));
    }
    let mut records = None;
    for s in &rec.signals {
        let spr = s.signal.samples_per_record;
        if spr == 0 || s.samples.len() % spr != 0 {
            return Err(Error::encode(
                format!("signal {:?}", s.signal.label),
                format!(
                    "{} samples are not a whole number of records of {spr}",
                    s.samples.len()
                ),
            ));
        }
        let n = s.samples.len() / spr;
        if *records.get_or_insert(n) != n {
            return Err(Error::encode(
                format!("signal {:?}", s.signal.label),
                "signals hold different numbers of records",
            ));
        }
    }
    Ok(records.unwrap_or(usize::from(rec.annotations.is_some())))
}

fn encode_samples(index: usize, s: &EdfSignalData) -> Result<Vec<u8>> {
    let range = s.signal.digital_min.max(i64::from(i16::MIN))
        ..=s.signal.digital_max.min(i64::from(i16::MAX));
    let mut out = Vec::with_capacity(s.samples.len() * 2);
    for (k, v) in s.samples.iter().enumerate() {
        if !range.contains(&i64::from(*v)) {
            return Err(Error::encode(
                format!("signal {} ({:?}) sample {k}", index + 1, s.signal.label),
                format!("{v} is outside the digital range {range:?}"),
            ));
        }
        out.extend_from_slice(&(*v as i16).to_le_bytes()); // in i16 range: checked above
    }
    Ok(out)
}

/// The "EDF Annotations" signal: a time-keeping TAL per record, then each annotation in the record
/// its onset falls in (first/last record for onsets outside the recording).
fn annotation_signal(
    annotations: &[EdfAnnotation],
    records: usize,
    duration: f64,
) -> Result<(EdfSignal, Vec<u8>)> {
    let mut per_record: Vec<Vec<u8>> = (0..records)
        .map(|r| format!("{}\x14\x14\x00", signed_seconds(r as f64 * duration)).into_bytes())
        .collect();
    for a in annotations {
        if a.text.bytes().any(|b| matches!(b, 0x00 | 0x14 | 0x15)) {
            return Err(Error::encode(
                format!("annotation {:?}", a.text),
                "text contains a TAL delimiter byte",
            ));
        }
        let mut tal = signed_seconds(a.onset_s);
        if let Some(d) = a.duration_s {
            tal.push('\x15');
            tal.push_str(&d.to_string());
        }
        tal.push('\x14');
        tal.push_str(&a.text);
        tal.push_str("\x14\x00");
        let r = ((a.onset_s / duration).floor().max(0.0) as usize).min(records.saturating_sub(1));
        if let Some(buf) = per_record.get_mut(r) {
            buf.extend_from_slice(tal.as_bytes());
        }
    }
    let spr = per_record
        .iter()
        .map(|b| b.len().div_ceil(2))
        .max()
        .unwrap_or(1)
        .max(1);
    let mut data = Vec::with_capacity(records * spr * 2);
    for mut b in per_record {
        b.resize(spr * 2, 0);
        data.extend_from_slice(&b);
    }
    let signal = EdfSignal {
        label: "EDF Annotations".into(),
        transducer: String::new(),
        physical_dimension: String::new(),
        physical_min: -1.0,
        physical_max: 1.0,
        digital_min: -32768,
        digital_max: 32767,
        prefiltering: String::new(),
        samples_per_record: spr,
        reserved: String::new(),
    };
    Ok((signal, data))
}

fn signed_seconds(s: f64) -> String {
    if s < 0.0 {
        s.to_string()
    } else {
        format!("+{s}")
    }
}

/// Appends `value` left-aligned and space-padded to `width` bytes.
fn put(out: &mut Vec<u8>, value: &str, width: usize, field: &str) -> Result<()> {
    if !value.is_ascii() || value.len() > width {
        return Err(Error::encode(
            field,
            format!("{value:?} is not ASCII of at most {width} characters"),
        ));
    }
    out.extend_from_slice(value.as_bytes());
    out.resize(out.len() + width - value.len(), b' ');
    Ok(())
}

/// The most precise decimal form of `x` that fits in `width` characters.
fn fit_number(x: f64, width: usize, field: &str) -> Result<String> {
    if x.is_finite() {
        let plain = x.to_string();
        if plain.len() <= width {
            return Ok(plain);
        }
        for decimals in (0..width).rev() {
            let s = format!("{x:.decimals$}");
            let s = if s.contains('.') {
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            } else {
                s
            };
            if s.len() <= width {
                return Ok(s);
            }
        }
    }
    Err(Error::encode(
        field,
        format!("{x} cannot be written in {width} characters"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_shortened_to_fit_eight_characters() {
        assert_eq!(fit_number(1000.0, 8, "x").unwrap(), "1000");
        assert_eq!(fit_number(-3.2767123456, 8, "x").unwrap(), "-3.27671");
        assert_eq!(fit_number(0.5, 8, "x").unwrap(), "0.5");
        assert!(fit_number(1e12, 8, "x").is_err());
        assert!(fit_number(f64::NAN, 8, "x").is_err());
    }
}
