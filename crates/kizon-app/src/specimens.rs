//! Residual specimens (残余検体, Q4): `kizon specimens import FILE --provider NAME`.
//!
//! Each row of a laboratory's export is one specimen and becomes its own case, holding one item
//! of kind `specimen` whose metadata is the typed [`SpecimenRecord`] and whose SHA-256 is that of
//! the record's stored form: one out-of-range value excludes one specimen, never the file, and
//! the dataset's Merkle root fixes every specimen's facts and results. The file itself goes to
//! the document store as it came, so the record can be traced back to its line.
//!
//! The columns are fixed ([`REQUIRED`], [`OPTIONAL`]; `kizon specimens import --help` lists
//! them). The file is UTF-8, UTF-16 or CP932 (detected, or `--encoding`); anything malformed is
//! an error naming the line and column, and nothing is stored. A specimen imported again with
//! the same record adds nothing; with another record it is refused (evidence is never
//! replaced). A file that lies in a signed hand-over is checked with it first.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;
use serde_json::json;

use kizon_formats::Metadata;
use kizon_formats::specimen::Value;
pub use kizon_formats::specimen::{MethodResult, SpecimenRecord};
use kizon_store::{NewCase, NewItem};
use kizon_tables::Columns;
use kizon_vocab::{ItemKind, Label, SpecimenType, StorageTemperature};

use crate::{AppError, Study};

/// Columns every specimen file has.
pub const REQUIRED: [&str; 2] = ["specimen_id", "specimen_type"];

/// Columns a specimen file may have; a missing one reads as empty.
pub const OPTIONAL: [&str; 19] = [
    "case_id",
    "barcode",
    "patient_key",
    "collected_at",
    "collection_date",
    "storage_temperature",
    "freeze_thaw_cycles",
    "haemolysis_index",
    "icterus_index",
    "lipaemia_index",
    "residual_volume_ul",
    "comparator_analysed_at",
    "comparator_value",
    "comparator_unit",
    "comparator_result",
    "device_analysed_at",
    "device_value",
    "device_unit",
    "device_result",
];

/// What an import of specimens did.
#[derive(Debug, Clone, Serialize)]
pub struct SpecimenImport {
    pub provider: String,
    pub rows: usize,
    /// Specimens recorded now (each in a case of its own).
    pub added: usize,
    /// Specimens recorded earlier with the same record.
    pub unchanged: usize,
    /// The file as it came, in the document store.
    pub document: String,
    pub ledger_seq: Option<i64>,
}

/// One row read: its case, patient and record.
struct Row {
    /// The row's index in the table (for errors: the table knows its line).
    index: usize,
    line: u64,
    case_id: String,
    patient_key: Option<String>,
    record: SpecimenRecord,
}

