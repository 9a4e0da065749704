//! The hospital's side (Q1, Q5, Q7): what a data provider runs before data leaves it, and what
//! the sponsor checks when it arrives.
//!
//! - [`handover`]: `kizon deidentify`, the signed hand-over made from the hospital's files;
//! - [`key_table`]: the correspondence table (対応表), sealed with a passphrase by [`sealed`],
//!   kept at the hospital; [`lookup`] finds the patient behind a pseudonym again (SDV);
//! - [`review`]: the quarantine of files kizon could not de-identify safely;
//! - [`manifest`]: the hand-over's manifest and signature, and [`manifest::verify`], run by
//!   ingest at the sponsor before anything is stored;
//! - [`record`]: the de-identification record for the ethics committee;
//! - [`dicomweb`]: the cases pulled from the PACS (QIDO-RS, WADO-RS) into a folder that is removed.
//!
//! None of this needs a study folder: the hospital has none.

pub mod dicomweb;
pub mod handover;
pub mod key_table;
pub mod manifest;
pub mod record;
pub mod review;
mod sealed;
mod sources;

use std::path::Path;

use serde::Serialize;

pub use handover::{DeidentifyRequest, HandoverSummary, Passphrases, deidentify};
pub use kizon_deid::profile::DEFAULT_PROFILE;

use crate::AppError;

/// What a look-up found: the originals behind a pseudonym, for a source-record check.
#[derive(Debug, Clone, Serialize)]
pub struct LookupResult {
    pub pseudonym: String,
    pub patient_id: String,
    pub issuer: String,
    pub shift_days: i32,
    pub studies: Vec<key_table::StudyRecord>,
}

/// Finds the patient behind `query` (a pseudonym, or an original or replaced study UID, or an
/// accession number) in the table at `path`, and records the look-up in the table.
pub fn lookup(
    path: &Path,
    passphrase: &str,
    query: &str,
    by: &str,
) -> Result<LookupResult, AppError> {
    let mut table = key_table::KeyTable::open(path, passphrase)?;
    let found = table.find(query).map(|patient| LookupResult {
        pseudonym: patient.pseudonym.clone(),
        patient_id: patient.patient_id.clone(),
        issuer: patient.issuer.clone(),
        shift_days: patient.shift_days,
        studies: patient.studies.clone(),
    });
    table.lookups.push(key_table::Lookup {
        at: handover::now_rfc3339(),
        by: by.to_owned(),
        query: query.trim().to_owned(),
        found: found.is_some(),
    });
    table.save(path, passphrase)?;
    found.ok_or_else(|| AppError::Refused {
        what: format!("{}: no patient has the pseudonym or study `{}`", path.display(), query.trim()),
        hint: "give the pseudonym as the sponsor sees it (e.g. CASE-0001), or a study UID; the look-up was recorded".into(),
    })
}

/// Makes the hospital's signing key: `PREFIX.key` (encrypted with `passphrase`) and `PREFIX.pub`
/// (the public key, to be registered at the sponsor). Returns the public key.
pub fn keygen(prefix: &Path, passphrase: &str) -> Result<String, AppError> {
    let with = |extension: &str| {
        let mut name = prefix.as_os_str().to_owned();
        name.push(extension);
        std::path::PathBuf::from(name)
    };
    let (key_path, pub_path) = (with(".key"), with(".pub"));
    if pub_path.exists() {
        return Err(AppError::Refused {
            what: format!("{}: a public key is already there", pub_path.display()),
            hint: "keep the existing key pair; give another --out PREFIX".into(),
        });
    }
    let key = crate::owner_key::OwnerKey::generate()?;
    key.save_for(
        &key_path,
        passphrase,
        crate::owner_key::KeyPurpose::Provider,
    )?;
    let public = key.public_hex();
    std::fs::write(&pub_path, format!("ed25519:{public}\n"))
        .map_err(crate::error::io(&pub_path))?;
    Ok(public)
}
