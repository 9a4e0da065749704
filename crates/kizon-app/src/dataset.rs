//! The dataset lock: which cases, with which files, the test is run on.
//!
//! `kizon lock dataset` takes every ingested case that no decision excluded, refuses while a
//! blocking finding on one of them is open or queried (issue: "a case with an unresolved
//! blocking finding cannot enter a locked dataset"), and fixes the cases and their items as a
//! Merkle root over `case_id TAB sha256` leaves. The dataset document (cases, items,
//! exclusions with their reasons) goes to the document store; the root goes to the ledger.
//! Later changes are amendments (`kizon amend --dataset`), and every later step (reference
//! standard, results, analysis, report) reads the dataset in force, never the live tables.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::check::{FindingStatus, FindingView};
use crate::{AppError, Study};

/// The lock kind of the dataset.
pub const DATASET: &str = "dataset";

/// The dataset document's format tag.
pub const FORMAT: &str = "kizon-dataset-v1";

/// A locked dataset, as stored in the document store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub format: String,
    /// `RFC 6962 SHA-256 over "case_id\tsha256" leaves, sorted`.
    pub merkle: String,
    pub merkle_root: String,
    /// Cases ingested, before exclusions.
    pub collected_cases: usize,
    pub cases: Vec<DatasetCase>,
    pub excluded: Vec<Exclusion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetCase {
    pub id: String,
    pub provider: String,
    pub patient_key: Option<String>,
    pub items: Vec<DatasetItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetItem {
    pub sha256: String,
    pub path: String,
    pub kind: kizon_vocab::ItemKind,
}

/// A case left out of the dataset, with the decision behind it (the flow diagram's reasons).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exclusion {
    pub case_id: String,
    pub finding_id: i64,
    pub rule: String,
    pub clause: String,
    pub reason: String,
    /// The reason in English, when the decision gave one (absent otherwise, so that a dataset
    /// locked before it was kept keeps its bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_en: Option<String>,
}

/// What `lock dataset` (or an amendment of it) recorded.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetLock {
    pub merkle_root: String,
    pub document: String,
    pub cases: usize,
    pub items: usize,
    pub excluded: usize,
    pub ledger_seq: i64,
    pub previous_root: Option<String>,
}

const MERKLE: &str = "RFC 6962 SHA-256 over \"case_id\\tsha256\" leaves, sorted";

/// The Merkle tree hash of RFC 6962 §2.1 (Certificate Transparency): a leaf is
/// `SHA-256(0x00 ‖ data)`, a node `SHA-256(0x01 ‖ left ‖ right)`, the split at the largest
/// power of two below the count; the empty tree hashes the empty string.
pub fn merkle_root<D: AsRef<[u8]>>(leaves: &[D]) -> [u8; 32] {
    fn node(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves {
            [one] => *one,
            _ => {
                let split = (leaves.len() - 1).ilog2();
                let k = 1usize << split;
                let mut hasher = Sha256::new();
                hasher.update([1u8]);
                hasher.update(node(&leaves[..k]));
                hasher.update(node(&leaves[k..]));
                hasher.finalize().into()
            }
        }
    }
    if leaves.is_empty() {
        return Sha256::digest([]).into();
    }
    let hashed: Vec<[u8; 32]> = leaves
        .iter()
        .map(|d| {
            let mut hasher = Sha256::new();
            hasher.update([0u8]);
            hasher.update(d.as_ref());
            hasher.finalize().into()
        })
        .collect();
    node(&hashed)
}

impl Dataset {
    /// The leaves of the Merkle tree, in order.
    pub fn leaves(&self) -> Vec<String> {
        let mut leaves: Vec<String> = self
            .cases
            .iter()
            .flat_map(|c| {
                c.items
                    .iter()
                    .map(move |i| format!("{}\t{}", c.id, i.sha256))
            })
            .collect();
        leaves.sort();
        leaves
    }

    /// Recomputes the root from the cases and items listed.
    pub fn computed_root(&self) -> String {
        kizon_store::ledger::hex(&merkle_root(&self.leaves()))
    }

    pub fn case_ids(&self) -> BTreeSet<&str> {
        self.cases.iter().map(|c| c.id.as_str()).collect()
    }

    pub fn items(&self) -> usize {
        self.cases.iter().map(|c| c.items.len()).sum()
    }
}

