//! The report's words: text the user gave in one or two languages, and the Japanese and English
//! names of the analysis's codes (rules, subgroups, levels, metrics, interval methods).

use kizon_report::model::{self as m, Text};
use serde_json::json;

/// Text the user gave as written, with its English version when they gave one besides it:
/// the Japanese report prints `text`, the English one `en` or, without it, `text` as written.
/// Two fields, never one string split at a separator (issue 13.6).
pub(super) fn written(text: &str, en: Option<&str>) -> Text {
    Text::new(text, en.unwrap_or(text))
}

pub(super) fn same(text: impl Into<String>) -> Text {
    let text = text.into();
    Text::new(text.clone(), text)
}

/// A rule's name in both languages, for exclusion reasons and finding rows.
pub(super) fn rule_name(rule: &str) -> Text {
    let (ja, en) = crate::names::rule(rule);
    Text::new(ja, en)
}

pub(super) fn subgroup_name(variable: &str) -> Text {
    let (ja, en) = match variable {
        "provider" => ("医療機関等", "Provider"),
        "modality" => ("モダリティ", "Modality"),
        "manufacturer" => (
            "製造販売業者（撮影装置）",
            "Manufacturer (acquisition device)",
        ),
        "sex" => ("性別", "Sex"),
        "age-band" => ("年齢区分", "Age band"),
        "body-part" => ("部位", "Body part"),
        "reference" => ("参照標準", "Reference standard"),
        other => (other, other),
    };
    Text::new(ja, en)
}

pub(super) fn level_text(variable: &str, level: &str) -> Text {
    match (variable, level) {
        ("sex", "F") => Text::new("女性", "female"),
        ("sex", "M") => Text::new("男性", "male"),
        ("sex", "O") => Text::new("その他", "other"),
        ("reference", "positive") => Text::new("陽性", "positive"),
        ("reference", "negative") => Text::new("陰性", "negative"),
        ("reference", "none") => Text::new("なし", "none"),
        (_, "unknown") => Text::new("不明", "unknown"),
        _ => same(level),
    }
}

pub(super) fn ci_method(name: &str) -> m::CiMethod {
    match name {
        "delong" => m::CiMethod::Delong,
        "fleiss-cohen-everitt" => m::CiMethod::KappaAsymptotic,
        other => serde_json::from_value(json!(other)).unwrap_or(m::CiMethod::Wilson),
    }
}

pub(super) fn verdict(pass: Option<bool>) -> Option<m::Verdict> {
    pass.map(|p| {
        if p {
            m::Verdict::Pass
        } else {
            m::Verdict::Fail
        }
    })
}
