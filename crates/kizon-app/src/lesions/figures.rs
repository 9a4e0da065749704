//! The lesion-level evaluation of the device's marks: JAFROC and wAFROC figures of merit, FROC and AFROC curves, localisation and segmentation summaries.

use super::*;

/// A figure of merit with its bootstrap percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FomCi {
    pub estimate: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// A point of the FROC curve (`threshold` null at the origin).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrocCurvePoint {
    pub threshold: Option<f64>,
    /// NLs per case.
    pub nlf: f64,
    pub fp_per_image: f64,
    pub llf: f64,
}

/// A point of the AFROC and wAFROC curves (`threshold` null at the ends).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AfrocCurvePoint {
    pub threshold: Option<f64>,
    pub fpf: f64,
    pub llf: f64,
    pub wllf: f64,
}

/// How precisely the hits located their lesions (in the coordinates' units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalisationSummary {
    pub hits: u64,
    pub mean_distance: f64,
    pub median_distance: f64,
    pub max_distance: f64,
    pub mean_iou: Option<f64>,
    pub median_iou: Option<f64>,
    /// Segmentation overlap of the hits whose mark and lesion are both regions (boxes or
    /// polygons, the device's masks): mean Dice and IoU ([`kizon_stats::region_overlap`]);
    /// absent when no hit has two regions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segmentation: Option<SegmentationSummary>,
}

/// Mean Dice and IoU over the hits with two regions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentationSummary {
    pub regions: u64,
    pub mean_dice: f64,
    pub mean_iou: f64,
}

/// Lesion-level results (JSON of `kizon stats froc` and the `lesions` section of an analysis).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LesionFigures {
    /// The matching criterion in words (`distance ≤ 10 mm`, `IoU ≥ 0.5`, `inside`).
    pub criterion: String,
    pub duplicates: DuplicateMarks,
    pub cases: u64,
    pub normal_cases: u64,
    pub abnormal_cases: u64,
    pub images: u64,
    pub lesions: u64,
    pub marks: u64,
    /// Marks that hit a lesion (LL) and that did not (NL), at any rating.
    pub hits: u64,
    pub nl_marks: u64,
    pub duplicate_marks: u64,
    /// JAFROC figure of merit (AFROC AUC) and weighted AFROC, with bootstrap intervals.
    pub afroc: FomCi,
    pub wafroc: FomCi,
    /// The operating point: marks rated at or above it (null: every mark).
    pub threshold: Option<f64>,
    pub level: f64,
    /// Lesion localisation fraction at the threshold, interval clustered by case.
    pub lesion_sensitivity: Option<Estimate>,
    pub fp_per_image: Option<Estimate>,
    pub fp_per_case: Option<Estimate>,
    pub case_sensitivity: Option<Estimate>,
    pub case_specificity: Option<Estimate>,
    pub localisation: Option<LocalisationSummary>,
    pub froc_curve: Vec<FrocCurvePoint>,
    pub afroc_curve: Vec<AfrocCurvePoint>,
    pub replicates: usize,
    pub seed: u64,
}

/// Lesions and marks of one evaluation, keyed by case and image.
pub(crate) struct FrocInput<'a> {
    /// Every case with the number of images it shows (at least the images named below).
    pub cases: BTreeMap<&'a str, u64>,
    /// (case, image, shape, weight)
    pub lesions: Vec<(&'a str, &'a str, Shape, f64)>,
    /// (case, image, shape, rating)
    pub marks: Vec<(&'a str, &'a str, Shape, f64)>,
}

pub(crate) struct FrocSettings {
    pub criterion: MatchCriterion,
    pub criterion_text: String,
    pub duplicates: DuplicateMarks,
    pub threshold: Option<f64>,
    pub level: f64,
    pub replicates: usize,
    pub seed: u64,
}

