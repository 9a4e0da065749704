//! Protocol sample sizes: exact binomial search against a brute-force Python oracle,
//! AUC sizes against the Obuchowski/Hanley–McNeil formulas and pROC's power.roc.test.
mod common;

use common::{assert_close, cases, f, u};
use kizon_stats::{
    AucVariance, ProportionCi, StatsError, auc_sample_size, proportion_sample_size,
    total_for_fraction,
};

#[test]
fn exact_sample_size_matches_brute_force_binomial_search() {
    let cases = cases("sample_size_exact.json");
    assert_eq!(cases.len(), 6);
    for c in &cases {
        let ci: ProportionCi = c["ci"].as_str().unwrap().parse().unwrap();
        let (p0, p1) = (f(&c["p0"]), f(&c["p1"]));
        let r = proportion_sample_size(p0, p1, f(&c["level"]), f(&c["power"]), ci).unwrap();
        let what = format!("{ci} p0={p0} p1={p1}");
        assert_eq!(r.search_limit, u(&c["search_limit"]), "{what}");
        assert_eq!(r.n, u(&c["n"]), "{what}");
        assert_eq!(r.first_n, u(&c["first_n"]), "{what}");
        assert_eq!(r.critical_successes, u(&c["critical_successes"]), "{what}");
        assert_close(r.power, f(&c["power_at_n"]), 1e-9, &what);
        assert!(r.first_n <= r.n);
    }
}

#[test]
fn saw_tooth_power_is_reported_with_the_stable_rule() {
    // Lower 95% Clopper–Pearson bound above 0.80 when Se = 0.90, 80% power.
    let r = proportion_sample_size(0.8, 0.9, 0.95, 0.8, ProportionCi::ClopperPearson).unwrap();
    let oracle = &cases("sample_size_exact.json")[0];
    assert_eq!(r.n, u(&oracle["n"]));
    let powers: Vec<f64> = oracle["powers"].as_array().unwrap().iter().map(f).collect();
    // The saw-tooth is real: power falls with n somewhere below the reported size...
    assert!(powers.windows(2).any(|w| w[1] < w[0]));
    // ...and from the reported n on it never falls below the target again.
    assert!(powers[r.n as usize - 1..].iter().all(|&p| p >= 0.8));
    assert!(powers[r.n as usize - 2] < 0.8);
    // Total enrolment at 20% prevalence.
    assert_eq!(
        total_for_fraction(r.n, 0.2).unwrap(),
        (r.n as f64 / 0.2).round() as u64
    );
}

#[test]
fn total_enrolment_does_not_round_floating_dust_up() {
    assert_eq!(total_for_fraction(100, 0.2).unwrap(), 500);
    assert_eq!(total_for_fraction(101, 0.2).unwrap(), 505);
    assert_eq!(total_for_fraction(7, 0.3).unwrap(), 24);
    assert!(matches!(
        total_for_fraction(7, 0.0),
        Err(StatsError::InvalidProbability { .. })
    ));
}

#[test]
fn auc_sample_size_matches_the_variance_formulas() {
    let cases = cases("auc_sample_size_formula.json");
    assert_eq!(cases.len(), 15);
    for c in &cases {
        let model = match c["model"].as_str().unwrap() {
            "binormal" => AucVariance::Binormal { b: f(&c["b"]) },
            _ => AucVariance::HanleyMcNeil,
        };
        let r = auc_sample_size(
            f(&c["auc0"]),
            f(&c["auc1"]),
            f(&c["alpha"]),
            f(&c["power"]),
            f(&c["ratio"]),
            model,
        )
        .unwrap();
        let what = format!("{model:?} {c}");
        assert_eq!(r.diseased, u(&c["diseased"]), "{what}");
        assert_eq!(r.non_diseased, u(&c["non_diseased"]), "{what}");
        assert_eq!(r.total, r.diseased + r.non_diseased);
        assert_close(r.power, f(&c["achieved_power"]), 1e-9, &what);
        assert!(r.power >= f(&c["power"]));
    }
}

#[test]
fn auc_sample_size_agrees_with_proc_power_roc_test() {
    // pROC uses Obuchowski's rounded constants (0.0099, 1.414, 0.0792): within 1.5%.
    for c in &cases("auc_sample_size_proc.json") {
        let r = auc_sample_size(
            0.5,
            f(&c["auc1"]),
            f(&c["alpha"]),
            f(&c["power"]),
            f(&c["ratio"]),
            AucVariance::Binormal { b: 1.0 },
        )
        .unwrap();
        let expected = f(&c["ncases"]).ceil();
        assert!(
            (r.diseased as f64 - expected).abs() <= 1.0 + 0.015 * expected,
            "{} vs pROC {expected}",
            r.diseased
        );
    }
}

#[test]
fn impossible_sample_size_requests_are_errors() {
    assert!(matches!(
        proportion_sample_size(0.9, 0.8, 0.95, 0.8, ProportionCi::Wilson),
        Err(StatsError::InvalidArgument(_))
    ));
    assert!(matches!(
        proportion_sample_size(0.8, 0.9, 0.95, 1.0, ProportionCi::Wilson),
        Err(StatsError::InvalidProbability { .. })
    ));
    assert!(matches!(
        proportion_sample_size(0.8, 0.9, 1.5, 0.8, ProportionCi::Wilson),
        Err(StatsError::InvalidLevel(_))
    ));
    assert!(matches!(
        auc_sample_size(0.8, 0.7, 0.05, 0.8, 1.0, AucVariance::HanleyMcNeil),
        Err(StatsError::InvalidArgument(_))
    ));
    assert!(matches!(
        auc_sample_size(0.6, 0.7, 0.05, 0.8, 0.0, AucVariance::HanleyMcNeil),
        Err(StatsError::InvalidArgument(_))
    ));
    assert!(matches!(
        auc_sample_size(0.6, 0.7, 0.05, 0.8, 1.0, AucVariance::Binormal { b: -1.0 }),
        Err(StatsError::InvalidArgument(_))
    ));
}
