//! DICOM waveform samples: the Waveform Sequence (5400,0100) of the Waveform module
//! (PS3.3 C.10.9) decoded into channels.
//!
//! A waveform object holds one or more *multiplex groups*, the items of the Waveform Sequence.
//! A group is a set of channels sampled synchronously at one Sampling Frequency; its Waveform Data
//! (5400,1010) interleaves them sample by sample, `C1S1, C2S1, …, CnS1, C1S2, …` (PS3.3 C.10.9.1),
//! and its Channel Definition Sequence (003A,0200) has one item per channel, in data order.
//!
//! | attribute | use |
//! |---|---|
//! | (003A,0005) Number of Waveform Channels, (003A,0010) Number of Waveform Samples | the layout of the data |
//! | (003A,001A) Sampling Frequency | Hz |
//! | (5400,1004) Waveform Bits Allocated, (5400,1006) Waveform Sample Interpretation | the sample encoding, see [`SampleEncoding`] |
//! | (5400,100A) Waveform Padding Value | kept (a sample value that marks "no data") |
//! | (0018,1068) Multiplex Group Time Offset | kept, in ms |
//! | (003A,0203) Channel Label, else the Code Meaning of (003A,0208) Channel Source Sequence | the channel's label |
//! | (003A,0210) Channel Sensitivity, (003A,0211) its units, (003A,0212) Channel Sensitivity Correction Factor, (003A,0213) Channel Baseline | calibration (PS3.3 C.10.9.1.4.2; the baseline is the offset of encoded value 0 from actual 0, in the sensitivity's units): `physical = digital × sensitivity × correction + baseline`, as pydicom's `waveform_array` computes it |
//! | (003A,021A) Waveform Bits Stored | the digital range (its rails, for the clipping check) |
//!
//! The decoder is pure and bounds-checked like the rest of the crate: the data set is located by
//! [`super::walk`], every declared count is checked against the bytes present before anything
//! is allocated, and what cannot be decoded is a [`WaveformError`], never a panic. Validated on
//! pydicom's `waveform_ecg.dcm` against pydicom 3.0.2 (`tools/oracle/make_dicom_waveform_fixture.py`).
//!
//! This lives in kizon-formats rather than kizon-waveform because it needs the DICOM data set
//! walk; it hands its channels out in kizon-waveform's terms ([`kizon_waveform::Channel`],
//! digital `i32` samples), so the quality measures and the canonical signal form apply unchanged.

use std::collections::BTreeMap;

use dicom_dictionary_std::tags;

use super::walk::Element;
use super::{Values, detect, key, read_data_set};

/// How one multiplex group stores its samples: Waveform Bits Allocated (5400,1004) and Waveform
/// Sample Interpretation (5400,1006) of the Waveform module (PS3.3 C.10.9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleEncoding {
    /// `SB`: signed 8-bit linear.
    Signed8,
    /// `UB`: unsigned 8-bit linear.
    Unsigned8,
    /// `MB`: 8-bit µ-law (ITU-T G.711), expanded here to 16-bit linear (±32,124).
    MuLaw8,
    /// `AB`: 8-bit A-law (ITU-T G.711), expanded here to 16-bit linear (±32,256).
    ALaw8,
    /// `SS`: signed 16-bit linear.
    Signed16,
    /// `US`: unsigned 16-bit linear.
    Unsigned16,
    /// `SL`: signed 32-bit (32 and 64 bits are read as pydicom reads them; values must fit `i32`).
    Signed32,
    /// `UL`: unsigned 32-bit.
    Unsigned32,
    /// `SV`: signed 64-bit.
    Signed64,
    /// `UV`: unsigned 64-bit.
    Unsigned64,
}

