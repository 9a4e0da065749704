//! Free-response (FROC) evaluation of a detector or of readers who mark lesions: matching
//! marks to lesions, FROC and AFROC curves, the JAFROC figures of merit, lesion-level and
//! case-level accuracy, false positives per image and localisation accuracy.
//!
//! **Matching** ([`match_marks`]). A mark *hits* a lesion of the same image when the
//! protocol's criterion holds ([`MatchCriterion`]): the distance between the mark's centre
//! and the lesion's centre is at most `r` (in the units of the coordinates, mm or
//! pixels); or the intersection over union of the mark's box and the lesion's box is at
//! least `t`; or the mark's centre lies inside the lesion's region (circle, box or
//! polygon). Within each image the marks are taken **highest rating first** (ties in
//! input order); each mark credits the best eligible lesion not yet credited (nearest
//! centre, or highest IoU; ties to the lesion given first), so one mark credits at most
//! one lesion and each lesion is credited once, with the rating of its highest-rated
//! mark. A mark with no eligible lesion is a non-lesion localisation (NL, a false
//! positive). A mark whose eligible lesions were all credited by higher-rated marks is,
//! by default, discarded ([`DuplicateMarks::Discard`]): it localised a true lesion, and
//! Chakraborty's convention keeps only the highest-rated mark per lesion without scoring
//! the others as NLs (Chakraborty 2017, *Observer Performance Methods for Diagnostic
//! Imaging*, and the RJafroc FROC book, §"Multiple marks in the same vicinity"); a
//! protocol may count them as false positives instead. Unmarked lesions have rating −∞.
//!
//! **Figures of merit** (Chakraborty & Berbaum 2004, *Med Phys* 31:2313–2330; Chakraborty
//! 2017): with `FP_k` the highest NL rating on normal case `k` (−∞ if none) and
//! `ψ(x, y) = 1` if `y > x`, ½ if `y = x`, 0 otherwise,
//! - the AFROC (JAFROC) FOM `θ = Σ_k Σ_lesions ψ(FP_k, LL) / (K₁·L)` over the `K₁` normal
//!   cases and all `L` lesions;
//! - the weighted AFROC FOM `θ_w = Σ_k Σ_j Σ_l W_jl·ψ(FP_k, LL_jl) / (K₁·K₂)`, lesion
//!   weights summing to 1 within each abnormal case, so that every abnormal case counts
//!   once however many lesions it has.
//!
//! Both equal the area under their empirical curve (AFROC: `(FPF, LLF)`; wAFROC:
//! `(FPF, wLLF)`) including the segment to (1, 1), and are computed in
//! O((K₁ + L) log K₁) from the sorted FP ratings. Their interval is the percentile
//! interval of a bootstrap of cases stratified by truth (normal and abnormal cases
//! resampled separately, as in RJafroc), seeded ChaCha8 as in [`crate::bootstrap`].
//!
//! **Operating point** (ratings at or above a threshold count as marks; by default every
//! mark counts):
//! - lesion-level sensitivity (the LLF) with the ratio-estimator interval clustered by case
//!   (Obuchowski 1998, [`crate::clustered_proportion`]), because lesions of one patient
//!   are not independent;
//! - false positives (NLs) per image and per case, with the same ratio-estimator interval
//!   over cases;
//! - per-case sensitivity and specificity from the marks (a case is called positive when
//!   any of its marks reaches the threshold), with Wilson intervals.
//!
//! A case is abnormal when it has at least one lesion. An image belongs to one case
//! (patient); a case may have several images.

use std::cmp::Ordering;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::bootstrap::{percentile_interval, uniform};
use crate::clustered::ratio_interval;
use crate::error::StatsError;
use crate::estimate::{Estimate, check_level, z_for_level};
use crate::proportion::{ProportionCi, proportion_ci};

/// The geometry of a mark or a lesion, in image coordinates (mm or pixels).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Shape {
    Point {
        x: f64,
        y: f64,
    },
    Circle {
        x: f64,
        y: f64,
        r: f64,
    },
    /// An axis-aligned box with `x0 ≤ x1`, `y0 ≤ y1`.
    Box {
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
    },
    /// A simple polygon, at least three vertices, in order.
    Polygon {
        vertices: Vec<(f64, f64)>,
    },
}

