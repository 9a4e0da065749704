//! Benchmark helper: all pairs within a Hamming distance over 64-bit hashes read from a file of
//! little-endian u64 values. Prints one JSON line like the peer `dedup_phash.py hashes N`.
//!
//! `cargo run --release -p kizon-pixels --example near_duplicates -- HASHES.u64 [N] [--max-distance 8] [--brute-force]`
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: near_duplicates HASHES.u64 [N] [--max-distance D] [--brute-force]");
        std::process::exit(2);
    };
    let max_distance = args
        .iter()
        .position(|a| a == "--max-distance")
        .and_then(|i| args.get(i + 1))
        .map_or(kizon_pixels::DEFAULT_MAX_DISTANCE, |d| {
            d.parse().expect("distance")
        });
    let bytes = std::fs::read(path).expect("read the hashes file");
    let mut hashes: Vec<u64> = bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    if let Some(n) = args.get(1).and_then(|n| n.parse::<usize>().ok()) {
        hashes.truncate(n);
    }
    let start = Instant::now();
    let pairs = if args.iter().any(|a| a == "--brute-force") {
        kizon_pixels::brute_force_pairs(&hashes, max_distance)
    } else {
        kizon_pixels::near_duplicate_pairs(&hashes, max_distance)
    };
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"items\": {}, \"pairs\": {}, \"search_seconds\": {seconds:.3}}}",
        hashes.len(),
        pairs.len()
    );
}
