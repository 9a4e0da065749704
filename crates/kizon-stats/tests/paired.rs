//! Paired comparison of two tests: McNemar against statsmodels, Newcombe's paired
//! difference against a re-typed implementation of the paper.
mod common;

use common::{assert_close, assert_estimate, cases, f, u};
use kizon_stats::{PairedTable, mcnemar, paired_accuracy, paired_difference};

fn table(c: &serde_json::Value) -> PairedTable {
    let t = c["table"].as_array().unwrap();
    PairedTable {
        both: u(&t[0]),
        first_only: u(&t[1]),
        second_only: u(&t[2]),
        neither: u(&t[3]),
    }
}

#[test]
fn mcnemar_matches_statsmodels_exact_and_asymptotic() {
    let cases = cases("mcnemar_statsmodels.json");
    assert_eq!(cases.len(), 7);
    for c in &cases {
        let t = table(c);
        let r = mcnemar(&t);
        assert_close(
            r.exact_p_value,
            f(&c["exact_p_value"]),
            1e-9,
            &format!("{t:?} exact"),
        );
        if c.get("chi_square").is_some() {
            assert_close(
                r.chi_square,
                f(&c["chi_square"]),
                1e-12,
                &format!("{t:?} chi2"),
            );
            assert_close(r.p_value, f(&c["p_value"]), 1e-9, &format!("{t:?} p"));
            assert_close(
                r.chi_square_corrected,
                f(&c["chi_square_corrected"]),
                1e-12,
                &format!("{t:?} chi2 cc"),
            );
            assert_close(
                r.p_value_corrected,
                f(&c["p_value_corrected"]),
                1e-9,
                &format!("{t:?} p cc"),
            );
        } else {
            assert_eq!(
                (r.chi_square, r.p_value, r.p_value_corrected),
                (0.0, 1.0, 1.0),
                "no discordant pair"
            );
        }
    }
}

#[test]
fn paired_difference_matches_newcombe_method_10() {
    for c in &cases("newcombe_paired.json") {
        let t = table(c);
        let d = paired_difference(&t, f(&c["level"])).unwrap().unwrap();
        assert_estimate(&d, &c["difference"], 1e-9, &format!("{t:?}"));
    }
}

#[test]
fn paired_difference_of_nothing_is_not_estimable() {
    let empty = PairedTable {
        both: 0,
        first_only: 0,
        second_only: 0,
        neither: 0,
    };
    assert_eq!(paired_difference(&empty, 0.95).unwrap(), None);
}

#[test]
fn paired_accuracy_splits_by_reference_and_counts_correct_calls() {
    // Diseased: test 1 finds 4 of 5, test 2 finds 2 of 5 (both on 2, test 1 only on 2).
    // Healthy: test 1 correct on 3 of 5, test 2 on 5 of 5.
    let reference = [
        true, true, true, true, true, false, false, false, false, false,
    ];
    let first = [
        true, true, true, true, false, true, true, false, false, false,
    ];
    let second = [
        true, true, false, false, false, false, false, false, false, false,
    ];
    let r = paired_accuracy(&first, &second, &reference, 0.95).unwrap();
    assert_close(
        r.sensitivity_difference.unwrap().estimate,
        0.4,
        1e-15,
        "Se1 − Se2",
    );
    assert_close(
        r.specificity_difference.unwrap().estimate,
        -0.4,
        1e-15,
        "Sp1 − Sp2",
    );
    assert_eq!((r.mcnemar_sensitivity.b, r.mcnemar_sensitivity.c), (2, 0));
    assert_eq!((r.mcnemar_specificity.b, r.mcnemar_specificity.c), (0, 2));
    assert_close(
        r.mcnemar_sensitivity.exact_p_value,
        0.5,
        1e-12,
        "exact p for 2 vs 0",
    );
    assert!(paired_accuracy(&first, &second[..9], &reference, 0.95).is_err());
}