impl Shape {
    pub(crate) fn check(&self, what: &'static str, index: usize) -> Result<(), StatsError> {
        let bad = |reason: &str| {
            Err(StatsError::InvalidArgument(format!(
                "{what} {index}: {reason}"
            )))
        };
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        match self {
            Shape::Point { x, y } if !finite(&[*x, *y]) => bad("coordinates must be finite"),
            Shape::Circle { x, y, r } if !finite(&[*x, *y, *r]) || *r < 0.0 => {
                bad("a circle needs finite coordinates and a radius ≥ 0")
            }
            Shape::Box { x0, y0, x1, y1 }
                if !finite(&[*x0, *y0, *x1, *y1]) || x0 > x1 || y0 > y1 =>
            {
                bad("a box needs finite coordinates with x0 ≤ x1 and y0 ≤ y1")
            }
            Shape::Polygon { vertices }
                if vertices.len() < 3 || !vertices.iter().all(|(x, y)| finite(&[*x, *y])) =>
            {
                bad("a polygon needs at least 3 finite vertices")
            }
            _ => Ok(()),
        }
    }

    /// The centre: the point itself, the circle's or box's centre, the polygon's area
    /// centroid (its vertex mean when the area is 0).
    pub fn centre(&self) -> (f64, f64) {
        match self {
            Shape::Point { x, y } | Shape::Circle { x, y, .. } => (*x, *y),
            Shape::Box { x0, y0, x1, y1 } => (0.5 * (x0 + x1), 0.5 * (y0 + y1)),
            Shape::Polygon { vertices } => {
                let n = vertices.len();
                let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
                for i in 0..n {
                    let (x0, y0) = vertices[i];
                    let (x1, y1) = vertices[(i + 1) % n];
                    let cross = x0 * y1 - x1 * y0;
                    a += cross;
                    cx += (x0 + x1) * cross;
                    cy += (y0 + y1) * cross;
                }
                if a.abs() > 0.0 {
                    (cx / (3.0 * a), cy / (3.0 * a))
                } else {
                    let k = n as f64;
                    (
                        vertices.iter().map(|v| v.0).sum::<f64>() / k,
                        vertices.iter().map(|v| v.1).sum::<f64>() / k,
                    )
                }
            }
        }
    }

    /// Whether a point lies in the region (boundary included); `None` for a point shape,
    /// which has no region.
    pub(crate) fn contains(&self, (px, py): (f64, f64)) -> Option<bool> {
        match self {
            Shape::Point { .. } => None,
            Shape::Circle { x, y, r } => Some((px - x).hypot(py - y) <= *r),
            Shape::Box { x0, y0, x1, y1 } => Some(px >= *x0 && px <= *x1 && py >= *y0 && py <= *y1),
            Shape::Polygon { vertices } => {
                // Even-odd ray casting; a point on an edge counts as inside.
                let n = vertices.len();
                let mut inside = false;
                for i in 0..n {
                    let (xi, yi) = vertices[i];
                    let (xj, yj) = vertices[(i + n - 1) % n];
                    let cross = (xj - xi) * (py - yi) - (yj - yi) * (px - xi);
                    if cross == 0.0
                        && px >= xi.min(xj)
                        && px <= xi.max(xj)
                        && py >= yi.min(yj)
                        && py <= yi.max(yj)
                    {
                        return Some(true);
                    }
                    if (yi > py) != (yj > py) && px < (xj - xi) * (py - yi) / (yj - yi) + xi {
                        inside = !inside;
                    }
                }
                Some(inside)
            }
        }
    }

    pub(crate) fn as_box(&self) -> Option<[f64; 4]> {
        match self {
            Shape::Box { x0, y0, x1, y1 } => Some([*x0, *y0, *x1, *y1]),
            _ => None,
        }
    }
}

/// Intersection over union of two boxes (0 when both are empty).
pub fn iou(a: [f64; 4], b: [f64; 4]) -> f64 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// When a mark hits a lesion, as the protocol sets it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "criterion", rename_all = "snake_case")]
pub enum MatchCriterion {
    /// Centre distance at most `max` (mm or pixels, as the coordinates).
    CentreDistance { max: f64 },
    /// Intersection over union of the mark's and the lesion's boxes at least `min`.
    Iou { min: f64 },
    /// The mark's centre inside the lesion's region (circle, box or polygon).
    PointInRegion,
}

/// What happens to a mark on a lesion already credited to a higher-rated mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateMarks {
    /// Discarded, neither hit nor false positive (Chakraborty's convention).
    Discard,
    /// Counted as a false positive (NL).
    FalsePositive,
}

/// A lesion of the reference standard.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesion {
    pub image: usize,
    pub shape: Shape,
    /// Relative clinical importance (> 0); normalised to sum to 1 within each case for
    /// the weighted AFROC. Give 1.0 for equal weights.
    pub weight: f64,
}

