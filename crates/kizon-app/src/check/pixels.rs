//! Decoding the pixels of DICOM images for `check` (kizon-pixels): the pixel-content hash (the
//! same image in any lossless encoding) and the perceptual hash (near duplicates). Decoding is
//! the slow part of `check`, so its results are cached in the store by file SHA-256: a rerun
//! decodes only new files, and `ingest` stays a fast inventory.

use std::collections::HashMap;

use kizon_checks::PixelFacts;
use kizon_store::Decoded;
use rayon::prelude::*;

/// Whether an item may hold an image: DICOM objects other than waveforms.
fn is_image(item: &crate::Item) -> bool {
    item.kind == kizon_vocab::ItemKind::Dicom
}

/// Decodes one file: `None` when the file is gone or changed since ingest (its hash no longer
/// matches), or holds no image at all (no Pixel Data: a structured report, an RT plan).
pub fn decode(path: &str, sha256: &str) -> Option<Decoded> {
    decode_bytes(&super::read_unchanged(path, sha256)?, sha256)
}

/// Decodes bytes already read (and hashed) by the caller: once, for both hashes.
pub fn decode_bytes(bytes: &[u8], sha256: &str) -> Option<Decoded> {
    let (pixel_sha256, phash, error) = match kizon_pixels::pixel_hashes(bytes) {
        Err(kizon_pixels::PixelError::NotAnImage(reason)) if reason.contains("no Pixel Data") => {
            return None;
        }
        Ok((content, phash)) => (
            Some(kizon_store::ledger::hex(&content)),
            Some(format!("{phash:016x}")),
            None,
        ),
        Err(e) => (None, None, Some(e.to_string())),
    };
    Some(Decoded {
        sha256: sha256.to_owned(),
        pixel_sha256,
        phash,
        error,
    })
}

/// The pixel facts of every image item, decoding (in parallel) only files not yet in `cache`.
/// Returns the facts and the decodes to add to the cache.
pub fn facts(
    items: &[crate::Item],
    cache: &HashMap<String, Decoded>,
) -> (Vec<PixelFacts>, Vec<Decoded>) {
    let mut todo: Vec<(&str, &str)> = items
        .iter()
        .filter(|i| is_image(i) && !cache.contains_key(&i.sha256))
        .map(|i| (i.source.as_str(), i.sha256.as_str()))
        .collect();
    todo.sort_by_key(|(_, sha)| *sha);
    todo.dedup_by_key(|(_, sha)| *sha);
    let fresh: Vec<Decoded> = todo
        .par_iter()
        .filter_map(|(path, sha)| decode(path, sha))
        .collect();
    let fresh_by_sha: HashMap<&str, &Decoded> =
        fresh.iter().map(|d| (d.sha256.as_str(), d)).collect();
    let facts = items
        .iter()
        .filter(|i| is_image(i))
        .filter_map(|i| {
            let decoded = cache
                .get(&i.sha256)
                .or_else(|| fresh_by_sha.get(i.sha256.as_str()).copied())?;
            Some(PixelFacts {
                item_id: i.id,
                pixel_sha256: decoded.pixel_sha256.clone(),
                phash: decoded
                    .phash
                    .as_deref()
                    .and_then(|h| u64::from_str_radix(h, 16).ok()),
                error: decoded.error.clone(),
                burned_in_text: None,
            })
        })
        .collect();
    (facts, fresh)
}

/// The OCR engine and the regions of identifying text it read in an image.
pub type TextRegions = (String, Vec<[u32; 4]>);

/// Whether an image is one where text is often burned in: BurnedInAnnotation YES, one of the
/// protocol's `burned_in_modalities` (US, SC, XA, ES, OT by default), or a secondary capture.
fn text_likely(item: &crate::Item, modalities: &[String]) -> bool {
    let m = &item.metadata;
    m.burned_in_annotation
        .as_deref()
        .is_some_and(|v| v.trim() == "YES")
        || m.modality
            .as_deref()
            .is_some_and(|x| modalities.iter().any(|b| b == x))
        || m.sop_class_uid
            .as_deref()
            .is_some_and(|c| c.starts_with("1.2.840.10008.5.1.4.1.1.7"))
}

