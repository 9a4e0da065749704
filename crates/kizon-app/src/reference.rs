//! The reference standard (正解): an expert panel's reads and their consensus (2(1)), the
//! linked confirmed diagnosis with a pointer to its source record (2(2), Q7's source data
//! verification), or a comparator method's result (agreement, not accuracy).
//!
//! - `readers add`: the reader registry (qualification, specialty, years, independence).
//! - `reads import FILE`: every individual read is kept; a second, different read of the same
//!   case by the same reader in the same role is refused (reads are evidence, never edited).
//! - `reference import FILE`: confirmed diagnoses or comparator results, one per case.
//! - `lock reference`: the reference standard of every case of the locked dataset, decided by
//!   the protocol's `[reference]` rule, stored as a document whose hash the ledger keeps —
//!   before any device result can be imported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kizon_protocol::{Consensus, ReferencePlan, ReferenceStandard};
use kizon_stats::{Estimate, KappaWeights};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{AppError, Study};
use kizon_tables::read_table;

/// The lock kind of the reference standard.
pub const REFERENCE: &str = "reference";

/// A binary reading or result.
pub use kizon_vocab::{Label, ReadRole};

/// A reader as registered.
pub use kizon_store::{NewReader, Reader};

/// What the store already holds of a read (the same reader, case and role).
pub(crate) enum Recorded {
    Nothing,
    /// The same label, score and marks.
    Same(kizon_store::Read),
    /// Another read: it stays, and the new one is refused (a read is never replaced).
    Other(kizon_store::Read),
}

/// The one place that compares a read with what is recorded. Both doors that record reads
/// (a file import, a reader's read in the browser) refuse [`Recorded::Other`]; a file import
/// counts [`Recorded::Same`] as unchanged, the browser refuses it as a second read.
pub(crate) fn recorded(
    tx: &mut kizon_store::Tx<'_>,
    read: &kizon_store::NewRead,
) -> Result<Recorded, kizon_store::StoreError> {
    Ok(
        match tx.existing_read(read.reader_id, &read.case_id, &read.role)? {
            None => Recorded::Nothing,
            Some(old)
                if old.label == read.label
                    && old.score == read.score
                    && old.marks == read.marks =>
            {
                Recorded::Same(old)
            }
            Some(old) => Recorded::Other(old),
        },
    )
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub rows: usize,
    pub new: usize,
    pub unchanged: usize,
    /// SHA-256 of the imported file, kept in the document store.
    pub document: String,
    pub ledger_seq: Option<i64>,
}

/// A case's reference standard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReference {
    pub case_id: String,
    /// `None`: undecided (too few reads, or a disagreement without an adjudicator).
    pub label: Option<Label>,
    /// `panel-consensus`, `adjudicator`, `confirmed-diagnosis`, `comparator-method` or `none`.
    pub basis: String,
    pub votes: Votes,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Votes {
    pub positive: u32,
    pub negative: u32,
    pub indeterminate: u32,
}

impl Votes {
    fn add(&mut self, label: Label) {
        match label {
            Label::Positive => self.positive += 1,
            Label::Negative => self.negative += 1,
            Label::Indeterminate => self.indeterminate += 1,
        }
    }

    fn total(&self) -> u32 {
        self.positive + self.negative + self.indeterminate
    }

    /// The label every vote gave, if they agree.
    fn unanimous(&self) -> Option<Label> {
        let n = self.total();
        [
            (self.positive, Label::Positive),
            (self.negative, Label::Negative),
            (self.indeterminate, Label::Indeterminate),
        ]
        .into_iter()
        .find(|(count, _)| *count == n && n > 0)
        .map(|(_, label)| label)
    }

    /// The label more than half the votes gave.
    fn majority(&self) -> Option<Label> {
        let n = self.total();
        [
            (self.positive, Label::Positive),
            (self.negative, Label::Negative),
            (self.indeterminate, Label::Indeterminate),
        ]
        .into_iter()
        .find(|(count, _)| 2 * count > n)
        .map(|(_, label)| label)
    }
}

/// Decides one case from its panel votes and the adjudicator's read, by the protocol's rule.
///
/// A case with fewer than `minimum_reads` panel reads stays undecided. A disagreement the rule
/// cannot settle goes to the adjudicator; without one the case stays undecided, and the report
/// counts it as "no reference standard" (STARD 2015 item 19).
pub fn consensus(
    rule: &ReferencePlan,
    votes: Votes,
    adjudicator: Option<Label>,
) -> (Option<Label>, &'static str, Option<String>) {
    if votes.total() < rule.minimum_reads {
        return (
            None,
            "none",
            Some(format!(
                "{} panel read(s), {} required",
                votes.total(),
                rule.minimum_reads
            )),
        );
    }
    let settled = match rule.consensus {
        Consensus::Majority => votes.majority(),
        Consensus::Unanimous | Consensus::Adjudicator => votes.unanimous(),
        Consensus::KOfN => {
            let k = rule.k.unwrap_or(1);
            Some(if votes.positive >= k {
                Label::Positive
            } else {
                Label::Negative
            })
        }
    };
    match (settled, adjudicator) {
        (Some(label), _) => (Some(label), "panel-consensus", None),
        (None, Some(label)) => (Some(label), "adjudicator", None),
        (None, None) => (
            None,
            "none",
            Some("the panel disagrees and no adjudicator read it".into()),
        ),
    }
}

