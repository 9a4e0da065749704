//! The hospital's files one by one: what each is, whose it is, and its de-identified form.
//!
//! [`look`] decides from the content (never the name) what a file is and whether kizon can
//! de-identify it safely; [`rewrite`] writes the de-identified file into the staging folder.
//! Whose a file is: the Patient ID inside it (DICOM, MFER, the EDF+ patient code), else the
//! folder directly under the folder given to `deidentify`, named by the patient's ID as PACS and
//! ECG/EEG exports lay them out. A file with neither goes to the quarantine.

use std::fs;
use std::path::{Path, PathBuf};

use kizon_deid::Profile;
use kizon_deid::dicom::{Keys, Tally};
use kizon_formats::ItemKind;

use super::key_table::StudyRecord;
use super::manifest::{self, FileEntry};
use crate::AppError;
use crate::error::io;

/// One source file, read and looked at.
pub(super) struct Source {
    pub path: PathBuf,
    /// Relative to the folder given (the quarantine list shows it; the hand-over never does).
    pub display: String,
    pub outcome: Outcome,
}

pub(super) enum Outcome {
    /// A DICOM file (image or waveform), with its patient's identifiers.
    Dicom {
        kind: ItemKind,
        identity: kizon_deid::dicom::Identity,
    },
    /// An EDF/BDF, MFER, WFDB header or ISO-BMFF video, with the patient ID it carries or its
    /// patient folder gives.
    Other {
        kind: ItemKind,
        patient: Option<String>,
    },
    /// A WFDB signal or annotation file: it goes with its header.
    Companion {
        header: PathBuf,
    },
    /// A CSV table: a patient per row (the profile's `[tables]` names the column).
    Table {
        patients: Vec<String>,
    },
    Quarantine(String),
}

/// The reason an image goes to the quarantine for burned-in text, if any (Q1).
fn burned_in_reason(metadata: &kizon_formats::Metadata) -> Option<String> {
    let said = metadata
        .burned_in_annotation
        .as_deref()
        .map(|v| v.trim().to_ascii_uppercase());
    if said.as_deref() == Some("YES") {
        return Some("burned-in annotation: BurnedInAnnotation is YES".into());
    }
    let modality = metadata.modality.as_deref().unwrap_or("").trim();
    let secondary_capture = metadata
        .sop_class_uid
        .as_deref()
        .is_some_and(|c| c.starts_with("1.2.840.10008.5.1.4.1.1.7"));
    let risky_modality = matches!(modality, "US" | "XC" | "ES" | "SC" | "OT" | "GM" | "SM");
    if (risky_modality || secondary_capture) && metadata.rows.is_some() {
        let what = if secondary_capture {
            "a secondary capture".to_owned()
        } else {
            format!("modality {modality}")
        };
        return Some(format!(
            "may carry burned-in text ({what}, BurnedInAnnotation {}); no pixel rule in the profile",
            said.as_deref().unwrap_or("absent")
        ));
    }
    None
}

/// The patient folder of a file: the first component of its path under the folder given, when
/// it is a folder (not the file itself).
fn patient_folder(display: &str) -> Option<String> {
    let mut parts = display.split('/');
    let first = parts.next()?;
    parts.next()?;
    (!first.is_empty() && first != "." && first != "..").then(|| first.to_owned())
}

/// Reads `path` and decides what it is (see the module doc). `companion_of` names the WFDB
/// header a signal or annotation file belongs to.
pub(super) fn look(
    path: &Path,
    display: String,
    companion_of: Option<&PathBuf>,
    profile: &Profile,
) -> Source {
    let outcome = match fs::read(path) {
        Err(e) => Outcome::Quarantine(format!("cannot be read: {e}")),
        Ok(bytes) => {
            let inspection = kizon_formats::inspect(&bytes);
            let folder = || patient_folder(&display);
            match inspection.kind() {
                _ if companion_of.is_some() && inspection.kind() != ItemKind::Wfdb => {
                    Outcome::Companion {
                        header: companion_of.expect("checked").clone(),
                    }
                }
                kind @ (ItemKind::Dicom | ItemKind::DicomWaveform) => {
                    match kizon_formats::dicom::tree::parse(&bytes) {
                        Err(problem) => {
                            Outcome::Quarantine(format!("DICOM that cannot be parsed: {problem}"))
                        }
                        Ok(parsed) => match burned_in_reason(&inspection.metadata) {
                            // a rule of the profile blanks where its text is: handed over
                            Some(reason)
                                if kind == ItemKind::Dicom
                                    && kizon_deid::pixels::matching_rule(
                                        &profile.pixels.blank,
                                        &parsed,
                                    )
                                    .is_none() =>
                            {
                                Outcome::Quarantine(reason)
                            }
                            _ => Outcome::Dicom {
                                kind,
                                identity: kizon_deid::dicom::identity(&parsed),
                            },
                        },
                    }
                }
                _ if inspection.problem.is_some() => Outcome::Quarantine(format!(
                    "{} that cannot be read: {}",
                    inspection.kind(),
                    inspection.problem.as_deref().unwrap_or_default()
                )),
                ItemKind::Edf => Outcome::Other {
                    kind: ItemKind::Edf,
                    patient: kizon_deid::edf::patient_code(&bytes).or_else(folder),
                },
                ItemKind::Mfer => Outcome::Other {
                    kind: ItemKind::Mfer,
                    patient: kizon_deid::mfer::patient_id(&bytes).or_else(folder),
                },
                ItemKind::Wfdb => Outcome::Other {
                    kind: ItemKind::Wfdb,
                    patient: folder(),
                },
                ItemKind::Video if bytes.get(4..8) == Some(b"ftyp") => Outcome::Other {
                    kind: ItemKind::Video,
                    patient: folder(),
                },
                ItemKind::Video => Outcome::Quarantine(
                    "video in a container kizon cannot clean (AVI, Matroska): convert it to MP4 at the hospital".into(),
                ),
                // A specimen is a row `kizon specimens import` reads, never a file's content.
                ItemKind::Unknown | ItemKind::Specimen => {
                    Outcome::Quarantine("not a kind of file kizon recognises".into())
                }
                ItemKind::Table => match kizon_deid::tables::patients(&bytes, profile) {
                    Ok(patients) => Outcome::Table { patients },
                    Err(problem) => Outcome::Quarantine(format!("table: {problem}")),
                },
            }
        }
    };
    Source {
        path: path.to_owned(),
        display,
        outcome,
    }
}

