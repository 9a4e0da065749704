//! Exports a spreadsheet opens as it is: the 症例一覧表 (case list) that a 2(1) application
//! attaches (Q10), with one row per case collected — provider, data kinds, acquisition date,
//! inclusion or exclusion with its reason, reference standard, device result and agreement —
//! as CSV in UTF-8 with a byte-order mark or in CP932, with Japanese headers, so that Excel on
//! a Japanese PC opens it without an import dialog, or as an Excel workbook ([`crate::xlsx`]).

use std::collections::{BTreeMap, BTreeSet};

use kizon_vocab::ItemKind;
use serde::Serialize;

use crate::reference::Label;
use crate::{AppError, Study};

/// How a CSV export is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvEncoding {
    /// UTF-8 with a byte-order mark (Excel recognises it).
    Utf8Bom,
    /// Windows Shift_JIS, as Japanese hospital systems expect.
    Cp932,
}

/// One row of the case list, typed: the CSV ([`CaseListRow::cells_ja`]) and the report's
/// appendix each print it in their language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseListRow {
    pub case_id: String,
    pub provider: String,
    /// The kinds of its items, each once.
    pub data_kinds: Vec<ItemKind>,
    /// As recorded (dates shifted at the provider stay shifted).
    pub acquisition_date: String,
    /// In the locked dataset; `None` while the dataset is not locked.
    pub included: Option<bool>,
    /// Why it was excluded: each decision that took it out.
    pub exclusions: Vec<CaseExclusion>,
    pub reference: Option<Label>,
    pub device_label: Option<Label>,
    pub device_score: Option<f64>,
    /// Whether device and reference agree; `None` when either is missing or indeterminate.
    pub agreement: Option<bool>,
}

/// A decision that excluded a case: the rule's names, its Q&A item and the reason as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseExclusion {
    pub rule_ja: String,
    pub rule_en: String,
    pub clause: String,
    pub reason: String,
    pub reason_en: Option<String>,
}

/// The case list's headers, in the order of [`CaseListRow::cells_ja`].
pub const CASE_LIST_HEADERS: [&str; 9] = [
    "症例ID",
    "データ提供元",
    "データの種類",
    "撮影日",
    "採否",
    "除外理由",
    "参照標準",
    "被験機器の結果",
    "一致",
];

fn label_ja(label: Label) -> &'static str {
    match label {
        Label::Positive => "陽性",
        Label::Negative => "陰性",
        Label::Indeterminate => "判定不能",
    }
}

impl CaseListRow {
    /// The kinds of its files by name, in Japanese or English (`DICOM 画像、WFDB 波形`).
    pub fn data_kinds_text(&self, english: bool) -> String {
        self.data_kinds
            .iter()
            .map(|k| {
                let (ja, en) = k.names();
                if english { en } else { ja }
            })
            .collect::<Vec<_>>()
            .join(if english { ", " } else { "、" })
    }

