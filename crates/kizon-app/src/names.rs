//! The Japanese and English names of the data-check rules, for the shells: users read
//! `同一画素データの重複`, never `same-pixels`. The vocabularies' own words name themselves
//! (`ProviderKind::names`, `ConsentModel::names`, `EvidenceKind::names`, `ItemKind::names`).

/// A data-check rule's name in both languages (exclusion reasons, finding rows, the case list),
/// e.g. `same-pixels` → 同一画素データの重複.
pub fn rule(rule: &str) -> (&str, &str) {
    RULES
        .iter()
        .find(|(id, _, _)| *id == rule)
        .map_or((rule, rule), |(_, ja, en)| (*ja, *en))
}

/// `rule`, as stored in a finding: in a debug build (every test), a rule without a name here
/// stops the command, so that no report shows a bare rule id to its reader.
pub(crate) fn named(rule: &str) -> String {
    debug_assert!(
        RULES.iter().any(|(id, _, _)| *id == rule),
        "the rule `{rule}` has no name in kizon-app/src/names.rs"
    );
    rule.to_owned()
}

/// Every data-check rule with its Japanese and English name.
const RULES: &[(&str, &str, &str)] = &[
    (
        "same-file",
        "同一ファイルの重複",
        "the same file in several cases",
    ),
    (
        "same-sop-instance",
        "同一SOPインスタンスの重複",
        "the same SOP instance in several cases",
    ),
    (
        "same-signal",
        "同一波形の重複",
        "the same signal in several cases",
    ),
    (
        "acquired-after-collection",
        "収集日以降の取得（既存データでない）",
        "acquired after collection (not existing data)",
    ),
    ("chronology", "時系列の矛盾", "chronological contradiction"),
    (
        "implausible-value",
        "医学的に妥当性の低い値",
        "medically implausible value",
    ),
    ("flat-line", "平坦な波形チャネル", "flat waveform channel"),
    (
        "clipped-channel",
        "飽和した波形チャネル",
        "clipped waveform channel",
    ),
    (
        "identifying-attributes",
        "個人を識別できる属性",
        "identifying attributes",
    ),
    (
        "burned-in-annotation",
        "画像への焼き込み文字",
        "text burned into the image",
    ),
    (
        "burned-in-text",
        "画像に焼き込まれた個人を識別できる文字",
        "identifying text burned into the image",
    ),
    ("unreadable-item", "読み取れないファイル", "unreadable file"),
    (
        "training-overlap",
        "学習データとの重複",
        "overlap with the training data",
    ),
    (
        "reportable-range",
        "測定範囲外の値",
        "values outside the reportable range",
    ),
    (
        "table-columns",
        "結果表の列の不足",
        "result table without its declared columns",
    ),
    (
        "device-result-changed",
        "機器の結果の変更",
        "a device result that changed",
    ),
    (
        "device-marks-changed",
        "機器の病変マークの変更",
        "device lesion marks that changed",
    ),
    (
        "device-version-differs",
        "計画書と異なる被験機器の版",
        "a device version other than the protocol's",
    ),
    (
        "same-pixels",
        "同一画素データの重複",
        "the same pixels in several cases",
    ),
    ("near-duplicate", "酷似した画像", "near-duplicate images"),
    (
        "same-patient",
        "同一患者の複数症例",
        "the same patient in several cases",
    ),
    (
        "undecodable-pixels",
        "復号できない画素データ",
        "pixel data that cannot be decoded",
    ),
    (
        "identifying-path",
        "患者IDのようなファイル名・フォルダ名",
        "a file or folder name that looks like a patient ID",
    ),
    ("video-metadata", "動画のメタデータ", "video metadata"),
    (
        "data-kind",
        "計画書にない種類のデータ",
        "data of a kind the protocol does not collect",
    ),
    (
        "specimen-existing",
        "症例の収集時に採取済みであることを確認できない検体（既存の検体でない疑い）",
        "a specimen not shown to exist when its case was collected (not existing data)",
    ),
    (
        "same-specimen",
        "同一検体の重複",
        "the same specimen in several cases",
    ),
    (
        "identical-results",
        "すべて同一の測定結果",
        "identical results for different specimens",
    ),
    (
        "specimen-implausible",
        "測定範囲外・生理的にあり得ない値、単位の相違",
        "a value outside the measuring interval or physiological limits, or another unit",
    ),
    (
        "specimen-chronology",
        "検体の日時の矛盾・安定性の超過",
        "contradictory specimen times, or analysis beyond stability",
    ),
    (
        "specimen-interference",
        "溶血・黄疸・乳びによる干渉",
        "haemolysis, icterus or lipaemia interference",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule kizon-checks can raise has its names here, whether or not a test raises it
    /// (burned-in text needs Tesseract).
    #[test]
    fn every_rule_of_the_checks_is_named() {
        for id in kizon_checks::RULES {
            assert!(RULES.iter().any(|(named, _, _)| named == id), "{id}");
        }
    }

    #[test]
    fn every_rule_has_one_entry_and_two_distinct_names() {
        let mut ids: Vec<&str> = RULES.iter().map(|(id, _, _)| *id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len(), "a rule named twice");
        for (id, ja, en) in RULES {
            assert!(!ja.is_empty() && !en.is_empty() && ja != en, "{id}");
            assert_eq!(rule(id), (*ja, *en));
        }
        assert_eq!(
            rule("burned-in-text").0,
            "画像に焼き込まれた個人を識別できる文字"
        );
        assert_eq!(rule("no-such-rule"), ("no-such-rule", "no-such-rule"));
    }
}
