//! kizon's use cases: the one application layer that the CLI and the web server call.
//!
//! A [`Study`] is a directory: `study.toml` (the protocol), the store (database, ledger,
//! documents). Each state-changing use case is one store transaction that appends its ledger
//! entry; the shells only parse arguments and render what comes back.
//!
//! - [`init`](mod@init): create a study directory, atomically.
//! - [`ingest`]: inventory existing data into cases and items (hash, kind, metadata).
//! - [`check`]: the data doubts (Q1, Q2, Q7) as findings, and decisions on them.
//! - [`training`]: fingerprints of the device's training data, for the independence check.
//! - [`plan`](mod@plan): the regulatory plan of the protocol in force.
//! - [`providers`]: providers and their evidence documents (Q3, Q6, Q9).
//! - [`locks`]: the protocol lock and amendments.
//! - [`demo`]: a complete example study made from generated data.
//! - [`access`]: users, roles, sessions; who may see what (readers blinded).
//! - [`workspace`]: the views of the web workspace: overview, item pages, viewer, reading.
//! - [`lesions`]: lesion marks (CSV, JSON, COCO), the panel's lesion reference, FROC figures.
//! - [`owner_key`], [`signing`]: the owner's Ed25519 key and the signed checkpoints of the ledger.
//! - [`stats`]: `kizon stats`: the statistics engine on counts and CSV files (no study needed).

#![forbid(unsafe_code)]

pub mod access;
pub mod acting;
pub mod analyze;
pub mod check;
pub mod clock;
pub mod dataset;
pub mod dates;
pub mod demo;
pub mod deviations;
mod error;
pub mod export;
pub mod frame_cache;
pub mod hospital;
pub mod ingest;
pub mod init;
mod items;
mod large_file;
pub mod lesions;
pub mod locks;
pub mod migrate_store;
pub mod names;
pub mod ocr;
pub mod owner_key;
pub mod package;
pub mod paper;
pub mod plan;
pub mod protocol_diff;
pub mod providers;
pub mod reading;
pub mod reference;
pub mod report;
pub mod results;
pub mod signing;
pub mod specimens;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;
pub mod training;
pub mod workspace;
pub mod xlsx;

use std::fs;
use std::path::{Path, PathBuf};

use kizon_protocol::Protocol;
use kizon_store::Store;
use sha2::{Digest, Sha256};

pub use error::{AppError, ErrorKind};
pub use items::Item;
/// The study-less statistics of `kizon stats` (kizon-calc), for the shells.
pub use kizon_calc as stats;
pub use kizon_pixels::Window;
pub use kizon_store::documents::OBJECTS_URL_FILE;
pub use kizon_store::{
    Case, Evidence, ItemQuery, LedgerEntry, NewReader, Problem, Provider, VerifyReport,
    redacted_url,
};
/// The text encodings of the CSV files kizon reads (kizon-tables).
pub use kizon_tables::encoding;
pub use kizon_vocab::{
    Decision, FindingStatus, ItemKind, Label, Lang, Metric, ReadRole, Severity, Word,
};

/// The protocol file in a study directory.
pub const PROTOCOL_FILE: &str = "study.toml";

/// An open study.
pub struct Study {
    root: PathBuf,
    store: Store,
    /// The owner's key, once unlocked (see [`signing`]).
    owner_key: Option<owner_key::OwnerKey>,
    /// False in a server: a use case that must sign is refused rather than ask for a passphrase.
    may_ask_passphrase: bool,
    /// The web server's key for session digests (see `access`); `None` outside a server.
    session_key: Option<[u8; 32]>,
    /// The encoding of the CSV files this session imports (`--encoding`); `None`: detected.
    csv_encoding: Option<encoding::Encoding>,
    /// Where "now" comes from for the use cases that decide on time (reading sessions).
    clock: clock::Clock,
    /// Decoded frames the viewer showed lately (shared by a server's pooled studies).
    frame_cache: frame_cache::FrameCache,
}

/// The protocol text as it is on disk, with its hash.
pub struct ProtocolText {
    pub text: String,
    pub sha256: String,
}

/// A JSON value as the store holds it, which kizon wrote: one that does not parse was written
/// behind kizon's back, an error naming `what`, never a default in its place.
pub(crate) fn stored_json<T: serde::de::DeserializeOwned>(
    what: &str,
    text: &str,
) -> Result<T, AppError> {
    serde_json::from_str(text).map_err(|e| {
        AppError::Store(kizon_store::StoreError::Tampered(format!(
            "{what}: the stored value does not parse ({e})"
        )))
    })
}

