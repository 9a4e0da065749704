//! Multi-reader multi-case (MRMC) comparison of modalities by the empirical ROC AUC: the
//! Obuchowski–Rockette analysis of variance with Hillis' degrees of freedom.
//!
//! A fully crossed study: every reader reads every case in every modality (for instance
//! without and with an AI aid). Ratings may be ordinal (1–5) or continuous; a higher
//! rating means more likely positive.
//!
//! - **Reader AUCs.** Each reader × modality AUC `θ̂ᵢⱼ` is the empirical (trapezoidal,
//!   Mann–Whitney) AUC, ties counting ½.
//! - **Their covariance over cases**, the `tr × tr` matrix the OR model needs, by either
//!   - *DeLong*: the structural components of DeLong, DeLong & Clarke-Pearson (1988),
//!     *Biometrics* 44:837–845, from the exact integer placements of [`crate::roc`]
//!     (Sun & Xu 2014): `Cov(θ̂_g, θ̂_h) = S10_gh/m + S01_gh/n`; or
//!   - *jackknife* over cases (Efron 1982; Hillis et al. 2005, *Stat Med* 24:1579–1607):
//!     `Cov = (N − 1)/N · Σₖ (θ̂_g(−k) − θ̄_g)(θ̂_h(−k) − θ̄_h)` over all `N` cases, each
//!     leave-one-out AUC in O(1) from the placements.
//! - **The OR model** (Obuchowski & Rockette 1995, *Commun Stat Simul Comput*
//!   24:285–308): `θ̂ᵢⱼ = μ + τᵢ + Rⱼ + (τR)ᵢⱼ + εᵢⱼ` with reader variance `σ²_R`,
//!   interaction `σ²_TR` and error covariances `Var(ε)`, `Cov1` (same reader, different
//!   modalities), `Cov2` (same modality, different readers), `Cov3` (both different),
//!   each estimated as the mean of the matching entries of the covariance matrix; mean
//!   squares `MS(T)`, `MS(R)`, `MS(T×R)` of the two-way table of AUCs. The variance
//!   components are the ANOVA estimates `σ²_R = (MS(R) − MS(T×R))/t − Cov1 + Cov3` and
//!   `σ²_TR = MS(T×R) − Var(ε) + Cov1 + Cov2 − Cov3`, which can be negative.
//! - **Random readers, random cases** (Hillis 2007, *Stat Med* 26:596–619, and Hillis
//!   2005): `F = MS(T) / [MS(T×R) + r·max(Cov2 − Cov3, 0)]` on `t − 1` and
//!   `ddf_H = [MS(T×R) + r·max(Cov2 − Cov3, 0)]² / {MS(T×R)² / [(t − 1)(r − 1)]}` degrees
//!   of freedom; each difference of two modalities has standard error
//!   `√(2/r · denominator)` and a t interval on `ddf_H`. A single modality's AUC uses
//!   that modality's reader mean square and `Cov2`: `se = √(MS(R)/r + max(Cov2, 0))` on
//!   `ddf_H_single = [MS(R) + r·max(Cov2, 0)]² / [MS(R)²/(r − 1)]` (Hillis 2007).
//! - **Fixed readers, random cases**: `χ² = (t − 1)·MS(T) / [Var(ε) − Cov1 +
//!   (r − 1)·max(Cov2 − Cov3, 0)]` on `t − 1` degrees of freedom (reported also as
//!   `F = χ²/(t − 1)` with `df2 = ∞`), normal intervals; a single modality uses
//!   `√{[Var(ε) + (r − 1)·max(Cov2, 0)]/r}`; each reader's own difference uses
//!   `√[2(Var(ε) − Cov1)]` from that reader's entries.
//! - **Random readers, fixed cases**: the conventional repeated-measures ANOVA of the
//!   AUCs, `F = MS(T)/MS(T×R)` on `t − 1` and `(t − 1)(r − 1)` degrees of freedom.
//!
//! These are the formulas of OR-DBM MRMC 2.51 (Schartz, Hillis, Pesce & Berbaum, University
//! of Iowa) and of R's MRMCaov (Smith, Hillis & Pesce); the tests reproduce both
//! programs' printed output for Van Dyke et al. (1993) and MRMCaov on generated studies.
//! Two choices follow the Iowa program where MRMCaov 0.3.0 differs: the fixed-reader
//! denominator clips `Cov2 − Cov3` at 0 as the random-reader one does, and a modality's
//! AUC interval is clipped to [0, 1] (MRMCaov clips it too; the Iowa program does not).
//!
//! A difference is always `modality[i] − modality[j]` for `i < j`, in input order, as
//! both programs print it. Where Hillis' `max(0, ·)` rule changes a value, or a variance
//! component estimate is negative (a known trap with few readers), the result carries a
//! warning in English and Japanese.
//!
//! A degrees-of-freedom value of `None` (JSON `null`) is infinite: the normal or
//! chi-square limit, reached when a mean square in a denominator is exactly zero or for
//! fixed readers by design.

