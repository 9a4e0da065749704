//! `kizon deidentify`: the hospital makes a signed hand-over from the files of its cases, given
//! as folders or pulled from the PACS ([`super::dicomweb`]).
//!
//! Each file is recognised by its content and de-identified by kizon-deid under the profile
//! ([`super::sources`] says how each kind is handled and whose each file is): DICOM images and
//! waveforms, EDF/EDF+/BDF, WFDB records (the header cleaned, its signal and annotation files
//! beside it), MFER, MP4/MOV video and CSV tables (by the profile's columns). Each patient gets a
//! pseudonym and a date shift from the correspondence table; the hospital's case list, when
//! given, goes along with its dates shifted alike. What kizon cannot de-identify safely never
//! enters the hand-over: it goes to the quarantine kept beside it (never inside), with the
//! reason, for a person to review (`kizon deidentify review`): a file that cannot be parsed, a
//! file whose patient is unknown or in no row of the case list, an image that says or may carry
//! burned-in text (BurnedInAnnotation YES; ultrasound, secondary capture, external-camera and
//! endoscopy images) with no pixel rule of the profile for it, or with identifying text OCR still
//! reads after the rule, AVI and Matroska video, and tables when the profile names no patient
//! column.
//!
//! Killing it at any moment leaves no hand-over or a complete one: everything is written to a
//! hidden staging folder beside the output, the correspondence table is saved (atomically)
//! before the staging folder is renamed into place, and the quarantine before the hand-over; the
//! next run into the same output removes what a killed one left.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use kizon_deid::Profile;
use kizon_deid::dicom::Tally;
use kizon_formats::ItemKind;
use rayon::prelude::*;
use serde::Serialize;

use super::key_table::{HandoverRecord, KeyTable};
use super::manifest::{self, Manifest, ProfileRecord, Removal};
use super::sources::{self, Outcome, Rewrite, Source, Target};
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
    /// Pull the cases from a PACS instead: its DICOMweb root and the list of accession numbers
    /// (or `patient:ID`) to find.
    pub from_dicomweb: Option<(String, PathBuf)>,
    /// The hospital's case list (the ingest manifest's columns: case_id, path, dates,
    /// diagnosis…): handed over with its paths pointing into the hand-over and its dates shifted
    /// with each file's patient.
    pub case_list: Option<PathBuf>,
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
    /// What was pulled from the PACS, when the cases came from there.
    pub pulled: Option<super::dicomweb::Pulled>,
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

/// Every source's patient (pseudonym and shift), or the reason it is kept back; and the patient
/// of every table row, by the patient ID the row gives.
struct Assignments {
    assigned: Vec<Option<(String, i32)>>,
    reasons: Vec<Option<String>>,
    table_patients: std::collections::HashMap<String, (String, i32)>,
    case_list: Option<Vec<crate::ingest::ManifestRow>>,
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
    // Both derive a key from a passphrase (Argon2id, a tenth of a second each): side by side.
    let (key, table) = rayon::join(
        || {
            OwnerKey::unlock_for(
                &request.signing_key,
                &passphrases.signing_key,
                KeyPurpose::Provider,
            )
        },
        || KeyTable::open_or_new(&request.key_table, &passphrases.key_table),
    );
    let key = key?;
    let mut table = table?;
    remove_leftovers(out);
    let case_list = match &request.case_list {
        Some(path) => Some(crate::ingest::read_manifest(path, None)?),
        None => None,
    };
    // Cases from the PACS: pulled into a private folder, removed when this function returns
    // (a killed run's folder is removed by the next run into the same --out).
    let mut paths = request.paths.clone();
    let mut pulled = None;
    let _pull_folder = match &request.from_dicomweb {
        Some((url, list)) => {
            let queries = super::dicomweb::read_list(list)?;
            let folder = super::dicomweb::PullFolder::beside(out)?;
            pulled = Some(super::dicomweb::pull(url, &queries, &folder.0)?);
            paths = vec![folder.0.clone()];
            Some(folder)
        }
        None => None,
    };
    if paths.is_empty() {
        return Err(AppError::Refused {
            what: "nothing to de-identify".into(),
            hint: "give the files or folders of the cases: kizon deidentify --out DIR --signing-key PREFIX.key --key-table FILE PATH...".into(),
        });
    }

    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let mut roots = Vec::new();
    for path in &paths {
        let root = fs::canonicalize(path).map_err(io(path))?;
        crate::ingest::collect_files(&root, &mut files, &mut skipped)?;
        roots.push(root);
    }
    files.sort();
    files.dedup();
    // A case list is never data: the one given, and any CSV whose header is a kizon manifest's
    // (`case_id` and `path`), as at ingest.
    let given_list = request
        .case_list
        .as_deref()
        .and_then(|l| fs::canonicalize(l).ok());
    files.retain(|f| {
        given_list.as_deref() != Some(f.as_path()) && !crate::ingest::looks_like_manifest(f)
    });
    // A WFDB record is its header with the signal and annotation files it names.
    let wfdb = crate::ingest::add_wfdb_companions(&mut files);
    files.dedup();
    progress.start(files.len() as u64);