impl SampleEncoding {
    /// The encoding of Waveform Bits Allocated `bits` and Sample Interpretation `code`.
    pub fn from_attributes(bits: u16, code: &str) -> Option<SampleEncoding> {
        Some(match (bits, code) {
            (8, "SB") => SampleEncoding::Signed8,
            (8, "UB") => SampleEncoding::Unsigned8,
            (8, "MB") => SampleEncoding::MuLaw8,
            (8, "AB") => SampleEncoding::ALaw8,
            (16, "SS") => SampleEncoding::Signed16,
            (16, "US") => SampleEncoding::Unsigned16,
            (32, "SL") => SampleEncoding::Signed32,
            (32, "UL") => SampleEncoding::Unsigned32,
            (64, "SV") => SampleEncoding::Signed64,
            (64, "UV") => SampleEncoding::Unsigned64,
            _ => return None,
        })
    }

    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            SampleEncoding::Signed8
            | SampleEncoding::Unsigned8
            | SampleEncoding::MuLaw8
            | SampleEncoding::ALaw8 => 1,
            SampleEncoding::Signed16 | SampleEncoding::Unsigned16 => 2,
            SampleEncoding::Signed32 | SampleEncoding::Unsigned32 => 4,
            SampleEncoding::Signed64 | SampleEncoding::Unsigned64 => 8,
        }
    }

    fn signed(self) -> bool {
        matches!(
            self,
            SampleEncoding::Signed8
                | SampleEncoding::Signed16
                | SampleEncoding::Signed32
                | SampleEncoding::Signed64
        )
    }

    /// The digital range of a linear encoding with `bits_stored` significant bits (two's
    /// complement when signed), or G.711's range for the companded ones.
    pub fn digital_range(self, bits_stored: u16) -> (i64, i64) {
        match self {
            SampleEncoding::MuLaw8 => (-32_124, 32_124),
            SampleEncoding::ALaw8 => (-32_256, 32_256),
            _ => {
                let allocated = 8 * self.size() as u32;
                let bits = u32::from(bits_stored).clamp(1, allocated).min(63);
                if self.signed() {
                    (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
                } else {
                    (0, (1i64 << bits) - 1)
                }
            }
        }
    }

    /// One sample from exactly `size()` bytes in the data set's byte order; `None` when it does
    /// not fit `i32`.
    fn sample(self, b: &[u8], big_endian: bool) -> Option<i32> {
        let mut raw = [0u8; 8];
        let n = self.size();
        raw.get_mut(..n)?.copy_from_slice(b.get(..n)?);
        if big_endian {
            raw[..n].reverse();
        }
        // `raw` now holds the value little-endian in its first `n` bytes.
        let unsigned = u64::from_le_bytes(raw);
        let value: i64 = match self {
            SampleEncoding::MuLaw8 => return Some(mu_law(raw[0])),
            SampleEncoding::ALaw8 => return Some(a_law(raw[0])),
            SampleEncoding::Signed64 => unsigned as i64,
            SampleEncoding::Unsigned64 => i64::try_from(unsigned).ok()?,
            signed if signed.signed() => {
                let shift = 64 - 8 * n as u32;
                ((unsigned << shift) as i64) >> shift
            }
            _ => unsigned as i64, // unsigned of at most 4 bytes
        };
        i32::try_from(value).ok()
    }
}