impl Study {
    /// Imports the specimens of `file` from `provider`.
    pub fn import_specimens(
        &mut self,
        actor: &str,
        file: &Path,
        provider: &str,
    ) -> Result<SpecimenImport, AppError> {
        let provider = self
            .store
            .providers()?
            .into_iter()
            .find(|p| p.name == provider)
            .ok_or_else(|| AppError::UnknownProvider {
                name: provider.to_owned(),
                known: self
                    .store
                    .providers()
                    .map(|ps| ps.into_iter().map(|p| p.name).collect())
                    .unwrap_or_default(),
            })?;
        if self.store.lock(crate::dataset::DATASET)?.is_some() {
            return Err(AppError::Refused {
                what: "the dataset is locked: specimens imported now would not be part of it".into(),
                hint: "specimens belong before `kizon lock dataset`; to add cases after it, amend the dataset (`kizon amend --dataset`)".into(),
            });
        }
        // A signed hand-over is its signer's: imported as another provider's, or a provider that
        // signs sending unsigned, is refused as ingest refuses it.
        let handed_over = match self.verify_enclosing_handover(actor, file)? {
            Some((signer, _)) if signer != provider.name => {
                return Err(AppError::Refused {
                    what: format!(
                        "{}: lies in a hand-over signed by `{signer}`, not by `{}`",
                        file.display(),
                        provider.name
                    ),
                    hint: format!("import it with --provider \"{signer}\""),
                });
            }
            Some((_, sha256)) => Some(sha256),
            None if self
                .store
                .provider_keys()?
                .iter()
                .any(|k| k.provider == provider.name) =>
            {
                return Err(AppError::Refused {
                    what: format!(
                        "{}: not in a signed hand-over, and provider `{}` signs its hand-overs (a key is registered)",
                        file.display(),
                        provider.name
                    ),
                    hint: "import the specimen file from the hand-over `kizon deidentify` made at the hospital".into(),
                });
            }
            None => None,
        };
        // The bytes read once: those of a signed hand-over are the ones its manifest names.
        let bytes = Study::read_handed_over(file, handed_over.as_deref())?;
        let table =
            kizon_tables::parse_table(file, &bytes, &REQUIRED, &OPTIONAL, self.csv_encoding)?;
        let rows = read_rows(&table, crate::dates::today())?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();

        // Each recorded specimen by its source: its hash and its specimen id.
        let recorded: HashMap<String, (String, String)> = self
            .items()?
            .into_iter()
            .filter_map(|i| {
                let id = i.metadata.specimen?.specimen_id;
                Some((i.source, (i.sha256, id)))
            })
            .collect();
        let cases: std::collections::HashSet<String> =
            self.store.cases()?.into_iter().map(|c| c.id).collect();
        let mut new = Vec::new();
        let mut unchanged = 0;
        for row in &rows {
            let item = new_item(&provider, row, &name);
            match recorded.get(&item.source) {
                Some((_, id)) if *id != row.record.specimen_id => {
                    return Err(table
                        .error(
                            row.index,
                            k_case_id(),
                            format!("case `{}` holds specimen `{id}` already", row.case_id),
                            "each specimen is its own case: give this row a case_id no other case has",
                        )
                        .into());
                }
                None if cases.contains(&row.case_id) => {
                    return Err(table
                        .error(
                            row.index,
                            k_case_id(),
                            format!("case `{}` exists already (another specimen's, or ingested files')", row.case_id),
                            "each specimen is its own case: give this row a case_id no other case has",
                        )
                        .into());
                }
                None => new.push((row, item)),
                Some((sha256, _)) if *sha256 == item.sha256 => unchanged += 1,
                Some(_) => {
                    return Err(table
                        .error(
                            row.index,
                            0,
                            format!(
                                "specimen `{}` of case `{}` was imported earlier with another record",
                                row.record.specimen_id, row.case_id
                            ),
                            "a recorded specimen is never replaced: ask the provider which record is right, and record the correction as a deviation (kizon deviation add)",
                        )
                        .into());
                }
            }
        }
        let added = new.len();
        let mut ledger_seq = None;
        let document = self.store.transact(actor, |tx| {
            let document = tx.put_document_bytes(&bytes)?;
            if new.is_empty() {
                tx.abandon();
                return Ok(document.sha256);
            }
            for (row, item) in &new {
                let case_is_new = tx.insert_case(&NewCase {
                    id: row.case_id.clone(),
                    provider_id: provider.id,
                    patient_key: row.patient_key.clone(),
                    acquisition_date: None,
                    collection_date: row.record.case_collection_date.clone(),
                    diagnosis: None,
                    diagnosis_date: None,
                    attributes: json!({ "specimen_type": row.record.specimen_type }).to_string(),
                })?;
                // Found new before the transaction: a case there now was written meanwhile by
                // another command, and the specimen does not join it.
                if !case_is_new || !tx.insert_item(item)? {
                    return Err(kizon_store::StoreError::Conflict(format!(
                        "case `{}` was recorded by another command during this import",
                        row.case_id
                    )));
                }
            }
            let by_type: BTreeMap<&str, usize> =
                new.iter().fold(BTreeMap::new(), |mut counts, (row, _)| {
                    *counts.entry(row.record.specimen_type.as_str()).or_default() += 1;
                    counts
                });
            let entry = tx.record(
                "specimens import",
                &format!(
                    "imported {added} specimens from `{}` ({name}), each a case of its own",
                    provider.name
                ),
                json!({
                    "provider": provider.name,
                    "file": name,
                    "document": document.sha256,
                    "specimens": added,
                    "unchanged": unchanged,
                    "by_type": by_type,
                }),
            )?;
            ledger_seq = Some(entry.seq);
            Ok(document.sha256)
        })?;
        Ok(SpecimenImport {
            provider: provider.name,
            rows: rows.len(),
            added,
            unchanged,
            document,
            ledger_seq,
        })
    }
}

