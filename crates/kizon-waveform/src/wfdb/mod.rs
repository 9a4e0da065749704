//! PhysioNet WFDB records: a text header (`.hea`), binary signal files, and optional annotation
//! files (`.atr` and others) in the MIT format.
//!
//! - [`WfdbHeader::parse`] reads the header; [`WfdbHeader::companion_files`] lists the signal
//!   files the caller must supply; [`WfdbHeader::info`] gives the common [`crate::WaveformInfo`].
//! - [`read_signal_file`] decodes the signals stored in one file (formats 8, 16, 24, 32, 61, 80,
//!   160, 212, 310, 311) and verifies the header checksums.
//! - [`read_mit_annotations`] reads an annotation file; [`is_beat`] is WFDB's `isqrs`.
//!
//! The header is text: callers holding bytes decode it with `String::from_utf8_lossy`, which
//! keeps any non-ASCII comment visible to the identifiability checks.

mod annotation;
mod header;
mod signal;

pub use annotation::{MitAnnotation, MitAnnotations, is_beat, mnemonic, read_mit_annotations};
pub use header::{DEFAULT_FS, WfdbHeader, WfdbSegment, WfdbSignal};
pub use signal::{WfdbSamples, checksum, read_signal_file};