use std::str::FromStr;

use serde::Serialize;

use crate::dist::{f_sf, student_t_quantile, student_t_sf};
use crate::error::StatsError;
use crate::estimate::{Estimate, check_level};
use crate::roc::{covariance_term, dot, placements, split_by_truth, sum};

/// How the covariance of the reader × modality AUCs over cases is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CovarianceMethod {
    /// DeLong's structural components (DeLong et al. 1988).
    #[serde(rename = "delong")]
    DeLong,
    /// The jackknife over cases (Hillis et al. 2005).
    Jackknife,
}

impl FromStr for CovarianceMethod {
    type Err = StatsError;

    fn from_str(name: &str) -> Result<Self, StatsError> {
        match name.to_ascii_lowercase().as_str() {
            "delong" => Ok(CovarianceMethod::DeLong),
            "jackknife" => Ok(CovarianceMethod::Jackknife),
            _ => Err(StatsError::UnknownName {
                kind: "covariance method",
                name: name.to_string(),
                expected: "delong, jackknife",
            }),
        }
    }
}

/// The ratings of a fully crossed MRMC study.
#[derive(Debug, Clone, Copy)]
pub struct MrmcRatings<'a> {
    pub modalities: usize,
    pub readers: usize,
    /// The truth of each case (`true` = positive).
    pub truth: &'a [bool],
    /// The rating of case `c` by reader `j` in modality `i` at index
    /// `(i·readers + j)·cases + c`.
    pub scores: &'a [f64],
}

/// The result of [`obuchowski_rockette`]: reader AUCs, variance components and the three
/// analyses (random or fixed readers × random or fixed cases).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mrmc {
    pub covariance: CovarianceMethod,
    pub level: f64,
    pub modalities: usize,
    pub readers: usize,
    pub positives: u64,
    pub negatives: u64,
    /// Each reader's AUC in each modality with the normal interval from its own variance
    /// (the diagonal of the covariance matrix), clipped to [0, 1].
    pub reader_aucs: Vec<ReaderAuc>,
    /// The covariance of the AUCs over cases: row and column `i·readers + j` is reader `j`
    /// in modality `i`.
    pub covariance_matrix: Vec<Vec<f64>>,
    pub components: OrComponents,
    /// Random readers and random cases: results apply to the populations of readers and of
    /// cases. The primary analysis.
    pub random_readers_random_cases: OrTest,
    /// Fixed readers and random cases: results apply to these readers only.
    pub fixed_readers_random_cases: OrTest,
    /// Random readers and fixed cases: results apply to these cases only.
    pub random_readers_fixed_cases: OrTest,
    /// Fixed readers: each reader's own difference of every pair of modalities.
    pub reader_differences: Vec<ReaderDifference>,
    pub warnings: Vec<MrmcWarning>,
}

/// One reader's AUC in one modality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReaderAuc {
    pub modality: usize,
    pub reader: usize,
    pub auc: Estimate,
    pub se: f64,
}