impl Study {
    /// The dataset as it would be locked now: ingested cases without an exclusion decision.
    pub fn candidate_dataset(&self) -> Result<(Dataset, Vec<FindingView>), AppError> {
        let findings = self.findings()?;
        let mut excluded: Vec<Exclusion> = Vec::new();
        let mut out: BTreeSet<String> = BTreeSet::new();
        for finding in findings
            .iter()
            .filter(|f| f.status == FindingStatus::Excluded)
        {
            for case_id in &finding.excluded_cases {
                if out.insert(case_id.clone()) {
                    // The reason of the decision that excluded this case, not the finding's
                    // latest (one finding may exclude two cases by two decisions).
                    let (reason, reason_en) = finding
                        .exclusion_reasons
                        .get(case_id)
                        .cloned()
                        .unwrap_or_else(|| {
                            (
                                finding.reason.clone().unwrap_or_default(),
                                finding.reason_en.clone(),
                            )
                        });
                    excluded.push(Exclusion {
                        case_id: case_id.clone(),
                        finding_id: finding.id,
                        rule: finding.rule.clone(),
                        clause: finding.clause.clone(),
                        reason,
                        reason_en,
                    });
                }
            }
        }
        excluded.sort_by(|a, b| a.case_id.cmp(&b.case_id));
        let cases = self.store.cases()?;
        let mut items: BTreeMap<String, Vec<DatasetItem>> = BTreeMap::new();
        // Streamed: each row's metadata is dropped as it is read.
        self.store.each_item(|item| {
            items.entry(item.case_id).or_default().push(DatasetItem {
                sha256: item.sha256,
                path: item.path,
                kind: item.kind,
            });
            Ok::<(), AppError>(())
        })?;
        let collected_cases = cases.len();
        let mut included: Vec<DatasetCase> = cases
            .into_iter()
            .filter(|c| !out.contains(&c.id))
            .map(|c| {
                let mut case_items = items.remove(&c.id).unwrap_or_default();
                case_items.sort_by(|a, b| a.sha256.cmp(&b.sha256).then(a.path.cmp(&b.path)));
                DatasetCase {
                    id: c.id,
                    provider: c.provider,
                    patient_key: c.patient_key,
                    items: case_items,
                }
            })
            .collect();
        included.sort_by(|a, b| a.id.cmp(&b.id));
        let mut dataset = Dataset {
            format: FORMAT.into(),
            merkle: MERKLE.into(),
            merkle_root: String::new(),
            collected_cases,
            cases: included,
            excluded,
        };
        dataset.merkle_root = dataset.computed_root();
        let ids = dataset.case_ids();
        let blocking: Vec<FindingView> = findings
            .into_iter()
            .filter(|f| {
                f.is_unresolved_blocking() && f.case_ids.iter().any(|c| ids.contains(c.as_str()))
            })
            .collect();
        Ok((dataset, blocking))
    }

    /// The dataset in force: the locked one or its last amendment; `None` before the lock.
    pub fn dataset(&self) -> Result<Option<Dataset>, AppError> {
        Ok(self.dataset_document()?.map(|(dataset, _)| dataset))
    }

    /// The dataset in force with the SHA-256 of its stored document.
    pub fn dataset_document(&self) -> Result<Option<(Dataset, String)>, AppError> {
        let Some(lock) = self.store.lock(DATASET)? else {
            return Ok(None);
        };
        let document = self
            .store
            .amendments()?
            .into_iter()
            .rfind(|a| a.lock_kind == DATASET)
            .and_then(|a| a.document)
            .or(lock.document)
            .ok_or_else(|| AppError::Refused {
                what: "the dataset lock has no document".into(),
                hint: "run `kizon audit verify`".into(),
            })?;
        let dataset: Dataset = self.read_json_document(&document, "dataset")?;
        Ok(Some((dataset, document)))
    }

    /// The dataset in force, or an error saying to lock it first.
    pub fn locked_dataset(&self, then: &str) -> Result<Dataset, AppError> {
        self.dataset()?.ok_or_else(|| AppError::Refused {
            what: format!("the dataset is not locked yet: {then} needs the locked dataset"),
            hint: "resolve the blocking findings, then `kizon lock dataset`".into(),
        })
    }

    /// Reads a stored document, checking its hash (wherever the study keeps its documents).
    pub fn read_document(&self, sha256: &str) -> Result<Vec<u8>, AppError> {
        Ok(self.store.document(sha256)?)
    }

    /// Reads a stored JSON document (a locked dataset, reference standard or analysis).
    pub(crate) fn read_json_document<T: serde::de::DeserializeOwned>(
        &self,
        sha256: &str,
        what: &str,
    ) -> Result<T, AppError> {
        serde_json::from_slice(&self.read_document(sha256)?).map_err(|e| AppError::Refused {
            what: format!("{what} document {}: {e}", &sha256[..12.min(sha256.len())]),
            hint: "run `kizon audit verify`".into(),
        })
    }

    /// Fixes the dataset: refused before the protocol lock, when it is locked already, when it
    /// is empty, or while a blocking finding on an included case is unresolved.
    pub fn lock_dataset(&mut self, actor: &str) -> Result<DatasetLock, AppError> {
        self.protocol()?;
        if self.store.lock(crate::locks::PROTOCOL)?.is_none() {
            return Err(AppError::Refused {
                what: "the protocol is not locked: the dataset is locked after the protocol".into(),
                hint: "check `kizon plan`, then `kizon lock protocol`".into(),
            });
        }
        if let Some(lock) = self.store.lock(DATASET)? {
            return Err(AppError::Refused {
                what: format!(
                    "the dataset is already locked (ledger entry {}, Merkle root {})",
                    lock.ledger_seq, lock.sha256
                ),
                hint: "change it with `kizon amend --dataset --reason \"...\"`".into(),
            });
        }
        let dataset = self.lockable_dataset()?;
        self.record_dataset(actor, &dataset, None, None)
    }