/// One file written into the staging folder.
pub(super) struct Written {
    pub entry: FileEntry,
    pub tally: Tally,
    /// The DICOM study it belongs to, for the correspondence table.
    pub study: Option<StudyRecord>,
}

/// A file rewritten into the staging folder, or why it goes to the quarantine instead.
pub(super) type Rewrite = Result<Written, String>;

/// What the rewrite of one file needs.
pub(super) struct Target<'a> {
    pub profile: &'a Profile,
    pub secret: &'a [u8],
    pub pseudonym: &'a str,
    pub shift_days: i32,
    pub staging: &'a Path,
    /// Each table row's patient: pseudonym and shift, by the patient ID the row gives.
    pub table_patients: &'a std::collections::HashMap<String, (String, i32)>,
}

/// Hex digits spelled as the letters a–p: a file name with no run of digits, which the Q1 check
/// would take for a patient ID.
fn letters(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0F])
        .map(|nibble| (b'a' + nibble) as char)
        .collect()
}

impl Target<'_> {
    /// A name by a keyed hash of where the file came from: one name per source file (two copies
    /// of one file stay two files, for the sponsor's Q7 duplicate checks), the same name in a
    /// later hand-over, and nothing of the original path readable from it.
    fn name_of(&self, path: &Path) -> String {
        let mac = kizon_deid::uid::hmac_sha256(
            self.secret,
            &[b"kizon-file-name-v1\0", path.as_os_str().as_encoded_bytes()],
        );
        letters(&mac[..10])
    }

    /// Writes `bytes` as `relative` in the staging folder and describes it for the manifest.
    fn write(&self, relative: String, kind: ItemKind, bytes: &[u8]) -> Result<FileEntry, AppError> {
        let target = self.staging.join(&relative);
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        fs::write(&target, bytes).map_err(io(&target))?;
        Ok(FileEntry {
            path: relative,
            sha256: crate::sha256_hex(bytes),
            size: bytes.len() as u64,
            kind: kind.as_str().to_owned(),
        })
    }
}

