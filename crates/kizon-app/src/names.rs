//! The Japanese and English names of the stored vocabulary codes (provider kinds, consent
//! models, evidence kinds), for the shells: users read `倫理審査に係る資料`, never
//! `ethics-review`. An unknown code is shown as it is.

/// A provider kind's names (Q3), e.g. `hospital` → 医療機関（日常診療）.
pub fn provider_kind(code: &str) -> (&str, &str) {
    kizon_rules::ProviderKind::parse(code).map_or((code, code), |k| k.names())
}

/// A consent model's names (Q6), e.g. `opt-out` → オプトアウト.
pub fn consent_model(code: &str) -> (&str, &str) {
    kizon_rules::ConsentModel::parse(code).map_or((code, code), |c| c.names())
}

/// An evidence kind's names (Q9), e.g. `ethics-review` → 倫理審査に係る資料.
pub fn evidence_kind(code: &str) -> (&str, &str) {
    kizon_rules::EvidenceKind::parse(code).map_or((code, code), |k| (k.name_ja(), k.name_en()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_have_names_and_unknown_codes_stay() {
        assert_eq!(
            super::evidence_kind("ethics-review").0,
            "倫理審査に係る資料"
        );
        assert_eq!(
            super::provider_kind("hospital").1,
            "hospital (routine care)"
        );
        assert_eq!(super::consent_model("opt-out").0, "オプトアウト");
        assert_eq!(
            super::consent_model("telepathy"),
            ("telepathy", "telepathy")
        );
    }
}
