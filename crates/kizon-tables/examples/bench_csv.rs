//! CSV input throughput for `bench/stats/run.sh`: reads the named columns of a file as
//! `kizon stats` does (encoding detection, header, line numbers, trimmed cells) and parses each
//! as numbers, then prints one JSON line: bytes, rows, seconds and MB/s.
//!
//! Usage: bench_csv FILE COLUMN...

use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((file, columns)) = args.split_first().filter(|(_, c)| !c.is_empty()) else {
        eprintln!("usage: bench_csv FILE COLUMN...");
        std::process::exit(2);
    };
    let wanted: Vec<&str> = columns.iter().map(String::as_str).collect();
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let start = Instant::now();
    let table = match kizon_tables::read_columns(Path::new(file), &wanted) {
        Ok(table) => table,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let read = start.elapsed().as_secs_f64();
    let mut sum = 0.0;
    for k in 0..wanted.len() {
        match table.numbers(k, "value") {
            Ok(values) => sum += values.iter().sum::<f64>(),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"bytes\": {bytes}, \"rows\": {}, \"checksum\": {sum}, \"read_seconds\": {read:.4}, \"seconds\": {seconds:.4}, \"mb_per_s\": {:.1}}}",
        table.len(),
        bytes as f64 / 1e6 / seconds
    );
}
