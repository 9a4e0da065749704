//! ROC curve, AUC and DeLong against pROC and scikit-learn, and the fast DeLong against
//! a naive O(n²) implementation.
mod common;

use common::{SplitMix, assert_close, cases, data_set, f, scored};
use kizon_stats::{StatsError, auc_delong, delong_test, roc_curve};

fn load(data: &str, score: &str) -> (Vec<bool>, Vec<f64>) {
    let (file, truth_col, positive) = data_set(data);
    scored(file, truth_col, positive, score)
}

#[test]
fn delong_ci_matches_proc_on_asah_breast_cancer_and_tied_ratings() {
    let cases = cases("delong_proc.json");
    assert_eq!(cases.len(), 14);
    for c in &cases {
        let (data, score) = (c["data"].as_str().unwrap(), c["score"].as_str().unwrap());
        let (truth, scores) = load(data, score);
        let r = auc_delong(&scores, &truth, f(&c["level"])).unwrap();
        let what = format!("{data}/{score} at {}", c["level"]);
        assert_close(r.auc.estimate, f(&c["auc"]), 1e-12, &what);
        assert_close(r.se, f(&c["se"]), 1e-9, &format!("{what} se"));
        assert_close(r.auc.lower, f(&c["lower"]), 1e-9, &format!("{what} lower"));
        assert_close(r.auc.upper, f(&c["upper"]), 1e-9, &format!("{what} upper"));
    }
}

#[test]
fn delong_ci_matches_proc_on_asah_s100b() {
    // The example of the pROC paper (Robin et al. 2011): AUC 0.7314, 95% CI 0.6301–0.8326.
    let (truth, scores) = load("aSAH", "s100b");
    let r = auc_delong(&scores, &truth, 0.95).unwrap();
    assert_eq!((r.positives, r.negatives), (41, 72));
    assert!((r.auc.estimate - 0.7314).abs() < 5e-5, "{r:?}");
    assert!(
        (r.auc.lower - 0.6301).abs() < 5e-5 && (r.auc.upper - 0.8326).abs() < 5e-5,
        "{r:?}"
    );
}

#[test]
fn paired_delong_test_matches_proc_roc_test() {
    let cases = cases("delong_test_proc.json");
    assert_eq!(cases.len(), 5);
    for c in &cases {
        let data = c["data"].as_str().unwrap();
        let (truth, s1) = load(data, c["score1"].as_str().unwrap());
        let (_, s2) = load(data, c["score2"].as_str().unwrap());
        let t = delong_test(&s1, &s2, &truth, 0.95).unwrap();
        let what = format!("{data} {} vs {}", c["score1"], c["score2"]);
        assert_close(t.auc1, f(&c["auc1"]), 1e-12, &what);
        assert_close(t.auc2, f(&c["auc2"]), 1e-12, &what);
        assert_close(t.z.unwrap(), f(&c["z"]), 1e-9, &format!("{what} z"));
        assert_close(
            t.p_value.unwrap(),
            f(&c["p_value"]),
            1e-9,
            &format!("{what} p"),
        );
        assert_close(
            t.difference.lower,
            f(&c["lower"]),
            1e-9,
            &format!("{what} lower"),
        );
        assert_close(
            t.difference.upper,
            f(&c["upper"]),
            1e-9,
            &format!("{what} upper"),
        );
    }
}

#[test]
fn auc_and_curve_match_scikit_learn() {
    for c in &cases("roc_sklearn.json") {
        let (data, score) = (c["data"].as_str().unwrap(), c["score"].as_str().unwrap());
        let (truth, scores) = load(data, score);
        let what = format!("{data}/{score}");
        assert_close(
            auc_delong(&scores, &truth, 0.95).unwrap().auc.estimate,
            f(&c["auc"]),
            1e-12,
            &what,
        );
        let curve = roc_curve(&scores, &truth).unwrap();
        let expected_thresholds = c["thresholds"].as_array().unwrap();
        assert_eq!(curve.thresholds.len(), expected_thresholds.len(), "{what}");
        assert!(curve.thresholds[0].is_infinite() && expected_thresholds[0].is_null());
        for (i, t) in expected_thresholds.iter().enumerate().skip(1) {
            assert_eq!(curve.thresholds[i], f(t), "{what} threshold {i}");
            assert_close(curve.fpr[i], f(&c["fpr"][i]), 1e-15, &what);
            assert_close(curve.tpr[i], f(&c["tpr"][i]), 1e-15, &what);
        }
    }
}

