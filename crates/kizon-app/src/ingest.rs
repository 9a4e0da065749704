//! Ingest: an inventory of existing data, file by file, into cases (Q2, Q7 start here).
//!
//! Every file is read once, hashed (SHA-256) and recognised by its content (kizon-formats). Work
//! goes in batches: each batch is inspected in parallel (rayon) and committed in one transaction
//! with one ledger entry, so a killed ingest keeps every committed batch and a rerun adds exactly
//! what is missing. A file already ingested (same absolute path, size and modification time) is
//! skipped without being read; the same path with other content is ingested again as a new item,
//! which the checks then question. Source files are only ever read.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use kizon_formats::{Inspection, ItemKind};
use kizon_store::{NewCase, NewItem};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::io;
use crate::{AppError, Study};

/// Items added by one ingest past which the database's statistics are brought up to date
/// (PostgreSQL; see `Store::refresh_statistics`).
const BULK_LOAD_ITEMS: usize = 10_000;

/// Files per transaction: large enough to amortise the commit, small enough that a kill loses
/// little work.
pub const BATCH: usize = 256;

/// Inspected batches that may wait for the committer.
const QUEUED_BATCHES: usize = 4;

/// The most files one ingest transaction (one ledger entry) takes when batches have queued up:
/// what a kill can cost a rerun.
const GROUP_FILES: usize = 8 * BATCH;

/// What to ingest.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    pub provider: String,
    pub manifest: Option<PathBuf>,
    pub paths: Vec<PathBuf>,
    /// Ingest after the dataset lock, for a dataset amendment (`kizon amend --dataset`):
    /// without it, ingest after the lock is refused.
    pub for_amendment: bool,
}

/// Told how ingest advances, so that the shell can draw a progress bar or print lines.
pub trait Progress: Sync {
    fn start(&self, files: u64);
    fn advance(&self, files: u64);
    fn finish(&self);
}

/// What ingest did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestSummary {
    pub files: usize,
    pub skipped_unchanged: usize,
    pub added: usize,
    pub cases_added: usize,
    pub batches: usize,
    pub by_kind: BTreeMap<String, usize>,
    /// Files that could not be fully read (each becomes a finding in `check`).
    pub problems: usize,
    /// What the walk of the given folders left out, and why (never silently).
    pub skipped: Vec<Skipped>,
}

/// A path the walk of a folder left out.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Skipped {
    pub path: String,
    /// `symbolic link` or `hidden`, and a word on why.
    pub reason: &'static str,
}

/// Why a symbolic link inside a given folder is not followed.
pub const SKIPPED_LINK: &str =
    "symbolic link, not followed: give its target itself if it belongs to the study";
/// Why a manifest found among the files is left out.
pub const SKIPPED_MANIFEST: &str =
    "a kizon manifest (case_id,path), not data: give it with --manifest";

/// Whether `file` is a CSV whose header names `case_id` and `path`: a kizon manifest.
pub(crate) fn looks_like_manifest(file: &Path) -> bool {
    use std::io::{BufRead, BufReader, Read};
    let is_csv = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("tsv"));
    if !is_csv {
        return false;
    }
    let Ok(opened) = fs::File::open(file) else {
        return false;
    };
    let mut header = String::new();
    if BufReader::new(opened.take(4096))
        .read_line(&mut header)
        .is_err()
    {
        return false;
    }
    let columns: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split([',', '\t', ';'])
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    columns.iter().any(|c| c == "case_id") && columns.iter().any(|c| c == "path")
}

/// Why a dot-file or dot-folder inside a given folder is left out.
pub const SKIPPED_HIDDEN: &str =
    "hidden (its name begins with a dot): operating-system or tool metadata, not data";

impl IngestSummary {
    fn add(&mut self, batch: IngestSummary) {
        self.added += batch.added;
        self.cases_added += batch.cases_added;
        self.problems += batch.problems;
        self.batches += batch.batches;
        for (kind, n) in batch.by_kind {
            *self.by_kind.entry(kind).or_default() += n;
        }
    }
}

/// One manifest row: which case a path belongs to, and the case's dates and diagnosis.
#[derive(Debug, Clone)]
pub(crate) struct ManifestRow {
    line: usize,
    pub(crate) case_id: String,
    path: PathBuf,
    pub(crate) fields: BTreeMap<String, String>,
}

pub(crate) struct Inspected {
    pub file: PathBuf,
    /// How reports show the file: relative to the folder given (or to the manifest's folder),
    /// never the server's absolute path (which may carry a patient's name, Q1). Set by ingest,
    /// which knows the roots.
    pub display: String,
    pub source: String,
    pub size: u64,
    pub modified_ns: i64,
    pub sha256: String,
    pub inspection: Inspection,
}

