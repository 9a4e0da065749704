//! Agreement with a comparator, Cohen's and Fleiss' kappa against statsmodels, psych
//! and the FDA 2007 guidance.
mod common;

use common::{assert_close, cases, csv_rows, f};
use kizon_stats::{
    KappaWeights, ProportionCi, RaterKappa, StatsError, TwoByTwo, agreement, cohen_kappa,
    fleiss_kappa, rater_kappa,
};
use serde_json::Value;

fn matrix(v: &Value) -> Vec<Vec<u64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect()
        })
        .collect()
}

fn weights(name: &str) -> KappaWeights {
    serde_json::from_value(Value::String(name.to_string())).unwrap()
}

#[test]
fn fda_2007_agreement_example_reads_as_published() {
    // FDA 2007 statistical guidance, §7.2: new test vs non-reference standard,
    // 40 / 5 / 4 / 171. Published with score intervals, in percent to one decimal:
    // PPA 90.9 (78.8, 96.4), NPA 97.2 (93.5, 98.8), OPA 95.9 (92.4, 97.8).
    // (Values as recalled from the guidance; they agree with statsmodels' Wilson.)
    let r = agreement(&TwoByTwo::new(40, 5, 4, 171), ProportionCi::Wilson, 0.95).unwrap();
    let pct = |e: Option<kizon_stats::Estimate>| {
        let e = e.unwrap();
        [e.estimate, e.lower, e.upper].map(|v| format!("{:.1}", 100.0 * v))
    };
    assert_eq!(pct(r.ppa), ["90.9", "78.8", "96.4"]);
    assert_eq!(pct(r.npa), ["97.2", "93.5", "98.8"]);
    assert_eq!(pct(r.opa), ["95.9", "92.4", "97.8"]);
    let kappa = r.kappa.unwrap();
    assert!(
        kappa.estimate > 0.85 && kappa.lower < kappa.estimate && kappa.upper < 1.0,
        "{kappa:?}"
    );
    let json = serde_json::to_value(&r).unwrap();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["kappa", "npa", "opa", "ppa"]);
}

#[test]
fn cohen_kappa_matches_statsmodels_unweighted_linear_and_quadratic() {
    let cases = cases("kappa_statsmodels.json");
    assert_eq!(cases.len(), 9);
    for c in &cases {
        let table = matrix(&c["table"]);
        let w = weights(c["weights"].as_str().unwrap());
        let k = cohen_kappa(&table, w, f(&c["level"])).unwrap().unwrap();
        let what = format!("{w:?} {table:?}");
        assert_close(k.kappa.estimate, f(&c["kappa"]), 1e-12, &what);
        assert_close(k.se, f(&c["se"]), 1e-9, &format!("{what} se"));
        assert_close(
            k.kappa.lower,
            f(&c["lower"]),
            1e-9,
            &format!("{what} lower"),
        );
        assert_close(
            k.kappa.upper,
            f(&c["upper"]).min(1.0),
            1e-9,
            &format!("{what} upper"),
        );
    }
}

#[test]
fn weighted_kappa_matches_psych() {
    for c in &cases("kappa_psych.json") {
        let table = matrix(&c["table"]);
        let plain = cohen_kappa(&table, KappaWeights::Unweighted, 0.95)
            .unwrap()
            .unwrap();
        assert_close(plain.kappa.estimate, f(&c["kappa"]), 1e-12, "unweighted");
        assert_close(plain.se, f(&c["se_kappa"]), 1e-9, "unweighted se");
        let w = weights(c["weights"].as_str().unwrap());
        let weighted = cohen_kappa(&table, w, 0.95).unwrap().unwrap();
        assert_close(
            weighted.kappa.estimate,
            f(&c["weighted_kappa"]),
            1e-12,
            &format!("{w:?}"),
        );
        // psych 2.2.9 forms the column-weighted margins as rowSums(w * rs), i.e.
        // rs_i·Σ_j w_ij instead of Σ_i rs_i·w_ij (Fleiss, Cohen & Everitt 1969), so its
        // weighted variance is off for k > 2; statsmodels (above) has the 1969 formula.
        if table.len() == 2 {
            assert_close(
                weighted.se,
                f(&c["se_weighted"]),
                1e-9,
                &format!("{w:?} se"),
            );
        }
    }
}

