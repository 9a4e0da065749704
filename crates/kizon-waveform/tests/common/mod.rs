//! Shared test helpers: the real data files and a tiny deterministic PRNG.
#![allow(dead_code)]

use std::path::PathBuf;

/// `testdata/waveform/<rel>` (the repository's third-party test files).
pub fn data_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/waveform")
        .join(rel)
}

pub fn data(rel: &str) -> Vec<u8> {
    let path = data_path(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// xorshift64*: deterministic, good enough to pick offsets and bytes.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
