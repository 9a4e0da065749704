//! The Obuchowski–Rockette MRMC analysis against the printed output of the Iowa program
//! (OR-DBM MRMC 2.51) and of MRMCaov for Van Dyke et al. (1993), against MRMCaov run on
//! generated studies (`tools/oracle/mrmc_fixtures.R`), and the F, t and chi-square
//! functions against R.
mod common;

use std::collections::BTreeMap;

use common::{assert_close, cases, csv_rows, f};
use kizon_stats::dist::{
    chi_square_sf, f_sf, f_upper_quantile, noncentral_chi_square_sf, noncentral_f_sf,
    student_t_quantile, student_t_sf,
};
use kizon_stats::{
    CovarianceMethod, Mrmc, MrmcRatings, OrPilot, StatsError, mrmc_cases, mrmc_power,
    obuchowski_rockette,
};
use serde_json::Value;

/// A study in long form: modality, reader and case labels sorted numerically as R's
/// factor levels are.
struct Study {
    modalities: usize,
    readers: usize,
    truth: Vec<bool>,
    scores: Vec<f64>,
}

impl Study {
    fn ratings(&self) -> MrmcRatings<'_> {
        MrmcRatings {
            modalities: self.modalities,
            readers: self.readers,
            truth: &self.truth,
            scores: &self.scores,
        }
    }

    fn analyse(&self, covariance: CovarianceMethod) -> Mrmc {
        obuchowski_rockette(&self.ratings(), covariance, 0.95).unwrap()
    }
}

fn study(file: &str, filter: Option<&str>, cols: [&str; 5]) -> Study {
    let [modality, reader, case, truth, score] = cols;
    let rows: Vec<_> = csv_rows(file)
        .into_iter()
        .filter(|r| filter.is_none_or(|s| r["study"] == s))
        .collect();
    let num =
        |r: &std::collections::HashMap<String, String>, k: &str| -> i64 { r[k].parse().unwrap() };
    let mut cells: BTreeMap<(i64, i64, i64), f64> = BTreeMap::new();
    let mut truths: BTreeMap<i64, bool> = BTreeMap::new();
    for r in &rows {
        cells.insert(
            (num(r, modality), num(r, reader), num(r, case)),
            r[score].parse().unwrap(),
        );
        truths.insert(num(r, case), r[truth] == "1");
    }
    let count = |k: fn(&(i64, i64, i64)) -> i64| {
        let mut v: Vec<i64> = cells.keys().map(k).collect();
        v.sort();
        v.dedup();
        v.len()
    };
    let (t, r) = (count(|k| k.0), count(|k| k.1));
    assert_eq!(
        cells.len(),
        t * r * truths.len(),
        "{file}: not fully crossed"
    );
    Study {
        modalities: t,
        readers: r,
        truth: truths.values().copied().collect(),
        scores: cells.values().copied().collect(),
    }
}

fn van_dyke() -> Study {
    study(
        "van_dyke_1993.csv",
        None,
        ["treatment", "reader", "case", "truth", "rating"],
    )
}

fn generated(name: &str) -> Study {
    study(
        "mrmc_generated.csv",
        Some(name),
        ["modality", "reader", "case", "truth", "score"],
    )
}