/// Mean squares, error covariances and variance components of the OR model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrComponents {
    pub ms_t: f64,
    pub ms_r: f64,
    pub ms_tr: f64,
    /// `Var(ε)`: the mean variance of a reader AUC over cases.
    pub var_error: f64,
    pub cov1: f64,
    pub cov2: f64,
    pub cov3: f64,
    /// `σ²_R`, an ANOVA estimate that can be negative.
    pub var_r: f64,
    /// `σ²_TR`, an ANOVA estimate that can be negative.
    pub var_tr: f64,
    /// The same quantities within each modality, for its single-modality interval.
    pub by_modality: Vec<ModalityComponents>,
}

/// A modality's own reader mean square, error variance and `Cov2`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModalityComponents {
    pub ms_r: f64,
    pub var_error: f64,
    pub cov2: f64,
}

/// One of the three analyses: the global test of equal modality AUCs, every pairwise
/// difference and each modality's AUC with its interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrTest {
    /// Each modality's mean AUC over readers with its interval.
    pub modalities: Vec<ModalityAuc>,
    /// The F statistic (for fixed readers `χ²/(t − 1)`); `null` when its denominator is 0.
    pub f: Option<f64>,
    pub df1: f64,
    /// `null` is infinite (fixed readers: the chi-square test).
    pub df2: Option<f64>,
    /// Fixed readers only: the chi-square statistic on `df1` degrees of freedom.
    pub chi_square: Option<f64>,
    pub p_value: Option<f64>,
    /// The denominator of the statistic (the error term).
    pub denominator: f64,
    /// `modality[i] − modality[j]` for every `i < j`.
    pub differences: Vec<ModalityDifference>,
}

/// A modality's mean AUC over readers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModalityAuc {
    pub modality: usize,
    pub auc: Estimate,
    pub se: f64,
    /// `null` is infinite (a normal interval).
    pub df: Option<f64>,
}

/// The difference of two modalities' mean AUCs, `first − second`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModalityDifference {
    pub first: usize,
    pub second: usize,
    /// Interval clipped to [−1, 1].
    pub difference: Estimate,
    pub se: f64,
    /// `null` is infinite (a z test).
    pub df: Option<f64>,
    /// t (or z) statistic; `null` when the standard error is 0 and the difference is not.
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
}

/// One reader's difference of two modalities (fixed readers, random cases).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReaderDifference {
    pub reader: usize,
    #[serde(flatten)]
    pub difference: ModalityDifference,
}

/// A property of the data that changed or qualifies the analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MrmcWarning {
    /// A stable key: `cov2_below_cov3`, `modality_cov2_negative`,
    /// `reader_variance_negative`, `interaction_variance_negative`,
    /// `no_reader_modality_interaction`, `zero_denominator`.
    pub code: &'static str,
    /// The modality concerned (index in input order), if any.
    pub modality: Option<usize>,
    /// The estimate that triggered the warning.
    pub value: f64,
    pub message_en: String,
    pub message_ja: String,
}

