//! `check` runs the rule catalogue (kizon-checks) over the ingested items and records new
//! findings; `resolve` records a decision on one. Findings are decisions, not logs: each keeps
//! its key across runs, so re-running `check` adds only what is new and keeps every decision.

mod pixels;

pub(crate) use pixels::decode as decode_pixels;
pub(crate) mod signals;
mod tables;

use kizon_checks::{CaseFacts, Data, ItemFacts, Parameters, SignalFacts, TrainingFacts};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::{AppError, Study};

/// A source file's bytes, if it is still the content ingest recorded: a file that moved or
/// changed since is not decoded (its findings would not be about the ingested data).
pub(crate) fn read_unchanged(path: &str, sha256: &str) -> Option<Vec<u8>> {
    let bytes = std::fs::read(path).ok()?;
    (crate::sha256_hex(&bytes) == sha256).then_some(bytes)
}

mod findings;

pub use findings::{FINDINGS_PER_PAGE, FindingFilter, FindingPage, FindingView, RuleDecision};
pub use kizon_store::RuleTally;
pub use kizon_vocab::{Decision, FindingStatus, Severity};

/// What `check` did.
#[derive(Debug, Clone, Serialize)]
pub struct CheckSummary {
    pub items: usize,
    pub findings: usize,
    pub new_findings: usize,
    pub open_blocking: usize,
    /// The OCR engine that looked for burned-in text (Q1), or `None` when none is installed:
    /// then burned-in text was not looked for, and the shells say so.
    pub ocr: Option<String>,
    /// Images OCR read (those where text is often burned in).
    pub ocr_images: usize,
}

/// The catalogue's defaults with the protocol's `[checks]` overrides.
fn parameters(today: &str, overrides: &kizon_protocol::CheckParameters) -> Parameters {
    let mut p = Parameters::with_today(today);
    let pair = |v: [f64; 2]| (v[0], v[1]);
    p.diagnosis_days_before = overrides
        .diagnosis_days_before
        .unwrap_or(p.diagnosis_days_before);
    p.diagnosis_days_after = overrides
        .diagnosis_days_after
        .unwrap_or(p.diagnosis_days_after);
    p.age_years = overrides.age_years.map_or(p.age_years, pair);
    p.pixel_spacing_mm = overrides.pixel_spacing_mm.map_or(p.pixel_spacing_mm, pair);
    p.sampling_rate_hz = overrides.sampling_rate_hz.map_or(p.sampling_rate_hz, pair);
    p.slice_thickness_mm = overrides
        .slice_thickness_mm
        .map_or(p.slice_thickness_mm, pair);
    p.flat_line_s = overrides.flat_line_s.unwrap_or(p.flat_line_s);
    p.clipping_fraction = overrides.clipping_fraction.unwrap_or(p.clipping_fraction);
    p.clipping_s = overrides.clipping_s.unwrap_or(p.clipping_s);
    p.near_duplicate_bits = overrides
        .near_duplicate_bits
        .unwrap_or(p.near_duplicate_bits);
    if let Some(modalities) = &overrides.burned_in_modalities {
        p.burned_in_modalities = modalities.clone();
    }
    p
}

/// The check parameters of `protocol`: its `[checks]` overrides and the kinds of data it
/// collects.
fn protocol_parameters(today: &str, protocol: &kizon_protocol::Protocol) -> Parameters {
    let mut p = parameters(today, &protocol.checks);
    p.data_kinds = Some(
        protocol
            .design
            .data_kinds
            .iter()
            .map(|k| k.as_str().to_owned())
            .collect(),
    );
    p.specimens = protocol.specimens.as_ref().map(specimen_rules);
    p
}

/// The protocol's `[specimens]` as the specimen rules take it.
fn specimen_rules(plan: &kizon_protocol::SpecimenPlan) -> kizon_checks::specimens::SpecimenRules {
    let pair = |v: [f64; 2]| (v[0], v[1]);
    kizon_checks::specimens::SpecimenRules {
        collection_start: plan.collection_start.map(|d| d.to_string()),
        unit: plan.unit.clone(),
        measuring_interval: plan.measuring_interval.map(pair),
        physiological_limits: plan.physiological_limits.map(pair),
        max_freeze_thaw: plan.max_freeze_thaw,
        max_hours_between_methods: plan.max_hours_between_methods,
        haemolysis_max: plan.hil.haemolysis,
        icterus_max: plan.hil.icterus,
        lipaemia_max: plan.hil.lipaemia,
        stability: plan.stability.clone(),
    }
}

