//! EDF, EDF+, BDF and BDF+: the European Data Format family used for EEG, PSG and many ECG devices.
//!
//! Layout (Kemp et al. 1992; EDF+ spec, Kemp & Olivan 2003; BioSemi BDF): a 256-byte fixed ASCII
//! header, then 256 bytes per signal stored field by field (all labels, then all transducers, ...),
//! then data records. Each record holds, per signal, `samples_per_record` little-endian integers:
//! 16-bit for EDF, 24-bit for BDF. EDF+ adds an "EDF Annotations" signal carrying text (TALs).
//!
//! - [`EdfHeader::parse`] reads the headers; [`EdfHeader::info`] gives the common [`WaveformInfo`].
//! - [`read_samples`] decodes one signal's digital values; [`EdfSignal::physical`] converts them.
//! - [`read_annotations`] parses the TALs ([`tal`]).
//! - [`ident`] splits the EDF+ patient and recording fields; [`ident::is_anonymized`].
//! - [`write_edf`] writes EDF / EDF+C (for tests and demo data).

pub mod ident;
pub mod tal;
mod write;

pub use ident::{PatientFields, RecordingFields, is_anonymized, is_pseudonymised};
pub use tal::{EdfAnnotation, EdfAnnotations};
pub use write::{EdfRecording, EdfSignalData, write_edf};

use serde::Serialize;

use crate::bytes::{ascii_field, slice};
use crate::datetime::iso_datetime;
use crate::error::{Error, Result};
use crate::signal::{Channel, Format, WaveformInfo};

/// Size of the fixed header and of each signal's header block.
pub const BLOCK: usize = 256;

/// Which member of the family a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EdfVariant {
    Edf,
    /// EDF+C (continuous) or EDF+D (discontinuous, records carry their own start time).
    EdfPlus {
        discontinuous: bool,
    },
    Bdf,
    BdfPlus {
        discontinuous: bool,
    },
}

impl EdfVariant {
    /// Bytes per sample: 2 for EDF, 3 for BDF.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            EdfVariant::Edf | EdfVariant::EdfPlus { .. } => 2,
            EdfVariant::Bdf | EdfVariant::BdfPlus { .. } => 3,
        }
    }

    pub fn is_plus(self) -> bool {
        matches!(
            self,
            EdfVariant::EdfPlus { .. } | EdfVariant::BdfPlus { .. }
        )
    }

    fn format(self) -> Format {
        match self {
            EdfVariant::Edf => Format::Edf,
            EdfVariant::EdfPlus { .. } => Format::EdfPlus,
            EdfVariant::Bdf => Format::Bdf,
            EdfVariant::BdfPlus { .. } => Format::BdfPlus,
        }
    }
}

/// One signal's header block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdfSignal {
    pub label: String,
    pub transducer: String,
    pub physical_dimension: String,
    pub physical_min: f64,
    pub physical_max: f64,
    pub digital_min: i64,
    pub digital_max: i64,
    pub prefiltering: String,
    pub samples_per_record: usize,
    pub reserved: String,
}

impl EdfSignal {
    /// EDF+ annotation signals are named "EDF Annotations" (BDF+: "BDF Annotations").
    pub fn is_annotation(&self) -> bool {
        self.label == "EDF Annotations" || self.label == "BDF Annotations"
    }

    /// `(gain, baseline)` with `physical = (digital - baseline) / gain`; `None` when the digital or
    /// physical range is empty (the EDF spec forbids that, but files exist).
    pub fn calibration(&self) -> Option<(f64, f64)> {
        let digital_span = (self.digital_max as f64) - (self.digital_min as f64);
        let physical_span = self.physical_max - self.physical_min;
        let gain = digital_span / physical_span;
        (digital_span != 0.0 && physical_span != 0.0 && gain.is_finite())
            .then_some((gain, self.digital_min as f64 - self.physical_min * gain))
    }

    /// Physical value of a digital sample: the linear map of `[digital_min, digital_max]` onto
    /// `[physical_min, physical_max]` (which may be inverted, e.g. pyedflib's `test_subsecond.edf`).
    pub fn physical(&self, digital: i32) -> Option<f64> {
        let (gain, baseline) = self.calibration()?;
        Some((f64::from(digital) - baseline) / gain)
    }
}

