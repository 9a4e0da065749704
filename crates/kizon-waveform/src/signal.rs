//! Format-independent description of a recording: what every reader reports, so that ingest and the
//! identifiability checks can treat EDF, WFDB and MFER alike.

use serde::Serialize;

/// The file format (and variant) a [`WaveformInfo`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    /// EDF (1992), 16-bit samples.
    Edf,
    /// EDF+ (continuous "EDF+C" or discontinuous "EDF+D").
    EdfPlus,
    /// BioSemi BDF, 24-bit samples.
    Bdf,
    /// BDF+ ("BDF+C"/"BDF+D").
    BdfPlus,
    /// PhysioNet WFDB (`.hea` + signal files).
    Wfdb,
    /// MFER (ISO 22077-1).
    Mfer,
}

/// One signal (lead, channel) of a recording.
///
/// Calibration follows the WFDB convention for every format: `physical = (digital - baseline) / gain`.
/// For EDF the equivalent gain and baseline are derived from the digital and physical extremes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Channel {
    pub label: String,
    pub sampling_rate_hz: f64,
    /// Samples of this channel in the file (as declared, or as present when the file is short).
    pub samples: u64,
    pub physical_dimension: Option<String>,
    pub transducer: Option<String>,
    /// Digital units per physical unit.
    pub gain: Option<f64>,
    /// Digital value that corresponds to physical zero.
    pub baseline: Option<f64>,
    pub digital_min: Option<i64>,
    pub digital_max: Option<i64>,
    pub physical_min: Option<f64>,
    pub physical_max: Option<f64>,
}

impl Channel {
    /// A channel with only label, rate and length known; every calibration field empty.
    pub fn new(label: impl Into<String>, sampling_rate_hz: f64, samples: u64) -> Self {
        Channel {
            label: label.into(),
            sampling_rate_hz,
            samples,
            physical_dimension: None,
            transducer: None,
            gain: None,
            baseline: None,
            digital_min: None,
            digital_max: None,
            physical_min: None,
            physical_max: None,
        }
    }

    /// Physical value of a digital sample, or `None` when the channel has no usable gain.
    pub fn physical(&self, digital: i32) -> Option<f64> {
        let gain = self.gain.filter(|g| *g != 0.0 && g.is_finite())?;
        Some((f64::from(digital) - self.baseline.unwrap_or(0.0)) / gain)
    }
}

/// What a reader knows about a recording without decoding its samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaveformInfo {
    pub format: Format,
    /// Signal channels only (EDF+ annotation channels are counted in `annotations` instead).
    pub channels: Vec<Channel>,
    /// ISO 8601 `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ss`, as precise as the file states it.
    pub start: Option<String>,
    pub duration_s: Option<f64>,
    /// EDF local patient identification (80 characters), or the MFER patient name/ID.
    pub patient_field: Option<String>,
    /// EDF local recording identification (80 characters).
    pub recording_field: Option<String>,
    /// The header as text (lossy UTF-8), for identifiability checks.
    pub header_text: String,
    /// WFDB `#` comment lines (without the `#`), MFER comments.
    pub comments: Vec<String>,
    /// Number of annotations stored in the file itself (EDF+ TALs, MFER events).
    pub annotations: usize,
    /// Non-fatal problems found while reading, one line each.
    pub warnings: Vec<String>,
}

/// Digital samples of one channel with its rate: the input of the quality helpers and of the
/// canonical signal form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelSamples<'a> {
    pub sampling_rate_hz: f64,
    pub samples: &'a [i32],
}