/// The Obuchowski–Rockette MRMC analysis of the empirical AUC with covariances by
/// `covariance` and intervals at `level`. Needs at least two modalities, two readers, and
/// two positive and two negative cases.
pub fn obuchowski_rockette(
    ratings: &MrmcRatings<'_>,
    covariance: CovarianceMethod,
    level: f64,
) -> Result<Mrmc, StatsError> {
    check_level(level)?;
    let (t, r, cases) = (ratings.modalities, ratings.readers, ratings.truth.len());
    if t < 2 || r < 2 {
        return Err(StatsError::InvalidArgument(format!(
            "an MRMC comparison needs at least 2 modalities and 2 readers, got {t} and {r}"
        )));
    }
    let expected = t
        .checked_mul(r)
        .and_then(|g| g.checked_mul(cases))
        .ok_or_else(|| StatsError::InvalidArgument("too many ratings".into()))?;
    if ratings.scores.len() != expected {
        return Err(StatsError::LengthMismatch {
            what: "scores and modalities × readers × cases",
            left: ratings.scores.len(),
            right: expected,
        });
    }
    if let Some((index, &value)) = ratings
        .scores
        .iter()
        .enumerate()
        .find(|(_, s)| !s.is_finite())
    {
        return Err(StatsError::NonFinite {
            what: "rating",
            index,
            value,
        });
    }
    let positives = ratings.truth.iter().filter(|&&x| x).count();
    let negatives = cases - positives;
    if positives < 2 || negatives < 2 {
        return Err(StatsError::InvalidArgument(format!(
            "MRMC covariances need at least 2 positive and 2 negative cases, got {positives} and {negatives}"
        )));
    }
    let groups: Vec<Placements> = ratings
        .scores
        .chunks_exact(cases)
        .map(|scores| Placements::new(scores, ratings.truth))
        .collect::<Result<_, _>>()?;
    let aucs: Vec<f64> = groups.iter().map(Placements::auc).collect();
    let cov = match covariance {
        CovarianceMethod::DeLong => delong_covariance(&groups),
        CovarianceMethod::Jackknife => jackknife_covariance(&groups),
    };
    let model = OrModel::new(&aucs, &cov, t, r);
    let mut warnings = Vec::new();
    let reader_aucs = reader_aucs(&aucs, &cov, t, r, level);
    let random_readers_random_cases = model.random_readers_random_cases(level, &mut warnings);
    let fixed_readers_random_cases = model.fixed_readers_random_cases(level, &mut warnings);
    let random_readers_fixed_cases = model.random_readers_fixed_cases(level, &mut warnings);
    let reader_differences = model.reader_differences(level);
    model.component_warnings(&mut warnings);
    Ok(Mrmc {
        covariance,
        level,
        modalities: t,
        readers: r,
        positives: positives as u64,
        negatives: negatives as u64,
        reader_aucs,
        covariance_matrix: cov.chunks_exact(t * r).map(<[f64]>::to_vec).collect(),
        components: model.components,
        random_readers_random_cases,
        fixed_readers_random_cases,
        random_readers_fixed_cases,
        reader_differences,
        warnings,
    })
}

/// The doubled DeLong placements of one reader in one modality: `c` for each positive and
/// `d` for each negative, in case order within each class.
struct Placements {
    c: Vec<u64>,
    d: Vec<u64>,
    sum_c: u128,
    sum_d: u128,
}

impl Placements {
    fn new(scores: &[f64], truth: &[bool]) -> Result<Self, StatsError> {
        let (pos, neg) = split_by_truth(scores, truth, |_, s| s)?;
        let (c, d) = placements(&pos, &neg);
        let (sum_c, sum_d) = (sum(&c), sum(&d));
        Ok(Placements { c, d, sum_c, sum_d })
    }

    fn m(&self) -> u64 {
        self.c.len() as u64
    }

    fn n(&self) -> u64 {
        self.d.len() as u64
    }

    fn auc(&self) -> f64 {
        self.sum_c as f64 / (2.0 * self.m() as f64 * self.n() as f64)
    }

    /// Leave-one-case-out AUCs: positives first, then negatives, in case order.
    fn jackknife(&self) -> Vec<f64> {
        let (m, n) = (self.m() as f64, self.n() as f64);
        let u2 = self.sum_c;
        let without_pos = 2.0 * (m - 1.0) * n;
        let without_neg = 2.0 * m * (n - 1.0);
        self.c
            .iter()
            .map(|&c| (u2 - c as u128) as f64 / without_pos)
            .chain(
                self.d
                    .iter()
                    .map(|&d| (u2 - d as u128) as f64 / without_neg),
            )
            .collect()
    }
}

