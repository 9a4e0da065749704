//! Signal-quality measures and the canonical signal form: plain functions over digital samples,
//! so they apply identically to EDF, WFDB and MFER data.

use serde::Serialize;

use crate::signal::ChannelSamples;

/// Flat-line (constant signal) measures of one channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlatLine {
    /// Longest run of identical consecutive samples.
    pub longest_run: usize,
    pub longest_run_s: f64,
    /// Fraction of all samples that lie in runs of at least the given duration (0 for no samples).
    pub flat_fraction: f64,
}

/// Runs of identical values; a run counts as flat when it lasts at least `min_duration_s`
/// (e.g. a lead-off ECG electrode gives seconds of one value, while a real signal repeats a value
/// only for a few samples).
pub fn flat_line(samples: &[i32], sampling_rate_hz: f64, min_duration_s: f64) -> FlatLine {
    let min_run = if sampling_rate_hz > 0.0 {
        (min_duration_s * sampling_rate_hz).ceil().max(1.0)
    } else {
        f64::INFINITY
    };
    let (mut longest, mut flat) = (0usize, 0usize);
    for run in samples.chunk_by(|a, b| a == b) {
        longest = longest.max(run.len());
        if run.len() as f64 >= min_run {
            flat += run.len();
        }
    }
    FlatLine {
        longest_run: longest,
        longest_run_s: if sampling_rate_hz > 0.0 {
            longest as f64 / sampling_rate_hz
        } else {
            0.0
        },
        flat_fraction: if samples.is_empty() {
            0.0
        } else {
            flat as f64 / samples.len() as f64
        },
    }
}

/// Samples at the digital extremes (the rails): an amplifier or ADC in saturation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clipping {
    pub at_min: usize,
    pub at_max: usize,
    /// `(at_min + at_max) / samples` (0 for no samples).
    pub fraction: f64,
    /// Longest run of consecutive samples at one rail.
    pub longest_run: usize,
}

/// Counts samples at or beyond `digital_min` / `digital_max`, and the longest stretch spent at
/// one of them. A signal that saturates its ADC sits at a rail: briefly on the peaks of a
/// clipped QRS, for seconds when the baseline drifts out of range.
pub fn clipping(samples: &[i32], digital_min: i64, digital_max: i64) -> Clipping {
    let rail = |v: &i32| {
        let v = i64::from(*v);
        if v <= digital_min {
            -1
        } else if v >= digital_max {
            1
        } else {
            0
        }
    };
    let (mut at_min, mut at_max, mut longest_run) = (0usize, 0usize, 0usize);
    for run in samples.chunk_by(|a, b| rail(a) == rail(b)) {
        match rail(&run[0]) {
            -1 => at_min += run.len(),
            1 => at_max += run.len(),
            _ => continue,
        }
        longest_run = longest_run.max(run.len());
    }
    let fraction = if samples.is_empty() {
        0.0
    } else {
        (at_min + at_max) as f64 / samples.len() as f64
    };
    Clipping {
        at_min,
        at_max,
        fraction,
        longest_run,
    }
}

/// Domain tag that starts the canonical form, so its hash cannot collide with other kizon hashes.
pub const CANONICAL_TAG: &[u8] = b"kizon-waveform canonical v1\n";

/// Streams the canonical form of a signal to `sink`, for the caller to hash (e.g. SHA-256).
///
/// The form is, in order:
/// 1. [`CANONICAL_TAG`];
/// 2. the channel count, u32 little-endian;
/// 3. per channel, in file order: the sampling rate in micro-hertz rounded to the nearest integer,
///    i64 little-endian; the sample count, u64 little-endian; then each digital sample as i32
///    little-endian.
///
/// Labels, units, calibration and dates are left out on purpose: they differ between formats (an
/// MFER lead code versus a WFDB description) while the signal is the same. Rates are rounded to
/// 1 µHz because EDF derives them by division (samples per record / record duration).
pub fn write_canonical(channels: &[ChannelSamples<'_>], mut sink: impl FnMut(&[u8])) {
    sink(CANONICAL_TAG);
    sink(&(channels.len() as u32).to_le_bytes());
    for c in channels {
        let micro_hz = (c.sampling_rate_hz * 1e6).round();
        let micro_hz = if micro_hz.is_finite() {
            micro_hz as i64
        } else {
            0
        }; // `as` saturates
        sink(&micro_hz.to_le_bytes());
        sink(&(c.samples.len() as u64).to_le_bytes());
        // Batch samples so a hasher is called per 4 KiB, not per sample.
        for chunk in c.samples.chunks(1024) {
            let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
            sink(&bytes);
        }
    }
}

/// The canonical form as one buffer (see [`write_canonical`]).
pub fn canonical_bytes(channels: &[ChannelSamples<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(channels, |b| out.extend_from_slice(b));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_second_flat_segment_at_100_hz_is_found() {
        let mut s: Vec<i32> = (0..300).map(|i| (i % 7) - 3).collect();
        s.extend(std::iter::repeat_n(42, 200));
        let f = flat_line(&s, 100.0, 1.0);
        assert_eq!(f.longest_run, 200);
        assert_eq!(f.longest_run_s, 2.0);
        assert!((f.flat_fraction - 0.4).abs() < 1e-12);
        assert_eq!(flat_line(&[], 100.0, 1.0).flat_fraction, 0.0);
    }

    #[test]
    fn clipping_counts_both_rails() {
        let c = clipping(&[-2048, 0, 2047, 2047], -2048, 2047);
        assert_eq!((c.at_min, c.at_max, c.longest_run), (1, 2, 2));
        assert_eq!(c.fraction, 0.75);
        // Runs are at one rail: a min-max alternation is runs of one.
        let c = clipping(&[-9, 9, -9, 5, 9, 9, 9], -9, 9);
        assert_eq!((c.at_min, c.at_max, c.longest_run), (2, 4, 3));
        // Beyond the rails counts as at them.
        let c = clipping(&[3000, -3000, -3000, 0], -2048, 2047);
        assert_eq!((c.at_min, c.at_max, c.longest_run), (2, 1, 2));
        assert_eq!(clipping(&[], 0, 1).fraction, 0.0);
    }

    #[test]
    fn canonical_form_is_documented_layout() {
        let b = canonical_bytes(&[ChannelSamples {
            sampling_rate_hz: 360.0,
            samples: &[995, -1],
        }]);
        let mut expected = CANONICAL_TAG.to_vec();
        expected.extend(1u32.to_le_bytes());
        expected.extend(360_000_000i64.to_le_bytes());
        expected.extend(2u64.to_le_bytes());
        expected.extend(995i32.to_le_bytes());
        expected.extend((-1i32).to_le_bytes());
        assert_eq!(b, expected);
    }
}
