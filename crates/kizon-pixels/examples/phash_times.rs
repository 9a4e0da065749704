//! Profiling helper: the time of `perceptual_hash` (or `perceptual_hash_fast` with FAST=1 in
//! the environment, or both hashes of `check`, `pixel_hashes`, with BOTH=1) per file, slowest
//! first: `phash_times FILE...`
fn main() {
    let fast = std::env::var_os("FAST").is_some();
    let both = std::env::var_os("BOTH").is_some();
    let mut rows = Vec::new();
    for path in std::env::args().skip(1) {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let t = std::time::Instant::now();
        let ok = if both {
            kizon_pixels::pixel_hashes(&bytes).is_ok()
        } else if fast {
            kizon_pixels::perceptual_hash_fast(&bytes).is_ok()
        } else {
            kizon_pixels::perceptual_hash(&bytes).is_ok()
        };
        rows.push((t.elapsed().as_secs_f64() * 1000.0, path, ok));
    }
    let total: f64 = rows.iter().map(|r| r.0).sum();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("total {total:.1} ms over {} files", rows.len());
    for (ms, path, ok) in rows.iter().take(25) {
        println!(
            "{ms:8.2} ms {} {path}",
            if *ok { "hashed" } else { "failed" }
        );
    }
}
