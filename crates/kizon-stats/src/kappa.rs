//! Chance-corrected agreement between raters or methods.
//!
//! - Cohen's kappa: Cohen (1960), *Educ Psychol Meas* 20:37–46; weighted kappa:
//!   Cohen (1968), *Psychol Bull* 70:213–220, with linear (Cicchetti & Allison 1971) or
//!   quadratic (Fleiss & Cohen 1973, *Educ Psychol Meas* 33:613–619) agreement
//!   weights `1 − |i−j|/(k−1)` and `1 − (i−j)²/(k−1)²` over the category order.
//!   Standard error: the large-sample (non-null) variance of Fleiss, Cohen & Everitt
//!   (1969), *Psychol Bull* 72:323–327, as statsmodels `cohens_kappa` (`std_kappa`)
//!   reports it (psych `cohen.kappa` agrees unweighted; its weighted variance pairs
//!   the weights with the wrong margins for k > 2); Wald interval `κ ± z·se`, clipped
//!   to [−1, 1].
//! - Fleiss' kappa for m ≥ 2 raters per subject: Fleiss (1971), *Psychol Bull*
//!   76:378–382. Standard error under H0: κ = 0 by Fleiss, Nee & Landis (1979),
//!   *Psychol Bull* 86:974–977, as R irr `kappam.fleiss` reports it; the interval
//!   `κ ± z·se0` uses that same null SE (irr gives only the z test), so it is an
//!   approximation away from κ = 0.
//!
//! A kappa whose chance agreement is 1 (both raters put every case in one category) is
//! 0/0 and comes back as `None`.

use serde::{Deserialize, Serialize};

use crate::dist::normal_cdf;
use crate::error::StatsError;
use crate::estimate::{Estimate, z_for_level};

/// Agreement weights for Cohen's kappa over ordered categories. Serialises as
/// `unweighted`, `linear`, `quadratic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KappaWeights {
    #[default]
    Unweighted,
    Linear,
    Quadratic,
}

impl KappaWeights {
    fn weight(self, i: usize, j: usize, k: usize) -> f64 {
        if i == j {
            return 1.0;
        }
        let d = i.abs_diff(j) as f64 / (k - 1) as f64;
        match self {
            KappaWeights::Unweighted => 0.0,
            KappaWeights::Linear => 1.0 - d,
            KappaWeights::Quadratic => 1.0 - d * d,
        }
    }
}

/// Cohen's (weighted) kappa with its Fleiss–Cohen–Everitt standard error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohenKappa {
    pub kappa: Estimate,
    pub se: f64,
}

/// Fleiss' kappa with the Fleiss–Nee–Landis standard error under H0: κ = 0 and the
/// two-sided z test of that hypothesis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleissKappa {
    pub fleiss_kappa: Estimate,
    pub se0: f64,
    pub z: f64,
    pub p_value: f64,
    pub subjects: usize,
    pub raters: u64,
}

/// Cohen's kappa of a k×k table (`table[i][j]`: rater A said category i, rater B
/// category j), with a two-sided interval at `level`.
pub fn cohen_kappa(
    table: &[Vec<u64>],
    weights: KappaWeights,
    level: f64,
) -> Result<Option<CohenKappa>, StatsError> {
    let z = z_for_level(level)?;
    let k = table.len();
    if k < 2 {
        return Err(StatsError::InvalidArgument(format!(
            "kappa needs at least 2 categories, got {k}"
        )));
    }
    if let Some(row) = table.iter().find(|r| r.len() != k) {
        return Err(StatsError::LengthMismatch {
            what: "kappa table row and category count",
            left: row.len(),
            right: k,
        });
    }
    let n: u64 = table.iter().flatten().sum();
    if n == 0 {
        return Ok(None);
    }
    let nf = n as f64;
    let p = |i: usize, j: usize| table[i][j] as f64 / nf;
    let row: Vec<f64> = (0..k).map(|i| (0..k).map(|j| p(i, j)).sum()).collect();
    let col: Vec<f64> = (0..k).map(|j| (0..k).map(|i| p(i, j)).sum()).collect();
    let w = |i, j| weights.weight(i, j, k);
    let cells = || (0..k).flat_map(|i| (0..k).map(move |j| (i, j)));
    let po: f64 = cells().map(|(i, j)| w(i, j) * p(i, j)).sum();
    let pe: f64 = cells().map(|(i, j)| w(i, j) * row[i] * col[j]).sum();
    if pe >= 1.0 {
        return Ok(None);
    }
    let kappa = (po - pe) / (1.0 - pe);
    // Fleiss, Cohen & Everitt (1969), eq. for weighted kappa; with identity weights it is
    // their unweighted variance.
    let w_row: Vec<f64> = (0..k)
        .map(|i| (0..k).map(|j| col[j] * w(i, j)).sum())
        .collect();
    let w_col: Vec<f64> = (0..k)
        .map(|j| (0..k).map(|i| row[i] * w(i, j)).sum())
        .collect();
    let sum: f64 = cells()
        .map(|(i, j)| {
            let dev = w(i, j) - (w_row[i] + w_col[j]) * (1.0 - kappa);
            p(i, j) * dev * dev
        })
        .sum();
    let var = (sum - (kappa - pe * (1.0 - kappa)).powi(2)) / (nf * (1.0 - pe).powi(2));
    // Rounding can leave a perfect-agreement variance a hair below zero.
    let se = var.max(0.0).sqrt();
    Ok(Some(CohenKappa {
        kappa: Estimate::wald_clipped(kappa, se, z, -1.0, 1.0),
        se,
    }))
}

