//! Qualitative agreement at the analyser's cut-off (CLSI EP12-A2, 2008): both methods'
//! quantitative results made positive at `≥ cut-off`, the 2×2 table against the comparator,
//! PPA, NPA and OPA with Wilson score intervals (Wilson 1927) and Cohen's kappa (through
//! [`crate::agreement`]), and the specimens near the cut-off, where a judgement flips with
//! imprecision and EP12 asks for them to be examined.

use serde::Serialize;

use crate::agreement::{Agreement, agreement};
use crate::binary::TwoByTwo;
use crate::error::StatsError;
use crate::proportion::ProportionCi;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Qualitative {
    pub cutoff: f64,
    /// Device and comparator both positive, device only, comparator only, both negative.
    pub both_positive: u64,
    pub device_only: u64,
    pub comparator_only: u64,
    pub both_negative: u64,
    #[serde(flatten)]
    pub agreement: Agreement,
    /// How near counts as near: a fraction of the cut-off on either side.
    pub near_fraction: f64,
    /// The specimens (indices) with either result within `near_fraction` of the cut-off.
    pub near: Vec<usize>,
}

/// Agreement of `y` (device) with `x` (comparator) when both are read as positive at
/// `value ≥ cutoff`.
pub fn qualitative(
    x: &[f64],
    y: &[f64],
    cutoff: f64,
    near_fraction: f64,
    level: f64,
) -> Result<Qualitative, StatsError> {
    super::check_pairs(x, y, 1)?;
    if !(cutoff.is_finite() && near_fraction.is_finite() && near_fraction >= 0.0) {
        return Err(StatsError::InvalidArgument(format!(
            "the cut-off must be a number and the nearness a fraction of zero or more, got {cutoff} and {near_fraction}"
        )));
    }
    let (mut both_positive, mut device_only, mut comparator_only, mut both_negative) = (0, 0, 0, 0);
    let mut near = Vec::new();
    let band = near_fraction * cutoff.abs();
    for (i, (comparator, device)) in x.iter().zip(y).enumerate() {
        match (*device >= cutoff, *comparator >= cutoff) {
            (true, true) => both_positive += 1,
            (true, false) => device_only += 1,
            (false, true) => comparator_only += 1,
            (false, false) => both_negative += 1,
        }
        if (comparator - cutoff).abs() <= band || (device - cutoff).abs() <= band {
            near.push(i);
        }
    }
    let table = TwoByTwo::new(both_positive, device_only, comparator_only, both_negative);
    Ok(Qualitative {
        cutoff,
        both_positive,
        device_only,
        comparator_only,
        both_negative,
        agreement: agreement(&table, ProportionCi::Wilson, level)?,
        near_fraction,
        near,
    })
}