/// Rounds to `digits` decimals as a printed table does.
fn printed(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

#[track_caller]
fn assert_printed(actual: f64, expected: f64, digits: i32, what: &str) {
    assert!(
        (printed(actual, digits) - expected).abs() < 0.5 * 10f64.powi(-digits),
        "{what}: got {actual}, printed {expected} to {digits} decimals"
    );
}

/// Van Dyke et al. (1993), analysed by OR-DBM MRMC 2.51 (Schartz, Hillis, Pesce &
/// Berbaum; University of Iowa), trapezoidal AUC, jackknife covariances: the program's
/// output file "VanDyke trap area jackknife anova.txt" (04/30/2020), distributed with
/// RJafroc (github.com/dpc10ster/RJafroc, `inst/Iowa/VanDyke.txt`). Every number the
/// program prints for the three analyses is reproduced to its printed digits.
#[test]
fn van_dyke_matches_or_dbm_mrmc_2_51_jackknife_output_to_the_printed_digits() {
    let s = van_dyke();
    assert_eq!((s.modalities, s.readers, s.truth.len()), (2, 5, 114));
    let r = s.analyse(CovarianceMethod::Jackknife);
    assert_eq!((r.positives, r.negatives), (45, 69));
    // "TREATMENT x READER AUC ESTIMATES"
    let aucs = [
        [0.91964573, 0.85877617, 0.90386473, 0.97310789, 0.82979066],
        [0.94782609, 0.90531401, 0.92173913, 0.99935588, 0.92995169],
    ];
    for a in &r.reader_aucs {
        let what = format!("AUC modality {} reader {}", a.modality, a.reader);
        assert_printed(a.auc.estimate, aucs[a.modality][a.reader], 8, &what);
    }
    // ANOVA tables, "Variance component and error-covariance estimates"
    let c = &r.components;
    assert_printed(c.ms_t, 0.00479617, 8, "MS(T)");
    assert_printed(c.ms_r, 0.00383620, 8, "MS(R)");
    assert_printed(c.ms_tr, 0.00055103, 8, "MS(T*R)");
    assert_printed(c.by_modality[0].ms_r, 0.00308263, 8, "MS(R) treatment 1");
    assert_printed(c.by_modality[1].ms_r, 0.00130460, 8, "MS(R) treatment 2");
    assert_printed(c.var_r, 0.00153500, 8, "Var(R)");
    assert_printed(c.var_tr, 0.00020040, 8, "Var(T*R)");
    assert_printed(c.cov1, 0.00034661, 8, "COV1");
    assert_printed(c.cov2, 0.00034407, 8, "COV2");
    assert_printed(c.cov3, 0.00023903, 8, "COV3");
    assert_printed(c.var_error, 0.00080229, 8, "Var(Error)");
    assert_printed(c.cov1 / c.var_error, 0.43203138, 8, "COV1 correlation");
    // Analysis 1: random readers and random cases.
    let a = &r.random_readers_random_cases;
    assert_printed(a.f.unwrap(), 4.46, 2, "F");
    assert_eq!(a.df1, 1.0);
    assert_printed(a.df2.unwrap(), 15.26, 2, "ddf_H");
    assert_printed(a.p_value.unwrap(), 0.0517, 4, "p");
    assert_printed(a.denominator, 0.00107626, 8, "error term");
    let d = &a.differences[0];
    assert_eq!((d.first, d.second), (0, 1));
    assert_printed(d.difference.estimate, -0.04380, 5, "difference");
    assert_printed(d.se, 0.02075, 5, "difference se");
    assert_printed(d.statistic.unwrap(), -2.11, 2, "t");
    assert_printed(d.difference.lower, -0.08796, 5, "difference lower");
    assert_printed(d.difference.upper, 0.00036, 5, "difference upper");
    let single = [
        (
            0.89703704, 0.03317360, 12.74, 0.82522360, 0.96885048, 0.00048396,
        ),
        (
            0.94083736, 0.02156637, 12.71, 0.89413783, 0.98753689, 0.00020419,
        ),
    ];
    for (m, (auc, se, df, lower, upper, cov2)) in a.modalities.iter().zip(single) {
        let what = format!("single treatment {}", m.modality + 1);
        assert_printed(m.auc.estimate, auc, 8, &what);
        assert_printed(m.se, se, 8, &what);
        assert_printed(m.df.unwrap(), df, 2, &what);
        assert_printed(m.auc.lower, lower, 8, &what);
        assert_printed(m.auc.upper, upper, 8, &what);
        assert_printed(c.by_modality[m.modality].cov2, cov2, 8, &what);
    }
    // Analysis 2: fixed readers and random cases.
    let a = &r.fixed_readers_random_cases;
    assert_printed(a.chi_square.unwrap(), 5.47595, 5, "X2");
    assert_printed(a.p_value.unwrap(), 0.0193, 4, "X2 p");
    assert_eq!(a.df2, None);
    let d = &a.differences[0];
    assert_printed(d.se, 0.01872, 5, "fixed readers se");
    assert_printed(d.statistic.unwrap(), -2.34, 2, "z");
    assert_printed(d.difference.lower, -0.08049, 5, "fixed readers lower");
    assert_printed(d.difference.upper, -0.00711, 5, "fixed readers upper");
    let single = [
        (0.02428971, 0.84943008, 0.94464399, 0.00101410),
        (0.01677632, 0.90795637, 0.97371835, 0.00059047),
    ];
    for (m, (se, lower, upper, var)) in a.modalities.iter().zip(single) {
        let what = format!("fixed readers, treatment {}", m.modality + 1);
        assert_printed(m.se, se, 8, &what);
        assert_printed(m.auc.lower, lower, 8, &what);
        assert_printed(m.auc.upper, upper, 8, &what);
        assert_printed(c.by_modality[m.modality].var_error, var, 8, &what);
    }
    // "d) Single-reader 95% confidence intervals": difference, StdErr, z, p, CI.
    let readers = [
        (-0.02818, 0.02551, -1.10, 0.2693, -0.07818, 0.02182),
        (-0.04654, 0.02630, -1.77, 0.0768, -0.09809, 0.00501),
        (-0.01787, 0.03121, -0.57, 0.5668, -0.07904, 0.04330),
        (-0.02625, 0.01729, -1.52, 0.1290, -0.06014, 0.00764),
        (-0.10016, 0.04406, -2.27, 0.0230, -0.18651, -0.01381),
    ];
    assert_eq!(r.reader_differences.len(), 5);
    for (rd, (est, se, z, p, lower, upper)) in r.reader_differences.iter().zip(readers) {
        let what = format!("reader {}", rd.reader + 1);
        let d = &rd.difference;
        assert_printed(d.difference.estimate, est, 5, &what);
        assert_printed(d.se, se, 5, &what);
        assert_printed(d.statistic.unwrap(), z, 2, &what);
        assert_printed(d.p_value.unwrap(), p, 4, &what);
        assert_printed(d.difference.lower, lower, 5, &what);
        assert_printed(d.difference.upper, upper, 5, &what);
    }
    // Analysis 3: random readers and fixed cases.
    let a = &r.random_readers_fixed_cases;
    assert_printed(a.f.unwrap(), 8.70, 2, "F fixed cases");
    assert_eq!((a.df1, a.df2), (1.0, Some(4.0)));
    assert_printed(a.p_value.unwrap(), 0.0420, 4, "p fixed cases");
    let d = &a.differences[0];
    assert_printed(d.se, 0.01485, 5, "fixed cases se");
    assert_printed(d.difference.lower, -0.08502, 5, "fixed cases lower");
    assert_printed(d.difference.upper, -0.00258, 5, "fixed cases upper");
    let single = [
        (0.02482994, 0.82809808, 0.96597599),
        (0.01615303, 0.89598936, 0.98568536),
    ];
    for (m, (se, lower, upper)) in a.modalities.iter().zip(single) {
        let what = format!("fixed cases, treatment {}", m.modality + 1);
        assert_printed(m.se, se, 8, &what);
        assert_eq!(m.df, Some(4.0));
        assert_printed(m.auc.lower, lower, 8, &what);
        assert_printed(m.auc.upper, upper, 8, &what);
    }
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

/// Van Dyke et al. (1993) with DeLong covariances, as printed in Smith & Hillis, "MRMCaov:
/// Multi-Reader Multi-Case Analysis of Variance" (the package's JSS manuscript,
/// `docs/jss/MRMCaov.tex`, section "Covariance Estimation Methods", output of
/// `summary(mrmc(empirical_auc(truth, rating), ..., cov = DeLong))`).
#[test]
fn van_dyke_with_delong_covariances_matches_the_mrmcaov_manuscript() {
    let r = van_dyke().analyse(CovarianceMethod::DeLong);
    let c = &r.components;
    let close = |x: f64, y: f64, what: &str| assert_close(x, y, 5e-7, what);
    close(c.var_r, 0.0015364254, "reader");
    close(c.var_tr, 0.0002045840, "treatment:reader");
    close(c.var_error, 0.0007921325, "Error");
    close(c.cov1, 0.0003420090, "Cov1");
    close(c.cov2, 0.0003395265, "Cov2");
    close(c.cov3, 0.0002358497, "Cov3");
    close(c.ms_tr, 0.0005510306, "MS(T:R)");
    let a = &r.random_readers_random_cases;
    close(a.denominator, 0.001069415, "Denominator");
    close(a.f.unwrap(), 4.484854, "F");
    close(a.df2.unwrap(), 15.06611, "df2");
    close(a.p_value.unwrap(), 0.05123303, "p-value");
    let d = &a.differences[0];
    close(d.difference.estimate, -0.04380032, "Estimate");
    close(d.se, 0.0206825, "StdErr");
    close(d.difference.lower, -0.0878671960, "CI.Lower");
    close(d.difference.upper, 0.0002665519, "CI.Upper");
    close(d.statistic.unwrap(), -2.117747, "t");
    let single = [
        (
            0.8970370,
            0.0004775239,
            0.03307642,
            12.59597,
            0.8253461,
            0.9687280,
        ),
        (
            0.9408374,
            0.0002015292,
            0.02150464,
            12.56530,
            0.8942155,
            0.9874592,
        ),
    ];
    for (m, (est, cov2, se, df, lower, upper)) in a.modalities.iter().zip(single) {
        let what = format!("treatment {}", m.modality + 1);
        close(m.auc.estimate, est, &what);
        close(c.by_modality[m.modality].cov2, cov2, &what);
        close(m.se, se, &what);
        close(m.df.unwrap(), df, &what);
        close(m.auc.lower, lower, &what);
        close(m.auc.upper, upper, &what);
    }
}

fn numbers(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().map(f).collect(),
        other => vec![f(other)],
    }
}

/// MRMCaov 0.3.0 on Van Dyke and four generated studies (three modalities; six readers
/// with continuous scores; a negative reader variance component; Cov2 < Cov3), with
/// DeLong and jackknife covariances and all three factor types.
#[test]
fn every_analysis_matches_mrmcaov_on_van_dyke_and_generated_studies() {
    let fixture = cases("mrmc_mrmcaov.json");
    assert_eq!(fixture.len(), 25);
    for c in &fixture {
        let name = c["study"].as_str().unwrap();
        let s = if name == "van_dyke_1993" {
            van_dyke()
        } else {
            generated(name)
        };
        let method = c["covariance"].as_str().unwrap().parse().unwrap();
        let r = s.analyse(method);
        let kind = c["factor_types"].as_str().unwrap();
        let what = format!("{name} {method:?} {kind}");
        let rel = 1e-9;
        for (ours, theirs) in r.reader_aucs.iter().zip(numbers(&c["aucs"])) {
            assert_close(ours.auc.estimate, theirs, 1e-13, &what);
        }
        if let Some(comps) = c.get("components") {
            let ours = &r.components;
            for (key, value) in [
                ("ms_t", ours.ms_t),
                ("ms_r", ours.ms_r),
                ("ms_tr", ours.ms_tr),
                ("var_error", ours.var_error),
                ("cov1", ours.cov1),
                ("cov2", ours.cov2),
                ("cov3", ours.cov3),
                ("var_r", ours.var_r),
                ("var_tr", ours.var_tr),
            ] {
                assert_close(value, f(&comps[key]), rel, &format!("{what} {key}"));
            }
            let matrix: Vec<f64> = r.covariance_matrix.iter().flatten().copied().collect();
            for (x, y) in matrix.iter().zip(numbers(&c["covariance_matrix"])) {
                assert_close(*x, y, rel, &format!("{what} covariance matrix"));
            }
        }
        let cov2_below_cov3 = r.components.cov2 < r.components.cov3;
        let a = match kind {
            "rrrc" => &r.random_readers_random_cases,
            "frrc" if cov2_below_cov3 => {
                // MRMCaov does not clip Cov2 − Cov3 for fixed readers; the Iowa program
                // and kizon do (max(0, ·)), so only the unaffected quantities compare.
                assert!(r.warnings.iter().any(|w| w.code == "cov2_below_cov3"));
                continue;
            }
            "frrc" => &r.fixed_readers_random_cases,
            _ => &r.random_readers_fixed_cases,
        };
        assert_close(
            a.p_value.unwrap(),
            f(&c["p_value"]),
            1e-8,
            &format!("{what} p"),
        );
        assert_eq!(a.df1, f(&c["df1"]), "{what}");
        if kind == "frrc" {
            assert_close(a.chi_square.unwrap(), f(&c["chi_square"]), rel, &what);
        } else {
            assert_close(a.f.unwrap(), f(&c["f"]), rel, &format!("{what} F"));
            assert_close(a.df2.unwrap(), f(&c["df2"]), rel, &format!("{what} df2"));
        }
        let means = &c["modality_means"];
        for (k, m) in a.modalities.iter().enumerate() {
            let w = format!("{what} modality {k}");
            assert_close(m.auc.estimate, numbers(&means["estimate"])[k], 1e-13, &w);
            assert_close(m.se, numbers(&means["se"])[k], rel, &w);
            assert_close(m.auc.lower, numbers(&means["lower"])[k], rel, &w);
            assert_close(m.auc.upper, numbers(&means["upper"])[k], rel, &w);
            if let Some(df) = means.get("df") {
                assert_close(m.df.unwrap(), numbers(df)[k], rel, &w);
            }
        }
        let diffs = &c["differences"];
        assert_eq!(a.differences.len(), numbers(&diffs["estimate"]).len());
        for (k, d) in a.differences.iter().enumerate() {
            let w = format!("{what} difference {k}");
            assert_close(
                d.difference.estimate,
                numbers(&diffs["estimate"])[k],
                1e-12,
                &w,
            );
            assert_close(d.se, numbers(&diffs["se"])[k], rel, &w);
            assert_close(d.difference.lower, numbers(&diffs["lower"])[k], rel, &w);
            assert_close(d.difference.upper, numbers(&diffs["upper"])[k], rel, &w);
            assert_close(d.p_value.unwrap(), numbers(&diffs["p_value"])[k], 1e-8, &w);
        }
        // MRMCaov 0.3.0 recycles its per-reader standard errors over the rows of every
        // pair of modalities, which is right only for two modalities.
        if kind == "frrc" && s.modalities == 2 {
            let rd = &c["reader_differences"];
            for (k, d) in r.reader_differences.iter().enumerate() {
                let w = format!("{what} reader difference {k}");
                let d = &d.difference;
                assert_close(d.se, numbers(&rd["se"])[k], rel, &w);
                assert_close(d.difference.lower, numbers(&rd["lower"])[k], rel, &w);
                assert_close(d.p_value.unwrap(), numbers(&rd["p_value"])[k], 1e-8, &w);
            }
        }
        if kind == "frrc" {
            let ra = &c["reader_aucs"];
            for (k, a) in r.reader_aucs.iter().enumerate() {
                let w = format!("{what} reader AUC {k}");
                assert_close(a.se, numbers(&ra["se"])[k], rel, &w);
                assert_close(a.auc.lower, numbers(&ra["lower"])[k], rel, &w);
                assert_close(a.auc.upper, numbers(&ra["upper"])[k], rel, &w);
            }
        }
    }
}

#[test]
fn negative_components_and_cov2_below_cov3_are_clipped_and_reported() {
    let r = generated("cov2_below_cov3").analyse(CovarianceMethod::Jackknife);
    let c = &r.components;
    assert!(c.cov2 < c.cov3 && c.var_r < 0.0, "{c:?}");
    let codes: Vec<&str> = r.warnings.iter().map(|w| w.code).collect();
    assert!(codes.contains(&"cov2_below_cov3"), "{codes:?}");
    assert!(codes.contains(&"reader_variance_negative"), "{codes:?}");
    // With max(0, Cov2 − Cov3) = 0 the random-reader test is the fixed-case one.
    let (a, b) = (
        &r.random_readers_random_cases,
        &r.random_readers_fixed_cases,
    );
    assert_eq!(a.denominator, c.ms_tr);
    assert_close(a.f.unwrap(), b.f.unwrap(), 1e-15, "F");
    assert_close(a.df2.unwrap(), b.df2.unwrap(), 1e-15, "df2");
    for w in &r.warnings {
        assert!(!w.message_en.is_empty() && !w.message_ja.is_empty());
    }
    let r = generated("negative_reader_variance").analyse(CovarianceMethod::DeLong);
    assert!(r.components.var_r < 0.0);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.code == "reader_variance_negative")
    );
}

