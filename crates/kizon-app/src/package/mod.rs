//! The evidence package for PMDA's reliability investigation (信頼性調査), and its offline check.
//!
//! `kizon package --out DIR` writes everything the investigation reads — the protocol and its
//! amendments, the providers' evidence documents, the ingest manifest with hashes, the findings
//! and decisions, readers, reads and the reference standard, the device's results, the analysis,
//! the report, and the exported ledger with its verification — and an index in Japanese and
//! English (`index.json`, `index.md`) listing every file with its SHA-256.
//!
//! `kizon package verify DIR [--public-key KEY] [--head HASH]` needs no study and no network.
//! The index is bound to the ledger: the package's own `package` entry, the ledger's last,
//! records the index's SHA-256 and is signed by the owner's key, so neither the index nor any
//! file it lists can change without breaking that signature. Verify confines every path to the
//! package (no `..`, absolute paths, links, FIFOs or devices; reads bounded by the declared
//! size), recomputes every file's hash against the index, names every altered, missing or added
//! file, recomputes the whole ledger chain from `ledger/ledger.json` (an empty or shortened
//! ledger is an error), checks the owner's signatures in `ledger/signatures.json`, recomputes the
//! dataset's Merkle root from `dataset/dataset.json`, and checks that the dataset, reference
//! standard and analysis documents are the very ones the ledger's lock and analysis entries name.

mod build;
mod index;
mod verify;

pub use index::*;
pub use verify::*;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::dataset::Dataset;
use crate::error::io;
use crate::{AppError, Study, sha256_hex};

#[cfg(test)]
mod tests {
    #[test]
    fn safe_names_keep_every_script_and_drop_separators() {
        assert_eq!(super::build::safe_name("既存大学病院"), "既存大学病院");
        assert_eq!(
            super::build::safe_name("Hospital A/B: 1"),
            "Hospital_A_B__1"
        );
        assert_eq!(super::build::safe_name("..\\evil"), "_._evil");
        assert_eq!(
            super::build::safe_name("倫理審査（承認）.pdf"),
            "倫理審査（承認）.pdf"
        );
        assert_eq!(super::build::safe_name(""), "_");
    }
}