/// DeLong covariance matrix, row-major, from exact integer sums.
fn delong_covariance(groups: &[Placements]) -> Vec<f64> {
    let k = groups.len();
    let mut cov = vec![0.0; k * k];
    for g in 0..k {
        for h in g..k {
            let (a, b) = (&groups[g], &groups[h]);
            let (m, n) = (a.m(), a.n());
            let value = covariance_term(m, n, dot(&a.c, &b.c), a.sum_c, b.sum_c)
                + covariance_term(n, m, dot(&a.d, &b.d), a.sum_d, b.sum_d);
            cov[g * k + h] = value;
            cov[h * k + g] = value;
        }
    }
    cov
}

/// Jackknife covariance matrix over cases, row-major.
fn jackknife_covariance(groups: &[Placements]) -> Vec<f64> {
    let k = groups.len();
    let centred: Vec<Vec<f64>> = groups
        .iter()
        .map(|g| {
            let mut loo = g.jackknife();
            let mean = loo.iter().sum::<f64>() / loo.len() as f64;
            loo.iter_mut().for_each(|x| *x -= mean);
            loo
        })
        .collect();
    let cases = centred[0].len() as f64;
    let factor = (cases - 1.0) / cases;
    let mut cov = vec![0.0; k * k];
    for g in 0..k {
        for h in g..k {
            let s: f64 = centred[g].iter().zip(&centred[h]).map(|(x, y)| x * y).sum();
            cov[g * k + h] = factor * s;
            cov[h * k + g] = factor * s;
        }
    }
    cov
}

fn reader_aucs(aucs: &[f64], cov: &[f64], t: usize, r: usize, level: f64) -> Vec<ReaderAuc> {
    let z = critical(level, None);
    let k = t * r;
    (0..k)
        .map(|g| {
            let se = cov[g * k + g].max(0.0).sqrt();
            ReaderAuc {
                modality: g / r,
                reader: g % r,
                auc: Estimate::wald_clipped(aucs[g], se, z, 0.0, 1.0),
                se,
            }
        })
        .collect()
}

/// The two-sided critical value at `level` on `df` degrees of freedom (`None` = normal).
fn critical(level: f64, df: Option<f64>) -> f64 {
    student_t_quantile(0.5 + 0.5 * level, df.unwrap_or(f64::INFINITY))
}

/// The AUCs, their covariances and everything the three analyses share.
struct OrModel<'a> {
    t: usize,
    r: usize,
    aucs: &'a [f64],
    cov: &'a [f64],
    modality_means: Vec<f64>,
    components: OrComponents,
}

impl<'a> OrModel<'a> {
    fn new(aucs: &'a [f64], cov: &'a [f64], t: usize, r: usize) -> Self {
        let (tf, rf) = (t as f64, r as f64);
        let k = t * r;
        let theta = |i: usize, j: usize| aucs[i * r + j];
        let modality_means: Vec<f64> = (0..t)
            .map(|i| (0..r).map(|j| theta(i, j)).sum::<f64>() / rf)
            .collect();
        let reader_means: Vec<f64> = (0..r)
            .map(|j| (0..t).map(|i| theta(i, j)).sum::<f64>() / tf)
            .collect();
        let grand = modality_means.iter().sum::<f64>() / tf;
        let ms_t = rf
            * modality_means
                .iter()
                .map(|m| (m - grand).powi(2))
                .sum::<f64>()
            / (tf - 1.0);
        let ms_r = tf
            * reader_means
                .iter()
                .map(|m| (m - grand).powi(2))
                .sum::<f64>()
            / (rf - 1.0);
        let mut ss_tr = 0.0;
        for (i, mi) in modality_means.iter().enumerate() {
            for (j, mj) in reader_means.iter().enumerate() {
                ss_tr += (theta(i, j) - mi - mj + grand).powi(2);
            }
        }
        let ms_tr = ss_tr / ((tf - 1.0) * (rf - 1.0));
        // Means of the covariance entries by kind.
        let (mut var, mut cov1, mut cov2, mut cov3) = (0.0, 0.0, 0.0, 0.0);
        let mut by_modality = vec![(0.0, 0.0); t];
        for g in 0..k {
            for h in 0..k {
                let c = cov[g * k + h];
                let (same_modality, same_reader) = (g / r == h / r, g % r == h % r);
                match (same_modality, same_reader) {
                    (true, true) => {
                        var += c;
                        by_modality[g / r].0 += c;
                    }
                    (false, true) => cov1 += c,
                    (true, false) => {
                        cov2 += c;
                        by_modality[g / r].1 += c;
                    }
                    (false, false) => cov3 += c,
                }
            }
        }
        let var_error = var / (tf * rf);
        let cov1 = cov1 / (tf * (tf - 1.0) * rf);
        let cov2 = cov2 / (tf * rf * (rf - 1.0));
        let cov3 = cov3 / (tf * (tf - 1.0) * rf * (rf - 1.0));
        let by_modality = (0..t)
            .map(|i| ModalityComponents {
                ms_r: (0..r)
                    .map(|j| (theta(i, j) - modality_means[i]).powi(2))
                    .sum::<f64>()
                    / (rf - 1.0),
                var_error: by_modality[i].0 / rf,
                cov2: by_modality[i].1 / (rf * (rf - 1.0)),
            })
            .collect();
        OrModel {
            t,
            r,
            aucs,
            cov,
            modality_means,
            components: OrComponents {
                ms_t,
                ms_r,
                ms_tr,
                var_error,
                cov1,
                cov2,
                cov3,
                var_r: (ms_r - ms_tr) / tf - cov1 + cov3,
                var_tr: ms_tr - var_error + cov1 + cov2 - cov3,
                by_modality,
            },
        }
    }