#[test]
fn readers_who_agree_give_infinite_degrees_of_freedom() {
    // Two modalities, three readers who give identical ratings within each modality: the
    // AUCs differ between modalities by the same amount for every reader, MS(T×R) = 0,
    // and Hillis' ddf is infinite (a chi-square test).
    let truth: Vec<bool> = (0..12).map(|c| c % 3 == 0).collect();
    let mut scores = Vec::new();
    for modality in 0..2 {
        for _reader in 0..3 {
            scores.extend((0..12).map(|c| ((c * 7 + modality * 5) % 11) as f64));
        }
    }
    let ratings = MrmcRatings {
        modalities: 2,
        readers: 3,
        truth: &truth,
        scores: &scores,
    };
    let r = obuchowski_rockette(&ratings, CovarianceMethod::DeLong, 0.95).unwrap();
    assert_eq!(r.components.ms_tr, 0.0);
    assert!(r.components.ms_t > 0.0 && r.components.cov2 > r.components.cov3);
    let a = &r.random_readers_random_cases;
    assert_eq!(a.df2, None);
    let f = a.f.unwrap();
    assert_close(
        a.p_value.unwrap(),
        chi_square_sf(f, 1.0),
        1e-14,
        "chi-square limit",
    );
    assert!(a.modalities.iter().all(|m| m.df.is_none()));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.code == "no_reader_modality_interaction")
    );
    // Fixed cases: F = MS(T)/0 is undefined and says so.
    let b = &r.random_readers_fixed_cases;
    assert_eq!((b.f, b.p_value), (None, None));
    assert!(r.warnings.iter().any(|w| w.code == "zero_denominator"));
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["random_readers_random_cases"]["df2"].is_null());
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let truth = [true, true, false, false];
    let scores = [1.0; 16];
    let ok = MrmcRatings {
        modalities: 2,
        readers: 2,
        truth: &truth,
        scores: &scores,
    };
    assert!(obuchowski_rockette(&ok, CovarianceMethod::DeLong, 0.95).is_ok());
    let run = |r: MrmcRatings<'_>| obuchowski_rockette(&r, CovarianceMethod::Jackknife, 0.95);
    assert!(matches!(
        run(MrmcRatings {
            readers: 1,
            scores: &scores[..8],
            ..ok
        }),
        Err(StatsError::InvalidArgument(_))
    ));
    assert!(matches!(
        run(MrmcRatings {
            scores: &scores[..15],
            ..ok
        }),
        Err(StatsError::LengthMismatch { .. })
    ));
    let mut nan = scores;
    nan[9] = f64::NAN;
    assert!(matches!(
        run(MrmcRatings { scores: &nan, ..ok }),
        Err(StatsError::NonFinite { index: 9, .. })
    ));
    let one_positive = [true, false, false, false];
    assert!(matches!(
        run(MrmcRatings {
            truth: &one_positive,
            ..ok
        }),
        Err(StatsError::InvalidArgument(_))
    ));
    assert!(matches!(
        obuchowski_rockette(&ok, CovarianceMethod::DeLong, 95.0),
        Err(StatsError::InvalidLevel(_))
    ));
    assert!("bootstrap".parse::<CovarianceMethod>().is_err());
    assert_eq!(
        "DeLong".parse::<CovarianceMethod>(),
        Ok(CovarianceMethod::DeLong)
    );
}