impl Study {
    pub fn check(&mut self, actor: &str) -> Result<CheckSummary, AppError> {
        let stored = self.items()?;
        let (protocol, _) = self.protocol()?;
        let signals: Vec<SignalFacts> = stored.par_iter().filter_map(signals::facts).collect();
        let cache: std::collections::HashMap<String, kizon_store::Decoded> = self
            .store
            .decoded()?
            .into_iter()
            .map(|d| (d.sha256.clone(), d))
            .collect();
        let (mut pixels, fresh) = pixels::facts(&stored, &cache);
        if !fresh.is_empty() {
            self.store.cache_decoded(actor, &fresh)?;
        }
        // Burned-in text (Q1): OCR on the images where text is often burned in, cached by file.
        let today_for_parameters = time::OffsetDateTime::now_utc().date().to_string();
        let modalities = protocol_parameters(&today_for_parameters, &protocol).burned_in_modalities;
        let engine = crate::ocr::engine();
        let ocr_images = match engine {
            Some(engine) => {
                let known: std::collections::HashMap<String, kizon_store::OcrResult> = self
                    .store
                    .ocr_results()?
                    .into_iter()
                    .map(|r| (r.sha256.clone(), r))
                    .collect();
                let (found, fresh) = pixels::ocr_facts(&stored, &known, &modalities, engine);
                if !fresh.is_empty() {
                    self.store.cache_ocr(actor, &fresh)?;
                }
                for facts in &mut pixels {
                    if let Some(regions) = found.get(&facts.item_id) {
                        facts.burned_in_text = Some(regions.clone());
                    }
                }
                found.len()
            }
            None => 0,
        };
        let ranged: std::collections::BTreeSet<String> = protocol
            .tables
            .iter()
            .flat_map(|t| t.reportable_range.keys().cloned())
            .collect();
        let tables: Vec<kizon_checks::TableFacts> = if protocol.tables.is_empty() {
            Vec::new()
        } else {
            stored
                .par_iter()
                .filter_map(|i| tables::facts(i, &ranged))
                .collect()
        };
        let items: Vec<ItemFacts> = stored
            .into_iter()
            .map(|i| {
                Ok(ItemFacts {
                    id: i.id,
                    metadata: i.metadata,
                    case_id: i.case_id,
                    path_identifying: kizon_checks::redact_path(&i.path).1,
                    path: kizon_checks::redact_path(&i.path).0,
                    sha256: i.sha256,
                    kind: i.kind,
                    problem: i.problem,
                })
            })
            .collect::<Result<_, AppError>>()?;
        // A confirmed diagnosis imported as the reference standard (2(2)) carries the date
        // of its source record; that date, not the manifest's, is checked against imaging.
        let confirmed: std::collections::HashMap<String, String> = self
            .store
            .reference_records()?
            .into_iter()
            .filter_map(|r| r.diagnosis_date.map(|d| (r.case_id, d)))
            .collect();
        let cases: Vec<CaseFacts> = self
            .store
            .cases()?
            .into_iter()
            .map(|c| CaseFacts {
                diagnosis_date: confirmed.get(&c.id).cloned().or(c.diagnosis_date),
                id: c.id,
                provider: c.provider,
                patient_key: c.patient_key,
                acquisition_date: c.acquisition_date,
                collection_date: c.collection_date,
            })
            .collect();
        let training: Vec<TrainingFacts> = self
            .store
            .training()?
            .into_iter()
            .map(|(fingerprint, value, path)| TrainingFacts {
                fingerprint,
                value,
                path,
            })
            .collect();
        let today = time::OffsetDateTime::now_utc().date().to_string();
        let mut parameters = protocol_parameters(&today, &protocol);
        parameters.tables = protocol
            .tables
            .iter()
            .map(|t| kizon_checks::TableRule {
                name: t.name.clone(),
                columns: t.columns.clone(),
                reportable_range: t
                    .reportable_range
                    .iter()
                    .map(|(c, [lo, hi])| (c.clone(), (*lo, *hi)))
                    .collect(),
            })
            .collect();
        let found = kizon_checks::run(
            Data {
                items: &items,
                cases: &cases,
                signals: &signals,
                training: &training,
                tables: &tables,
                pixels: &pixels,
            },
            &parameters,
        );
        let mut new_findings = 0usize;
        self.store.transact(actor, |tx| {
            for finding in &found {
                let new = kizon_store::NewFinding {
                    key: finding.key.clone(),
                    rule: crate::names::named(finding.rule),
                    clause: finding.clause.into(),
                    severity: finding.severity,
                    case_ids: serde_json::to_string(&finding.case_ids).expect("strings serialise"),
                    item_ids: serde_json::to_string(&finding.item_ids).expect("ids serialise"),
                    message_ja: finding.message_ja.clone(),
                    message_en: finding.message_en.clone(),
                };
                if tx.insert_finding(&new)? {
                    new_findings += 1;
                }
            }
            if new_findings > 0 {
                tx.record(
                    "check",
                    &format!("{new_findings} new findings over {} items", items.len()),
                    json!({ "items": items.len(), "findings": found.len(), "new_findings": new_findings }),
                )?;
            }
            Ok(())
        })?;
        let open_blocking: u64 = self
            .store
            .finding_rules()?
            .iter()
            .map(|t| t.unresolved_blocking)
            .sum();
        Ok(CheckSummary {
            items: items.len(),
            findings: found.len(),
            new_findings,
            open_blocking: open_blocking as usize,
            ocr: engine.map(crate::ocr::Engine::describe),
            ocr_images,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template's `[checks]` values are the catalogue's defaults, as the template says.
    #[test]
    fn template_states_the_catalogue_defaults() {
        let template = kizon_protocol::Protocol::parse(kizon_protocol::TEMPLATE).unwrap();
        assert_eq!(
            parameters("2026-11-25", &template.checks),
            Parameters::with_today("2026-11-25")
        );
        let clipping = kizon_protocol::CheckParameters {
            clipping_fraction: Some(0.05),
            clipping_s: Some(2.0),
            ..Default::default()
        };
        let p = parameters("2026-11-25", &clipping);
        assert_eq!((p.clipping_fraction, p.clipping_s), (0.05, 2.0));
    }
}
