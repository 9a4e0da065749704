//! The package's index: every file with its SHA-256, and what `package verify` found.

use super::*;

/// The index's format tag.
pub const FORMAT: &str = "kizon-package-v1";
pub(super) const INDEX: &str = "index.json";
pub(super) const INDEX_MD: &str = "index.md";
/// The exported ledger: outside the index (it holds the entry that records the index's hash).
pub(super) const LEDGER_JSON: &str = "ledger/ledger.json";
/// The owner's signatures of the ledger's checkpoints: outside the index, like the ledger.
pub(super) const SIGNATURES_JSON: &str = "ledger/signatures.json";
/// `audit verify` of the study as it was packaged (`package` refuses a study that fails it).
pub(super) const VERIFICATION_JSON: &str = "ledger/verification.json";
/// The largest ledger export `package verify` reads.
pub(super) const MAX_LEDGER_BYTES: u64 = 1 << 30;

/// The package index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageIndex {
    pub format: String,
    pub study_id: String,
    pub study_title: String,
    pub ledger_head_seq: i64,
    pub ledger_head_hash: String,
    pub dataset_root: Option<String>,
    /// The owner's public key the study records (absent in a study without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_public_key: Option<String>,
    pub files: Vec<PackageFile>,
}

/// One signature as exported to `ledger/signatures.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportedSignature {
    pub seq: i64,
    pub public_key: String,
    pub signature: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PackageFile {
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub title_ja: String,
    pub title_en: String,
}

/// What `package` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct PackageOutcome {
    pub dir: PathBuf,
    pub files: usize,
    pub bytes: u64,
    pub index_sha256: String,
    pub ledger_seq: i64,
}

/// What `package verify` found.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PackageCheck {
    pub files: usize,
    pub altered: Vec<String>,
    pub missing: Vec<String>,
    pub added: Vec<String>,
    /// Problems of the ledger chain, signatures, Merkle root and cross-references, one line each.
    pub problems: Vec<String>,
    /// What was checked against what (the owner's key used), one line each.
    pub notes: Vec<String>,
}

impl PackageCheck {
    pub fn intact(&self) -> bool {
        self.altered.is_empty()
            && self.missing.is_empty()
            && self.added.is_empty()
            && self.problems.is_empty()
    }
}