#[test]
fn f_t_and_chi_square_match_r() {
    for c in &cases("distributions_r.json") {
        let args = numbers(&c["args"]);
        let expected = f(&c["value"]);
        let (actual, rel) = match c["fn"].as_str().unwrap() {
            "f_sf" => (f_sf(args[0], args[1], args[2]), 1e-11),
            "student_t_sf" => (student_t_sf(args[0], args[1]), 1e-11),
            "student_t_quantile" => (student_t_quantile(args[0], args[1]), 1e-10),
            "chi_square_sf" => (chi_square_sf(args[0], args[1]), 1e-11),
            // R's noncentral beta (AS 226) stops at an absolute error of 1e-9; mpmath agrees
            // with kizon to 1e-15 on the first case (0.7294075853882339).
            "noncentral_f_sf" => (noncentral_f_sf(args[0], args[1], args[2], args[3]), 5e-9),
            "noncentral_chi_square_sf" => {
                (noncentral_chi_square_sf(args[0], args[1], args[2]), 1e-10)
            }
            "f_upper_quantile" => (f_upper_quantile(args[0], args[1], args[2]), 1e-10),
            other => panic!("unknown function {other}"),
        };
        assert_close(actual, expected, rel, &format!("{}{:?}", c["fn"], args));
    }
}