    /// Why it was excluded: each decision's rule, Q&A item and reason, in Japanese or English
    /// (the reason as written when no English was given).
    pub fn exclusions_text(&self, english: bool) -> String {
        self.exclusions
            .iter()
            .map(|e| {
                if english {
                    let reason = e.reason_en.as_deref().unwrap_or(&e.reason);
                    format!("{} ({}): {reason}", e.rule_en, e.clause)
                } else {
                    format!("{}（{}）：{}", e.rule_ja, e.clause, e.reason)
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The row's cells in Japanese, in the order of [`CASE_LIST_HEADERS`].
    pub fn cells_ja(&self) -> [String; 9] {
        [
            self.case_id.clone(),
            self.provider.clone(),
            self.data_kinds_text(false),
            self.acquisition_date.clone(),
            match self.included {
                None => "未固定".into(),
                Some(true) => "採用".into(),
                Some(false) => "除外".into(),
            },
            self.exclusions_text(false),
            self.reference.map_or("", label_ja).into(),
            match (self.device_label, self.device_score) {
                (None, score) => score.map(|s| s.to_string()).unwrap_or_default(),
                (Some(label), score) => format!(
                    "{}{}",
                    label_ja(label),
                    score.map(|s| format!("（{s}）")).unwrap_or_default()
                ),
            },
            match self.agreement {
                Some(true) => "一致".into(),
                Some(false) => "不一致".into(),
                None => String::new(),
            },
        ]
    }
}

impl Study {
    /// The 症例一覧表: every case collected, in case order.
    pub fn case_list(&self) -> Result<Vec<CaseListRow>, AppError> {
        let dataset = self.dataset_document()?.map(|(d, _)| d);
        let included: Option<BTreeSet<&str>> = dataset
            .as_ref()
            .map(|d| d.cases.iter().map(|c| c.id.as_str()).collect());
        let mut excluded: BTreeMap<&str, Vec<CaseExclusion>> = BTreeMap::new();
        if let Some(d) = &dataset {
            for e in &d.excluded {
                let (rule_ja, rule_en) = crate::names::rule(&e.rule);
                excluded
                    .entry(e.case_id.as_str())
                    .or_default()
                    .push(CaseExclusion {
                        rule_ja: rule_ja.into(),
                        rule_en: rule_en.into(),
                        clause: e.clause.clone(),
                        // Both as the locked dataset recorded them, whatever was decided later.
                        reason: e.reason.clone(),
                        reason_en: e.reason_en.clone(),
                    });
            }
        }
        let reference = match self.store.lock(crate::reference::REFERENCE)? {
            Some(_) => Some(self.reference_standard()?.0),
            None => None,
        };
        let references = reference.as_ref().map(|r| r.label_of());
        let version = self
            .latest_analysis()?
            .map(|(a, _)| a.inputs.device_version.clone());
        let results: BTreeMap<String, (Option<Label>, Option<f64>)> = self
            .store
            .results()?
            .into_iter()
            .filter(|r| version.as_deref().is_none_or(|v| v == r.device_version))
            .map(|r| (r.case_id, (r.label, r.score)))
            .collect();
        let mut kinds: BTreeMap<String, BTreeSet<ItemKind>> = BTreeMap::new();
        self.store.each_item(|item| {
            kinds.entry(item.case_id).or_default().insert(item.kind);
            Ok::<(), AppError>(())
        })?;
        let mut rows = Vec::new();
        for case in self.store.cases()? {
            let reference_label = references
                .as_ref()
                .and_then(|r| r.get(case.id.as_str()).copied().flatten());
            let device = results.get(&case.id);
            let device_label = device.and_then(|(label, _)| *label);
            let agreement = match (reference_label, device_label) {
                (Some(r), Some(d)) if r != Label::Indeterminate && d != Label::Indeterminate => {
                    Some(r == d)
                }
                _ => None,
            };
            rows.push(CaseListRow {
                included: included.as_ref().map(|set| set.contains(case.id.as_str())),
                exclusions: excluded.remove(case.id.as_str()).unwrap_or_default(),
                data_kinds: kinds
                    .get(&case.id)
                    .map(|k| k.iter().copied().collect())
                    .unwrap_or_default(),
                acquisition_date: case.acquisition_date.clone().unwrap_or_default(),
                reference: reference_label,
                device_label,
                device_score: device.and_then(|(_, score)| *score),
                agreement,
                provider: case.provider,
                case_id: case.id,
            });
        }
        Ok(rows)
    }
}

/// Every individual read as a table for a spreadsheet: reader, case, role, label, score, when,
/// and the ledger entry that recorded it.
pub const READ_HEADERS: [&str; 7] = [
    "読影者",
    "症例ID",
    "役割",
    "判定",
    "スコア",
    "読影日時",
    "台帳エントリ",
];

/// Every device result, per case and version, with the ledger entry that recorded it.
pub const RESULT_HEADERS: [&str; 6] = [
    "症例ID",
    "被験機器の版",
    "判定",
    "スコア",
    "入力ファイル（SHA-256）",
    "台帳エントリ",
];

fn label_cell(label: Option<Label>) -> String {
    label.map(label_ja).unwrap_or_default().to_owned()
}

impl Study {
    /// The reads as rows of [`READ_HEADERS`].
    pub fn read_rows(&self) -> Result<Vec<Vec<String>>, AppError> {
        Ok(self
            .store
            .reads()?
            .into_iter()
            .map(|r| {
                vec![
                    r.reader,
                    r.case_id,
                    r.role.to_string(),
                    label_cell(r.label),
                    r.score.map(|s| s.to_string()).unwrap_or_default(),
                    r.read_at.unwrap_or_default(),
                    r.ledger_seq.to_string(),
                ]
            })
            .collect())
    }

    /// The device results as rows of [`RESULT_HEADERS`].
    pub fn result_rows(&self) -> Result<Vec<Vec<String>>, AppError> {
        Ok(self
            .store
            .results()?
            .into_iter()
            .map(|r| {
                vec![
                    r.case_id,
                    r.device_version,
                    label_cell(r.label),
                    r.score.map(|s| s.to_string()).unwrap_or_default(),
                    r.source,
                    r.ledger_seq.to_string(),
                ]
            })
            .collect())
    }
}

/// Rows under `headers` as CSV bytes in `encoding`.
pub fn table_csv(headers: &[&str], rows: &[Vec<String>], encoding: CsvEncoding) -> Vec<u8> {
    let mut text = headers.join(",");
    text.push_str("\r\n");
    for row in rows {
        text.push_str(
            &row.iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        text.push_str("\r\n");
    }
    encode(&text, encoding)
}

/// How an export is written: CSV in an encoding, or an Excel workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv(CsvEncoding),
    Xlsx,
}

/// A table as the bytes of `format`: CSV with the headers first, or a one-sheet workbook named
/// `sheet` with the headers in bold and frozen.
pub fn table_bytes(
    sheet: &str,
    headers: &[&str],
    rows: &[Vec<String>],
    format: ExportFormat,
) -> Vec<u8> {
    match format {
        ExportFormat::Csv(encoding) => table_csv(headers, rows, encoding),
        ExportFormat::Xlsx => crate::xlsx::workbook(sheet, headers, rows),
    }
}

/// The case list as CSV bytes in `encoding`, with the Japanese headers.
pub fn case_list_csv(rows: &[CaseListRow], encoding: CsvEncoding) -> Vec<u8> {
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.cells_ja().to_vec()).collect();
    table_csv(&CASE_LIST_HEADERS, &rows, encoding)
}

/// Text as CSV bytes: UTF-8 with a byte-order mark, or CP932 (characters CP932 lacks become
/// HTML numeric references, as Windows itself writes them, never dropped).
pub fn encode(text: &str, encoding: CsvEncoding) -> Vec<u8> {
    match encoding {
        CsvEncoding::Utf8Bom => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
        CsvEncoding::Cp932 => encoding_rs::SHIFT_JIS.encode(text).0.into_owned(),
    }
}

/// A CSV cell. A text that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab
/// or a carriage return first) is prefixed with `'`, so that a case id or a reason can never
/// run as a formula when the case list is opened (OWASP: CSV injection).
fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}
