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

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::dataset::Dataset;
use crate::error::io;
use crate::{AppError, Study, sha256_hex};

/// The index's format tag.
pub const FORMAT: &str = "kizon-package-v1";
const INDEX: &str = "index.json";
const INDEX_MD: &str = "index.md";
/// The exported ledger: outside the index (it holds the entry that records the index's hash).
const LEDGER_JSON: &str = "ledger/ledger.json";
/// The owner's signatures of the ledger's checkpoints: outside the index, like the ledger.
const SIGNATURES_JSON: &str = "ledger/signatures.json";
/// The largest ledger export `package verify` reads.
const MAX_LEDGER_BYTES: u64 = 1 << 30;

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

/// Files of the package, built in memory before anything is written.
struct Builder {
    files: Vec<(PackageFile, Vec<u8>)>,
}

impl Builder {
    fn add(&mut self, path: &str, bytes: Vec<u8>, title_ja: &str, title_en: &str) {
        self.files.push((
            PackageFile {
                path: path.to_owned(),
                sha256: sha256_hex(&bytes),
                size: bytes.len() as u64,
                title_ja: title_ja.to_owned(),
                title_en: title_en.to_owned(),
            },
            bytes,
        ));
    }

    fn json(&mut self, path: &str, value: &impl Serialize, title_ja: &str, title_en: &str) {
        let mut bytes = serde_json::to_vec_pretty(value).expect("package data serialises");
        bytes.push(b'\n');
        self.add(path, bytes, title_ja, title_en);
    }
}

/// A file name safe on every platform, in any script: letters and digits of every language
/// (a Japanese provider name stays Japanese) and `.-_()（）` are kept; separators, reserved
/// and control characters become `_`; a name cannot start with a dot.
fn safe_name(name: &str) -> String {
    let safe: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '(' | ')' | '（' | '）') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match safe.strip_prefix('.') {
        Some(rest) => format!("_{rest}"),
        None if safe.is_empty() => "_".to_owned(),
        None => safe,
    }
}