/// Fleiss' kappa from `counts[subject][category]`, the number of raters who put the
/// subject in the category; every subject must have the same number (≥ 2) of ratings.
pub fn fleiss_kappa(counts: &[Vec<u64>], level: f64) -> Result<Option<FleissKappa>, StatsError> {
    let z_crit = z_for_level(level)?;
    let first = counts
        .first()
        .ok_or(StatsError::Empty("Fleiss kappa subjects"))?;
    let k = first.len();
    let m: u64 = first.iter().sum();
    if m < 2 {
        return Err(StatsError::InvalidArgument(format!(
            "Fleiss kappa needs at least 2 ratings per subject, got {m}"
        )));
    }
    for (i, row) in counts.iter().enumerate() {
        if row.len() != k {
            return Err(StatsError::LengthMismatch {
                what: "Fleiss kappa categories per subject",
                left: row.len(),
                right: k,
            });
        }
        let total: u64 = row.iter().sum();
        if total != m {
            return Err(StatsError::InvalidArgument(format!(
                "Fleiss kappa needs the same number of ratings per subject: subject {i} has {total}, subject 0 has {m}"
            )));
        }
    }
    let (subjects, mf) = (counts.len() as f64, m as f64);
    let p: Vec<f64> = (0..k)
        .map(|j| counts.iter().map(|r| r[j]).sum::<u64>() as f64 / (subjects * mf))
        .collect();
    let p_bar = counts
        .iter()
        .map(|r| (r.iter().map(|&c| (c * c) as f64).sum::<f64>() - mf) / (mf * (mf - 1.0)))
        .sum::<f64>()
        / subjects;
    let pe: f64 = p.iter().map(|pj| pj * pj).sum();
    if pe >= 1.0 {
        return Ok(None);
    }
    let kappa = (p_bar - pe) / (1.0 - pe);
    let pq: f64 = p.iter().map(|pj| pj * (1.0 - pj)).sum();
    let pq_qp: f64 = p.iter().map(|pj| pj * (1.0 - pj) * (1.0 - 2.0 * pj)).sum();
    let se0 = (2.0 / (subjects * mf * (mf - 1.0))).sqrt() * (pq * pq - pq_qp).max(0.0).sqrt() / pq;
    let z = kappa / se0;
    Ok(Some(FleissKappa {
        fleiss_kappa: Estimate::wald_clipped(kappa, se0, z_crit, -1.0, 1.0),
        se0,
        z,
        p_value: 2.0 * normal_cdf(-z.abs()),
        subjects: counts.len(),
        raters: m,
    }))
}

/// Kappa from raw ratings, one vector of category labels per rater, aligned by case.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RaterKappa {
    /// Two raters: Cohen's (weighted) kappa.
    Cohen(CohenKappa),
    /// Three or more raters: Fleiss' kappa (unweighted only).
    Fleiss(FleissKappa),
}

/// Cohen's kappa for two raters or Fleiss' kappa for more, from raw labels. The
/// categories are the distinct labels in their `Ord` order, which is the order the
/// weights use: give ordinal categories as numbers, not strings ("10" < "2").
pub fn rater_kappa<L: Ord>(
    raters: &[Vec<L>],
    weights: KappaWeights,
    level: f64,
) -> Result<Option<RaterKappa>, StatsError> {
    let first = raters.first().ok_or(StatsError::Empty("raters"))?;
    if raters.len() < 2 {
        return Err(StatsError::InvalidArgument(
            "kappa needs at least 2 raters".into(),
        ));
    }
    if let Some(r) = raters.iter().find(|r| r.len() != first.len()) {
        return Err(StatsError::LengthMismatch {
            what: "ratings per rater",
            left: r.len(),
            right: first.len(),
        });
    }
    if first.is_empty() {
        return Err(StatsError::Empty("ratings"));
    }
    let mut categories: Vec<&L> = raters.iter().flatten().collect();
    categories.sort();
    categories.dedup();
    // A single category everywhere: chance agreement is 1, kappa is 0/0.
    let k = categories.len().max(2);
    let index = |label: &L| {
        categories
            .binary_search(&label)
            .expect("label was collected")
    };
    if raters.len() == 2 {
        let mut table = vec![vec![0u64; k]; k];
        for (a, b) in raters[0].iter().zip(&raters[1]) {
            table[index(a)][index(b)] += 1;
        }
        return Ok(cohen_kappa(&table, weights, level)?.map(RaterKappa::Cohen));
    }
    if weights != KappaWeights::Unweighted {
        return Err(StatsError::InvalidArgument(
            "weighted kappa is defined for 2 raters; Fleiss' kappa is unweighted".into(),
        ));
    }
    let mut counts = vec![vec![0u64; k]; first.len()];
    for rater in raters {
        for (case, label) in rater.iter().enumerate() {
            counts[case][index(label)] += 1;
        }
    }
    Ok(fleiss_kappa(&counts, level)?.map(RaterKappa::Fleiss))
}
