//! Biosignal file formats for kizon: read (and for tests and demo data, write) the ECG/EEG files a
//! diagnostic device's performance is proven on.
//!
//! # Invariant: pure over bytes
//! This crate never opens a file. Every reader takes `&[u8]` (or `&str` for a text header): kizon's
//! ingest has already read and hashed the file, and passes the very bytes it hashed, so what is
//! parsed is exactly what is recorded in the audit trail.
//!
//! # Invariant: no panic on any input
//! Files come from third parties and may be truncated or corrupt. Readers return [`Error`] instead
//! of panicking: all slicing goes through bounds-checked helpers, arithmetic on header values is
//! checked or saturating, and no allocation is sized from a header-declared count without first
//! capping it by the bytes actually present. `tests/robustness.rs` checks this on truncated,
//! bit-flipped and random inputs.
//!
//! # Modules
//! - [`signal`]: the format-independent [`WaveformInfo`] and [`Channel`].
//! - [`edf`]: EDF, EDF+, BDF, BDF+ headers, patient/recording subfields, TAL annotations, samples,
//!   and a small EDF/EDF+ writer.
//! - [`wfdb`]: PhysioNet WFDB headers, signal formats (212, 16, 8, 80, 61, 24, 32, 310, 311) and
//!   MIT annotation files.
//! - [`mfer`]: MFER (ISO 22077-1, the Japanese standard medical waveform format) reader and writer.
//! - [`quality`]: flat-line and clipping measures and the canonical signal form to hash.

#![forbid(unsafe_code)]

mod bytes;
mod datetime;
pub mod edf;
mod error;
pub mod mfer;
pub mod quality;
pub mod signal;
pub mod wfdb;

/// The mark a de-identifier writes beside a pseudonym in a waveform header (an EDF+ patient
/// field's additional subfield, an MFER comment): the patient code or ID is the data provider's
/// pseudonym, not the hospital's own identifier, so the Q1 check does not take it for one.
/// kizon-deid writes it; kizon-formats reads it.
pub const PSEUDONYM_MARK: &str = "PSEUDONYM";

pub use error::{Error, Result};
pub use signal::{Channel, ChannelSamples, Format, WaveformInfo};
