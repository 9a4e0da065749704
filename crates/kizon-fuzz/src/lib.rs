//! The hostile-input harness: every parser and decoder that takes bytes from outside (a
//! hospital's export, a device's results, a study.toml someone edited) run over inputs made by
//! mutating real files, to show that none of them panics, hangs or runs away with memory.
//!
//! The mutator is structure-aware in the cheap way that finds parser bugs: besides flipping
//! bits and cutting files short, it writes boundary values (0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF and
//! the input's own length and length + 1) over 2- and 4-byte fields in both byte orders, which is where
//! DICOM, EDF, WFDB, MFER, JPEG and ISO-BMFF keep their lengths and counts; for text formats it
//! rewrites numbers. Offsets near the start of a file (its header) are drawn more often.
//!
//! It is deterministic: one seed gives the same inputs on every machine, so a failure found by
//! the million-input run (`bench/fuzz/run.sh`) is reproduced by its seed and iteration, and the
//! input that found it is kept in `tests/regressions/` as a test of its own. A coverage-guided
//! fuzzer (cargo-fuzz, libFuzzer) needs a nightly toolchain, which this project does not use.

#![forbid(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

mod targets;

pub use targets::targets;

/// A parser under test: its name, the real files its inputs are made from, and the call.
pub struct Target {
    pub name: &'static str,
    pub seeds: Vec<Vec<u8>>,
    /// Parses one input. An `Err` is a refusal, the expected outcome of most inputs; only a
    /// panic (or a hang) is a failure.
    pub parse: fn(&[u8]),
}

/// A small, fast, seedable generator (xorshift64*, Vigna 2016): no dependency, and the same
/// sequence on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The state is the seed passed through splitmix64 (Steele, Lea & Flood 2014), so that
    /// nearby seeds start far apart; zero, the one state xorshift never leaves, is replaced.
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x9E37_79B9_7F4A_7C15 } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// An offset into `len` bytes, the first 4 KiB (the header of most formats) drawn half the time.
fn offset(rng: &mut Rng, len: usize) -> usize {
    if rng.below(2) == 0 {
        rng.below(len.min(4096))
    } else {
        rng.below(len)
    }
}

/// Applies one to four mutations to `input`.
pub fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        if input.is_empty() {
            input.push(rng.next_u64() as u8);
            continue;
        }
        let len = input.len();
        match rng.below(10) {
            // A bit flipped.
            0 => {
                let at = offset(rng, len);
                input[at] ^= 1 << rng.below(8);
            }
            // A byte set to a boundary value.
            1 => {
                let at = offset(rng, len);
                input[at] = [0x00, 0x01, 0x7F, 0x80, 0xFF, b'0', b'9', b'-', b' '][rng.below(9)];
            }
            // A 2- or 4-byte field set to a boundary value, either byte order.
            2 | 3 => {
                let values: [u32; 8] = [
                    0,
                    1,
                    0x7FFF,
                    0xFFFF,
                    0x7FFF_FFFF,
                    0xFFFF_FFFF,
                    len as u32,
                    (len as u32).wrapping_add(1),
                ];
                let value = values[rng.below(values.len())];
                let bytes = if rng.below(2) == 0 {
                    value.to_le_bytes()
                } else {
                    value.to_be_bytes()
                };
                let width = if rng.below(2) == 0 { 2 } else { 4 };
                let at = offset(rng, len);
                for (k, b) in bytes.iter().take(width).enumerate() {
                    if let Some(slot) = input.get_mut(at + k) {
                        *slot = *b;
                    }
                }
            }
            // Cut short.
            4 => input.truncate(offset(rng, len)),
            // Random bytes inserted.
            5 => {
                let at = offset(rng, len);
                let n = 1 + rng.below(64);
                let noise: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                input.splice(at..at, noise);
            }
            // A run deleted.
            6 => {
                let at = offset(rng, len);
                let end = (at + 1 + rng.below(256)).min(len);
                input.drain(at..end);
            }
            // A run copied elsewhere (a repeated element, a doubled box).
            7 => {
                let from = offset(rng, len);
                let end = (from + 1 + rng.below(256)).min(len);
                let chunk = input[from..end].to_vec();
                let at = offset(rng, len);
                input.splice(at..at, chunk);
            }
            // A decimal number in a text field rewritten (EDF headers, WFDB, CSV, TOML).
            _ => {
                let at = offset(rng, len);
                if let Some(start) = input[at..].iter().position(u8::is_ascii_digit) {
                    let start = at + start;
                    let end = input[start..]
                        .iter()
                        .position(|b| !b.is_ascii_digit())
                        .map_or(len, |e| start + e);
                    let numbers: [&[u8]; 7] = [
                        b"0",
                        b"-1",
                        b"99999999999999999999",
                        b"4294967296",
                        b"1e308",
                        b"NaN",
                        b"",
                    ];
                    input.splice(
                        start..end,
                        numbers[rng.below(numbers.len())].iter().copied(),
                    );
                }
            }
        }
    }
}

