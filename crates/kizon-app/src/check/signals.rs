//! Decoding the signals of waveform items for `check`: flat and clipped channels, and the
//! signal-content hash (the same signal in EDF, WFDB, MFER or a DICOM waveform gets the same
//! hash). Reads the source files again; a file that moved or changed since ingest is not decoded
//! (its hash no longer matches).

use std::fs;
use std::ops::Range;
use std::path::Path;

use kizon_checks::{ChannelFacts, ClippingFacts, SignalFacts};
use kizon_formats::dicom::waveform;
use kizon_vocab::ItemKind;
use kizon_waveform::{ChannelSamples, edf, mfer, quality, wfdb};

use crate::sha256_hex;

/// One decoded channel.
struct Decoded {
    label: String,
    sampling_rate_hz: f64,
    samples: Vec<i32>,
    /// The digital range the format states (`digital_min`, `digital_max`): the rails.
    rails: Option<(i64, i64)>,
    /// How digital samples become physical values, when the format says.
    calibration: Option<Calibration>,
}

/// `physical = digital × step + offset`, in `unit` (as the file writes it: `uV`, `mV`, `V`…).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Calibration {
    pub step: f64,
    pub offset: f64,
    pub unit: String,
}

impl Calibration {
    fn new(step: f64, offset: f64, unit: &str) -> Option<Calibration> {
        (step.is_finite() && step != 0.0 && offset.is_finite()).then(|| Calibration {
            step,
            offset,
            unit: unit.trim().to_owned(),
        })
    }

    /// Millivolts per unit of `unit`, when it is a voltage.
    pub fn millivolts_per_unit(&self) -> Option<f64> {
        match self.unit.as_str() {
            "uV" | "µV" | "μV" | "microvolt" => Some(1e-3),
            "mV" | "millivolt" => Some(1.0),
            "V" | "volt" => Some(1e3),
            _ => None,
        }
    }
}

/// A decoded channel with its calibration, for the viewer's paper.
pub(crate) struct CalibratedChannel {
    pub label: String,
    pub sampling_rate_hz: f64,
    pub samples: Vec<i32>,
    pub calibration: Option<Calibration>,
}

/// The channels of an item and which of them were sampled together as one signal: the whole
/// recording for EDF, WFDB and MFER; each multiplex group for a DICOM waveform.
struct Decoding {
    channels: Vec<Decoded>,
    signals: Vec<Range<usize>>,
}

impl Decoding {
    fn one_signal(channels: Vec<Decoded>) -> Decoding {
        Decoding {
            // One signal made of every channel (a one-element list of ranges, as meant).
            #[allow(clippy::single_range_in_vec_init)]
            signals: vec![0..channels.len()],
            channels,
        }
    }
}

/// The signal facts of one item, if it is a waveform file (EDF, a WFDB header whose files are
/// readable, MFER, DICOM waveform) whose samples decode.
pub fn facts(item: &crate::Item) -> Option<SignalFacts> {
    let decoding = decode(item)?;
    let channels = decoding
        .channels
        .iter()
        .map(|c| {
            let seconds = |samples: usize| {
                if c.sampling_rate_hz > 0.0 {
                    samples as f64 / c.sampling_rate_hz
                } else {
                    0.0
                }
            };
            ChannelFacts {
                label: c.label.clone(),
                longest_flat_s: quality::flat_line(&c.samples, c.sampling_rate_hz, 0.0)
                    .longest_run_s,
                clipping: c.rails.map(|(digital_min, digital_max)| {
                    let clipping = quality::clipping(&c.samples, digital_min, digital_max);
                    ClippingFacts {
                        digital_min,
                        digital_max,
                        fraction: clipping.fraction,
                        longest_s: seconds(clipping.longest_run),
                    }
                }),
            }
        })
        .collect();
    let content_sha256 = decoding
        .signals
        .iter()
        .filter_map(|range| decoding.channels.get(range.clone()))
        .map(|channels| {
            let view: Vec<ChannelSamples<'_>> = channels
                .iter()
                .map(|c| ChannelSamples {
                    sampling_rate_hz: c.sampling_rate_hz,
                    samples: &c.samples,
                })
                .collect();
            sha256_hex(&quality::canonical_bytes(&view))
        })
        .collect();
    Some(SignalFacts {
        item_id: item.id,
        channels,
        content_sha256,
    })
}

fn edf_channels(bytes: &[u8]) -> Option<Decoding> {
    let header = edf::EdfHeader::parse(bytes).ok()?;
    let mut channels = Vec::new();
    for (index, signal) in header.signals.iter().enumerate() {
        if signal.label.trim().ends_with("Annotations") {
            continue;
        }
        let step = (signal.physical_max - signal.physical_min)
            / (signal.digital_max - signal.digital_min) as f64;
        channels.push(Decoded {
            label: signal.label.trim().to_owned(),
            sampling_rate_hz: header.sampling_rate_hz(index)?,
            samples: edf::read_samples(&header, bytes, index).ok()?,
            rails: Some((signal.digital_min, signal.digital_max)),
            calibration: Calibration::new(
                step,
                signal.physical_min - signal.digital_min as f64 * step,
                &signal.physical_dimension,
            ),
        });
    }
    Some(Decoding::one_signal(channels))
}

