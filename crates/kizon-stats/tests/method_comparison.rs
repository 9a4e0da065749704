//! Method comparison against R's mcr 1.3.3.1 (Passing–Bablok, Deming, weighted Deming, OLS)
//! and the published Bland–Altman formulas in R: `tests/fixtures/method_comparison_mcr.json`,
//! made by `tools/oracle/method_comparison.R`.

mod common;

use common::*;
use kizon_stats::method_comparison::{
    Regression, bland_altman, deming, ols, passing_bablok, weighted_deming,
};
use serde_json::Value;

const REL: f64 = 1e-9;

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f).collect()
}

#[track_caller]
fn assert_pair(actual: Option<[f64; 2]>, expected: &Value, what: &str) {
    match (actual, expected) {
        (None, Value::Null) => {}
        (Some([a, b]), Value::Array(e)) => {
            assert_close(a, f(&e[0]), REL, &format!("{what} lower"));
            assert_close(b, f(&e[1]), REL, &format!("{what} upper"));
        }
        _ => panic!("{what}: got {actual:?}, expected {expected}"),
    }
}

#[track_caller]
fn assert_regression(actual: &Regression, expected: &Value, what: &str) {
    assert_close(
        actual.slope,
        f(&expected["slope"]),
        REL,
        &format!("{what} slope"),
    );
    assert_close(
        actual.intercept,
        f(&expected["intercept"]),
        REL,
        &format!("{what} intercept"),
    );
    assert_pair(
        actual.slope_ci,
        &expected["slope_ci"],
        &format!("{what} slope CI"),
    );
    assert_pair(
        actual.intercept_ci,
        &expected["intercept_ci"],
        &format!("{what} intercept CI"),
    );
    if let Some(se) = expected["slope_se"].as_f64() {
        assert_close(
            actual.slope_se.unwrap(),
            se,
            REL,
            &format!("{what} slope SE"),
        );
        let intercept_se = f(&expected["intercept_se"]);
        assert_close(
            actual.intercept_se.unwrap(),
            intercept_se,
            REL,
            &format!("{what} intercept SE"),
        );
    }
}

#[test]
fn regressions_agree_with_mcr() {
    let cases = cases("method_comparison_mcr.json");
    assert_eq!(cases.len(), 10);
    for case in &cases {
        let (x, y) = (numbers(&case["x"]), numbers(&case["y"]));
        let level = f(&case["level"]);
        let name = format!("{} at {level}", case["name"].as_str().unwrap());
        let pb = passing_bablok(&x, &y, level).unwrap();
        assert_regression(
            &pb,
            &case["passing_bablok"],
            &format!("{name} Passing–Bablok"),
        );
        let cusum = pb.cusum.as_ref().unwrap();
        let expected = &case["passing_bablok"]["cusum"];
        assert_eq!(
            (cusum.above as u64, cusum.below as u64),
            (u(&expected["above"]), u(&expected["below"])),
            "{name}"
        );
        assert_close(
            cusum.max_cusum,
            f(&expected["max_cusum"]),
            REL,
            &format!("{name} cusum"),
        );
        assert_regression(
            &ols(&x, &y, level).unwrap(),
            &case["ols"],
            &format!("{name} OLS"),
        );
        assert_regression(
            &deming(&x, &y, 1.0, level).unwrap(),
            &case["deming"],
            &format!("{name} Deming"),
        );
        assert_regression(
            &deming(&x, &y, 2.0, level).unwrap(),
            &case["deming_ratio_2"],
            &format!("{name} Deming, error ratio 2"),
        );
        if !case["weighted_deming"].is_null() {
            assert_regression(
                &weighted_deming(&x, &y, 1.0, level).unwrap(),
                &case["weighted_deming"],
                &format!("{name} weighted Deming"),
            );
        }
    }
}

#[test]
fn bland_altman_agrees_with_the_published_formulas() {
    for case in cases("method_comparison_mcr.json") {
        let (x, y) = (numbers(&case["x"]), numbers(&case["y"]));
        let level = f(&case["level"]);
        let name = case["name"].as_str().unwrap().to_owned();
        let ba = bland_altman(&x, &y, level).unwrap();
        let expected = &case["bland_altman"];
        let check = |actual: &kizon_stats::method_comparison::Agreement, e: &Value, what: &str| {
            assert_close(
                actual.bias,
                f(&e["bias"]),
                REL,
                &format!("{name} {what} bias"),
            );
            assert_close(actual.sd, f(&e["sd"]), REL, &format!("{name} {what} sd"));
            for (key, pair) in [
                ("bias_ci", actual.bias_ci),
                ("loa", actual.loa),
                ("loa_lower_ci", actual.loa_lower_ci),
                ("loa_upper_ci", actual.loa_upper_ci),
            ] {
                assert_pair(Some(pair), &e[key], &format!("{name} {what} {key}"));
            }
        };
        check(&ba.absolute, expected, "absolute");
        match (&ba.relative, expected.get("relative")) {
            (Some(actual), Some(e)) => check(actual, e, "relative"),
            (None, None) => {}
            other => panic!("{name}: relative differences {other:?}"),
        }
    }
}

