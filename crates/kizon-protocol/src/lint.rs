//! Warnings on a protocol that parses and is consistent, but that a reviewer would still stop
//! at: text left as the template wrote it, and two languages written into one string.
//!
//! They are warnings, not errors: the protocol stays valid, `kizon plan` lists them.

use serde::Serialize;

use crate::{BilingualText, Protocol};

/// One warning, naming the key it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The key, e.g. `device.intended_use` or `eligibility.inclusion[0]`.
    pub key: String,
    pub message_ja: String,
    pub message_en: String,
}

/// The warnings on `protocol`.
pub fn warnings(protocol: &Protocol) -> Vec<Warning> {
    let template = Protocol::parse(crate::TEMPLATE).expect("the template is a valid protocol");
    let mut out = Vec::new();
    let mut texts: Vec<(String, &str, Option<&str>, Option<&str>)> = Vec::new();
    texts.push((
        "device.intended_use".into(),
        protocol.device.intended_use.as_deref().unwrap_or(""),
        protocol.device.intended_use_en.as_deref(),
        template.device.intended_use.as_deref(),
    ));
    for (list, criteria, template_criteria) in [
        (
            "inclusion",
            &protocol.eligibility.inclusion,
            &template.eligibility.inclusion,
        ),
        (
            "exclusion",
            &protocol.eligibility.exclusion,
            &template.eligibility.exclusion,
        ),
    ] {
        for (i, c) in criteria.iter().enumerate() {
            let BilingualText { text, en } = c;
            // The template's inclusion criterion describes its example's data (chest
            // radiographs of 2020–2024): left in another study it is a leftover. Its exclusion
            // criterion (poor image quality) fits any study.
            let from_template = (list == "inclusion"
                && template_criteria.iter().any(|t| t.text == *text))
            .then_some(text.as_str());
            texts.push((
                format!("eligibility.{list}[{i}]"),
                text,
                en.as_deref(),
                from_template,
            ));
        }
    }
    if let Some(s) = &protocol.sample_size
        && let Some(goal) = protocol
            .primary_endpoint()
            .and_then(|e| e.lower_bound_at_least)
        && s.expected <= goal
    {
        out.push(Warning {
            key: "sample_size.expected".into(),
            message_ja: format!(
                "想定値 {} が主要評価項目の判定基準の閾値 {goal} 以下です。この想定では判定基準を満たす見込みがなく、症例数を計算できません。",
                s.expected
            ),
            message_en: format!(
                "the expected value {} is not above the primary endpoint's threshold {goal}: the criterion cannot be expected to be met, and no sample size follows",
                s.expected
            ),
        });
    }
    if protocol.design.reference_standard == crate::ReferenceStandard::ExpertPanel
        && protocol.reference.minimum_reads < 2
    {
        out.push(Warning {
            key: "reference.minimum_reads".into(),
            message_ja: format!(
                "専門医による読影の参照標準に、1 症例あたり {} 読影しか求めていません（Q4：複数の専門医等による読影）。",
                protocol.reference.minimum_reads
            ),
            message_en: format!(
                "the expert panel's reference standard asks for {} read per case (Q4: reads by several specialists)",
                protocol.reference.minimum_reads
            ),
        });
    }
    for (key, text, en, template_text) in texts {
        if text.is_empty() {
            continue;
        }
        // The template's own examples (a chest radiograph study) left in place.
        if template_text == Some(text) && !template_is_the_example(protocol, &template) {
            out.push(Warning {
                message_ja: format!(
                    "{key} がテンプレートの記載（「{text}」）のままです。本試験の内容に書き換えてください。"
                ),
                message_en: format!(
                    "{key} still holds the template's text (\"{text}\"): write this study's own."
                ),
                key,
            });
            continue;
        }
        if en.is_none() && looks_bilingual(text) {
            out.push(Warning {
                message_ja: format!(
                    "{key} は日本語と英語を 1 つの文字列に書いています。{{ ja = \"…\", en = \"…\" }} の形（使用目的は intended_use_en）で分けて書くと、各言語の報告書にそれぞれが載ります。"
                ),
                message_en: format!(
                    "{key} holds Japanese and English in one string: write them apart, {{ ja = \"…\", en = \"…\" }} (intended_use_en for the intended use), so that each report prints its own language."
                ),
                key,
            });
        }
    }
    out
}