/// ITU-T G.711 µ-law expansion (the reference algorithm, as in Sun Microsystems' public-domain
/// `g711.c`): complement, then `((mantissa << 3) + 0x84) << exponent`, less the bias.
pub fn mu_law(code: u8) -> i32 {
    let u = !code;
    let t = ((i32::from(u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
    if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }
}

/// ITU-T G.711 A-law expansion (same reference): even bits inverted, segment 0 linear.
pub fn a_law(code: u8) -> i32 {
    let a = code ^ 0x55;
    let mut t = i32::from(a & 0x0F) << 4;
    match (a & 0x70) >> 4 {
        0 => t += 8,
        1 => t += 0x108,
        segment => {
            t += 0x108;
            t <<= segment - 1;
        }
    }
    if a & 0x80 != 0 { t } else { -t }
}

/// A DICOM waveform object's multiplex groups.
#[derive(Debug, Clone, PartialEq)]
pub struct DicomWaveform {
    pub groups: Vec<MultiplexGroupSamples>,
    /// Problems that did not stop the decoding (a data set cut short after the waveform, fewer
    /// channel definitions than channels…), one line each.
    pub warnings: Vec<String>,
}

/// One multiplex group: synchronously sampled channels.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiplexGroupSamples {
    /// Multiplex Group Label (003A,0020), e.g. `RHYTHM`.
    pub label: Option<String>,
    pub sampling_rate_hz: f64,
    pub encoding: SampleEncoding,
    pub padding_value: Option<i32>,
    /// Multiplex Group Time Offset (0018,1068), ms from the start of the acquisition.
    pub time_offset_ms: Option<f64>,
    pub channels: Vec<WaveformChannel>,
}

/// One channel of a multiplex group, with its digital samples.
#[derive(Debug, Clone, PartialEq)]
pub struct WaveformChannel {
    /// Channel Label, else the channel source's Code Meaning (e.g. `Lead I (Einthoven)`), else
    /// `channel N`.
    pub label: String,
    /// Code Value of the channel source (e.g. SCPECG `5.6.3-9-1`).
    pub source_code: Option<String>,
    /// Physical value of one digital step, in `sensitivity_units`.
    pub sensitivity: Option<f64>,
    /// UCUM code of the units (e.g. `uV`).
    pub sensitivity_units: Option<String>,
    pub correction_factor: Option<f64>,
    /// Offset added after scaling, in `sensitivity_units`.
    pub baseline: Option<f64>,
    /// Waveform Bits Stored, when the channel states it.
    pub bits_stored: Option<u16>,
    /// The rails of the stored samples: what the ADC could record.
    pub digital_min: i64,
    pub digital_max: i64,
    pub samples: Vec<i32>,
}

impl WaveformChannel {
    /// The physical value of a digital sample (PS3.3 C.10.9.1.4.2), `None` without a sensitivity.
    pub fn physical(&self, digital: i32) -> Option<f64> {
        let step = self.sensitivity? * self.correction_factor.unwrap_or(1.0);
        Some(f64::from(digital) * step + self.baseline.unwrap_or(0.0))
    }

    /// The channel in kizon-waveform's terms (calibration as `physical = (digital - baseline) / gain`).
    pub fn channel(&self, sampling_rate_hz: f64) -> kizon_waveform::Channel {
        let mut c =
            kizon_waveform::Channel::new(&self.label, sampling_rate_hz, self.samples.len() as u64);
        let step = self
            .sensitivity
            .map(|s| s * self.correction_factor.unwrap_or(1.0))
            .filter(|s| *s != 0.0 && s.is_finite());
        c.gain = step.map(|s| 1.0 / s);
        c.baseline = step.map(|s| -self.baseline.unwrap_or(0.0) / s);
        c.physical_dimension = self.sensitivity_units.clone();
        c.digital_min = Some(self.digital_min);
        c.digital_max = Some(self.digital_max);
        c
    }
}

/// Why a DICOM waveform's samples cannot be decoded. Groups are numbered from 1.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WaveformError {
    #[error("not DICOM")]
    NotDicom,
    #[error("the DICOM data set cannot be read: {0}")]
    DataSet(String),
    #[error("no Waveform Sequence (5400,0100)")]
    NoWaveform,
    #[error("multiplex group {group}: {attribute} is missing")]
    Missing {
        group: usize,
        attribute: &'static str,
    },
    #[error("multiplex group {group}: {attribute} is {found}, expected {expected}")]
    Invalid {
        group: usize,
        attribute: &'static str,
        found: String,
        expected: &'static str,
    },
    #[error(
        "multiplex group {group}: Waveform Sample Interpretation {interpretation} with {bits} bits allocated is not supported"
    )]
    Unsupported {
        group: usize,
        bits: u16,
        interpretation: String,
    },
    #[error(
        "multiplex group {group}: Waveform Data holds {available} bytes, {needed} needed for {channels} channels × {samples} samples"
    )]
    Truncated {
        group: usize,
        channels: usize,
        samples: u64,
        needed: u64,
        available: usize,
    },
    #[error("multiplex group {group}: sample {index} does not fit a 32-bit signed integer")]
    OutOfRange { group: usize, index: usize },
}

/// Decodes the waveform samples of a DICOM file (any layout [`super::detect`] accepts).
pub fn read_waveform(bytes: &[u8]) -> Result<DicomWaveform, WaveformError> {
    let layout = detect(bytes).ok_or(WaveformError::NotDicom)?;
    let data_set = read_data_set(bytes, layout).map_err(WaveformError::DataSet)?;
    let values = data_set.values();
    let mut out = decode(&values)?;
    if let Some(overrun) = &data_set.walked.overrun {
        out.warnings.push(format!(
            "the data set is cut short after the waveform: {overrun}"
        ));
    }
    Ok(out)
}