impl Study {
    /// Writes the evidence package into `out` (a new or empty directory).
    pub fn package(
        &mut self,
        actor: &str,
        out: &Path,
        reports: Vec<crate::report::ReportFile>,
    ) -> Result<PackageOutcome, AppError> {
        if out.exists() && fs::read_dir(out).map_err(io(out))?.next().is_some() {
            return Err(AppError::Refused {
                what: format!("{}: the directory is not empty", out.display()),
                hint: "give a new or empty directory: kizon package --out DIR".into(),
            });
        }
        let (protocol, protocol_text) = self.protocol()?;
        let Some((head_seq, head_hash)) = self.store.head()? else {
            return Err(AppError::Refused {
                what: "the study has no ledger".into(),
                hint: "run `kizon audit verify`".into(),
            });
        };
        let mut b = Builder { files: Vec::new() };

        b.add(
            "protocol/study.toml",
            protocol_text.text.clone().into_bytes(),
            "試験計画書（現行）",
            "protocol in force",
        );
        let mut versions = BTreeSet::new();
        for lock in self.store.lock(crate::locks::PROTOCOL)?.into_iter() {
            versions.insert(lock.sha256);
        }
        let amendments = self.store.amendments()?;
        for amendment in amendments
            .iter()
            .filter(|a| a.lock_kind == crate::locks::PROTOCOL)
        {
            versions.insert(amendment.new_sha256.clone());
        }
        for sha in &versions {
            b.add(
                &format!("protocol/versions/{sha}.toml"),
                self.read_document(sha)?,
                "固定・改訂された計画書の版",
                "a locked or amended version of the protocol",
            );
        }
        b.json(
            "protocol/amendments.json",
            &amendments,
            "計画書・データセットの改訂と理由",
            "amendments with their reasons",
        );
        b.json(
            "protocol/deviations.json",
            &self.deviations()?,
            "記録された計画からの逸脱",
            "protocol deviations recorded",
        );
        b.json(
            "protocol/plan.json",
            &self.plan(crate::plan::PlanOptions::default())?,
            "規制上の取扱い（Q4, Q5, Q10, Q11）",
            "regulatory plan (Q4, Q5, Q10, Q11)",
        );

        b.json(
            "providers/providers.json",
            &self.providers()?,
            "データ提供元（Q3）",
            "data providers (Q3)",
        );
        let evidence = self.evidence()?;
        for e in &evidence {
            // The kind's name in both languages (Q9's own terms), not its code.
            let (kind_ja, kind_en) = crate::names::evidence_kind(&e.kind);
            b.add(
                &format!(
                    "providers/evidence/{}/{}-{}",
                    safe_name(&e.provider),
                    e.id,
                    safe_name(&e.file_name)
                ),
                self.read_document(&e.document)?,
                &format!("根拠資料（{kind_ja}）: {}", e.provider),
                &format!("evidence document ({kind_en}): {}", e.provider),
            );
        }
        b.json(
            "providers/evidence.json",
            &evidence,
            "根拠資料の一覧（Q6, Q9）",
            "evidence documents (Q6, Q9)",
        );

        let mut manifest = String::from("case_id,provider,path,sha256,size,kind\n");
        for item in self.store.items()? {
            manifest.push_str(&format!(
                "{},{},{},{},{},{}\n",
                csv_cell(&item.case_id),
                csv_cell(&item.provider),
                // Relative to the folder given; a component that looks like a patient ID is
                // not handed over (Q1).
                csv_cell(&kizon_checks::redact_path(&item.path).0),
                item.sha256,
                item.size,
                item.kind
            ));
        }
        b.add(
            "dataset/ingest-manifest.csv",
            manifest.into_bytes(),
            "取込みデータの一覧（ハッシュ付き）",
            "ingest manifest with hashes",
        );
        b.add(
            "dataset/case-list.csv",
            crate::export::case_list_csv(&self.case_list()?, crate::export::CsvEncoding::Utf8Bom),
            "症例一覧表（Q10）",
            "case list (Q10)",
        );
        let dataset = self.dataset_document()?;
        if let Some((_, document)) = &dataset {
            b.add(
                "dataset/dataset.json",
                self.read_document(document)?,
                "固定データセット（症例・ファイル・除外理由、Merkle root）",
                "locked dataset (cases, files, exclusions, Merkle root)",
            );
        }
        b.json(
            "findings/findings.json",
            &self.findings()?,
            "データの疑義と対応（Q1, Q2, Q7）",
            "data doubts and their resolutions (Q1, Q2, Q7)",
        );
        b.json(
            "findings/decisions.json",
            &self.store.resolutions()?,
            "疑義への対応の全履歴（照会・決定、台帳エントリ付き）",
            "every decision on every doubt, in order (queries and decisions, with their ledger entries)",
        );

        b.json(
            "reference/readers.json",
            &self.readers()?,
            "読影者（資格・経験・独立性）",
            "readers (qualification, experience, independence)",
        );
        b.json(
            "reference/reads.json",
            &self.reads()?,
            "個々の読影結果",
            "every individual read",
        );
        // Every file imported as it was given (reads, confirmed diagnoses, device results,
        // marks), the document each import entry of the ledger names: the report says the
        // reading files are in the package, and a reviewer compares them with the rows.
        for entry in self.audit_log()? {
            let (folder, ja, en) = match entry.command.as_str() {
                "reads import" => (
                    "reads",
                    "取り込んだ読影記録ファイル",
                    "reads file as imported",
                ),
                "reference import" => (
                    "reference",
                    "取り込んだ参照標準のファイル",
                    "reference-standard file as imported",
                ),
                "results import" => (
                    "results",
                    "取り込んだ被験機器の結果ファイル",
                    "device-results file as imported",
                ),
                "marks import" => (
                    "marks",
                    "取り込んだ病変マークのファイル",
                    "marks file as imported",
                ),
                _ => continue,
            };
            let detail: serde_json::Value =
                crate::stored_json(&format!("ledger entry {}", entry.seq), &entry.detail)?;
            let Some(document) = detail.get("document").and_then(|d| d.as_str()) else {
                continue;
            };
            b.add(
                &format!(
                    "imports/{folder}/{}-{}",
                    entry.seq,
                    &document[..document.len().min(12)]
                ),
                self.read_document(document)?,
                &format!("{ja}（台帳 {}）", entry.seq),
                &format!("{en} (ledger entry {})", entry.seq),
            );
        }
        let marks = self.store.marks()?;
        if !marks.is_empty() {
            b.json(
                "reference/marks.json",
                &marks,
                "個々の病変マーク（読影者・機器）",
                "every individual lesion mark (readers and device)",
            );
        }
        b.json(
            "reference/reference-records.json",
            &self.store.reference_records()?,
            "確定診断・対照法の記録と原資料の所在",
            "confirmed diagnoses or comparator results with their source records",
        );
        if let Some(lock) = self.store.lock(crate::reference::REFERENCE)? {
            b.add(
                "reference/reference.json",
                self.read_document(&lock.sha256)?,
                "固定された参照標準",
                "locked reference standard",
            );
        }
        b.json(
            "results/results.json",
            &self.results()?,
            "被験機器の結果",
            "device results",
        );
        if let Some((_, output)) = self.latest_analysis()? {
            b.add(
                "analysis/analysis.json",
                self.read_document(&output)?,
                "解析結果（全数値と症例の対応）",
                "analysis (every number with its cases)",
            );
        }
        for report in reports {
            b.add(
                &format!("report/{}", report.name),
                report.bytes,
                &report.title_ja,
                &report.title_en,
            );
        }
        b.json(
            "ledger/verification.json",
            &self.verify(Some(&head_hash))?,
            "監査証跡の検証結果",
            "verification of the audit ledger",
        );

        let index = PackageIndex {
            format: FORMAT.into(),
            study_id: protocol.study.id.clone(),
            study_title: protocol.study.title.clone(),
            ledger_head_seq: head_seq,
            ledger_head_hash: head_hash.clone(),
            dataset_root: dataset.as_ref().map(|(d, _)| d.merkle_root.clone()),
            owner_public_key: self.owner_public_key()?,
            files: b.files.iter().map(|(f, _)| f.clone()).collect(),
        };
        let mut index_bytes = serde_json::to_vec_pretty(&index).expect("index serialises");
        index_bytes.push(b'\n');
        let index_md = index_markdown(&index);

        // Write into a staging directory, then rename: a killed package leaves no half package.
        // A staging folder of this process's own beside `out`, never `out` itself (an `--out`
        // named like a staging folder used to fail after the package entry had committed).
        let staging = out.parent().unwrap_or(Path::new(".")).join(format!(
            ".{}.kizon-partial-{}",
            out.file_name()
                .map_or("package".into(), |n| n.to_string_lossy()),
            std::process::id()
        ));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        for (file, bytes) in &b.files {
            let path = staging.join(&file.path);
            fs::create_dir_all(path.parent().expect("package paths have a folder"))
                .map_err(io(&path))?;
            fs::write(&path, bytes).map_err(io(&path))?;
        }
        fs::write(staging.join(INDEX), &index_bytes).map_err(io(staging.join(INDEX)))?;
        fs::write(staging.join(INDEX_MD), index_md).map_err(io(staging.join(INDEX_MD)))?;

        // The package's own entry binds the index (and through it every file) to the ledger,
        // under the owner's signature; the ledger exported after it ends with that entry.
        let index_sha256 = sha256_hex(&index_bytes);
        let bytes: u64 = b.files.iter().map(|(f, _)| f.size).sum();
        let key = self.signer("kizon package")?;
        let entry = self.store.transact(actor, |tx| {
            // The index names the head read before the files were gathered: if another command
            // (a web login, say) committed meanwhile, this package would not describe the
            // ledger it ends, so it is refused and nothing is recorded.
            if tx.head_seq() != head_seq {
                return Err(kizon_store::StoreError::Conflict(format!(
                    "the ledger moved on while the package was gathered (entry {} was committed meanwhile): run `kizon package` again",
                    tx.head_seq()
                )));
            }
            let entry = crate::signing::record_signed(
                tx,
                key.as_ref(),
                "package",
                &format!("evidence package written: {} files, index sha256 {}", b.files.len(), &index_sha256[..12]),
                json!({ "dir": out.display().to_string(), "index_sha256": index_sha256, "files": b.files.len(), "ledger_head_seq": head_seq, "ledger_head_hash": head_hash }),
            )?;
            Ok(entry)
        })?;
        // The ledger as far as the package's own entry, whatever was committed since.
        let ledger: Vec<kizon_store::LedgerEntry> = self
            .audit_log()?
            .into_iter()
            .filter(|e| e.seq <= entry.seq)
            .collect();
        let mut ledger_bytes = serde_json::to_vec_pretty(&ledger).expect("the ledger serialises");
        ledger_bytes.push(b'\n');
        let signatures: Vec<ExportedSignature> = self
            .store
            .signatures()?
            .into_iter()
            .filter(|(seq, _, _)| *seq <= entry.seq)
            .map(|(seq, public_key, signature)| ExportedSignature {
                seq,
                public_key,
                signature,
            })
            .collect();
        let mut signature_bytes =
            serde_json::to_vec_pretty(&signatures).expect("signatures serialise");
        signature_bytes.push(b'\n');
        for (path, bytes) in [
            (LEDGER_JSON, ledger_bytes),
            (SIGNATURES_JSON, signature_bytes),
        ] {
            let path = staging.join(path);
            fs::create_dir_all(path.parent().expect("ledger/")).map_err(io(&path))?;
            fs::write(&path, bytes).map_err(io(&path))?;
        }
        if out.exists() {
            fs::remove_dir(out).map_err(io(out))?;
        }
        fs::rename(&staging, out).map_err(io(out))?;
        Ok(PackageOutcome {
            dir: out.to_owned(),
            files: b.files.len(),
            bytes,
            index_sha256,
            ledger_seq: entry.seq,
        })
    }
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn index_markdown(index: &PackageIndex) -> String {
    let mut md = format!(
        "# 信頼性調査用資料一覧 / Evidence package index\n\n\
         - 試験 / Study: {} {}\n\
         - 監査証跡の先頭 / Ledger head: {} {}\n\
         - データセットの Merkle root / Dataset Merkle root: {}\n\n\
         各ファイルの SHA-256 は `kizon package verify DIR` で照合できます。/ `kizon package verify DIR` checks every SHA-256 below.\n\n\
         | ファイル / file | 内容 | contents | SHA-256 | bytes |\n|---|---|---|---|---|\n",
        index.study_id,
        index.study_title,
        index.ledger_head_seq,
        index.ledger_head_hash,
        index.dataset_root.as_deref().unwrap_or("-")
    );
    for f in &index.files {
        md.push_str(&format!(
            "| `{}` | {} | {} | `{}` | {} |\n",
            f.path, f.title_ja, f.title_en, f.sha256, f.size
        ));
    }
    md
}

/// Checks a package offline. Fails only when the index itself cannot be read. `public_key`: the
/// owner's key from outside the package (the report's title page); `expected_head`: a ledger
/// hash recorded elsewhere that must be an entry of the package's ledger.
pub fn verify_package(
    dir: &Path,
    public_key: Option<&str>,
    expected_head: Option<&str>,
) -> Result<PackageCheck, AppError> {
    let index_path = dir.join(INDEX);
    let bytes = match read_confined(dir, INDEX, MAX_INDEX_BYTES) {
        Ok(bytes) => bytes,
        Err(Confined::Missing) => {
            return Err(AppError::Refused {
                what: format!("{}: no package index here", index_path.display()),
                hint: "give the directory written by `kizon package --out DIR`".into(),
            });
        }
        Err(Confined::Refused(why)) => {
            return Err(AppError::Refused {
                what: format!("{}: {why}", index_path.display()),
                hint: "give the directory written by `kizon package --out DIR`".into(),
            });
        }
    };
    let index: PackageIndex = serde_json::from_slice(&bytes).map_err(|e| AppError::Refused {
        what: format!("{}: not a kizon package index: {e}", index_path.display()),
        hint: "give the directory written by `kizon package --out DIR`".into(),
    })?;
    let mut check = PackageCheck {
        files: index.files.len(),
        ..PackageCheck::default()
    };
    // The ledger chain, whole, from its first entry to the package's own.
    let mut entries: Vec<kizon_store::LedgerEntry> = Vec::new();
    match read_confined(dir, LEDGER_JSON, MAX_LEDGER_BYTES) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(parsed) => entries = parsed,
            Err(e) => check
                .problems
                .push(format!("{LEDGER_JSON}: not a ledger: {e}")),
        },
        Err(Confined::Missing) => check.problems.push(format!(
            "{LEDGER_JSON} is missing: nothing binds the package to the study's ledger"
        )),
        Err(Confined::Refused(why)) => check.problems.push(format!("{LEDGER_JSON}: {why}")),
    }
    let mut prev = kizon_store::ledger::GENESIS_PREV_HASH.to_owned();
    for (i, e) in entries.iter().enumerate() {
        if e.seq != i as i64 + 1 || e.prev_hash != prev || e.computed_hash() != e.hash {
            check.problems.push(format!(
                "{LEDGER_JSON}: the chain breaks at entry {}",
                e.seq
            ));
            break;
        }
        prev = e.hash.clone();
    }
    let index_sha256 = sha256_hex(&bytes);
    let mut index_bound = false;
    match entries.last() {
        None => check.problems.push(format!(
            "{LEDGER_JSON} holds no entry: a package's ledger runs from the study's creation to the package's own entry"
        )),
        Some(last) => {
            let recorded = last.detail_json().get("index_sha256").and_then(Value::as_str).map(str::to_owned);
            index_bound =
                last.command == "package" && recorded.as_deref() == Some(index_sha256.as_str());
            if !index_bound {
                check.problems.push(format!(
                    "index.json (sha256 {}) is not the index the ledger's last entry records{}: the index or the ledger was changed, or the ledger was shortened",
                    &index_sha256[..12],
                    recorded.map(|r| format!(" ({})", r.chars().take(12).collect::<String>())).unwrap_or_default()
                ));
            }
            let before = entries.iter().rev().nth(1).map(|e| (e.seq, e.hash.as_str()));
            if before != Some((index.ledger_head_seq, index.ledger_head_hash.as_str())) {
                check.problems.push(format!(
                    "{LEDGER_JSON}: the entry before the package's is not the index's head {} {}",
                    index.ledger_head_seq, index.ledger_head_hash
                ));
            }
        }
    }
    let signatures: Vec<ExportedSignature> =
        match read_confined(dir, SIGNATURES_JSON, MAX_LEDGER_BYTES) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                check
                    .problems
                    .push(format!("{SIGNATURES_JSON}: not a list of signatures: {e}"));
                Vec::new()
            }),
            Err(Confined::Missing) => Vec::new(),
            Err(Confined::Refused(why)) => {
                check.problems.push(format!("{SIGNATURES_JSON}: {why}"));
                Vec::new()
            }
        };
    let signatures: Vec<(i64, String, String)> = signatures
        .into_iter()
        .map(|s| (s.seq, s.public_key, s.signature))
        .collect();
    let mut problems = Vec::new();
    crate::signing::check_signatures(
        &entries,
        &signatures,
        public_key,
        &mut problems,
        &mut check.notes,
    );
    check.problems.extend(
        problems
            .into_iter()
            .map(|p| format!("{LEDGER_JSON}: {}", p.message)),
    );
    if let Some(recorded) = crate::signing::recorded_public_key(&entries).map(|(_, k)| k)
        && index.owner_public_key.as_deref() != Some(recorded.as_str())
    {
        check
            .problems
            .push("index.json names another owner's key than the ledger records".into());
    }
    if let Some(head) = expected_head
        && !entries.iter().any(|e| e.hash == head)
    {
        check.problems.push(format!(
            "no entry of {LEDGER_JSON} has the hash {head} given with --head"
        ));
    }
    // Each file is hashed as a stream: memory stays flat whatever the index claims. Only the
    // few documents checked against the ledger below are kept. A path listed twice is refused
    // (hashing one file many times over was a way to make verify run for days).
    let mut contents: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for file in &index.files {
        if !seen.insert(file.path.as_str()) {
            check
                .problems
                .push(format!("index.json lists `{}` more than once", file.path));
            continue;
        }
        // Kept only when of a sane size: a sparse "analysis.json" of gigabytes is hashed as a
        // stream like any other file, never held in memory.
        let keep = KEPT_FOR_CHECKS.contains(&file.path.as_str()) && file.size <= MAX_KEPT_BYTES;
        if !index_bound && file.size > UNBOUND_READ_LIMIT {
            check.problems.push(format!(
                "`{}` ({} bytes) not read: the index is not the one the ledger records, so its large files are not worth hashing",
                file.path, file.size
            ));
            continue;
        }
        match hash_confined(dir, &file.path, file.size, keep) {
            Ok((sha256, bytes)) if sha256 == file.sha256 => {
                if let Some(bytes) = bytes {
                    contents.insert(&file.path, bytes);
                }
            }
            Ok(_) => check.altered.push(file.path.clone()),
            Err(Confined::Missing) => check.missing.push(file.path.clone()),
            Err(Confined::Refused(why)) => {
                check
                    .problems
                    .push(format!("index.json names `{}`: {why}", file.path));
            }
        }
    }
    let listed: BTreeSet<&str> = index
        .files
        .iter()
        .map(|f| f.path.as_str())
        .chain([INDEX, INDEX_MD, LEDGER_JSON, SIGNATURES_JSON])
        .collect();
    let mut present = Vec::new();
    walk(dir, dir, &mut present).map_err(io(dir))?;
    check.added = present
        .into_iter()
        .filter(|p| !listed.contains(p.as_str()))
        .collect();

    // A detail that is not JSON is a problem of its own, never read as empty.
    let mut details: Vec<(String, Value)> = Vec::with_capacity(entries.len());
    for e in &entries {
        match serde_json::from_str(&e.detail) {
            Ok(detail) => details.push((e.command.clone(), detail)),
            Err(error) => check.problems.push(format!(
                "{LEDGER_JSON}: entry {} ({}): its detail is not JSON ({error})",
                e.seq, e.command
            )),
        }
    }
    let last_detail = |commands: &[&str], key: &str| -> Option<String> {
        details
            .iter()
            .rev()
            .find(|(c, _)| commands.contains(&c.as_str()))
            .and_then(|(_, d)| d.get(key).and_then(Value::as_str).map(str::to_owned))
    };

    // The dataset: its Merkle root recomputed, and the document the ledger locked.
    if let Some(bytes) = contents.get("dataset/dataset.json") {
        match serde_json::from_slice::<Dataset>(bytes) {
            Ok(dataset) => {
                let root = dataset.computed_root();
                if root != dataset.merkle_root || Some(&root) != index.dataset_root.as_ref() {
                    check.problems.push(format!("dataset/dataset.json: its cases and files give Merkle root {root}, not the recorded one"));
                }
                if last_detail(&["lock dataset", "amend dataset"], "merkle_root")
                    .is_some_and(|r| r != root)
                {
                    check
                        .problems
                        .push("dataset/dataset.json: not the dataset the ledger locked".into());
                }
            }
            Err(e) => check
                .problems
                .push(format!("dataset/dataset.json: not a dataset: {e}")),
        }
    }
    for (path, commands, key) in [
        (
            "dataset/dataset.json",
            &["lock dataset", "amend dataset"][..],
            "dataset_document",
        ),
        (
            "reference/reference.json",
            &["lock reference"][..],
            "reference_sha256",
        ),
        ("analysis/analysis.json", &["analyze"][..], "output_sha256"),
    ] {
        if let (Some(bytes), Some(expected)) = (contents.get(path), last_detail(commands, key))
            && sha256_hex(bytes) != expected
        {
            check.problems.push(format!(
                "{path}: not the document the ledger records ({} {})",
                commands[0],
                expected.chars().take(12).collect::<String>()
            ));
        }
    }
    Ok(check)
}