/// De-identifies `source` into the staging folder. `record_folder` is the folder a WFDB record
/// (its header and companions) goes to.
pub(super) fn rewrite(
    source: &Source,
    target: &Target<'_>,
    record_folder: Option<&str>,
) -> Result<Rewrite, AppError> {
    let path = &source.path;
    let bytes = fs::read(path).map_err(io(path))?;
    let files = manifest::FILES;
    let pseudonym = target.pseudonym;
    let (kind, relative, cleaned, study) = match &source.outcome {
        Outcome::Dicom { kind, .. } => {
            let parsed = match kizon_formats::dicom::tree::parse(&bytes) {
                Ok(parsed) => parsed,
                Err(problem) => return Ok(Err(format!("DICOM that cannot be parsed: {problem}"))),
            };
            let identity = kizon_deid::dicom::identity(&parsed);
            let keys = Keys {
                secret: target.secret,
                pseudonym,
                shift_days: target.shift_days,
            };
            let rewritten = match kizon_deid::dicom::deidentify(&parsed, target.profile, &keys) {
                Ok(rewritten) => rewritten,
                Err(refusal) => return Ok(Err(refusal.to_string())),
            };
            // Pixels blanked by a rule are read again by OCR (when installed): text that may
            // identify left outside the rule's rectangles keeps the file at the hospital.
            let blanked = rewritten
                .tally
                .keys()
                .any(|(action, _)| *action == kizon_deid::dicom::Action::PixelsBlanked);
            if blanked && let Some(engine) = crate::ocr::engine() {
                let left = crate::ocr::first_frame(&rewritten.bytes)
                    .and_then(|frame| crate::ocr::identifying_regions(&frame, engine));
                match left {
                    Ok(regions) if regions.is_empty() => {}
                    Ok(regions) => {
                        return Ok(Err(format!(
                            "burned-in text: after the profile's pixel rule, OCR still reads text that may identify at x,y width×height {} ({}): widen the rule's rectangles",
                            crate::ocr::describe_regions(&regions),
                            engine.describe()
                        )));
                    }
                    Err(problem) => {
                        return Ok(Err(format!(
                            "burned-in text: the blanked image could not be read back by OCR ({problem})"
                        )));
                    }
                }
            }
            let study = StudyRecord {
                study_instance_uid: identity.study_instance_uid,
                new_study_instance_uid: rewritten.study_instance_uid,
                accession_number: identity.accession_number,
                study_date: identity.study_date,
            };
            let relative = format!("{files}/{pseudonym}/{}.dcm", target.name_of(path));
            (
                *kind,
                relative,
                Ok((rewritten.bytes, rewritten.tally)),
                Some(study),
            )
        }
        Outcome::Other { kind, .. } => {
            let name = target.name_of(path);
            let (relative, cleaned) = match kind {
                ItemKind::Edf => {
                    let extension = if bytes.first() == Some(&0xFF) {
                        "bdf"
                    } else {
                        "edf"
                    };
                    (
                        format!("{files}/{pseudonym}/{name}.{extension}"),
                        kizon_deid::edf::deidentify(
                            &bytes,
                            target.profile,
                            pseudonym,
                            target.shift_days,
                        ),
                    )
                }
                ItemKind::Mfer => (
                    format!("{files}/{pseudonym}/{name}.mwf"),
                    kizon_deid::mfer::deidentify(
                        &bytes,
                        target.profile,
                        pseudonym,
                        target.shift_days,
                    ),
                ),
                ItemKind::Video => (
                    format!("{files}/{pseudonym}/{name}.mp4"),
                    kizon_deid::video::deidentify(&bytes, target.profile, target.shift_days),
                ),
                ItemKind::Wfdb => {
                    let file_name = path
                        .file_name()
                        .map_or("record.hea".into(), |n| n.to_string_lossy().into_owned());
                    let text = String::from_utf8_lossy(&bytes);
                    (
                        format!(
                            "{files}/{pseudonym}/{}/{file_name}",
                            record_folder.unwrap_or(&name)
                        ),
                        kizon_deid::wfdb::deidentify(&text, target.profile, target.shift_days)
                            .map(|(text, tally)| (text.into_bytes(), tally)),
                    )
                }
                other => {
                    return Ok(Err(format!(
                        "{other}: kizon does not de-identify this kind yet"
                    )));
                }
            };
            (*kind, relative, cleaned, None)
        }
        Outcome::Table { .. } => {
            let lookup = |id: &str| target.table_patients.get(id).cloned();
            let relative = format!("{files}/tables/{}.csv", target.name_of(path));
            let cleaned =
                kizon_deid::tables::deidentify(&bytes, target.profile, target.secret, &lookup);
            (ItemKind::Table, relative, cleaned, None)
        }
        Outcome::Companion { .. } => {
            // A WFDB signal or annotation file: copied as it is, beside its header (the header
            // names it), so it keeps its name.
            let file_name = path
                .file_name()
                .map_or("signal".into(), |n| n.to_string_lossy().into_owned());
            let relative = format!(
                "{files}/{pseudonym}/{}/{file_name}",
                record_folder.unwrap_or("record")
            );
            (
                ItemKind::Wfdb,
                relative,
                Ok((bytes.clone(), Tally::new())),
                None,
            )
        }
        Outcome::Quarantine(reason) => return Ok(Err(reason.clone())),
    };
    let (cleaned, tally) = match cleaned {
        Ok(cleaned) => cleaned,
        Err(problem) => {
            return Ok(Err(format!(
                "{kind} that cannot be de-identified: {problem}"
            )));
        }
    };
    let entry = target.write(relative, kind, &cleaned)?;
    Ok(Ok(Written {
        entry,
        tally,
        study,
    }))
}

/// The folder name of a WFDB record in the hand-over: a keyed hash of its header's path, so two
/// records of one name from two folders do not collide.
pub(super) fn record_folder(secret: &[u8], header: &Path) -> String {
    let mac = kizon_deid::uid::hmac_sha256(
        secret,
        &[
            b"kizon-record-folder-v1\0",
            header.as_os_str().as_encoded_bytes(),
        ],
    );
    letters(&mac[..6])
}