/// The elements of each sequence item, by `(sequence element index, item index)`.
type Items = BTreeMap<(usize, u32), Vec<usize>>;

/// Typed access to one item's elements.
struct Item<'v, 'a> {
    values: &'v Values<'a>,
    items: &'v Items,
    members: &'v [usize],
}

impl<'v, 'a> Item<'v, 'a> {
    fn element(&self, tag: dicom_core::Tag) -> Option<(usize, &'v Element)> {
        self.members
            .iter()
            .map(|i| (*i, &self.values.elements[*i]))
            .find(|(_, e)| e.tag == key(tag))
    }

    fn text(&self, tag: dicom_core::Tag) -> Option<String> {
        self.values.text_of(self.element(tag)?.1)
    }

    fn binary(&self, tag: dicom_core::Tag) -> Option<u64> {
        self.values.binary_of(self.element(tag)?.1)
    }

    fn decimal(&self, tag: dicom_core::Tag) -> Option<f64> {
        self.values
            .decimals_of(self.element(tag)?.1)
            .first()
            .copied()
    }

    fn raw(&self, tag: dicom_core::Tag) -> Option<(&'v Element, &'v [u8])> {
        let (_, element) = self.element(tag)?;
        Some((element, self.values.raw(element)))
    }

    /// The items of the sequence `tag` in this item, in order.
    fn sequence(&self, tag: dicom_core::Tag) -> Vec<Item<'v, 'a>> {
        let Some((index, _)) = self.element(tag) else {
            return Vec::new();
        };
        self.items
            .range((index, 0)..=(index, u32::MAX))
            .map(|(_, members)| Item {
                values: self.values,
                items: self.items,
                members,
            })
            .collect()
    }
}

fn items_of(values: &Values<'_>) -> Items {
    let mut items: Items = BTreeMap::new();
    for (i, element) in values.elements.iter().enumerate() {
        if let Some(parent) = element.parent {
            items.entry(parent).or_default().push(i);
        }
    }
    items
}

/// The items of the top-level Waveform Sequence, or `None` when there is none.
fn waveform_items<'v, 'a>(values: &'v Values<'a>, items: &'v Items) -> Option<Vec<Item<'v, 'a>>> {
    let sequence = values
        .elements
        .iter()
        .position(|e| e.depth == 0 && e.tag == key(tags::WAVEFORM_SEQUENCE))?;
    Some(
        items
            .range((sequence, 0)..=(sequence, u32::MAX))
            .map(|(_, members)| Item {
                values,
                items,
                members,
            })
            .collect(),
    )
}

fn decode(values: &Values<'_>) -> Result<DicomWaveform, WaveformError> {
    let items = items_of(values);
    let groups = waveform_items(values, &items).ok_or(WaveformError::NoWaveform)?;
    let mut warnings = Vec::new();
    let groups = groups
        .iter()
        .enumerate()
        .map(|(i, item)| group(i + 1, item, values.encoding.big_endian, &mut warnings))
        .collect::<Result<Vec<_>, _>>()?;
    if groups.is_empty() {
        return Err(WaveformError::NoWaveform);
    }
    Ok(DicomWaveform { groups, warnings })
}

/// What a group declares about its data, checked against the bytes present.
struct Layout<'v> {
    channels: usize,
    /// Samples per channel; `channels × samples × size` bytes are present.
    samples: usize,
    rate: f64,
    bits: u16,
    encoding: SampleEncoding,
    data_element: &'v Element,
    data: &'v [u8],
}