/// The largest index `package verify` reads: far beyond a million files' entries.
const MAX_INDEX_BYTES: u64 = 1 << 30;

/// Files larger than this are not hashed when the index is not the one the ledger records.
const UNBOUND_READ_LIMIT: u64 = 256 << 20;

/// The largest document `package verify` keeps in memory to check against the ledger.
const MAX_KEPT_BYTES: u64 = 256 << 20;

/// The documents `package verify` keeps in memory, to check them against the ledger.
const KEPT_FOR_CHECKS: &[&str] = &[
    "dataset/dataset.json",
    "reference/reference.json",
    "analysis/analysis.json",
];

/// Hashes the file `relative` of the package as a stream, confined as [`read_confined`] is; a
/// file whose size is not the `declared` one is altered, and is not read at all. With `keep`,
/// its bytes are returned too.
fn hash_confined(
    root: &Path,
    relative: &str,
    declared: u64,
    keep: bool,
) -> Result<(String, Option<Vec<u8>>), Confined> {
    use sha2::Digest;
    use std::io::Read;
    let (mut file, size) = open_confined(root, relative)?;
    if size != declared {
        return Ok((String::new(), None));
    }
    let mut hasher = sha2::Sha256::new();
    let mut kept = keep.then(|| Vec::with_capacity(size.min(MAX_KEPT_BYTES) as usize));
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(|_| Confined::Missing)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > declared {
            return Ok((String::new(), None));
        }
        hasher.update(&buffer[..n]);
        if let Some(kept) = kept.as_mut() {
            kept.extend_from_slice(&buffer[..n]);
        }
    }
    Ok((kizon_store::ledger::hex(&hasher.finalize()), kept))
}

