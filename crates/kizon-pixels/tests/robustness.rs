//! No input makes kizon-pixels panic: truncations and seeded byte flips of every real DICOM file
//! in testdata, and random bytes, go through open, every frame, both hashes.
//!
//! Third-party decoders (jpeg-decoder, openjp2) run inside `catch_unwind`, so a panic there
//! becomes an error; a panic hook records every panic with its location, and the test fails
//! on any panic in kizon's own code and reports those in the decoders it calls.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kizon_pixels::{Image, perceptual_hash, pixel_content_hash};

static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("testdata/dicom must be present") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Everything a caller may do with the bytes.
fn exercise(bytes: &[u8]) {
    if let Ok(image) = Image::open(bytes) {
        let _ = image.frame(image.info().frames);
    }
    let _ = perceptual_hash(bytes);
    let _ = pixel_content_hash(bytes);
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn truncations_and_byte_flips_of_real_files_never_panic() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        PANICS.lock().unwrap().push(format!("{location}: {info}"));
    }));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dicom");
    let mut paths = Vec::new();
    files(&dir, &mut paths);
    paths.sort();
    assert!(paths.len() > 200, "{} files", paths.len());
    let mut rng = XorShift(0x5EED_2026_1125);
    let budget = Duration::from_secs(5);
    let start = Instant::now();
    let mut inputs = 0u64;
    // Round-robin over the files, so that a time cap still covers all of them evenly.
    'rounds: for round in 0..24u64 {
        for path in &paths {
            if start.elapsed() > budget {
                break 'rounds;
            }
            let original = std::fs::read(path).unwrap();
            if original.is_empty() {
                continue;
            }
            let len = original.len() as u64;
            // Truncation: spread over the file, most in its last part (the pixel data).
            let cut = if round % 2 == 0 {
                (len * (round + 1) / 25) as usize
            } else {
                (len - 1 - rng.next() % (len / 3 + 1)) as usize
            };
            exercise(&original[..cut]);
            // Byte flips: 1 to 4 random bytes, biased to the pixel data at the end.
            let mut flipped = original.clone();
            for _ in 0..=(rng.next() % 4) {
                let at = if rng.next().is_multiple_of(4) {
                    rng.next() % len
                } else {
                    len - 1 - rng.next() % (len / 2 + 1)
                } as usize;
                flipped[at] ^= (rng.next() % 255 + 1) as u8;
            }
            exercise(&flipped);
            inputs += 2;
        }
    }
    // Random bytes, with and without a DICOM preamble.
    for i in 0..200 {
        let len = (rng.next() % 4096) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if i % 2 == 0 && bytes.len() > 132 {
            bytes[128..132].copy_from_slice(b"DICM");
        }
        exercise(&bytes);
        inputs += 1;
    }
    let _ = std::panic::take_hook();
    let panics = PANICS.lock().unwrap().clone();
    let (ours, theirs): (Vec<_>, Vec<_>) = panics
        .iter()
        .partition(|p| p.contains("kizon-pixels") || p.contains("kizon-formats"));
    println!(
        "{inputs} inputs in {:.1} s; {} panics inside third-party decoders (caught): {theirs:#?}",
        start.elapsed().as_secs_f64(),
        theirs.len()
    );
    assert!(inputs > 1000, "only {inputs} inputs in the time budget");
    assert!(ours.is_empty(), "panics in kizon code: {ours:#?}");
}