/// A mark with its rating (higher = more confident).
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub image: usize,
    pub shape: Shape,
    pub rating: f64,
}

/// What a mark was scored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MarkOutcome {
    /// A lesion localisation (LL): credits `lesion`.
    Hit { lesion: usize },
    /// A non-lesion localisation (NL).
    FalsePositive,
    /// On `lesion`, already credited to a higher-rated mark; discarded.
    Duplicate { lesion: usize },
}

/// A credited lesion and how well the mark located it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hit {
    pub mark: usize,
    pub lesion: usize,
    /// Distance between the mark's and the lesion's centres.
    pub distance: f64,
    /// IoU when both are boxes.
    pub iou: Option<f64>,
}

/// The result of [`match_marks`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matching {
    /// One outcome per mark, in input order.
    pub outcomes: Vec<MarkOutcome>,
    /// Per lesion, the rating of the mark that credited it (`null`: unmarked).
    pub lesion_ratings: Vec<Option<f64>>,
    pub hits: Vec<Hit>,
}

/// Scores every mark against the lesions of its image under `criterion`, highest rating
/// first (see the module documentation for the rule).
pub fn match_marks(
    lesions: &[Lesion],
    marks: &[Mark],
    criterion: MatchCriterion,
    duplicates: DuplicateMarks,
) -> Result<Matching, StatsError> {
    match criterion {
        MatchCriterion::CentreDistance { max } if !(max >= 0.0 && max.is_finite()) => {
            return Err(StatsError::InvalidArgument(format!(
                "the centre-distance criterion needs a finite distance ≥ 0, got {max}"
            )));
        }
        MatchCriterion::Iou { min } if !(min > 0.0 && min <= 1.0) => {
            return Err(StatsError::InvalidArgument(format!(
                "the IoU criterion needs a threshold in (0, 1], got {min}"
            )));
        }
        _ => {}
    }
    for (i, l) in lesions.iter().enumerate() {
        l.shape.check("lesion", i)?;
        if !(l.weight > 0.0 && l.weight.is_finite()) {
            return Err(StatsError::InvalidArgument(format!(
                "lesion {i}: the weight must be finite and > 0, got {}",
                l.weight
            )));
        }
        match criterion {
            MatchCriterion::Iou { .. } if l.shape.as_box().is_none() => {
                return Err(StatsError::InvalidArgument(format!(
                    "lesion {i}: the IoU criterion needs lesions given as boxes"
                )));
            }
            MatchCriterion::PointInRegion if matches!(l.shape, Shape::Point { .. }) => {
                return Err(StatsError::InvalidArgument(format!(
                    "lesion {i}: the point-in-region criterion needs lesions given as regions (circle, box or polygon), not points"
                )));
            }
            _ => {}
        }
    }
    for (i, m) in marks.iter().enumerate() {
        m.shape.check("mark", i)?;
        if !m.rating.is_finite() {
            return Err(StatsError::NonFinite {
                what: "mark rating",
                index: i,
                value: m.rating,
            });
        }
        if matches!(criterion, MatchCriterion::Iou { .. }) && m.shape.as_box().is_none() {
            return Err(StatsError::InvalidArgument(format!(
                "mark {i}: the IoU criterion needs marks given as boxes"
            )));
        }
    }
    // Lesions and marks grouped by image.
    let mut lesion_order: Vec<usize> = (0..lesions.len()).collect();
    lesion_order.sort_by_key(|&i| (lesions[i].image, i));
    let mut mark_order: Vec<usize> = (0..marks.len()).collect();
    mark_order.sort_by(|&a, &b| {
        (marks[a].image.cmp(&marks[b].image))
            .then(marks[b].rating.total_cmp(&marks[a].rating))
            .then(a.cmp(&b))
    });
    let mut outcomes = vec![MarkOutcome::FalsePositive; marks.len()];
    let mut lesion_ratings = vec![None; lesions.len()];
    let mut hits = Vec::new();
    let mut credited = vec![false; lesions.len()];
    let mut li = 0;
    let mut mi = 0;
    while mi < mark_order.len() {
        let image = marks[mark_order[mi]].image;
        let m_end = mi
            + mark_order[mi..]
                .iter()
                .take_while(|&&m| marks[m].image == image)
                .count();
        while li < lesion_order.len() && lesions[lesion_order[li]].image < image {
            li += 1;
        }
        let l_end = li
            + lesion_order[li..]
                .iter()
                .take_while(|&&l| lesions[l].image == image)
                .count();
        let candidates = &lesion_order[li..l_end];
        for &m in &mark_order[mi..m_end] {
            let mark = &marks[m];
            let centre = mark.shape.centre();
            // The best eligible lesion, and the best one not yet credited.
            let mut best: Option<(f64, usize)> = None;
            let mut best_free: Option<(f64, usize)> = None;
            for &l in candidates {
                let lesion = &lesions[l];
                let (lx, ly) = lesion.shape.centre();
                let distance = (centre.0 - lx).hypot(centre.1 - ly);
                let score = match criterion {
                    MatchCriterion::CentreDistance { max } => (distance <= max).then_some(distance),
                    MatchCriterion::Iou { min } => {
                        let v = iou(
                            mark.shape.as_box().expect("checked"),
                            lesion.shape.as_box().expect("checked"),
                        );
                        (v >= min).then_some(-v)
                    }
                    MatchCriterion::PointInRegion => {
                        (lesion.shape.contains(centre) == Some(true)).then_some(distance)
                    }
                };
                let Some(score) = score else { continue };
                let better = |current: Option<(f64, usize)>| current.is_none_or(|(s, _)| score < s);
                if better(best) {
                    best = Some((score, l));
                }
                if !credited[l] && better(best_free) {
                    best_free = Some((score, l));
                }
            }
            outcomes[m] = match (best_free, best) {
                (Some((_, l)), _) => {
                    credited[l] = true;
                    lesion_ratings[l] = Some(mark.rating);
                    let (lx, ly) = lesions[l].shape.centre();
                    hits.push(Hit {
                        mark: m,
                        lesion: l,
                        distance: (centre.0 - lx).hypot(centre.1 - ly),
                        iou: mark
                            .shape
                            .as_box()
                            .zip(lesions[l].shape.as_box())
                            .map(|(a, b)| iou(a, b)),
                    });
                    MarkOutcome::Hit { lesion: l }
                }
                (None, Some((_, l))) if duplicates == DuplicateMarks::Discard => {
                    MarkOutcome::Duplicate { lesion: l }
                }
                _ => MarkOutcome::FalsePositive,
            };
        }
        mi = m_end;
    }
    hits.sort_by_key(|h| h.mark);
    Ok(Matching {
        outcomes,
        lesion_ratings,
        hits,
    })
}