impl Study {
    /// Reads the CSV files this session imports (manifests, reads, reference, results, marks)
    /// as `encoding` instead of detecting it (`--encoding`).
    pub fn set_csv_encoding(&mut self, encoding: Option<encoding::Encoding>) {
        self.csv_encoding = encoding;
    }

    /// Reads "now" from `clock` (tests move a set clock; commands use the system's).
    pub fn set_clock(&mut self, clock: clock::Clock) {
        self.clock = clock;
    }

    /// Shares `cache` as this study's decode cache (a server lends one to every pooled study).
    pub fn set_frame_cache(&mut self, cache: frame_cache::FrameCache) {
        self.frame_cache = cache;
    }

    /// Opens the study in `dir`.
    pub fn open(dir: &Path) -> Result<Study, AppError> {
        let protocol = dir.join(PROTOCOL_FILE);
        if !protocol.is_file() || Store::backend_of(dir).is_none() {
            return Err(AppError::NotAStudy(dir.to_owned()));
        }
        Ok(Study {
            root: dir.to_owned(),
            store: Store::open(dir)?,
            owner_key: None,
            may_ask_passphrase: true,
            session_key: None,
            csv_encoding: None,
            clock: clock::Clock::System,
            frame_cache: frame_cache::FrameCache::default(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// study.toml's path (relative paths shown without a leading `./`).
    pub fn protocol_path(&self) -> PathBuf {
        let path = self.root.join(PROTOCOL_FILE);
        path.strip_prefix(".").map(Path::to_owned).unwrap_or(path)
    }

    /// study.toml as it is now.
    pub fn protocol_text(&self) -> Result<ProtocolText, AppError> {
        let path = self.protocol_path();
        let bytes = fs::read(&path).map_err(error::io(&path))?;
        let sha256 = sha256_hex(&bytes);
        let text = String::from_utf8(bytes).map_err(|_| AppError::Refused {
            what: format!("{}: not UTF-8 text", path.display()),
            hint: "save study.toml as UTF-8".into(),
        })?;
        Ok(ProtocolText { text, sha256 })
    }

    /// Parses study.toml as it is now, locked or not.
    pub fn draft_protocol(&self) -> Result<(Protocol, ProtocolText), AppError> {
        let text = self.protocol_text()?;
        let protocol = Protocol::parse(&text.text).map_err(|source| AppError::Protocol {
            file: self.protocol_path(),
            source,
        })?;
        Ok((protocol, text))
    }

    /// The protocol in force: study.toml, refused if it changed since the lock or last amendment.
    pub fn protocol(&self) -> Result<(Protocol, ProtocolText), AppError> {
        let (protocol, text) = self.draft_protocol()?;
        if let Some(locked) = self.store.locked_hash(locks::PROTOCOL)?
            && locked != text.sha256
        {
            return Err(AppError::ProtocolChanged {
                file: self.protocol_path(),
                locked,
                now: text.sha256,
            });
        }
        Ok((protocol, text))
    }

    /// The audit ledger, oldest first.
    pub fn audit_log(&self) -> Result<Vec<LedgerEntry>, AppError> {
        Ok(self.store.ledger()?)
    }

    /// Checks the ledger, the rows and documents it covers, the head anchor and the owner's
    /// signatures (against the key the study records).
    pub fn verify(&self, expected_head: Option<&str>) -> Result<VerifyReport, AppError> {
        self.verify_signed(expected_head, None)
    }
}

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    kizon_store::ledger::hex(&Sha256::digest(bytes))
}

/// SHA-256 of a file's content, lowercase hex, read in chunks.
pub fn sha256_file(path: &Path) -> Result<String, AppError> {
    use std::io::Read;
    let mut file = fs::File::open(path).map_err(error::io(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(error::io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(kizon_store::ledger::hex(&hasher.finalize()))
}

/// Who acts when neither `--actor` nor `KIZON_ACTOR` says: the operating-system user.
pub fn os_user() -> String {
    for var in ["USER", "LOGNAME", "USERNAME"] {
        if let Ok(name) = std::env::var(var)
            && !name.trim().is_empty()
        {
            return name;
        }
    }
    // No login variables (a service or a container): the owner of this process, by uid.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = fs::metadata("/proc/self") {
            let uid = meta.uid();
            if let Ok(passwd) = fs::read_to_string("/etc/passwd")
                && let Some(name) = passwd.lines().find_map(|line| {
                    let fields: Vec<&str> = line.split(':').collect();
                    (fields.get(2) == Some(&uid.to_string().as_str())).then(|| fields[0].to_owned())
                })
            {
                return name;
            }
            return format!("uid-{uid}");
        }
    }
    "unknown".into()
}

#[cfg(test)]
mod tests;
