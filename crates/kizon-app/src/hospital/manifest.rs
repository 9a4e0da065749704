//! The signed hand-over: what a hospital sends, and how the sponsor checks it on arrival.
//!
//! A hand-over is a folder:
//! ```text
//! HANDOVER/
//!   handover.json                  the manifest: every file's SHA-256, the profile and its
//!                                  hash, the kizon version, counts by kind, what was removed per
//!                                  attribute (names and counts, never values), the quarantine count
//!   handover.sig                   the hospital's Ed25519 signature of the manifest's SHA-256
//!   deidentification-record.html   the 仮名加工記録 for the ethics committee, and
//!   deidentification-record.pdf    the same as PDF (their hashes are in the manifest)
//!   files/PSEUDONYM/…              the de-identified files
//! ```
//! [`verify`] is what `kizon ingest --provider NAME HANDOVER` runs before anything is stored:
//! the signature against the provider's registered keys, then every file's hash, and no file
//! missing or added.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::error::io;

pub const MANIFEST: &str = "handover.json";
pub const SIGNATURE: &str = "handover.sig";
pub const RECORD: &str = "deidentification-record.html";
pub const RECORD_PDF: &str = "deidentification-record.pdf";
/// The hospital's case list, its paths pointing into the hand-over and its dates shifted with
/// each file's patient (`kizon deidentify --case-list`); ingest takes it as the manifest.
pub const CASE_LIST: &str = "cases.csv";
pub const FILES: &str = "files";
/// The manifest's format tag.
pub const FORMAT: &str = "kizon-handover-v1";
const SIGNATURE_FORMAT: &str = "kizon-handover-signature-v1";

