//! The report's sections built from the analysis: title page, flow, baseline, endpoints,
//! ROC, subgroups, sensitivity analyses, summary, lesion-level and MRMC results.

use kizon_report::model::{
    self as m, Baseline, BaselineRow, BaselineValue, Exclusion, Flow, Hashes, Interval, LedgerHead,
    StudyInfo, Text, TraceRow,
};

use super::Inputs;
use super::words::{ci_method, level_text, rule_name, same, subgroup_name, verdict, written};
use crate::AppError;

/// Title-page facts: the study, the device version analysed, the hashes that bind the report.
pub(super) fn study_info(i: &Inputs<'_>) -> Result<StudyInfo, AppError> {
    let Inputs {
        study: st,
        protocol,
        plan,
        reference_sha,
        analysis,
        analysis_sha256,
        head,
        report_date,
        ..
    } = i;
    let title = Text::new(
        protocol.study.title.clone(),
        protocol
            .study
            .title_en
            .clone()
            .unwrap_or_else(|| protocol.study.title.clone()),
    );
    let study = StudyInfo {
        id: protocol.study.id.clone(),
        title,
        sponsor: written(
            &protocol.study.sponsor,
            protocol.study.sponsor_en.as_deref(),
        ),
        device: m::Device {
            name: same(protocol.device.name.clone()),
            // The version whose results the report analyses; a protocol naming another
            // version is a finding (`device-version-differs`) listed with the doubts.
            version: analysis.inputs.device_version.clone(),
            intended_use: protocol
                .device
                .intended_use
                .as_deref()
                .map(|u| written(u, protocol.device.intended_use_en.as_deref())),
        },
        test_type: if plan.test_type.as_str() == "2(2)" {
            m::TestType::WithClinicalInfo
        } else {
            m::TestType::ImagesOnly
        },
        rules_version: plan.rules_version.id.to_owned(),
        report_date: report_date.to_string(),
        hashes: Hashes {
            protocol_sha256: analysis.inputs.protocol_sha256.clone(),
            dataset_merkle_root: analysis.inputs.dataset_root.clone(),
            reference_standard: reference_sha.clone().unwrap_or_default(),
            device_results: analysis.inputs.results_sha256.clone(),
            analysis: analysis_sha256.clone(),
            ledger_head: LedgerHead {
                seq: head.0 as u64,
                hash: head.1.clone(),
            },
            owner_public_key: st.owner_public_key()?,
        },
    };

    Ok(study)
}

/// The STARD 2015 flow from the analysis's own counts.
pub(super) fn flow(i: &Inputs<'_>) -> Result<Flow, AppError> {
    let Inputs { analysis, .. } = i;
    let flow = Flow {
        collected: analysis.flow.collected as u64,
        excluded: analysis
            .flow
            .excluded
            .iter()
            .map(|g| {
                let name = rule_name(&g.rule);
                Exclusion {
                    reason: Text::new(
                        format!("{}（{}）", name.ja, g.clause),
                        format!("{} ({})", name.en, g.clause),
                    ),
                    count: g.cases.len() as u64,
                }
            })
            .collect(),
        eligible: analysis.flow.included as u64,
        no_reference_standard: (analysis.flow.no_reference.len()
            + analysis.flow.reference_indeterminate.len()) as u64,
        no_device_result: analysis.flow.no_result.len() as u64,
        indeterminate: analysis.flow.device_indeterminate.len() as u64,
        indeterminate_handling: m::IndeterminateHandling::Excluded,
        analysed: analysis.flow.analysed as u64,
        reference_positive: analysis.flow.reference_positive as u64,
        reference_negative: analysis.flow.reference_negative as u64,
    };
    Ok(flow)
}

