//! `kizon analyze`: every endpoint of the protocol, evaluated with the statistics engine on the
//! locked dataset, the locked reference standard and the device's results.
//!
//! The analysis is a pure function of its inputs (protocol, dataset, reference standard,
//! results, decisions on findings), whose hashes it records; its output is canonical JSON with
//! no clock in it, stored once per input hash, so a rerun gives byte-identical output and adds
//! nothing to the ledger. Every count keeps the case ids behind it (the report's traceability
//! appendix and the evidence package point at them).
//!
//! What it reports:
//! - the STARD 2015 flow (Bossuyt et al. 2015, item 19): collected → excluded with reasons →
//!   included → without reference / indeterminate reference / without device result /
//!   indeterminate device result → analysed;
//! - each endpoint: the 2×2 table (or the AUC), the estimate with the protocol's interval,
//!   the verdict against its acceptance criterion; against a comparator method the agreement
//!   measures (PPA/NPA/OPA), never labelled sensitivity (FDA 2007 statistical guidance);
//! - when a patient contributes several cases, a clustered interval (Obuchowski 1998) beside
//!   the protocol's;
//! - subgroups (`[analysis] subgroups`) and sensitivity analyses: indeterminate device results
//!   counted as positive, and as negative; cases with accepted findings left out.

use std::collections::{BTreeMap, BTreeSet};

use kizon_protocol::{Endpoint, Metric, ReferenceStandard, Subgroup};
use kizon_stats::{Estimate, ProportionCi, TwoByTwo};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::check::FindingStatus;
use crate::dataset::Dataset;
use crate::reference::{Label, PanelAgreement, REFERENCE};
use crate::{AppError, Study, sha256_hex};

/// The analysis document's format tag.
pub const FORMAT: &str = "kizon-analysis-v1";

/// The analysis of one device version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub format: String,
    pub inputs: Inputs,
    pub inputs_sha256: String,
    pub reference_kind: ReferenceStandard,
    pub flow: Flow,
    pub baseline: Vec<Baseline>,
    pub endpoints: Vec<EndpointResult>,
    pub roc: Option<Roc>,
    pub subgroups: Vec<SubgroupResult>,
    pub sensitivity_analyses: Vec<SensitivityResult>,
    pub reader_agreement: Option<PanelAgreement>,
    /// Lesion-level results, when the reference standard has lesions and the device marks:
    /// absent otherwise (an analysis without lesions keeps its bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesions: Option<LesionAnalysis>,
    /// The multi-reader multi-case reader study, when readers rated the cases in two or more
    /// modalities (`kizon reads import FILE --modality M`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_study: Option<ReaderStudy>,
}

/// The MRMC reader study: each reader's empirical AUC per modality and the
/// Obuchowski–Rockette comparison of modalities with Hillis' (2007) denominator degrees of
/// freedom, random readers and random cases, DeLong covariances (kizon-stats `mrmc`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderStudy {
    /// In order of first import; a difference is the first minus the second.
    pub modalities: Vec<String>,
    pub readers: Vec<String>,
    pub cases: usize,
    pub positives: u64,
    pub negatives: u64,
    /// Cases with a positive or negative reference that not every reader rated in every
    /// modality: left out of the fully crossed analysis.
    pub incomplete_cases: Vec<String>,
    pub level: f64,
    pub modality_aucs: Vec<ReaderStudyAuc>,
    pub reader_aucs: Vec<ReaderStudyAuc>,
    pub f: Option<f64>,
    pub df1: f64,
    pub df2: Option<f64>,
    pub p_value: Option<f64>,
    pub differences: Vec<ReaderStudyDifference>,
    pub warnings: Vec<ReaderStudyWarning>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderStudyAuc {
    /// `None` for a modality's mean over readers.
    pub reader: Option<String>,
    pub modality: String,
    pub auc: Estimate,
    pub se: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderStudyDifference {
    pub first: String,
    pub second: String,
    pub difference: Estimate,
    pub se: f64,
    pub df: Option<f64>,
    pub p_value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderStudyWarning {
    pub code: String,
    pub message_en: String,
    pub message_ja: String,
}

/// The lesion-level section of an analysis: the device's marks against the locked lesions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LesionAnalysis {
    pub units: kizon_protocol::LesionUnits,
    /// Reference lesions by type (`null` key: no type given), in type order.
    pub lesion_types: Vec<(Option<String>, u64)>,
    pub figures: crate::lesions::LesionFigures,
}

/// What the analysis depends on, by hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    pub kizon_version: String,
    pub protocol_sha256: String,
    pub dataset_root: String,
    pub reference_sha256: String,
    pub device_version: String,
    pub results_sha256: String,
    /// SHA-256 of the reader-study reads (absent without a reader study).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_study_sha256: Option<String>,
    /// SHA-256 of the device's marks of this version (absent without marks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marks_sha256: Option<String>,
    pub findings_sha256: String,
    /// SHA-256 of the protocol deviations recorded (absent without any): the report lists them,
    /// so a deviation recorded later makes a new analysis that its report is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviations_sha256: Option<String>,
}

/// STARD 2015 participant flow, with the case ids behind every box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub collected: usize,
    pub excluded: Vec<ExcludedGroup>,
    pub included: usize,
    pub no_reference: Vec<String>,
    pub reference_indeterminate: Vec<String>,
    pub no_result: Vec<String>,
    pub device_indeterminate: Vec<String>,
    pub analysed: usize,
    /// Analysed cases positive and negative by the reference standard (or comparator).
    pub reference_positive: usize,
    pub reference_negative: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExcludedGroup {
    pub rule: String,
    pub clause: String,
    pub cases: Vec<String>,
    pub reasons: Vec<String>,
}

