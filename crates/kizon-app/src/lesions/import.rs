//! `marks import`: a reader's or the device's marks stored as evidence; a different re-import refused (readers) or raised as a finding (device, Q7).

use super::*;

/// Whose marks an import brings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarksBy {
    /// A panel reader (or the adjudicator); a `reader` column, when present, overrides `code`.
    Reader {
        code: Option<String>,
        role: ReadRole,
    },
    Device {
        version: String,
    },
}

/// What `marks import` did.
#[derive(Debug, Clone, Serialize)]
pub struct MarksImport {
    /// `reader` or `device`.
    pub by: String,
    pub device_version: Option<String>,
    pub marks: usize,
    /// Reader × case (or case) sets in the file.
    pub sets: usize,
    pub new: usize,
    pub unchanged: usize,
    /// Device mark sets that differ from those imported before: not stored, raised as findings.
    pub changed: usize,
    /// Cases outside the locked dataset (device marks): not imported.
    pub outside_dataset: Vec<String>,
    pub document: String,
    pub ledger_seq: Option<i64>,
}

/// The identity of a mark within its set (what a re-import must repeat).
pub(super) fn same_marks(old: &[kizon_store::StoredMark], new: &[kizon_store::NewMark]) -> bool {
    old.len() == new.len()
        && old.iter().zip(new).all(|(a, b)| {
            a.image == b.image
                && a.shape == b.shape
                && a.lesion_type == b.lesion_type
                && a.size_mm == b.size_mm
                && a.rating == b.rating
        })
}

/// The shape as stored (compact JSON of [`Shape`]).
pub fn shape_json(shape: &Shape) -> String {
    serde_json::to_string(shape).expect("a shape serialises")
}

/// What became of one set of marks given for a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetOutcome {
    New,
    /// The same marks again: nothing added.
    Unchanged,
    /// A device's different marks: not stored, raised as a blocking finding.
    Changed,
}

/// Stores one reader's or device version's marks on one case: the one way marks are recorded,
/// by `marks import` and by a reader's read submitted in the browser. A first set is stored; the
/// same set again adds nothing; a different set is refused for a reader (every individual mark
/// is evidence, never replaced) and, for a device, kept out and raised as a blocking finding
/// (`device-marks-changed`, Q7). `source` names where the set came from in messages.
pub(crate) fn store_mark_set(
    tx: &mut kizon_store::Tx<'_>,
    case_id: &str,
    owner: &kizon_store::MarkOwner,
    marks: &[kizon_store::NewMark],
    document: &str,
    source: &str,
) -> Result<SetOutcome, kizon_store::StoreError> {
    let old = tx.marks_of(case_id, owner)?;
    if old.is_empty() {
        for m in marks {
            tx.insert_mark(m)?;
        }
        return Ok(SetOutcome::New);
    }
    if same_marks(&old, marks) {
        return Ok(SetOutcome::Unchanged);
    }
    let kizon_store::MarkOwner::Device { version } = owner else {
        return Err(kizon_store::StoreError::Conflict(format!(
            "{source}: reader {} already marked case {case_id} ({} marks, ledger entry {}); marks are never replaced",
            old[0].reader.as_deref().unwrap_or("?"),
            old.len(),
            old[0].ledger_seq
        )));
    };
    tx.insert_finding(&kizon_store::NewFinding {
        key: format!("device-marks-changed:{version}:{case_id}:{document}"),
        rule: crate::names::named("device-marks-changed"),
        clause: "Q7".into(),
        severity: Severity::Blocking,
        case_ids: serde_json::to_string(&[case_id]).expect("strings serialise"),
        item_ids: "[]".into(),
        message_ja: format!(
            "機器の病変マークが再取込みで変化しました（版 {version}、症例 {case_id}：{} 個 → {} 個）。取込み済みのマークは変更されません。",
            old.len(),
            marks.len()
        ),
        message_en: format!(
            "a re-import changes the device's lesion marks (version {version}, case {case_id}: {} → {} marks); the imported marks stay as they were",
            old.len(),
            marks.len()
        ),
    })?;
    Ok(SetOutcome::Changed)
}