    /// Records the dataset as it is now as an amendment of the locked one.
    pub fn amend_dataset<'r>(
        &mut self,
        actor: &str,
        reason: impl Into<crate::text::Reason<'r>>,
    ) -> Result<DatasetLock, AppError> {
        let reason =
            crate::locks::required_reason(reason.into(), "kizon amend --dataset --reason \"...\"")?;
        let previous = self.locked_dataset("an amendment")?;
        // Which cases are analysed is pre-specified too: not changed after the results are in.
        self.refuse_after_unblinding(vec!["the locked dataset (the analysis set)".into()])?;
        let dataset = self.lockable_dataset()?;
        if dataset.merkle_root == previous.merkle_root {
            return Err(AppError::Refused {
                what: format!(
                    "the dataset is unchanged (Merkle root {})",
                    previous.merkle_root
                ),
                hint: "exclude or add cases first (`kizon resolve`, `kizon ingest`), then amend"
                    .into(),
            });
        }
        self.record_dataset(actor, &dataset, Some(&previous.merkle_root), Some(reason))
    }

    fn lockable_dataset(&self) -> Result<Dataset, AppError> {
        let (dataset, blocking) = self.candidate_dataset()?;
        if !blocking.is_empty() {
            let listed: Vec<String> = blocking
                .iter()
                .take(5)
                .map(|f| {
                    format!(
                        "{} ({}, {}) on {}",
                        f.id,
                        f.rule,
                        f.clause,
                        f.case_ids.join(" ")
                    )
                })
                .collect();
            let more = blocking.len().saturating_sub(5);
            return Err(AppError::Refused {
                what: format!(
                    "{} blocking finding(s) unresolved: {}{}",
                    blocking.len(),
                    listed.join("; "),
                    if more > 0 { format!("; and {more} more") } else { String::new() }
                ),
                hint: "decide each: kizon resolve ID --exclude-case | --accept --reason \"...\" (`kizon findings --open` lists them)".into(),
            });
        }
        if dataset.cases.is_empty() {
            return Err(AppError::Refused {
                what: "no case to lock: the dataset would be empty".into(),
                hint: "ingest data first: kizon ingest --provider NAME PATH".into(),
            });
        }
        Ok(dataset)
    }

    fn record_dataset(
        &mut self,
        actor: &str,
        dataset: &Dataset,
        previous_root: Option<&str>,
        reason: Option<crate::text::Reason<'_>>,
    ) -> Result<DatasetLock, AppError> {
        let bytes = serde_json::to_vec_pretty(dataset).expect("a dataset serialises");
        let root = dataset.merkle_root.clone();
        let key = self.signer("kizon lock dataset")?;
        let entry = self.store.transact(actor, |tx| {
            let document = tx.put_document_bytes(&bytes)?;
            let detail = json!({
                "merkle_root": root,
                "dataset_document": document.sha256,
                "cases": dataset.cases.len(),
                "items": dataset.items(),
                "excluded": dataset.excluded.len(),
                "previous_root": previous_root,
                "reason": reason.map(|r| r.text), "reason_en": reason.and_then(|r| r.en),
            });
            match previous_root {
                None => {
                    tx.insert_lock(DATASET, &root, Some(&document.sha256))?;
                    crate::signing::record_signed(
                        tx,
                        key.as_ref(),
                        "lock dataset",
                        &format!(
                            "dataset locked: {} cases, {} items, Merkle root {}",
                            dataset.cases.len(),
                            dataset.items(),
                            &root[..12]
                        ),
                        detail,
                    )
                }
                Some(previous) => {
                    tx.insert_amendment(
                        DATASET,
                        previous,
                        &root,
                        reason.map_or("", |r| r.text),
                        reason.and_then(|r| r.en),
                        Some(&document.sha256),
                    )?;
                    crate::signing::record_signed(
                        tx,
                        key.as_ref(),
                        "amend dataset",
                        &format!("dataset amended: {} → {}", &previous[..12], &root[..12]),
                        detail,
                    )
                }
            }
            .map(|entry| (entry, document.sha256))
        })?;
        Ok(DatasetLock {
            merkle_root: root,
            document: entry.1,
            cases: dataset.cases.len(),
            items: dataset.items(),
            excluded: dataset.excluded.len(),
            ledger_seq: entry.0.seq,
            previous_root: previous_root.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Certificate Transparency test vectors (RFC 6962 reference implementation,
    /// `merkle_tree_test.cc`): leaves "", 00, 10, 2021, 3031, 40414243, 5051525354555657,
    /// 606162636465666768696a6b6c6d6e6f and the roots of their prefixes.
    #[test]
    fn rfc6962_test_vectors() {
        let leaves: Vec<Vec<u8>> = [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|h| {
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect();
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        for (n, root) in roots.iter().enumerate() {
            assert_eq!(
                kizon_store::ledger::hex(&merkle_root(&leaves[..=n])),
                *root,
                "{} leaves",
                n + 1
            );
        }
        assert_eq!(
            kizon_store::ledger::hex(&merkle_root::<&[u8]>(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