/// Counts of the included cases by one characteristic, and of the analysed ones among them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub variable: String,
    pub levels: Vec<(String, usize)>,
    /// The analysed cases of each level, in the order of `levels`.
    #[serde(default)]
    pub analysed: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub tn: u64,
}

/// The cases in each cell of a 2×2 table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Cells {
    pub tp: Vec<String>,
    pub fp: Vec<String>,
    #[serde(rename = "fn")]
    pub fn_: Vec<String>,
    pub tn: Vec<String>,
}

impl Cells {
    fn table(&self) -> Table {
        Table {
            tp: self.tp.len() as u64,
            fp: self.fp.len() as u64,
            fn_: self.fn_.len() as u64,
            tn: self.tn.len() as u64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointResult {
    pub id: String,
    pub primary: bool,
    pub metric: Metric,
    pub name_en: String,
    pub name_ja: String,
    /// Cases that entered the estimate.
    pub n: usize,
    pub table: Option<Table>,
    pub cells: Option<Cells>,
    pub estimate: Option<Estimate>,
    /// `wilson`, `clopper-pearson`…, `delong` (AUC) or `fleiss-cohen-everitt` (kappa).
    pub ci_method: String,
    pub level: f64,
    /// With several cases per patient: the clustered interval (Obuchowski 1998).
    pub clustered: Option<Estimate>,
    pub criterion_en: Option<String>,
    pub criterion_ja: Option<String>,
    pub pass: Option<bool>,
    pub explanation_en: Option<String>,
    pub explanation_ja: Option<String>,
    /// SHA-256 of the sorted case ids behind the estimate, one per line.
    pub cases_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roc {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    pub auc: Estimate,
    pub se: f64,
    pub positives: u64,
    pub negatives: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubgroupResult {
    pub variable: String,
    /// The level, or `unknown` for the cases without the attribute (shown, never dropped).
    pub level: String,
    pub endpoint: String,
    pub metric: Metric,
    /// Analysed cases of the level (the denominator of a proportion is in `table`).
    pub n: usize,
    pub table: Option<Table>,
    pub estimate: Option<Estimate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensitivityResult {
    /// `indeterminate-as-positive`, `indeterminate-as-negative`, `excluding-accepted-findings`.
    pub analysis: String,
    pub name_en: String,
    pub name_ja: String,
    pub endpoint: String,
    pub metric: Metric,
    pub n: usize,
    pub table: Option<Table>,
    pub estimate: Option<Estimate>,
    pub pass: Option<bool>,
}

/// What `kizon analyze` did.
#[derive(Debug, Clone, Serialize)]
pub struct AnalyzeOutcome {
    pub analysis: Analysis,
    /// SHA-256 of the stored output document.
    pub output_sha256: String,
    /// `false` when the same inputs had been analysed before (nothing new recorded).
    pub new: bool,
    pub ledger_seq: Option<i64>,
}

/// How a sensitivity analysis changes a case (`None`: the case leaves the analysis).
type RowChange = Box<dyn Fn(&Row) -> Option<Row>>;

/// One case as the analysis sees it.
#[derive(Debug, Clone)]
struct Row {
    case_id: String,
    patient: Option<String>,
    reference: Option<Label>,
    device: Option<Label>,
    score: Option<f64>,
    attributes: BTreeMap<Subgroup, String>,
    accepted_finding: bool,
}

impl Study {
    /// Runs (or finds) the analysis of `device_version` (default: the only version imported).
    pub fn analyze(
        &mut self,
        actor: &str,
        device_version: Option<&str>,
    ) -> Result<AnalyzeOutcome, AppError> {
        let analysis = self.compute_analysis(device_version)?;
        let bytes = analysis_bytes(&analysis);
        let inputs_sha256 = analysis.inputs_sha256.clone();
        // A rerun on the same inputs appends nothing, and so needs no signature.
        let already = self
            .store
            .analyses()?
            .iter()
            .any(|a| a.inputs_sha256 == inputs_sha256);
        let key = if already {
            None
        } else {
            self.signer("kizon analyze")?
        };
        let (output_sha256, new, seq) = self.store.transact(actor, |tx| {
            let document = tx.put_document_bytes(&bytes)?;
            if !tx.insert_analysis(&inputs_sha256, &document.sha256)? {
                return Ok((document.sha256, false, None));
            }
            let primary = analysis.endpoints.iter().find(|e| e.primary).or(analysis.endpoints.first());
            let entry = crate::signing::record_signed(
                tx,
                key.as_ref(),
                "analyze",
                &format!(
                    "analysis of device {} on {} cases{}",
                    analysis.inputs.device_version,
                    analysis.flow.analysed,
                    primary
                        .and_then(|e| e.pass.map(|p| format!("; primary endpoint {}: {}", e.id, if p { "pass" } else { "fail" })))
                        .unwrap_or_default()
                ),
                json!({ "inputs_sha256": inputs_sha256, "output_sha256": document.sha256, "inputs": analysis.inputs }),
            )?;
            Ok((document.sha256, true, Some(entry.seq)))
        })?;
        Ok(AnalyzeOutcome {
            analysis,
            output_sha256,
            new,
            ledger_seq: seq,
        })
    }

    /// The last stored analysis (of any version), if any.
    pub fn latest_analysis(&self) -> Result<Option<(Analysis, String)>, AppError> {
        let Some(stored) = self.store.analyses()?.into_iter().next_back() else {
            return Ok(None);
        };
        let analysis = self.read_json_document(&stored.output, "analysis")?;
        Ok(Some((analysis, stored.output)))
    }

    fn compute_analysis(&self, device_version: Option<&str>) -> Result<Analysis, AppError> {
        let (protocol, protocol_text) = self.protocol()?;
        let dataset = self.locked_dataset("the analysis")?;
        let Some(reference_lock) = self.store.lock(REFERENCE)? else {
            return Err(AppError::Refused {
                what: "the reference standard is not locked".into(),
                hint: "kizon lock reference, then import the device's results".into(),
            });
        };
        let (reference, _) = self.reference_standard()?;
        let all_results = self.store.results()?;
        let versions: BTreeSet<&str> = all_results
            .iter()
            .map(|r| r.device_version.as_str())
            .collect();
        let version = match (device_version, versions.len()) {
            (Some(v), _) if versions.contains(v) => v.to_owned(),
            (Some(v), _) => {
                return Err(AppError::Refused {
                    what: format!("no results of device version `{v}`"),
                    hint: format!(
                        "imported versions: {}",
                        versions.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
            (None, 0) => {
                return Err(AppError::Refused {
                    what: "no device results imported yet".into(),
                    hint: "kizon results import FILE --device-version V".into(),
                });
            }
            (None, 1) => versions.iter().next().expect("one version").to_string(),
            (None, _) => {
                return Err(AppError::Refused {
                    what: format!(
                        "results of several device versions: {}",
                        versions.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                    hint: "choose one: kizon analyze --device-version V".into(),
                });
            }
        };
        let results: BTreeMap<&str, &kizon_store::DeviceResult> = all_results
            .iter()
            .filter(|r| r.device_version == version)
            .map(|r| (r.case_id.as_str(), r))
            .collect();
        let findings = self.findings()?;
        let accepted: BTreeSet<&str> = findings
            .iter()
            .filter(|f| f.status == FindingStatus::Accepted)
            .flat_map(|f| f.case_ids.iter().map(String::as_str))
            .collect();
        let references = reference.label_of();
        let attributes = self.case_attributes(&dataset, &protocol.analysis.age_bands)?;
        let threshold = protocol.analysis.score_threshold;
        let rows: Vec<Row> = dataset
            .cases
            .iter()
            .map(|case| {
                let result = results.get(case.id.as_str());
                let stored = result.and_then(|r| r.label);
                let device = result.and_then(|r| {
                    // The device's label, else its score against the protocol's threshold.
                    let by_score = match (r.score, threshold) {
                        (Some(s), Some(t)) => Some(if s >= t {
                            Label::Positive
                        } else {
                            Label::Negative
                        }),
                        _ => None,
                    };
                    stored.or(by_score)
                });
                Ok(Row {
                    case_id: case.id.clone(),
                    patient: case.patient_key.clone(),
                    reference: references.get(case.id.as_str()).copied().flatten(),
                    device,
                    score: result.and_then(|r| r.score),
                    attributes: attributes.get(&case.id).cloned().unwrap_or_default(),
                    accepted_finding: accepted.contains(case.id.as_str()),
                })
            })
            .collect::<Result<_, AppError>>()?;

        let results_sha256 = sha256_hex(
            serde_json::to_string(
                &results
                    .values()
                    .map(|r| (&r.case_id, &r.label, r.score, &r.marks))
                    .collect::<Vec<_>>(),
            )
            .expect("results serialise")
            .as_bytes(),
        );
        let findings_sha256 = sha256_hex(
            serde_json::to_string(
                &findings
                    .iter()
                    .map(|f| (f.id, &f.rule, f.status, &f.case_ids))
                    .collect::<Vec<_>>(),
            )
            .expect("findings serialise")
            .as_bytes(),
        );
        let device_marks: Vec<kizon_store::StoredMark> =
            match (&protocol.lesions, &reference.lesions) {
                (Some(_), Some(_)) => {
                    let in_dataset = dataset.case_ids();
                    self.store
                        .marks()?
                        .into_iter()
                        .filter(|m| {
                            m.device_version.as_deref() == Some(version.as_str())
                                && in_dataset.contains(m.case_id.as_str())
                        })
                        .collect()
                }
                _ => Vec::new(),
            };
        let marks_sha256 = (!device_marks.is_empty()).then(|| {
            sha256_hex(
                serde_json::to_string(
                    &device_marks
                        .iter()
                        .map(|m| {
                            (
                                &m.case_id,
                                &m.image,
                                m.ordinal,
                                &m.shape,
                                &m.lesion_type,
                                m.size_mm,
                                m.rating,
                            )
                        })
                        .collect::<Vec<_>>(),
                )
                .expect("marks serialise")
                .as_bytes(),
            )
        });
        let lesions = match (
            &protocol.lesions,
            &reference.lesions,
            marks_sha256.is_some(),
        ) {
            (Some(plan), Some(reference_lesions), true) => Some(lesion_analysis(
                plan,
                reference_lesions,
                &device_marks,
                &dataset,
                &protocol.analysis,
            )?),
            _ => None,
        };
        let study_reads: Vec<kizon_store::Read> = self
            .store
            .reads()?
            .into_iter()
            .filter(|r| r.role.modality().is_some())
            .collect();
        let reader_study_sha256 = (!study_reads.is_empty()).then(|| {
            sha256_hex(
                serde_json::to_string(
                    &study_reads
                        .iter()
                        .map(|r| (&r.reader, &r.case_id, &r.role, r.score))
                        .collect::<Vec<_>>(),
                )
                .expect("reads serialise")
                .as_bytes(),
            )
        });
        let reader_study = reader_study(&rows, &study_reads)?;
        let inputs = Inputs {
            kizon_version: env!("CARGO_PKG_VERSION").into(),
            protocol_sha256: protocol_text.sha256,
            dataset_root: dataset.merkle_root.clone(),
            reference_sha256: reference_lock.sha256,
            device_version: version,
            results_sha256,
            reader_study_sha256,
            marks_sha256,
            findings_sha256,
            deviations_sha256: {
                let deviations = self.store.deviations()?;
                (!deviations.is_empty()).then(|| {
                    sha256_hex(
                        serde_json::to_string(&deviations)
                            .expect("deviations serialise")
                            .as_bytes(),
                    )
                })
            },
        };
        let inputs_sha256 = sha256_hex(
            serde_json::to_string(&inputs)
                .expect("inputs serialise")
                .as_bytes(),
        );

        let flow = flow(&dataset, &rows, &results);
        let usable = |r: &&Row| is_binary(r.reference) && is_binary(r.device);
        let primary_rows: Vec<&Row> = rows.iter().filter(usable).collect();
        // The ROC curve and AUC count the analysis set's cases (those with a score): a case
        // whose device result was indeterminate is left out of them as out of the 2×2 table, so
        // that the figure and the tables show one set of counts.
        let scored_rows: Vec<&Row> = rows
            .iter()
            .filter(|r| in_analysis(r) && r.score.is_some())
            .collect();
        let several_per_patient = {
            let mut seen = BTreeSet::new();
            primary_rows
                .iter()
                .filter_map(|r| r.patient.as_deref())
                .any(|p| !seen.insert(p))
        };

        let mut endpoints = Vec::new();
        let mut subgroups = Vec::new();
        let mut sensitivity = Vec::new();
        for endpoint in &protocol.endpoints {
            let mut result = evaluate(endpoint, &primary_rows, &scored_rows)?;
            if several_per_patient {
                result.clustered = clustered(endpoint.metric, &primary_rows, endpoint.level)?;
            }
            endpoints.push(result);
            for &variable in &protocol.analysis.subgroups {
                // Cases without the attribute are a level of their own (`unknown`), so that the
                // levels add up to the endpoint's cases.
                let level_of = |r: &Row| {
                    r.attributes
                        .get(&variable)
                        .map_or(UNKNOWN, String::as_str)
                        .to_owned()
                };
                let mut levels: Vec<String> = rows
                    .iter()
                    .filter(|r| in_analysis(r))
                    .map(level_of)
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                levels.sort_by(|a, b| compare_levels(a, b));
                for level in levels {
                    let in_level = |r: &&&Row| level_of(r) == level;
                    let sub: Vec<&Row> = primary_rows.iter().filter(in_level).copied().collect();
                    let sub_scored: Vec<&Row> =
                        scored_rows.iter().filter(in_level).copied().collect();
                    let e = evaluate(endpoint, &sub, &sub_scored)?;
                    subgroups.push(SubgroupResult {
                        variable: variable.as_str().into(),
                        level,
                        endpoint: endpoint.id.clone(),
                        metric: endpoint.metric,
                        n: e.n,
                        table: e.table,
                        estimate: e.estimate,
                    });
                }
            }
            if endpoint.metric == Metric::Auc {
                continue;
            }
            let variants: [(&str, &str, &str, RowChange); 3] = [
                (
                    "indeterminate-as-positive",
                    "indeterminate device results counted as positive",
                    "判定不能の結果を陽性として集計",
                    Box::new(|r: &Row| recount(r, Label::Positive)),
                ),
                (
                    "indeterminate-as-negative",
                    "indeterminate device results counted as negative",
                    "判定不能の結果を陰性として集計",
                    Box::new(|r: &Row| recount(r, Label::Negative)),
                ),
                (
                    "excluding-accepted-findings",
                    "cases with accepted findings left out",
                    "疑義を受容した症例を除外",
                    Box::new(|r: &Row| (!r.accepted_finding).then(|| r.clone())),
                ),
            ];
            for (analysis, name_en, name_ja, transform) in variants {
                let changed: Vec<Row> = rows
                    .iter()
                    .filter_map(&transform)
                    .filter(|r| is_binary(r.reference) && is_binary(r.device))
                    .collect();
                let changed_refs: Vec<&Row> = changed.iter().collect();
                let e = evaluate(endpoint, &changed_refs, &[])?;
                sensitivity.push(SensitivityResult {
                    analysis: analysis.into(),
                    name_en: name_en.into(),
                    name_ja: name_ja.into(),
                    endpoint: endpoint.id.clone(),
                    metric: endpoint.metric,
                    n: e.n,
                    table: e.table,
                    estimate: e.estimate,
                    pass: e.pass,
                });
            }
        }

        let roc = if scored_rows
            .iter()
            .any(|r| r.reference == Some(Label::Positive))
            && scored_rows
                .iter()
                .any(|r| r.reference == Some(Label::Negative))
        {
            let scores: Vec<f64> = scored_rows
                .iter()
                .map(|r| r.score.expect("scored"))
                .collect();
            let truth: Vec<bool> = scored_rows
                .iter()
                .map(|r| r.reference == Some(Label::Positive))
                .collect();
            // Descriptive, not an endpoint: what cannot be estimated (DeLong's variance needs two
            // cases of each class) is left out, never a reason to stop the analysis.
            match (
                kizon_stats::roc_curve(&scores, &truth),
                kizon_stats::auc_delong(&scores, &truth, 0.95),
            ) {
                (Ok(curve), Ok(auc)) => Some(Roc {
                    fpr: curve.fpr,
                    tpr: curve.tpr,
                    auc: auc.auc,
                    se: auc.se,
                    positives: auc.positives,
                    negatives: auc.negatives,
                }),
                _ => None,
            }
        } else {
            None
        };

        Ok(Analysis {
            format: FORMAT.into(),
            inputs,
            inputs_sha256,
            reference_kind: reference.kind,
            flow,
            baseline: baseline(&rows),
            endpoints,
            roc,
            subgroups,
            sensitivity_analyses: sensitivity,
            reader_agreement: reference.agreement,
            lesions,
            reader_study,
        })
    }

    /// Subgroup attributes of each case: provider from the dataset; sex, age band, modality,
    /// manufacturer and body part from the first item that carries them, else the manifest.
    fn case_attributes(
        &self,
        dataset: &Dataset,
        bands: &[f64],
    ) -> Result<BTreeMap<String, BTreeMap<Subgroup, String>>, AppError> {
        let mut out: BTreeMap<String, BTreeMap<Subgroup, String>> = BTreeMap::new();
        let manifest: BTreeMap<String, serde_json::Value> = self
            .store
            .cases()?
            .into_iter()
            .map(|c| {
                let attributes =
                    crate::stored_json(&format!("case {} attributes", c.id), &c.attributes)?;
                Ok((c.id, attributes))
            })
            .collect::<Result<_, AppError>>()?;
        let mut items: Vec<crate::Item> = self.items()?;
        items.sort_by_key(|i| i.id);
        for case in &dataset.cases {
            out.entry(case.id.clone())
                .or_default()
                .insert(Subgroup::Provider, case.provider.clone());
        }
        for item in &items {
            let Some(attributes) = out.get_mut(&item.case_id) else {
                continue;
            };
            let m = &item.metadata;
            for (subgroup, value) in [
                (Subgroup::Sex, &m.patient_sex),
                (Subgroup::Modality, &m.modality),
                (Subgroup::Manufacturer, &m.manufacturer),
                (Subgroup::BodyPart, &m.body_part),
            ] {
                if !attributes.contains_key(&subgroup)
                    && let Some(value) = value.as_deref().filter(|s| !s.is_empty())
                {
                    attributes.insert(subgroup, value.to_owned());
                }
            }
            if !attributes.contains_key(&Subgroup::AgeBand)
                && let Some(age) = m.patient_age_years
            {
                attributes.insert(Subgroup::AgeBand, age_band(age, bands));
            }
        }
        for (case_id, attributes) in &mut out {
            let Some(columns) = manifest.get(case_id) else {
                continue;
            };
            let column = |name: &str| {
                columns
                    .get(name)
                    .and_then(|v| v.as_str())
                    .filter(|s| !s.is_empty())
            };
            if !attributes.contains_key(&Subgroup::Sex)
                && let Some(sex) = column("sex")
            {
                attributes.insert(Subgroup::Sex, sex.to_uppercase());
            }
            if !attributes.contains_key(&Subgroup::AgeBand)
                && let Some(age) = column("age").and_then(|a| a.parse::<f64>().ok())
            {
                attributes.insert(Subgroup::AgeBand, age_band(age, bands));
            }
        }
        Ok(out)
    }
}

/// The MRMC analysis of the reader-study reads over the cases with a positive or negative
/// reference that every reader rated in every modality; `None` with fewer than two modalities
/// or readers.
fn reader_study(
    rows: &[Row],
    reads: &[kizon_store::Read],
) -> Result<Option<ReaderStudy>, AppError> {
    let mut modalities: Vec<String> = Vec::new();
    let mut readers: Vec<String> = Vec::new();
    for r in reads {
        if let Some(m) = r.role.modality()
            && !modalities.iter().any(|x| x == m)
        {
            modalities.push(m.to_owned());
        }
        if !readers.contains(&r.reader) {
            readers.push(r.reader.clone());
        }
    }
    let (t, nr) = (modalities.len(), readers.len());
    if t < 2 || nr < 2 {
        return Ok(None);
    }
    let mut score: BTreeMap<(usize, usize, &str), f64> = BTreeMap::new();
    for r in reads {
        let m = r.role.modality().expect("reader-study reads only");
        let i = modalities.iter().position(|x| x == m).expect("collected");
        let j = readers
            .iter()
            .position(|x| *x == r.reader)
            .expect("collected");
        if let Some(s) = r.score {
            score.insert((i, j, r.case_id.as_str()), s);
        }
    }
    let binary: Vec<&Row> = rows.iter().filter(|r| is_binary(r.reference)).collect();
    let complete = |c: &str| (0..t).all(|i| (0..nr).all(|j| score.contains_key(&(i, j, c))));
    let cases: Vec<&Row> = binary
        .iter()
        .copied()
        .filter(|r| complete(&r.case_id))
        .collect();
    let incomplete_cases: Vec<String> = binary
        .iter()
        .filter(|r| !complete(&r.case_id))
        .map(|r| r.case_id.clone())
        .collect();
    let truth: Vec<bool> = cases
        .iter()
        .map(|r| r.reference == Some(Label::Positive))
        .collect();
    let n = cases.len();
    let mut scores = vec![0.0; t * nr * n];
    for i in 0..t {
        for j in 0..nr {
            for (c, row) in cases.iter().enumerate() {
                scores[(i * nr + j) * n + c] = score[&(i, j, row.case_id.as_str())];
            }
        }
    }
    let level = 0.95;
    let result = kizon_stats::obuchowski_rockette(
        &kizon_stats::MrmcRatings {
            modalities: t,
            readers: nr,
            truth: &truth,
            scores: &scores,
        },
        kizon_stats::CovarianceMethod::DeLong,
        level,
    )?;
    let test = &result.random_readers_random_cases;
    let relabel = |message: &str| {
        let mut out = message.to_owned();
        for (i, name) in modalities.iter().enumerate().rev() {
            out = out.replace(&format!("#{}", i + 1), &format!("`{name}`"));
        }
        out
    };
    Ok(Some(ReaderStudy {
        modalities: modalities.clone(),
        readers: readers.clone(),
        cases: n,
        positives: result.positives,
        negatives: result.negatives,
        incomplete_cases,
        level,
        modality_aucs: test
            .modalities
            .iter()
            .map(|m| ReaderStudyAuc {
                reader: None,
                modality: modalities[m.modality].clone(),
                auc: m.auc,
                se: m.se,
            })
            .collect(),
        reader_aucs: result
            .reader_aucs
            .iter()
            .map(|a| ReaderStudyAuc {
                reader: Some(readers[a.reader].clone()),
                modality: modalities[a.modality].clone(),
                auc: a.auc,
                se: a.se,
            })
            .collect(),
        f: test.f,
        df1: test.df1,
        df2: test.df2,
        p_value: test.p_value,
        differences: test
            .differences
            .iter()
            .map(|d| ReaderStudyDifference {
                first: modalities[d.first].clone(),
                second: modalities[d.second].clone(),
                difference: d.difference,
                se: d.se,
                df: d.df,
                p_value: d.p_value,
            })
            .collect(),
        warnings: result
            .warnings
            .iter()
            .map(|w| ReaderStudyWarning {
                code: w.code.to_owned(),
                message_en: relabel(&w.message_en),
                message_ja: relabel(&w.message_ja),
            })
            .collect(),
    }))
}

/// The device's marks on the locked dataset against the locked lesions: every dataset case
/// counts (a case without lesions is normal), with as many images as its dataset items (at
/// least the images its lesions and marks name); lesions weigh equally within a case for the
/// weighted AFROC; 95 % intervals, the protocol's bootstrap replicates and seed; ratings are
/// the device's, and the operating point is `[lesions] rating_threshold`.
fn lesion_analysis(
    plan: &kizon_protocol::LesionPlan,
    reference: &crate::lesions::LesionReference,
    marks: &[kizon_store::StoredMark],
    dataset: &Dataset,
    options: &kizon_protocol::AnalysisPlan,
) -> Result<LesionAnalysis, AppError> {
    let parse = |m: &kizon_store::StoredMark| -> Result<kizon_stats::Shape, AppError> {
        serde_json::from_str(&m.shape).map_err(|e| AppError::Refused {
            what: format!("stored mark {} has an unreadable shape: {e}", m.id),
            hint: "run `kizon audit verify`".into(),
        })
    };
    let mut named: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (case, image) in reference
        .lesions
        .iter()
        .map(|l| (l.case_id.as_str(), l.image.as_str()))
        .chain(marks.iter().map(|m| (m.case_id.as_str(), m.image.as_str())))
    {
        named.entry(case).or_default().insert(image);
    }
    let cases: BTreeMap<&str, u64> = dataset
        .cases
        .iter()
        .map(|c| {
            let n = named.get(c.id.as_str()).map_or(0, |s| s.len());
            (c.id.as_str(), c.items.len().max(n).max(1) as u64)
        })
        .collect();
    let lesions = reference
        .lesions
        .iter()
        .filter(|l| cases.contains_key(l.case_id.as_str()))
        .map(|l| (l.case_id.as_str(), l.image.as_str(), l.shape.clone(), 1.0))
        .collect();
    let device = marks
        .iter()
        .map(|m| {
            Ok((
                m.case_id.as_str(),
                m.image.as_str(),
                parse(m)?,
                m.rating.unwrap_or(1.0),
            ))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let figures = crate::lesions::lesion_figures(
        &crate::lesions::FrocInput {
            cases,
            lesions,
            marks: device,
        },
        &crate::lesions::FrocSettings {
            criterion: crate::lesions::match_criterion(plan),
            criterion_text: crate::lesions::criterion_text(plan),
            duplicates: plan.duplicates,
            threshold: plan.rating_threshold,
            level: 0.95,
            replicates: options.bootstrap_replicates as usize,
            seed: options.seed,
        },
    )?;
    let mut types: BTreeMap<Option<String>, u64> = BTreeMap::new();
    for l in &reference.lesions {
        *types.entry(l.lesion_type.clone()).or_default() += 1;
    }
    Ok(LesionAnalysis {
        units: plan.units,
        lesion_types: types.into_iter().collect(),
        figures,
    })
}

/// The canonical bytes of an analysis: pretty JSON and a final newline.
pub fn analysis_bytes(analysis: &Analysis) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(analysis).expect("an analysis serialises");
    bytes.push(b'\n');
    bytes
}

fn is_binary(label: Option<Label>) -> bool {
    matches!(label, Some(Label::Positive | Label::Negative))
}

/// The level of a case without the attribute.
const UNKNOWN: &str = "unknown";

/// Whether a case is in the analysis set: a positive or negative reference standard, and a
/// positive or negative device result (or only a score, when the device gives no label and the
/// protocol no threshold: such a case counts for the ROC curve and AUC).
fn in_analysis(row: &Row) -> bool {
    is_binary(row.reference)
        && (is_binary(row.device) || (row.device.is_none() && row.score.is_some()))
}

fn recount(row: &Row, as_label: Label) -> Option<Row> {
    let mut row = row.clone();
    if row.device == Some(Label::Indeterminate) {
        row.device = Some(as_label);
    }
    Some(row)
}

/// The order of levels in tables: age bands by their lower bound (`<40` first), other levels
/// by name.
fn compare_levels(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(level: &str) -> (f64, &str) {
        let digits: String = level
            .trim_start_matches(['<', '≥'])
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        match digits.parse::<f64>() {
            _ if level == UNKNOWN => (f64::INFINITY, level),
            Ok(_) if level.starts_with('<') => (f64::MIN, level),
            Ok(lower) => (lower, level),
            Err(_) => (f64::MAX, level),
        }
    }
    let ((x, s), (y, t)) = (key(a), key(b));
    x.total_cmp(&y).then(s.cmp(t))
}

/// `<40`, `40–64`, `≥65` for cut points [40, 65].
fn age_band(age: f64, cuts: &[f64]) -> String {
    let fmt = |x: f64| format!("{}", x as i64);
    match cuts.iter().position(|c| age < *c) {
        Some(0) => format!("<{}", fmt(cuts[0])),
        Some(i) => format!("{}–{}", fmt(cuts[i - 1]), fmt(cuts[i] - 1.0)),
        None => match cuts.last() {
            Some(last) => format!("≥{}", fmt(*last)),
            None => "all".into(),
        },
    }
}

fn flow(
    dataset: &Dataset,
    rows: &[Row],
    results: &BTreeMap<&str, &kizon_store::DeviceResult>,
) -> Flow {
    let mut groups: BTreeMap<(String, String), ExcludedGroup> = BTreeMap::new();
    for exclusion in &dataset.excluded {
        let group = groups
            .entry((exclusion.rule.clone(), exclusion.clause.clone()))
            .or_insert_with(|| ExcludedGroup {
                rule: exclusion.rule.clone(),
                clause: exclusion.clause.clone(),
                cases: Vec::new(),
                reasons: Vec::new(),
            });
        group.cases.push(exclusion.case_id.clone());
        if !group.reasons.contains(&exclusion.reason) {
            group.reasons.push(exclusion.reason.clone());
        }
    }
    let ids = |keep: &dyn Fn(&Row) -> bool| {
        rows.iter()
            .filter(|r| keep(r))
            .map(|r| r.case_id.clone())
            .collect::<Vec<_>>()
    };
    let no_reference = ids(&|r| r.reference.is_none());
    let reference_indeterminate = ids(&|r| r.reference == Some(Label::Indeterminate));
    let no_result = ids(&|r| {
        is_binary(r.reference)
            && (!results.contains_key(r.case_id.as_str())
                || (r.device.is_none() && r.score.is_none()))
    });
    let device_indeterminate =
        ids(&|r| is_binary(r.reference) && r.device == Some(Label::Indeterminate));
    Flow {
        collected: dataset.collected_cases,
        excluded: groups.into_values().collect(),
        included: dataset.cases.len(),
        analysed: rows.iter().filter(|r| in_analysis(r)).count(),
        reference_positive: rows
            .iter()
            .filter(|r| r.reference == Some(Label::Positive) && in_analysis(r))
            .count(),
        reference_negative: rows
            .iter()
            .filter(|r| r.reference == Some(Label::Negative) && in_analysis(r))
            .count(),
        no_reference,
        reference_indeterminate,
        no_result,
        device_indeterminate,
    }
}

/// Included and analysed cases by each characteristic (the levels of the included cases, with
/// `unknown` for those without it), then by the reference standard.
fn baseline(rows: &[Row]) -> Vec<Baseline> {
    fn table(
        rows: &[Row],
        level_of: &dyn Fn(&Row) -> String,
        sort: bool,
    ) -> (Vec<(String, usize)>, Vec<usize>) {
        let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for row in rows {
            let count = counts.entry(level_of(row)).or_default();
            count.0 += 1;
            count.1 += usize::from(in_analysis(row));
        }
        let mut levels: Vec<(String, (usize, usize))> = counts.into_iter().collect();
        if sort {
            levels.sort_by(|a, b| compare_levels(&a.0, &b.0));
        }
        (
            levels.iter().map(|(l, (n, _))| (l.clone(), *n)).collect(),
            levels.iter().map(|(_, (_, a))| *a).collect(),
        )
    }
    let mut out = Vec::new();
    for subgroup in Subgroup::ALL {
        let level_of = |row: &Row| {
            row.attributes
                .get(subgroup)
                .cloned()
                .unwrap_or_else(|| UNKNOWN.into())
        };
        let (levels, analysed) = table(rows, &level_of, true);
        if levels.len() == 1 && levels[0].0 == UNKNOWN {
            continue;
        }
        out.push(Baseline {
            variable: subgroup.as_str().into(),
            levels,
            analysed,
        });
    }
    let (levels, analysed) = table(
        rows,
        &|row: &Row| row.reference.map_or("none", Label::as_str).into(),
        false,
    );
    out.push(Baseline {
        variable: "reference".into(),
        levels,
        analysed,
    });
    out
}

fn cells(rows: &[&Row]) -> Cells {
    let mut cells = Cells::default();
    for row in rows {
        let id = row.case_id.clone();
        match (row.device, row.reference) {
            (Some(Label::Positive), Some(Label::Positive)) => cells.tp.push(id),
            (Some(Label::Positive), Some(Label::Negative)) => cells.fp.push(id),
            (Some(Label::Negative), Some(Label::Positive)) => cells.fn_.push(id),
            (Some(Label::Negative), Some(Label::Negative)) => cells.tn.push(id),
            _ => {}
        }
    }
    cells
}

pub(crate) fn proportion_ci(endpoint: &Endpoint) -> ProportionCi {
    endpoint
        .ci
        .as_str()
        .parse()
        .expect("protocol CI methods are statistics CI methods")
}

fn case_hash(ids: impl IntoIterator<Item = String>) -> String {
    let mut ids: Vec<String> = ids.into_iter().collect();
    ids.sort();
    sha256_hex(ids.join("\n").as_bytes())
}

/// One endpoint on a set of rows: binary rows for 2×2 metrics, scored rows for the AUC.
fn evaluate(
    endpoint: &Endpoint,
    rows: &[&Row],
    scored: &[&Row],
) -> Result<EndpointResult, AppError> {
    let metric = endpoint.metric;
    let ci = proportion_ci(endpoint);
    let (name_en, name_ja) = metric.names();
    let mut result = EndpointResult {
        id: endpoint.id.clone(),
        primary: endpoint.primary,
        metric: endpoint.metric,
        name_en: name_en.into(),
        name_ja: name_ja.into(),
        n: 0,
        table: None,
        cells: None,
        estimate: None,
        ci_method: ci.name().into(),
        level: endpoint.level,
        clustered: None,
        criterion_en: None,
        criterion_ja: None,
        pass: None,
        explanation_en: None,
        explanation_ja: None,
        cases_sha256: String::new(),
    };
    if endpoint.metric == Metric::Auc {
        result.ci_method = "delong".into();
        result.n = scored.len();
        result.cases_sha256 = case_hash(scored.iter().map(|r| r.case_id.clone()));
        let truth: Vec<bool> = scored
            .iter()
            .map(|r| r.reference == Some(Label::Positive))
            .collect();
        if truth.iter().any(|t| *t) && truth.iter().any(|t| !*t) {
            let scores: Vec<f64> = scored
                .iter()
                .map(|r| r.score.expect("scored rows"))
                .collect();
            match kizon_stats::auc_delong(&scores, &truth, endpoint.level) {
                Ok(auc) => result.estimate = Some(auc.auc),
                Err(e) => {
                    result.explanation_en = Some(format!("cannot be estimated: {e}"));
                    result.explanation_ja = Some(format!("推定できません：{e}"));
                }
            }
        }
    } else {
        let cells = cells(rows);
        let table = cells.table();
        let two = TwoByTwo::new(table.tp, table.fp, table.fn_, table.tn);
        result.n = rows.len();
        result.cases_sha256 = case_hash(rows.iter().map(|r| r.case_id.clone()));
        result.estimate = match endpoint.metric {
            Metric::Ppa | Metric::Npa | Metric::Opa | Metric::Kappa => {
                kizon_stats::agreement(&two, ci, endpoint.level)?.estimate_of(metric)
            }
            _ => kizon_stats::binary_accuracy(&two, ci, endpoint.level)?.estimate_of(metric),
        };
        if endpoint.metric == Metric::Kappa {
            result.ci_method = "fleiss-cohen-everitt".into();
        }
        result.table = Some(table);
        result.cells = Some(cells);
    }
    if endpoint.lower_bound_at_least.is_some() || endpoint.estimate_at_least.is_some() {
        let verdict = kizon_stats::evaluate(
            &kizon_stats::Criterion {
                metric,
                ci,
                level: endpoint.level,
                lower_bound_at_least: endpoint.lower_bound_at_least,
                estimate_at_least: endpoint.estimate_at_least,
                upper_bound_at_most: None,
            },
            result.estimate,
        )?;
        let (bound_en, bound_ja, threshold) =
            match (endpoint.lower_bound_at_least, endpoint.estimate_at_least) {
                (Some(t), _) => ("lower bound of the", "信頼区間の下限が", t),
                (None, Some(t)) => ("point estimate of the", "点推定値が", t),
                (None, None) => unreachable!("checked above"),
            };
        result.criterion_en = Some(format!(
            "{bound_en} {:.0}% CI of {name_en} ≥ {threshold}",
            endpoint.level * 100.0
        ));
        result.criterion_ja = Some(format!(
            "{name_ja}の{:.0}%{bound_ja} {threshold} 以上",
            endpoint.level * 100.0
        ));
        result.pass = Some(verdict.pass);
        result.explanation_en = Some(verdict.explanation_en);
        result.explanation_ja = Some(verdict.explanation_ja);
    }
    Ok(result)
}

/// The clustered interval of a proportion metric, patients as clusters (a case without a
/// patient key is its own cluster).
fn clustered(metric: Metric, rows: &[&Row], level: f64) -> Result<Option<Estimate>, AppError> {
    let counts = |row: &Row| -> Option<(u64, u64)> {
        let device = row.device == Some(Label::Positive);
        let reference = row.reference == Some(Label::Positive);
        match metric {
            Metric::Sensitivity | Metric::Ppa => reference.then_some((u64::from(device), 1)),
            Metric::Specificity | Metric::Npa => (!reference).then_some((u64::from(!device), 1)),
            Metric::Ppv => device.then_some((u64::from(reference), 1)),
            Metric::Npv => (!device).then_some((u64::from(!reference), 1)),
            Metric::Accuracy | Metric::Opa => Some((u64::from(device == reference), 1)),
            Metric::Prevalence => Some((u64::from(reference), 1)),
            Metric::LrPositive
            | Metric::LrNegative
            | Metric::Dor
            | Metric::Youden
            | Metric::Kappa
            | Metric::Auc => None,
        }
    };
    if !metric.is_proportion() {
        return Ok(None);
    }
    let mut clusters: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in rows {
        if let Some((x, n)) = counts(row) {
            let key = row
                .patient
                .clone()
                .unwrap_or_else(|| format!("case:{}", row.case_id));
            let entry = clusters.entry(key).or_default();
            entry.0 += x;
            entry.1 += n;
        }
    }
    let clusters: Vec<(u64, u64)> = clusters.into_values().collect();
    Ok(kizon_stats::clustered_proportion(&clusters, level)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_bands_sort_by_age_and_other_levels_by_name() {
        let mut levels = vec!["≥65", "40–64", "<40", "unknown"];
        levels.sort_by(|a, b| compare_levels(a, b));
        assert_eq!(levels, ["<40", "40–64", "≥65", "unknown"]);
    }

    #[test]
    fn age_bands_read_like_a_table() {
        let cuts = [40.0, 65.0];
        assert_eq!(age_band(12.0, &cuts), "<40");
        assert_eq!(age_band(40.0, &cuts), "40–64");
        assert_eq!(age_band(64.9, &cuts), "40–64");
        assert_eq!(age_band(65.0, &cuts), "≥65");
    }
}