/// One case (patient) as the figures of merit see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrocCase {
    /// Images of the case (for false positives per image); at least 1.
    pub images: u64,
    /// Ratings of its non-lesion localisations.
    pub nl: Vec<f64>,
    /// Per lesion, the rating of the mark that credited it (`None`: unmarked).
    pub lesions: Vec<Option<f64>>,
    /// Per lesion, its weight (> 0); normalised within the case.
    pub weights: Vec<f64>,
}

/// Gathers the matched marks into cases: `image_case[i]` is the case of image `i` (any
/// ids; cases are returned in ascending id order with their ids).
pub fn froc_cases(
    image_case: &[u64],
    lesions: &[Lesion],
    marks: &[Mark],
    matching: &Matching,
) -> Result<(Vec<u64>, Vec<FrocCase>), StatsError> {
    if matching.outcomes.len() != marks.len() || matching.lesion_ratings.len() != lesions.len() {
        return Err(StatsError::InvalidArgument(
            "the matching was made for other lesions or marks".into(),
        ));
    }
    let mut ids = image_case.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let case_of = |image: usize, what: &str, index: usize| {
        image_case
            .get(image)
            .map(|id| ids.binary_search(id).expect("collected"))
            .ok_or_else(|| {
                StatsError::InvalidArgument(format!(
                    "{what} {index} is on image {image}, but only {} images are given",
                    image_case.len()
                ))
            })
    };
    let mut cases: Vec<FrocCase> = ids
        .iter()
        .map(|_| FrocCase {
            images: 0,
            nl: Vec::new(),
            lesions: Vec::new(),
            weights: Vec::new(),
        })
        .collect();
    for id in image_case {
        cases[ids.binary_search(id).expect("collected")].images += 1;
    }
    for (i, l) in lesions.iter().enumerate() {
        let c = case_of(l.image, "lesion", i)?;
        cases[c].lesions.push(matching.lesion_ratings[i]);
        cases[c].weights.push(l.weight);
    }
    for (i, m) in marks.iter().enumerate() {
        let c = case_of(m.image, "mark", i)?;
        if matching.outcomes[i] == MarkOutcome::FalsePositive {
            cases[c].nl.push(m.rating);
        }
    }
    Ok((ids, cases))
}

