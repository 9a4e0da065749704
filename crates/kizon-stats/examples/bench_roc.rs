//! Benchmark driver for bench/stats/run.sh: the same seeded binormal data as the peers
//! (N scores, 30% positives, score = N(0, 1) + truth), then either the AUC with its
//! DeLong 95% CI or a 2,000-replicate stratified bootstrap. Prints one JSON line with
//! the seconds spent in the statistics only (data generation excluded, as the peers do).
//!
//! Usage: bench_roc auc N | bench_roc bootstrap N [REPS]

use std::time::Instant;

use kizon_stats::{Resampling, auc_delong, bootstrap_auc};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn data(n: usize) -> (Vec<f64>, Vec<bool>) {
    let mut rng = ChaCha8Rng::seed_from_u64(20261125);
    let truth: Vec<bool> = (0..n).map(|_| uniform(&mut rng) < 0.3).collect();
    let scores = truth
        .iter()
        .map(|&t| {
            // Box–Muller; the (0, 1] shift keeps ln away from 0.
            let (u1, u2) = (1.0 - uniform(&mut rng), uniform(&mut rng));
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos() + if t { 1.0 } else { 0.0 }
        })
        .collect();
    (scores, truth)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench_roc auc N | bench_roc bootstrap N [REPS]";
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).expect(usage);
    let (scores, truth) = data(n);
    let start = Instant::now();
    match args[0].as_str() {
        "auc" => {
            let r = auc_delong(&scores, &truth, 0.95).expect("valid data");
            let s = start.elapsed().as_secs_f64();
            println!(
                r#"{{"n": {n}, "auc": {:.12}, "lower": {:.12}, "upper": {:.12}, "seconds": {s:.4}}}"#,
                r.auc.estimate, r.auc.lower, r.auc.upper
            );
        }
        "bootstrap" => {
            let reps: usize = args.get(2).map_or(2000, |s| s.parse().expect(usage));
            let r = bootstrap_auc(&scores, &truth, Resampling::Stratified, reps, 1, 0.95)
                .expect("valid data");
            let s = start.elapsed().as_secs_f64();
            let bca = r.bca.expect("BCa defined");
            println!(
                r#"{{"n": {n}, "reps": {reps}, "auc": {:.12}, "lower": {:.12}, "upper": {:.12}, "bca_lower": {:.12}, "bca_upper": {:.12}, "seconds": {s:.4}}}"#,
                r.percentile.estimate, r.percentile.lower, r.percentile.upper, bca.lower, bca.upper
            );
        }
        _ => panic!("{usage}"),
    }
}
