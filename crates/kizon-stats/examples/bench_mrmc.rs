//! Benchmark driver for bench/mrmc/run.sh: seeded synthetic studies, one JSON line per
//! task with the seconds spent in kizon-stats (data generation excluded).
//!
//! - `mrmc`: 10 readers × 2 modalities × 10,000 cases (30% positive), continuous scores
//!   and 1–5 ratings, Obuchowski–Rockette with DeLong and with jackknife covariances.
//! - `froc`: 100,000 images (50,000 patients of 2 images, 40% of patients with 1–3
//!   lesions) and 300,000 marks; matching by centre distance, then the FROC analysis
//!   with a 2,000-replicate case bootstrap of the figures of merit.
//!
//! Usage: bench_mrmc mrmc | bench_mrmc froc

use std::time::Instant;

use kizon_stats::{
    CovarianceMethod, DuplicateMarks, FrocOptions, Lesion, Mark, MatchCriterion, MrmcRatings,
    Shape, froc_analysis, froc_cases, match_marks, obuchowski_rockette,
};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u1, u2) = (1.0 - uniform(rng), uniform(rng));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn report(task: &str, seconds: f64, detail: String) {
    println!("{{\"task\": \"{task}\", \"seconds\": {seconds:.4}, {detail}}}");
}

fn mrmc() {
    let (t, r, n) = (2usize, 10usize, 10_000usize);
    let mut rng = ChaCha8Rng::seed_from_u64(20261125);
    let truth: Vec<bool> = (0..n).map(|_| uniform(&mut rng) < 0.3).collect();
    let case_effect: Vec<f64> = (0..n).map(|_| normal(&mut rng)).collect();
    let mut scores = Vec::with_capacity(t * r * n);
    for i in 0..t {
        // A case × modality effect, so that readers agree more within a modality.
        let case_modality: Vec<f64> = (0..n).map(|_| 0.5 * normal(&mut rng)).collect();
        for _ in 0..r {
            let skill = 0.2 * normal(&mut rng);
            for c in 0..n {
                let shift = if truth[c] {
                    1.0 + 0.15 * i as f64 + skill
                } else {
                    0.0
                };
                scores.push(shift + 0.7 * case_effect[c] + case_modality[c] + normal(&mut rng));
            }
        }
    }
    let ratings: Vec<f64> = scores
        .iter()
        .map(|&s| [-0.5, 0.3, 1.0, 1.8].iter().filter(|&&cut| s > cut).count() as f64 + 1.0)
        .collect();
    for (name, data) in [("continuous", &scores), ("ratings 1-5", &ratings)] {
        for method in [CovarianceMethod::DeLong, CovarianceMethod::Jackknife] {
            let start = Instant::now();
            let result = obuchowski_rockette(
                &MrmcRatings {
                    modalities: t,
                    readers: r,
                    truth: &truth,
                    scores: data,
                },
                method,
                0.95,
            )
            .expect("valid study");
            let seconds = start.elapsed().as_secs_f64();
            let a = &result.random_readers_random_cases;
            report(
                &format!("mrmc {method:?} {name}"),
                seconds,
                format!(
                    "\"readers\": {r}, \"modalities\": {t}, \"cases\": {n}, \"f\": {:.4}, \"df2\": {:.2}, \"p\": {:.4}, \"warnings\": {}",
                    a.f.unwrap_or(f64::NAN),
                    a.df2.unwrap_or(f64::INFINITY),
                    a.p_value.unwrap_or(f64::NAN),
                    result.warnings.len()
                ),
            );
        }
    }
}

fn froc() {
    let (patients, images_per_patient, target_marks) = (50_000usize, 2usize, 300_000usize);
    let images = patients * images_per_patient;
    let mut rng = ChaCha8Rng::seed_from_u64(20261125);
    let image_case: Vec<u64> = (0..images)
        .map(|i| (i / images_per_patient) as u64)
        .collect();
    let mut lesions = Vec::new();
    let mut marks = Vec::new();
    for p in 0..patients {
        if uniform(&mut rng) < 0.4 {
            let k = 1 + (uniform(&mut rng) * 3.0) as usize;
            for _ in 0..k {
                let image = p * images_per_patient + (uniform(&mut rng) * 2.0) as usize;
                let (x, y) = (uniform(&mut rng) * 512.0, uniform(&mut rng) * 512.0);
                lesions.push(Lesion {
                    image,
                    shape: Shape::Circle { x, y, r: 8.0 },
                    weight: 1.0,
                });
                if uniform(&mut rng) < 0.7 {
                    marks.push(Mark {
                        image,
                        shape: Shape::Point {
                            x: x + 3.0 * normal(&mut rng),
                            y: y + 3.0 * normal(&mut rng),
                        },
                        rating: 1.0 + normal(&mut rng),
                    });
                }
            }
        }
    }
    while marks.len() < target_marks {
        marks.push(Mark {
            image: (uniform(&mut rng) * images as f64) as usize,
            shape: Shape::Point {
                x: uniform(&mut rng) * 512.0,
                y: uniform(&mut rng) * 512.0,
            },
            rating: normal(&mut rng),
        });
    }
    let start = Instant::now();
    let matching = match_marks(
        &lesions,
        &marks,
        MatchCriterion::CentreDistance { max: 10.0 },
        DuplicateMarks::Discard,
    )
    .expect("valid marks");
    let (_, cases) = froc_cases(&image_case, &lesions, &marks, &matching).expect("valid cases");
    let matched = start.elapsed().as_secs_f64();
    report(
        "froc matching",
        matched,
        format!(
            "\"images\": {images}, \"marks\": {}, \"lesions\": {}, \"hits\": {}",
            marks.len(),
            lesions.len(),
            matching.hits.len()
        ),
    );
    for replicates in [0usize, 2000] {
        let start = Instant::now();
        let r = froc_analysis(
            &cases,
            &FrocOptions {
                threshold: Some(0.5),
                level: 0.95,
                replicates,
                seed: 1,
            },
        )
        .expect("valid analysis");
        let seconds = start.elapsed().as_secs_f64();
        report(
            &format!("froc analysis, {replicates} bootstrap replicates"),
            seconds,
            format!(
                "\"wafroc\": {:.4}, \"lower\": {}, \"upper\": {}, \"froc_points\": {}",
                r.wafroc.estimate,
                r.wafroc.lower.map_or("null".into(), |x| format!("{x:.4}")),
                r.wafroc.upper.map_or("null".into(), |x| format!("{x:.4}")),
                r.froc_curve.len()
            ),
        );
    }
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("mrmc") => mrmc(),
        Some("froc") => froc(),
        _ => {
            eprintln!("usage: bench_mrmc mrmc | bench_mrmc froc");
            std::process::exit(2);
        }
    }
}
