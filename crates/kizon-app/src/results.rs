//! The device's results, imported against the locked dataset after the reference lock.
//!
//! `kizon results import FILE --device-version V [--device-file PATH]`: per case a label, a
//! score, or both (and lesion marks). Results are immutable: the same value again adds
//! nothing; a different value for a case and version already imported is not stored but
//! raised as a finding (`device-result-changed`), because a result that changes after the
//! fact is what a reliability investigation asks about.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::reference::{Label, REFERENCE, label_and_score, marks};
use crate::{AppError, Study};
use kizon_tables::read_table;
use kizon_vocab::Severity;

/// What an import of results did.
#[derive(Debug, Clone, Serialize)]
pub struct ResultsImport {
    pub device_version: String,
    pub rows: usize,
    pub new: usize,
    pub unchanged: usize,
    /// Rows that differ from a result already imported: not stored, raised as findings.
    pub changed: usize,
    /// Rows of cases outside the locked dataset (excluded or never ingested): not imported,
    /// listed here and in the ledger entry.
    pub outside_dataset: Vec<String>,
    /// Cases of the locked dataset that have no result of this version after the import (in
    /// the analysis they are "no device result" in the flow diagram, never silently dropped).
    pub missing: Vec<String>,
    /// The protocol's device version, when the results are of another version: a finding
    /// (`device-version-differs`) asks for a decision.
    pub protocol_version: Option<String>,
    pub document: String,
    pub device_file: Option<String>,
    pub ledger_seq: Option<i64>,
}