impl Study {
    /// Imports lesion marks of a reader or of a device version (see the module documentation).
    pub fn import_marks(
        &mut self,
        actor: &str,
        file: &Path,
        by: &MarksBy,
    ) -> Result<MarksImport, AppError> {
        let (protocol, _) = self.protocol()?;
        if protocol.lesions.is_none() {
            return Err(AppError::Refused {
                what: "the protocol has no [lesions] table: marks cannot be matched to lesions".into(),
                hint: "add [lesions] (criterion, radius or threshold, k) to study.toml before locking the protocol, or amend it".into(),
            });
        }
        let device = match by {
            MarksBy::Device { version } => {
                let version = version.trim();
                if version.is_empty() {
                    return Err(AppError::Refused {
                        what: "a device version is needed".into(),
                        hint: "say which version produced the marks: --device-version 1.0.0".into(),
                    });
                }
                Some(version.to_owned())
            }
            MarksBy::Reader { .. } => None,
        };
        let dataset = match &device {
            Some(_) => {
                let dataset = self.locked_dataset("importing device marks")?;
                if self.store.lock(REFERENCE)?.is_none() {
                    return Err(AppError::Refused {
                        what: "the reference standard is not locked: device marks come after it".into(),
                        hint: "fix the reference standard (and its lesions) first: kizon lock reference".into(),
                    });
                }
                if self.reference_standard()?.0.lesions.is_none() {
                    return Err(AppError::Refused {
                        what: "the locked reference standard has no lesions: device marks cannot be matched".into(),
                        hint: "the lesion reference comes from the panel's marks (kizon marks import FILE --reader CODE) before kizon lock reference".into(),
                    });
                }
                Some(dataset)
            }
            None => {
                if let Some(lock) = self.store.lock(REFERENCE)? {
                    return Err(AppError::Refused {
                        what: format!(
                            "the reference standard is locked (ledger entry {}): importing reader marks would change its lesions",
                            lock.ledger_seq
                        ),
                        hint: "the lesion reference is fixed before device marks; record why in a protocol amendment if it must change".into(),
                    });
                }
                None
            }
        };
        let records = read_marks_file(file, self.csv_encoding)?;
        let readers: BTreeMap<String, i64> = self
            .store
            .readers()?
            .into_iter()
            .map(|r| (r.code, r.id))
            .collect();
        let known: BTreeSet<String> = self.store.cases()?.into_iter().map(|c| c.id).collect();
        let in_dataset: Option<BTreeSet<&str>> = dataset.as_ref().map(|d| d.case_ids());
        let mut sets: BTreeMap<(String, kizon_store::MarkOwner), Vec<kizon_store::NewMark>> =
            BTreeMap::new();
        let mut outside = BTreeSet::new();
        for record in &records {
            let fail = |field: &str, problem: String, hint: &str| {
                input_error(file, &record.origin, field, problem, hint)
            };
            if !known.contains(&record.case_id) {
                return Err(fail(
                    "case_id",
                    format!("no case `{}` in the study", record.case_id),
                    "marks name the study's case ids (`kizon items`, `kizon dataset show`)",
                ));
            }
            let Some(shape) = &record.shape else {
                return Err(fail("x", "no location".into(), SHAPE_HINT));
            };
            let owner = match by {
                MarksBy::Device { .. } => {
                    if record.rating.is_none() {
                        return Err(fail(
                            "rating",
                            "a device mark needs its confidence rating".into(),
                            "give the device's score for each mark (rating, score or confidence); a device without scores gives every mark 1",
                        ));
                    }
                    kizon_store::MarkOwner::Device {
                        version: device.clone().expect("device"),
                    }
                }
                MarksBy::Reader { code, role } => {
                    let Some(code) = record.reader.as_ref().or(code.as_ref()) else {
                        return Err(fail(
                            "reader",
                            "no reader".into(),
                            "give --reader CODE or a reader column",
                        ));
                    };
                    let Some(&reader_id) = readers.get(code) else {
                        return Err(fail(
                            "reader",
                            format!("unknown reader `{code}`"),
                            "register readers first: kizon readers add CODE --qualification ... --specialty ... --years N --independent",
                        ));
                    };
                    let role = match record.role.as_deref() {
                        None => role.clone(),
                        Some("panel") => ReadRole::Panel,
                        Some("adjudicator") => ReadRole::Adjudicator,
                        Some(other) => {
                            return Err(fail(
                                "role",
                                format!("`{other}` is not a role"),
                                "use panel or adjudicator",
                            ));
                        }
                    };
                    kizon_store::MarkOwner::Reader { reader_id, role }
                }
            };
            if let Some(ids) = &in_dataset
                && !ids.contains(record.case_id.as_str())
            {
                outside.insert(record.case_id.clone());
                continue;
            }
            let set = sets
                .entry((record.case_id.clone(), owner.clone()))
                .or_default();
            set.push(kizon_store::NewMark {
                case_id: record.case_id.clone(),
                image: record.image.clone(),
                owner,
                ordinal: set.len() as i64,
                shape: shape_json(shape),
                lesion_type: record.lesion_type.clone(),
                size_mm: record.size_mm,
                rating: record.rating,
                source: String::new(),
            });
        }
        let mut summary = MarksImport {
            by: if device.is_some() { "device" } else { "reader" }.into(),
            device_version: device.clone(),
            marks: sets.values().map(Vec::len).sum(),
            sets: sets.len(),
            new: 0,
            unchanged: 0,
            changed: 0,
            outside_dataset: outside.into_iter().collect(),
            document: String::new(),
            ledger_seq: None,
        };
        let entry = self.store.transact(actor, |tx| {
            let document = tx.put_document_file(file)?;
            summary.document = document.sha256.clone();
            for ((case_id, owner), marks) in &mut sets {
                for m in marks.iter_mut() {
                    m.source = document.sha256.clone();
                }
                match store_mark_set(
                    tx,
                    case_id,
                    owner,
                    marks,
                    &document.sha256,
                    &file.display().to_string(),
                )? {
                    SetOutcome::New => summary.new += 1,
                    SetOutcome::Unchanged => summary.unchanged += 1,
                    SetOutcome::Changed => summary.changed += 1,
                }
            }
            if summary.new == 0 && summary.changed == 0 {
                tx.abandon();
                return Ok(None);
            }
            tx.record(
                "marks import",
                &format!(
                    "{} lesion mark sets of {} from {}{}",
                    summary.new,
                    match &device {
                        Some(v) => format!("device {v}"),
                        None => "readers".into(),
                    },
                    file.display(),
                    if summary.changed > 0 {
                        format!("; {} changed, raised as findings", summary.changed)
                    } else {
                        String::new()
                    }
                ),
                json!({
                    "file": file.display().to_string(),
                    "document": document.sha256,
                    "by": summary.by,
                    "device_version": device,
                    "marks": summary.marks,
                    "sets": summary.sets,
                    "new": summary.new,
                    "unchanged": summary.unchanged,
                    "changed": summary.changed,
                    "outside_dataset": summary.outside_dataset,
                }),
            )
            .map(Some)
        });
        let entry = entry.map_err(|e| match e {
            kizon_store::StoreError::Conflict(what) => AppError::Refused {
                what,
                hint: "every individual mark is kept as first given; fix the file, or import a re-read under another role".into(),
            },
            other => other.into(),
        })?;
        summary.ledger_seq = entry.map(|e| e.seq);
        Ok(summary)
    }

    pub fn marks(&self) -> Result<Vec<kizon_store::StoredMark>, AppError> {
        Ok(self.store.marks()?)
    }
}
