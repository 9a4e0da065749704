//! `kizon stats froc`: the lesion-level figures from a lesions file and a marks file, without a study.

use super::*;

/// Input of [`froc`]: a lesions file and a marks file (CSV or JSON), no study needed.
#[derive(Debug, Clone)]
pub struct FrocFiles {
    /// Reference lesions; a row without a location names a case (image) with no lesion, so
    /// that normal cases without marks are counted.
    pub lesions: PathBuf,
    /// Device or reader marks with their ratings.
    pub marks: PathBuf,
    pub criterion: LesionCriterion,
    pub radius: Option<f64>,
    pub threshold: Option<f64>,
    pub units: LesionUnits,
    pub duplicates: DuplicateMarks,
    /// Operating point: marks rated at or above it.
    pub rating_threshold: Option<f64>,
    pub level: f64,
    pub replicates: usize,
    pub seed: u64,
}

/// FROC analysis of two files: the JAFROC figures of merit with bootstrap intervals, the
/// lesion-level sensitivity with its clustered interval, NLs per image and per case, per-case
/// sensitivity and specificity, localisation, the FROC and AFROC curves.
pub fn froc(input: &FrocFiles) -> Result<LesionFigures, AppError> {
    let plan = LesionPlan {
        criterion: input.criterion,
        radius: input.radius,
        threshold: input.threshold,
        units: input.units,
        k: 1,
        adjudication: false,
        duplicates: input.duplicates,
        rating_threshold: input.rating_threshold,
        types: Vec::new(),
    };
    match (input.criterion, input.radius, input.threshold) {
        (LesionCriterion::Distance, None, _) => {
            return Err(AppError::Refused {
                what: "--criterion distance needs --radius".into(),
                hint:
                    "give the largest centre distance, e.g. --radius 10 (in the coordinates' unit)"
                        .into(),
            });
        }
        (LesionCriterion::Iou, _, None) => {
            return Err(AppError::Refused {
                what: "--criterion iou needs --iou".into(),
                hint: "give the smallest intersection over union, e.g. --iou 0.5".into(),
            });
        }
        _ => {}
    }
    let lesion_rows = read_marks_file(&input.lesions, None)?;
    let mark_rows = read_marks_file(&input.marks, None)?;
    let mut cases: BTreeMap<&str, u64> = BTreeMap::new();
    let mut images: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in lesion_rows.iter().chain(&mark_rows) {
        cases.entry(&r.case_id).or_insert(1);
        images.entry(&r.case_id).or_default().insert(&r.image);
    }
    for (case, set) in &images {
        cases.insert(case, set.len() as u64);
    }
    let mut lesions = Vec::new();
    for r in &lesion_rows {
        if let Some(shape) = &r.shape {
            lesions.push((
                r.case_id.as_str(),
                r.image.as_str(),
                shape.clone(),
                r.weight.unwrap_or(1.0),
            ));
        }
    }
    let mut marks = Vec::new();
    for r in &mark_rows {
        let fail = |field: &str, problem: &str, hint: &str| {
            input_error(&input.marks, &r.origin, field, problem.into(), hint)
        };
        let Some(shape) = &r.shape else {
            return Err(fail("x", "no location", SHAPE_HINT));
        };
        let Some(rating) = r.rating else {
            return Err(fail(
                "rating",
                "a mark needs its rating",
                "give each mark's confidence (rating, score or confidence); use 1 for unrated marks",
            ));
        };
        marks.push((r.case_id.as_str(), r.image.as_str(), shape.clone(), rating));
    }
    lesion_figures(
        &FrocInput {
            cases,
            lesions,
            marks,
        },
        &FrocSettings {
            criterion: match_criterion(&plan),
            criterion_text: criterion_text(&plan),
            duplicates: input.duplicates,
            threshold: input.rating_threshold,
            level: input.level,
            replicates: input.replicates,
            seed: input.seed,
        },
    )
}