/// DeLong by definition: O(m·n) pairwise placements, f64 sums.
fn naive_delong(scores: &[f64], truth: &[bool]) -> (f64, f64) {
    let pos: Vec<f64> = scores
        .iter()
        .zip(truth)
        .filter(|p| *p.1)
        .map(|p| *p.0)
        .collect();
    let neg: Vec<f64> = scores
        .iter()
        .zip(truth)
        .filter(|p| !*p.1)
        .map(|p| *p.0)
        .collect();
    let psi = |x: f64, y: f64| {
        if x > y {
            1.0
        } else if x == y {
            0.5
        } else {
            0.0
        }
    };
    let (m, n) = (pos.len() as f64, neg.len() as f64);
    let v10: Vec<f64> = pos
        .iter()
        .map(|&x| neg.iter().map(|&y| psi(x, y)).sum::<f64>() / n)
        .collect();
    let v01: Vec<f64> = neg
        .iter()
        .map(|&y| pos.iter().map(|&x| psi(x, y)).sum::<f64>() / m)
        .collect();
    let auc = v10.iter().sum::<f64>() / m;
    let s10 = v10.iter().map(|v| (v - auc).powi(2)).sum::<f64>() / (m - 1.0);
    let s01 = v01.iter().map(|v| (v - auc).powi(2)).sum::<f64>() / (n - 1.0);
    (auc, (s10 / m + s01 / n).sqrt())
}

#[test]
fn fast_delong_equals_naive_on_random_tied_data() {
    let mut rng = SplitMix(42);
    for trial in 0..300 {
        let n = 4 + rng.below(120) as usize;
        let levels = 1 + rng.below(12); // few distinct values: many ties
        let mut truth: Vec<bool> = (0..n).map(|_| rng.below(3) == 0).collect();
        truth[0] = true;
        truth[1] = true;
        truth[2] = false;
        truth[3] = false;
        let scores: Vec<f64> = truth
            .iter()
            .map(|&t| (rng.below(levels) + if t { rng.below(3) } else { 0 }) as f64 - 3.0)
            .collect();
        let fast = auc_delong(&scores, &truth, 0.95).unwrap();
        let (auc, se) = naive_delong(&scores, &truth);
        assert_close(fast.auc.estimate, auc, 1e-12, &format!("trial {trial} auc"));
        assert!(
            (fast.se - se).abs() <= 1e-12 + 1e-10 * se,
            "trial {trial}: se {} vs {se}",
            fast.se
        );
    }
}

#[test]
fn paired_test_variance_of_each_auc_equals_the_single_delong() {
    let (truth, s1) = load("tied_ratings", "reader1");
    let (_, s2) = load("tied_ratings", "reader2");
    let t = delong_test(&s1, &s1, &truth, 0.95).unwrap();
    assert_eq!(
        (t.se, t.z, t.p_value),
        (0.0, Some(0.0), Some(1.0)),
        "a test against itself"
    );
    let t = delong_test(&s1, &s2, &truth, 0.95).unwrap();
    let (a1, a2) = (
        auc_delong(&s1, &truth, 0.95).unwrap(),
        auc_delong(&s2, &truth, 0.95).unwrap(),
    );
    assert_close(t.auc1, a1.auc.estimate, 1e-15, "auc1");
    // Var(A − B) ≤ (se_A + se_B)² for any correlation.
    assert!(t.se > 0.0 && t.se <= a1.se + a2.se);
}