#[test]
fn fleiss_kappa_matches_statsmodels_and_the_irr_null_se() {
    let sm = cases("fleiss_statsmodels.json");
    let irr = cases("fleiss_irr_formula.json");
    assert_eq!(sm.len(), 2);
    for (s, i) in sm.iter().zip(&irr) {
        let r = fleiss_kappa(&matrix(&s["counts"]), 0.95).unwrap().unwrap();
        assert_close(
            r.fleiss_kappa.estimate,
            f(&s["kappa"]),
            1e-12,
            "kappa vs statsmodels",
        );
        assert_close(r.fleiss_kappa.estimate, f(&i["kappa"]), 1e-12, "kappa vs R");
        assert_close(r.se0, f(&i["se0"]), 1e-12, "se0");
        assert_close(r.z, f(&i["z"]), 1e-12, "z");
        assert_close(r.p_value, f(&i["p_value"]), 1e-9, "p");
    }
    // Wikipedia's worked example: κ = 0.210.
    let r = fleiss_kappa(&matrix(&irr[0]["counts"]), 0.95)
        .unwrap()
        .unwrap();
    assert_eq!(format!("{:.3}", r.fleiss_kappa.estimate), "0.210");
}

#[test]
fn kappa_from_two_rater_columns_equals_the_table_kappa() {
    let rows = csv_rows("tied_ratings.csv");
    let reader = |col: &str| {
        rows.iter()
            .map(|r| r[col].parse::<u8>().unwrap())
            .collect::<Vec<_>>()
    };
    let raters = vec![reader("reader1"), reader("reader2")];
    let Some(RaterKappa::Cohen(from_columns)) =
        rater_kappa(&raters, KappaWeights::Quadratic, 0.95).unwrap()
    else {
        panic!("two raters give Cohen's kappa");
    };
    let mut table = vec![vec![0u64; 5]; 5];
    for (a, b) in raters[0].iter().zip(&raters[1]) {
        table[*a as usize - 1][*b as usize - 1] += 1;
    }
    assert_eq!(
        from_columns,
        cohen_kappa(&table, KappaWeights::Quadratic, 0.95)
            .unwrap()
            .unwrap()
    );
    let json = serde_json::to_value(RaterKappa::Cohen(from_columns)).unwrap();
    assert!(json["kappa"]["estimate"].is_number() && json["se"].is_number());
}

#[test]
fn kappa_from_three_rater_columns_is_fleiss() {
    let raters = vec![
        vec!["a", "b", "a", "c", "b", "a"],
        vec!["a", "b", "b", "c", "b", "a"],
        vec!["a", "c", "a", "c", "b", "b"],
    ];
    let Some(RaterKappa::Fleiss(r)) = rater_kappa(&raters, KappaWeights::Unweighted, 0.95).unwrap()
    else {
        panic!("three raters give Fleiss' kappa");
    };
    let counts = vec![
        vec![3, 0, 0],
        vec![0, 2, 1],
        vec![2, 1, 0],
        vec![0, 0, 3],
        vec![0, 3, 0],
        vec![2, 1, 0],
    ];
    assert_eq!(r, fleiss_kappa(&counts, 0.95).unwrap().unwrap());
    let json = serde_json::to_value(RaterKappa::Fleiss(r)).unwrap();
    assert!(json["fleiss_kappa"]["estimate"].is_number());
    assert!(matches!(
        rater_kappa(&raters, KappaWeights::Linear, 0.95),
        Err(StatsError::InvalidArgument(_))
    ));
}

#[test]
fn kappa_with_one_category_everywhere_is_not_estimable() {
    assert_eq!(
        rater_kappa(
            &[vec![1, 1, 1], vec![1, 1, 1]],
            KappaWeights::Unweighted,
            0.95
        )
        .unwrap(),
        None
    );
    assert_eq!(
        cohen_kappa(&[vec![0, 0], vec![0, 0]], KappaWeights::Unweighted, 0.95).unwrap(),
        None
    );
}

#[test]
fn perfect_agreement_gives_kappa_one_without_nan() {
    let k = cohen_kappa(&[vec![10, 0], vec![0, 15]], KappaWeights::Unweighted, 0.95)
        .unwrap()
        .unwrap();
    assert_eq!(
        (k.kappa.estimate, k.kappa.lower, k.kappa.upper, k.se),
        (1.0, 1.0, 1.0, 0.0)
    );
}

#[test]
fn malformed_kappa_input_is_an_error() {
    assert!(matches!(
        cohen_kappa(&[vec![1, 2]], KappaWeights::Unweighted, 0.95),
        Err(StatsError::InvalidArgument(_))
    ));
    assert!(matches!(
        cohen_kappa(&[vec![1, 2], vec![3]], KappaWeights::Unweighted, 0.95),
        Err(StatsError::LengthMismatch { .. })
    ));
    assert!(matches!(
        fleiss_kappa(&[vec![2, 1], vec![1, 1]], 0.95),
        Err(StatsError::InvalidArgument(_))
    ));
    assert!(matches!(fleiss_kappa(&[], 0.95), Err(StatsError::Empty(_))));
    assert!(matches!(
        rater_kappa(&[vec![1, 2], vec![1]], KappaWeights::Unweighted, 0.95),
        Err(StatsError::LengthMismatch { .. })
    ));
}