/// The limits of agreement use the exact normal quantile, not 1.96.
#[test]
fn limits_of_agreement_use_the_exact_normal_quantile() {
    let x = [10.0, 12.0, 14.0, 16.0, 18.0];
    let y = [11.0, 12.5, 13.0, 17.0, 18.5];
    let ba = bland_altman(&x, &y, 0.95).unwrap();
    let z = (ba.absolute.loa[1] - ba.absolute.bias) / ba.absolute.sd;
    assert!((z - 1.959_963_984_540_054).abs() < 1e-12, "{z}");
}

#[test]
fn bad_input_is_refused() {
    assert!(deming(&[1.0, 2.0], &[1.0, 2.0], 1.0, 0.95).is_err());
    assert!(deming(&[1.0, 2.0, 3.0], &[1.0, 2.0], 1.0, 0.95).is_err());
    assert!(deming(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.5], 0.0, 0.95).is_err());
    assert!(deming(&[1.0, 2.0, f64::NAN], &[1.0, 2.0, 3.5], 1.0, 0.95).is_err());
    assert!(weighted_deming(&[1.0, -2.0, 3.0], &[1.0, 2.0, 3.5], 1.0, 0.95).is_err());
    assert!(passing_bablok(&[1.0, 1.0, 1.0], &[2.0, 2.0, 2.0], 0.95).is_err());
    assert!(ols(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.5], 95.0).is_err());
    // No variation, or none once a specimen is left out: an error, never NaN or infinity.
    let constant = [5.0, 5.0, 5.0, 5.0];
    let varied = [1.0, 2.0, 3.0, 4.5];
    assert!(ols(&constant, &varied, 0.95).is_err());
    assert!(deming(&constant, &varied, 1.0, 0.95).is_err());
    assert!(deming(&[1.0, 2.0, 3.0], &[1.0, 2.0, 2.0], 1.0, 0.95).is_err());
    assert!(passing_bablok(&constant, &varied, 0.95).is_err());
    let fit = ols(&[1.0, 2.0, 3.0, 4.0], &[1.1, 2.0, 3.2, 3.9], 0.95).unwrap();
    assert!(fit.bias_at(&[f64::NAN]).is_err());
}

/// Large values keep their precision (centred sums), three pairs give no correlation
/// interval, and −0 is the same value as +0 for Kendall's sign.
#[test]
fn edge_cases_give_numbers_or_none_never_nan() {
    use kizon_stats::method_comparison::correlation;
    let x = [1e8, 1e8 + 1.0, 1e8 + 2.0, 1e8 + 3.0];
    let y = [1e8 + 0.1, 1e8 + 1.0, 1e8 + 2.2, 1e8 + 2.9];
    let fit = ols(&x, &y, 0.95).unwrap();
    // Σ(x − x̄)(y − ȳ)/Σ(x − x̄)² = 4.8/5 on the offsets.
    assert!((fit.slope - 0.96).abs() < 1e-6, "{}", fit.slope);
    assert!(fit.slope_se.unwrap().is_finite());
    let three = correlation(&[1.0, 2.0, 3.0], &[1.0, 2.5, 2.9], 0.95);
    assert_eq!((three.pearson, three.ccc), (None, None));
    let perfect = correlation(&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, 3.0, 4.0], 0.95);
    assert_eq!(perfect.ccc.unwrap().lower, 1.0);
    let zero = correlation(&[1.0, 2.0, 3.0, 4.0], &[2.0, 1.0, 1.0, 2.0], 0.95);
    assert!(zero.ccc.is_none() || zero.ccc.unwrap().lower.is_finite());
    // −0 and +0: a tie, not a discordant pair, so the fit is the same either way.
    let with_negative_zero = passing_bablok(&[-0.0, 0.0, 1.0, 2.0], &[5.0, 1.0, 2.0, 3.0], 0.95);
    let with_zeros = passing_bablok(&[0.0, 0.0, 1.0, 2.0], &[5.0, 1.0, 2.0, 3.0], 0.95);
    assert_eq!(
        with_negative_zero.ok().map(|f| f.slope),
        with_zeros.ok().map(|f| f.slope)
    );
}

/// Integer results give hundreds of thousands of pairs with a slope of exactly 1: the
/// selection answers them without listing them, and still as listing every slope does.
#[test]
fn many_exactly_equal_slopes_are_selected_without_listing_them() {
    use kizon_stats::method_comparison::{SlopeAlgorithm, passing_bablok_with};
    let mut state = 0x0DDB_1A5E_5BADu64;
    let mut next = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below) as f64
    };
    let x: Vec<f64> = (0..3000).map(|_| 50.0 + next(350)).collect();
    let y: Vec<f64> = x.iter().map(|v| v + next(5) - 2.0).collect();
    let listed = passing_bablok_with(&x, &y, 0.95, SlopeAlgorithm::ListAll).unwrap();
    let selected = passing_bablok_with(&x, &y, 0.95, SlopeAlgorithm::Select).unwrap();
    assert_eq!(listed, selected);
    assert_eq!(listed.slope, 1f64.atan().tan()); // mcr's slope of 1: tan(atan(1))
}

