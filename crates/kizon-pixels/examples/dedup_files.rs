//! Benchmark helper: decode and pHash every file under a directory (in parallel), then find all
//! pairs within a Hamming distance. Prints one JSON line like the peer `dedup_phash.py files DIR`.
//!
//! `cargo run --release -p kizon-pixels --example dedup_files -- DIR [--max-distance 8] [--fast]`
//! (`--fast`: [`kizon_pixels::perceptual_hash_fast`], JPEG 2000 at reduced resolution).
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: dedup_files DIR [--max-distance D]");
        std::process::exit(2);
    };
    let max_distance = args
        .iter()
        .position(|a| a == "--max-distance")
        .and_then(|i| args.get(i + 1))
        .map_or(kizon_pixels::DEFAULT_MAX_DISTANCE, |d| {
            d.parse().expect("distance")
        });
    let fast = args.iter().any(|a| a == "--fast");
    let start = Instant::now();
    let mut paths = Vec::new();
    files(Path::new(dir), &mut paths);
    let results: Vec<Option<u64>> = paths
        .par_iter()
        .map(|p| {
            let bytes = std::fs::read(p).ok()?;
            if fast {
                kizon_pixels::perceptual_hash_fast(&bytes).ok()
            } else {
                kizon_pixels::perceptual_hash(&bytes).ok()
            }
        })
        .collect();
    let hashes: Vec<u64> = results.iter().flatten().copied().collect();
    let undecodable = results.len() - hashes.len();
    let hashed = Instant::now();
    let pairs = kizon_pixels::near_duplicate_pairs(&hashes, max_distance);
    let end = Instant::now();
    let seconds = (end - start).as_secs_f64();
    println!(
        "{{\"files\": {}, \"items\": {}, \"undecodable\": {undecodable}, \"pairs\": {}, \"hash_seconds\": {:.3}, \"search_seconds\": {:.3}, \"seconds\": {seconds:.3}, \"files_per_second\": {:.1}}}",
        paths.len(),
        hashes.len(),
        pairs.len(),
        (hashed - start).as_secs_f64(),
        (end - hashed).as_secs_f64(),
        paths.len() as f64 / seconds
    );
}