impl Study {
    pub fn ingest(
        &mut self,
        actor: &str,
        request: &IngestRequest,
        progress: &dyn Progress,
    ) -> Result<IngestSummary, AppError> {
        let provider = self
            .store
            .providers()?
            .into_iter()
            .find(|p| p.name == request.provider)
            .ok_or_else(|| AppError::UnknownProvider {
                name: request.provider.clone(),
                known: self
                    .store
                    .providers()
                    .map(|ps| ps.into_iter().map(|p| p.name).collect())
                    .unwrap_or_default(),
            })?;
        if self.store.lock(crate::dataset::DATASET)?.is_some() && !request.for_amendment {
            return Err(AppError::Refused {
                what: "the dataset is locked: data ingested now would not be part of it".into(),
                hint: "to add cases through a dataset amendment, ingest with --for-amendment, then `kizon check` and `kizon amend --dataset --reason \"...\"`".into(),
            });
        }
        // A signed hand-over's case list (`deidentify --case-list`) is its manifest, unless one
        // is given: its dates were shifted with the files', so Q2 and Q7 still compare like with
        // like. Its hash is checked with the rest of the hand-over before anything is stored.
        let handover_case_list = match (&request.manifest, &request.paths[..]) {
            (None, [only]) if crate::hospital::manifest::is_handover(only) => {
                Some(only.join(crate::hospital::manifest::CASE_LIST)).filter(|p| p.is_file())
            }
            _ => None,
        };
        let manifest_path = request.manifest.clone().or(handover_case_list);
        let manifest = match &manifest_path {
            Some(path) => read_manifest(path, self.csv_encoding)?,
            None => Vec::new(),
        };
        // Each root once, in its canonical form (`/data/a/../a/ct` is `/data/a/ct`): the same
        // files given another way are the same sources, never new items.
        let mut roots = Vec::with_capacity(request.paths.len());
        for path in &request.paths {
            roots.push(fs::canonicalize(path).map_err(io(path))?);
        }
        if roots.is_empty() {
            roots.extend(manifest.iter().map(|row| row.path.clone()));
        }
        if roots.is_empty() {
            return Err(AppError::Refused {
                what: "nothing to ingest".into(),
                hint: "give files or folders, or a manifest: kizon ingest --provider NAME [--manifest FILE.csv] PATH...".into(),
            });
        }
        // A signed hand-over (`kizon deidentify` at the hospital) is checked whole before
        // anything is stored: its signature against the provider's keys, every file's hash.
        let handovers = self.verify_handovers(actor, &provider, &roots)?;
        let mut files = Vec::new();
        let mut skipped = Vec::new();
        for root in &roots {
            collect_files(root, &mut files, &mut skipped)?;
        }
        files.sort();
        files.dedup();
        // Of a hand-over, only the data files its manifest lists (not the manifest itself).
        let expected = &handovers.expected;
        files.retain(|file| {
            expected.contains_key(file)
                || !handovers.roots.iter().any(|root| file.starts_with(root))
        });
        // A manifest is never data: the one given, and any CSV whose header is a kizon
        // manifest's (`case_id` and `path`), are left out and said so.
        let given_manifest = request
            .manifest
            .as_deref()
            .and_then(|m| fs::canonicalize(m).ok());
        files.retain(|file| {
            // Canonicalising costs a lookup per path component: only when a manifest was given,
            // and only for files with the manifest's name.
            let is_given = given_manifest.as_deref().is_some_and(|manifest| {
                manifest.file_name() == file.file_name()
                    && fs::canonicalize(file).ok().as_deref() == Some(manifest)
            });
            let is_manifest = is_given || looks_like_manifest(file);
            if is_manifest {
                skipped.push(Skipped {
                    path: file.display().to_string(),
                    reason: SKIPPED_MANIFEST,
                });
            }
            !is_manifest
        });
        if files.is_empty() {
            return Err(AppError::Refused {
                what: format!(
                    "no files to ingest in {}{}",
                    roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", "),
                    if skipped.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} left out: {})", skipped.len(), skipped[0].reason)
                    }
                ),
                hint: "check the path: ingest reads the files of the folders given (symbolic links and hidden files are left out)".into(),
            });
        }

        // A WFDB record is its header with its signal and annotation files: naming the header
        // (in a manifest, or ingesting it before) brings them in, so that the signal's bytes are
        // hashed into the dataset with the header, in the header's case.
        let wfdb = add_wfdb_companions(&mut files);
        let headers_of = &wfdb.headers_of;
        let manifest_index = ManifestIndex::new(&manifest);
        let case_of_manifest = |file: &Path| -> Option<&ManifestRow> {
            manifest_index.row(headers_of.get(file).map_or(file, PathBuf::as_path))
        };
        if !manifest_index.is_empty()
            && let Some(stray) = files.iter().find(|f| case_of_manifest(f).is_none())
        {
            return Err(AppError::Refused {
                what: format!(
                    "{}: in no row of the manifest {}",
                    stray.display(),
                    request
                        .manifest
                        .as_ref()
                        .map_or(String::new(), |m| m.display().to_string())
                ),
                hint: "add a row for it (case_id,path), or leave it out of the paths to ingest"
                    .into(),
            });
        }

        let known = self.store.known_sources(provider.id)?;
        let mut summary = IngestSummary {
            files: files.len(),
            skipped,
            ..IngestSummary::default()
        };
        let pending: Vec<PathBuf> = files
            .into_iter()
            .filter(|file| {
                // Stat only the files already ingested (a first ingest stats none here).
                let unchanged = known
                    .get(&absolute(file).display().to_string())
                    .is_some_and(|known| {
                        fs::metadata(file).is_ok_and(|meta| {
                            meta.len() as i64 == known.size
                                && modified_ns(&meta) == known.modified_ns
                        })
                    });
                if unchanged {
                    summary.skipped_unchanged += 1;
                }
                !unchanged
            })
            .collect();
        // Paths are shown relative to the manifest's folder, or to the folder given.
        let display_roots: Vec<PathBuf> = match &request.manifest {
            Some(manifest) => {
                let base = manifest.parent().unwrap_or(Path::new("."));
                vec![fs::canonicalize(base).unwrap_or_else(|_| absolute(base))]
            }
            None => roots.clone(),
        };
        let display_roots = &display_roots;
        let salt = self
            .audit_log()?
            .first()
            .map(|e| e.hash.clone())
            .unwrap_or_default();

        progress.start(pending.len() as u64);
        // Inspection of the next batches (rayon, all cores) overlaps the commit of this one.
        let (sender, receiver) =
            std::sync::mpsc::sync_channel::<Result<Vec<Inspected>, AppError>>(QUEUED_BATCHES);
        let pending = &pending;
        std::thread::scope(|scope| -> Result<(), AppError> {
            // The sender moves into the reader, so the channel closes when it is done.
            scope.spawn(move || {
                for chunk in pending.chunks(BATCH) {
                    let inspected = chunk
                        .par_iter()
                        .map(|file| {
                            let result = inspect_file(file).and_then(|mut inspected| {
                                inspected.display = display_path(file, display_roots);
                                // Read again here: the file must still be what was signed.
                                if let Some(signed) = expected.get(file)
                                    && *signed != inspected.sha256
                                {
                                    return Err(AppError::Refused {
                                        what: format!(
                                            "{}: changed while it was being ingested (SHA-256 {}, the signed manifest says {signed})",
                                            file.display(),
                                            inspected.sha256
                                        ),
                                        hint: "do not ingest it: find out who changed the hand-over, and ask the hospital to send it again".into(),
                                    });
                                }
                                Ok(inspected)
                            });
                            progress.advance(1);
                            result
                        })
                        .collect::<Result<Vec<_>, _>>();
                    let failed = inspected.is_err();
                    if sender.send(inspected).is_err() || failed {
                        return; // the committer stopped, or this batch failed: stop reading
                    }
                }
            });
            // A committer that fell behind takes every batch waiting, up to GROUP_FILES, in one
            // transaction: fewer fsyncs and ledger entries, and each group still whole or absent
            // after a kill. A batch that failed ends the run once the ones before it are in.
            // Owned here, so that returning early drops it and a reader blocked on a full
            // queue wakes up and stops.
            let receiver = receiver;
            let mut failure = None;
            while failure.is_none()
                && let Ok(first) = receiver.recv()
            {
                let mut group = first?;
                while group.len() < GROUP_FILES {
                    match receiver.try_recv() {
                        Ok(Ok(next)) => group.extend(next),
                        Ok(Err(error)) => {
                            failure = Some(error);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let batch =
                    self.commit_batch(actor, &provider, group, &wfdb, &manifest_index, &salt)?;
                summary.add(batch);
            }
            failure.map_or(Ok(()), Err)
        })?;
        progress.finish();
        // The items are committed: statistics not refreshed only make later pages slower
        // until autovacuum comes by, so a failure here does not fail the ingest.
        if summary.added >= BULK_LOAD_ITEMS {
            let _ = self.store.refresh_statistics();
        }
        Ok(summary)
    }

    /// Checks each root that is a signed hand-over and records it (its manifest as a document,
    /// the key and signature) before any file of it is stored; a provider with a registered key
    /// sends nothing unsigned.
    fn verify_handovers(
        &mut self,
        actor: &str,
        provider: &kizon_store::Provider,
        roots: &[PathBuf],
    ) -> Result<Handovers, AppError> {
        let keys: Vec<String> = self
            .store
            .provider_keys()?
            .into_iter()
            .filter(|k| k.provider == provider.name)
            .map(|k| k.public_key)
            .collect();
        let mut handovers = Handovers::default();
        let mut verified = Vec::new();
        for root in roots {
            if crate::hospital::manifest::is_handover(root) {
                let checked = crate::hospital::manifest::verify(root, &provider.name, &keys)?;
                for (file, sha256) in &checked.files {
                    handovers.expected.insert(file.clone(), sha256.clone());
                }
                handovers.roots.push(root.clone());
                verified.push(checked);
            } else if !keys.is_empty() {
                return Err(AppError::Refused {
                    what: format!(
                        "{}: not a signed hand-over, and provider `{}` signs its hand-overs (a key is registered)",
                        root.display(),
                        provider.name
                    ),
                    hint: "ingest the folder `kizon deidentify` made at the hospital (it holds handover.json and handover.sig)".into(),
                });
            }
        }
        for checked in verified {
            self.record_handover(actor, provider, &checked)?;
        }
        Ok(handovers)
    }

    /// Puts a verified hand-over's manifest into the documents and the ledger (once: a hand-over
    /// seen again is not recorded twice).
    pub(crate) fn record_handover(
        &mut self,
        actor: &str,
        provider: &kizon_store::Provider,
        checked: &crate::hospital::manifest::Verified,
    ) -> Result<(), AppError> {
        let manifest = &checked.manifest;
        self.store.transact(actor, |tx| {
            let document = tx.put_document_bytes(&checked.manifest_bytes)?;
            let new = tx.insert_handover(
                provider.id,
                &document.sha256,
                &checked.public_key,
                &checked.signature,
                manifest.files.len() as i64,
                manifest.quarantined as i64,
            )?;
            if !new {
                tx.abandon();
                return Ok(());
            }
            tx.record(
                "handover",
                &format!(
                    "signed hand-over from `{}` verified: {} files, {} patients, {} kept back in the hospital's quarantine",
                    provider.name,
                    manifest.files.len(),
                    manifest.patients,
                    manifest.quarantined
                ),
                json!({
                    "provider": provider.name,
                    "manifest": document.sha256,
                    "public_key": checked.public_key,
                    "signature": checked.signature,
                    "files": manifest.files.len(),
                    "patients": manifest.patients,
                    "quarantined": manifest.quarantined,
                    "profile_sha256": manifest.profile.sha256,
                    "profile_options": manifest.profile.options,
                }),
            )?;
            Ok(())
        })?;
        Ok(())
    }

    /// Reads `file` once; when it came in a signed hand-over (`expected`, from
    /// [`Study::verify_enclosing_handover`]), its bytes must be the ones the manifest names.
    pub(crate) fn read_handed_over(
        file: &Path,
        expected: Option<&str>,
    ) -> Result<Vec<u8>, AppError> {
        let bytes = fs::read(file).map_err(io(file))?;
        if let Some(expected) = expected
            && crate::sha256_hex(&bytes) != expected
        {
            return Err(AppError::Refused {
                what: format!(
                    "{}: changed since its signed hand-over was verified",
                    file.display()
                ),
                hint: "import it again; if it keeps changing, find out what writes to it".into(),
            });
        }
        Ok(bytes)
    }

    /// When `file` lies in a signed hand-over, checks the hand-over whole (its signature against
    /// the key of the provider it names, every file's hash) and records it; a table of
    /// confirmed diagnoses the pathology department handed over is trusted no more than images.
    /// A file outside any hand-over passes unchanged; one in a hand-over no registered key
    /// signed is refused.
    ///
    /// Returns the provider whose key signed it and the SHA-256 the signed manifest gives
    /// `file`, for the caller to check the bytes it reads against (the file could be swapped
    /// after this check).
    pub(crate) fn verify_enclosing_handover(
        &mut self,
        actor: &str,
        file: &Path,
    ) -> Result<Option<(String, String)>, AppError> {
        let Some(canonical) = fs::canonicalize(file).ok() else {
            return Ok(None);
        };
        let Some(root) = crate::hospital::manifest::enclosing(&canonical) else {
            return Ok(None);
        };
        let signer = crate::hospital::manifest::signer(&root).unwrap_or_default();
        let keys = self.store.provider_keys()?;
        let Some(owner) = keys.iter().find(|k| k.public_key == signer) else {
            return Err(AppError::Refused {
                what: format!(
                    "{}: lies in a signed hand-over ({}) whose key is no registered provider's",
                    file.display(),
                    root.display()
                ),
                hint: "register the hospital's public key first: kizon provider key NAME --public-key PREFIX.pub".into(),
            });
        };
        let provider = self
            .store
            .providers()?
            .into_iter()
            .find(|p| p.name == owner.provider)
            .ok_or_else(|| AppError::Refused {
                what: format!("provider `{}` is not registered", owner.provider),
                hint: "kizon provider list".into(),
            })?;
        let provider_keys: Vec<String> = keys
            .into_iter()
            .filter(|k| k.provider == provider.name)
            .map(|k| k.public_key)
            .collect();
        let checked = crate::hospital::manifest::verify(&root, &provider.name, &provider_keys)?;
        let expected = checked
            .files
            .iter()
            .find(|(path, _)| fs::canonicalize(path).is_ok_and(|p| p == canonical))
            .map(|(_, sha256)| sha256.clone())
            .ok_or_else(|| AppError::Refused {
                what: format!(
                    "{}: lies in the signed hand-over {} but is not one of its data files",
                    file.display(),
                    root.display()
                ),
                hint: "import the table under files/ that the hand-over's manifest lists".into(),
            })?;
        self.record_handover(actor, &provider, &checked)?;
        Ok(Some((provider.name, expected)))
    }

    /// Records one batch of inspected files in one transaction with one ledger entry.
    fn commit_batch(
        &mut self,
        actor: &str,
        provider: &kizon_store::Provider,
        inspected: Vec<Inspected>,
        wfdb: &Wfdb,
        manifest: &ManifestIndex,
        salt: &str,
    ) -> Result<IngestSummary, AppError> {
        let Wfdb {
            records: wfdb_records,
            headers_of,
        } = wfdb;
        let mut batch = IngestSummary {
            batches: 1,
            ..IngestSummary::default()
        };
        self.store.transact(actor, |tx| {
            let mut rows: Vec<NewItem> = Vec::with_capacity(inspected.len());
            for mut item in inspected {
                if let Some((record, role)) = wfdb_records.get(&item.file) {
                    if item.inspection.kind() == ItemKind::Unknown {
                        item.inspection = Inspection { kind: Some(ItemKind::Wfdb), ..Inspection::default() };
                    }
                    item.inspection.metadata.record = Some(record.clone());
                    item.inspection.metadata.role = Some(role.clone());
                }
                let row_of = headers_of.get(&item.file).unwrap_or(&item.file);
                let case = case_for(&item, manifest.row(row_of), provider.id, salt);
                if tx.insert_case(&case)? {
                    batch.cases_added += 1;
                }
                let kind = item.inspection.kind();
                let new = NewItem {
                    provider_id: provider.id,
                    case_id: case.id.clone(),
                    path: item.display.clone(),
                    source: item.source.clone(),
                    size: item.size,
                    modified_ns: item.modified_ns,
                    sha256: item.sha256.clone(),
                    kind,
                    metadata: item.inspection.metadata.to_stored(),
                    problem: item.inspection.problem.clone(),
                };
                rows.push(new);
            }
            for (new, added) in rows.iter().zip(tx.insert_items(&rows)?) {
                if added {
                    batch.added += 1;
                    *batch.by_kind.entry(new.kind.as_str().to_owned()).or_default() += 1;
                    batch.problems += usize::from(new.problem.is_some());
                }
            }
            if batch.added > 0 || batch.cases_added > 0 {
                tx.record(
                    "ingest",
                    &format!("ingested {} items into {} new cases from `{}`", batch.added, batch.cases_added, provider.name),
                    json!({ "provider": provider.name, "items": batch.added, "cases": batch.cases_added, "by_kind": batch.by_kind }),
                )?;
            }
            Ok(())
        })?;
        Ok(batch)
    }

    /// Every ingested item, its metadata read back.
    pub fn items(&self) -> Result<Vec<crate::Item>, AppError> {
        // Each row parsed as it is read: the rows' metadata JSON is never all held at once
        // beside its parsed form (at a million items, gigabytes).
        let mut items = Vec::new();
        self.store.each_item(|stored| {
            items.push(crate::Item::from_stored(stored)?);
            Ok::<(), AppError>(())
        })?;
        Ok(items)
    }

    pub fn cases(&self) -> Result<Vec<kizon_store::Case>, AppError> {
        Ok(self.store.cases()?)
    }
}

/// The signed hand-overs among the roots: their folders, and the SHA-256 each data file must have.
#[derive(Default)]
struct Handovers {
    roots: Vec<PathBuf>,
    expected: HashMap<PathBuf, String>,
}

/// The WFDB records among the files ingested: each file's record and role, and each
/// companion's header.
#[derive(Default)]
pub(crate) struct Wfdb {
    records: HashMap<PathBuf, (String, String)>,
    pub(crate) headers_of: HashMap<PathBuf, PathBuf>,
}

/// A manifest's rows by path: which row a file belongs to, found by looking up the file's path
/// and its folders instead of scanning every row for every file (quadratic: a manifest of
/// 100,000 slices took more than ten minutes to match before its files were read).
pub(crate) struct ManifestIndex<'m> {
    rows: &'m [ManifestRow],
    /// Each path's first row.
    first_of: std::collections::HashMap<&'m Path, usize>,
}