/// The parsed fixed and per-signal headers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdfHeader {
    pub variant: EdfVariant,
    /// Local patient identification, 80 characters (EDF+: code, sex, birthdate, name, ...).
    pub patient: String,
    /// Local recording identification, 80 characters (EDF+: "Startdate dd-MMM-yyyy ...").
    pub recording: String,
    /// Raw `dd.mm.yy` field.
    pub start_date: String,
    /// Raw `hh.mm.ss` field.
    pub start_time: String,
    /// Start as ISO 8601 after the century rule and the EDF+ Startdate override.
    pub start: Option<String>,
    /// Header size as the file declares it.
    pub header_bytes_declared: Option<usize>,
    pub reserved: String,
    /// `None` when the file declares -1 (recording not closed properly).
    pub data_records_declared: Option<u64>,
    /// Complete data records actually present in the bytes.
    pub data_records_present: u64,
    pub record_duration_s: f64,
    pub signals: Vec<EdfSignal>,
    pub warnings: Vec<String>,
}

fn text(bytes: &[u8], offset: usize, len: usize, field: &str) -> Result<String> {
    slice(bytes, offset, len, field).map(ascii_field)
}

fn number<T: std::str::FromStr>(
    bytes: &[u8],
    offset: usize,
    len: usize,
    field: &str,
    expected: &str,
) -> Result<T> {
    let raw = text(bytes, offset, len, field)?;
    raw.trim()
        .parse()
        .map_err(|_| Error::bad_field(field, offset, expected, raw))
}

impl EdfHeader {
    /// Parses the headers of an EDF/EDF+/BDF/BDF+ file. `bytes` may be the whole file or just its
    /// beginning: records not present are reported as `data_records_present`, not as an error.
    pub fn parse(bytes: &[u8]) -> Result<EdfHeader> {
        let fixed = slice(bytes, 0, BLOCK, "EDF fixed header")?;
        let mut warnings = Vec::new();
        let reserved = text(bytes, 192, 44, "reserved")?;
        let is_bdf = fixed[0] == 0xFF && &fixed[1..8] == b"BIOSEMI";
        let variant = if is_bdf {
            match reserved.get(..5) {
                Some("BDF+C") => EdfVariant::BdfPlus {
                    discontinuous: false,
                },
                Some("BDF+D") => EdfVariant::BdfPlus {
                    discontinuous: true,
                },
                _ => EdfVariant::Bdf,
            }
        } else if ascii_field(&fixed[..8]) == "0" {
            match reserved.get(..5) {
                Some("EDF+C") => EdfVariant::EdfPlus {
                    discontinuous: false,
                },
                Some("EDF+D") => EdfVariant::EdfPlus {
                    discontinuous: true,
                },
                _ => EdfVariant::Edf,
            }
        } else {
            return Err(Error::bad_field(
                "version",
                0,
                "\"0       \" (EDF) or 0xFF \"BIOSEMI\" (BDF)",
                String::from_utf8_lossy(&fixed[..8]),
            ));
        };

        let patient = text(bytes, 8, 80, "patient identification")?;
        let recording = text(bytes, 88, 80, "recording identification")?;
        let start_date = text(bytes, 168, 8, "startdate")?;
        let start_time = text(bytes, 176, 8, "starttime")?;
        let header_bytes_declared: Option<usize> =
            number(bytes, 184, 8, "number of bytes in header", "an integer").ok();
        let records: i64 = number(
            bytes,
            236,
            8,
            "number of data records",
            "an integer (-1 if unknown)",
        )?;
        let record_duration_s: f64 = number(
            bytes,
            244,
            8,
            "duration of a data record",
            "a number of seconds",
        )?;
        if !(record_duration_s.is_finite() && record_duration_s >= 0.0) {
            return Err(Error::bad_field(
                "duration of a data record",
                244,
                "a non-negative number",
                record_duration_s.to_string(),
            ));
        }
        let ns: usize = number(bytes, 252, 4, "number of signals", "a non-negative integer")?;

        // Cap by the bytes present before allocating anything sized by `ns`.
        let header_len = ns
            .checked_add(1)
            .and_then(|n| n.checked_mul(BLOCK))
            .ok_or_else(|| {
                Error::bad_field(
                    "number of signals",
                    252,
                    "a plausible count",
                    ns.to_string(),
                )
            })?;
        slice(bytes, 0, header_len, "EDF signal headers")?;
        if header_bytes_declared != Some(header_len) {
            warnings.push(format!(
                "header declares {header_bytes_declared:?} bytes but {ns} signals need {header_len}; using {header_len}"
            ));
        }
        let signals = (0..ns)
            .map(|i| parse_signal(bytes, ns, i))
            .collect::<Result<Vec<_>>>()?;

        let data_records_declared = match records {
            -1 => None,
            n => Some(u64::try_from(n).map_err(|_| {
                Error::bad_field(
                    "number of data records",
                    236,
                    "a non-negative integer or -1",
                    n.to_string(),
                )
            })?),
        };
        let record_size = record_size(&signals, variant.bytes_per_sample()).ok_or_else(|| {
            Error::bad_field(
                "samples per record",
                BLOCK,
                "sizes that fit in memory",
                "overflow",
            )
        })?;
        let data_len = bytes.len().saturating_sub(header_len) as u64;
        let available = if record_size == 0 {
            0
        } else {
            data_len / record_size as u64
        };
        let data_records_present = match data_records_declared {
            Some(declared) => {
                if available < declared {
                    warnings.push(format!(
                        "file holds {available} of {declared} declared data records"
                    ));
                } else if record_size > 0 && data_len > declared.saturating_mul(record_size as u64)
                {
                    warnings.push(format!(
                        "{} bytes after the last declared data record",
                        data_len - declared * record_size as u64
                    ));
                }
                available.min(declared)
            }
            None => {
                warnings.push(format!(
                    "number of data records is -1; {available} complete records present"
                ));
                available
            }
        };

        let recording_fields = RecordingFields::parse(&recording);
        let start = start_iso(
            &start_date,
            &start_time,
            recording_fields.as_ref(),
            &mut warnings,
        );
        Ok(EdfHeader {
            variant,
            patient,
            recording,
            start_date,
            start_time,
            start,
            header_bytes_declared,
            reserved,
            data_records_declared,
            data_records_present,
            record_duration_s,
            signals,
            warnings,
        })
    }