/// Inter-reader agreement of the panel (Cohen 1960 pairwise, Fleiss 1971 over all readers).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PanelAgreement {
    pub pairwise: Vec<PairKappa>,
    /// Over the cases read by every panel reader.
    pub fleiss: Option<FleissSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PairKappa {
    pub reader_a: String,
    pub reader_b: String,
    pub cases: usize,
    pub kappa: Option<Estimate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FleissSummary {
    pub readers: usize,
    pub cases: usize,
    pub kappa: Estimate,
}

/// The reference standard of a study, locked or as it would be locked now.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReferenceStandardDoc {
    pub format: String,
    pub kind: ReferenceStandard,
    pub rule: Option<ReferenceRule>,
    pub dataset_root: String,
    pub cases: Vec<CaseReference>,
    pub readers: Vec<String>,
    pub reads: usize,
    pub agreement: Option<PanelAgreement>,
    /// The lesions (with `[lesions]` in the protocol and panel marks): absent otherwise, so a
    /// study without lesions locks the same document as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesions: Option<crate::lesions::LesionReference>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReferenceRule {
    pub consensus: Consensus,
    pub k: Option<u32>,
    pub minimum_reads: u32,
}

impl ReferenceStandardDoc {
    pub fn decided(&self) -> usize {
        self.cases.iter().filter(|c| c.label.is_some()).count()
    }

    /// Cases whose reference standard is `label`.
    pub fn count(&self, label: Label) -> usize {
        self.cases.iter().filter(|c| c.label == Some(label)).count()
    }

    pub fn label_of(&self) -> BTreeMap<&str, Option<Label>> {
        self.cases
            .iter()
            .map(|c| (c.case_id.as_str(), c.label))
            .collect()
    }
}

/// What `lock reference` recorded.
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceLock {
    pub sha256: String,
    pub cases: usize,
    pub decided: usize,
    pub positive: usize,
    pub negative: usize,
    /// Lesions of the reference standard (absent without a lesion reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lesions: Option<usize>,
    pub ledger_seq: i64,
}

impl Study {
    pub fn add_reader(&mut self, actor: &str, reader: &NewReader) -> Result<Reader, AppError> {
        crate::text::identifier("the reader code", &reader.code)?;
        crate::text::name("the reader's qualification", &reader.qualification)?;
        if let Some(en) = &reader.qualification_en {
            crate::text::name("the reader's qualification in English", en)?;
        }
        crate::text::name("the reader's specialty", &reader.specialty)?;
        if let Some(declaration) = &reader.declaration {
            crate::text::reason("the reader's declaration", declaration, "state it briefly")?;
        }
        if reader.code.trim().is_empty() || reader.code.chars().any(char::is_whitespace) {
            return Err(AppError::Refused {
                what: format!("reader code `{}` is empty or has spaces", reader.code),
                hint: "use a short code such as R1; names stay out of the study".into(),
            });
        }
        if !(0..=70).contains(&reader.years_experience) {
            return Err(AppError::Refused {
                what: format!(
                    "{} years of experience is not plausible",
                    reader.years_experience
                ),
                hint: "give whole years, e.g. --years 12".into(),
            });
        }
        // The readers of a reader study (a session with a modality in `[reading]`) may join after
        // the reference lock: their reads are study data in their conditions, never reference
        // (panel reads close with the lock).
        let reader_study = self
            .reading_plan()?
            .declared_sessions
            .iter()
            .any(|s| s.modality.is_some());
        if !reader_study {
            self.refuse_after_reference_lock("registering a reader")?;
        }
        self.store.transact(actor, |tx| {
            tx.insert_reader(reader)?;
            tx.record(
                "readers add",
                &format!(
                    "reader {} ({}, {} years)",
                    reader.code, reader.specialty, reader.years_experience
                ),
                json!({ "reader": reader }),
            )
        })?;
        Ok(self
            .store
            .readers()?
            .into_iter()
            .find(|r| r.code == reader.code)
            .expect("reader just added"))
    }

    pub fn readers(&self) -> Result<Vec<Reader>, AppError> {
        Ok(self.store.readers()?)
    }