/// Why a path named by an index was not read.
enum Confined {
    /// Nothing (or nothing regular) is there.
    Missing,
    /// The path leaves the package or is not a plain file: never read.
    Refused(String),
}

/// Reads the whole file `relative` of the package (the index, the ledger, the signatures),
/// confined as [`open_confined`] says, and refused unread when larger than `limit`.
fn read_confined(root: &Path, relative: &str, limit: u64) -> Result<Vec<u8>, Confined> {
    use std::io::Read;
    let (file, size) = open_confined(root, relative)?;
    if size > limit {
        return Err(Confined::Refused(format!(
            "{size} bytes, more than the {limit} a package's `{relative}` can hold"
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|_| Confined::Missing)?;
    Ok(bytes)
}

/// Opens the file `relative` of the package in `root`, refusing whatever a hostile index could
/// use to read outside the package or to hang: an absolute path, `..`, `.` or an empty
/// component, a backslash or drive prefix, a symbolic link anywhere on the way, anything but a
/// regular file (a FIFO, a device). Returns the file and its size.
fn open_confined(root: &Path, relative: &str) -> Result<(fs::File, u64), Confined> {
    let refused = |why: &str| Err(Confined::Refused(why.to_owned()));
    if relative.is_empty()
        || relative.starts_with('/')
        || relative.contains('\\')
        || relative.contains(':')
        || relative.contains('\0')
    {
        return refused("not a relative path inside the package (absolute, a drive, a backslash)");
    }
    let mut path = root.to_path_buf();
    for component in relative.split('/') {
        if component.is_empty() || component == "." || component == ".." {
            return refused("not a path inside the package (`..`, `.` or an empty component)");
        }
        path.push(component);
        match fs::symlink_metadata(&path) {
            Err(_) => return Err(Confined::Missing),
            Ok(meta) if meta.file_type().is_symlink() => {
                return refused("a symbolic link: a package holds plain files only");
            }
            Ok(_) => {}
        }
    }
    let meta = fs::symlink_metadata(&path).map_err(|_| Confined::Missing)?;
    if !meta.file_type().is_file() {
        return refused("not a regular file (a folder, a FIFO or a device)");
    }
    let file = fs::File::open(&path).map_err(|_| Confined::Missing)?;
    Ok((file, meta.len()))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        // `file_type` does not follow links: a link to a folder is listed (as added), not entered.
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else {
            let relative = path.strip_prefix(root).expect("inside the package");
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

#[cfg(test)]
mod tests {
    #[test]
    fn safe_names_keep_every_script_and_drop_separators() {
        assert_eq!(super::safe_name("既存大学病院"), "既存大学病院");
        assert_eq!(super::safe_name("Hospital A/B: 1"), "Hospital_A_B__1");
        assert_eq!(super::safe_name("..\\evil"), "_._evil");
        assert_eq!(
            super::safe_name("倫理審査（承認）.pdf"),
            "倫理審査（承認）.pdf"
        );
        assert_eq!(super::safe_name(""), "_");
    }
}