/// A panic: which input, and what it said.
#[derive(Debug, Clone)]
pub struct Crash {
    pub iteration: u64,
    pub message: String,
    pub input: Vec<u8>,
}

/// What a run of one target found.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub target: &'static str,
    pub inputs: u64,
    pub crashes: Vec<Crash>,
    pub slowest: Duration,
    pub elapsed: Duration,
}

thread_local! {
    /// Whether this thread is inside [`parse_catching`].
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// The first panic while it was.
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs, once, the panic hook the harness counts with. Inside [`parse_catching`] a panic is
/// recorded, even one the parser catches itself (kizon-pixels guards its own decoders with
/// `catch_unwind` and reports their panics as corrupt data, which a user never sees fail but
/// which is a defect all the same); everywhere else the default hook prints as usual, so a
/// failing test still says why.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) {
                let payload = info.payload();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".into());
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                PANIC.with(|p| {
                    p.borrow_mut().get_or_insert(format!("{message}{at}"));
                });
            } else {
                default(info);
            }
        }));
    });
}

/// Parses `input`; a panic anywhere inside, caught by the parser or not, is an `Err` with its
/// message and place.
pub fn parse_catching(target: &Target, input: &[u8]) -> Result<(), String> {
    install_panic_hook();
    PANIC.with(|p| p.borrow_mut().take());
    CATCHING.with(|c| c.set(true));
    let outcome = catch_unwind(AssertUnwindSafe(|| (target.parse)(input)));
    CATCHING.with(|c| c.set(false));
    match (PANIC.with(|p| p.borrow_mut().take()), outcome) {
        (Some(message), _) => Err(message),
        (None, Ok(())) => Ok(()),
        (None, Err(_)) => Err("a panic the hook did not see".into()),
    }
}

/// Runs `inputs` mutated inputs through `target`, from `seed`. Each input is one of the
/// target's seeds, mutated; every tenth is a mutation of the previous input instead, so that
/// mutations accumulate.
pub fn run(target: &Target, inputs: u64, seed: u64) -> Outcome {
    let mut rng = Rng::new(seed ^ fxhash(target.name));
    let mut crashes = Vec::new();
    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    let mut previous: Vec<u8> = Vec::new();
    for iteration in 0..inputs {
        let mut input = if iteration % 10 == 9 && !previous.is_empty() {
            previous.clone()
        } else {
            target.seeds[rng.below(target.seeds.len())].clone()
        };
        mutate(&mut rng, &mut input);
        let start = Instant::now();
        if let Err(message) = parse_catching(target, &input) {
            crashes.push(Crash {
                iteration,
                message,
                input: input.clone(),
            });
        }
        slowest = slowest.max(start.elapsed());
        previous = input;
    }
    Outcome {
        target: target.name,
        inputs,
        crashes,
        slowest,
        elapsed: started.elapsed(),
    }
}

/// A stable hash of a name (FNV-1a), so that each target draws its own sequence from one seed.
fn fxhash(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// The repository's `testdata/`, where the seeds come from.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}