    /// Total header length: 256 × (signals + 1).
    pub fn header_len(&self) -> usize {
        BLOCK * (self.signals.len() + 1) // cannot overflow: checked in parse()
    }

    /// Bytes of one data record.
    pub fn record_size(&self) -> usize {
        record_size(&self.signals, self.variant.bytes_per_sample()).unwrap_or(0)
    }

    /// Sampling rate of signal `index` in Hz (samples per record / record duration).
    pub fn sampling_rate_hz(&self, index: usize) -> Option<f64> {
        let s = self.signals.get(index)?;
        (self.record_duration_s > 0.0).then(|| s.samples_per_record as f64 / self.record_duration_s)
    }

    /// EDF+ subfields of the patient field, if it follows the EDF+ structure.
    pub fn patient_fields(&self) -> Option<PatientFields> {
        PatientFields::parse(&self.patient)
    }

    /// EDF+ subfields of the recording field, if it starts with "Startdate".
    pub fn recording_fields(&self) -> Option<RecordingFields> {
        RecordingFields::parse(&self.recording)
    }

    /// The common description. `annotations` is the number of TAL annotations (see
    /// [`read_info`], which counts them).
    pub fn info(&self, header_bytes: &[u8], annotations: usize) -> WaveformInfo {
        let channels = self
            .signals
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.is_annotation())
            .map(|(i, s)| {
                let calibration = s.calibration();
                Channel {
                    label: s.label.clone(),
                    sampling_rate_hz: self.sampling_rate_hz(i).unwrap_or(0.0),
                    samples: self
                        .data_records_present
                        .saturating_mul(s.samples_per_record as u64),
                    physical_dimension: non_empty(&s.physical_dimension),
                    transducer: non_empty(&s.transducer),
                    gain: calibration.map(|c| c.0),
                    baseline: calibration.map(|c| c.1),
                    digital_min: Some(s.digital_min),
                    digital_max: Some(s.digital_max),
                    physical_min: Some(s.physical_min),
                    physical_max: Some(s.physical_max),
                }
            })
            .collect();
        let header_end = self.header_len().min(header_bytes.len());
        WaveformInfo {
            format: self.variant.format(),
            channels,
            start: self.start.clone(),
            duration_s: Some(self.data_records_present as f64 * self.record_duration_s),
            patient_field: Some(self.patient.clone()),
            recording_field: Some(self.recording.clone()),
            header_text: String::from_utf8_lossy(
                header_bytes.get(..header_end).unwrap_or_default(),
            )
            .into_owned(),
            comments: Vec::new(),
            annotations,
            warnings: self.warnings.clone(),
        }
    }
}