    pub fn reads(&self) -> Result<Vec<kizon_store::Read>, AppError> {
        Ok(self.store.reads()?)
    }

    pub(crate) fn refuse_after_reference_lock(&self, what: &str) -> Result<(), AppError> {
        if let Some(lock) = self.store.lock(REFERENCE)? {
            return Err(AppError::Refused {
                what: format!(
                    "the reference standard is locked (ledger entry {}): {what} would change it",
                    lock.ledger_seq
                ),
                hint: "the reference standard is fixed before device results; record why in a protocol amendment if it must change".into(),
            });
        }
        Ok(())
    }

    /// Imports panel or adjudicator reads: columns `reader`, `case_id`, and `label` and/or
    /// `score`; optional `role` (`panel` or `adjudicator`, else `default_role`), `marks`
    /// (JSON), `read_at`.
    pub fn import_reads(
        &mut self,
        actor: &str,
        file: &Path,
        default_role: ReadRole,
    ) -> Result<ImportSummary, AppError> {
        self.import_reads_as(actor, file, default_role, None)
    }

    /// Imports the reads of a multi-reader multi-case (MRMC) reader study in one modality
    /// (e.g. without and with the device): the same columns, a `score` (rating) on every row.
    /// They are study data, not reference: only after the dataset and reference locks, stored
    /// with the role `modality:M`, and never replaced.
    pub fn import_reader_study(
        &mut self,
        actor: &str,
        file: &Path,
        modality: &str,
    ) -> Result<ImportSummary, AppError> {
        let modality = modality.trim();
        if modality.is_empty() || modality.contains(char::is_whitespace) {
            return Err(AppError::Refused {
                what: format!("modality `{modality}` is empty or has spaces"),
                hint: "name the reading condition in one word, e.g. --modality unaided / --modality aided".into(),
            });
        }
        self.locked_dataset("importing reader-study reads")?;
        if self.store.lock(REFERENCE)?.is_none() {
            return Err(AppError::Refused {
                what: "the reference standard is not locked: reader-study reads come after it"
                    .into(),
                hint: "fix the reference standard first: kizon lock reference".into(),
            });
        }
        self.import_reads_as(actor, file, ReadRole::Panel, Some(modality))
    }

