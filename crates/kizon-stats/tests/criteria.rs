//! Acceptance criteria from protocol TOML and their bilingual verdicts.
mod common;

use kizon_stats::{
    Criterion, Estimate, Metric, ProportionCi, StatsError, TwoByTwo, binary_accuracy, evaluate,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Protocol {
    endpoints: Vec<Criterion>,
}

const PROTOCOL: &str = r#"
[[endpoints]]
metric = "sensitivity"
ci = "wilson"
level = 0.95
lower_bound_at_least = 0.80

[[endpoints]]
metric = "specificity"
ci = "clopper-pearson"
lower-bound-at-least = 0.85
estimate_at_least = 0.9

[[endpoints]]
metric = "lr_negative"
upper_bound_at_most = 0.2
"#;

fn endpoints() -> Vec<Criterion> {
    toml::from_str::<Protocol>(PROTOCOL).unwrap().endpoints
}

#[test]
fn endpoints_parse_from_protocol_toml_with_defaults() {
    let e = endpoints();
    assert_eq!(e[0].metric, Metric::Sensitivity);
    assert_eq!(
        (e[0].ci, e[0].level, e[0].lower_bound_at_least),
        (ProportionCi::Wilson, 0.95, Some(0.80))
    );
    assert_eq!(
        (e[1].ci, e[1].level),
        (ProportionCi::ClopperPearson, 0.95),
        "level defaults to 0.95"
    );
    assert_eq!(
        (e[1].lower_bound_at_least, e[1].estimate_at_least),
        (Some(0.85), Some(0.9))
    );
    assert_eq!(
        (e[2].metric, e[2].ci, e[2].upper_bound_at_most),
        (Metric::LrNegative, ProportionCi::Wilson, Some(0.2))
    );
    let typo =
        toml::from_str::<Protocol>("[[endpoints]]\nmetric = \"sensitivity\"\nlower_bound = 0.8\n");
    assert!(typo.is_err(), "unknown keys are rejected, not ignored");
    assert!(toml::from_str::<Protocol>("[[endpoints]]\nmetric = \"sensitivty\"\n").is_err());
}

#[test]
fn sensitivity_endpoint_passes_and_explains_itself_in_both_languages() {
    let table = TwoByTwo::new(182, 12, 18, 288);
    let c = &endpoints()[0];
    let r = binary_accuracy(&table, c.ci, c.level).unwrap();
    let v = evaluate(c, r.estimate_of(c.metric)).unwrap();
    assert!(v.pass);
    assert_eq!((v.estimate, v.threshold), (Some(0.91), 0.8));
    assert!(v.lower.unwrap() > 0.8);
    assert_eq!(
        v.explanation_en,
        "Sensitivity 0.910 (95% CI 0.862–0.942, Wilson): lower bound 0.862 ≥ 0.800 — pass."
    );
    assert_eq!(
        v.explanation_ja,
        "感度 0.910（95%信頼区間 0.862–0.942、Wilson法）：下限 0.862 ≥ 0.800 — 合格"
    );
}

#[test]
fn every_bound_must_hold() {
    let c = &endpoints()[1];
    // Specificity 0.96 but a wide interval: estimate passes, lower bound fails.
    let r = binary_accuracy(&TwoByTwo::new(10, 1, 2, 24), c.ci, c.level).unwrap();
    let v = evaluate(c, r.estimate_of(c.metric)).unwrap();
    assert!(!v.pass);
    assert!(
        v.explanation_en.contains("lower bound")
            && v.explanation_en.contains("< 0.850")
            && v.explanation_en.ends_with("fail.")
    );
    assert!(
        v.explanation_ja.contains("特異度")
            && v.explanation_ja.contains("不合格")
            && v.explanation_ja.contains("Clopper-Pearson法")
    );
}

#[test]
fn upper_bound_criterion_for_a_ratio_has_no_proportion_method_in_its_text() {
    let c = &endpoints()[2];
    let v = evaluate(
        c,
        Some(Estimate {
            estimate: 0.1,
            lower: 0.05,
            upper: 0.18,
        }),
    )
    .unwrap();
    assert!(v.pass);
    assert_eq!(
        v.explanation_en,
        "Negative likelihood ratio 0.100 (95% CI 0.050–0.180): upper bound 0.180 ≤ 0.200 — pass."
    );
    assert!(v.explanation_ja.starts_with("陰性尤度比"));
}

#[test]
fn not_estimable_metric_fails_with_a_reason() {
    let c = &endpoints()[0];
    let v = evaluate(c, None).unwrap();
    assert!(!v.pass);
    assert_eq!((v.estimate, v.lower, v.upper), (None, None, None));
    assert!(v.explanation_ja.contains("推定できません") && v.explanation_ja.contains("不合格"));
    let json = serde_json::to_value(&v).unwrap();
    for key in [
        "pass",
        "estimate",
        "lower",
        "upper",
        "threshold",
        "explanation_en",
        "explanation_ja",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
}

#[test]
fn agreement_metrics_use_their_japanese_names() {
    let c: Criterion = toml::from_str("metric = \"ppa\"\nlower_bound_at_least = 0.9\n").unwrap();
    let a = kizon_stats::agreement(&TwoByTwo::new(40, 5, 4, 171), c.ci, c.level).unwrap();
    let v = evaluate(&c, a.estimate_of(c.metric)).unwrap();
    assert!(!v.pass, "PPA 0.909 has lower bound 0.788");
    assert!(v.explanation_ja.starts_with("陽性一致率 0.909"));
}

#[test]
fn criterion_without_bound_is_an_error() {
    let c: Criterion = toml::from_str("metric = \"auc\"\n").unwrap();
    assert!(matches!(
        evaluate(&c, None),
        Err(StatsError::InvalidArgument(_))
    ));
    let c: Criterion =
        toml::from_str("metric = \"auc\"\nlevel = 95\nestimate_at_least = 0.8\n").unwrap();
    assert!(matches!(
        evaluate(&c, None),
        Err(StatsError::InvalidLevel(_))
    ));
}
