//! FROC: the JAFROC figures of merit against the values printed for RJafroc's dataset04
//! in Chakraborty's FROC book, the fast figures of merit and curves against a direct
//! implementation, and the matching rule on hand-made images.
mod common;

use std::collections::BTreeMap;

use common::{SplitMix, csv_rows};
use kizon_stats::{
    DuplicateMarks, FrocCase, FrocOptions, Lesion, Mark, MarkOutcome, MatchCriterion, Shape,
    StatsError, afroc_foms, froc_analysis, froc_cases, localisation, match_marks,
};

/// dataset04 as `FrocCase`s for each (modality, reader), cases 1–100 normal.
fn dataset04() -> BTreeMap<(u32, u32), Vec<FrocCase>> {
    let mut lesions: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for r in csv_rows("froc_dataset04_lesions.csv") {
        lesions
            .entry(r["case"].parse().unwrap())
            .or_default()
            .push(r["weight"].parse().unwrap());
    }
    let empty = || -> Vec<FrocCase> {
        (1..=200)
            .map(|k| {
                let w = lesions.get(&k).cloned().unwrap_or_default();
                FrocCase {
                    images: 1,
                    nl: Vec::new(),
                    lesions: vec![None; w.len()],
                    weights: w,
                }
            })
            .collect()
    };
    let mut out: BTreeMap<(u32, u32), Vec<FrocCase>> = BTreeMap::new();
    for r in csv_rows("froc_dataset04_ratings.csv") {
        let key = (r["modality"].parse().unwrap(), r["reader"].parse().unwrap());
        let cases = out.entry(key).or_insert_with(empty);
        let case: usize = r["case"].parse().unwrap();
        let lesion: usize = r["lesion"].parse().unwrap();
        let rating: f64 = r["rating"].parse().unwrap();
        if lesion == 0 {
            cases[case - 1].nl.push(rating);
        } else {
            cases[case - 1].lesions[lesion - 1] = Some(rating);
        }
    }
    out
}

/// Chakraborty, *The FROC paradigm* (RJafroc FROC book, github.com/dpc10ster/
/// RJafrocFrocBook), chapter "Empirical operating characteristics", output of
/// `UtilFigureOfMerit(dataset04, FOM = "AFROC")` and `FOM = "wAFROC"` (RJafroc), rows
/// trt1–trt5, columns rdr1, rdr3, rdr4, rdr5, printed to 7 decimals.
#[test]
fn dataset04_foms_match_the_rjafroc_froc_book_to_the_printed_digits() {
    let afroc = [
        [0.7427113, 0.7104930, 0.7003169, 0.7909859],
        [0.7586972, 0.7161620, 0.7225352, 0.7927465],
        [0.6983451, 0.6955282, 0.6777817, 0.7547535],
        [0.7817606, 0.7234507, 0.7132746, 0.8136268],
        [0.7169718, 0.6690845, 0.6587324, 0.7682042],
    ];
    let wafroc = [
        [0.7792667, 0.7248917, 0.7036250, 0.8050917],
        [0.7870000, 0.7269000, 0.7226167, 0.8037833],
        [0.7296917, 0.7157583, 0.6723083, 0.7726583],
        [0.8101333, 0.7431167, 0.6943583, 0.8294083],
        [0.7488000, 0.6822750, 0.6551750, 0.7712500],
    ];
    let data = dataset04();
    assert_eq!(data.len(), 20);
    let readers = [1, 3, 4, 5];
    for (i, row) in afroc.iter().enumerate() {
        for (j, &expected) in row.iter().enumerate() {
            let cases = &data[&(i as u32 + 1, readers[j])];
            let (a, w) = afroc_foms(cases).unwrap();
            let what = format!("trt{} rdr{}", i + 1, readers[j]);
            assert!(
                (a - expected).abs() < 5e-8,
                "AFROC {what}: {a} vs {expected}"
            );
            assert!(
                (w - wafroc[i][j]).abs() < 5e-8,
                "wAFROC {what}: {w} vs {}",
                wafroc[i][j]
            );
        }
    }
}

/// ψ(x, y) of Chakraborty & Berbaum (2004), −∞ for unmarked.
fn psi(fp: f64, ll: f64) -> f64 {
    if ll > fp {
        1.0
    } else if ll == fp {
        0.5
    } else {
        0.0
    }
}

