//! The one error type of the crate: every variant is a problem with the caller's input.
//!
//! Quantities that the data cannot estimate (a proportion of zero cases, a kappa
//! when both raters put every case in one category) are not errors: they come back as
//! `None` in the result, which serialises as JSON `null`.

use thiserror::Error;

/// Invalid input to a statistical function. The message says what was wrong and with
/// which value, so the CLI can print it as is.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// A confidence level outside the open interval (0, 1), e.g. `95` instead of `0.95`.
    #[error("confidence level must be strictly between 0 and 1 (e.g. 0.95), got {0}")]
    InvalidLevel(f64),
    /// A probability parameter (power, prevalence, performance goal, ...) out of range.
    #[error("{name} must be strictly between 0 and 1, got {value}")]
    InvalidProbability { name: &'static str, value: f64 },
    /// A count that cannot exceed another (successes above trials, ...).
    #[error("{what}: {count} exceeds {total}")]
    CountExceedsTotal {
        what: &'static str,
        count: u64,
        total: u64,
    },
    /// An input that needs at least one element was empty.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// Two inputs that pair element by element differ in length.
    #[error("{what}: lengths differ ({left} vs {right})")]
    LengthMismatch {
        what: &'static str,
        left: usize,
        right: usize,
    },
    /// A score or parameter that must be finite was NaN or infinite.
    #[error("{what} must be finite, got {value} at index {index}")]
    NonFinite {
        what: &'static str,
        index: usize,
        value: f64,
    },
    /// ROC analysis needs both classes.
    #[error("no {0} cases: ROC analysis needs both positive and negative cases")]
    MissingClass(&'static str),
    /// An argument outside its documented domain.
    #[error("{0}")]
    InvalidArgument(String),
    /// A name that does not denote a known method or metric (from `FromStr`).
    #[error("unknown {kind} '{name}'; expected one of: {expected}")]
    UnknownName {
        kind: &'static str,
        name: String,
        expected: &'static str,
    },
}
