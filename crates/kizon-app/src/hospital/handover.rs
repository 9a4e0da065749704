//! `kizon deidentify`: the hospital makes a signed hand-over from the files of its cases.
//!
//! Each file is recognised by its content. DICOM (images and waveforms) is de-identified by
//! kizon-deid under the profile; each patient gets a pseudonym and a date shift from the
//! correspondence table. What kizon cannot de-identify safely never enters the hand-over: it
//! goes to the quarantine kept beside it (never inside), with the reason, for a person to review
//! (`kizon deidentify review`): a file that cannot be parsed, a DICOM file without Patient ID, an
//! image that says or may carry burned-in text (BurnedInAnnotation YES; ultrasound, secondary
//! capture, external-camera and endoscopy images, with no pixel rule for them yet), and the
//! kinds kizon does not de-identify yet (EDF, WFDB, MFER, video, tables).
//!
//! Killing it at any moment leaves no hand-over or a complete one: everything is written to a
//! hidden staging folder beside the output, the correspondence table is saved (atomically)
//! before the staging folder is renamed into place, and the quarantine before the hand-over.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use kizon_deid::Profile;
use kizon_deid::dicom::{Keys, Tally};
use kizon_formats::ItemKind;
use rayon::prelude::*;
use serde::Serialize;

use super::key_table::{HandoverRecord, KeyTable, StudyRecord};
use super::manifest::{self, FileEntry, Manifest, ProfileRecord, Removal};
use crate::AppError;
use crate::error::io;
use crate::ingest::Progress;
use crate::owner_key::{KeyPurpose, OwnerKey};

/// What to de-identify and where to.
#[derive(Debug, Clone)]
pub struct DeidentifyRequest {
    pub out: PathBuf,
    pub signing_key: PathBuf,
    pub key_table: PathBuf,
    /// The profile file; `None` for the default profile.
    pub profile: Option<PathBuf>,
    pub paths: Vec<PathBuf>,
}

/// The passphrases, asked by the shell.
pub struct Passphrases {
    pub signing_key: String,
    pub key_table: String,
}

/// What `deidentify` did.
#[derive(Debug, Clone, Serialize)]
pub struct HandoverSummary {
    pub out: String,
    pub quarantine: String,
    pub files: usize,
    pub patients: usize,
    pub new_patients: usize,
    pub quarantined: usize,
    pub counts_by_kind: BTreeMap<String, usize>,
    pub quarantine_reasons: BTreeMap<String, usize>,
    pub manifest_sha256: String,
    pub public_key: String,
}