impl<'m> ManifestIndex<'m> {
    pub(crate) fn new(rows: &'m [ManifestRow]) -> ManifestIndex<'m> {
        let mut first_of = std::collections::HashMap::with_capacity(rows.len());
        for (k, row) in rows.iter().enumerate() {
            first_of.entry(row.path.as_path()).or_insert(k);
        }
        ManifestIndex { rows, first_of }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The manifest row a file belongs to: the first row naming its own path or a folder
    /// that holds it.
    pub(crate) fn row(&self, file: &Path) -> Option<&'m ManifestRow> {
        let absolute = absolute(file);
        absolute
            .ancestors()
            .filter_map(|p| self.first_of.get(p))
            .min()
            .map(|&k| &self.rows[k])
    }
}

/// Files up to this size are read once into memory, hashed and inspected from the same bytes;
/// larger ones are hashed by streaming and inspected from a bounded view
/// ([`crate::large_file::view`]), so that a worker never holds more than this, whatever the file.
pub const WHOLE_FILE_LIMIT: u64 = 256 << 20;

/// Reads, hashes and inspects one file.
pub(crate) fn inspect_file(file: &Path) -> Result<Inspected, AppError> {
    use std::io::Read;
    // Each worker reads into its own buffer, kept between files (no fresh pages per file) unless
    // a large file left it bigger than this.
    const KEPT_BUFFER: usize = 16 << 20;
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    // One open: the size and time come from the open file, not a second lookup of its path.
    let mut opened = fs::File::open(file).map_err(io(file))?;
    let meta = opened.metadata().map_err(io(file))?;
    let (size, sha256, inspection) = if meta.len() > WHOLE_FILE_LIMIT {
        let view = crate::large_file::view(file, meta.len(), WHOLE_FILE_LIMIT)?;
        let mut inspection = kizon_formats::inspect(&view.bytes);
        if let Some(note) = view.partial
            && inspection.problem.is_some()
        {
            inspection.problem = Some(note);
        }
        (meta.len(), crate::sha256_file(file)?, inspection)
    } else {
        BUFFER.with_borrow_mut(|bytes| {
            bytes.clear();
            bytes.reserve(usize::try_from(meta.len()).unwrap_or(0));
            opened.read_to_end(bytes).map_err(io(file))?;
            let read = (
                bytes.len() as u64,
                crate::sha256_hex(bytes),
                kizon_formats::inspect(bytes),
            );
            if bytes.capacity() > KEPT_BUFFER {
                *bytes = Vec::new();
            }
            Ok::<_, AppError>(read)
        })?
    };
    Ok(Inspected {
        file: file.to_owned(),
        display: String::new(),
        source: absolute(file).display().to_string(),
        size,
        modified_ns: modified_ns(&meta),
        sha256,
        inspection,
    })
}

/// The case a file belongs to: the manifest's row; else, for DICOM, the patient and study;
/// for a WFDB file its record; else the file itself.
fn case_for(item: &Inspected, row: Option<&ManifestRow>, provider_id: i64, salt: &str) -> NewCase {
    let pseudonym = |parts: &[&str]| {
        let mut hasher = Sha256::new();
        hasher.update(salt.as_bytes());
        for part in parts {
            hasher.update([0u8]);
            hasher.update(part.as_bytes());
        }
        kizon_store::ledger::hex(&hasher.finalize())[..16].to_owned()
    };
    let patient_key = item
        .inspection
        .patient_id
        .as_deref()
        .map(|id| format!("pk-{}", pseudonym(&[id])));
    if let Some(row) = row {
        let field = |name: &str| row.fields.get(name).filter(|v| !v.is_empty()).cloned();
        let attributes: BTreeMap<&String, &String> = row
            .fields
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "patient_key"
                        | "acquisition_date"
                        | "collection_date"
                        | "diagnosis"
                        | "diagnosis_date"
                )
            })
            .collect();
        return NewCase {
            id: row.case_id.clone(),
            provider_id,
            patient_key: field("patient_key").or(patient_key),
            acquisition_date: field("acquisition_date"),
            collection_date: field("collection_date"),
            diagnosis: field("diagnosis"),
            diagnosis_date: field("diagnosis_date"),
            attributes: serde_json::to_string(&attributes).expect("strings serialise"),
        };
    }
    let m = &item.inspection.metadata;
    let stem = item
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let id = match (
        &item.inspection.patient_id,
        &m.study_instance_uid,
        &m.record,
    ) {
        (Some(patient), Some(study), _) => {
            format!("p{provider_id}-dcm-{}", pseudonym(&[patient, study]))
        }
        (_, _, Some(record)) => format!("p{provider_id}-{record}"),
        _ => format!("p{provider_id}-{stem}-{}", &item.sha256[..8]),
    };
    NewCase {
        id,
        provider_id,
        patient_key,
        acquisition_date: m.acquisition_date.clone().or(m.study_date.clone()),
        collection_date: None,
        diagnosis: None,
        diagnosis_date: None,
        attributes: "{}".into(),
    }
}