/// Baseline characteristics of the included and the analysed cases.
pub(super) fn baseline(i: &Inputs<'_>) -> Result<Baseline, AppError> {
    let Inputs { analysis, .. } = i;
    let included = analysis.flow.included as u64;
    let analysed = analysis.flow.analysed as u64;
    // Two columns, the included cases (the flow diagram's eligible) and the analysed ones
    // (its analysis set), so that each count matches the flow diagram and the 2×2 table.
    let baseline = Baseline {
        groups: vec![
            Text::new("採用症例", "Included cases"),
            Text::new("解析対象", "Analysed cases"),
        ],
        rows: analysis
            .baseline
            .iter()
            .flat_map(|b| {
                b.levels
                    .iter()
                    .enumerate()
                    .map(move |(i, (level, n))| BaselineRow {
                        variable: subgroup_name(&b.variable),
                        level: Some(level_text(&b.variable, level)),
                        values: vec![
                            BaselineValue::Count {
                                n: *n as u64,
                                of: included,
                            },
                            match b.analysed.get(i) {
                                Some(a) => BaselineValue::Count {
                                    n: *a as u64,
                                    of: analysed,
                                },
                                None => BaselineValue::NotApplicable,
                            },
                        ],
                    })
            })
            .collect(),
    };
    Ok(baseline)
}

/// Each endpoint's result, and where its numbers came from (the traceability appendix).
pub(super) fn endpoints(
    i: &Inputs<'_>,
) -> Result<(Vec<m::EndpointResult>, Vec<TraceRow>), AppError> {
    let Inputs {
        analysis,
        analysis_sha256,
        analyze_seq,
        ..
    } = i;
    let mut endpoints = Vec::new();
    let mut traceability = Vec::new();
    for e in &analysis.endpoints {
        let Some(estimate) = &e.estimate else {
            continue;
        };
        endpoints.push(m::EndpointResult {
            id: e.id.clone(),
            name: Text::new(e.name_ja.clone(), e.name_en.clone()),
            primary: e.primary,
            metric: e.metric,
            estimate: estimate.estimate,
            ci: Some(interval(estimate, &e.ci_method)),
            acceptance_criterion: e
                .criterion_ja
                .clone()
                .zip(e.criterion_en.clone())
                .map(|(ja, en)| Text::new(ja, en)),
            verdict: verdict(e.pass),
            table: e.table.map(|t| m::TwoByTwo {
                tp: t.tp,
                fp: t.fp,
                fn_: t.fn_,
                tn: t.tn,
            }),
        });
        traceability.push(TraceRow {
            item: Text::new(e.name_ja.clone(), e.name_en.clone()),
            // The same strings the report prints (kizon-report's formatting).
            value: format!(
                "{} ({})",
                kizon_report::format_value(e.metric, estimate.estimate),
                kizon_report::format_interval(e.metric, &interval(estimate, &e.ci_method))
            ),
            analysis_id: analysis_sha256[..12].to_owned(),
            endpoint_id: Some(e.id.clone()),
            case_list_sha256: e.cases_sha256.clone(),
            ledger_seq: *analyze_seq as u64,
        });
    }
    Ok((endpoints, traceability))
}

/// The ROC curve of the analysis set's scores.
pub(super) fn roc(i: &Inputs<'_>) -> Result<Vec<m::RocCurve>, AppError> {
    let Inputs {
        protocol, analysis, ..
    } = i;
    let primary_table = analysis.endpoints.iter().find_map(|e| e.table);
    let roc = analysis
        .roc
        .iter()
        .map(|r| m::RocCurve {
            id: "roc".into(),
            name: Text::new(
                format!("{}のROC曲線", protocol.device.name),
                format!("ROC curve of {}", protocol.device.name),
            ),
            points: plotted(
                r.fpr
                    .iter()
                    .zip(&r.tpr)
                    .map(|(fpr, tpr)| m::RocPoint {
                        fpr: *fpr,
                        tpr: *tpr,
                    })
                    .collect(),
            ),
            auc: r.auc.estimate,
            ci: Some(Interval {
                low: r.auc.lower,
                high: r.auc.upper,
                method: m::CiMethod::Delong,
            }),
            positives: r.positives,
            negatives: r.negatives,
            operating_point: primary_table
                .filter(|t| t.tp + t.fn_ > 0 && t.fp + t.tn > 0)
                .map(|t| m::RocPoint {
                    fpr: t.fp as f64 / (t.fp + t.tn) as f64,
                    tpr: t.tp as f64 / (t.tp + t.fn_) as f64,
                }),
        })
        .collect();
    Ok(roc)
}

