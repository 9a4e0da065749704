//! The correspondence table (対応表): which original patient, accession number and study each
//! pseudonym stands for, and each patient's date shift. It stays at the hospital (Q5: the data
//! remains 2(1) even so), sealed with a passphrase ([`super::sealed`]); it never enters a
//! hand-over. It also holds the hospital's secret for UID replacement, and the record of every
//! hand-over made and every look-up done with it (a source-record check, Q7).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::AppError;

/// The format tag of a sealed correspondence table.
pub const FORMAT: &str = "kizon-key-table-v1";
/// The environment variable for the table's passphrase; `KIZON_PASSPHRASE` when unset.
pub const PASSPHRASE_ENV: &str = "KIZON_KEY_TABLE_PASSPHRASE";
const MIN_PASSPHRASE_CHARS: usize = 8;

/// The table's contents, as sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyTable {
    /// The secret UIDs are replaced with (64 hex digits).
    pub secret: String,
    /// The number the next new patient's pseudonym gets.
    pub next_number: u32,
    pub patients: Vec<Patient>,
    #[serde(default)]
    pub handovers: Vec<HandoverRecord>,
    #[serde(default)]
    pub lookups: Vec<Lookup>,
    /// The key the table was opened (or first made) with, to seal it again without deriving it
    /// anew; never part of the contents.
    #[serde(skip)]
    sealing: Option<super::sealed::SealingKey>,
}

/// One patient of the hospital and what stands for them in hand-overs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    pub patient_id: String,
    /// Issuer of Patient ID (0010,0021), when the files gave one.
    #[serde(default)]
    pub issuer: String,
    pub pseudonym: String,
    pub shift_days: i32,
    /// When the patient was first handed over (UTC, RFC 3339).
    pub first_handover: String,
    #[serde(default)]
    pub studies: Vec<StudyRecord>,
}

/// A study of a patient: its original and replaced UIDs and its accession number.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StudyRecord {
    pub study_instance_uid: String,
    pub new_study_instance_uid: String,
    #[serde(default)]
    pub accession_number: String,
    #[serde(default)]
    pub study_date: String,
}

/// A hand-over made with this table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HandoverRecord {
    pub at: String,
    pub folder: String,
    pub manifest_sha256: String,
    pub files: usize,
    pub quarantined: usize,
}

/// A look-up of the originals behind a pseudonym (a source-record check, SDV).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    pub at: String,
    /// The operating-system user who looked.
    pub by: String,
    pub query: String,
    pub found: bool,
}

impl KeyTable {
    /// A new, empty table with a fresh secret.
    pub fn new() -> Result<KeyTable, AppError> {
        let mut secret = [0u8; 32];
        crate::access::fill_random(&mut secret)?;
        Ok(KeyTable {
            secret: kizon_store::ledger::hex(&secret),
            next_number: 1,
            patients: Vec::new(),
            handovers: Vec::new(),
            lookups: Vec::new(),
            sealing: None,
        })
    }

    /// Opens the table at `path`; a wrong passphrase is refused and the file left as it was.
    pub fn open(path: &Path, passphrase: &str) -> Result<KeyTable, AppError> {
        let (plain, key) =
            super::sealed::read(path, FORMAT, passphrase, "a kizon correspondence table")?;
        let mut table: KeyTable = serde_json::from_slice(&plain).map_err(|e| AppError::Refused {
            what: format!("{}: the correspondence table's contents cannot be read: {e}", path.display()),
            hint: "the file opened with its passphrase but holds what this kizon does not know; use the kizon that wrote it".into(),
        })?;
        table.sealing = Some(key);
        Ok(table)
    }