/// The quarantine folder of a hand-over: beside it, never inside.
pub fn quarantine_of(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map_or("handover".into(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!("{name}.quarantine"))
}

/// The profile at `path`, or the default; errors name the file, line and column.
pub fn load_profile(path: Option<&Path>) -> Result<(Profile, String), AppError> {
    let Some(path) = path else {
        return Ok((
            Profile::default_profile(),
            kizon_deid::profile::DEFAULT_PROFILE.to_owned(),
        ));
    };
    let text = fs::read_to_string(path).map_err(io(path))?;
    let profile = Profile::parse(&text).map_err(|e| AppError::Refused {
        what: format!("{}: {e}", path.display()),
        hint: "compare with the default profile: kizon deidentify --print-profile".into(),
    })?;
    Ok((profile, text))
}

/// One source file, read and looked at.
struct Source {
    path: PathBuf,
    display: String,
    outcome: Outcome,
}

enum Outcome {
    /// A DICOM file to rewrite, with its patient's identifiers.
    Dicom {
        kind: ItemKind,
        identity: kizon_deid::dicom::Identity,
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

fn look(path: &Path, display: String) -> Source {
    let outcome = match fs::read(path) {
        Err(e) => Outcome::Quarantine(format!("cannot be read: {e}")),
        Ok(bytes) => {
            let inspection = kizon_formats::inspect(&bytes);
            match inspection.kind() {
                kind @ (ItemKind::Dicom | ItemKind::DicomWaveform) => {
                    match kizon_formats::dicom::tree::parse(&bytes) {
                        Err(problem) => {
                            Outcome::Quarantine(format!("DICOM that cannot be parsed: {problem}"))
                        }
                        Ok(parsed) => match burned_in_reason(&inspection.metadata) {
                            Some(reason) if kind == ItemKind::Dicom => Outcome::Quarantine(reason),
                            _ => Outcome::Dicom {
                                kind,
                                identity: kizon_deid::dicom::identity(&parsed),
                            },
                        },
                    }
                }
                ItemKind::Unknown => {
                    Outcome::Quarantine("not a kind of file kizon recognises".into())
                }
                other => Outcome::Quarantine(format!(
                    "{other}: kizon does not de-identify this kind yet"
                )),
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
struct Written {
    entry: FileEntry,
    tally: Tally,
}

/// Makes the signed hand-over of `request` (see the module doc).
pub fn deidentify(
    request: &DeidentifyRequest,
    passphrases: &Passphrases,
    progress: &dyn Progress,
) -> Result<HandoverSummary, AppError> {
    let out = &request.out;
    let quarantine = quarantine_of(out);
    for existing in [out, &quarantine] {
        if existing.exists() {
            return Err(AppError::Refused {
                what: format!("{}: already there", existing.display()),
                hint: "each hand-over gets a new folder: give another --out (a hand-over is never changed after it is signed)".into(),
            });
        }
    }
    let (profile, profile_text) = load_profile(request.profile.as_deref())?;
    let key = OwnerKey::unlock_for(
        &request.signing_key,
        &passphrases.signing_key,
        KeyPurpose::Provider,
    )?;
    let mut table = KeyTable::open_or_new(&request.key_table, &passphrases.key_table)?;
    if request.paths.is_empty() {
        return Err(AppError::Refused {
            what: "nothing to de-identify".into(),
            hint: "give the files or folders of the cases: kizon deidentify --out DIR --signing-key PREFIX.key --key-table FILE PATH...".into(),
        });
    }

    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let mut roots = Vec::new();
    for path in &request.paths {
        let root = fs::canonicalize(path).map_err(io(path))?;
        crate::ingest::collect_files(&root, &mut files, &mut skipped)?;
        roots.push(root);
    }
    files.sort();
    files.dedup();
    progress.start(files.len() as u64);

    // First pass, in parallel: what each file is, and whose.
    let sources: Vec<Source> = files
        .par_iter()
        .map(|file| {
            let display = crate::ingest::display_path(file, &roots);
            look(file, display)
        })
        .collect();

    // Pseudonyms in file order, so that numbering does not depend on thread timing.
    let now = now_rfc3339();
    let prefix = profile.pseudonyms.prefix.clone();
    let patients_before = table.patients.len();
    let mut assigned: Vec<Option<(String, i32)>> = Vec::with_capacity(sources.len());
    let mut reasons: Vec<Option<String>> = Vec::with_capacity(sources.len());
    for source in &sources {
        match &source.outcome {
            Outcome::Dicom { identity, .. } if identity.patient_id.is_empty() => {
                assigned.push(None);
                reasons.push(Some(
                    "DICOM without Patient ID (0010,0020): it cannot be given a pseudonym".into(),
                ));
            }
            Outcome::Dicom { identity, .. } => {
                let patient = table.patient(
                    &identity.patient_id,
                    &identity.issuer_of_patient_id,
                    &prefix,
                    profile.dates.shift_days,
                    &now,
                )?;
                assigned.push(Some((patient.pseudonym.clone(), patient.shift_days)));
                reasons.push(None);
            }
            Outcome::Quarantine(reason) => {
                assigned.push(None);
                reasons.push(Some(reason.clone()));
            }
        }
    }

    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    let name = out
        .file_name()
        .map_or("handover".into(), |n| n.to_string_lossy().into_owned());
    let staging = parent.join(format!(".{name}.staging-{}", std::process::id()));
    let quarantine_staging =
        parent.join(format!(".{name}.quarantine-staging-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    let _ = fs::remove_dir_all(&quarantine_staging);
    fs::create_dir_all(staging.join(manifest::FILES)).map_err(io(&staging))?;
    fs::create_dir_all(quarantine_staging.join("files")).map_err(io(&quarantine_staging))?;
    let result = write_handover(
        request,
        &profile,
        &profile_text,
        &key,
        &mut table,
        &sources,
        &assigned,
        &reasons,
        &staging,
        &quarantine_staging,
        &now,
        progress,
    );
    let summary = match result {
        Ok(summary) => summary,
        Err(error) => {
            let _ = fs::remove_dir_all(&staging);
            let _ = fs::remove_dir_all(&quarantine_staging);
            return Err(error);
        }
    };
    // The table first: a kill after this leaves no hand-over, and a rerun gives the same
    // patients the same pseudonyms; the reverse order could leave pseudonyms no table knows.
    table.save(&request.key_table, &passphrases.key_table)?;
    fs::rename(&quarantine_staging, &quarantine).map_err(io(&quarantine))?;
    fs::rename(&staging, out).map_err(io(out))?;
    if let Ok(dir) = fs::File::open(parent) {
        let _ = dir.sync_all();
    }
    progress.finish();
    Ok(HandoverSummary {
        out: out.display().to_string(),
        quarantine: quarantine.display().to_string(),
        new_patients: table.patients.len() - patients_before,
        ..summary
    })
}

#[allow(clippy::too_many_arguments)]
fn write_handover(
    request: &DeidentifyRequest,
    profile: &Profile,
    profile_text: &str,
    key: &OwnerKey,
    table: &mut KeyTable,
    sources: &[Source],
    assigned: &[Option<(String, i32)>],
    reasons: &[Option<String>],
    staging: &Path,
    quarantine_staging: &Path,
    now: &str,
    progress: &dyn Progress,
) -> Result<HandoverSummary, AppError> {
    let secret = table.secret_bytes();
    // Second pass, in parallel: rewrite and write each file; quarantine what cannot be.
    let outcomes: Vec<Result<Rewrite, AppError>> = sources
        .par_iter()
        .zip(assigned.par_iter())
        .map(|(source, assignment)| {
            let result = match (&source.outcome, assignment) {
                (Outcome::Dicom { kind, .. }, Some((pseudonym, shift_days))) => rewrite_dicom(
                    &source.path,
                    *kind,
                    profile,
                    &secret,
                    pseudonym,
                    *shift_days,
                    staging,
                ),
                _ => Ok(Err(String::new())),
            };
            progress.advance(1);
            result
        })
        .collect();

    let mut entries = Vec::new();
    let mut tally = Tally::new();
    let mut quarantined = Vec::new();
    let mut patients = BTreeSet::new();
    for ((source, outcome), (assignment, reason)) in sources
        .iter()
        .zip(outcomes)
        .zip(assigned.iter().zip(reasons))
    {
        match outcome? {
            Ok((written, study)) => {
                for (k, n) in written.tally {
                    *tally.entry(k).or_default() += n;
                }
                if let Some((pseudonym, _)) = assignment {
                    patients.insert(pseudonym.clone());
                    if let Some(patient) = table
                        .patients
                        .iter_mut()
                        .find(|p| &p.pseudonym == pseudonym)
                    {
                        patient.add_study(study.0);
                    }
                }
                entries.push(written.entry);
            }
            Err(rewrite_problem) => {
                let reason = reason.clone().unwrap_or(rewrite_problem);
                quarantined.push((source, reason));
            }
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));

    // The quarantine: copies of the originals, kept at the hospital, with the reasons.
    let mut quarantine_list = Vec::new();
    let mut quarantine_reasons: BTreeMap<String, usize> = BTreeMap::new();
    for (n, (source, reason)) in quarantined.iter().enumerate() {
        let stored = format!("files/{:05}", n + 1);
        fs::copy(&source.path, quarantine_staging.join(&stored)).map_err(io(&source.path))?;
        *quarantine_reasons.entry(reason_class(reason)).or_default() += 1;
        quarantine_list.push(super::review::QuarantinedFile {
            number: n + 1,
            original: source.display.clone(),
            stored,
            reason: reason.clone(),
            reviewed: None,
        });
    }
    super::review::write_list(quarantine_staging, &quarantine_list)?;

    let mut counts_by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for entry in &entries {
        *counts_by_kind.entry(entry.kind.clone()).or_default() += 1;
    }
    let removed: Vec<Removal> = tally
        .iter()
        .map(|((action, attribute), count)| Removal {
            action: action.as_str().to_owned(),
            attribute: attribute.clone(),
            count: *count,
        })
        .collect();
    let mut manifest = Manifest {
        format: manifest::FORMAT.into(),
        created_at: now.to_owned(),
        kizon_version: env!("CARGO_PKG_VERSION").into(),
        public_key: key.public_hex(),
        profile: ProfileRecord {
            sha256: crate::sha256_hex(profile_text.as_bytes()),
            options: profile
                .dicom
                .options
                .iter()
                .map(|o| o.as_str().to_owned())
                .collect(),
            text: profile_text.to_owned(),
        },
        files: entries,
        counts_by_kind: counts_by_kind.clone(),
        patients: patients.len(),
        removed,
        quarantined: quarantine_list.len(),
        quarantine_reasons: quarantine_reasons.clone(),
        record_sha256: String::new(),
    };
    let record = super::record::html(&manifest);
    manifest.record_sha256 = crate::sha256_hex(record.as_bytes());
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest).expect("the manifest serialises");
    manifest_bytes.push(b'\n');
    let manifest_sha256 = crate::sha256_hex(&manifest_bytes);
    let signature = manifest::signature_file(key, &manifest_sha256);
    for (name, bytes) in [
        (manifest::RECORD, record.as_bytes()),
        (manifest::MANIFEST, &manifest_bytes[..]),
        (manifest::SIGNATURE, &signature[..]),
    ] {
        let path = staging.join(name);
        write_synced(&path, bytes)?;
    }
    table.handovers.push(HandoverRecord {
        at: now.to_owned(),
        folder: request
            .out
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
        manifest_sha256: manifest_sha256.clone(),
        files: manifest.files.len(),
        quarantined: quarantine_list.len(),
    });
    Ok(HandoverSummary {
        out: String::new(),
        quarantine: String::new(),
        files: manifest.files.len(),
        patients: patients.len(),
        new_patients: 0,
        quarantined: quarantine_list.len(),
        counts_by_kind,
        quarantine_reasons,
        manifest_sha256,
        public_key: key.public_hex(),
    })
}

/// The study a rewritten file belongs to, for the correspondence table.
struct StudyNote(StudyRecord);

/// A file rewritten into the staging folder, or why it goes to the quarantine instead.
type Rewrite = Result<(Written, StudyNote), String>;

#[allow(clippy::too_many_arguments)]
fn rewrite_dicom(
    path: &Path,
    kind: ItemKind,
    profile: &Profile,
    secret: &[u8],
    pseudonym: &str,
    shift_days: i32,
    staging: &Path,
) -> Result<Rewrite, AppError> {
    let bytes = fs::read(path).map_err(io(path))?;
    let parsed = match kizon_formats::dicom::tree::parse(&bytes) {
        Ok(parsed) => parsed,
        Err(problem) => return Ok(Err(format!("DICOM that cannot be parsed: {problem}"))),
    };
    let identity = kizon_deid::dicom::identity(&parsed);
    let keys = Keys {
        secret,
        pseudonym,
        shift_days,
    };
    let rewritten = match kizon_deid::dicom::deidentify(&parsed, profile, &keys) {
        Ok(rewritten) => rewritten,
        Err(refusal) => return Ok(Err(refusal.to_string())),
    };
    let sha256 = crate::sha256_hex(&rewritten.bytes);
    // Named by a keyed hash of where the file came from: one name per source file (two copies
    // of one file stay two files, for the sponsor's Q7 duplicate checks), the same name in a
    // later hand-over, and nothing of the original path readable from it.
    let name = kizon_deid::uid::hmac_sha256(
        secret,
        &[b"kizon-file-name-v1\0", path.as_os_str().as_encoded_bytes()],
    );
    let relative = format!(
        "{}/{pseudonym}/{}.dcm",
        manifest::FILES,
        letters(&kizon_store::ledger::hex(&name[..10]))
    );
    let target = staging.join(&relative);
    if let Some(dir) = target.parent() {
        fs::create_dir_all(dir).map_err(io(dir))?;
    }
    fs::write(&target, &rewritten.bytes).map_err(io(&target))?;
    let study = StudyRecord {
        study_instance_uid: identity.study_instance_uid,
        new_study_instance_uid: rewritten.study_instance_uid,
        accession_number: identity.accession_number,
        study_date: identity.study_date,
    };
    Ok(Ok((
        Written {
            entry: FileEntry {
                path: relative,
                sha256,
                size: rewritten.bytes.len() as u64,
                kind: kind.as_str().to_owned(),
            },
            tally: rewritten.tally,
        },
        StudyNote(study),
    )))
}

/// Hex digits spelled as the letters a–p: a file name with no run of digits, which the Q1 check
/// would take for a patient ID.
fn letters(hex: &str) -> String {
    hex.bytes()
        .map(|b| {
            let nibble = (b as char).to_digit(16).unwrap_or(0) as u8;
            (b'a' + nibble) as char
        })
        .collect()
}

/// A reason without its particulars, for counts in the manifest (which never names a file).
fn reason_class(reason: &str) -> String {
    reason
        .split([':', '('])
        .next()
        .unwrap_or(reason)
        .trim()
        .to_owned()
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    use std::io::Write;
    let mut file = fs::File::create(path).map_err(io(path))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io(path))
}

/// Now, UTC, RFC 3339 to the second.
pub(crate) fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