#[test]
fn negative_zero_and_zero_are_one_tie() {
    let truth = [true, false, true, false];
    let r = auc_delong(&[0.0, -0.0, 1.0, -1.0], &truth, 0.95).unwrap();
    // pairs: (0 vs -0) tie ½, (0 vs -1) 1, (1 vs -0) 1, (1 vs -1) 1 → 3.5/4
    assert_eq!(r.auc.estimate, 0.875);
}

#[test]
fn bad_roc_input_is_an_error() {
    assert_eq!(
        auc_delong(&[1.0, 2.0], &[true, true], 0.95).unwrap_err(),
        StatsError::MissingClass("negative")
    );
    assert_eq!(
        auc_delong(&[1.0, 2.0], &[false, false], 0.95).unwrap_err(),
        StatsError::MissingClass("positive")
    );
    assert!(matches!(
        auc_delong(&[1.0, f64::NAN], &[true, false], 0.95),
        Err(StatsError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        auc_delong(&[1.0], &[true, false], 0.95),
        Err(StatsError::LengthMismatch { .. })
    ));
    assert!(matches!(
        auc_delong(&[1.0, 2.0, 3.0], &[true, false, false], 0.95),
        Err(StatsError::InvalidArgument(_))
    ));
    assert!(matches!(
        delong_test(&[1.0; 4], &[1.0; 3], &[true, true, false, false], 0.95),
        Err(StatsError::LengthMismatch { .. })
    ));
}

#[test]
fn perfect_separation_has_auc_one_and_a_defined_interval() {
    let truth = [true, true, true, false, false, false];
    let r = auc_delong(&[4.0, 5.0, 6.0, 1.0, 2.0, 3.0], &truth, 0.95).unwrap();
    assert_eq!(
        (r.auc.estimate, r.auc.lower, r.auc.upper, r.se),
        (1.0, 1.0, 1.0, 0.0)
    );
}

#[test]
fn stable_at_ten_million_binormal_scores() {
    // 30% positives, score ~ N(truth, 1): AUC = Φ(1/√2) = 0.760249938906...
    let n = 10_000_000;
    let mut rng = SplitMix(20261125);
    let truth: Vec<bool> = (0..n).map(|_| rng.uniform() < 0.3).collect();
    let scores: Vec<f64> = truth
        .iter()
        .map(|&t| rng.normal() + if t { 1.0 } else { 0.0 })
        .collect();
    let r = auc_delong(&scores, &truth, 0.95).unwrap();
    let expected = 0.760_249_938_906_0;
    // DeLong SE at this size is about 1.7e-4; the estimate must sit within 5 SE.
    assert!(r.se > 1e-4 && r.se < 3e-4, "se {}", r.se);
    assert!((r.auc.estimate - expected).abs() < 5.0 * r.se, "{r:?}");
    assert!(
        r.auc.lower < r.auc.estimate && r.auc.estimate < r.auc.upper,
        "degenerate interval {r:?}"
    );
    assert_close(
        r.auc.upper - r.auc.lower,
        2.0 * 1.959_963_984_540_054 * r.se,
        1e-12,
        "width",
    );
}

#[test]
fn logit_interval_stays_inside_the_unit_interval_near_one() {
    // 20 positives, 20 negatives, one negative above one positive: AUC 399/400.
    let mut scores: Vec<f64> = (0..20).map(|i| 100.0 + i as f64).collect();
    scores.extend((0..20).map(|i| i as f64));
    scores[20] = 100.5;
    let truth: Vec<bool> = (0..40).map(|i| i < 20).collect();
    let r = auc_delong(&scores, &truth, 0.95).unwrap();
    assert_eq!(r.auc.estimate, 0.9975);
    let logit = r.logit.unwrap();
    assert!(logit.lower < r.auc.estimate && r.auc.estimate < logit.upper && logit.upper < 1.0);
    // Asymmetric: more room below the estimate than above.
    assert!(r.auc.estimate - logit.lower > logit.upper - r.auc.estimate);
    let perfect = auc_delong(&[2.0, 3.0, 0.0, 1.0], &[true, true, false, false], 0.95).unwrap();
    assert_eq!(perfect.logit, None);
}