/// Header, annotation count and warnings of a whole EDF/BDF file.
pub fn read_info(bytes: &[u8]) -> Result<WaveformInfo> {
    let header = EdfHeader::parse(bytes)?;
    let annotations = read_annotations(&header, bytes)?;
    let mut info = header.info(bytes, annotations.annotations.len());
    info.warnings.extend(annotations.warnings);
    Ok(info)
}

/// Digital samples of signal `index`, record after record (only complete records present).
pub fn read_samples(header: &EdfHeader, bytes: &[u8], index: usize) -> Result<Vec<i32>> {
    let raw = signal_bytes(header, bytes, index)?;
    let bps = header.variant.bytes_per_sample();
    Ok(raw
        .iter()
        .flat_map(|chunk| chunk.chunks_exact(bps))
        .map(|b| match *b {
            [lo, hi] => i32::from(i16::from_le_bytes([lo, hi])),
            // 24-bit two's complement: place in the top three bytes, shift back to sign-extend.
            [b0, b1, b2] => i32::from_le_bytes([0, b0, b1, b2]) >> 8,
            _ => 0, // unreachable: chunks_exact yields bps bytes
        })
        .collect())
}

/// Parses every TAL of every annotation signal (see [`tal`]).
pub fn read_annotations(header: &EdfHeader, bytes: &[u8]) -> Result<EdfAnnotations> {
    let mut out = EdfAnnotations::default();
    for (index, _) in header
        .signals
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_annotation())
    {
        for (record, chunk) in signal_bytes(header, bytes, index)?.into_iter().enumerate() {
            tal::parse_record(chunk, record, &mut out);
        }
    }
    Ok(out)
}

/// The bytes of signal `index` in each complete data record present.
fn signal_bytes<'a>(header: &EdfHeader, bytes: &'a [u8], index: usize) -> Result<Vec<&'a [u8]>> {
    let signal = header.signals.get(index).ok_or_else(|| {
        Error::bad_field(
            "signal index",
            0,
            format!("< {}", header.signals.len()),
            index.to_string(),
        )
    })?;
    let bps = header.variant.bytes_per_sample();
    // Checked again here because an `EdfHeader` may also be built by hand, not only by parse().
    let overflow = || {
        Error::bad_field(
            "samples per record",
            BLOCK,
            "sizes that fit in memory",
            "overflow",
        )
    };
    let offset_in_record =
        record_size(header.signals.get(..index).unwrap_or_default(), bps).ok_or_else(overflow)?;
    let len = signal
        .samples_per_record
        .checked_mul(bps)
        .ok_or_else(overflow)?;
    let record_size = record_size(&header.signals, bps).ok_or_else(overflow)?;
    let mut out = Vec::with_capacity(header.data_records_present.min(bytes.len() as u64) as usize);
    for record in 0..header.data_records_present {
        let start = (record as usize)
            .checked_mul(record_size)
            .and_then(|o| o.checked_add(header.header_len()))
            .and_then(|o| o.checked_add(offset_in_record))
            .ok_or_else(|| Error::truncated("data record", usize::MAX, len, 0))?;
        out.push(slice(bytes, start, len, "data record")?);
    }
    Ok(out)
}