/// A salted pseudonym of identifying parts (the salt is the study's first ledger hash, so the
/// same patient gets the same key within a study and an unlinkable one across studies).
fn pseudonym(salt: &str, parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    for part in parts {
        hasher.update([0u8]);
        hasher.update(part.as_bytes());
    }
    kizon_store::ledger::hex(&hasher.finalize())[..16].to_owned()
}

/// The pseudonymous patient key of a DICOM PatientID.
pub(crate) fn patient_key(salt: &str, patient_id: &str) -> String {
    format!("pk-{}", pseudonym(salt, &[patient_id]))
}

/// The annotators' extensions of PhysioNet's databases (reference beats, detector output,
/// rhythm, apnea, sleep stages, alarms): only such a file beside a header joins its record,
/// never another file that happens to share the record's name (`100.jpg`, `100.dcm`).
const ANNOTATORS: [&str; 22] = [
    "atr", "ann", "qrs", "ecg", "ari", "wabp", "wqrs", "sqrs", "gqrs", "pu", "pu0", "pu1", "apn",
    "st", "stb", "hypn", "resp", "arousal", "event", "alarms", "trigger", "16a",
];

/// Adds to `files` the signal and annotation files of every WFDB header among them that are on
/// disk beside it (the signal files its header names; annotation files share its record name
/// and have an annotator's extension); returns each record file's record and role, and each
/// companion's header. Each header is read and parsed once.
pub(crate) fn add_wfdb_companions(files: &mut Vec<PathBuf>) -> Wfdb {
    let mut wfdb = Wfdb::default();
    let headers: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "hea"))
        .cloned()
        .collect();
    for header in headers {
        let Ok(text) = fs::read_to_string(&header) else {
            continue;
        };
        let Ok(parsed) = kizon_waveform::wfdb::WfdbHeader::parse(&text) else {
            continue;
        };
        let dir = header.parent().unwrap_or(Path::new("."));
        let stem = header.file_stem().map(|s| s.to_os_string());
        let record = stem
            .as_ref()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut companions: Vec<(PathBuf, &str)> = parsed
            .companion_files()
            .iter()
            .filter(|name| !name.contains('/') && !name.ends_with(".hea"))
            .map(|name| (dir.join(name), "signal"))
            .collect();
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                let annotation = path.file_stem().map(|s| s.to_os_string()) == stem
                    && path.extension().is_some_and(|e| {
                        ANNOTATORS.contains(&e.to_string_lossy().to_ascii_lowercase().as_str())
                    });
                if annotation && !companions.iter().any(|(p, _)| *p == path) {
                    companions.push((path, "annotation"));
                }
            }
        }
        for (companion, role) in companions {
            // Regular files only, as `collect_files` takes them (no symbolic links).
            if fs::symlink_metadata(&companion).is_ok_and(|m| m.is_file()) {
                wfdb.headers_of.insert(companion.clone(), header.clone());
                wfdb.records
                    .insert(companion.clone(), (record.clone(), role.to_owned()));
                files.push(companion);
            }
        }
        wfdb.records
            .insert(header.clone(), (record.clone(), "header".to_owned()));
    }
    files.sort();
    files.dedup();
    wfdb
}

