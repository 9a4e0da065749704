//! The metadata of an item: one flat record, each field present where it applies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Metadata of any kind of item. JSON keys are fixed (`kizon items --json`); absent fields are
/// omitted. Dates are `YYYY-MM-DD`, times `hh:mm:ss`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Metadata {
    // DICOM identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sop_class_uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sop_instance_uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub study_instance_uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series_instance_uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_syntax: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_part: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,

    // Dates and times as the item states them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub study_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub study_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquisition_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_date: Option<String>,
    /// Waveform or video start / creation, `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ss`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,

    // The patient, as far as the checks need.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_sex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_age_years: Option<f64>,
    /// Where `patient_age_years` comes from when the file gives no PatientAge: `birth-date`
    /// (derived from PatientBirthDate and the image's date). The birth date itself is never
    /// kept: it identifies a person (Q1), and the age is what the subgroups and checks need.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_age_source: Option<String>,
    /// True when PatientBirthDate is after the image's date (a chronological contradiction,
    /// Q7), said without the date.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub born_after_image: bool,

    // Image geometry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
    /// Instance Number (0020,0013): the image's place in its series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_number: Option<u64>,
    /// The third value of Image Position (Patient) (0020,0032), in mm: where a slice lies
    /// along the patient's axis, which orders the slices of a series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice_position_mm: Option<f64>,
    /// Row and column spacing in mm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pixel_spacing_mm: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice_thickness_mm: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photometric_interpretation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bits_allocated: Option<u16>,

    // Identifiability (Q1): which attributes carry a value, never the values.
    /// `YES`, `NO`, or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burned_in_annotation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identifying_attributes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_tags: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub private_creators: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_identity_removed: Option<String>,

    // Waveforms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampling_rate_hz: Option<f64>,
    /// Samples per channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channel_labels: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub multiplex_groups: Vec<MultiplexGroup>,
    /// The header as text (EDF fields, WFDB header), for the identifiability checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,

    // Video.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<String>,
    /// Metadata tags of the container (title, comment, author, location…), by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,

    // Tables.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub table_columns: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_rows: Option<u64>,

    // A residual specimen (`kizon specimens import`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specimen: Option<crate::specimen::SpecimenRecord>,

    // Records split over several files (WFDB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// `header`, `signal` or `annotation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Why stored metadata could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum StoredMetadataError {
    #[error("not metadata as kizon writes it: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("metadata of version {0}, written by a newer kizon (this one reads version {max})", max = Metadata::STORED_VERSION)]
    NewerVersion(u64),
}

impl Metadata {
    /// The version of the stored form ([`Metadata::to_stored`]). Version 1 is the JSON object
    /// of the fields above, written without a version key as every kizon so far wrote it; a
    /// later form adds `"v": 2`, which this version refuses rather than misreads.
    pub const STORED_VERSION: u64 = 1;

    /// The stored form: JSON, absent fields omitted.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).expect("metadata serialises")
    }

    /// Reads the stored form back. Anything that is not metadata (a value of the wrong type,
    /// text that is not JSON, a version kizon does not write) is an error, never a default;
    /// keys this version does not know are passed over, as earlier kizons wrote some.
    pub fn from_stored(text: &str) -> Result<Metadata, StoredMetadataError> {
        let mut value: serde_json::Value = serde_json::from_str(text)?;
        if let Some(version) = value.as_object_mut().and_then(|o| o.remove("v")) {
            match version.as_u64() {
                Some(Self::STORED_VERSION) => {}
                Some(newer) if newer > Self::STORED_VERSION => {
                    return Err(StoredMetadataError::NewerVersion(newer));
                }
                _ => {
                    return Err(StoredMetadataError::Malformed(serde::de::Error::custom(
                        format!("version `{version}` is not one kizon writes"),
                    )));
                }
            }
        }
        Ok(serde_json::from_value(value)?)
    }
}

/// One multiplex group of a DICOM waveform.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MultiplexGroup {
    pub label: Option<String>,
    pub channels: u32,
    pub samples: u64,
    pub sampling_rate_hz: f64,
    pub bits_allocated: u16,
    pub sample_interpretation: String,
}

/// Days since 0000-03-01 of a `YYYY-MM-DD` date (Hinnant's days-from-civil), for the intervals
/// between dates that the chronology checks and the derived age need. The month and day are
/// taken as written; [`calendar_day_number`] refuses impossible ones.
pub fn day_number(date: &str) -> Option<i64> {
    let mut parts = date.get(0..10)?.split('-');
    let (y, m, d): (i64, i64, i64) = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe)
}

/// [`day_number`] of a date whose month is 1–12 and day 1–31, else `None`.
pub fn calendar_day_number(date: &str) -> Option<i64> {
    let part = |range: std::ops::Range<usize>| date.get(range)?.parse::<u32>().ok();
    let (month, day) = (part(5..7)?, part(8..10)?);
    ((1..=12).contains(&month) && (1..=31).contains(&day))
        .then(|| day_number(date))
        .flatten()
}

#[cfg(test)]
mod stored_tests {
    use super::*;

    #[test]
    fn stored_metadata_reads_back_and_nothing_else_does() {
        let metadata = Metadata {
            modality: Some("CT".into()),
            patient_age_years: Some(61.0),
            ..Metadata::default()
        };
        let stored = metadata.to_stored();
        assert_eq!(Metadata::from_stored(&stored).unwrap(), metadata);
        // Version 1 may say so.
        assert_eq!(
            Metadata::from_stored(r#"{"v": 1, "modality": "CT", "patient_age_years": 61.0}"#)
                .unwrap(),
            metadata
        );
        assert!(matches!(
            Metadata::from_stored(r#"{"v": 2}"#),
            Err(StoredMetadataError::NewerVersion(2))
        ));
        // A value of the wrong type is not read as absent.
        assert!(Metadata::from_stored(r#"{"patient_age_years": "sixty"}"#).is_err());
        assert!(Metadata::from_stored("not json").is_err());
        assert!(Metadata::from_stored(r#"{"v": "1"}"#).is_err());
        assert!(matches!(
            Metadata::from_stored(r#"{"v": 0}"#),
            Err(StoredMetadataError::Malformed(_))
        ));
    }
}
