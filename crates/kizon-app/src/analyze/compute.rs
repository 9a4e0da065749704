//! `analyze`: the inputs gathered and hashed, the analysis set built, every endpoint evaluated, the result stored once per input hash.

use super::*;

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
        let version = version_to_analyse(&all_results, device_version)?;
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

        let results_sha256 = json_sha256(
            &results
                .values()
                .map(|r| (&r.case_id, &r.label, r.score, &r.marks))
                .collect::<Vec<_>>(),
        );
        let findings_sha256 = json_sha256(
            &findings
                .iter()
                .map(|f| (f.id, &f.rule, f.status, &f.case_ids))
                .collect::<Vec<_>>(),
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
            json_sha256(
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
            json_sha256(
                &study_reads
                    .iter()
                    .map(|r| (&r.reader, &r.case_id, &r.role, r.score))
                    .collect::<Vec<_>>(),
            )
        });
        let reader_study = reader_study(&rows, &study_reads)?;
        let reader_marks: Vec<kizon_store::StoredMark> =
            match (&protocol.lesions, &reference.lesions) {
                (Some(_), Some(_)) => {
                    let in_dataset = dataset.case_ids();
                    self.store
                        .marks()?
                        .into_iter()
                        .filter(|m| {
                            m.role.as_ref().is_some_and(|r| r.modality().is_some())
                                && in_dataset.contains(m.case_id.as_str())
                        })
                        .collect()
                }
                _ => Vec::new(),
            };
        let reader_marks_sha256 = (!reader_marks.is_empty()).then(|| {
            json_sha256(
                &reader_marks
                    .iter()
                    .map(|m| {
                        (
                            &m.reader,
                            &m.role,
                            &m.case_id,
                            &m.image,
                            m.ordinal,
                            &m.shape,
                            &m.lesion_type,
                            m.rating,
                        )
                    })
                    .collect::<Vec<_>>(),
            )
        });
        let times: Vec<crate::reading::ReadingTime> = {
            let in_dataset = dataset.case_ids();
            self.reading_times()?
                .into_iter()
                .filter(|t| {
                    t.submitted && t.modality.is_some() && in_dataset.contains(t.case_id.as_str())
                })
                .collect()
        };
        let reading_times_sha256 = (!times.is_empty()).then(|| json_sha256(&times));
        let reading_times = reading_time_summaries(&times);
        let reader_lesions = match (&protocol.lesions, &reference.lesions) {
            (Some(plan), Some(reference_lesions)) if !reader_marks.is_empty() => {
                reader_lesion_analyses(
                    plan,
                    reference_lesions,
                    &reader_marks,
                    &study_reads,
                    &dataset,
                    &protocol.analysis,
                )?
            }
            _ => Vec::new(),
        };
        let inputs = Inputs {
            kizon_version: env!("CARGO_PKG_VERSION").into(),
            protocol_sha256: protocol_text.sha256,
            dataset_root: dataset.merkle_root.clone(),
            reference_sha256: reference_lock.sha256,
            device_version: version,
            results_sha256,
            reader_study_sha256,
            marks_sha256,
            reader_marks_sha256,
            reading_times_sha256,
            findings_sha256,
            deviations_sha256: {
                let deviations = self.store.deviations()?;
                (!deviations.is_empty()).then(|| json_sha256(&deviations))
            },
        };
        let inputs_sha256 = json_sha256(&inputs);

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
            subgroups.extend(subgroup_results(
                endpoint,
                &protocol.analysis.subgroups,
                &rows,
                &primary_rows,
                &scored_rows,
            )?);
            if endpoint.metric != Metric::Auc {
                sensitivity.extend(sensitivity_results(endpoint, &rows)?);
            }
        }

        // Against a comparator method there is no truth for an ROC curve: its AUC would read as
        // accuracy (FDA 2007 statistical guidance), and the report refuses it. Device scores
        // in such a study (an analyser's values) are the correlation study's business.
        let roc = match reference.kind {
            ReferenceStandard::ComparatorMethod => None,
            ReferenceStandard::ExpertPanel | ReferenceStandard::ConfirmedDiagnosis => {
                descriptive_roc(&scored_rows)
            }
        };
        let method_comparisons = self.method_comparisons(&protocol.method_comparisons, &dataset)?;

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
            reader_lesions,
            reading_times,
            method_comparisons,
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

/// The device version the analysis is of: the one asked for, else the only one imported.
fn version_to_analyse(
    all_results: &[kizon_store::DeviceResult],
    device_version: Option<&str>,
) -> Result<String, AppError> {
    let versions: BTreeSet<&str> = all_results
        .iter()
        .map(|r| r.device_version.as_str())
        .collect();
    match (device_version, versions.len()) {
        (Some(v), _) if versions.contains(v) => Ok(v.to_owned()),
        (Some(v), _) => Err(AppError::Refused {
            what: format!("no results of device version `{v}`"),
            hint: format!(
                "imported versions: {}",
                versions.iter().copied().collect::<Vec<_>>().join(", ")
            ),
        }),
        (None, 0) => Err(AppError::Refused {
            what: "no device results imported yet".into(),
            hint: "kizon results import FILE --device-version V".into(),
        }),
        (None, 1) => Ok(versions.iter().next().expect("one version").to_string()),
        (None, _) => Err(AppError::Refused {
            what: format!(
                "results of several device versions: {}",
                versions.iter().copied().collect::<Vec<_>>().join(", ")
            ),
            hint: "choose one: kizon analyze --device-version V".into(),
        }),
    }
}

/// An endpoint in each level of each subgroup variable; cases without the attribute are a
/// level of their own (`unknown`), so that the levels add up to the endpoint's cases.
fn subgroup_results(
    endpoint: &Endpoint,
    variables: &[Subgroup],
    rows: &[Row],
    primary_rows: &[&Row],
    scored_rows: &[&Row],
) -> Result<Vec<SubgroupResult>, AppError> {
    let mut subgroups = Vec::new();
    for &variable in variables {
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
            let sub_scored: Vec<&Row> = scored_rows.iter().filter(in_level).copied().collect();
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
    Ok(subgroups)
}

/// The sensitivity analyses of an endpoint: indeterminate results counted as positive and as
/// negative, and the cases with accepted findings left out.
fn sensitivity_results(
    endpoint: &Endpoint,
    rows: &[Row],
) -> Result<Vec<SensitivityResult>, AppError> {
    let mut sensitivity = Vec::new();
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
    Ok(sensitivity)
}

/// The ROC curve and AUC of the analysis set's scored cases. Descriptive, not an endpoint: what
/// cannot be estimated (DeLong's variance needs two cases of each class) is left out, never a
/// reason to stop the analysis.
fn descriptive_roc(scored_rows: &[&Row]) -> Option<Roc> {
    if scored_rows
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
    }
}

/// SHA-256 of a value's JSON: how each input of the analysis is fingerprinted.
fn json_sha256(value: &impl Serialize) -> String {
    sha256_hex(
        serde_json::to_string(value)
            .expect("analysis inputs serialise")
            .as_bytes(),
    )
}