/// Options of [`froc_analysis`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrocOptions {
    /// Marks rated at or above it count at the operating point; `None`: every mark.
    pub threshold: Option<f64>,
    pub level: f64,
    /// Bootstrap replicates of the figures of merit (0: no interval).
    pub replicates: usize,
    pub seed: u64,
}

/// A point of the FROC curve: marks rated at or above `threshold` (`+∞`, JSON `null`,
/// for the origin).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FrocPoint {
    pub threshold: f64,
    /// NLs per case.
    pub nlf: f64,
    /// NLs per image.
    pub fp_per_image: f64,
    /// Lesion localisation fraction.
    pub llf: f64,
}

/// A point of the AFROC and wAFROC curves (`threshold` ±∞, JSON `null`, at the ends).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AfrocPoint {
    pub threshold: f64,
    /// Fraction of normal cases with an NL at or above the threshold.
    pub fpf: f64,
    pub llf: f64,
    /// Weighted LLF: each abnormal case counts once.
    pub wllf: f64,
}

/// A figure of merit with its bootstrap percentile interval (`null` bounds without a
/// bootstrap).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fom {
    pub estimate: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// The result of [`froc_analysis`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Froc {
    pub normal_cases: u64,
    pub abnormal_cases: u64,
    pub images: u64,
    pub lesions: u64,
    /// NL marks in all (at any rating).
    pub nl_marks: u64,
    /// The JAFROC (AFROC) figure of merit.
    pub afroc: Fom,
    /// The weighted AFROC figure of merit.
    pub wafroc: Fom,
    pub threshold: Option<f64>,
    /// Lesions hit at the threshold / lesions, clustered by case.
    pub lesion_sensitivity: Option<Estimate>,
    pub fp_per_image: Option<Estimate>,
    pub fp_per_case: Option<Estimate>,
    /// Abnormal cases with a mark at the threshold (Wilson).
    pub case_sensitivity: Option<Estimate>,
    /// Normal cases without a mark at the threshold (Wilson).
    pub case_specificity: Option<Estimate>,
    pub froc_curve: Vec<FrocPoint>,
    pub afroc_curve: Vec<AfrocPoint>,
    pub replicates: usize,
    pub seed: u64,
}

/// The two AFROC figures of merit and what the bootstrap needs to recompute them.
struct FomLayout {
    /// Normal cases' highest NL ratings, sorted ascending (−∞ when none).
    fp: Vec<f64>,
    /// Normal case of each sorted FP.
    fp_case: Vec<usize>,
    /// Per lesion: abnormal case, weight, and #FP below / at most its rating.
    lesions: Vec<(usize, f64, usize, usize)>,
    /// Lesions per abnormal case.
    per_case: Vec<f64>,
}

impl FomLayout {
    fn new(normal: &[&FrocCase], abnormal: &[&FrocCase]) -> Self {
        let mut fp: Vec<(f64, usize)> = normal
            .iter()
            .enumerate()
            .map(|(k, c)| (c.nl.iter().copied().fold(f64::NEG_INFINITY, f64::max), k))
            .collect();
        fp.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let fp_case = fp.iter().map(|x| x.1).collect();
        let fp: Vec<f64> = fp.into_iter().map(|x| x.0).collect();
        let mut lesions = Vec::new();
        let mut per_case = Vec::with_capacity(abnormal.len());
        for (k, c) in abnormal.iter().enumerate() {
            let total: f64 = c.weights.iter().sum();
            for (rating, w) in c.lesions.iter().zip(&c.weights) {
                let y = rating.unwrap_or(f64::NEG_INFINITY);
                let below = fp.partition_point(|&x| x < y);
                let at_most = fp.partition_point(|&x| x <= y);
                lesions.push((k, w / total, below, at_most));
            }
            per_case.push(c.lesions.len() as f64);
        }
        FomLayout {
            fp,
            fp_case,
            lesions,
            per_case,
        }
    }