    fn df1(&self) -> f64 {
        self.t as f64 - 1.0
    }

    /// Every pair `i < j` with the same standard error and degrees of freedom.
    fn differences(&self, se: f64, df: Option<f64>, level: f64) -> Vec<ModalityDifference> {
        let mut out = Vec::new();
        for i in 0..self.t {
            for j in i + 1..self.t {
                let estimate = self.modality_means[i] - self.modality_means[j];
                out.push(difference(i, j, estimate, se, df, level));
            }
        }
        out
    }

    fn modality(&self, i: usize, se: f64, df: Option<f64>, level: f64) -> ModalityAuc {
        ModalityAuc {
            modality: i,
            auc: Estimate::wald_clipped(self.modality_means[i], se, critical(level, df), 0.0, 1.0),
            se,
            df,
        }
    }

    /// Hillis (2007): the F test with `ddf_H` and single-modality intervals on
    /// `ddf_H_single`.
    fn random_readers_random_cases(&self, level: f64, warnings: &mut Vec<MrmcWarning>) -> OrTest {
        let c = &self.components;
        let rf = self.r as f64;
        let clipped = (c.cov2 - c.cov3).max(0.0);
        if c.cov2 < c.cov3 {
            warnings.push(MrmcWarning {
                code: "cov2_below_cov3",
                modality: None,
                value: c.cov2 - c.cov3,
                message_en: format!(
                    "Cov2 − Cov3 = {:.3e} is negative; following Hillis (2007) it is taken as 0 in the error term of the random- and fixed-reader tests, which makes them conservative.",
                    c.cov2 - c.cov3
                ),
                message_ja: format!(
                    "Cov2 − Cov3 = {:.3e} が負のため、Hillis (2007) の max(0, ·) 規則により、読影者変量・固定の検定の誤差項では 0 として扱いました（検定は保守的になります）。",
                    c.cov2 - c.cov3
                ),
            });
        }
        let denominator = c.ms_tr + rf * clipped;
        let df2 = if c.ms_tr > 0.0 {
            Some(denominator * denominator / (c.ms_tr * c.ms_tr / (self.df1() * (rf - 1.0))))
        } else {
            if denominator > 0.0 {
                warnings.push(MrmcWarning {
                    code: "no_reader_modality_interaction",
                    modality: None,
                    value: c.ms_tr,
                    message_en: "MS(T×R) is 0: every reader differs between modalities by the same amount, so Hillis' denominator degrees of freedom are infinite and the random-reader test becomes a chi-square test.".into(),
                    message_ja: "MS(T×R) が 0 です（全読影者でモダリティ間の差が同一）。Hillis の分母自由度は無限大となり、読影者変量の検定はカイ二乗検定になります。".into(),
                });
            }
            None
        };
        let (f, p_value) = self.f_test(denominator, df2, "random readers, random cases", warnings);
        let modalities = (0..self.t)
            .map(|i| {
                let m = &c.by_modality[i];
                if m.cov2 < 0.0 {
                    warnings.push(MrmcWarning {
                        code: "modality_cov2_negative",
                        modality: Some(i),
                        value: m.cov2,
                        message_en: format!(
                            "Modality #{}: Cov2 = {:.3e} is negative; it is taken as 0 in the modality's own interval (Hillis 2007).",
                            i + 1,
                            m.cov2
                        ),
                        message_ja: format!(
                            "モダリティ #{}：Cov2 = {:.3e} が負のため、単独の信頼区間では 0 として扱いました（Hillis 2007）。",
                            i + 1,
                            m.cov2
                        ),
                    });
                }
                let term = m.ms_r + rf * m.cov2.max(0.0);
                let df = (m.ms_r > 0.0).then(|| term * term / (m.ms_r * m.ms_r / (rf - 1.0)));
                self.modality(i, (term / rf).sqrt(), df, level)
            })
            .collect();
        OrTest {
            modalities,
            f,
            df1: self.df1(),
            df2,
            chi_square: None,
            p_value,
            denominator,
            differences: self.differences((2.0 / rf * denominator).sqrt(), df2, level),
        }
    }