    fn import_reads_as(
        &mut self,
        actor: &str,
        file: &Path,
        default_role: ReadRole,
        modality: Option<&str>,
    ) -> Result<ImportSummary, AppError> {
        if modality.is_none() {
            self.refuse_after_reference_lock("importing reads")?;
        }
        let table = read_table(
            file,
            &["reader", "case_id"],
            &["label", "score", "role", "marks", "read_at"],
            self.csv_encoding,
        )?;
        let readers: BTreeMap<String, i64> = self
            .store
            .readers()?
            .into_iter()
            .map(|r| (r.code, r.id))
            .collect();
        let cases: BTreeSet<String> = self.store.cases()?.into_iter().map(|c| c.id).collect();
        // Once the dataset is locked, reads are of its cases: an excluded case is not read.
        let locked: Option<BTreeSet<String>> = self
            .dataset_document()?
            .map(|(d, _)| d.cases.into_iter().map(|c| c.id).collect());
        let mut rows = Vec::with_capacity(table.len());
        for (row, cells) in table.rows().enumerate() {
            let reader = &cells[0];
            let Some(&reader_id) = readers.get(reader) else {
                return Err(table.error(
                    row,
                    0,
                    format!("unknown reader `{reader}`"),
                    "register readers first: kizon readers add CODE --qualification ... --specialty ... --years N --independent",
                ).into());
            };
            let case_id = cells.get(1);
            if !cases.contains(case_id) {
                return Err(table
                    .error(
                        row,
                        1,
                        format!("no case `{case_id}` in the study"),
                        "case ids are those of `kizon items`; ingest the case's data first",
                    )
                    .into());
            }
            if let Some(locked) = &locked
                && !locked.contains(case_id)
            {
                return Err(table
                    .error(
                        row,
                        1,
                        format!("case `{case_id}` is not in the locked dataset (it was excluded)"),
                        "read only the dataset's cases: kizon dataset show",
                    )
                    .into());
            }
            let (label, score) = label_and_score(&table, row, 2, 3)?;
            let role = match (modality, cells.get(4)) {
                (Some(m), "") => {
                    if score.is_none() {
                        return Err(table.error(
                            row,
                            3,
                            "empty: a reader-study read needs its rating".into(),
                            "give every case a score (a rating such as 1–5 or a probability); the MRMC analysis compares AUCs",
                        ).into());
                    }
                    ReadRole::Modality(m.to_owned())
                }
                (Some(_), other) => {
                    return Err(table
                        .error(
                            row,
                            4,
                            format!("`{other}`: a reader-study read has no role"),
                            "leave the role column empty; --modality names the reading condition",
                        )
                        .into());
                }
                (None, "") => default_role.clone(),
                (None, "panel") => ReadRole::Panel,
                (None, "adjudicator") => ReadRole::Adjudicator,
                (None, other) => {
                    return Err(table
                        .error(
                            row,
                            4,
                            format!("`{other}` is not a role"),
                            "use panel or adjudicator",
                        )
                        .into());
                }
            };
            let marks = marks(&table, row, 5)?;
            rows.push(kizon_store::NewRead {
                reader_id,
                case_id: case_id.to_owned(),
                role,
                label,
                score,
                marks,
                read_at: Some(cells.get(6).to_owned()).filter(|s| !s.is_empty()),
                source: String::new(),
            });
        }
        // The same reader, case and role twice in one file: the second line is named with the
        // first, whether it repeats it or contradicts it (a read is given once).
        let mut first_line: BTreeMap<(i64, &str, &ReadRole), usize> = BTreeMap::new();
        for (row, read) in rows.iter().enumerate() {
            if let Some(&first) =
                first_line.get(&(read.reader_id, read.case_id.as_str(), &read.role))
            {
                let same = rows[first].label == read.label
                    && rows[first].score == read.score
                    && rows[first].marks == read.marks;
                return Err(table.error(
                    row,
                    1,
                    format!(
                        "reader {} and case {} ({}) again: line {} {} line {}",
                        table.cell(row, 0),
                        read.case_id,
                        read.role,
                        table.line(row),
                        if same { "repeats" } else { "contradicts" },
                        table.line(first)
                    ),
                    "give each reader's read of a case once; a re-read by the same reader needs another role",
                ).into());
            }
            first_line.insert((read.reader_id, read.case_id.as_str(), &read.role), row);
        }
        let mut summary = ImportSummary {
            rows: rows.len(),
            new: 0,
            unchanged: 0,
            document: String::new(),
            ledger_seq: None,
        };
        let entry = self.store.transact(actor, |tx| {
            // Every row is compared with what is recorded before anything is written: a refusal
            // leaves nothing behind, and a file that adds nothing stores nothing.
            let mut fresh = Vec::new();
            for (row, read) in rows.iter().enumerate() {
                match recorded(tx, read)? {
                    Recorded::Same(_) => {
                        summary.unchanged += 1;
                    }
                    Recorded::Other(old) => {
                        return Err(kizon_store::StoreError::Conflict(format!(
                            "{}:{}: reader {} already read case {} as {} (ledger entry {}); a read is never replaced",
                            file.display(),
                            table.line(row),
                            old.reader,
                            old.case_id,
                            old.label.map(Label::as_str).or(old.score.map(|_| "a score")).unwrap_or("-"),
                            old.ledger_seq
                        )));
                    }
                    Recorded::Nothing => fresh.push(row),
                }
            }
            if fresh.is_empty() {
                return Ok(None);
            }
            let document = tx.put_document_file(file)?;
            summary.document = document.sha256.clone();
            for row in fresh {
                rows[row].source = document.sha256.clone();
                tx.insert_read(&rows[row])?;
                summary.new += 1;
            }
            tx.record(
                "reads import",
                &format!("{} reads from {}", summary.new, file.display()),
                json!({ "file": file.display().to_string(), "document": document.sha256, "rows": rows.len(), "new": summary.new, "unchanged": summary.unchanged }),
            )
            .map(Some)
        });
        let entry = entry.map_err(|e| match e {
            kizon_store::StoreError::Conflict(what) => AppError::Refused {
                what,
                hint: "every individual read is kept as it was first given: a different read of the same case by the same reader is refused; fix the file, or give a second opinion another role".into(),
            },
            other => other.into(),
        })?;
        summary.ledger_seq = entry.map(|e| e.seq);
        Ok(summary)
    }