    /// `(AFROC, wAFROC)` with case multiplicities (all 1 for the data themselves).
    fn foms(
        &self,
        normal_weight: &[f64],
        abnormal_weight: &[f64],
        scratch: &mut Vec<f64>,
    ) -> (f64, f64) {
        // Cumulative multiplicity of the sorted FPs.
        scratch.clear();
        scratch.push(0.0);
        let mut acc = 0.0;
        for &k in &self.fp_case {
            acc += normal_weight[k];
            scratch.push(acc);
        }
        let k1 = acc;
        let (mut afroc, mut wafroc) = (0.0, 0.0);
        for &(k, w, below, at_most) in &self.lesions {
            let wins = scratch[below] + 0.5 * (scratch[at_most] - scratch[below]);
            afroc += abnormal_weight[k] * wins;
            wafroc += abnormal_weight[k] * w * wins;
        }
        let lesions: f64 = self
            .per_case
            .iter()
            .zip(abnormal_weight)
            .map(|(l, m)| l * m)
            .sum();
        let k2: f64 = abnormal_weight.iter().sum();
        (afroc / (k1 * lesions), wafroc / (k1 * k2))
    }
}

/// The AFROC and weighted AFROC figures of merit of `cases` (Chakraborty & Berbaum 2004).
/// Needs at least one normal and one abnormal case.
pub fn afroc_foms(cases: &[FrocCase]) -> Result<(f64, f64), StatsError> {
    let (normal, abnormal) = split_cases(cases)?;
    let layout = FomLayout::new(&normal, &abnormal);
    Ok(layout.foms(
        &vec![1.0; normal.len()],
        &vec![1.0; abnormal.len()],
        &mut Vec::new(),
    ))
}

fn split_cases(cases: &[FrocCase]) -> Result<(Vec<&FrocCase>, Vec<&FrocCase>), StatsError> {
    for (i, c) in cases.iter().enumerate() {
        if c.lesions.len() != c.weights.len() {
            return Err(StatsError::LengthMismatch {
                what: "lesion ratings and weights of a case",
                left: c.lesions.len(),
                right: c.weights.len(),
            });
        }
        if c.images == 0 {
            return Err(StatsError::InvalidArgument(format!(
                "case {i} has no image"
            )));
        }
        let ratings = c.nl.iter().chain(c.lesions.iter().flatten());
        if let Some(&value) = ratings.clone().find(|r| !r.is_finite()) {
            return Err(StatsError::NonFinite {
                what: "rating",
                index: i,
                value,
            });
        }
        if let Some(&w) = c.weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
            return Err(StatsError::InvalidArgument(format!(
                "case {i}: lesion weights must be finite and > 0, got {w}"
            )));
        }
    }
    let (abnormal, normal): (Vec<&FrocCase>, Vec<&FrocCase>) =
        cases.iter().partition(|c| !c.lesions.is_empty());
    if normal.is_empty() {
        return Err(StatsError::MissingClass("normal"));
    }
    if abnormal.is_empty() {
        return Err(StatsError::MissingClass("abnormal"));
    }
    Ok((normal, abnormal))
}