    /// Fixed readers: the chi-square test and normal intervals.
    fn fixed_readers_random_cases(&self, level: f64, warnings: &mut Vec<MrmcWarning>) -> OrTest {
        let c = &self.components;
        let rf = self.r as f64;
        let denominator = c.var_error - c.cov1 + (rf - 1.0) * (c.cov2 - c.cov3).max(0.0);
        let (f, p_value) = self.f_test(denominator, None, "fixed readers, random cases", warnings);
        let modalities = (0..self.t)
            .map(|i| {
                let m = &c.by_modality[i];
                let var = (m.var_error + (rf - 1.0) * m.cov2.max(0.0)) / rf;
                self.modality(i, var.max(0.0).sqrt(), None, level)
            })
            .collect();
        OrTest {
            modalities,
            f,
            df1: self.df1(),
            df2: None,
            chi_square: f.map(|f| f * self.df1()),
            p_value,
            denominator,
            differences: self.differences((2.0 / rf * denominator).max(0.0).sqrt(), None, level),
        }
    }

    /// Fixed cases: the repeated-measures ANOVA of the reader AUCs.
    fn random_readers_fixed_cases(&self, level: f64, warnings: &mut Vec<MrmcWarning>) -> OrTest {
        let c = &self.components;
        let rf = self.r as f64;
        let df2 = Some(self.df1() * (rf - 1.0));
        let denominator = c.ms_tr;
        let (f, p_value) = self.f_test(denominator, df2, "random readers, fixed cases", warnings);
        let modalities = (0..self.t)
            .map(|i| {
                let m = &c.by_modality[i];
                self.modality(i, (m.ms_r / rf).sqrt(), Some(rf - 1.0), level)
            })
            .collect();
        OrTest {
            modalities,
            f,
            df1: self.df1(),
            df2,
            chi_square: None,
            p_value,
            denominator,
            differences: self.differences((2.0 / rf * denominator).sqrt(), df2, level),
        }
    }