/// The vertices of an ROC curve that a figure can show: a vertex is kept when it lies at least
/// [`PLOT_STEP`] of an axis from the last kept one (the first and last always), so that a
/// curve of 10^6 distinct scores is drawn from at most a few thousand vertices, none of them
/// off the true curve by more than the step. The analysis keeps every point; the AUC and its
/// interval are computed from all of them.
fn plotted(points: Vec<m::RocPoint>) -> Vec<m::RocPoint> {
    if points.len() <= 2 * PLOT_VERTICES {
        return points;
    }
    let last = points.len() - 1;
    let mut kept: Vec<m::RocPoint> = Vec::with_capacity(2 * PLOT_VERTICES);
    for (k, p) in points.iter().enumerate() {
        let far = kept.last().is_none_or(|q: &m::RocPoint| {
            (p.fpr - q.fpr).abs() >= PLOT_STEP || (p.tpr - q.tpr).abs() >= PLOT_STEP
        });
        if k == 0 || k == last || far {
            kept.push(*p);
        }
    }
    kept
}

/// Vertices per axis of a plotted ROC curve: a 2,000th of the axis is below a printed line's
/// width at any figure size the report uses.
const PLOT_VERTICES: usize = 2000;
const PLOT_STEP: f64 = 1.0 / PLOT_VERTICES as f64;

/// Every subgroup level of every endpoint.
pub(super) fn subgroups(i: &Inputs<'_>) -> Result<Vec<m::SubgroupRow>, AppError> {
    let Inputs { analysis, .. } = i;
    // Every level, those without an estimate too: its row says so, and the rows of an
    // endpoint add up to the endpoint's denominator.
    let subgroups = analysis
        .subgroups
        .iter()
        // Only the endpoints the report shows (one that could not be estimated is not).
        .filter(|s| {
            analysis
                .endpoints
                .iter()
                .any(|e| e.id == s.endpoint && e.estimate.is_some())
        })
        .map(|s| {
            let metric = s.metric;
            let fraction = s.table.and_then(|t| {
                m::TwoByTwo {
                    tp: t.tp,
                    fp: t.fp,
                    fn_: t.fn_,
                    tn: t.tn,
                }
                .fraction(metric)
            });
            m::SubgroupRow {
                endpoint: Some(s.endpoint.clone()),
                variable: subgroup_name(&s.variable),
                level: level_text(&s.variable, &s.level),
                cases: Some(s.n as u64),
                n: fraction.map_or(s.n as u64, |(_, n)| n),
                x: fraction.map(|(x, _)| x),
                metric,
                estimate: s.estimate.as_ref().map(|e| e.estimate),
                ci: s
                    .estimate
                    .as_ref()
                    .map(|e| endpoint_interval(analysis, &s.endpoint, e)),
            }
        })
        .collect();
    Ok(subgroups)
}

/// Every sensitivity analysis.
pub(super) fn sensitivity(i: &Inputs<'_>) -> Result<Vec<m::SensitivityRow>, AppError> {
    let Inputs { analysis, .. } = i;
    let sensitivity_analyses = analysis
        .sensitivity_analyses
        .iter()
        .map(|s| m::SensitivityRow {
            id: format!("{}:{}", s.endpoint, s.analysis),
            endpoint: Some(s.endpoint.clone()),
            analysis: Text::new(s.name_ja.clone(), s.name_en.clone()),
            n: s.n as u64,
            metric: s.metric,
            estimate: s.estimate.as_ref().map(|e| e.estimate),
            ci: s
                .estimate
                .as_ref()
                .map(|e| endpoint_interval(analysis, &s.endpoint, e)),
            verdict: verdict(s.pass),
        })
        .collect();
    Ok(sensitivity_analyses)
}