    /// Imports confirmed diagnoses (2(2)) or comparator results: columns `case_id`, `label`;
    /// for a confirmed diagnosis also `source_document` and `source_location` (where the
    /// provider keeps the record, for source data verification), optional `diagnosis`,
    /// `diagnosis_date`, `source_date`, and `source_document_en` (the source document's name in
    /// English, for the English report; without it both reports print it as written).
    pub fn import_reference(
        &mut self,
        actor: &str,
        file: &Path,
    ) -> Result<ImportSummary, AppError> {
        self.refuse_after_reference_lock("importing reference records")?;
        let today = crate::dates::today();
        let (protocol, _) = self.protocol()?;
        let kind = protocol.design.reference_standard;
        if kind == ReferenceStandard::ExpertPanel {
            return Err(AppError::Refused {
                what: "the protocol's reference standard is an expert panel: its reference comes from reads".into(),
                hint: "import the readers' reads with `kizon reads import FILE`".into(),
            });
        }
        let confirmed = kind == ReferenceStandard::ConfirmedDiagnosis;
        let handed_over = self
            .verify_enclosing_handover(actor, file)?
            .map(|(_, sha256)| sha256);
        let required: &[&str] = if confirmed {
            &["case_id", "label", "source_document", "source_location"]
        } else {
            &["case_id", "label"]
        };
        let optional: &[&str] = if confirmed {
            &[
                "diagnosis",
                "diagnosis_date",
                "source_date",
                "source_document_en",
            ]
        } else {
            &[
                "diagnosis",
                "diagnosis_date",
                "source_date",
                "source_document",
                "source_document_en",
                "source_location",
            ]
        };
        // The bytes read once: those of a signed hand-over are the ones its manifest names.
        let bytes = Study::read_handed_over(file, handed_over.as_deref())?;
        let table = kizon_tables::parse_table(file, &bytes, required, optional, self.csv_encoding)?;
        let k = |name: &str| {
            required
                .iter()
                .chain(optional)
                .position(|n| *n == name)
                .expect("known column")
        };
        let cases: BTreeSet<String> = self.store.cases()?.into_iter().map(|c| c.id).collect();
        let mut records = Vec::new();
        let mut seen: BTreeMap<String, u64> = BTreeMap::new();
        for (row, cells) in table.rows().enumerate() {
            let case_id = cells.get(k("case_id"));
            if !cases.contains(case_id) {
                return Err(table
                    .error(
                        row,
                        k("case_id"),
                        format!("no case `{case_id}` in the study"),
                        "case ids are those of `kizon items`",
                    )
                    .into());
            }
            if let Some(first) = seen.insert(case_id.to_owned(), table.line(row)) {
                return Err(table
                    .error(
                        row,
                        k("case_id"),
                        format!("case `{case_id}` again (first at line {first})"),
                        "give one reference per case",
                    )
                    .into());
            }
            let label = Label::from_cell(&cells[k("label")]).ok_or_else(|| {
                table.error(
                    row,
                    k("label"),
                    format!("`{}` is not a label", &cells[k("label")]),
                    Label::CHOICES,
                )
            })?;
            for (name, hint) in [
                (
                    "source_document",
                    "name the source record (e.g. 病理診断報告書 / pathology report)",
                ),
                (
                    "source_location",
                    "say where the provider keeps it (e.g. hospital EHR, pathology archive)",
                ),
            ] {
                if confirmed && cells[k(name)].is_empty() {
                    return Err(table.error(
                        row,
                        k(name),
                        "empty: a confirmed diagnosis needs a pointer to its source record (Q7, source data verification)".into(),
                        hint,
                    ).into());
                }
            }
            for name in ["diagnosis_date", "source_date"] {
                let value = &cells[k(name)];
                if !value.is_empty()
                    && let Some(problem) = crate::dates::problem(value, today)
                {
                    return Err(table
                        .error(
                            row,
                            k(name),
                            problem,
                            "write dates as YYYY-MM-DD, on or before today",
                        )
                        .into());
                }
            }
            // Dates as ISO (2024/4/1 and 和暦 normalised); the file itself keeps what was written.
            let text = |name: &str| {
                let cell = cells.get(k(name)).to_owned();
                let cell = if name.ends_with("_date") {
                    crate::dates::normalize(&cell).map_or(cell, |(iso, _)| iso)
                } else {
                    cell
                };
                Some(cell).filter(|s| !s.is_empty())
            };
            records.push(kizon_store::NewReferenceRecord {
                case_id: case_id.to_owned(),
                kind: kind.as_str().to_owned(),
                label,
                diagnosis: text("diagnosis"),
                diagnosis_date: text("diagnosis_date"),
                source_document: text("source_document"),
                source_document_en: text("source_document_en"),
                source_date: text("source_date"),
                source_location: text("source_location"),
                source: String::new(),
            });
        }
        let mut summary = ImportSummary {
            rows: records.len(),
            new: 0,
            unchanged: 0,
            document: String::new(),
            ledger_seq: None,
        };
        let entry = self
            .store
            .transact(actor, |tx| {
                let document = tx.put_document_file(file)?;
                summary.document = document.sha256.clone();
                for record in &mut records {
                    record.source = document.sha256.clone();
                    match tx.existing_reference_record(&record.case_id)? {
                        Some(old) if old.label == record.label && old.diagnosis_date == record.diagnosis_date => {
                            summary.unchanged += 1
                        }
                        Some(old) => {
                            return Err(kizon_store::StoreError::Conflict(format!(
                                "{}: case {} already has reference `{}` (ledger entry {}); a reference record is never replaced",
                                file.display(),
                                old.case_id,
                                old.label,
                                old.ledger_seq
                            )));
                        }
                        None => {
                            tx.insert_reference_record(record)?;
                            summary.new += 1;
                        }
                    }
                }
                if summary.new == 0 {
                    tx.abandon();
                return Ok(None);
                }
                tx.record(
                    "reference import",
                    &format!("{} {} records from {}", summary.new, kind.as_str(), file.display()),
                    json!({ "file": file.display().to_string(), "document": document.sha256, "kind": kind.as_str(), "rows": records.len(), "new": summary.new }),
                )
                .map(Some)
            })
            .map_err(|e| match e {
                kizon_store::StoreError::Conflict(what) => AppError::Refused {
                    what,
                    hint: "records are kept as first given; correct the file or explain the change in an amendment".into(),
                },
                other => other.into(),
            })?;
        summary.ledger_seq = entry.map(|e| e.seq);
        Ok(summary)
    }

