//! Binary 2×2 accuracy against epiR `epi.tests` and the MOVER Youden interval.
mod common;

use common::{assert_close, assert_estimate, cases, f, u};
use kizon_stats::{ProportionCi, StatsError, TwoByTwo, binary_accuracy};

fn table(c: &serde_json::Value) -> TwoByTwo {
    TwoByTwo::new(u(&c["tp"]), u(&c["fp"]), u(&c["fn"]), u(&c["tn"]))
}

#[test]
fn binary_accuracy_matches_epir_epi_tests_for_all_methods() {
    let cases = cases("binary_epir.json");
    assert_eq!(cases.len(), 16);
    for c in &cases {
        let method: ProportionCi = c["method"].as_str().unwrap().parse().unwrap();
        let r = binary_accuracy(&table(c), method, f(&c["level"])).unwrap();
        let what = format!("{:?} {method}", table(c));
        for (key, got) in [
            ("sensitivity", r.sensitivity),
            ("specificity", r.specificity),
            ("ppv", r.ppv),
            ("npv", r.npv),
            ("accuracy", r.accuracy),
            ("prevalence", r.prevalence),
            ("lr_positive", r.lr_positive),
            ("lr_negative", r.lr_negative),
            ("dor", r.dor),
        ] {
            let got = got.unwrap();
            if method == ProportionCi::AgrestiCoull && key != "dor" {
                // epiR reports the Agresti–Coull centre (x + z²/2)/(n + z²) as the
                // estimate, and feeds it into its LR intervals; kizon reports x/n and
                // its LR intervals do not depend on the proportion method (they are
                // checked on the other methods). The proportion bounds are the same once
                // clipped to [0, 1], which epiR does not do.
                if key.starts_with("lr") {
                    continue;
                }
                assert_close(
                    got.lower,
                    f(&c[key][1]).max(0.0),
                    1e-9,
                    &format!("{what} {key} lower"),
                );
                assert_close(
                    got.upper,
                    f(&c[key][2]).min(1.0),
                    1e-9,
                    &format!("{what} {key} upper"),
                );
            } else {
                assert_estimate(&got, &c[key], 1e-9, &format!("{what} {key}"));
            }
        }
    }
}

#[test]
fn epir_manual_example_reads_as_published() {
    // epiR manual, epi.tests: 670 / 202 / 74 / 640 → Se 0.90 (0.88–0.92), Sp 0.76 (0.73–0.79).
    let r = binary_accuracy(
        &TwoByTwo::new(670, 202, 74, 640),
        ProportionCi::ClopperPearson,
        0.95,
    )
    .unwrap();
    let se = r.sensitivity.unwrap();
    assert_eq!(
        (
            format!("{:.2}", se.estimate),
            format!("{:.2}", se.lower),
            format!("{:.2}", se.upper)
        ),
        ("0.90".into(), "0.88".into(), "0.92".into())
    );
    let sp = r.specificity.unwrap();
    assert_eq!(
        (
            format!("{:.2}", sp.estimate),
            format!("{:.2}", sp.lower),
            format!("{:.2}", sp.upper)
        ),
        ("0.76".into(), "0.73".into(), "0.79".into())
    );
}

#[test]
fn youden_interval_is_mover_on_the_chosen_method() {
    for c in &cases("youden_mover.json") {
        let method: ProportionCi = c["method"].as_str().unwrap().parse().unwrap();
        let r = binary_accuracy(&table(c), method, 0.95).unwrap();
        assert_estimate(
            &r.youden.unwrap(),
            &c["youden"],
            1e-9,
            &format!("{:?} {method}", table(c)),
        );
    }
}

#[test]
fn zero_false_negatives_gives_defined_lr() {
    // FN = 0: LR− would be 0 with an undefined log interval; Haldane–Anscombe adds ½ to
    // every cell: LR− = (0.5/51)/(40.5/45) = 0.010893..., all finite and ordered.
    let r = binary_accuracy(&TwoByTwo::new(50, 4, 0, 40), ProportionCi::Wilson, 0.95).unwrap();
    let lr_neg = r.lr_negative.unwrap();
    assert!(
        (lr_neg.estimate - (0.5 / 51.0) / (40.5 / 45.0)).abs() < 1e-15,
        "{lr_neg:?}"
    );
    assert!(
        lr_neg.lower > 0.0
            && lr_neg.lower < lr_neg.estimate
            && lr_neg.estimate < lr_neg.upper
            && lr_neg.upper.is_finite()
    );
    let lr_pos = r.lr_positive.unwrap();
    assert!(
        (lr_pos.estimate - (50.5 / 51.0) / (4.5 / 45.0)).abs() < 1e-12,
        "{lr_pos:?}"
    );
    let dor = r.dor.unwrap();
    assert!(
        (dor.estimate - 50.5 * 40.5 / (4.5 * 0.5)).abs() < 1e-9,
        "{dor:?}"
    );
    // The proportions stay uncorrected: sensitivity is exactly 1 with upper bound 1.
    let se = r.sensitivity.unwrap();
    assert_eq!((se.estimate, se.upper), (1.0, 1.0));
}

#[test]
fn zero_false_positives_gives_finite_lr_positive() {
    let r = binary_accuracy(&TwoByTwo::new(30, 0, 10, 60), ProportionCi::Wilson, 0.95).unwrap();
    let lr = r.lr_positive.unwrap();
    assert!(
        lr.estimate.is_finite() && lr.upper.is_finite() && lr.lower > 1.0,
        "{lr:?}"
    );
}

#[test]
fn no_diseased_case_leaves_sensitivity_and_ratios_not_estimable() {
    let r = binary_accuracy(&TwoByTwo::new(0, 3, 0, 20), ProportionCi::Wilson, 0.95).unwrap();
    assert_eq!(
        (r.sensitivity, r.lr_positive, r.lr_negative, r.dor, r.youden),
        (None, None, None, None, None)
    );
    assert_eq!(r.ppv.unwrap().estimate, 0.0);
    assert_eq!(r.specificity.unwrap().estimate, 20.0 / 23.0);
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["sensitivity"].is_null());
}

#[test]
fn result_serialises_with_the_documented_keys() {
    let r = binary_accuracy(&TwoByTwo::new(9, 3, 2, 17), ProportionCi::Wilson, 0.95).unwrap();
    let json = serde_json::to_value(&r).unwrap();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "accuracy",
            "dor",
            "lr_negative",
            "lr_positive",
            "npv",
            "ppv",
            "prevalence",
            "sensitivity",
            "specificity",
            "youden"
        ]
    );
    let mut est: Vec<&str> = json["sensitivity"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    est.sort();
    assert_eq!(est, ["estimate", "lower", "upper"]);
    let t: TwoByTwo = serde_json::from_str(r#"{"tp": 1, "fp": 2, "fn": 3, "tn": 4}"#).unwrap();
    assert_eq!(t, TwoByTwo::new(1, 2, 3, 4));
}

#[test]
fn table_from_pairs_counts_each_cell() {
    let t = TwoByTwo::from_pairs(
        &[true, true, false, false, true],
        &[true, false, true, false, true],
    )
    .unwrap();
    assert_eq!(t, TwoByTwo::new(2, 1, 1, 1));
    assert!(matches!(
        TwoByTwo::from_pairs(&[true], &[]),
        Err(StatsError::LengthMismatch { .. })
    ));
    assert!(matches!(
        binary_accuracy(&t, ProportionCi::Wilson, 1.0),
        Err(StatsError::InvalidLevel(_))
    ));
}
