//! Shared by the integration tests: fixture loading and relative comparison.
#![allow(dead_code)] // each test binary uses its own subset of these helpers

use std::path::PathBuf;

use kizon_stats::Estimate;
use serde_json::Value;

/// Parses `tests/fixtures/NAME`.
pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `cases` array of a fixture.
pub fn cases(name: &str) -> Vec<Value> {
    fixture(name)["cases"]
        .as_array()
        .expect("fixture has cases")
        .clone()
}

pub fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

pub fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// Relative closeness, with exact zeros compared exactly (down to subnormal noise).
pub fn close(actual: f64, expected: f64, rel: f64) -> bool {
    (actual - expected).abs() <= rel * expected.abs() || (actual - expected).abs() <= 1e-300
}

#[track_caller]
pub fn assert_close(actual: f64, expected: f64, rel: f64, what: &str) {
    assert!(
        close(actual, expected, rel),
        "{what}: got {actual:.17e}, expected {expected:.17e} (rel tol {rel:e})"
    );
}

/// Compares an estimate with `{estimate, lower, upper}` (or `[est, lower, upper]`).
#[track_caller]
pub fn assert_estimate(actual: &Estimate, expected: &Value, rel: f64, what: &str) {
    let (e, l, h) = match expected {
        Value::Array(a) => (f(&a[0]), f(&a[1]), f(&a[2])),
        _ => (
            f(&expected["estimate"]),
            f(&expected["lower"]),
            f(&expected["upper"]),
        ),
    };
    assert_close(actual.estimate, e, rel, &format!("{what} estimate"));
    assert_close(actual.lower, l, rel, &format!("{what} lower"));
    assert_close(actual.upper, h, rel, &format!("{what} upper"));
}

/// A CSV fixture as rows of named string fields.
pub fn csv_rows(name: &str) -> Vec<std::collections::HashMap<String, String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(|h| h.trim_matches('"').to_string())
        .collect();
    lines
        .map(|line| {
            header
                .iter()
                .cloned()
                .zip(line.split(',').map(|v| v.trim_matches('"').to_string()))
                .collect()
        })
        .collect()
}

/// `(truth, score)` columns of a CSV fixture, truth being `column == positive`.
pub fn scored(
    name: &str,
    truth_col: &str,
    positive: &str,
    score_col: &str,
) -> (Vec<bool>, Vec<f64>) {
    csv_rows(name)
        .iter()
        .map(|r| {
            (
                r[truth_col] == positive,
                r[score_col]
                    .parse::<f64>()
                    .unwrap_or_else(|e| panic!("{score_col}: {e}")),
            )
        })
        .unzip()
}

/// The data file, truth column and positive label behind each data-set name in the
/// fixtures.
pub fn data_set(name: &str) -> (&'static str, &'static str, &'static str) {
    match name {
        "aSAH" | "aSAH.csv" => ("aSAH.csv", "outcome", "Poor"),
        "breast_cancer" | "breast_cancer.csv" => ("breast_cancer.csv", "malignant", "1"),
        "tied_ratings" | "tied_ratings.csv" => ("tied_ratings.csv", "truth", "1"),
        other => panic!("unknown data set {other}"),
    }
}

/// Small deterministic generator for property tests (SplitMix64), so tests need no
/// extra dependency.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by Box–Muller.
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}