/// The summary's statement of the primary endpoint's verdict.
pub(super) fn summary(i: &Inputs<'_>) -> Result<Vec<Text>, AppError> {
    let Inputs {
        study: _st,
        analysis,
        ..
    } = i;
    let primary = analysis
        .endpoints
        .iter()
        .find(|e| e.primary)
        .or(analysis.endpoints.first());
    let summary = primary
        .and_then(|e| {
            let est = e.estimate.as_ref()?;
            let verdict = match e.pass {
                Some(true) => ("判定基準に適合した", "met its acceptance criterion"),
                Some(false) => (
                    "判定基準に適合しなかった",
                    "did not meet its acceptance criterion",
                ),
                None => ("", ""),
            };
            Some(vec![Text::new(
                format!(
                    "主要評価項目（{}）は {:.1}%（{:.0}%信頼区間 {:.1}–{:.1}%）であり、{}。",
                    e.name_ja,
                    est.estimate * 100.0,
                    e.level * 100.0,
                    est.lower * 100.0,
                    est.upper * 100.0,
                    verdict.0
                ),
                format!(
                    "The primary endpoint ({}) was {:.1}% ({:.0}% CI {:.1}–{:.1}%) and {}.",
                    e.name_en,
                    est.estimate * 100.0,
                    e.level * 100.0,
                    est.lower * 100.0,
                    est.upper * 100.0,
                    verdict.1
                ),
            )])
        })
        .unwrap_or_default();
    Ok(summary)
}

/// Lesion-level results, when the study has them.
pub(super) fn lesions(i: &Inputs<'_>) -> Result<Option<m::LesionResults>, AppError> {
    let Inputs {
        protocol, analysis, ..
    } = i;
    let lesions = analysis.lesions.as_ref().map(|l| {
        let f = &l.figures;
        let est = |e: &kizon_stats::Estimate| m::LesionEstimate {
            estimate: e.estimate,
            lower: Some(e.lower),
            upper: Some(e.upper),
        };
        let fom = |e: &crate::lesions::FomCi| m::LesionEstimate {
            estimate: e.estimate,
            lower: e.lower,
            upper: e.upper,
        };
        m::LesionResults {
            criterion: f.criterion.clone(),
            k: protocol.lesions.as_ref().map_or(1, |p| p.k),
            threshold: f.threshold,
            cases: f.cases,
            normal_cases: f.normal_cases,
            abnormal_cases: f.abnormal_cases,
            images: f.images,
            lesions: f.lesions,
            marks: f.marks,
            hits: f.hits,
            false_positives: f.nl_marks,
            lesion_types: l
                .lesion_types
                .iter()
                .map(|(t, n)| m::LesionTypeCount {
                    lesion_type: t.clone(),
                    count: *n,
                })
                .collect(),
            afroc: fom(&f.afroc),
            wafroc: fom(&f.wafroc),
            replicates: f.replicates as u64,
            lesion_sensitivity: f.lesion_sensitivity.as_ref().map(est),
            fp_per_image: f.fp_per_image.as_ref().map(est),
            fp_per_case: f.fp_per_case.as_ref().map(est),
            case_sensitivity: f.case_sensitivity.as_ref().map(est),
            case_specificity: f.case_specificity.as_ref().map(est),
            mean_distance: f.localisation.as_ref().map(|x| x.mean_distance),
            median_distance: f.localisation.as_ref().map(|x| x.median_distance),
            mean_iou: f.localisation.as_ref().and_then(|x| x.mean_iou),
            mean_dice: f
                .localisation
                .as_ref()
                .and_then(|x| x.segmentation.as_ref())
                .map(|s| s.mean_dice),
            froc: f
                .froc_curve
                .iter()
                .map(|p| m::CurvePoint { x: p.nlf, y: p.llf })
                .collect(),
            afroc_curve: f
                .afroc_curve
                .iter()
                .map(|p| m::CurvePoint { x: p.fpf, y: p.llf })
                .collect(),
        }
    });
    Ok(lesions)
}