fn wfdb_channels(header_path: &Path, bytes: &[u8]) -> Option<Decoding> {
    let text = String::from_utf8_lossy(bytes);
    let header = wfdb::WfdbHeader::parse(&text).ok()?;
    let info = header.info(&text, 0);
    let dir = header_path.parent()?;
    let mut files: Vec<String> = header.signals.iter().map(|s| s.file_name.clone()).collect();
    files.dedup();
    let mut channels = Vec::new();
    for file in files {
        let data = fs::read(dir.join(&file)).ok()?;
        let decoded = wfdb::read_signal_file(&header, &file, &data).ok()?;
        for (index, samples) in decoded.signal_indices.into_iter().zip(decoded.samples) {
            let signal = header.signals.get(index)?;
            let common = info.channels.get(index)?;
            channels.push(Decoded {
                label: signal.description.clone(),
                sampling_rate_hz: header.sampling_frequency_hz
                    * f64::from(signal.samples_per_frame.max(1)),
                samples,
                rails: common.digital_min.zip(common.digital_max),
                calibration: common.gain.and_then(|gain| {
                    Calibration::new(
                        1.0 / gain,
                        -common.baseline.unwrap_or(0.0) / gain,
                        common.physical_dimension.as_deref().unwrap_or(""),
                    )
                }),
            });
        }
    }
    Some(Decoding::one_signal(channels))
}

fn mfer_channels(bytes: &[u8]) -> Option<Decoding> {
    let recording = mfer::read_mfer(bytes).ok()?.recording;
    let rails = recording.data_type.range();
    let rate = recording.sampling_rate_hz;
    let (overall, offset) = (recording.sensitivity, recording.offset.unwrap_or(0));
    Some(Decoding::one_signal(
        recording
            .channels
            .into_iter()
            .map(|c| {
                // physical = (digital + offset) × sensitivity; unit code 0 is the volt.
                let calibration = c.sensitivity.or(overall).and_then(|s| {
                    let step = s.value();
                    Calibration::new(
                        step,
                        offset as f64 * step,
                        if s.unit == 0 { "V" } else { "" },
                    )
                });
                Decoded {
                    label: c.label,
                    sampling_rate_hz: rate,
                    samples: c.samples,
                    rails: Some(rails),
                    calibration,
                }
            })
            .collect(),
    ))
}

fn dicom_channels(bytes: &[u8]) -> Option<Decoding> {
    let decoded = waveform::read_waveform(bytes).ok()?;
    let mut decoding = Decoding {
        channels: Vec::new(),
        signals: Vec::new(),
    };
    for group in decoded.groups {
        let start = decoding.channels.len();
        decoding
            .channels
            .extend(group.channels.into_iter().map(|c| Decoded {
                label: match &group.label {
                    Some(g) => format!("{g}/{}", c.label),
                    None => c.label,
                },
                sampling_rate_hz: group.sampling_rate_hz,
                rails: Some((c.digital_min, c.digital_max)),
                calibration: c.sensitivity.and_then(|s| {
                    Calibration::new(
                        s * c.correction_factor.unwrap_or(1.0),
                        c.baseline.unwrap_or(0.0),
                        c.sensitivity_units.as_deref().unwrap_or(""),
                    )
                }),
                samples: c.samples,
            }));
        decoding.signals.push(start..decoding.channels.len());
    }
    Some(decoding)
}

/// The decoded channels of a waveform item (label, sampling rate in Hz, digital samples), for
/// the web workspace's viewer; `None` when the item is not a decodable waveform.
pub(crate) fn channels(item: &crate::Item) -> Option<Vec<(String, f64, Vec<i32>)>> {
    Some(
        decode(item)?
            .channels
            .into_iter()
            .map(|c| (c.label, c.sampling_rate_hz, c.samples))
            .collect(),
    )
}

/// The decoded channels of a waveform item with their calibration, for the viewer's paper.
pub(crate) fn calibrated_channels(item: &crate::Item) -> Option<Vec<CalibratedChannel>> {
    Some(
        decode(item)?
            .channels
            .into_iter()
            .map(|c| CalibratedChannel {
                label: c.label,
                sampling_rate_hz: c.sampling_rate_hz,
                samples: c.samples,
                calibration: c.calibration,
            })
            .collect(),
    )
}

/// Decodes a waveform item's channels from its source file (unchanged since ingest).
fn decode(item: &crate::Item) -> Option<Decoding> {
    if !item.kind.is_waveform() {
        return None;
    }
    let bytes = super::read_unchanged(&item.source, &item.sha256)?;
    match item.kind {
        ItemKind::Edf => edf_channels(&bytes),
        // A record's signal files are decoded through its header.
        ItemKind::Wfdb if item.is_wfdb_header() => wfdb_channels(Path::new(&item.source), &bytes),
        ItemKind::Wfdb => None,
        ItemKind::Mfer => mfer_channels(&bytes),
        ItemKind::DicomWaveform => dicom_channels(&bytes),
        ItemKind::Dicom
        | ItemKind::Video
        | ItemKind::Specimen
        | ItemKind::Table
        | ItemKind::Unknown => None,
    }
}
