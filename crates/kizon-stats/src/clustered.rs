//! A proportion over clustered observations: several cases of one patient are not
//! independent, so the binomial interval is too narrow.
//!
//! The ratio estimator `p̂ = Σxᵢ / Σnᵢ` over K clusters (patients) with `xᵢ` successes in
//! `nᵢ` trials has the variance (Obuchowski 1998, *Stat Med* 17:1495–1507, eq. 2; Rao &
//! Scott 1992, *Biometrics* 48:577–585)
//!
//! `var(p̂) = K / ((K − 1) N²) · Σ (xᵢ − p̂ nᵢ)²`,  `N = Σnᵢ`,
//!
//! and the interval is Wald's, `p̂ ± z·√var`, clipped to [0, 1]. With one observation per
//! cluster it reduces to `p̂(1 − p̂)/(N − 1)`.

use crate::error::StatsError;
use crate::estimate::{Estimate, z_for_level};

/// The clustered proportion of `(successes, trials)` per cluster; clusters without trials
/// are ignored. `None` with fewer than two clusters or no trials.
pub fn clustered_proportion(
    clusters: &[(u64, u64)],
    level: f64,
) -> Result<Option<Estimate>, StatsError> {
    let z = z_for_level(level)?;
    if let Some((x, n)) = clusters.iter().find(|(x, n)| x > n) {
        return Err(StatsError::InvalidArgument(format!(
            "a cluster has {x} successes in {n} trials"
        )));
    }
    let used: Vec<(f64, f64)> = clusters
        .iter()
        .map(|&(x, n)| (x as f64, n as f64))
        .collect();
    Ok(ratio_interval(&used, z, 0.0, 1.0))
}

/// The ratio estimator `Σxᵢ / Σnᵢ` over clusters with its Wald interval `± z·√var`
/// (the variance above), clipped to `[min, max]`; clusters with `nᵢ = 0` are ignored.
/// `None` with fewer than two clusters or no trials. Also used for a mean count per
/// unit, e.g. false positives per image clustered by patient.
pub(crate) fn ratio_interval(
    clusters: &[(f64, f64)],
    z: f64,
    min: f64,
    max: f64,
) -> Option<Estimate> {
    let used: Vec<(f64, f64)> = clusters.iter().copied().filter(|(_, n)| *n > 0.0).collect();
    let k = used.len() as f64;
    let n: f64 = used.iter().map(|(_, n)| n).sum();
    if used.len() < 2 || n == 0.0 {
        return None;
    }
    let p = used.iter().map(|(x, _)| x).sum::<f64>() / n;
    let squares: f64 = used.iter().map(|(x, m)| (x - p * m).powi(2)).sum();
    let var = k / ((k - 1.0) * n * n) * squares;
    Some(Estimate::wald_clipped(p, var.sqrt(), z, min, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_case_per_patient_reduces_to_the_binomial_variance_over_n_minus_one() {
        let clusters: Vec<(u64, u64)> = (0..40).map(|i| (u64::from(i < 30), 1)).collect();
        let e = clustered_proportion(&clusters, 0.95).unwrap().unwrap();
        let se = (0.75f64 * 0.25 / 39.0).sqrt();
        assert!((e.estimate - 0.75).abs() < 1e-15);
        assert!((e.upper - (0.75 + 1.959963984540054 * se)).abs() < 1e-12);
    }

    /// Hand computation: clusters (2/2, 1/3, 3/3, 0/2): p̂ = 6/10, residuals 0.8, −0.8,
    /// 1.2, −1.2, Σ² = 4.16, var = 4/(3·100)·4.16 = 0.05546…, se = 0.23551.
    #[test]
    fn four_patients_by_hand() {
        let e = clustered_proportion(&[(2, 2), (1, 3), (3, 3), (0, 2)], 0.95)
            .unwrap()
            .unwrap();
        let se = (4.0f64 / 300.0 * 4.16).sqrt();
        assert!((se - 0.235513).abs() < 1e-6);
        assert!((e.lower - (0.6 - 1.959963984540054 * se)).abs() < 1e-12);
    }

    #[test]
    fn one_cluster_is_not_enough() {
        assert_eq!(clustered_proportion(&[(3, 4)], 0.95).unwrap(), None);
        assert!(clustered_proportion(&[(5, 4), (1, 1)], 0.95).is_err());
    }
}