    /// `F = MS(T)/denominator` and its upper tail; `None` with a warning when the
    /// denominator is not positive.
    fn f_test(
        &self,
        denominator: f64,
        df2: Option<f64>,
        analysis: &str,
        warnings: &mut Vec<MrmcWarning>,
    ) -> (Option<f64>, Option<f64>) {
        if denominator > 0.0 {
            let f = self.components.ms_t / denominator;
            (
                Some(f),
                Some(f_sf(f, self.df1(), df2.unwrap_or(f64::INFINITY))),
            )
        } else {
            warnings.push(MrmcWarning {
                code: "zero_denominator",
                modality: None,
                value: denominator,
                message_en: format!(
                    "{analysis}: the error term is {denominator:.3e}, so the test of equal AUCs is not defined."
                ),
                message_ja: format!(
                    "{analysis}：誤差項が {denominator:.3e} のため、AUC 同等性の検定は定義できません。"
                ),
            });
            (None, None)
        }
    }

    /// Each reader's difference of each pair of modalities with
    /// `se = √[2(Var(ε) − Cov1)]` from that reader's own entries.
    fn reader_differences(&self, level: f64) -> Vec<ReaderDifference> {
        let (t, r) = (self.t, self.r);
        let k = t * r;
        let tf = t as f64;
        let mut out = Vec::new();
        for j in 0..r {
            let (mut var, mut cov1) = (0.0, 0.0);
            for i in 0..t {
                for i2 in 0..t {
                    let c = self.cov[(i * r + j) * k + i2 * r + j];
                    if i == i2 {
                        var += c;
                    } else {
                        cov1 += c;
                    }
                }
            }
            let (var, cov1) = (var / tf, cov1 / (tf * (tf - 1.0)));
            let se = (2.0 * (var - cov1)).max(0.0).sqrt();
            for i in 0..t {
                for i2 in i + 1..t {
                    let estimate = self.aucs[i * r + j] - self.aucs[i2 * r + j];
                    out.push(ReaderDifference {
                        reader: j,
                        difference: difference(i, i2, estimate, se, None, level),
                    });
                }
            }
        }
        out
    }

    fn component_warnings(&self, warnings: &mut Vec<MrmcWarning>) {
        let c = &self.components;
        if c.var_r < 0.0 {
            warnings.push(MrmcWarning {
                code: "reader_variance_negative",
                modality: None,
                value: c.var_r,
                message_en: format!(
                    "The reader variance component σ²_R = {:.3e} is negative (an ANOVA estimate; common with few readers): the readers differ less than case sampling alone explains. The tests stay valid; for planning a study, take it as 0 and prefer more readers.",
                    c.var_r
                ),
                message_ja: format!(
                    "読影者の分散成分 σ²_R = {:.3e} が負です（分散分析による推定値で、読影者が少ないと起こりやすい）。検定は有効ですが、症例数設計には 0 として用い、読影者を増やすことを検討してください。",
                    c.var_r
                ),
            });
        }
        if c.var_tr < 0.0 {
            warnings.push(MrmcWarning {
                code: "interaction_variance_negative",
                modality: None,
                value: c.var_tr,
                message_en: format!(
                    "The modality × reader variance component σ²_TR = {:.3e} is negative (an ANOVA estimate; common with few readers). The tests stay valid; for planning a study, take it as 0.",
                    c.var_tr
                ),
                message_ja: format!(
                    "モダリティ×読影者の分散成分 σ²_TR = {:.3e} が負です（分散分析による推定値で、読影者が少ないと起こりやすい）。検定は有効ですが、症例数設計には 0 として用いてください。",
                    c.var_tr
                ),
            });
        }
    }
}

/// A difference with its interval and two-sided test on `df` degrees of freedom.
fn difference(
    first: usize,
    second: usize,
    estimate: f64,
    se: f64,
    df: Option<f64>,
    level: f64,
) -> ModalityDifference {
    let statistic = if se > 0.0 {
        Some(estimate / se)
    } else if estimate == 0.0 {
        Some(0.0)
    } else {
        None
    };
    let df_value = df.unwrap_or(f64::INFINITY);
    ModalityDifference {
        first,
        second,
        difference: Estimate::wald_clipped(estimate, se, critical(level, df), -1.0, 1.0),
        se,
        df,
        statistic,
        p_value: statistic.map(|s| (2.0 * student_t_sf(s.abs(), df_value)).min(1.0)),
    }
}