/// The MRMC reader study, when the study has one.
pub(super) fn reader_study(i: &Inputs<'_>) -> Result<Option<m::ReaderStudyResults>, AppError> {
    let Inputs { analysis, .. } = i;
    let reader_study = analysis.reader_study.as_ref().map(|s| {
        let est = |e: &kizon_stats::Estimate| m::LesionEstimate {
            estimate: e.estimate,
            lower: Some(e.lower),
            upper: Some(e.upper),
        };
        m::ReaderStudyResults {
            modalities: s.modalities.clone(),
            readers: s.readers.clone(),
            cases: s.cases as u64,
            positives: s.positives,
            negatives: s.negatives,
            incomplete_cases: s.incomplete_cases.len() as u64,
            aucs: s
                .readers
                .iter()
                .map(|reader| {
                    s.modalities
                        .iter()
                        .map(|m| {
                            s.reader_aucs
                                .iter()
                                .find(|a| a.reader.as_ref() == Some(reader) && a.modality == *m)
                                .map_or(f64::NAN, |a| a.auc.estimate)
                        })
                        .collect()
                })
                .collect(),
            modality_aucs: s.modality_aucs.iter().map(|a| est(&a.auc)).collect(),
            f: s.f,
            df1: s.df1,
            df2: s.df2,
            p_value: s.p_value,
            difference: s.differences.first().map(|d| est(&d.difference)),
            warnings: s
                .warnings
                .iter()
                .map(|w| Text::new(w.message_ja.clone(), w.message_en.clone()))
                .collect(),
            reading_times: analysis
                .reading_times
                .iter()
                .map(|t| m::ReadingTimeRow {
                    modality: t.modality.clone(),
                    reader: t.reader.clone(),
                    reads: t.reads as u64,
                    mean_seconds: t.mean_seconds,
                    median_seconds: t.median_seconds,
                })
                .collect(),
            reader_lesions: analysis
                .reader_lesions
                .iter()
                .map(|r| {
                    let figures = r.analysis.as_ref().map(|a| &a.figures);
                    m::ReaderLesionRow {
                        reader: r.reader.clone(),
                        modality: r.modality.clone(),
                        cases: r.cases as u64,
                        wafroc: figures.map(|f| m::LesionEstimate {
                            estimate: f.wafroc.estimate,
                            lower: f.wafroc.lower,
                            upper: f.wafroc.upper,
                        }),
                        lesion_sensitivity: figures
                            .and_then(|f| f.lesion_sensitivity.as_ref())
                            .map(|e| e.estimate),
                        nl_per_image: figures
                            .and_then(|f| f.fp_per_image.as_ref())
                            .map(|e| e.estimate),
                    }
                })
                .collect(),
        }
    });
    Ok(reader_study)
}

/// An estimate's interval with the method it was computed by.
fn interval(e: &kizon_stats::Estimate, method: &str) -> Interval {
    Interval {
        low: e.lower,
        high: e.upper,
        method: ci_method(method),
    }
}

/// The interval of a subgroup's or sensitivity analysis's estimate, by its endpoint's method.
fn endpoint_interval(
    analysis: &crate::analyze::Analysis,
    endpoint: &str,
    e: &kizon_stats::Estimate,
) -> Interval {
    let method = analysis
        .endpoints
        .iter()
        .find(|x| x.id == endpoint)
        .map_or("wilson", |x| x.ci_method.as_str());
    interval(e, method)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A curve of 100,001 vertices is drawn from a few thousand; every dropped vertex lies
    /// within one step of the kept polyline's vertices, and the ends are kept.
    #[test]
    fn a_long_roc_curve_is_thinned_for_the_figure_only_within_a_step() {
        let n = 100_000;
        let points: Vec<m::RocPoint> = (0..=n)
            .map(|k| {
                let x = k as f64 / n as f64;
                m::RocPoint {
                    fpr: x,
                    tpr: x.sqrt(),
                }
            })
            .collect();
        let kept = plotted(points.clone());
        assert!(kept.len() <= 2 * PLOT_VERTICES + 2, "{}", kept.len());
        assert_eq!(kept.first(), points.first());
        assert_eq!(kept.last(), points.last());
        let mut j = 0;
        for p in &points {
            while j + 1 < kept.len() && kept[j + 1].fpr <= p.fpr {
                j += 1;
            }
            let q = kept[j];
            assert!(
                (p.fpr - q.fpr).abs() < PLOT_STEP + 1e-12
                    && (p.tpr - q.tpr).abs() < PLOT_STEP + 1e-12,
                "{p:?} is off the drawn curve"
            );
        }
        let short: Vec<m::RocPoint> = points.iter().step_by(1000).copied().collect();
        assert_eq!(
            plotted(short.clone()),
            short,
            "a short curve is drawn whole"
        );
    }
}