/// OCR of the images where text is likely, reading only files not yet in `known`: for each
/// such item the engine and the regions of identifying text, and the results to cache.
pub fn ocr_facts(
    items: &[crate::Item],
    known: &HashMap<String, kizon_store::OcrResult>,
    modalities: &[String],
    engine: &crate::ocr::Engine,
) -> (HashMap<i64, TextRegions>, Vec<kizon_store::OcrResult>) {
    let likely: Vec<&crate::Item> = items
        .iter()
        .filter(|i| is_image(i) && text_likely(i, modalities))
        .collect();
    let mut todo: Vec<(&str, &str)> = likely
        .iter()
        .filter(|i| !known.contains_key(&i.sha256))
        .map(|i| (i.source.as_str(), i.sha256.as_str()))
        .collect();
    todo.sort_by_key(|(_, sha)| *sha);
    todo.dedup_by_key(|(_, sha)| *sha);
    let fresh: Vec<kizon_store::OcrResult> = todo
        .par_iter()
        .filter_map(|(path, sha)| {
            let bytes = super::read_unchanged(path, sha)?;
            let read = crate::ocr::first_frame(&bytes)
                .and_then(|frame| crate::ocr::identifying_regions(&frame, engine));
            Some(match read {
                Ok(regions) => kizon_store::OcrResult {
                    sha256: (*sha).to_owned(),
                    engine: engine.describe(),
                    regions,
                    error: None,
                },
                Err(error) => kizon_store::OcrResult {
                    sha256: (*sha).to_owned(),
                    engine: engine.describe(),
                    regions: Vec::new(),
                    error: Some(error),
                },
            })
        })
        .collect();
    let by_sha: HashMap<&str, &kizon_store::OcrResult> = known
        .values()
        .chain(fresh.iter())
        .map(|r| (r.sha256.as_str(), r))
        .collect();
    let found = likely
        .iter()
        .filter_map(|i| {
            let result = by_sha.get(i.sha256.as_str())?;
            Some((i.id, (result.engine.clone(), result.regions.clone())))
        })
        .collect();
    (found, fresh)
}

impl crate::Study {
    /// `audit verify --deep`: decodes again every file the decode cache describes, where an
    /// item's source is still readable with the same SHA-256, and reports each cached row that
    /// differs (a poisoned pixel or perceptual hash would hide a Q7 duplicate). Rows whose source
    /// is gone are counted in a note: they can only be checked where the data is.
    pub fn verify_decodes(
        &self,
        report: &mut kizon_store::VerifyReport,
    ) -> Result<(), crate::AppError> {
        let cached = self.store.decoded()?;
        let mut sources: HashMap<String, String> = HashMap::new();
        self.store.each_item(|item| {
            sources.entry(item.sha256).or_insert(item.source);
            Ok::<(), crate::AppError>(())
        })?;
        let outcomes: Vec<(Decoded, Option<Decoded>)> = cached
            .into_par_iter()
            .map(|row| {
                let again = sources
                    .get(&row.sha256)
                    .and_then(|p| decode(p, &row.sha256));
                (row, again)
            })
            .collect();
        let (mut checked, mut unreachable) = (0usize, 0usize);
        for (row, again) in outcomes {
            match again {
                None => unreachable += 1,
                Some(again) => {
                    checked += 1;
                    if again != row {
                        report.problems.push(kizon_store::Problem {
                            seq: None,
                            message: format!(
                                "decode cache: file {} decodes to pixel hash {} / perceptual hash {}, but the cache says {} / {} (the cache was altered; Q7 duplicate checks rested on it)",
                                row.sha256,
                                again.pixel_sha256.as_deref().unwrap_or("-"),
                                again.phash.as_deref().unwrap_or("-"),
                                row.pixel_sha256.as_deref().unwrap_or("-"),
                                row.phash.as_deref().unwrap_or("-"),
                            ),
                        });
                    }
                }
            }
        }
        report.notes.push(format!(
            "--deep: {checked} cached decodes recomputed from their source files{}",
            if unreachable > 0 {
                format!("; {unreachable} could not be (source gone or changed since ingest)")
            } else {
                String::new()
            }
        ));
        Ok(())
    }
}
