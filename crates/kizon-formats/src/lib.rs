//! Recognises existing medical data by its content and extracts the metadata the checks need.
//!
//! [`inspect`] takes a file's bytes (the caller has read and hashed them) and returns an
//! [`Inspection`]: the [`ItemKind`] recognised from the content — never from the file name — and its
//! [`Metadata`]. Nothing here reads files or panics on bad input: a file that cannot be parsed is
//! still inspected, with a `problem` that the checks turn into a finding.
//!
//! One module per format:
//! - [`dicom`]: DICOM with or without the 128-byte preamble, with or without file meta, and
//!   DICOM waveforms (dicom-rs for the parsing). [`dicom::waveform`] decodes a waveform's
//!   samples (PS3.3 C.10.9) for `check`.
//! - [`video`]: ISO-BMFF (MP4, QuickTime MOV, M4V, 3GP) box parsing; AVI and Matroska/WebM are
//!   recognised by signature with no metadata.
//! - [`table`]: CSV tables of specimen or analyser results.
//! - [`specimen`]: a residual specimen's record (pre-analytical facts and results), typed.
//! - [`signature`]: EDF/BDF, WFDB headers and MFER, recognised here and parsed by kizon-waveform.
//!
//! Identifying values (names, IDs) never enter [`Metadata`]: it records *which* identifying
//! attributes carry a value, so that findings and logs can name them without repeating them
//! (Q1). The one identifier kept, [`Inspection::patient_id`], is for grouping cases and is
//! hashed by the caller before it is stored.

#![forbid(unsafe_code)]

pub mod dicom;
mod metadata;
pub mod signature;
pub mod specimen;
pub mod table;
pub mod video;

pub use metadata::{
    Metadata, MultiplexGroup, StoredMetadataError, calendar_day_number, day_number,
};

pub use kizon_vocab::ItemKind;

/// What a file turned out to be.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inspection {
    pub kind: Option<ItemKind>,
    pub metadata: Metadata,
    /// Why the content could not be fully read (truncated, malformed); `None` when it could.
    pub problem: Option<String>,
    /// The patient identifier as the file states it (DICOM PatientID), for grouping into cases.
    /// Never stored as is.
    pub patient_id: Option<String>,
}

impl Inspection {
    pub fn kind(&self) -> ItemKind {
        self.kind.unwrap_or(ItemKind::Unknown)
    }

    fn unknown(problem: impl Into<String>) -> Inspection {
        Inspection {
            kind: Some(ItemKind::Unknown),
            problem: Some(problem.into()),
            ..Default::default()
        }
    }
}

/// Recognises `bytes` and extracts its metadata. Dispatch is by content signature, in order of
/// specificity; a file that matches none is [`ItemKind::Unknown`].
pub fn inspect(bytes: &[u8]) -> Inspection {
    if let Some(layout) = dicom::detect(bytes) {
        return dicom::inspect(bytes, layout);
    }
    if let Some(inspection) = signature::inspect_waveform(bytes) {
        return inspection;
    }
    if let Some(inspection) = video::inspect(bytes) {
        return inspection;
    }
    if let Some(inspection) = table::inspect(bytes) {
        return inspection;
    }
    Inspection::unknown("not a recognised format (DICOM, EDF/BDF, WFDB header, MFER, MP4/MOV, CSV)")
}