/// The files under `root` (itself, if a file), in order. Inside a folder, symbolic links and
/// hidden entries are left out and listed in `skipped` with the reason; a root given by the
/// user is taken as given, link or not.
pub(crate) fn collect_files(
    root: &Path,
    out: &mut Vec<PathBuf>,
    skipped: &mut Vec<Skipped>,
) -> Result<(), AppError> {
    let meta = fs::metadata(root).map_err(io(root))?;
    if meta.is_file() {
        out.push(root.to_owned());
        return Ok(());
    }
    // The type comes with the directory entry on the file systems that report it (no stat per
    // file); otherwise `DirEntry::file_type` falls back to lstat, as before.
    let mut entries: Vec<(PathBuf, fs::FileType)> = Vec::new();
    for entry in fs::read_dir(root).map_err(io(root))?.flatten() {
        let kind = entry.file_type().map_err(io(&entry.path()))?;
        entries.push((entry.path(), kind));
    }
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (entry, kind) in entries {
        if entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            skipped.push(Skipped {
                path: entry.display().to_string(),
                reason: SKIPPED_HIDDEN,
            });
            continue;
        }
        if kind.is_symlink() {
            skipped.push(Skipped {
                path: entry.display().to_string(),
                reason: SKIPPED_LINK,
            });
        } else if kind.is_dir() {
            collect_files(&entry, out, skipped)?;
        } else if kind.is_file() {
            out.push(entry);
        }
    }
    Ok(())
}