fn record_size(signals: &[EdfSignal], bps: usize) -> Option<usize> {
    signals.iter().try_fold(0usize, |acc, s| {
        s.samples_per_record
            .checked_mul(bps)
            .and_then(|n| acc.checked_add(n))
    })
}

fn parse_signal(bytes: &[u8], ns: usize, i: usize) -> Result<EdfSignal> {
    // Fields are stored column-wise: field k of signal i is at base_k + i * width_k.
    let mut base = BLOCK;
    let mut field = |width: usize| {
        let offset = base + i * width;
        base += ns * width;
        (offset, width)
    };
    let (label, transducer, dimension) = (field(16), field(80), field(8));
    let (pmin, pmax, dmin, dmax) = (field(8), field(8), field(8), field(8));
    let (prefilter, spr, reserved) = (field(80), field(8), field(32));
    let name = |what: &str| format!("signal {} {what}", i + 1);
    let signal = EdfSignal {
        label: text(bytes, label.0, label.1, &name("label"))?,
        transducer: text(bytes, transducer.0, transducer.1, &name("transducer"))?,
        physical_dimension: text(bytes, dimension.0, dimension.1, &name("physical dimension"))?,
        physical_min: number(bytes, pmin.0, pmin.1, &name("physical minimum"), "a number")?,
        physical_max: number(bytes, pmax.0, pmax.1, &name("physical maximum"), "a number")?,
        digital_min: number(
            bytes,
            dmin.0,
            dmin.1,
            &name("digital minimum"),
            "an integer",
        )?,
        digital_max: number(
            bytes,
            dmax.0,
            dmax.1,
            &name("digital maximum"),
            "an integer",
        )?,
        prefiltering: text(bytes, prefilter.0, prefilter.1, &name("prefiltering"))?,
        samples_per_record: number(
            bytes,
            spr.0,
            spr.1,
            &name("samples per record"),
            "a non-negative integer",
        )?,
        reserved: text(bytes, reserved.0, reserved.1, &name("reserved"))?,
    };
    if !(signal.physical_min.is_finite() && signal.physical_max.is_finite()) {
        return Err(Error::bad_field(
            name("physical range"),
            pmin.0,
            "finite numbers",
            format!("{} {}", signal.physical_min, signal.physical_max),
        ));
    }
    Ok(signal)
}

/// Start as ISO 8601. The date comes from the EDF+ "Startdate dd-MMM-yyyy" subfield when present
/// (it has a four-digit year); otherwise `dd.mm.yy` with the EDF century rule (yy 85–99 → 19yy,
/// 00–84 → 20yy), which the EDF+ spec fixes to keep pre-2000 EDF files valid.
fn start_iso(
    date: &str,
    time: &str,
    recording: Option<&RecordingFields>,
    warnings: &mut Vec<String>,
) -> Option<String> {
    let dotted = |s: &str| -> Option<[u32; 3]> {
        let mut parts = s.split('.').map(|p| p.trim().parse::<u32>().ok());
        let v = [parts.next()??, parts.next()??, parts.next()??];
        parts.next().is_none().then_some(v)
    };
    let edf_date = dotted(date).map(|[d, m, yy]| {
        (
            if (85..=99).contains(&yy) { 1900 } else { 2000 } + i64::from(yy),
            m,
            d,
        )
    });
    let plus_date = recording.and_then(|r| r.startdate_ymd());
    if let (Some(a), Some(b)) = (edf_date, plus_date)
        && a != b
    {
        warnings.push(format!(
            "startdate {date:?} differs from EDF+ Startdate; using the EDF+ Startdate"
        ));
    }
    let Some((y, m, d)) = plus_date.or(edf_date) else {
        warnings.push(format!("startdate {date:?} is not dd.mm.yy"));
        return None;
    };
    let Some([hh, mm, ss]) = dotted(time) else {
        warnings.push(format!("starttime {time:?} is not hh.mm.ss"));
        return crate::datetime::iso_date(y, m, d);
    };
    let iso = iso_datetime(y, m, d, hh, mm, ss);
    if iso.is_none() {
        warnings.push(format!("start {date} {time} is not a valid date and time"));
    }
    iso
}

fn non_empty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_string())
}