fn layout<'v>(number: usize, item: &Item<'v, '_>) -> Result<Layout<'v>, WaveformError> {
    let missing = |attribute| WaveformError::Missing {
        group: number,
        attribute,
    };
    let channels = item
        .binary(tags::NUMBER_OF_WAVEFORM_CHANNELS)
        .ok_or_else(|| missing("Number of Waveform Channels (003A,0005)"))?;
    let samples = item
        .binary(tags::NUMBER_OF_WAVEFORM_SAMPLES)
        .ok_or_else(|| missing("Number of Waveform Samples (003A,0010)"))?;
    let rate = item
        .decimal(tags::SAMPLING_FREQUENCY)
        .ok_or_else(|| missing("Sampling Frequency (003A,001A)"))?;
    let bits = item
        .binary(tags::WAVEFORM_BITS_ALLOCATED)
        .ok_or_else(|| missing("Waveform Bits Allocated (5400,1004)"))?;
    let interpretation = item
        .text(tags::WAVEFORM_SAMPLE_INTERPRETATION)
        .ok_or_else(|| missing("Waveform Sample Interpretation (5400,1006)"))?;
    let (data_element, data) = item
        .raw(tags::WAVEFORM_DATA)
        .ok_or_else(|| missing("Waveform Data (5400,1010)"))?;
    let invalid = |attribute, found: String, expected| WaveformError::Invalid {
        group: number,
        attribute,
        found,
        expected,
    };
    if channels == 0 {
        return Err(invalid(
            "Number of Waveform Channels (003A,0005)",
            "0".into(),
            "at least 1",
        ));
    }
    if !(rate.is_finite() && rate > 0.0) {
        return Err(invalid(
            "Sampling Frequency (003A,001A)",
            rate.to_string(),
            "a positive frequency",
        ));
    }
    let bits = u16::try_from(bits).unwrap_or(u16::MAX);
    let encoding = SampleEncoding::from_attributes(bits, &interpretation).ok_or_else(|| {
        WaveformError::Unsupported {
            group: number,
            bits,
            interpretation: interpretation.clone(),
        }
    })?;
    let needed = channels
        .checked_mul(samples)
        .and_then(|n| n.checked_mul(encoding.size() as u64));
    match needed {
        // Both counts are then bounded by the bytes present.
        Some(needed) if needed <= data.len() as u64 => Ok(Layout {
            channels: channels as usize,
            samples: samples as usize,
            rate,
            bits,
            encoding,
            data_element,
            data,
        }),
        _ => Err(WaveformError::Truncated {
            group: number,
            channels: usize::try_from(channels).unwrap_or(usize::MAX),
            samples,
            needed: needed.unwrap_or(u64::MAX),
            available: data.len(),
        }),
    }
}

fn group(
    number: usize,
    item: &Item<'_, '_>,
    big_endian: bool,
    warnings: &mut Vec<String>,
) -> Result<MultiplexGroupSamples, WaveformError> {
    let Layout {
        channels: channel_count,
        samples: frames,
        rate,
        bits,
        encoding,
        data_element,
        data,
    } = layout(number, item)?;
    // Explicit VR big endian swaps OW values by 16-bit word; 8-bit samples in an OW are then
    // in swapped pairs (PS3.5 7.3).
    let swapped_bytes: Vec<u8>;
    let data = if big_endian && encoding.size() == 1 && data_element.vr == *b"OW" {
        swapped_bytes = data
            .chunks(2)
            .flat_map(|pair| pair.iter().rev().copied())
            .collect();
        &swapped_bytes[..]
    } else {
        data
    };

    let definitions = item.sequence(tags::CHANNEL_DEFINITION_SEQUENCE);
    if definitions.len() != channel_count {
        warnings.push(format!(
            "multiplex group {number}: {} channel definitions for {channel_count} channels",
            definitions.len()
        ));
    }
    let size = encoding.size();
    let mut decoded: Vec<Vec<i32>> = (0..channel_count)
        .map(|_| Vec::with_capacity(frames))
        .collect();
    let frame_bytes = channel_count * size; // ≥ 1, and × frames ≤ data.len()
    for (f, frame) in data.chunks_exact(frame_bytes).take(frames).enumerate() {
        for (c, (out, b)) in decoded.iter_mut().zip(frame.chunks_exact(size)).enumerate() {
            out.push(
                encoding
                    .sample(b, big_endian)
                    .ok_or(WaveformError::OutOfRange {
                        group: number,
                        index: f * channel_count + c,
                    })?,
            );
        }
    }
    let padding_value = item
        .raw(tags::WAVEFORM_PADDING_VALUE)
        .and_then(|(_, raw)| encoding.sample(raw, big_endian));
    let channels = decoded
        .into_iter()
        .enumerate()
        .map(|(c, samples)| {
            let definition = definitions.get(c);
            let source = definition
                .and_then(|d| d.sequence(tags::CHANNEL_SOURCE_SEQUENCE).into_iter().next());
            let units = definition.and_then(|d| {
                d.sequence(tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE)
                    .into_iter()
                    .next()
            });
            let bits_stored = definition
                .and_then(|d| d.binary(tags::WAVEFORM_BITS_STORED))
                .and_then(|b| u16::try_from(b).ok());
            let (digital_min, digital_max) = encoding.digital_range(bits_stored.unwrap_or(bits));
            WaveformChannel {
                label: definition
                    .and_then(|d| d.text(tags::CHANNEL_LABEL))
                    .or_else(|| source.as_ref().and_then(|s| s.text(tags::CODE_MEANING)))
                    .unwrap_or_else(|| format!("channel {}", c + 1)),
                source_code: source.as_ref().and_then(|s| s.text(tags::CODE_VALUE)),
                sensitivity: definition.and_then(|d| d.decimal(tags::CHANNEL_SENSITIVITY)),
                sensitivity_units: units.as_ref().and_then(|u| u.text(tags::CODE_VALUE)),
                correction_factor: definition
                    .and_then(|d| d.decimal(tags::CHANNEL_SENSITIVITY_CORRECTION_FACTOR)),
                baseline: definition.and_then(|d| d.decimal(tags::CHANNEL_BASELINE)),
                bits_stored,
                digital_min,
                digital_max,
                samples,
            }
        })
        .collect();
    Ok(MultiplexGroupSamples {
        label: item.text(tags::MULTIPLEX_GROUP_LABEL),
        sampling_rate_hz: rate,
        encoding,
        padding_value,
        time_offset_ms: item.decimal(tags::MULTIPLEX_GROUP_TIME_OFFSET),
        channels,
    })
}

