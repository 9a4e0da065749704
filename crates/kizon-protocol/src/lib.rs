//! The protocol (性能評価試験計画書) of a performance evaluation test, as written in `study.toml`.
//!
//! This crate turns the text of `study.toml` into a typed [`Protocol`], or into a
//! [`ProtocolError`] that names the line and column (unknown keys, wrong types) or both keys of a
//! contradiction (a confirmed diagnosis as reference without linked clinical information, say).
//! It does no I/O: callers pass the text and attach the file name to the error.
//!
//! - [`vocabulary`]: the fixed words of `[device]` and `[design]` (`novelty`, `reference_standard`, …).
//! - [`consistency`]: the rules by which a protocol contradicts itself, each citing its Q&A item.
//! - [`lint`]: warnings on a valid protocol (the template's text left in place, two languages in
//!   one string).
//! - [`TEMPLATE`]: the commented, bilingual study.toml that `kizon init` writes.

#![forbid(unsafe_code)]

mod consistency;
pub mod lint;
mod method_comparison;
mod raw;
mod reading;
mod specimens;
pub mod vocabulary;

use serde::Serialize;

pub use consistency::Contradiction;
pub use kizon_vocab::ComparisonMethod;
pub use method_comparison::MethodComparisonPlan;
pub use reading::{
    CaseRead, NAMED_WINDOWS, RatingScale, ReadingPlan, ReadingSession, WindowPreset,
};
pub use specimens::{HilLimits, SpecimenPlan};
pub use vocabulary::{
    CaseOrder, CiMethod, Consensus, CorrespondenceTable, DataKind, DuplicateMarks, LesionCriterion,
    LesionUnits, Metric, Novelty, Privacy, ReferenceStandard, SourceDataVerification, Subgroup,
};

/// The commented study.toml template (comments in Japanese and English).
pub const TEMPLATE: &str = include_str!("template.toml");

/// A protocol that parsed and is consistent with itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Protocol {
    pub study: Study,
    pub device: Device,
    pub design: Design,
    pub eligibility: Eligibility,
    pub endpoints: Vec<Endpoint>,
    /// Overrides of the data-check parameters (`[checks]`); absent keys keep the defaults.
    pub checks: CheckParameters,
    /// How the reference standard is decided (`[reference]`).
    pub reference: ReferencePlan,
    /// Subgroups and options of `kizon analyze` (`[analysis]`).
    pub analysis: AnalysisPlan,
    /// Result tables of specimens or analysers (`[[tables]]`): their columns and reportable ranges.
    pub tables: Vec<TableSpec>,
    /// Lesion-level evaluation (`[lesions]`): absent when the study judges cases only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lesions: Option<LesionPlan>,
    /// How the number of cases was set (`[sample_size]`), for the report's rationale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_size: Option<SampleSizePlan>,
    /// How the panel reads (`[reading]`): conditions and the order cases are shown in.
    pub reading: ReadingPlan,
    /// Residual specimens (`[specimens]`): collection start, measuring interval, units and
    /// pre-analytical limits; absent when the study collects none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specimens: Option<SpecimenPlan>,
    /// The quantitative comparisons with the comparator (`[[method_comparison]]`, 相関性試験).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub method_comparisons: Vec<MethodComparisonPlan>,
}

/// `[sample_size]`: the assumptions behind the number of cases. kizon recomputes the cases the
/// primary endpoint's acceptance criterion needs from them (exact binomial, Flahault, Cadilhac
/// & Thomas 2005) and prints the calculation in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSizePlan {
    /// The primary endpoint's expected value (e.g. the sensitivity the device is believed to
    /// have).
    pub expected: f64,
    /// The probability of meeting the acceptance criterion when `expected` is true.
    pub power: f64,
    /// The expected share of reference-positive cases, to go from one class to all cases.
    pub prevalence: Option<f64>,
    /// The cases the protocol plans to collect.
    pub planned_cases: Option<u64>,
    /// The sponsor's own words on the choice (literature, pilot data).
    pub rationale: Option<BilingualText>,
}