/// FROC analysis of matched cases: figures of merit with bootstrap intervals, curves and
/// the operating point at `options.threshold`.
pub fn froc_analysis(cases: &[FrocCase], options: &FrocOptions) -> Result<Froc, StatsError> {
    check_level(options.level)?;
    let z = z_for_level(options.level)?;
    if options.threshold.is_some_and(|t| t.is_nan()) {
        return Err(StatsError::InvalidArgument("the threshold is NaN".into()));
    }
    if options.replicates == 1 {
        return Err(StatsError::InvalidArgument(
            "the bootstrap needs at least 2 replicates (or 0 for none)".into(),
        ));
    }
    let (normal, abnormal) = split_cases(cases)?;
    let layout = FomLayout::new(&normal, &abnormal);
    let (k1, k2) = (normal.len(), abnormal.len());
    let mut scratch = Vec::new();
    let (afroc, wafroc) = layout.foms(&vec![1.0; k1], &vec![1.0; k2], &mut scratch);
    // Stratified case bootstrap.
    let (mut a_reps, mut w_reps) = (Vec::new(), Vec::new());
    if options.replicates >= 2 {
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        let (mut nw, mut aw) = (vec![0.0; k1], vec![0.0; k2]);
        for _ in 0..options.replicates {
            nw.fill(0.0);
            aw.fill(0.0);
            for _ in 0..k1 {
                nw[uniform(&mut rng, k1 as u64) as usize] += 1.0;
            }
            for _ in 0..k2 {
                aw[uniform(&mut rng, k2 as u64) as usize] += 1.0;
            }
            let (a, w) = layout.foms(&nw, &aw, &mut scratch);
            a_reps.push(a);
            w_reps.push(w);
        }
    }
    let fom = |estimate: f64, reps: &[f64]| -> Result<Fom, StatsError> {
        if reps.is_empty() {
            return Ok(Fom {
                estimate,
                lower: None,
                upper: None,
            });
        }
        let e = percentile_interval(reps, estimate, options.level)?;
        Ok(Fom {
            estimate,
            lower: Some(e.lower),
            upper: Some(e.upper),
        })
    };
    let at = |r: f64| options.threshold.is_none_or(|t| r >= t);
    // Operating point.
    let lesion_clusters: Vec<(u64, u64)> = abnormal
        .iter()
        .map(|c| {
            (
                c.lesions.iter().flatten().filter(|&&r| at(r)).count() as u64,
                c.lesions.len() as u64,
            )
        })
        .collect();
    let nl_at: Vec<f64> = cases
        .iter()
        .map(|c| c.nl.iter().filter(|&&r| at(r)).count() as f64)
        .collect();
    let fp_per_image = ratio_interval(
        &nl_at
            .iter()
            .zip(cases)
            .map(|(&x, c)| (x, c.images as f64))
            .collect::<Vec<_>>(),
        z,
        0.0,
        f64::INFINITY,
    );
    let fp_per_case = ratio_interval(
        &nl_at.iter().map(|&x| (x, 1.0)).collect::<Vec<_>>(),
        z,
        0.0,
        f64::INFINITY,
    );
    let marked = |c: &FrocCase| {
        c.nl.iter()
            .chain(c.lesions.iter().flatten())
            .any(|&r| at(r))
    };
    let positive_abnormal = abnormal.iter().filter(|c| marked(c)).count() as u64;
    let negative_normal = normal.iter().filter(|c| !marked(c)).count() as u64;
    Ok(Froc {
        normal_cases: k1 as u64,
        abnormal_cases: k2 as u64,
        images: cases.iter().map(|c| c.images).sum(),
        lesions: layout.lesions.len() as u64,
        nl_marks: cases.iter().map(|c| c.nl.len() as u64).sum(),
        afroc: fom(afroc, &a_reps)?,
        wafroc: fom(wafroc, &w_reps)?,
        threshold: options.threshold,
        lesion_sensitivity: crate::clustered_proportion(&lesion_clusters, options.level)?,
        fp_per_image,
        fp_per_case,
        case_sensitivity: proportion_ci(
            positive_abnormal,
            k2 as u64,
            ProportionCi::Wilson,
            options.level,
        )?,
        case_specificity: proportion_ci(
            negative_normal,
            k1 as u64,
            ProportionCi::Wilson,
            options.level,
        )?,
        froc_curve: froc_curve(cases, &abnormal),
        afroc_curve: afroc_curve(&layout, &abnormal),
        replicates: options.replicates,
        seed: options.seed,
    })
}

fn descending(a: &f64, b: &f64) -> Ordering {
    b.total_cmp(a)
}

/// FROC points at every distinct rating, highest first, from the origin.
fn froc_curve(cases: &[FrocCase], abnormal: &[&FrocCase]) -> Vec<FrocPoint> {
    let k = cases.len() as f64;
    let images: f64 = cases.iter().map(|c| c.images as f64).sum();
    let lesions: f64 = abnormal.iter().map(|c| c.lesions.len() as f64).sum();
    // (rating, is_lesion)
    let mut events: Vec<(f64, bool)> = cases
        .iter()
        .flat_map(|c| {
            c.nl.iter()
                .map(|&r| (r, false))
                .chain(c.lesions.iter().flatten().map(|&r| (r, true)))
        })
        .collect();
    events.sort_by(|a, b| descending(&a.0, &b.0));
    let mut points = vec![FrocPoint {
        threshold: f64::INFINITY,
        nlf: 0.0,
        fp_per_image: 0.0,
        llf: 0.0,
    }];
    let (mut nl, mut ll) = (0.0, 0.0);
    let mut i = 0;
    while i < events.len() {
        let threshold = events[i].0;
        while i < events.len() && events[i].0 == threshold {
            if events[i].1 {
                ll += 1.0;
            } else {
                nl += 1.0;
            }
            i += 1;
        }
        points.push(FrocPoint {
            threshold,
            nlf: nl / k,
            fp_per_image: nl / images,
            llf: ll / lesions,
        });
    }
    points
}