/// For ingest: a multiplex group whose Waveform Data is shorter than its declared channels ×
/// samples, as a one-line problem (the samples themselves are decoded by `check`).
pub(super) fn truncation(values: &Values<'_>) -> Option<String> {
    let items = items_of(values);
    waveform_items(values, &items)?
        .iter()
        .enumerate()
        .find_map(|(i, item)| match layout(i + 1, item) {
            Err(e @ WaveformError::Truncated { .. }) => Some(e.to_string()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_expands_to_the_reference_values() {
        // µ-law: 0x00 and 0x80 are the negative and positive extremes, 0xFF and 0x7F zero.
        assert_eq!(
            [0x00, 0x80, 0xFF, 0x7F, 0xEF, 0x6F].map(mu_law),
            [-32_124, 32_124, 0, 0, 132, -132]
        );
        // A-law: 0xD5 and 0x55 are ±8, 0xAA and 0x2A the extremes.
        assert_eq!(
            [0xD5, 0x55, 0xAA, 0x2A].map(a_law),
            [8, -8, 32_256, -32_256]
        );
        // Both are monotonic over their positive codes.
        let positive: Vec<i32> = (0x80..=0xFFu8).rev().map(mu_law).collect();
        assert!(positive.windows(2).all(|w| w[0] < w[1]), "{positive:?}");
    }

    #[test]
    fn sample_encodings_decode_both_byte_orders_and_ranges() {
        use SampleEncoding::*;
        assert_eq!(Signed16.sample(&[0xFE, 0xFF], false), Some(-2));
        assert_eq!(Signed16.sample(&[0xFF, 0xFE], true), Some(-2));
        assert_eq!(Unsigned16.sample(&[0xFE, 0xFF], false), Some(65_534));
        assert_eq!(Signed8.sample(&[0x80], false), Some(-128));
        assert_eq!(Unsigned8.sample(&[0x80], false), Some(128));
        assert_eq!(
            Signed32.sample(&(-70_000i32).to_le_bytes(), false),
            Some(-70_000)
        );
        assert_eq!(Unsigned32.sample(&u32::MAX.to_le_bytes(), false), None);
        assert_eq!(Signed64.sample(&(-5i64).to_be_bytes(), true), Some(-5));
        assert_eq!(Unsigned64.sample(&[1], false), None, "too few bytes");
        assert_eq!(Signed16.digital_range(12), (-2048, 2047));
        assert_eq!(Unsigned8.digital_range(8), (0, 255));
        assert_eq!(Signed16.digital_range(99), (-32_768, 32_767));
        assert_eq!(MuLaw8.digital_range(8), (-32_124, 32_124));
        assert_eq!(SampleEncoding::from_attributes(16, "SB"), None);
    }
}