impl Study {
    pub fn import_results(
        &mut self,
        actor: &str,
        file: &Path,
        device_version: &str,
        device_file: Option<&Path>,
    ) -> Result<ResultsImport, AppError> {
        let device_version = crate::text::name("the device version", device_version)?;
        if device_version.is_empty() {
            return Err(AppError::Refused {
                what: "a device version is needed".into(),
                hint: "say which version produced the results: --device-version 1.0.0".into(),
            });
        }
        let dataset = self.locked_dataset("importing device results")?;
        // A decision to exclude a case waits for the dataset's amendment; after the results it
        // could not come (the analysis set is pre-specified), so it comes first.
        let pending = self.exclusions_pending_amendment()?;
        if !pending.is_empty() {
            return Err(AppError::Refused {
                what: format!(
                    "decisions exclude {} from the locked dataset, which still holds them",
                    pending.join(", ")
                ),
                hint: "amend the dataset first: kizon amend --dataset --reason \"...\" (after the results no case can leave it)".into(),
            });
        }
        if self.store.lock(REFERENCE)?.is_none() {
            return Err(AppError::Refused {
                what: "the reference standard is not locked: device results come after it".into(),
                hint: "fix the reference standard first: kizon lock reference".into(),
            });
        }
        let table = read_table(
            file,
            &["case_id"],
            &["label", "score", "marks"],
            self.csv_encoding,
        )?;
        let in_dataset: BTreeSet<&str> = dataset.case_ids();
        let mut seen = BTreeSet::new();
        let known: BTreeSet<String> = self.store.cases()?.into_iter().map(|c| c.id).collect();
        let mut results = Vec::with_capacity(table.len());
        let mut outside_dataset = Vec::new();
        for (row, cells) in table.rows().enumerate() {
            let case_id = cells.get(0);
            if !known.contains(case_id) {
                return Err(table
                    .error(
                        row,
                        0,
                        format!("no case `{case_id}` in the study"),
                        "results name the study's case ids (`kizon dataset show`)",
                    )
                    .into());
            }
            if !in_dataset.contains(case_id) {
                outside_dataset.push(case_id.to_owned());
                continue;
            }
            if !seen.insert(case_id.to_owned()) {
                return Err(table
                    .error(
                        row,
                        0,
                        format!("case `{case_id}` appears twice"),
                        "give one result per case",
                    )
                    .into());
            }
            let (label, score) = label_and_score(&table, row, 1, 2)?;
            results.push(kizon_store::NewResult {
                case_id: case_id.to_owned(),
                device_version: device_version.to_owned(),
                label,
                score,
                marks: marks(&table, row, 3)?,
                source: String::new(),
                device_file: None,
            });
        }
        // After this import: which dataset cases still have no result of this version.
        let recorded: BTreeSet<String> = self
            .store
            .results()?
            .into_iter()
            .filter(|r| r.device_version == device_version)
            .map(|r| r.case_id)
            .collect();
        let missing: Vec<String> = in_dataset
            .iter()
            .filter(|c| !recorded.contains(**c) && !seen.contains(**c))
            .map(|c| (*c).to_owned())
            .collect();
        let (protocol, _) = self.protocol()?;
        let protocol_version = protocol
            .device
            .version
            .clone()
            .filter(|v| v.trim() != device_version);
        let device_sha = match device_file {
            Some(path) => Some(crate::sha256_file(path)?),
            None => None,
        };
        let mut summary = ResultsImport {
            device_version: device_version.to_owned(),
            rows: results.len(),
            new: 0,
            unchanged: 0,
            changed: 0,
            outside_dataset,
            missing,
            protocol_version: protocol_version.clone(),
            document: String::new(),
            device_file: device_sha.clone(),
            ledger_seq: None,
        };
        let entry = self.store.transact(actor, |tx| {
            let document = tx.put_document_file(file)?;
            summary.document = document.sha256.clone();
            for result in &mut results {
                result.source = document.sha256.clone();
                result.device_file = device_sha.clone();
                match tx.existing_result(&result.case_id, device_version)? {
                    Some(old) if old.label == result.label && old.score == result.score && old.marks == result.marks => {
                        summary.unchanged += 1;
                    }
                    Some(old) => {
                        summary.changed += 1;
                        let show = |label: &Option<Label>, score: Option<f64>| {
                            format!("{}{}", label.map_or("-", Label::as_str), score.map(|s| format!(" ({s})")).unwrap_or_default())
                        };
                        let (was, now) = (show(&old.label, old.score), show(&result.label, result.score));
                        tx.insert_finding(&kizon_store::NewFinding {
                            key: format!("device-result-changed:{device_version}:{}:{}", result.case_id, document.sha256),
                            rule: crate::names::named("device-result-changed"),
                            clause: "Q7".into(),
                            severity: Severity::Blocking,
                            case_ids: serde_json::to_string(&[&result.case_id]).expect("strings serialise"),
                            item_ids: "[]".into(),
                            message_ja: format!(
                                "機器の結果が再取込みで変化しました（版 {device_version}、症例 {}：{was} → {now}）。取込み済みの結果は変更されません。",
                                result.case_id
                            ),
                            message_en: format!(
                                "a re-import changes the device result (version {device_version}, case {}: {was} → {now}); the imported result stays as it was",
                                result.case_id
                            ),
                        })?;
                    }
                    None => {
                        tx.insert_result(result)?;
                        summary.new += 1;
                    }
                }
            }
            if summary.new == 0 && summary.changed == 0 {
                tx.abandon();
                return Ok(None);
            }
            if let Some(planned) = &protocol_version {
                tx.insert_finding(&kizon_store::NewFinding {
                    key: format!("device-version-differs:{device_version}:{planned}"),
                    rule: crate::names::named("device-version-differs"),
                    clause: "Q7".into(),
                    severity: Severity::Warning,
                    case_ids: "[]".into(),
                    item_ids: "[]".into(),
                    message_ja: format!(
                        "取り込んだ被験機器の結果の版（{device_version}）が計画書の版（{planned}）と異なります。試験した版を確認し、理由を記録してください。"
                    ),
                    message_en: format!(
                        "the device results are of version {device_version}, the protocol names version {planned}: confirm which version was tested and record why"
                    ),
                })?;
            }
            tx.record(
                "results import",
                &format!(
                    "{} device results (version {device_version}) from {}{}",
                    summary.new,
                    file.display(),
                    if summary.changed > 0 { format!("; {} changed, raised as findings", summary.changed) } else { String::new() }
                ),
                json!({
                    "file": file.display().to_string(),
                    "document": document.sha256,
                    "device_version": device_version,
                    "device_file_sha256": device_sha,
                    "rows": summary.rows,
                    "new": summary.new,
                    "unchanged": summary.unchanged,
                    "changed": summary.changed,
                    "outside_dataset": summary.outside_dataset,
                }),
            )
            .map(Some)
        })?;
        summary.ledger_seq = entry.map(|e| e.seq);
        Ok(summary)
    }

    pub fn results(&self) -> Result<Vec<kizon_store::DeviceResult>, AppError> {
        Ok(self.store.results()?)
    }
}