/// AFROC and wAFROC points at every distinct rating, from (0, 0) to (1, 1).
fn afroc_curve(layout: &FomLayout, abnormal: &[&FrocCase]) -> Vec<AfrocPoint> {
    let k1 = layout.fp.len() as f64;
    let k2 = abnormal.len() as f64;
    let total = layout.lesions.len() as f64;
    // (rating, fp count, lesion count, lesion weight); unmarked lesions and FPs of normal
    // cases without marks stay at −∞, reached only by the last point.
    let mut events: Vec<(f64, f64, f64, f64)> = layout
        .fp
        .iter()
        .filter(|x| x.is_finite())
        .map(|&x| (x, 1.0, 0.0, 0.0))
        .collect();
    for case in abnormal {
        let sum: f64 = case.weights.iter().sum();
        for (r, w) in case.lesions.iter().zip(&case.weights) {
            if let Some(r) = r {
                events.push((*r, 0.0, 1.0, w / sum));
            }
        }
    }
    events.sort_by(|a, b| descending(&a.0, &b.0));
    let mut points = vec![AfrocPoint {
        threshold: f64::INFINITY,
        fpf: 0.0,
        llf: 0.0,
        wllf: 0.0,
    }];
    let (mut fp, mut ll, mut wll) = (0.0, 0.0, 0.0);
    let mut i = 0;
    while i < events.len() {
        let threshold = events[i].0;
        while i < events.len() && events[i].0 == threshold {
            fp += events[i].1;
            ll += events[i].2;
            wll += events[i].3;
            i += 1;
        }
        points.push(AfrocPoint {
            threshold,
            fpf: fp / k1,
            llf: ll / total,
            wllf: wll / k2,
        });
    }
    points.push(AfrocPoint {
        threshold: f64::NEG_INFINITY,
        fpf: 1.0,
        llf: 1.0,
        wllf: 1.0,
    });
    points
}

/// How precisely the hits located their lesions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Localisation {
    pub hits: u64,
    pub mean_distance: f64,
    pub median_distance: f64,
    pub max_distance: f64,
    /// Over the hits where both mark and lesion are boxes; `null` if none.
    pub mean_iou: Option<f64>,
    pub median_iou: Option<f64>,
}

/// Distance (and IoU) summary of the hits; `None` without hits.
pub fn localisation(matching: &Matching) -> Option<Localisation> {
    if matching.hits.is_empty() {
        return None;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        }
    };
    let d: Vec<f64> = matching.hits.iter().map(|h| h.distance).collect();
    let ious: Vec<f64> = matching.hits.iter().filter_map(|h| h.iou).collect();
    Some(Localisation {
        hits: d.len() as u64,
        mean_distance: d.iter().sum::<f64>() / d.len() as f64,
        max_distance: d.iter().copied().fold(0.0, f64::max),
        median_distance: median(d),
        mean_iou: (!ious.is_empty()).then(|| ious.iter().sum::<f64>() / ious.len() as f64),
        median_iou: (!ious.is_empty()).then(|| median(ious)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bootstrap replicate from case multiplicities equals the figures of merit of the
    /// resampled cases written out one by one.
    #[test]
    fn replicate_from_multiplicities_equals_the_resampled_cases() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let rating = |rng: &mut ChaCha8Rng| (1 + uniform(rng, 5)) as f64;
        let cases: Vec<FrocCase> = (0..30)
            .map(|k| {
                let lesions = if k % 2 == 0 {
                    0
                } else {
                    1 + uniform(&mut rng, 3) as usize
                };
                FrocCase {
                    images: 1,
                    nl: (0..uniform(&mut rng, 3))
                        .map(|_| rating(&mut rng))
                        .collect(),
                    lesions: (0..lesions)
                        .map(|_| (uniform(&mut rng, 3) > 0).then(|| rating(&mut rng)))
                        .collect(),
                    weights: (0..lesions).map(|l| 1.0 + l as f64).collect(),
                }
            })
            .collect();
        let (normal, abnormal) = split_cases(&cases).unwrap();
        let layout = FomLayout::new(&normal, &abnormal);
        for _ in 0..20 {
            let mut nw = vec![0.0; normal.len()];
            let mut aw = vec![0.0; abnormal.len()];
            let mut resampled = Vec::new();
            for _ in 0..normal.len() {
                let k = uniform(&mut rng, normal.len() as u64) as usize;
                nw[k] += 1.0;
                resampled.push(normal[k].clone());
            }
            for _ in 0..abnormal.len() {
                let k = uniform(&mut rng, abnormal.len() as u64) as usize;
                aw[k] += 1.0;
                resampled.push(abnormal[k].clone());
            }
            let (a, w) = layout.foms(&nw, &aw, &mut Vec::new());
            let (ra, rw) = afroc_foms(&resampled).unwrap();
            assert!((a - ra).abs() < 1e-12 && (w - rw).abs() < 1e-12);
        }
    }
}