    // First pass, in parallel: what each file is, and whose.
    let sources: Vec<Source> = files
        .par_iter()
        .map(|file| {
            let display = crate::ingest::display_path(file, &roots);
            sources::look(file, display, wfdb.headers_of.get(file), &profile)
        })
        .collect();

    // Pseudonyms in file order, so that numbering does not depend on thread timing.
    let now = now_rfc3339();
    let prefix = profile.pseudonyms.prefix.clone();
    let patients_before = table.patients.len();
    let mut assigned: Vec<Option<(String, i32)>> = Vec::with_capacity(sources.len());
    let mut table_patients: std::collections::HashMap<String, (String, i32)> =
        std::collections::HashMap::new();
    let mut reasons: Vec<Option<String>> = Vec::with_capacity(sources.len());
    let case_index = case_list.as_deref().map(crate::ingest::ManifestIndex::new);
    for source in &sources {
        // With a case list, a file in none of its rows is kept back (ingest would refuse it),
        // and its patient gets no pseudonym for it.
        if case_list.is_some() {
            let file = match &source.outcome {
                Outcome::Companion { header } => header.as_path(),
                _ => source.path.as_path(),
            };
            if case_index.as_ref().and_then(|i| i.row(file)).is_none() {
                assigned.push(None);
                reasons.push(Some("in no row of the case list (--case-list)".into()));
                continue;
            }
        }
        let (patient, issuer) = match &source.outcome {
            Outcome::Dicom { identity, .. } if identity.patient_id.is_empty() => {
                assigned.push(None);
                reasons.push(Some(
                    "DICOM without Patient ID (0010,0020): it cannot be given a pseudonym".into(),
                ));
                continue;
            }
            Outcome::Dicom { identity, .. } => (
                identity.patient_id.clone(),
                identity.issuer_of_patient_id.clone(),
            ),
            Outcome::Other {
                patient: None,
                kind,
            } => {
                assigned.push(None);
                reasons.push(Some(format!(
                    "{kind} with no patient ID in it, outside a patient's folder: put each patient's files in a folder named by the patient ID"
                )));
                continue;
            }
            Outcome::Other {
                patient: Some(patient),
                ..
            } => (patient.clone(), String::new()),
            // Every row's patient of a table; the table itself belongs to none of them.
            Outcome::Table { patients } => {
                for id in patients {
                    let patient = table.patient(id, "", &prefix, profile.dates.shift_days, &now)?;
                    let entry = (patient.pseudonym.clone(), patient.shift_days);
                    table_patients.insert(id.clone(), entry);
                }
                assigned.push(Some(("tables".to_owned(), 0)));
                reasons.push(None);
                continue;
            }
            // A companion takes its header's patient once the headers are assigned (below).
            Outcome::Companion { .. } => {
                assigned.push(None);
                reasons.push(None);
                continue;
            }
            Outcome::Quarantine(reason) => {
                assigned.push(None);
                reasons.push(Some(reason.clone()));
                continue;
            }
        };
        let patient = table.patient(&patient, &issuer, &prefix, profile.dates.shift_days, &now)?;
        assigned.push(Some((patient.pseudonym.clone(), patient.shift_days)));
        reasons.push(None);
    }
    let position: std::collections::HashMap<&Path, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.path.as_path(), i))
        .collect();
    for (i, source) in sources.iter().enumerate() {
        if let Outcome::Companion { header } = &source.outcome {
            let header_index = position.get(header.as_path()).copied();
            match header_index.and_then(|h| assigned[h].clone()) {
                Some(assignment) => assigned[i] = Some(assignment),
                None => {
                    reasons[i] =
                        Some("a WFDB signal or annotation file whose header was kept back".into())
                }
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
    let assignments = Assignments {
        assigned,
        reasons,
        table_patients,
        case_list,
    };
    let result = write_handover(
        request,
        &profile,
        &profile_text,
        &key,
        &mut table,
        &sources,
        &assignments,
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
        pulled,
        ..summary
    })
}

/// One row of the handed-over case list: the case, the file's path in the hand-over, and the
/// row's other columns under the profile's table rules, as a table of the hospital would be:
/// the `drop` columns removed, the `pseudonymise` ones replaced by their keyed token, the patient
/// column (the profile's `patient`, `patient_key`, `patient_id`) by the file's pseudonym or
/// emptied (Q1), and every date (`*_date` and `shift_dates`, ISO after the manifest reader) moved
/// by the file's patient's shift, or left out when it cannot be (no shift: a table of several
/// patients, or dates not retained).
fn case_row(
    row: &crate::ingest::ManifestRow,
    path: &str,
    patient: Option<(&str, i32)>,
    profile: &Profile,
    secret: &[u8],
) -> BTreeMap<String, String> {
    let shift = patient.map(|(_, shift)| shift);
    let rules = &profile.tables;
    let named = |list: &[String], column: &str| list.iter().any(|c| c == column);
    let mut out = BTreeMap::new();
    out.insert("case_id".to_owned(), row.case_id.clone());
    out.insert("path".to_owned(), path.to_owned());
    let shifting = profile.has(kizon_deid::DicomOption::RetainModifiedDates);
    for (column, value) in &row.fields {
        if column.ends_with("_original") || named(&rules.drop, column) {
            continue; // the date as written would give the real date back; dropped by the profile
        }
        let is_patient = matches!(column.as_str(), "patient_key" | "patient_id")
            || rules.patient.as_deref() == Some(column.as_str());
        let cell = if is_patient {
            patient.map_or(String::new(), |(pseudonym, _)| pseudonym.to_owned())
        } else if named(&rules.pseudonymise, column) && !value.is_empty() {
            kizon_deid::tables::token(secret, value)
        } else if (column.ends_with("_date") || named(&rules.shift_dates, column))
            && !value.is_empty()
        {
            let compact = value.replace('-', "");
            match shift
                .filter(|_| shifting)
                .and_then(|s| kizon_deid::dates::shift_da(&compact, s))
            {
                Some(d) => format!("{}-{}-{}", &d[0..4], &d[4..6], &d[6..8]),
                None => String::new(),
            }
        } else {
            value.clone()
        };
        out.insert(column.clone(), cell);
    }
    out
}

/// The case list as CSV (UTF-8): case_id, path, then the other columns in name order.
fn case_list_csv(rows: &mut [BTreeMap<String, String>]) -> Vec<u8> {
    rows.sort_by(|a, b| (a.get("case_id"), a.get("path")).cmp(&(b.get("case_id"), b.get("path"))));
    let mut columns: Vec<String> = vec!["case_id".into(), "path".into()];
    for row in rows.iter() {
        for key in row.keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&columns).expect("writes to memory");
    for row in rows.iter() {
        writer
            .write_record(
                columns
                    .iter()
                    .map(|c| row.get(c).map_or("", String::as_str)),
            )
            .expect("writes to memory");
    }
    writer.into_inner().expect("writes to memory")
}

/// Removes what a killed run into the same `out` left beside it: its staging folders and the
/// folder of files pulled from the PACS (identifiable: they must not stay on the disk).
fn remove_leftovers(out: &Path) {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Some(name) = out.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let leftover = [".staging-", ".quarantine-staging-", ".pulled-"]
            .iter()
            .any(|kind| file_name.starts_with(&format!(".{name}{kind}")));
        if leftover {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write_handover(
    request: &DeidentifyRequest,
    profile: &Profile,
    profile_text: &str,
    key: &OwnerKey,
    table: &mut KeyTable,
    sources: &[Source],
    assignments: &Assignments,
    staging: &Path,
    quarantine_staging: &Path,
    now: &str,
    progress: &dyn Progress,
) -> Result<HandoverSummary, AppError> {
    let secret = table.secret_bytes();
    let Assignments {
        assigned,
        reasons,
        table_patients,
        case_list,
    } = assignments;
    // Second pass, in parallel: rewrite and write each file; what cannot be is copied into the
    // quarantine here too (named by its place in the file order), so that copying overlaps the
    // rewriting instead of following it.
    let quarantine_name = |index: usize| format!("files/{:06}", index + 1);
    let outcomes: Vec<Result<Rewrite, AppError>> = sources
        .par_iter()
        .zip(assigned.par_iter())
        .enumerate()
        .map(|(index, (source, assignment))| {
            let result = match assignment {
                Some((pseudonym, shift_days)) => {
                    let header = match &source.outcome {
                        Outcome::Companion { header } => Some(header.as_path()),
                        Outcome::Other {
                            kind: ItemKind::Wfdb,
                            ..
                        } => Some(source.path.as_path()),
                        _ => None,
                    };
                    let record = header.map(|h| sources::record_folder(&secret, h));
                    let target = Target {
                        profile,
                        secret: &secret,
                        pseudonym,
                        shift_days: *shift_days,
                        staging,
                        table_patients,
                    };
                    sources::rewrite(source, &target, record.as_deref())
                }
                None => Ok(Err(String::new())),
            };
            let result = match result {
                Ok(Err(problem)) => fs::copy(
                    &source.path,
                    quarantine_staging.join(quarantine_name(index)),
                )
                .map(|_| Err(problem))
                .map_err(io(&source.path)),
                other => other,
            };
            progress.advance(1);
            result
        })
        .collect();

    let mut entries = Vec::new();
    let mut case_rows: Vec<BTreeMap<String, String>> = Vec::new();
    let mut tally = Tally::new();
    let mut quarantined = Vec::new();
    let mut patients = BTreeSet::new();
    let case_index = case_list.as_deref().map(crate::ingest::ManifestIndex::new);
    for (index, ((source, outcome), (assignment, reason))) in sources
        .iter()
        .zip(outcomes)
        .zip(assigned.iter().zip(reasons))
        .enumerate()
    {
        match outcome? {
            Ok(written) => {
                if case_index.is_some() {
                    let file = match &source.outcome {
                        Outcome::Companion { header } => header.as_path(),
                        _ => source.path.as_path(),
                    };
                    if let Some(row) = case_index.as_ref().and_then(|i| i.row(file)) {
                        let patient = match (&source.outcome, assignment) {
                            (Outcome::Table { .. }, _) | (_, None) => None,
                            (_, Some((pseudonym, shift))) => Some((pseudonym.as_str(), *shift)),
                        };
                        case_rows.push(case_row(
                            row,
                            &written.entry.path,
                            patient,
                            profile,
                            &secret,
                        ));
                    }
                }
                for (k, n) in written.tally {
                    *tally.entry(k).or_default() += n;
                }
                if let Outcome::Table { patients: rows } = &source.outcome {
                    patients.extend(
                        rows.iter()
                            .filter_map(|id| table_patients.get(id))
                            .map(|(p, _)| p.clone()),
                    );
                } else if let Some((pseudonym, _)) = assignment {
                    patients.insert(pseudonym.clone());
                    if let Some(study) = written.study
                        && let Some(patient) = table
                            .patients
                            .iter_mut()
                            .find(|p| &p.pseudonym == pseudonym)
                    {
                        patient.add_study(study);
                    }
                }
                entries.push(written.entry);
            }
            Err(rewrite_problem) => {
                let reason = reason.clone().unwrap_or(rewrite_problem);
                quarantined.push((source, reason, quarantine_name(index)));
            }
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));

    // The quarantine: copies of the originals (made above), kept at the hospital, with the
    // reasons.
    let mut quarantine_list = Vec::new();
    let mut quarantine_reasons: BTreeMap<String, usize> = BTreeMap::new();
    for (n, (source, reason, stored)) in quarantined.into_iter().enumerate() {
        *quarantine_reasons.entry(reason_class(&reason)).or_default() += 1;
        quarantine_list.push(super::review::QuarantinedFile {
            number: n + 1,
            original: source.display.clone(),
            stored,
            reason,
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
        record_pdf_sha256: String::new(),
        case_list_sha256: None,
        ocr: crate::ocr::engine().map(crate::ocr::Engine::describe),
    };
    let case_list_bytes = case_list.as_ref().map(|_| case_list_csv(&mut case_rows));
    manifest.case_list_sha256 = case_list_bytes.as_deref().map(crate::sha256_hex);
    let record = super::record::html(&manifest);
    let record_pdf = super::record::pdf(&manifest)?;
    manifest.record_sha256 = crate::sha256_hex(record.as_bytes());
    manifest.record_pdf_sha256 = crate::sha256_hex(&record_pdf);
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest).expect("the manifest serialises");
    manifest_bytes.push(b'\n');
    let manifest_sha256 = crate::sha256_hex(&manifest_bytes);
    let signature = manifest::signature_file(key, &manifest_sha256);
    for (name, bytes) in [
        (manifest::RECORD, record.as_bytes()),
        (manifest::RECORD_PDF, &record_pdf[..]),
        (manifest::MANIFEST, &manifest_bytes[..]),
        (manifest::SIGNATURE, &signature[..]),
    ] {
        let path = staging.join(name);
        write_synced(&path, bytes)?;
    }
    if let Some(bytes) = &case_list_bytes {
        write_synced(&staging.join(manifest::CASE_LIST), bytes)?;
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
        pulled: None,
    })
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