pub(super) fn none_if_infinite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Matches the marks to the lesions and computes the lesion-level figures
/// ([`kizon_stats::match_marks`], [`kizon_stats::froc_analysis`]).
pub(crate) fn lesion_figures(
    input: &FrocInput<'_>,
    settings: &FrocSettings,
) -> Result<LesionFigures, AppError> {
    // Images: every (case, image) named, then unnamed images up to each case's count.
    let mut image_index: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (case, image, ..) in input.lesions.iter().chain(&input.marks) {
        let next = image_index.len();
        image_index.entry((case, image)).or_insert(next);
    }
    let case_ids: Vec<&str> = input.cases.keys().copied().collect();
    let case_number = |case: &str| case_ids.binary_search(&case).expect("known case") as u64;
    let mut image_case = vec![0u64; image_index.len()];
    let mut named: BTreeMap<&str, u64> = BTreeMap::new();
    for (&(case, _), &i) in &image_index {
        image_case[i] = case_number(case);
        *named.entry(case).or_default() += 1;
    }
    for (case, &count) in &input.cases {
        let have = named.get(case).copied().unwrap_or(0);
        for _ in have..count.max(1) {
            image_case.push(case_number(case));
        }
    }
    let lesions: Vec<kizon_stats::Lesion> = input
        .lesions
        .iter()
        .map(|(case, image, shape, weight)| kizon_stats::Lesion {
            image: image_index[&(*case, *image)],
            shape: shape.clone(),
            weight: *weight,
        })
        .collect();
    let marks: Vec<kizon_stats::Mark> = input
        .marks
        .iter()
        .map(|(case, image, shape, rating)| kizon_stats::Mark {
            image: image_index[&(*case, *image)],
            shape: shape.clone(),
            rating: *rating,
        })
        .collect();
    let duplicates = match settings.duplicates {
        DuplicateMarks::Discard => kizon_stats::DuplicateMarks::Discard,
        DuplicateMarks::FalsePositive => kizon_stats::DuplicateMarks::FalsePositive,
    };
    let matching = kizon_stats::match_marks(&lesions, &marks, settings.criterion, duplicates)?;
    let (_, cases) = kizon_stats::froc_cases(&image_case, &lesions, &marks, &matching)?;
    let froc = kizon_stats::froc_analysis(
        &cases,
        &kizon_stats::FrocOptions {
            threshold: settings.threshold,
            level: settings.level,
            replicates: settings.replicates,
            seed: settings.seed,
        },
    )?;
    let count = |f: &dyn Fn(&kizon_stats::MarkOutcome) -> bool| {
        matching.outcomes.iter().filter(|o| f(o)).count() as u64
    };
    let fom = |f: kizon_stats::Fom| FomCi {
        estimate: f.estimate,
        lower: f.lower,
        upper: f.upper,
    };
    Ok(LesionFigures {
        criterion: settings.criterion_text.clone(),
        duplicates: settings.duplicates,
        cases: cases.len() as u64,
        normal_cases: froc.normal_cases,
        abnormal_cases: froc.abnormal_cases,
        images: froc.images,
        lesions: froc.lesions,
        marks: marks.len() as u64,
        hits: count(&|o| matches!(o, kizon_stats::MarkOutcome::Hit { .. })),
        nl_marks: froc.nl_marks,
        duplicate_marks: count(&|o| matches!(o, kizon_stats::MarkOutcome::Duplicate { .. })),
        afroc: fom(froc.afroc),
        wafroc: fom(froc.wafroc),
        threshold: froc.threshold,
        level: settings.level,
        lesion_sensitivity: froc.lesion_sensitivity,
        fp_per_image: froc.fp_per_image,
        fp_per_case: froc.fp_per_case,
        case_sensitivity: froc.case_sensitivity,
        case_specificity: froc.case_specificity,
        localisation: kizon_stats::localisation(&matching).map(|l| {
            let overlaps: Vec<(f64, f64)> = matching
                .hits
                .iter()
                .filter_map(|h| {
                    kizon_stats::region_overlap(&marks[h.mark].shape, &lesions[h.lesion].shape)
                })
                .collect();
            let n = overlaps.len() as f64;
            LocalisationSummary {
                hits: l.hits,
                mean_distance: l.mean_distance,
                median_distance: l.median_distance,
                max_distance: l.max_distance,
                mean_iou: l.mean_iou,
                median_iou: l.median_iou,
                segmentation: (!overlaps.is_empty()).then(|| SegmentationSummary {
                    regions: overlaps.len() as u64,
                    mean_dice: overlaps.iter().map(|o| o.0).sum::<f64>() / n,
                    mean_iou: overlaps.iter().map(|o| o.1).sum::<f64>() / n,
                }),
            }
        }),
        froc_curve: froc
            .froc_curve
            .iter()
            .map(|p| FrocCurvePoint {
                threshold: none_if_infinite(p.threshold),
                nlf: p.nlf,
                fp_per_image: p.fp_per_image,
                llf: p.llf,
            })
            .collect(),
        afroc_curve: froc
            .afroc_curve
            .iter()
            .map(|p| AfrocCurvePoint {
                threshold: none_if_infinite(p.threshold),
                fpf: p.fpf,
                llf: p.llf,
                wllf: p.wllf,
            })
            .collect(),
        replicates: froc.replicates,
        seed: froc.seed,
    })
}