    /// The reference standard in force: the locked document, or what a lock would fix now.
    pub fn reference_standard(&self) -> Result<(ReferenceStandardDoc, Option<String>), AppError> {
        if let Some(lock) = self.store.lock(REFERENCE)? {
            let doc = self.read_json_document(&lock.sha256, "reference")?;
            return Ok((doc, Some(lock.sha256)));
        }
        Ok((self.compute_reference()?, None))
    }

    fn compute_reference(&self) -> Result<ReferenceStandardDoc, AppError> {
        let (protocol, _) = self.protocol()?;
        let dataset = self.locked_dataset("the reference standard")?;
        let kind = protocol.design.reference_standard;
        let mut cases = Vec::with_capacity(dataset.cases.len());
        let mut agreement = None;
        let mut readers: Vec<String> = Vec::new();
        let mut read_count = 0;
        let rule = (kind == ReferenceStandard::ExpertPanel).then_some(ReferenceRule {
            consensus: protocol.reference.consensus,
            k: protocol.reference.k,
            minimum_reads: protocol.reference.minimum_reads,
        });
        if kind == ReferenceStandard::ExpertPanel {
            let reads = self.store.reads()?;
            let in_dataset = dataset.case_ids();
            let reads: Vec<_> = reads
                .into_iter()
                .filter(|r| in_dataset.contains(r.case_id.as_str()))
                .filter(|r| r.role.is_reference())
                .collect();
            read_count = reads.len();
            let mut panel: BTreeMap<&str, BTreeMap<&str, Label>> = BTreeMap::new();
            let mut adjudicated: BTreeMap<&str, Label> = BTreeMap::new();
            for read in &reads {
                // A read with a score and no label (a rating) takes no part in the consensus.
                let Some(label) = read.label else {
                    continue;
                };
                if read.role == ReadRole::Adjudicator {
                    adjudicated.insert(&read.case_id, label);
                } else {
                    panel
                        .entry(&read.case_id)
                        .or_default()
                        .insert(&read.reader, label);
                }
            }
            let reader_set: BTreeSet<&str> =
                panel.values().flat_map(|m| m.keys().copied()).collect();
            readers = reader_set.iter().map(|s| s.to_string()).collect();
            for case in &dataset.cases {
                let mut votes = Votes::default();
                for label in panel
                    .get(case.id.as_str())
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    votes.add(*label);
                }
                let (label, basis, note) = consensus(
                    &protocol.reference,
                    votes,
                    adjudicated.get(case.id.as_str()).copied(),
                );
                cases.push(CaseReference {
                    case_id: case.id.clone(),
                    label,
                    basis: basis.into(),
                    votes,
                    note,
                });
            }
            agreement = Some(panel_agreement(&panel, &readers)?);
        } else {
            let records: BTreeMap<String, kizon_store::ReferenceRecord> = self
                .store
                .reference_records()?
                .into_iter()
                .map(|r| (r.case_id.clone(), r))
                .collect();
            for case in &dataset.cases {
                let record = records.get(&case.id);
                cases.push(CaseReference {
                    case_id: case.id.clone(),
                    label: record.map(|r| r.label),
                    basis: if record.is_some() {
                        kind.as_str().into()
                    } else {
                        "none".into()
                    },
                    votes: Votes::default(),
                    note: record.is_none().then(|| "no reference record".to_owned()),
                });
            }
        }
        let lesions = match &protocol.lesions {
            Some(plan) => {
                let marks = self.store.marks()?;
                if marks.iter().any(|m| m.reader.is_some()) {
                    Some(crate::lesions::lesion_reference(
                        plan,
                        &marks,
                        &dataset.case_ids(),
                    )?)
                } else {
                    None
                }
            }
            None => None,
        };
        Ok(ReferenceStandardDoc {
            format: "kizon-reference-v1".into(),
            kind,
            rule,
            dataset_root: dataset.merkle_root,
            cases,
            readers,
            reads: read_count,
            agreement,
            lesions,
        })
    }

    /// Fixes the reference standard of the locked dataset's cases.
    pub fn lock_reference(&mut self, actor: &str) -> Result<ReferenceLock, AppError> {
        if let Some(lock) = self.store.lock(REFERENCE)? {
            return Err(AppError::Refused {
                what: format!(
                    "the reference standard is already locked (ledger entry {}, sha256 {})",
                    lock.ledger_seq, lock.sha256
                ),
                hint: "`kizon reference show` shows it".into(),
            });
        }
        let doc = self.compute_reference()?;
        let decided = doc.decided();
        if decided == 0 {
            return Err(AppError::Refused {
                what: "no case of the locked dataset has a reference standard yet".into(),
                hint: match doc.kind {
                    ReferenceStandard::ExpertPanel => {
                        "import the panel's reads first: kizon reads import FILE"
                    }
                    _ => "import the reference records first: kizon reference import FILE",
                }
                .into(),
            });
        }
        let count = |label| doc.count(label);
        let (positive, negative) = (count(Label::Positive), count(Label::Negative));
        let lesions = doc.lesions.as_ref().map(|l| l.lesions.len());
        let lesion_note = lesions
            .map(|n| format!("; {n} lesions"))
            .unwrap_or_default();
        let bytes = serde_json::to_vec_pretty(&doc).expect("reference serialises");
        let key = self.signer("kizon lock reference")?;
        let (entry, sha256) = self.store.transact(actor, |tx| {
            let document = tx.put_document_bytes(&bytes)?;
            tx.insert_lock(REFERENCE, &document.sha256, Some(&document.sha256))?;
            let entry = crate::signing::record_signed(
                tx,
                key.as_ref(),
                "lock reference",
                &format!("reference standard locked: {decided} of {} cases decided ({positive} positive, {negative} negative){lesion_note}", doc.cases.len()),
                json!({ "reference_sha256": document.sha256, "kind": doc.kind.as_str(), "cases": doc.cases.len(), "decided": decided, "positive": positive, "negative": negative, "dataset_root": doc.dataset_root }),
            )?;
            Ok((entry, document.sha256))
        })?;
        Ok(ReferenceLock {
            sha256,
            cases: doc.cases.len(),
            decided,
            positive,
            negative,
            lesions,
            ledger_seq: entry.seq,
        })
    }
}