    /// Opens the table at `path`, or starts a new one when there is no file yet.
    pub fn open_or_new(path: &Path, passphrase: &str) -> Result<KeyTable, AppError> {
        if path.exists() {
            return KeyTable::open(path, passphrase);
        }
        if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(AppError::Refused {
                what: format!(
                    "the passphrase for the new correspondence table is shorter than {MIN_PASSPHRASE_CHARS} characters"
                ),
                hint: format!("choose a longer passphrase (in {PASSPHRASE_ENV} or at the prompt)"),
            });
        }
        let mut table = KeyTable::new()?;
        table.sealing = Some(super::sealed::SealingKey::new(passphrase)?);
        Ok(table)
    }

    /// Seals the table to `path` (atomically), with the key it was opened with under
    /// `passphrase` (the same command opens and saves it), or a new one.
    pub fn save(&self, path: &Path, passphrase: &str) -> Result<(), AppError> {
        let plain = serde_json::to_vec(self).expect("the table serialises");
        match &self.sealing {
            Some(key) => super::sealed::write_with(path, FORMAT, key, &plain),
            None => super::sealed::write(path, FORMAT, passphrase, &plain),
        }
    }

    pub fn secret_bytes(&self) -> Vec<u8> {
        crate::owner_key::unhex(&self.secret).unwrap_or_default()
    }

    /// The patient with `patient_id` (and issuer), given a pseudonym and a shift the first time.
    pub fn patient(
        &mut self,
        patient_id: &str,
        issuer: &str,
        prefix: &str,
        shift_range: [i32; 2],
        now: &str,
    ) -> Result<&mut Patient, AppError> {
        if let Some(i) = self
            .patients
            .iter()
            .position(|p| p.patient_id == patient_id && p.issuer == issuer)
        {
            return Ok(&mut self.patients[i]);
        }
        let pseudonym = format!("{prefix}{:04}", self.next_number);
        self.next_number += 1;
        let shift_days = random_in(shift_range)?;
        self.patients.push(Patient {
            patient_id: patient_id.to_owned(),
            issuer: issuer.to_owned(),
            pseudonym,
            shift_days,
            first_handover: now.to_owned(),
            studies: Vec::new(),
        });
        Ok(self.patients.last_mut().expect("just pushed"))
    }

    /// The patient a pseudonym, original Patient ID, accession number or study UID points to.
    pub fn find(&self, query: &str) -> Option<&Patient> {
        let query = query.trim();
        self.patients.iter().find(|p| {
            p.pseudonym == query
                || p.patient_id == query
                || p.studies.iter().any(|s| {
                    s.accession_number == query
                        || s.study_instance_uid == query
                        || s.new_study_instance_uid == query
                })
        })
    }
}

impl Patient {
    /// Records a study of the patient once.
    pub fn add_study(&mut self, study: StudyRecord) {
        if !self
            .studies
            .iter()
            .any(|s| s.study_instance_uid == study.study_instance_uid)
        {
            self.studies.push(study);
        }
    }
}

/// A uniformly random integer in `[low, high]`.
fn random_in([low, high]: [i32; 2]) -> Result<i32, AppError> {
    let span = (i64::from(high) - i64::from(low) + 1) as u64;
    let mut bytes = [0u8; 8];
    crate::access::fill_random(&mut bytes)?;
    // Rejection sampling: no bias towards the low end of the range.
    let zone = u64::MAX - (u64::MAX % span);
    let mut value = u64::from_le_bytes(bytes);
    while value >= zone {
        crate::access::fill_random(&mut bytes)?;
        value = u64::from_le_bytes(bytes);
    }
    Ok((i64::from(low) + (value % span) as i64) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_patient_keeps_one_pseudonym_and_one_shift() {
        let mut table = KeyTable::new().unwrap();
        let first = table
            .patient("P1", "", "H-", [-30, -10], "t")
            .unwrap()
            .clone();
        let second = table
            .patient("P2", "", "H-", [-30, -10], "t")
            .unwrap()
            .clone();
        let again = table
            .patient("P1", "", "H-", [-30, -10], "t")
            .unwrap()
            .clone();
        assert_eq!(first, again);
        assert_eq!(
            (first.pseudonym.as_str(), second.pseudonym.as_str()),
            ("H-0001", "H-0002")
        );
        assert!((-30..=-10).contains(&first.shift_days));
        assert_eq!(table.find("H-0002").unwrap().patient_id, "P2");
    }

    #[test]
    fn a_sealed_table_opens_with_its_passphrase_only_and_is_not_plain_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.kizon");
        let mut table = KeyTable::new().unwrap();
        table.patient("山田-0042", "", "H-", [-5, -5], "t").unwrap();
        table.save(&path, "a long passphrase").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("0042") || !text.contains("山田"));
        let opened = KeyTable::open(&path, "a long passphrase").unwrap();
        assert_eq!(opened.patients, table.patients);
        let before = std::fs::read(&path).unwrap();
        let error = KeyTable::open(&path, "the wrong passphrase").unwrap_err();
        assert!(error.to_string().contains("does not open"), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    /// An opened table is sealed again with the key that opened it (no second derivation):
    /// the same salt, a new nonce, and it opens with the passphrase, and only with it.
    #[test]
    fn a_table_saved_again_keeps_its_salt_takes_a_new_nonce_and_still_opens() {
        let envelope = |path: &Path| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.kizon");
        let mut table = KeyTable::open_or_new(&path, "a long passphrase").unwrap();
        table.patient("P1", "", "H-", [-5, -5], "t").unwrap();
        table.save(&path, "a long passphrase").unwrap();
        let first = envelope(&path);
        let mut opened = KeyTable::open(&path, "a long passphrase").unwrap();
        opened.patient("P2", "", "H-", [-5, -5], "t").unwrap();
        opened.save(&path, "a long passphrase").unwrap();
        let second = envelope(&path);
        assert_eq!(first["salt"], second["salt"]);
        assert_ne!(first["nonce"], second["nonce"]);
        assert_eq!(
            KeyTable::open(&path, "a long passphrase").unwrap().patients,
            opened.patients
        );
        assert!(KeyTable::open(&path, "another long passphrase").is_err());
    }
}