/// The figures of merit by their definition: every (normal case, lesion) pair.
fn direct_foms(cases: &[FrocCase]) -> (f64, f64) {
    let normal: Vec<f64> = cases
        .iter()
        .filter(|c| c.lesions.is_empty())
        .map(|c| c.nl.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        .collect();
    let abnormal: Vec<&FrocCase> = cases.iter().filter(|c| !c.lesions.is_empty()).collect();
    let lesions: usize = abnormal.iter().map(|c| c.lesions.len()).sum();
    let (mut a, mut w) = (0.0, 0.0);
    for &fp in &normal {
        for c in &abnormal {
            let total: f64 = c.weights.iter().sum();
            for (r, wt) in c.lesions.iter().zip(&c.weights) {
                let p = psi(fp, r.unwrap_or(f64::NEG_INFINITY));
                a += p;
                w += wt / total * p;
            }
        }
    }
    let k1 = normal.len() as f64;
    (a / (k1 * lesions as f64), w / (k1 * abnormal.len() as f64))
}

/// Trapezoidal area under (x, y) points in order.
fn area(points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .map(|p| (p[1].0 - p[0].0) * 0.5 * (p[0].1 + p[1].1))
        .sum()
}

fn random_cases(rng: &mut SplitMix, n: usize, levels: u64) -> Vec<FrocCase> {
    (0..n)
        .map(|_| {
            let lesions = if rng.below(2) == 0 {
                0
            } else {
                1 + rng.below(3) as usize
            };
            let rating = |rng: &mut SplitMix| (1 + rng.below(levels)) as f64;
            FrocCase {
                images: 1 + rng.below(3),
                nl: (0..rng.below(4)).map(|_| rating(rng)).collect(),
                lesions: (0..lesions)
                    .map(|_| (rng.below(3) > 0).then(|| rating(rng)))
                    .collect(),
                weights: (0..lesions).map(|_| 0.5 + rng.uniform()).collect(),
            }
        })
        .collect()
}

#[test]
fn foms_and_curves_agree_with_a_direct_implementation() {
    let mut rng = SplitMix(7);
    for round in 0..200 {
        let levels = if round % 2 == 0 { 5 } else { 1000 };
        let mut cases = random_cases(&mut rng, 2 + round % 40, levels);
        cases[0].lesions.clear();
        cases[0].weights.clear();
        cases[1].lesions = vec![Some(2.0)];
        cases[1].weights = vec![1.0];
        let (a, w) = afroc_foms(&cases).unwrap();
        let (da, dw) = direct_foms(&cases);
        assert!(
            (a - da).abs() < 1e-12 && (w - dw).abs() < 1e-12,
            "round {round}"
        );
        let options = FrocOptions {
            threshold: None,
            level: 0.95,
            replicates: 0,
            seed: 1,
        };
        let r = froc_analysis(&cases, &options).unwrap();
        // The FOMs are the areas under their empirical curves, end segment included.
        let afroc: Vec<(f64, f64)> = r.afroc_curve.iter().map(|p| (p.fpf, p.llf)).collect();
        let wafroc: Vec<(f64, f64)> = r.afroc_curve.iter().map(|p| (p.fpf, p.wllf)).collect();
        assert!((area(&afroc) - a).abs() < 1e-12, "round {round}");
        assert!((area(&wafroc) - w).abs() < 1e-12, "round {round}");
        // Every curve point against a direct count at its threshold.
        let k = cases.len() as f64;
        let images: f64 = cases.iter().map(|c| c.images as f64).sum();
        let lesions: f64 = cases.iter().map(|c| c.lesions.len() as f64).sum();
        for p in &r.froc_curve {
            let nl = cases
                .iter()
                .flat_map(|c| &c.nl)
                .filter(|&&x| x >= p.threshold)
                .count() as f64;
            let ll = cases
                .iter()
                .flat_map(|c| c.lesions.iter().flatten())
                .filter(|&&x| x >= p.threshold)
                .count() as f64;
            assert_eq!(
                (p.nlf, p.fp_per_image, p.llf),
                (nl / k, nl / images, ll / lesions)
            );
        }
        let normal: Vec<&FrocCase> = cases.iter().filter(|c| c.lesions.is_empty()).collect();
        for p in &r.afroc_curve[..r.afroc_curve.len() - 1] {
            let fpf = normal
                .iter()
                .filter(|c| c.nl.iter().any(|&x| x >= p.threshold))
                .count() as f64
                / normal.len() as f64;
            assert_eq!(p.fpf, fpf);
        }
    }
}

#[test]
fn operating_point_counts_and_bootstrap() {
    let data = dataset04();
    let cases = &data[&(1, 1)];
    let options = FrocOptions {
        threshold: Some(3.0),
        level: 0.95,
        replicates: 500,
        seed: 42,
    };
    let r = froc_analysis(cases, &options).unwrap();
    assert_eq!(
        (r.normal_cases, r.abnormal_cases, r.lesions),
        (100, 100, 142)
    );
    // By hand from the fixture: lesions rated ≥ 3, NLs rated ≥ 3.
    let hits = cases
        .iter()
        .flat_map(|c| c.lesions.iter().flatten())
        .filter(|&&x| x >= 3.0)
        .count() as f64;
    let nls = cases
        .iter()
        .flat_map(|c| &c.nl)
        .filter(|&&x| x >= 3.0)
        .count() as f64;
    let s = r.lesion_sensitivity.unwrap();
    assert!((s.estimate - hits / 142.0).abs() < 1e-15);
    assert!(s.lower < s.estimate && s.estimate < s.upper);
    assert!((r.fp_per_image.unwrap().estimate - nls / 200.0).abs() < 1e-15);
    assert!((r.fp_per_case.unwrap().estimate - nls / 200.0).abs() < 1e-15);
    let a = r.afroc;
    assert!(a.lower.unwrap() < a.estimate && a.estimate < a.upper.unwrap());
    assert!((a.estimate - 0.7427113).abs() < 5e-8);
    // The same seed gives the same interval; another seed a different one.
    assert_eq!(froc_analysis(cases, &options).unwrap().wafroc, r.wafroc);
    let other = froc_analysis(
        cases,
        &FrocOptions {
            seed: 43,
            ..options
        },
    )
    .unwrap();
    assert_ne!(other.wafroc, r.wafroc);
    // Case-level: an abnormal case is called positive with any mark ≥ 3.
    let positive = cases[100..]
        .iter()
        .filter(|c| {
            c.nl.iter()
                .chain(c.lesions.iter().flatten())
                .any(|&x| x >= 3.0)
        })
        .count() as f64;
    assert!((r.case_sensitivity.unwrap().estimate - positive / 100.0).abs() < 1e-15);
}

fn point(image: usize, x: f64, y: f64, rating: f64) -> Mark {
    Mark {
        image,
        shape: Shape::Point { x, y },
        rating,
    }
}

fn lesion(image: usize, shape: Shape) -> Lesion {
    Lesion {
        image,
        shape,
        weight: 1.0,
    }
}

#[test]
fn matching_credits_each_lesion_once_highest_rating_first() {
    let lesions = vec![
        lesion(
            0,
            Shape::Circle {
                x: 10.0,
                y: 10.0,
                r: 3.0,
            },
        ),
        lesion(
            0,
            Shape::Circle {
                x: 16.0,
                y: 10.0,
                r: 3.0,
            },
        ),
        lesion(
            1,
            Shape::Box {
                x0: 0.0,
                y0: 0.0,
                x1: 4.0,
                y1: 4.0,
            },
        ),
    ];
    let marks = vec![
        point(0, 12.0, 10.0, 2.0), // 2 from lesion 0, 4 from lesion 1: lesion 0 is taken
        point(0, 11.0, 10.0, 5.0), // highest rating: takes the nearest, lesion 0
        point(0, 10.5, 10.0, 1.0), // only lesion 0 is within 5: a duplicate
        point(0, 40.0, 40.0, 4.0), // near nothing: false positive
        point(1, 2.0, 2.0, 3.0),   // inside the box, 0 from its centre
        point(2, 2.0, 2.0, 3.0),   // an image without lesions
    ];
    let m = match_marks(
        &lesions,
        &marks,
        MatchCriterion::CentreDistance { max: 5.0 },
        DuplicateMarks::Discard,
    )
    .unwrap();
    assert_eq!(
        m.outcomes,
        [
            MarkOutcome::Hit { lesion: 1 },
            MarkOutcome::Hit { lesion: 0 },
            MarkOutcome::Duplicate { lesion: 0 },
            MarkOutcome::FalsePositive,
            MarkOutcome::Hit { lesion: 2 },
            MarkOutcome::FalsePositive,
        ]
    );
    assert_eq!(m.lesion_ratings, [Some(5.0), Some(2.0), Some(3.0)]);
    let loc = localisation(&m).unwrap();
    assert_eq!(loc.hits, 3);
    assert!((loc.mean_distance - 5.0 / 3.0).abs() < 1e-15 && loc.max_distance == 4.0);
    // Counted as false positives instead when the protocol says so.
    let m2 = match_marks(
        &lesions,
        &marks,
        MatchCriterion::CentreDistance { max: 5.0 },
        DuplicateMarks::FalsePositive,
    )
    .unwrap();
    assert_eq!(m2.outcomes[2], MarkOutcome::FalsePositive);
    // Point in region: (12, 10) lies only in the circle of lesion 0 (radius 3), which
    // the rating-5 mark took; the box lesion contains (2, 2).
    let m3 = match_marks(
        &lesions,
        &marks,
        MatchCriterion::PointInRegion,
        DuplicateMarks::Discard,
    )
    .unwrap();
    assert_eq!(
        m3.outcomes[..5],
        [
            MarkOutcome::Duplicate { lesion: 0 },
            MarkOutcome::Hit { lesion: 0 },
            MarkOutcome::Duplicate { lesion: 0 },
            MarkOutcome::FalsePositive,
            MarkOutcome::Hit { lesion: 2 },
        ]
    );
    assert_eq!(m3.lesion_ratings, [Some(5.0), None, Some(3.0)]);
    // Cases: images 0 and 1 belong to patient 7, image 2 to patient 9.
    let (ids, cases) = froc_cases(&[7, 7, 9], &lesions, &marks, &m).unwrap();
    assert_eq!(ids, [7, 9]);
    assert_eq!(cases[0].images, 2);
    assert_eq!(cases[0].nl, [4.0]);
    assert_eq!(cases[0].lesions, [Some(5.0), Some(2.0), Some(3.0)]);
    assert_eq!(
        (cases[1].nl.as_slice(), cases[1].lesions.len()),
        (&[3.0][..], 0)
    );
}

#[test]
fn iou_matching_and_polygons() {
    let boxed = |image, x0, y0, x1, y1, rating| Mark {
        image,
        shape: Shape::Box { x0, y0, x1, y1 },
        rating,
    };
    let lesions = vec![lesion(
        0,
        Shape::Box {
            x0: 0.0,
            y0: 0.0,
            x1: 10.0,
            y1: 10.0,
        },
    )];
    let marks = vec![
        boxed(0, 0.0, 0.0, 10.0, 5.0, 1.0),  // IoU 0.5
        boxed(0, 5.0, 0.0, 15.0, 10.0, 2.0), // IoU 1/3
    ];
    let m = match_marks(
        &lesions,
        &marks,
        MatchCriterion::Iou { min: 0.5 },
        DuplicateMarks::Discard,
    )
    .unwrap();
    assert_eq!(
        m.outcomes,
        [MarkOutcome::Hit { lesion: 0 }, MarkOutcome::FalsePositive]
    );
    assert_eq!(m.hits[0].iou, Some(0.5));
    let m = match_marks(
        &lesions,
        &marks,
        MatchCriterion::Iou { min: 0.3 },
        DuplicateMarks::Discard,
    )
    .unwrap();
    assert_eq!(
        m.outcomes,
        [
            MarkOutcome::Duplicate { lesion: 0 },
            MarkOutcome::Hit { lesion: 0 }
        ]
    );
    // An L-shaped polygon: (7, 7) is in its bounding box but not in the polygon.
    let l = vec![lesion(
        0,
        Shape::Polygon {
            vertices: vec![
                (0.0, 0.0),
                (10.0, 0.0),
                (10.0, 5.0),
                (5.0, 5.0),
                (5.0, 10.0),
                (0.0, 10.0),
            ],
        },
    )];
    let marks = vec![
        point(0, 7.0, 7.0, 2.0),
        point(0, 2.0, 8.0, 1.0),
        point(0, 10.0, 2.0, 0.5),
    ];
    let m = match_marks(
        &l,
        &marks,
        MatchCriterion::PointInRegion,
        DuplicateMarks::FalsePositive,
    )
    .unwrap();
    assert_eq!(
        m.outcomes,
        [
            MarkOutcome::FalsePositive,
            MarkOutcome::Hit { lesion: 0 },
            MarkOutcome::FalsePositive
        ]
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let l = vec![lesion(0, Shape::Point { x: 0.0, y: 0.0 })];
    let marks = vec![point(0, 0.0, 0.0, 1.0)];
    let run = |c| match_marks(&l, &marks, c, DuplicateMarks::Discard);
    assert!(run(MatchCriterion::PointInRegion).is_err());
    assert!(run(MatchCriterion::Iou { min: 0.5 }).is_err());
    assert!(run(MatchCriterion::CentreDistance { max: f64::NAN }).is_err());
    assert!(matches!(
        match_marks(
            &l,
            &[point(0, 0.0, 0.0, f64::NAN)],
            MatchCriterion::CentreDistance { max: 1.0 },
            DuplicateMarks::Discard
        ),
        Err(StatsError::NonFinite { .. })
    ));
    let bad_box = vec![lesion(
        0,
        Shape::Box {
            x0: 2.0,
            y0: 0.0,
            x1: 1.0,
            y1: 1.0,
        },
    )];
    assert!(
        match_marks(
            &bad_box,
            &marks,
            MatchCriterion::PointInRegion,
            DuplicateMarks::Discard
        )
        .is_err()
    );
    let m = run(MatchCriterion::CentreDistance { max: 1.0 }).unwrap();
    assert!(froc_cases(&[], &l, &marks, &m).is_err());
    // No normal case: the AFROC is not defined.
    let only_abnormal = vec![FrocCase {
        images: 1,
        nl: vec![],
        lesions: vec![Some(1.0)],
        weights: vec![1.0],
    }];
    assert_eq!(
        afroc_foms(&only_abnormal),
        Err(StatsError::MissingClass("normal"))
    );
}