/// The column of the case id, for errors.
fn k_case_id() -> usize {
    REQUIRED.len()
        + OPTIONAL
            .iter()
            .position(|c| *c == "case_id")
            .expect("a column")
}

/// The item of a specimen: one per case, so its source names the provider and the case.
fn new_item(provider: &kizon_store::Provider, row: &Row, file_name: &str) -> NewItem {
    let bytes = row.record.canonical_bytes();
    let metadata = Metadata {
        specimen: Some(row.record.clone()),
        ..Metadata::default()
    };
    NewItem {
        provider_id: provider.id,
        case_id: row.case_id.clone(),
        path: format!("{file_name}:{}", row.line),
        // The provider's number, then the case: unambiguous whatever the case id holds.
        source: format!("specimen:{}:{}", provider.id, row.case_id),
        size: bytes.len() as u64,
        modified_ns: 0,
        sha256: crate::sha256_hex(&bytes),
        kind: ItemKind::Specimen,
        metadata: metadata.to_stored(),
        problem: None,
    }
}

/// Every row typed, or the first cell that is not what its column holds.
fn read_rows(table: &Columns, today: time::Date) -> Result<Vec<Row>, AppError> {
    let k = |name: &str| {
        REQUIRED
            .iter()
            .chain(&OPTIONAL)
            .position(|n| *n == name)
            .expect("known column")
    };
    let mut rows = Vec::with_capacity(table.len());
    let mut case_lines: HashMap<String, u64> = HashMap::new();
    for (row, cells) in table.rows().enumerate() {
        let cell = |name: &str| -> Option<String> {
            let value = cells[k(name)].trim();
            (!value.is_empty()).then(|| value.to_owned())
        };
        let fail = |name: &str, problem: String, hint: &str| -> AppError {
            table.error(row, k(name), problem, hint.to_owned()).into()
        };
        let specimen_id = cell("specimen_id").ok_or_else(|| {
            fail(
                "specimen_id",
                "empty".into(),
                "every specimen needs its laboratory id",
            )
        })?;
        // Ids are compared for the same specimen in several cases (Q7): no control or
        // invisible characters that would make one id two.
        for (column, value) in [
            ("specimen_id", Some(&specimen_id)),
            ("barcode", cell("barcode").as_ref()),
        ] {
            if let Some(value) = value
                && (crate::text::identifier(column, value).is_err()
                    || value
                        .chars()
                        .any(|c| matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')))
            {
                return Err(fail(
                    column,
                    format!(
                        "`{}` holds control or invisible characters",
                        value.escape_debug()
                    ),
                    "write the id as the laboratory prints it",
                ));
            }
        }
        let specimen_type = {
            let value = cells[k("specimen_type")].trim();
            SpecimenType::from_cell(value).ok_or_else(|| {
                fail(
                    "specimen_type",
                    format!("`{value}` is not a specimen type"),
                    &format!(
                        "one of {} (or 血清, 血漿, 全血, 尿, 髄液, FFPE, ぬぐい液 …)",
                        SpecimenType::choices()
                    ),
                )
            })?
        };
        let case_id = cell("case_id").unwrap_or_else(|| specimen_id.clone());
        let case_id = crate::text::identifier("the case id", &case_id)
            .map_err(|e| {
                fail(
                    "case_id",
                    e.to_string(),
                    "case ids are short names without control characters",
                )
            })?
            .to_owned();
        if let Some(first) = case_lines.insert(case_id.clone(), table.line(row)) {
            return Err(fail(
                "case_id",
                format!("case `{case_id}` again (first at line {first})"),
                "each specimen is its own case: give every row its own case_id (the patient goes in patient_key)",
            ));
        }
        let date_time = |name: &str| -> Result<Option<String>, AppError> {
            let Some(value) = cell(name) else {
                return Ok(None);
            };
            let iso = crate::dates::normalize_date_time(&value).ok_or_else(|| {
                fail(
                    name,
                    format!("`{value}` is not a date and time"),
                    "write YYYY-MM-DD hh:mm (or YYYY/MM/DD, 和暦), e.g. 2025-10-01 08:30",
                )
            })?;
            if iso[..10] > *today.to_string() {
                return Err(fail(
                    name,
                    format!("`{value}` is in the future (today is {today})"),
                    "existing specimens and their results cannot be dated later than today",
                ));
            }
            Ok(Some(iso))
        };
        let number = |name: &str| -> Result<Option<f64>, AppError> {
            let Some(value) = cell(name) else {
                return Ok(None);
            };
            match value.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
                _ => Err(fail(
                    name,
                    format!("`{value}` is not a number ≥ 0"),
                    "write the index or volume as a plain number (12.5), or leave it empty",
                )),
            }
        };
        let storage = match cell("storage_temperature") {
            None => None,
            Some(value) => Some(StorageTemperature::from_cell(&value).ok_or_else(|| {
                fail(
                    "storage_temperature",
                    format!("`{value}` is not a storage temperature"),
                    &format!(
                        "a temperature in °C (-80, 4) or one of {} (室温, 冷蔵, 冷凍, 超低温)",
                        StorageTemperature::choices()
                    ),
                )
            })?),
        };
        let freeze_thaw_cycles = match cell("freeze_thaw_cycles") {
            None => None,
            Some(value) => Some(value.parse::<u32>().map_err(|_| {
                fail(
                    "freeze_thaw_cycles",
                    format!("`{value}` is not a whole number of cycles"),
                    "write 0, 1, 2 …",
                )
            })?),
        };
        let method = |prefix: &str| -> Result<MethodResult, AppError> {
            let column = |what: &str| format!("{prefix}_{what}");
            let value = match cell(&column("value")) {
                None => None,
                Some(value) => {
                    Value::parse(&value).ok_or_else(|| {
                        fail(
                            &column("value"),
                            format!("`{value}` is not a result value"),
                            "write a number (6.52), or <x / >x for a result below or above what was measured",
                        )
                    })?;
                    Some(value)
                }
            };
            let judgement = match cell(&column("result")) {
                None => None,
                Some(value) => Some(Label::from_cell(&value).ok_or_else(|| {
                    fail(
                        &column("result"),
                        format!("`{value}` is not a judgement"),
                        Label::CHOICES,
                    )
                })?),
            };
            Ok(MethodResult {
                analysed_at: date_time(&column("analysed_at"))?,
                value,
                unit: cell(&column("unit")),
                judgement,
            })
        };
        let record = SpecimenRecord {
            specimen_id,
            barcode: cell("barcode"),
            specimen_type,
            collected_at: date_time("collected_at")?,
            case_collection_date: match cell("collection_date") {
                None => None,
                Some(value) => {
                    if let Some(problem) = crate::dates::problem(&value, today) {
                        return Err(fail(
                            "collection_date",
                            problem,
                            "the day the specimen's case was collected for the test (症例の収集日), e.g. 2025-10-02",
                        ));
                    }
                    crate::dates::normalize(&value).map(|(iso, _)| iso)
                }
            },
            storage: storage.map(|(band, _)| band),
            storage_celsius: storage.and_then(|(_, celsius)| celsius),
            freeze_thaw_cycles,
            haemolysis_index: number("haemolysis_index")?,
            icterus_index: number("icterus_index")?,
            lipaemia_index: number("lipaemia_index")?,
            residual_volume_ul: number("residual_volume_ul")?,
            comparator: method("comparator")?,
            device: method("device")?,
        };
        rows.push(Row {
            index: row,
            line: table.line(row),
            case_id,
            patient_key: cell("patient_key"),
            record,
        });
    }
    if rows.is_empty() {
        return Err(AppError::Refused {
            what: format!(
                "{}: no specimens (a header and no rows)",
                table.file.display()
            ),
            hint: "one row per specimen under the header".into(),
        });
    }
    Ok(rows)
}

/// A specimen as `kizon specimens list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Specimen {
    pub case_id: String,
    pub provider: String,
    /// The file and line it came from.
    pub path: String,
    pub sha256: String,
    pub record: SpecimenRecord,
}

impl Study {
    /// Every specimen recorded, in case order.
    pub fn specimens(&self) -> Result<Vec<Specimen>, AppError> {
        let mut specimens: Vec<Specimen> = self
            .items()?
            .into_iter()
            .filter_map(|item| {
                let record = item.metadata.specimen?;
                Some(Specimen {
                    case_id: item.case_id,
                    provider: item.provider,
                    path: item.path,
                    sha256: item.sha256,
                    record,
                })
            })
            .collect();
        specimens.sort_by(|a, b| a.case_id.cmp(&b.case_id));
        Ok(specimens)
    }
}