/// Whether the study is the template's own example (a chest radiograph study): then its text
/// is no leftover. Judged by the data kinds and the title both being the template's.
fn template_is_the_example(protocol: &Protocol, template: &Protocol) -> bool {
    protocol.study.title == template.study.title
}

/// Japanese and Latin text around a ` / ` or `／`: one string holding both languages.
fn looks_bilingual(text: &str) -> bool {
    let japanese = |part: &str| {
        part.chars().any(|c| {
            matches!(c as u32,
                0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xFF66..=0xFF9F)
        })
    };
    let latin_words = |part: &str| part.split_whitespace().filter(|w| w.is_ascii()).count() >= 2;
    text.split(['／', '/'])
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| {
            (japanese(w[0]) && latin_words(w[1]) && !japanese(w[1]))
                || (latin_words(w[0]) && !japanese(w[0]) && japanese(w[1]))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protocol(edit: impl Fn(String) -> String) -> Protocol {
        Protocol::parse(&edit(crate::TEMPLATE.to_owned())).unwrap()
    }

    #[test]
    fn template_text_left_in_a_study_of_its_own_is_a_warning() {
        let p = protocol(|t| t.replacen("title = \"", "title = \"CT ", 1));
        let keys: Vec<String> = warnings(&p).into_iter().map(|w| w.key).collect();
        assert!(keys.contains(&"device.intended_use".to_owned()), "{keys:?}");
        assert!(
            keys.contains(&"eligibility.inclusion[0]".to_owned()),
            "{keys:?}"
        );
    }

    #[test]
    fn two_languages_in_one_string_is_a_warning_and_two_fields_are_not() {
        let p = protocol(|t| {
            t.replacen("title = \"", "title = \"CT ", 1)
                .replace(
                    "intended_use = \"胸部X線画像における結節の検出支援\"\nintended_use_en = \"detection support of nodules on chest radiographs\"",
                    "intended_use = \"胸部CT画像における肺結節の検出支援 / detection support of lung nodules on chest CT\"",
                )
                .replace("exclusion = [{ ja = \"画質不良\", en = \"inadequate image quality\" }]", "exclusion = [\"画質不良 / poor image quality\", \"読影不能\"]")
        });
        let keys: Vec<String> = warnings(&p)
            .into_iter()
            .filter(|w| w.message_en.contains("one string"))
            .map(|w| w.key)
            .collect();
        assert_eq!(keys, ["device.intended_use", "eligibility.exclusion[0]"]);
        // The template as it is: its own example, in two fields, warns of nothing.
        let p = protocol(|t| t);
        assert_eq!(warnings(&p), Vec::new());
        assert_eq!(
            p.eligibility.exclusion[0].english(),
            "inadequate image quality"
        );
        assert_eq!(p.eligibility.exclusion[0].text, "画質不良");
        assert_eq!(
            p.device.intended_use_en.as_deref(),
            Some("detection support of nodules on chest radiographs")
        );
    }

    #[test]
    fn a_bilingual_criterion_needs_both_languages() {
        let text = crate::TEMPLATE.replace(
            "exclusion = [{ ja = \"画質不良\", en = \"inadequate image quality\" }]",
            "exclusion = [{ ja = \"画質不良\" }]",
        );
        assert!(Protocol::parse(&text).is_err());
    }
}

#[cfg(test)]
mod sample_size_tests {
    use super::*;

    /// An expected value at or below the criterion's threshold, and a "panel" of one read per
    /// case, are warnings.
    #[test]
    fn an_expected_value_below_the_threshold_and_a_one_reader_panel() {
        let text = crate::TEMPLATE
            .replace("expected = 0.92", "expected = 0.78")
            .replace("minimum_reads = 3", "minimum_reads = 1");
        let p = Protocol::parse(&text).unwrap();
        let keys: Vec<String> = warnings(&p).into_iter().map(|w| w.key).collect();
        assert_eq!(keys, ["sample_size.expected", "reference.minimum_reads"]);
        assert!(warnings(&Protocol::parse(crate::TEMPLATE).unwrap()).is_empty());
    }
}
