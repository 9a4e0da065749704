//! The accuracy and agreement measures: endpoints of the protocol, statistics of
//! `kizon stats`, rows of the report.

crate::vocabulary! {
    /// An accuracy or agreement measure. Spelled in snake case (`lr_positive`); in TOML and
    /// JSON, kebab case is accepted too where it has two words.
    Metric {
        Sensitivity = "sensitivity",
        Specificity = "specificity",
        Ppv = "ppv",
        Npv = "npv",
        Accuracy = "accuracy",
        Prevalence = "prevalence",
        #[serde(alias = "lr-positive")]
        LrPositive = "lr_positive",
        #[serde(alias = "lr-negative")]
        LrNegative = "lr_negative",
        Dor = "dor",
        Youden = "youden",
        Ppa = "ppa",
        Npa = "npa",
        Opa = "opa",
        Kappa = "kappa",
        Auc = "auc",
    }
}

impl Metric {
    /// The metrics a protocol may set an acceptance criterion on: those a regulator reads as
    /// a device's performance (accuracy against a reference, agreement with a comparator,
    /// discrimination). Prevalence describes the sample; likelihood ratios, the diagnostic
    /// odds ratio and Youden's J derive from sensitivity and specificity.
    pub const ENDPOINTS: &'static [Metric] = &[
        Metric::Sensitivity,
        Metric::Specificity,
        Metric::Ppv,
        Metric::Npv,
        Metric::Accuracy,
        Metric::Ppa,
        Metric::Npa,
        Metric::Opa,
        Metric::Kappa,
        Metric::Auc,
    ];

    /// Whether a protocol may name it as an endpoint ([`Metric::ENDPOINTS`]).
    pub fn is_endpoint(self) -> bool {
        Metric::ENDPOINTS.contains(&self)
    }

    /// The endpoint spellings, for hints.
    pub fn endpoint_choices() -> String {
        Metric::ENDPOINTS
            .iter()
            .map(|m| format!("\"{}\"", m.as_str()))
            .collect::<Vec<_>>()
            .join(" | ")
    }

    /// A proportion: printed as a percentage, its interval by the criterion's method.
    pub fn is_proportion(self) -> bool {
        match self {
            Metric::Sensitivity
            | Metric::Specificity
            | Metric::Ppv
            | Metric::Npv
            | Metric::Accuracy
            | Metric::Prevalence
            | Metric::Ppa
            | Metric::Npa
            | Metric::Opa => true,
            Metric::LrPositive
            | Metric::LrNegative
            | Metric::Dor
            | Metric::Youden
            | Metric::Kappa
            | Metric::Auc => false,
        }
    }

    /// Metrics that presuppose a reference standard: meaningless against a comparator
    /// method, where agreement (陽性一致率, 陰性一致率, 全体一致率, κ) is reported instead
    /// (FDA 2007 statistical guidance on diagnostic tests; Q4's specimen example reports
    /// 一致率). Accuracy against a comparator would be overall agreement under another name.
    pub fn needs_reference_standard(self) -> bool {
        match self {
            Metric::Sensitivity
            | Metric::Specificity
            | Metric::Ppv
            | Metric::Npv
            | Metric::Accuracy
            | Metric::Prevalence
            | Metric::LrPositive
            | Metric::LrNegative
            | Metric::Dor
            | Metric::Youden
            | Metric::Auc => true,
            Metric::Ppa | Metric::Npa | Metric::Opa | Metric::Kappa => false,
        }
    }

    /// The metric's name in English and Japanese, as the Q&A and the report word it.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Metric::Sensitivity => ("Sensitivity", "感度"),
            Metric::Specificity => ("Specificity", "特異度"),
            Metric::Ppv => ("Positive predictive value", "陽性的中率"),
            Metric::Npv => ("Negative predictive value", "陰性的中率"),
            Metric::Accuracy => ("Accuracy", "正診率"),
            Metric::Prevalence => ("Prevalence", "有病率"),
            Metric::LrPositive => ("Positive likelihood ratio", "陽性尤度比"),
            Metric::LrNegative => ("Negative likelihood ratio", "陰性尤度比"),
            Metric::Dor => ("Diagnostic odds ratio", "診断オッズ比"),
            Metric::Youden => ("Youden's J", "Youden指数"),
            Metric::Ppa => ("Positive percent agreement", "陽性一致率"),
            Metric::Npa => ("Negative percent agreement", "陰性一致率"),
            Metric::Opa => ("Overall percent agreement", "全体一致率"),
            Metric::Kappa => ("Cohen's kappa", "κ係数"),
            Metric::Auc => ("Area under the ROC curve", "ROC曲線下面積（AUC）"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_word_metrics_accept_kebab_case() {
        let m: Metric = serde_json::from_str("\"lr-positive\"").unwrap();
        assert_eq!(m, Metric::LrPositive);
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"lr_positive\"");
    }

    #[test]
    fn endpoints_are_the_regulatory_measures() {
        assert!(Metric::Kappa.is_endpoint());
        assert!(!Metric::Youden.is_endpoint());
        assert!(!Metric::Kappa.is_proportion());
        assert!(Metric::Accuracy.needs_reference_standard());
        assert!(!Metric::Opa.needs_reference_standard());
        assert!(Metric::endpoint_choices().starts_with("\"sensitivity\" | "));
    }
}
