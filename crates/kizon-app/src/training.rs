//! The device's training data, registered by fingerprint so that `check` can show the test data
//! is independent of it. Only fingerprints are kept: file SHA-256, SOP Instance UID, the
//! pseudonymous patient key and, for images, the pixel-content and perceptual hashes; the
//! training files themselves are read, never stored.

use std::path::PathBuf;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::ingest::{BATCH, collect_files, inspect_file, patient_key};
use crate::{AppError, Study};

/// What `training-set add` recorded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrainingSummary {
    pub files: usize,
    pub fingerprints_added: usize,
}

/// The files and folders a training manifest lists in its `path` column, relative to it; each
/// must exist (the CSV line is named otherwise).
pub fn manifest_paths(manifest: &std::path::Path) -> Result<Vec<PathBuf>, AppError> {
    let table = kizon_tables::read_columns(manifest, &["path"])?;
    let base = manifest.parent().unwrap_or(std::path::Path::new("."));
    let mut out = Vec::with_capacity(table.len());
    for (row, cells) in table.rows().enumerate() {
        let path = base.join(&cells[0]);
        if !path.exists() {
            return Err(table
                .error(
                    row,
                    0,
                    format!("`{}` does not exist", &cells[0]),
                    "paths are relative to the manifest's folder",
                )
                .into());
        }
        out.push(path);
    }
    Ok(out)
}

impl Study {
    pub fn training_set_add(
        &mut self,
        actor: &str,
        paths: &[PathBuf],
    ) -> Result<TrainingSummary, AppError> {
        let mut files = Vec::new();
        for path in paths {
            collect_files(path, &mut files, &mut Vec::new())?;
        }
        files.sort();
        files.dedup();
        let salt = self
            .audit_log()?
            .first()
            .map(|e| e.hash.clone())
            .unwrap_or_default();
        let mut summary = TrainingSummary {
            files: files.len(),
            ..TrainingSummary::default()
        };
        for chunk in files.chunks(BATCH) {
            let inspected = chunk
                .par_iter()
                .map(|f| {
                    let item = inspect_file(f)?;
                    let decoded = (item.inspection.kind() == kizon_formats::ItemKind::Dicom)
                        .then(|| {
                            crate::check::decode_pixels(
                                &item.file.display().to_string(),
                                &item.sha256,
                            )
                        })
                        .flatten();
                    Ok((item, decoded))
                })
                .collect::<Result<Vec<_>, AppError>>()?;
            let mut added = 0usize;
            self.store.transact(actor, |tx| {
                for (item, decoded) in &inspected {
                    let path = item.file.display().to_string();
                    let mut fingerprints = vec![("sha256", item.sha256.clone())];
                    fingerprints.extend(
                        item.inspection
                            .metadata
                            .sop_instance_uid
                            .clone()
                            .map(|uid| ("sop_instance_uid", uid)),
                    );
                    fingerprints.extend(
                        item.inspection
                            .patient_id
                            .as_deref()
                            .map(|id| ("patient_key", patient_key(&salt, id))),
                    );
                    if let Some(decoded) = decoded {
                        fingerprints
                            .extend(decoded.pixel_sha256.clone().map(|h| ("pixel_sha256", h)));
                        fingerprints.extend(decoded.phash.clone().map(|h| ("phash", h)));
                    }
                    for (fingerprint, value) in fingerprints {
                        added += usize::from(tx.insert_training(fingerprint, &value, &path)?);
                    }
                }
                if added > 0 {
                    tx.record(
                        "training-set add",
                        &format!(
                            "{added} fingerprints of the device's training data from {} files",
                            inspected.len()
                        ),
                        json!({ "files": inspected.len(), "fingerprints": added }),
                    )?;
                }
                Ok(())
            })?;
            summary.fingerprints_added += added;
        }
        Ok(summary)
    }
}
