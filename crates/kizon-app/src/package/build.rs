//! `package`: the evidence package written beside its target and renamed into place, every file listed in the signed index.

use super::*;

/// Files of the package, built in memory before anything is written.
pub(super) struct Builder {
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
pub(super) fn safe_name(name: &str) -> String {
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
        // Refused before anything is gathered: a package of a study that fails `audit verify`
        // would carry the owner's signature over rows nobody can check from it.
        let verification = self.verify(Some(&head_hash))?;
        crate::signing::refuse_problems("kizon package", &verification.problems)?;
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
            let (kind_ja, kind_en) = e.kind.names();
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

        // Signed hand-overs from the hospitals' side: each manifest as received, and the keys and
        // signatures that verified it (the signed text is `kizon-handover-signature-v1`, a
        // newline and the manifest's SHA-256; Ed25519).
        let handovers = self.handovers()?;
        for h in &handovers {
            b.add(
                &format!(
                    "providers/handovers/{}/{}-handover.json",
                    safe_name(&h.provider),
                    h.id
                ),
                self.read_document(&h.manifest)?,
                &format!("署名付き提供データの目録（仮名加工の内容）: {}", h.provider),
                &format!(
                    "signed hand-over manifest (what was de-identified): {}",
                    h.provider
                ),
            );
        }
        b.json(
            "providers/handovers.json",
            &serde_json::json!({
                "signed_text": "kizon-handover-signature-v1\n<SHA-256 of the manifest>",
                "keys": self.provider_keys()?,
                "handovers": handovers,
            }),
            "署名付き提供データと提供元の署名鍵（Q1, Q5, Q7）",
            "signed hand-overs and the providers' signing keys (Q1, Q5, Q7)",
        );

        let mut manifest = String::from("case_id,provider,path,sha256,size,kind\n");
        self.store.each_item(|item| {
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
            Ok::<(), crate::AppError>(())
        })?;
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
                "specimens import" => (
                    "specimens",
                    "取り込んだ検体記録のファイル",
                    "specimen file as imported",
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
        // Each specimen's record: its stored form is what the item's SHA-256 (and the dataset's
        // Merkle root) hashes, so a reviewer can recompute them.
        let specimens = self.specimens()?;
        if !specimens.is_empty() {
            b.json(
                "dataset/specimens.json",
                &specimens,
                "検体ごとの記録（SHA-256 はその記録の保存形式のハッシュ）",
                "every specimen's record (its SHA-256 hashes the record's stored form)",
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
            VERIFICATION_JSON,
            &verification,
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
        let key = self.signer_after("kizon package", &verification)?;
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

pub(super) fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

pub(super) fn index_markdown(index: &PackageIndex) -> String {
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