/// Parses the label and score cells of a row (at least one present).
pub(crate) fn label_and_score(
    table: &kizon_tables::Columns,
    row: usize,
    label_k: usize,
    score_k: usize,
) -> Result<(Option<Label>, Option<f64>), AppError> {
    let cells = table.row(row);
    let label = match cells.get(label_k) {
        "" => None,
        text => Some(Label::from_cell(text).ok_or_else(|| {
            table.error(
                row,
                label_k,
                format!("`{text}` is not a label"),
                Label::CHOICES,
            )
        })?),
    };
    let score = match cells.get(score_k) {
        "" => None,
        text => match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Some(x),
            _ => {
                return Err(table
                    .error(
                        row,
                        score_k,
                        format!("`{text}` is not a number"),
                        "scores are numbers with a decimal point (0.73)",
                    )
                    .into());
            }
        },
    };
    if label.is_none() && score.is_none() {
        return Err(table.error(
            row,
            label_k,
            "neither a label nor a score".into(),
            "give a label (positive/negative/indeterminate), a score, or both; no row is dropped silently",
        ).into());
    }
    Ok((label, score))
}

/// Parses an optional marks cell: JSON (e.g. `[{"x":120,"y":88,"r":6}]`).
pub(crate) fn marks(
    table: &kizon_tables::Columns,
    row: usize,
    k: usize,
) -> Result<Option<String>, AppError> {
    let text = table.cell(row, k);
    if text.is_empty() {
        return Ok(None);
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        table.error(
            row,
            k,
            format!("not JSON: {e}"),
            "write marks as JSON, e.g. [{\"x\":120,\"y\":88,\"r\":6}], quoted in the CSV",
        )
    })?;
    Ok(Some(value.to_string()))
}