/// Data for the two slope algorithms: `n` points, rounded to `digits` (few digits: many equal
/// slopes, vertical pairs and identical points), rising or falling.
fn generated(n: usize, digits: i32, seed: u64, falling: bool) -> (Vec<f64>, Vec<f64>) {
    let mut state = seed;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let scale = 10f64.powi(digits);
    let round = |v: f64| (v * scale).round() / scale;
    let mut x = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let truth = 1.0 + 99.0 * uniform();
        let noise = |u: f64| (u - 0.5) * 0.2 * truth;
        x.push(round(truth + noise(uniform())));
        let level = if falling {
            120.0 - truth
        } else {
            0.5 + 1.05 * truth
        };
        y.push(round(level + noise(uniform())));
    }
    (x, y)
}

/// Selecting ranks by counting inversions gives exactly what listing every slope gives.
#[test]
fn slope_selection_equals_listing_every_slope() {
    use kizon_stats::method_comparison::{SlopeAlgorithm, passing_bablok_with};
    let mut sets = Vec::new();
    for (n, digits, falling) in [
        (40, 0, false),
        (157, 1, false),
        (300, 0, false),
        (501, 2, true),
        (900, 0, true),
        (1200, 3, false),
    ] {
        sets.push(generated(n, digits, 0x5EED ^ n as u64, falling));
    }
    for case in cases("method_comparison_mcr.json") {
        sets.push((numbers(&case["x"]), numbers(&case["y"])));
    }
    for (x, y) in &sets {
        for level in [0.95, 0.9] {
            let listed = passing_bablok_with(x, y, level, SlopeAlgorithm::ListAll).unwrap();
            let selected = passing_bablok_with(x, y, level, SlopeAlgorithm::Select).unwrap();
            assert_eq!(listed, selected, "n = {}", x.len());
        }
    }
}

/// The bias at decision points as mcr's `calcBias`: Linnet's jackknife for (weighted) Deming,
/// the analytical interval for OLS, none for analytical Passing–Bablok.
#[test]
fn bias_at_decision_points_agrees_with_mcr() {
    for case in cases("method_comparison_mcr.json") {
        let (x, y) = (numbers(&case["x"]), numbers(&case["y"]));
        let level = f(&case["level"]);
        let name = format!("{} at {level}", case["name"].as_str().unwrap());
        let mut fits = vec![
            ("passing_bablok", passing_bablok(&x, &y, level).unwrap()),
            ("ols", ols(&x, &y, level).unwrap()),
            ("deming", deming(&x, &y, 1.0, level).unwrap()),
        ];
        if !case["weighted_deming"].is_null() {
            fits.push((
                "weighted_deming",
                weighted_deming(&x, &y, 1.0, level).unwrap(),
            ));
        }
        for (key, fit) in fits {
            let expected = case[key]["bias_at"].as_array().unwrap();
            let levels: Vec<f64> = expected.iter().map(|b| f(&b["level"])).collect();
            let got = fit.bias_at(&levels).unwrap();
            for (g, e) in got.iter().zip(expected) {
                let what = format!("{name} {key} at {}", g.level);
                assert_close(g.bias, f(&e["bias"]), REL, &what);
                let expected_ci = match &e["bias_ci"] {
                    Value::Array(_) => e["bias_ci"].clone(),
                    _ => Value::Null,
                };
                assert_pair(g.bias_ci, &expected_ci, &what);
            }
        }
    }
}

/// Pearson's r and its Fisher interval as `cor.test`, Spearman's rho as `cor`, Lin's CCC and
/// its z-transformed interval as epiR's `epi.ccc`.
#[test]
fn correlations_agree_with_r_and_epir() {
    use kizon_stats::method_comparison::correlation;
    for case in cases("method_comparison_mcr.json") {
        let (x, y) = (numbers(&case["x"]), numbers(&case["y"]));
        let level = f(&case["level"]);
        let name = case["name"].as_str().unwrap().to_owned();
        let got = correlation(&x, &y, level);
        let expected = &case["correlation"];
        assert_estimate(
            &got.pearson.unwrap(),
            &expected["pearson"],
            REL,
            &format!("{name} Pearson"),
        );
        assert_close(
            got.spearman.unwrap(),
            f(&expected["spearman"]),
            REL,
            &format!("{name} Spearman"),
        );
        assert_estimate(
            &got.ccc.unwrap(),
            &expected["ccc"],
            REL,
            &format!("{name} CCC"),
        );
    }
}
