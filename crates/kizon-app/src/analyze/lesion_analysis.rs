//! The lesion-level analysis: the device's marks matched to the locked lesions.

use super::*;

/// The device's marks on the locked dataset against the locked lesions: every dataset case
/// counts (a case without lesions is normal), with as many images as its dataset items (at
/// least the images its lesions and marks name); lesions weigh equally within a case for the
/// weighted AFROC; 95 % intervals, the protocol's bootstrap replicates and seed; ratings are
/// the device's, and the operating point is `[lesions] rating_threshold`.
pub(super) fn lesion_analysis(
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

/// The reader study at the lesion level: for each reader and reading condition with reads,
/// that reader's marks in that condition against the locked lesions, over the cases the reader
/// read in it (a case read without a mark counts, an unread case does not), with the figures
/// the device gets ([`lesion_analysis`]).
pub(super) fn reader_lesion_analyses(
    plan: &kizon_protocol::LesionPlan,
    reference: &crate::lesions::LesionReference,
    marks: &[kizon_store::StoredMark],
    reads: &[kizon_store::Read],
    dataset: &Dataset,
    options: &kizon_protocol::AnalysisPlan,
) -> Result<Vec<ReaderLesions>, AppError> {
    let mut read: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for r in reads {
        if let Some(m) = r.role.modality() {
            read.entry((r.reader.as_str(), m))
                .or_default()
                .insert(r.case_id.as_str());
        }
    }
    let mut out = Vec::new();
    for ((reader, modality), cases) in read {
        let theirs: Vec<kizon_store::StoredMark> = marks
            .iter()
            .filter(|m| {
                m.reader.as_deref() == Some(reader)
                    && m.role.as_ref().and_then(|r| r.modality()) == Some(modality)
                    && cases.contains(m.case_id.as_str())
            })
            .cloned()
            .collect();
        let read_cases = Dataset {
            cases: dataset
                .cases
                .iter()
                .filter(|c| cases.contains(c.id.as_str()))
                .cloned()
                .collect(),
            ..dataset.clone()
        };
        // A reader part-way through a session may have read no normal case yet: the figures
        // wait, the rest of the analysis does not.
        let (analysis, not_estimable) =
            match lesion_analysis(plan, reference, &theirs, &read_cases, options) {
                Ok(analysis) => (Some(analysis), None),
                Err(AppError::Stats(e)) => (None, Some(e.to_string())),
                Err(other) => return Err(other),
            };
        out.push(ReaderLesions {
            reader: reader.to_owned(),
            modality: modality.to_owned(),
            cases: read_cases.cases.len(),
            analysis,
            not_estimable,
        });
    }
    Ok(out)
}