/// Pairwise Cohen's kappa (Cohen 1960) over cases both readers labelled, and Fleiss' kappa
/// (Fleiss 1971) over cases every panel reader labelled; 95 % intervals.
fn panel_agreement(
    panel: &BTreeMap<&str, BTreeMap<&str, Label>>,
    readers: &[String],
) -> Result<PanelAgreement, AppError> {
    const CATEGORIES: [Label; 3] = [Label::Positive, Label::Negative, Label::Indeterminate];
    let index = |l: Label| {
        CATEGORIES
            .iter()
            .position(|c| *c == l)
            .expect("known label")
    };
    let mut pairwise = Vec::new();
    for (i, a) in readers.iter().enumerate() {
        for b in &readers[i + 1..] {
            let mut table = vec![vec![0u64; 3]; 3];
            let mut cases = 0;
            for reads in panel.values() {
                if let (Some(x), Some(y)) = (reads.get(a.as_str()), reads.get(b.as_str())) {
                    table[index(*x)][index(*y)] += 1;
                    cases += 1;
                }
            }
            let kappa =
                kizon_stats::cohen_kappa(&table, KappaWeights::Unweighted, 0.95)?.map(|k| k.kappa);
            pairwise.push(PairKappa {
                reader_a: a.clone(),
                reader_b: b.clone(),
                cases,
                kappa,
            });
        }
    }
    let mut fleiss = None;
    if readers.len() >= 2 {
        let counts: Vec<Vec<u64>> = panel
            .values()
            .filter(|reads| readers.iter().all(|r| reads.contains_key(r.as_str())))
            .map(|reads| {
                let mut row = vec![0u64; 3];
                for r in readers {
                    row[index(reads[r.as_str()])] += 1;
                }
                row
            })
            .collect();
        if !counts.is_empty()
            && let Some(k) = kizon_stats::fleiss_kappa(&counts, 0.95)?
        {
            fleiss = Some(FleissSummary {
                readers: readers.len(),
                cases: counts.len(),
                kappa: k.fleiss_kappa,
            });
        }
    }
    Ok(PanelAgreement { pairwise, fleiss })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn votes(positive: u32, negative: u32, indeterminate: u32) -> Votes {
        Votes {
            positive,
            negative,
            indeterminate,
        }
    }

    fn rule(consensus: Consensus, k: Option<u32>) -> ReferencePlan {
        ReferencePlan {
            consensus,
            k,
            minimum_reads: 3,
        }
    }

    #[test]
    fn majority_of_three_decides_and_a_tie_goes_to_the_adjudicator() {
        let majority = rule(Consensus::Majority, None);
        assert_eq!(
            consensus(&majority, votes(2, 1, 0), None).0,
            Some(Label::Positive)
        );
        assert_eq!(
            consensus(&majority, votes(1, 2, 0), None).0,
            Some(Label::Negative)
        );
        assert_eq!(consensus(&majority, votes(2, 2, 0), None).0, None);
        let (label, basis, _) = consensus(&majority, votes(2, 2, 0), Some(Label::Negative));
        assert_eq!((label, basis), (Some(Label::Negative), "adjudicator"));
        assert_eq!(consensus(&majority, votes(1, 1, 1), None).0, None);
    }

    #[test]
    fn unanimous_needs_every_read_and_too_few_reads_decide_nothing() {
        let unanimous = rule(Consensus::Unanimous, None);
        assert_eq!(
            consensus(&unanimous, votes(3, 0, 0), None).0,
            Some(Label::Positive)
        );
        assert_eq!(consensus(&unanimous, votes(2, 1, 0), None).0, None);
        let (label, _, note) = consensus(&unanimous, votes(2, 0, 0), Some(Label::Positive));
        assert_eq!(label, None, "2 reads < minimum 3, even with an adjudicator");
        assert!(note.unwrap().contains("3 required"));
    }

    #[test]
    fn k_of_n_counts_positive_reads_only() {
        let two_of_three = rule(Consensus::KOfN, Some(2));
        assert_eq!(
            consensus(&two_of_three, votes(2, 1, 0), None).0,
            Some(Label::Positive)
        );
        assert_eq!(
            consensus(&two_of_three, votes(1, 1, 1), None).0,
            Some(Label::Negative)
        );
        let one_of_three = rule(Consensus::KOfN, Some(1));
        assert_eq!(
            consensus(&one_of_three, votes(1, 2, 0), None).0,
            Some(Label::Positive)
        );
    }

    #[test]
    fn adjudicator_rule_keeps_agreement_and_sends_disagreement() {
        let adjudicator = rule(Consensus::Adjudicator, None);
        assert_eq!(
            consensus(&adjudicator, votes(0, 3, 0), Some(Label::Positive)).0,
            Some(Label::Negative)
        );
        assert_eq!(
            consensus(&adjudicator, votes(2, 1, 0), Some(Label::Negative)).0,
            Some(Label::Negative)
        );
        assert_eq!(consensus(&adjudicator, votes(2, 1, 0), None).0, None);
    }

    #[test]
    fn labels_read_english_japanese_and_digits() {
        for (cell, label) in [
            ("Positive", Label::Positive),
            ("陽性", Label::Positive),
            ("0", Label::Negative),
            ("判定不能", Label::Indeterminate),
        ] {
            assert_eq!(Label::from_cell(cell), Some(label), "{cell}");
        }
        assert_eq!(Label::from_cell("maybe"), None);
    }
}
