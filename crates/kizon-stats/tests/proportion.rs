//! Proportion intervals against statsmodels `proportion_confint`.
mod common;

use common::{assert_close, cases, f, u};
use kizon_stats::{ProportionCi, StatsError, proportion_ci};

#[test]
fn all_four_methods_match_statsmodels_across_levels_and_edges() {
    let cases = cases("proportion_ci_statsmodels.json");
    assert_eq!(cases.len(), 320);
    for c in &cases {
        let (x, n, level) = (u(&c["x"]), u(&c["n"]), f(&c["level"]));
        let method: ProportionCi = c["method"].as_str().unwrap().parse().unwrap();
        let got = proportion_ci(x, n, method, level).unwrap().unwrap();
        let what = format!("{method} x={x} n={n} level={level}");
        assert_close(got.estimate, f(&c["estimate"]), 1e-12, &what);
        // statsmodels' Jeffreys has no boundary rule: compare only the side it defines.
        let jeffreys = method == ProportionCi::Jeffreys;
        if !(jeffreys && x == 0) {
            assert_close(got.lower, f(&c["lower"]), 1e-9, &format!("{what} lower"));
        }
        if !(jeffreys && x == n) {
            assert_close(got.upper, f(&c["upper"]), 1e-9, &format!("{what} upper"));
        }
    }
}

#[test]
fn jeffreys_uses_brown_cai_dasgupta_boundary_rule() {
    let zero = proportion_ci(0, 25, ProportionCi::Jeffreys, 0.95)
        .unwrap()
        .unwrap();
    assert_eq!(zero.lower, 0.0);
    let all = proportion_ci(25, 25, ProportionCi::Jeffreys, 0.95)
        .unwrap()
        .unwrap();
    assert_eq!(all.upper, 1.0);
    assert!(all.lower > 0.85 && all.lower < 1.0);
}

#[test]
fn zero_and_full_proportions_have_exact_bounds_for_every_method() {
    for method in ProportionCi::ALL {
        let zero = proportion_ci(0, 40, method, 0.95).unwrap().unwrap();
        assert_eq!((zero.estimate, zero.lower), (0.0, 0.0), "{method}");
        assert!(zero.upper > 0.0 && zero.upper < 0.15, "{method}: {zero:?}");
        let full = proportion_ci(40, 40, method, 0.95).unwrap().unwrap();
        assert_eq!((full.estimate, full.upper), (1.0, 1.0), "{method}");
        assert!(full.lower > 0.85 && full.lower < 1.0, "{method}: {full:?}");
    }
}

#[test]
fn empty_denominator_is_not_estimable() {
    assert_eq!(
        proportion_ci(0, 0, ProportionCi::Wilson, 0.95).unwrap(),
        None
    );
}

#[test]
fn invalid_inputs_are_errors_not_panics() {
    assert_eq!(
        proportion_ci(1, 10, ProportionCi::Wilson, 95.0),
        Err(StatsError::InvalidLevel(95.0))
    );
    assert!(matches!(
        proportion_ci(1, 10, ProportionCi::Wilson, f64::NAN),
        Err(StatsError::InvalidLevel(_))
    ));
    assert!(matches!(
        proportion_ci(11, 10, ProportionCi::ClopperPearson, 0.95),
        Err(StatsError::CountExceedsTotal {
            count: 11,
            total: 10,
            ..
        })
    ));
}

#[test]
fn method_names_parse_and_serialise_in_kebab_case() {
    for method in ProportionCi::ALL {
        assert_eq!(method.name().parse::<ProportionCi>().unwrap(), method);
        assert_eq!(serde_json::to_value(method).unwrap(), method.name());
    }
    assert_eq!(
        "Clopper_Pearson".parse::<ProportionCi>().unwrap(),
        ProportionCi::ClopperPearson
    );
    let err = "wald".parse::<ProportionCi>().unwrap_err();
    assert!(err.to_string().contains("wilson, clopper-pearson"), "{err}");
}