/// `[lesions]`: how marks are located on lesions (Q4's lesion detection: a device that flags
/// the right image at the wrong place has not detected the lesion). One criterion serves both
/// the panel's consensus (marks of different readers on one lesion) and the matching of device
/// marks to the reference lesions (FROC).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LesionPlan {
    pub criterion: LesionCriterion,
    /// For `distance`: the largest centre distance, in `units`.
    pub radius: Option<f64>,
    /// For `iou`: the smallest intersection over union.
    pub threshold: Option<f64>,
    pub units: LesionUnits,
    /// Panel readers who must mark a lesion for it to enter the reference standard.
    pub k: u32,
    /// Whether an adjudicator's mark admits a lesion fewer than `k` readers marked.
    pub adjudication: bool,
    pub duplicates: DuplicateMarks,
    /// Device marks rated at or above it count at the operating point (lesion-level
    /// sensitivity, false positives per image, per-case calls); absent: every mark.
    pub rating_threshold: Option<f64>,
    /// The lesion types a reader chooses from when marking (`types`); empty: free.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
}

/// `[[tables]]`: a CSV table of specimen or analyser results the study collects. `kizon check`
/// reports a table that lacks a declared column, and a value outside the analyser's reportable
/// range (Q7, medically implausible data).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    pub name: String,
    /// Columns every such table must have (header names).
    pub columns: Vec<String>,
    /// Per numeric column, the reportable range `[low, high]` of the analyser.
    #[serde(default)]
    pub reportable_range: std::collections::BTreeMap<String, [f64; 2]>,
}

/// `[reference]`: how an expert panel's reads become each case's reference standard. Ignored
/// when the reference standard is a confirmed diagnosis or a comparator method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferencePlan {
    pub consensus: Consensus,
    /// For `k-of-n`: positive reads needed.
    pub k: Option<u32>,
    /// Panel reads a case needs before its consensus counts (default 3).
    pub minimum_reads: u32,
}

impl Default for ReferencePlan {
    fn default() -> Self {
        ReferencePlan {
            consensus: Consensus::Majority,
            k: None,
            minimum_reads: 3,
        }
    }
}

/// `[analysis]`: what `kizon analyze` reports besides the endpoints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisPlan {
    /// Case attributes to report subgroups by.
    pub subgroups: Vec<Subgroup>,
    /// Age cut points in years for the `age-band` subgroup: `[40, 65]` gives <40, 40–64, ≥65.
    pub age_bands: Vec<f64>,
    /// A device score at or above this is a positive result when the device gives no label.
    pub score_threshold: Option<f64>,
    /// Bootstrap replicates for clustered intervals (a patient with several cases).
    pub bootstrap_replicates: u32,
    /// Seed of the bootstrap, fixed so that a rerun gives the same numbers.
    pub seed: u64,
}

impl Default for AnalysisPlan {
    fn default() -> Self {
        AnalysisPlan {
            subgroups: Vec::new(),
            age_bands: vec![40.0, 65.0],
            score_threshold: None,
            bootstrap_replicates: 2000,
            seed: 20_261_125,
        }
    }
}

/// `[checks]`: the parameters of `kizon check` that a protocol may set. Every key is optional;
/// the defaults are documented in the template and in kizon-checks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckParameters {
    pub diagnosis_days_before: Option<i64>,
    pub diagnosis_days_after: Option<i64>,
    pub age_years: Option<[f64; 2]>,
    pub pixel_spacing_mm: Option<[f64; 2]>,
    pub sampling_rate_hz: Option<[f64; 2]>,
    pub slice_thickness_mm: Option<[f64; 2]>,
    pub flat_line_s: Option<f64>,
    pub clipping_fraction: Option<f64>,
    pub clipping_s: Option<f64>,
    /// Perceptual hashes this many bits apart or closer are near duplicates (0: off).
    pub near_duplicate_bits: Option<u32>,
    pub burned_in_modalities: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Study {
    pub id: String,
    pub title: String,
    pub title_en: Option<String>,
    pub sponsor: String,
    /// The applicant's name in English, for the English report (`sponsor_en`).
    pub sponsor_en: Option<String>,
    /// The protocol's date; the regulatory rules in force on it apply. `None`: today.
    pub planned_on: Option<time::Date>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    pub name: String,
    pub version: Option<String>,
    pub novelty: Novelty,
    pub intended_use: Option<String>,
    /// The intended use in English, for the English report (`intended_use_en`).
    pub intended_use_en: Option<String>,
}