/// The absolute form of a path, without resolving symbolic links (one syscall-free join with
/// the working directory; canonicalising every file would cost a readlink per component).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

fn modified_ns(meta: &fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Reads a manifest: a CSV with a header naming `case_id` and `path` (relative paths are
/// relative to the manifest), and optional columns kept with the case.
pub(crate) fn read_manifest(
    path: &Path,
    encoding: Option<kizon_tables::encoding::Encoding>,
) -> Result<Vec<ManifestRow>, AppError> {
    let invalid = |line: usize, what: String, hint: &str| AppError::Refused {
        what: format!("{}:{line}: {what}", path.display()),
        hint: hint.to_owned(),
    };
    let bytes = fs::read(path).map_err(io(path))?;
    let (text, _) = kizon_tables::encoding::decode_as(path, &bytes, encoding)?;
    let text: &str = &text;
    let base = path.parent().unwrap_or(Path::new("."));
    let today = crate::dates::today();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| {
            invalid(
                1,
                format!("not a CSV header: {e}"),
                "the first line names the columns: case_id,path,...",
            )
        })?
        .iter()
        .map(str::to_owned)
        .collect();
    for required in ["case_id", "path"] {
        if !headers.iter().any(|h| h == required) {
            return Err(invalid(
                1,
                format!("no `{required}` column (columns: {})", headers.join(", ")),
                "the manifest needs at least case_id,path",
            ));
        }
    }
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.map_err(|e| {
            invalid(
                line,
                e.to_string(),
                "every row has as many fields as the header",
            )
        })?;
        let mut fields: BTreeMap<String, String> = headers
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_owned))
            .collect();
        let case_id = fields.remove("case_id").unwrap_or_default();
        let relative = fields.remove("path").unwrap_or_default();
        if case_id.is_empty() || relative.is_empty() {
            return Err(invalid(
                line,
                "empty case_id or path".into(),
                "fill both columns",
            ));
        }
        crate::text::identifier("`case_id`", &case_id)
            .map_err(|e| invalid(line, e.to_string(), &e.hint()))?;
        for date_column in ["acquisition_date", "collection_date", "diagnosis_date"] {
            let Some(value) = fields.get(date_column).filter(|v| !v.is_empty()).cloned() else {
                continue;
            };
            if let Some(problem) = crate::dates::problem(&value, today) {
                return Err(invalid(
                    line,
                    format!("`{date_column}`: {problem}"),
                    "write dates as YYYY-MM-DD (or YYYY/MM/DD, 和暦), on or before today",
                ));
            }
            // Stored as ISO; a date written otherwise (2024/4/1, 令和6年4月1日) keeps its original.
            if let Some((iso, true)) = crate::dates::normalize(&value) {
                fields.insert(format!("{date_column}_original"), value);
                fields.insert(date_column.to_owned(), iso);
            }
        }
        let full = base.join(&relative);
        if !full.exists() {
            return Err(invalid(
                line,
                format!("`{relative}` does not exist"),
                "paths are relative to the manifest's folder",
            ));
        }
        rows.push(ManifestRow {
            line,
            case_id,
            // Canonical, like the roots given on the command line, so that both name a file alike.
            path: fs::canonicalize(&full).unwrap_or_else(|_| absolute(&full)),
            fields,
        });
    }
    let mut seen: HashMap<&Path, usize> = HashMap::new();
    for row in &rows {
        if let Some(first) = seen.insert(&row.path, row.line) {
            return Err(invalid(
                row.line,
                format!("path listed again (first at line {first})"),
                "list each file or folder once",
            ));
        }
    }
    // A folder and a file (or folder) inside it in two rows would leave the file's case to row
    // order. Sorted by components, whatever lies inside a path follows it directly, so comparing
    // each path with the one before finds every overlap.
    let mut sorted: Vec<&ManifestRow> = rows.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    for pair in sorted.windows(2) {
        let (outer, inner) = (pair[0], pair[1]);
        if inner.path.starts_with(&outer.path) {
            return Err(invalid(
                outer.line.max(inner.line),
                format!(
                    "rows overlap: `{}` (line {}, case {}) lies inside `{}` (line {}, case {})",
                    inner.path.display(),
                    inner.line,
                    inner.case_id,
                    outer.path.display(),
                    outer.line,
                    outer.case_id
                ),
                "give each file one row: list the files of a folder separately, or the folder alone",
            ));
        }
    }
    Ok(rows)
}

/// `file` relative to the first of `roots` that holds it; a root that is the file itself (or a
/// file outside every root) shows as the file's name alone.
pub(crate) fn display_path(file: &Path, roots: &[PathBuf]) -> String {
    let file = absolute(file);
    roots
        .iter()
        .find_map(|root| {
            file.strip_prefix(root)
                .ok()
                .filter(|rest| !rest.as_os_str().is_empty())
        })
        .map(|rest| {
            rest.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_else(|| {
            file.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        })
}
