//! The quarantine (隔離): files kept back at the hospital because kizon could not de-identify
//! them safely, each with its reason, until a person has looked at them. It sits beside the
//! hand-over, never inside it, and holds the original files: it is as confidential as the
//! originals themselves.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::error::io;

/// The list in a quarantine folder.
pub const LIST: &str = "quarantine.json";

/// One file kept back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct QuarantinedFile {
    pub number: usize,
    /// Where it came from, relative to the folder given to `deidentify`.
    pub original: String,
    /// The copy in the quarantine folder.
    pub stored: String,
    pub reason: String,
    /// When a person reviewed it, who, and what they decided.
    pub reviewed: Option<Review>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub at: String,
    pub by: String,
    pub note: String,
}

pub(crate) fn write_list(dir: &Path, list: &[QuarantinedFile]) -> Result<(), AppError> {
    let mut bytes = serde_json::to_vec_pretty(list).expect("serialises");
    bytes.push(b'\n');
    let path = dir.join(LIST);
    let tmp = dir.join(format!(".{LIST}.tmp{}", std::process::id()));
    fs::write(&tmp, &bytes).map_err(io(&tmp))?;
    fs::rename(&tmp, &path).map_err(io(&path))
}

/// The quarantine folder meant by `dir`: the folder itself, or the hand-over's beside it.
pub fn quarantine_dir(dir: &Path) -> PathBuf {
    if dir.join(LIST).is_file() {
        dir.to_owned()
    } else {
        super::handover::quarantine_of(dir)
    }
}

/// The files kept back in the quarantine of `dir`.
pub fn list(dir: &Path) -> Result<(PathBuf, Vec<QuarantinedFile>), AppError> {
    let folder = quarantine_dir(dir);
    let path = folder.join(LIST);
    let bytes = fs::read(&path).map_err(|e| AppError::Refused {
        what: format!("{}: no quarantine list ({e})", path.display()),
        hint: "give the hand-over folder or its .quarantine folder beside it, as `kizon deidentify` made them".into(),
    })?;
    let list = serde_json::from_slice(&bytes).map_err(|e| AppError::Refused {
        what: format!("{}: not a kizon quarantine list: {e}", path.display()),
        hint: "the list is written by `kizon deidentify`; restore it from the hospital's backup"
            .into(),
    })?;
    Ok((folder, list))
}

/// Records that a person reviewed quarantined file `number` (it stays out of the hand-over).
pub fn mark_reviewed(
    dir: &Path,
    number: usize,
    by: &str,
    note: &str,
) -> Result<QuarantinedFile, AppError> {
    let note = crate::text::name("the review note", note)?;
    if note.trim().is_empty() {
        return Err(AppError::Refused {
            what: "a review needs a note saying what was decided".into(),
            hint: "e.g. --note \"burned-in name confirmed; case left out of the study\"".into(),
        });
    }
    let (folder, mut list) = list(dir)?;
    let count = list.len();
    let file = list
        .iter_mut()
        .find(|f| f.number == number)
        .ok_or_else(|| AppError::Refused {
            what: format!("{}: no quarantined file number {number}", folder.display()),
            hint: format!(
                "the numbers run from 1 to {count}: kizon deidentify review DIR lists them"
            ),
        })?;
    file.reviewed = Some(Review {
        at: super::handover::now_rfc3339(),
        by: by.to_owned(),
        note: note.trim().to_owned(),
    });
    let reviewed = file.clone();
    write_list(&folder, &list)?;
    Ok(reviewed)
}