/// The keys that decide the regulatory path (Q4, Q5, Q10, Q11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Design {
    pub linked_clinical_info: bool,
    pub reference_standard: ReferenceStandard,
    pub privacy: Privacy,
    pub correspondence_table: CorrespondenceTable,
    pub data_kinds: Vec<DataKind>,
    /// Whether and how far the clinical information is checked against the source records
    /// (SDV), and why (Q7); `None` when the protocol does not say.
    pub source_data_verification: Option<SourceDataVerification>,
    pub source_data_verification_reason: Option<BilingualText>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Eligibility {
    pub inclusion: Vec<BilingualText>,
    pub exclusion: Vec<BilingualText>,
}

/// Text the protocol gives as written, and in English when it gives both (`{ ja = "…", en =
/// "…" }`): two fields, never one string split at a separator. Without `en`, both reports
/// print `text` as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BilingualText {
    pub text: String,
    pub en: Option<String>,
}

impl BilingualText {
    /// The English text, else the text as written.
    pub fn english(&self) -> &str {
        self.en.as_deref().unwrap_or(&self.text)
    }
}

/// An endpoint with its acceptance criterion, fixed before any result is seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    pub id: String,
    pub primary: bool,
    pub metric: Metric,
    pub ci: CiMethod,
    pub level: f64,
    pub lower_bound_at_least: Option<f64>,
    pub estimate_at_least: Option<f64>,
}

/// A position in study.toml, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// The line and column of a byte offset in `source` (an offset inside a character counts as
    /// that character).
    pub fn of_offset(source: &str, offset: usize) -> Location {
        let mut offset = offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location { line, column }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why a study.toml was not accepted. `Display` is one line; [`ProtocolError::hint`] says what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProtocolError {
    /// Not valid TOML, an unknown key, a missing key or a value of the wrong type.
    #[error("{location}: {message}")]
    Syntax { location: Location, message: String },
    /// A value of the right type that is not allowed.
    #[error("{location}: `{key}`: {message}")]
    Invalid {
        location: Location,
        key: String,
        message: String,
        hint: String,
    },
    /// Two keys that cannot both hold.
    #[error("{}", .0)]
    Contradiction(Box<Contradiction>),
}

impl ProtocolError {
    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            ProtocolError::Syntax { .. } => {
                "compare with the commented template (`kizon init --print-template`)".to_owned()
            }
            ProtocolError::Invalid { hint, .. } => hint.clone(),
            ProtocolError::Contradiction(c) => c.hint.to_owned(),
        }
    }
}

impl Protocol {
    /// Parses study.toml text and checks that it does not contradict itself.
    pub fn parse(source: &str) -> Result<Protocol, ProtocolError> {
        let raw: raw::RawProtocol = toml::from_str(source).map_err(|e| {
            let location = Location::of_offset(source, e.span().map_or(0, |s| s.start));
            ProtocolError::Syntax {
                location,
                message: e.message().trim().replace('\n', " "),
            }
        })?;
        raw.into_protocol(source)
    }

    /// The endpoint marked primary, or else the first.
    pub fn primary_endpoint(&self) -> Option<&Endpoint> {
        self.endpoints
            .iter()
            .find(|e| e.primary)
            .or(self.endpoints.first())
    }
}

#[cfg(test)]
mod tests;