/// Hillis, Obuchowski & Berbaum (2011) power from the Van Dyke pilot (jackknife OR
/// components, 114 cases, observed difference −0.0438), against the expected values of
/// RJafroc's tests (`tests/testthat/test-SsSampleSizeRoc.R`: `SsPowerGivenJK(dataset02,
/// FOM = "Wilcoxon", method = "OR", ...)` and `SsSampleSizeKGivenJ(dataset02, J = 6)`).
#[test]
fn van_dyke_pilot_power_and_cases_match_rjafroc() {
    let r = van_dyke().analyse(CovarianceMethod::Jackknife);
    let pilot = OrPilot::from_components(&r.components, 114);
    let effect = r.random_readers_random_cases.differences[0]
        .difference
        .estimate;
    assert!((effect + 0.043800322).abs() < 5e-10);
    let power = |readers, cases| mrmc_power(&pilot, readers, cases, effect, 0.05).unwrap();
    // RJafroc's tolerances: 1e-8 on values given to 8 decimals, 5e-8 on 7.
    let close = |x: Option<f64>, y: f64, what: &str| {
        let x = x.unwrap();
        let tol = if what.contains("K=111") { 5e-8 } else { 2e-8 };
        assert!((x - y).abs() < tol, "{what}: {x} vs {y}");
    };
    close(
        power(10, 165).random_readers_random_cases.power,
        0.80541995,
        "RRRC J=10 K=165",
    );
    close(
        power(10, 131).fixed_readers_random_cases.power,
        0.80091813,
        "FRRC J=10 K=131",
    );
    close(
        power(10, 53).random_readers_fixed_cases.power,
        0.80496663,
        "RRFC J=10 K=53",
    );
    let p = power(6, 111);
    close(
        p.random_readers_random_cases.power,
        0.5526116,
        "RRRC J=6 K=111",
    );
    assert!(!p.var_tr_clipped);
    let cases = mrmc_cases(&pilot, 6, effect, 0.05, 0.8, 2000).unwrap();
    assert_eq!(cases.random_readers_random_cases.unwrap().cases, 251);
    // No effect: the power is the level.
    let p = mrmc_power(&pilot, 6, 111, 0.0, 0.05).unwrap();
    close(p.random_readers_random_cases.power, 0.05, "null power");
    assert!(mrmc_power(&pilot, 1, 100, effect, 0.05).is_err());
    assert!(mrmc_power(&pilot, 5, 100, effect, 1.5).is_err());
}