/// The manifest of a hand-over.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    /// When it was made (UTC, RFC 3339).
    pub created_at: String,
    pub kizon_version: String,
    /// The hospital's public key (64 hex digits) that signs it.
    pub public_key: String,
    pub profile: ProfileRecord,
    /// Every file handed over, by its path under the folder.
    pub files: Vec<FileEntry>,
    pub counts_by_kind: BTreeMap<String, usize>,
    /// How many patients (pseudonyms) the files belong to.
    pub patients: usize,
    /// What was done, per action and attribute: counts over all files.
    pub removed: Vec<Removal>,
    /// How many files were kept back in the hospital's quarantine, per reason.
    pub quarantined: usize,
    pub quarantine_reasons: BTreeMap<String, usize>,
    /// The SHA-256 of the de-identification record beside the manifest.
    pub record_sha256: String,
    /// The OCR engine that read blanked images again (`None`: not installed, not read).
    #[serde(default)]
    pub ocr: Option<String>,
    /// The SHA-256 of the record as PDF beside the manifest.
    #[serde(default)]
    pub record_pdf_sha256: String,
    /// The SHA-256 of the case list beside the manifest, when the hospital gave one.
    #[serde(default)]
    pub case_list_sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProfileRecord {
    pub sha256: String,
    /// The options applied (PS3.15 E.3), as in the profile.
    pub options: Vec<String>,
    /// The profile as the hospital wrote it.
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Relative to the hand-over folder, `/`-separated.
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Removal {
    pub action: String,
    pub attribute: String,
    pub count: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct SignatureFile {
    format: String,
    public_key: String,
    manifest_sha256: String,
    signature: String,
}

/// The text the hospital signs: the format tag and the manifest's SHA-256.
fn signed_message(manifest_sha256: &str) -> String {
    format!("{SIGNATURE_FORMAT}\n{manifest_sha256}")
}

/// The signature file's bytes for a manifest whose bytes hash to `manifest_sha256`.
pub fn signature_file(key: &crate::owner_key::OwnerKey, manifest_sha256: &str) -> Vec<u8> {
    let file = SignatureFile {
        format: SIGNATURE_FORMAT.into(),
        public_key: key.public_hex(),
        manifest_sha256: manifest_sha256.into(),
        signature: key.sign_bytes(signed_message(manifest_sha256).as_bytes()),
    };
    let mut bytes = serde_json::to_vec_pretty(&file).expect("serialises");
    bytes.push(b'\n');
    bytes
}

/// The manifest of the hand-over in `dir`, as written: not verified (see [`verify`]).
pub fn read(dir: &Path) -> Result<Manifest, AppError> {
    let path = dir.join(MANIFEST);
    let bytes = fs::read(&path).map_err(io(&path))?;
    serde_json::from_slice(&bytes).map_err(|e| AppError::Refused {
        what: format!("{}: not a kizon hand-over manifest: {e}", path.display()),
        hint: "give the folder `kizon deidentify` wrote".into(),
    })
}

/// The public key the hand-over in `dir` says signed it (to find its provider; [`verify`]
/// checks it).
pub fn signer(dir: &Path) -> Option<String> {
    let bytes = fs::read(dir.join(SIGNATURE)).ok()?;
    serde_json::from_slice::<SignatureFile>(&bytes)
        .ok()
        .map(|s| s.public_key)
}

/// The hand-over `file` lies in: the nearest folder above it that holds a manifest.
pub fn enclosing(file: &Path) -> Option<PathBuf> {
    file.ancestors()
        .skip(1)
        .find(|dir| is_handover(dir))
        .map(Path::to_path_buf)
}

/// Whether `dir` is a hand-over: it holds a manifest or a signature (one without the other is a
/// hand-over with a part removed, and fails [`verify`], never passes as unsigned files).
pub fn is_handover(dir: &Path) -> bool {
    dir.is_dir() && (dir.join(MANIFEST).is_file() || dir.join(SIGNATURE).is_file())
}

/// A hand-over that passed every check.
#[derive(Debug, Clone)]
pub struct Verified {
    pub manifest: Manifest,
    /// The manifest's bytes, to be stored as a document.
    pub manifest_bytes: Vec<u8>,
    pub public_key: String,
    pub signature: String,
    /// The data files, absolute, with the SHA-256 the manifest gives each.
    pub files: Vec<(PathBuf, String)>,
}

/// Checks the hand-over in `dir` against the provider's registered `keys`: the signature first,
/// then every file's SHA-256; a file missing, altered or added is refused, naming it.
pub fn verify(dir: &Path, provider: &str, keys: &[String]) -> Result<Verified, AppError> {
    let refused = |what: String, hint: &str| AppError::Refused {
        what,
        hint: hint.into(),
    };
    if keys.is_empty() {
        return Err(refused(
            format!(
                "{}: a signed hand-over, but provider `{provider}` has no registered public key to check it with",
                dir.display()
            ),
            "register the hospital's key first: kizon provider key NAME --public-key PREFIX.pub (the .pub file the hospital made with `kizon provider keygen`)",
        ));
    }
    let manifest_path = dir.join(MANIFEST);
    let manifest_bytes = fs::read(&manifest_path).map_err(io(&manifest_path))?;
    let signature_path = dir.join(SIGNATURE);
    let signature_bytes = fs::read(&signature_path).map_err(|_| {
        refused(
            format!(
                "{}: the hand-over has no signature",
                signature_path.display()
            ),
            "ask the hospital for the complete hand-over folder, as `kizon deidentify` wrote it",
        )
    })?;
    let (manifest, signature, expected) = signed_manifest(
        (&manifest_path, &manifest_bytes),
        (&signature_path, &signature_bytes),
        provider,
        keys,
    )?;
    let tampered_hint = TAMPERED_HINT;
    let mut beside = vec![
        (RECORD, manifest.record_sha256.clone()),
        (RECORD_PDF, manifest.record_pdf_sha256.clone()),
    ];
    if let Some(sha256) = &manifest.case_list_sha256 {
        beside.push((CASE_LIST, sha256.clone()));
    }
    for (name, expected) in &beside {
        let record_path = dir.join(name);
        let record = fs::read(&record_path).map_err(io(&record_path))?;
        if crate::sha256_hex(&record) != *expected {
            return Err(refused(
                format!(
                    "{}: altered after the hand-over was signed",
                    record_path.display()
                ),
                tampered_hint,
            ));
        }
    }
    let mut present = Vec::new();
    list_files(dir, dir, &mut present)?;
    for path in &present {
        let known = expected.contains_key(path)
            || [MANIFEST, SIGNATURE].contains(&path.as_str())
            || beside.iter().any(|(name, _)| name == path);
        if !known {
            return Err(refused(
                format!(
                    "{}: a file the signed manifest does not list (added after the hand-over)",
                    dir.join(path).display()
                ),
                tampered_hint,
            ));
        }
    }
    for path in expected.keys() {
        if !present.contains(path) {
            return Err(refused(
                format!(
                    "{}: listed in the signed manifest but missing",
                    dir.join(path).display()
                ),
                "ask the hospital for the complete hand-over folder",
            ));
        }
    }
    let files: Vec<(PathBuf, String)> = expected
        .iter()
        .map(|(path, (sha256, _))| (dir.join(path), sha256.clone()))
        .collect();
    files
        .par_iter()
        .try_for_each(|(path, sha256)| -> Result<(), AppError> {
            let actual = crate::sha256_file(path)?;
            if &actual != sha256 {
                return Err(AppError::Refused {
                    what: format!(
                        "{}: altered after the hand-over was signed (SHA-256 {actual}, the manifest says {sha256})",
                        path.display()
                    ),
                    hint: tampered_hint.into(),
                });
            }
            Ok(())
        })?;
    Ok(Verified {
        manifest,
        manifest_bytes,
        public_key: signature.public_key,
        signature: signature.signature,
        files,
    })
}

const TAMPERED_HINT: &str =
    "do not ingest it: ask the hospital to send the hand-over again, and find out who changed it";

/// What the manifest lists: each file's path with its SHA-256 and size.
type Listed = BTreeMap<String, (String, u64)>;

/// The checks of a hand-over that need its two small files only, before any data file is
/// looked at: the signature file read, made for this manifest, by a registered key, and
/// verifying; then the manifest read, of this format and key, naming only files under
/// `files/`. Pure (bytes in), so that hostile manifests and signatures are fuzzed
/// (kizon-fuzz `handover`) without a folder.
fn signed_manifest(
    (manifest_path, manifest_bytes): (&Path, &[u8]),
    (signature_path, signature_bytes): (&Path, &[u8]),
    provider: &str,
    keys: &[String],
) -> Result<(Manifest, SignatureFile, Listed), AppError> {
    let refused = |what: String, hint: &str| AppError::Refused {
        what,
        hint: hint.into(),
    };
    let signature: SignatureFile = serde_json::from_slice(signature_bytes).map_err(|e| {
        refused(
            format!(
                "{}: not a kizon hand-over signature: {e}",
                signature_path.display()
            ),
            "ask the hospital for the complete hand-over folder, as `kizon deidentify` wrote it",
        )
    })?;
    let manifest_sha256 = crate::sha256_hex(manifest_bytes);
    let tampered_hint = TAMPERED_HINT;
    if signature.format != SIGNATURE_FORMAT || signature.manifest_sha256 != manifest_sha256 {
        return Err(refused(
            format!(
                "{}: the manifest was changed after it was signed (its SHA-256 is {manifest_sha256})",
                manifest_path.display()
            ),
            tampered_hint,
        ));
    }
    if !keys.contains(&signature.public_key) {
        return Err(refused(
            format!(
                "{}: signed with key {}…, which is not a registered key of provider `{provider}`",
                signature_path.display(),
                &signature
                    .public_key
                    .get(..16)
                    .unwrap_or(&signature.public_key)
            ),
            "check that the hand-over comes from this provider; a new key of the hospital is registered with `kizon provider key NAME --public-key FILE`",
        ));
    }
    if !crate::owner_key::verify_bytes(
        &signature.public_key,
        signed_message(&manifest_sha256).as_bytes(),
        &signature.signature,
    ) {
        return Err(refused(
            format!(
                "{}: the signature does not verify",
                signature_path.display()
            ),
            tampered_hint,
        ));
    }
    let manifest: Manifest = serde_json::from_slice(manifest_bytes).map_err(|e| {
        refused(
            format!(
                "{}: not a kizon hand-over manifest: {e}",
                manifest_path.display()
            ),
            "the manifest is signed but this kizon cannot read it: use the kizon version it names",
        )
    })?;
    if manifest.format != FORMAT || manifest.public_key != signature.public_key {
        return Err(refused(
            format!(
                "{}: format `{}` or its key does not match its signature",
                manifest_path.display(),
                manifest.format
            ),
            tampered_hint,
        ));
    }

    // Every file named, and nothing else.
    let mut expected: BTreeMap<String, (String, u64)> = BTreeMap::new();
    for entry in &manifest.files {
        if !safe_relative(&entry.path) || !entry.path.starts_with("files/") {
            return Err(refused(
                format!(
                    "{}: names a file outside its folder: {}",
                    manifest_path.display(),
                    entry.path
                ),
                tampered_hint,
            ));
        }
        expected.insert(entry.path.clone(), (entry.sha256.clone(), entry.size));
    }
    Ok((manifest, signature, expected))
}

/// [`verify`]'s checks of the manifest and signature bytes alone (see `signed_manifest`), for
/// the fuzzing harness: the manifest as it would be ingested, or why not.
pub fn check_signed_bytes(
    manifest_bytes: &[u8],
    signature_bytes: &[u8],
    keys: &[String],
) -> Result<Manifest, AppError> {
    signed_manifest(
        (Path::new(MANIFEST), manifest_bytes),
        (Path::new(SIGNATURE), signature_bytes),
        "fuzz",
        keys,
    )
    .map(|(manifest, _, _)| manifest)
}

/// A relative `/`-separated path with no `..`, no absolute part and no empty component.
fn safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Every file under `dir` (hidden ones and links too: nothing may be slipped in), relative to
/// `root`, `/`-separated.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), AppError> {
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io(&path))?;
        if kind.is_symlink() {
            return Err(AppError::Refused {
                what: format!("{}: a symbolic link inside a hand-over", path.display()),
                hint: "a hand-over holds files only; ask the hospital for the folder as `kizon deidentify` wrote it".into(),
            });
        }
        if kind.is_dir() {
            list_files(root, &path, out)?;
        } else {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            out.push(
                relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}
