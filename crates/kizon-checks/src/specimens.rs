//! The data doubts of residual specimens (残余検体), over the records `kizon specimens import`
//! keeps (an item of kind `specimen` per case, its [`SpecimenRecord`] in the metadata).
//!
//! | rule | clause | what |
//! |---|---|---|
//! | `specimen-existing` | Q2 | collected after its case was collected for the test (blocking); collected on or after the study's collection start with no case collection date to tell (a warning: Q2 allows it when the specimen already existed as its case was collected); no collection date; neither a collection start nor case collection dates |
//! | `same-specimen` | Q7 | one specimen id, or one barcode, in several cases (of one provider or several) |
//! | `identical-results` | Q7 | different specimens whose results are all equal to the last digit written |
//! | `specimen-implausible` | Q7 | a value outside the analyser's measuring interval (a censored `<x`/`>x` included) or the physiological limits; a unit that is not the protocol's |
//! | `specimen-chronology` | Q7 | analysis before collection or in the future; analysis after the stability limit of the specimen type at its storage temperature; more freeze–thaw cycles than allowed; the two methods run too far apart |
//! | `specimen-interference` | Q7 | haemolysis, icterus or lipaemia index above the protocol's limit (pre-analytical interference) |

use std::collections::BTreeMap;

use kizon_formats::specimen::{MethodResult, SpecimenRecord, Value, minute_number};
use kizon_vocab::{SpecimenType, StorageTemperature};

use crate::{Finding, ItemFacts, Severity, finding};

/// The protocol's `[specimens]` as the rules take it (dates as `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpecimenRules {
    pub collection_start: Option<String>,
    pub unit: Option<String>,
    pub measuring_interval: Option<(f64, f64)>,
    pub physiological_limits: Option<(f64, f64)>,
    pub max_freeze_thaw: Option<u32>,
    pub max_hours_between_methods: Option<f64>,
    pub haemolysis_max: Option<f64>,
    pub icterus_max: Option<f64>,
    pub lipaemia_max: Option<f64>,
    /// Hours from collection to analysis, per specimen type and storage temperature.
    pub stability: BTreeMap<SpecimenType, BTreeMap<StorageTemperature, f64>>,
}

/// One specimen item and its record.
struct Specimen<'a> {
    item: &'a ItemFacts,
    record: &'a SpecimenRecord,
}

impl Specimen<'_> {
    fn doubt(
        &self,
        rule: &'static str,
        clause: &'static str,
        what: &str,
        ja: String,
        en: String,
    ) -> Finding {
        let item = self.item;
        finding(
            format!("{rule}:{}:{what}", item.case_id),
            rule,
            clause,
            Severity::Blocking,
            vec![item.case_id.clone()],
            vec![item.id],
            format!("検体 {}（{}）: {ja}", self.record.specimen_id, item.path),
            format!("specimen {} ({}): {en}", self.record.specimen_id, item.path),
        )
    }

    fn methods(&self) -> [(&'static str, &'static str, &MethodResult); 2] {
        [
            ("comparator", "対照法", &self.record.comparator),
            ("device", "被験機器", &self.record.device),
        ]
    }
}

/// Runs the specimen rules; `rules` is `None` when the protocol has no `[specimens]`.
pub(crate) fn specimen_rules(
    items: &[ItemFacts],
    cases: &[crate::CaseFacts],
    rules: Option<&SpecimenRules>,
    today: &str,
    out: &mut Vec<Finding>,
) {
    let specimens: Vec<Specimen<'_>> = items
        .iter()
        .filter_map(|item| {
            let record = item.metadata.specimen.as_ref()?;
            Some(Specimen { item, record })
        })
        .collect();
    if specimens.is_empty() {
        return;
    }
    let default = SpecimenRules::default();
    let rules = rules.unwrap_or(&default);
    existing(&specimens, rules, out);
    let provider_of: BTreeMap<&str, &str> = cases
        .iter()
        .map(|c| (c.id.as_str(), c.provider.as_str()))
        .collect();
    same_specimen(
        &specimens,
        &provider_of,
        "id",
        "検体 ID",
        "specimen id",
        |r| Some(&r.specimen_id),
        out,
    );
    same_specimen(
        &specimens,
        &provider_of,
        "barcode",
        "検体バーコード",
        "barcode",
        |r| r.barcode.as_ref(),
        out,
    );
    identical_results(&specimens, out);
    for specimen in &specimens {
        implausible(specimen, rules, out);
        chronology(specimen, rules, today, out);
        interference(specimen, rules, out);
    }
}

/// Q2: a residual specimen is existing data when it had already been collected (in routine
/// care) when its case was collected for the test — even when that was after the protocol was
/// written or the study began collecting: "症例ごとの収集時に既に撮影、採取等がなされているので
/// あれば、既存の医用画像データ等として…差支えない". So the test is per case, against the
/// case's collection date (`collection_date` of the specimen file); the study's collection
/// start only tells which specimens need that date looked at.
fn existing(specimens: &[Specimen<'_>], rules: &SpecimenRules, out: &mut Vec<Finding>) {
    let mut undated_cases = Vec::new();
    for specimen in specimens {
        let case_date = specimen.record.case_collection_date.as_deref();
        let Some(collected) = &specimen.record.collected_at else {
            out.push(specimen.doubt(
                "specimen-existing",
                "Q2",
                "no-date",
                "採取日時がなく、症例の収集時に既に採取されていた（既存の検体である）ことを確認できない".into(),
                "no collection date, so it cannot be shown that the specimen had been collected before its case was collected for the test".into(),
            ));
            continue;
        };
        let day = collected.get(..10).unwrap_or(collected);
        match (case_date, &rules.collection_start) {
            (Some(case_date), _) if day > case_date => out.push(specimen.doubt(
                "specimen-existing",
                "Q2",
                "after-collection",
                format!("採取日時 {collected} が症例の収集日 {case_date} より後（収集時に既に採取されていた検体ではなく、既存の検体ではない）"),
                format!("collected at {collected}, after its case was collected for the test on {case_date}: it did not exist when the case was collected, so it is not an existing specimen"),
            )),
            (Some(_), _) => {}
            (None, Some(start)) if day >= start.as_str() => {
                let mut doubt = specimen.doubt(
                    "specimen-existing",
                    "Q2",
                    // Not `after-start`: that key was a blocking finding before Q2 was read
                    // per case, and a study checked then keeps its decision on it.
                    "after-start-undated",
                    format!("採取日時 {collected} が試験の検体収集開始日 {start} 以降で、症例の収集日がない。Q2 により、症例の収集時に既に採取されていれば既存の検体として扱えるため、症例の収集日（collection_date 列）で確認すること"),
                    format!("collected at {collected}, on or after the study's collection start {start}, and its case has no collection date: Q2 lets it count as existing if it had been collected when its case was collected for the test; give the case's collection date (column collection_date) to show it"),
                );
                doubt.severity = Severity::Warning;
                out.push(doubt);
            }
            (None, Some(_)) => {}
            (None, None) => undated_cases.push(specimen),
        }
    }
    if !undated_cases.is_empty() {
        let mut cases: Vec<String> = undated_cases
            .iter()
            .map(|s| s.item.case_id.clone())
            .collect();
        cases.sort();
        out.push(finding(
            "specimen-existing:no-collection-start".into(),
            "specimen-existing",
            "Q2",
            Severity::Warning,
            cases,
            undated_cases.iter().map(|s| s.item.id).collect(),
            "計画書に検体の収集開始日（[specimens] collection_start）がなく、症例の収集日（collection_date 列）もないため、症例の収集時に既に採取されていた（既存の検体である）ことを確認できない".into(),
            "neither a collection start in the protocol ([specimens] collection_start) nor a collection date of the case (column collection_date): it cannot be shown that the specimens had been collected before their cases were collected for the test".into(),
        ));
    }
}

/// Q7 the same data as several cases: one specimen id, or one barcode, in several cases.
/// Within one provider it is blocking; across providers a warning, since two laboratories'
/// running numbers may meet by chance (a shared barcode is a doubt all the same).
fn same_specimen(
    specimens: &[Specimen<'_>],
    provider_of: &BTreeMap<&str, &str>,
    what: &str,
    what_ja: &str,
    what_en: &str,
    key: impl Fn(&SpecimenRecord) -> Option<&String>,
    out: &mut Vec<Finding>,
) {
    let mut groups: BTreeMap<&str, Vec<&Specimen<'_>>> = BTreeMap::new();
    for specimen in specimens {
        if let Some(value) = key(specimen.record) {
            groups.entry(value).or_default().push(specimen);
        }
    }
    for (value, group) in groups {
        if group.len() < 2 {
            continue;
        }
        let mut cases: Vec<String> = group.iter().map(|s| s.item.case_id.clone()).collect();
        cases.sort();
        let places: Vec<&str> = group.iter().map(|s| s.item.path.as_str()).collect();
        let provider = |s: &&Specimen<'_>| provider_of.get(s.item.case_id.as_str()).copied();
        let one_provider = group.iter().all(|s| provider(s) == provider(&group[0]));
        let same_provider_twice = group
            .iter()
            .enumerate()
            .any(|(i, a)| group[i + 1..].iter().any(|b| provider(a) == provider(b)));
        out.push(finding(
            format!("same-specimen:{what}:{value}"),
            "same-specimen",
            "Q7",
            if one_provider || same_provider_twice || what == "barcode" {
                Severity::Blocking
            } else {
                Severity::Warning
            },
            cases.clone(),
            group.iter().map(|s| s.item.id).collect(),
            format!(
                "同一の{what_ja} {value} が異なる複数の症例（{}）として利用されている: {}",
                crate::first_named(&cases, true),
                crate::first_named(&places, true)
            ),
            format!(
                "the same {what_en} {value} is used as several cases ({}): {}",
                crate::first_named(&cases, false),
                crate::first_named(&places, false)
            ),
        ));
    }
}

/// Q7: two specimens whose results are the same to the last digit written are more likely one
/// specimen entered twice than two specimens. Only records with both methods' values are
/// compared, and with their indices and volume too: two values alone repeat by chance in a
/// study of hundreds written to one decimal.
fn identical_results(specimens: &[Specimen<'_>], out: &mut Vec<Finding>) {
    let mut groups: BTreeMap<Vec<String>, Vec<&Specimen<'_>>> = BTreeMap::new();
    for specimen in specimens {
        let r = specimen.record;
        let numbers = [
            r.haemolysis_index,
            r.icterus_index,
            r.lipaemia_index,
            r.residual_volume_ul,
        ];
        let values: Vec<String> = [&r.comparator.value, &r.device.value]
            .into_iter()
            .map(|v| v.clone().unwrap_or_default())
            .chain(
                numbers
                    .iter()
                    .map(|n| n.map(|n| n.to_string()).unwrap_or_default()),
            )
            .collect();
        if r.comparator.value.is_some() && r.device.value.is_some() {
            groups.entry(values).or_default().push(specimen);
        }
    }
    for (values, group) in groups {
        if group.len() < 2 {
            continue;
        }
        let mut cases: Vec<String> = group.iter().map(|s| s.item.case_id.clone()).collect();
        cases.sort();
        let ids: Vec<&str> = group
            .iter()
            .map(|s| s.record.specimen_id.as_str())
            .collect();
        let shown: Vec<&str> = values
            .iter()
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .collect();
        out.push(finding(
            format!("identical-results:{}", cases.join(",")),
            "identical-results",
            "Q7",
            Severity::Warning,
            cases,
            group.iter().map(|s| s.item.id).collect(),
            format!(
                "異なる検体（{}）の結果がすべて同一（{}）: 同じ検体を複数の症例として利用していないか",
                crate::first_named(&ids, true),
                shown.join(", ")
            ),
            format!(
                "different specimens ({}) have identical results ({}): the same specimen used as several cases?",
                crate::first_named(&ids, false),
                shown.join(", ")
            ),
        ));
    }
}

/// Q7 medically implausible: values the analyser cannot have measured, or no patient can
/// have, and units other than the protocol's.
fn implausible(specimen: &Specimen<'_>, rules: &SpecimenRules, out: &mut Vec<Finding>) {
    for (method, method_ja, result) in specimen.methods() {
        if let (Some(unit), Some(given)) = (&rules.unit, &result.unit)
            && !same_unit(given, unit)
        {
            out.push(specimen.doubt(
                "specimen-implausible",
                "Q7",
                &format!("{method}-unit"),
                format!("{method_ja}の単位 `{given}` が計画書の単位 `{unit}` と異なる"),
                format!("the {method}'s unit `{given}` is not the protocol's `{unit}`"),
            ));
        }
        let Some(value) = result.parsed_value() else {
            continue;
        };
        let written = result.value.as_deref().unwrap_or("");
        if let Some((low, high)) = rules.measuring_interval {
            let outside = match value {
                Value::Number(v) => v < low || v > high,
                Value::Below(_) | Value::Above(_) => true,
            };
            if outside {
                out.push(specimen.doubt(
                    "specimen-implausible",
                    "Q7",
                    &format!("{method}-measuring-interval"),
                    format!("{method_ja}の値 {written} が測定範囲 [{low}, {high}] の外"),
                    format!("the {method}'s value {written} is outside the measuring interval [{low}, {high}]"),
                ));
            }
        }
        let beyond_limits = rules
            .physiological_limits
            .filter(|&(low, high)| match value {
                Value::Number(v) => v < low || v > high,
                // A censored value is beyond the limits when its bound already is.
                Value::Below(bound) => bound <= low,
                Value::Above(bound) => bound >= high,
            });
        if let Some((low, high)) = beyond_limits {
            out.push(specimen.doubt(
                "specimen-implausible",
                "Q7",
                &format!("{method}-physiological"),
                format!("{method_ja}の値 {written} が生理的にあり得る範囲 [{low}, {high}] の外"),
                format!("the {method}'s value {written} is outside the physiological limits [{low}, {high}]"),
            ));
        }
    }
}

/// The earliest and latest minute a date-time may be: a date without a time is any minute of
/// that day, so an interval between two stamps is certain only at its bounds (a date-only
/// collection on the day of a timed analysis is neither before nor after it).
fn bounds(date_time: &str) -> Option<(i64, i64)> {
    let minute = minute_number(date_time)?;
    Some(if date_time.len() <= 10 {
        (minute, minute + 24 * 60 - 1)
    } else {
        (minute, minute)
    })
}

/// Q7 chronological contradictions, and the pre-analytical limits that are times. Each is
/// raised only when it holds whatever the time of a date given without one.
fn chronology(specimen: &Specimen<'_>, rules: &SpecimenRules, today: &str, out: &mut Vec<Finding>) {
    let r = specimen.record;
    let collected = r.collected_at.as_deref().and_then(bounds);
    for (method, method_ja, result) in specimen.methods() {
        let Some(at) = &result.analysed_at else {
            continue;
        };
        if at.get(..10).is_some_and(|day| day > today) {
            out.push(specimen.doubt(
                "specimen-chronology",
                "Q7",
                &format!("{method}-future"),
                format!("{method_ja}の測定日時 {at} が未来"),
                format!("the {method}'s analysis at {at} is in the future"),
            ));
        }
        let (Some(collected), Some(analysed)) = (collected, bounds(at)) else {
            continue;
        };
        let collected_at = r.collected_at.as_deref().unwrap_or("");
        if analysed.1 < collected.0 {
            out.push(specimen.doubt(
                "specimen-chronology",
                "Q7",
                &format!("{method}-before-collection"),
                format!("{method_ja}の測定日時 {at} が採取日時 {collected_at} より前"),
                format!(
                    "the {method}'s analysis at {at} is before the collection at {collected_at}"
                ),
            ));
            continue;
        }
        let limit = r
            .storage
            .and_then(|storage| rules.stability.get(&r.specimen_type)?.get(&storage));
        if let (Some(storage), Some(&hours)) = (r.storage, limit) {
            let elapsed = (analysed.0 - collected.1) as f64 / 60.0;
            if elapsed > hours {
                let (storage_ja, storage_en) = storage.names();
                let (type_ja, type_en) = r.specimen_type.names();
                out.push(specimen.doubt(
                    "specimen-chronology",
                    "Q7",
                    &format!("{method}-stability"),
                    format!("{method_ja}の測定が採取から {} 後で、{type_ja}・{storage_ja}保存の安定性の上限 {} を超える", hours_text(elapsed), hours_text(hours)),
                    format!("the {method}'s analysis came {} after collection, beyond the stability of {type_en} stored {storage_en} ({})", hours_text(elapsed), hours_text(hours)),
                ));
            }
        }
    }
    if !rules.stability.is_empty() {
        let stated = r.storage.is_some_and(|storage| {
            rules
                .stability
                .get(&r.specimen_type)
                .is_some_and(|at| at.contains_key(&storage))
        });
        if !stated {
            let (type_ja, type_en) = r.specimen_type.names();
            let (storage_ja, storage_en) = r.storage.map_or(("不明", "unknown"), |s| s.names());
            let mut doubt = specimen.doubt(
                "specimen-chronology",
                "Q7",
                "no-stability",
                format!("{type_ja}・保存温度 {storage_ja} の安定性の上限が計画書になく、測定までの時間を確認できない"),
                format!("the protocol states no stability for {type_en} stored {storage_en}, so the time to analysis cannot be checked"),
            );
            doubt.severity = Severity::Warning;
            out.push(doubt);
        }
    }
    if let (Some(cycles), Some(max)) = (r.freeze_thaw_cycles, rules.max_freeze_thaw)
        && cycles > max
    {
        out.push(specimen.doubt(
            "specimen-chronology",
            "Q7",
            "freeze-thaw",
            format!("凍結融解 {cycles} 回が上限 {max} 回を超える"),
            format!("{cycles} freeze–thaw cycles, more than the {max} allowed"),
        ));
    }
    let analysed = |m: &MethodResult| m.analysed_at.as_deref().and_then(bounds);
    if let (Some(max), Some(a), Some(b)) = (
        rules.max_hours_between_methods,
        analysed(&r.comparator),
        analysed(&r.device),
    ) {
        let apart = (a.0 - b.1).max(b.0 - a.1).max(0) as f64 / 60.0;
        if apart > max {
            out.push(specimen.doubt(
                "specimen-chronology",
                "Q7",
                "methods-apart",
                format!(
                    "対照法と被験機器の測定が {} 離れており、上限 {} を超える",
                    hours_text(apart),
                    hours_text(max)
                ),
                format!(
                    "the comparator and the device were run {} apart, more than the {} allowed",
                    hours_text(apart),
                    hours_text(max)
                ),
            ));
        }
    }
}

/// Q7 pre-analytical interference: a haemolysed, icteric or lipaemic specimen gives a result
/// that is not the patient's.
fn interference(specimen: &Specimen<'_>, rules: &SpecimenRules, out: &mut Vec<Finding>) {
    let r = specimen.record;
    for (name, name_ja, index, max) in [
        (
            "haemolysis",
            "溶血",
            r.haemolysis_index,
            rules.haemolysis_max,
        ),
        ("icterus", "黄疸", r.icterus_index, rules.icterus_max),
        ("lipaemia", "乳び", r.lipaemia_index, rules.lipaemia_max),
    ] {
        if let (Some(index), Some(max)) = (index, max)
            && index > max
        {
            out.push(specimen.doubt(
                "specimen-interference",
                "Q7",
                name,
                format!("{name_ja}指数 {index} が上限 {max} を超える（測定前の干渉）"),
                format!(
                    "{name} index {index} is above the limit {max} (pre-analytical interference)"
                ),
            ));
        }
    }
}

/// Units as laboratory systems write them: `mg/dL` and `mg/dl`, `％` and `%` are one unit.
fn same_unit(a: &str, b: &str) -> bool {
    let fold = |s: &str| -> String {
        s.trim()
            .chars()
            .map(|c| match c {
                '％' => '%',
                'μ' => 'µ',
                c => c,
            })
            .collect::<String>()
            .to_lowercase()
    };
    fold(a) == fold(b)
}

/// `30 h`, `9.5 d`: hours below two days, days above.
fn hours_text(hours: f64) -> String {
    if hours < 48.0 {
        format!("{} h", round1(hours))
    } else {
        format!("{} d", round1(hours / 24.0))
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use kizon_formats::{ItemKind, Metadata};

    fn record(id: &str) -> SpecimenRecord {
        SpecimenRecord {
            specimen_id: id.into(),
            barcode: None,
            specimen_type: SpecimenType::WholeBlood,
            collected_at: Some("2025-10-01T08:00:00".into()),
            case_collection_date: None,
            storage: Some(StorageTemperature::Room),
            storage_celsius: None,
            freeze_thaw_cycles: Some(1),
            haemolysis_index: Some(100.0),
            icterus_index: None,
            lipaemia_index: None,
            residual_volume_ul: None,
            comparator: MethodResult {
                analysed_at: Some("2025-10-01T16:00:00".into()),
                value: Some("4.0".into()),
                unit: Some("%".into()),
                judgement: None,
            },
            device: MethodResult {
                analysed_at: Some("2025-10-01T16:00:00".into()),
                value: Some("18.5".into()),
                unit: Some("%".into()),
                judgement: None,
            },
        }
    }

    fn item(id: i64, case: &str, record: SpecimenRecord) -> ItemFacts {
        ItemFacts {
            id,
            case_id: case.into(),
            path: format!("lab.csv:{}", id + 1),
            path_identifying: false,
            sha256: format!("{id:064}"),
            kind: ItemKind::Specimen,
            metadata: Box::new(Metadata {
                specimen: Some(record),
                ..Metadata::default()
            }),
            problem: None,
        }
    }

    fn rules() -> SpecimenRules {
        SpecimenRules {
            collection_start: Some("2025-10-02".into()),
            unit: Some("%".into()),
            measuring_interval: Some((4.0, 18.5)),
            physiological_limits: Some((2.0, 25.0)),
            max_freeze_thaw: Some(1),
            max_hours_between_methods: Some(24.0),
            haemolysis_max: Some(100.0),
            icterus_max: None,
            lipaemia_max: None,
            stability: BTreeMap::from([(
                SpecimenType::WholeBlood,
                BTreeMap::from([(StorageTemperature::Room, 8.0)]),
            )]),
        }
    }

    fn run(items: &[ItemFacts], rules: Option<&SpecimenRules>) -> Vec<Finding> {
        let mut out = Vec::new();
        let cases: Vec<crate::CaseFacts> = items
            .iter()
            .map(|i| crate::CaseFacts {
                id: i.case_id.clone(),
                provider: i.case_id[..1].to_owned(),
                patient_key: None,
                acquisition_date: None,
                collection_date: None,
                diagnosis_date: None,
            })
            .collect();
        specimen_rules(items, &cases, rules, "2026-12-01", &mut out);
        out
    }

    /// Every limit is inclusive: a value on the interval's edge, an analysis exactly at the
    /// stability limit, the allowed cycles and index, the day before the collection start.
    #[test]
    fn a_specimen_on_every_limit_raises_nothing() {
        let found = run(&[item(1, "C1", record("S1"))], Some(&rules()));
        assert!(found.is_empty(), "{found:#?}");
        // Collected on the day its case was collected for the test.
        let mut r = record("S1");
        r.case_collection_date = Some("2025-10-01".into());
        let found = run(&[item(1, "C1", r)], Some(&rules()));
        assert!(found.is_empty(), "{found:#?}");
    }

    /// Q2: a specimen collected after the study began collecting is existing data when it had
    /// been collected by the time its case was collected for the test; with no case collection
    /// date to tell, it is a warning asking for one, never a blocking doubt.
    #[test]
    fn a_specimen_collected_after_the_start_is_existing_when_its_case_came_later() {
        let mut r = record("S1");
        r.collected_at = Some("2025-10-05T08:00:00".into());
        r.comparator.analysed_at = Some("2025-10-05T16:00:00".into());
        r.device.analysed_at = Some("2025-10-05T16:00:00".into());
        r.case_collection_date = Some("2025-10-06".into());
        let found = run(&[item(1, "C1", r.clone())], Some(&rules()));
        assert!(found.is_empty(), "{found:#?}");
        r.case_collection_date = None;
        let found = run(&[item(1, "C1", r.clone())], Some(&rules()));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            (found[0].rule, found[0].clause),
            ("specimen-existing", "Q2")
        );
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0].message_en.contains("collection_date"),
            "{found:#?}"
        );
        // The day before the start needs no case date.
        r.collected_at = Some("2025-10-01T23:59:00".into());
        r.comparator.analysed_at = Some("2025-10-02T06:00:00".into());
        r.device.analysed_at = Some("2025-10-02T06:00:00".into());
        assert!(run(&[item(1, "C1", r)], Some(&rules())).is_empty());
    }

    #[test]
    fn one_step_past_each_limit_is_a_finding_naming_its_clause() {
        type Change = fn(&mut SpecimenRecord);
        let past: [(&str, &str, Change); 8] = [
            ("specimen-existing", "Q2", |r| {
                // Collected the day after its case was collected for the test.
                r.case_collection_date = Some("2025-09-30".into());
            }),
            ("specimen-existing", "Q2", |r| r.collected_at = None),
            ("specimen-implausible", "Q7", |r| {
                r.device.value = Some("18.6".into())
            }),
            ("specimen-implausible", "Q7", |r| {
                r.comparator.value = Some("<4".into())
            }),
            ("specimen-implausible", "Q7", |r| {
                r.device.unit = Some("mmol/mol".into())
            }),
            ("specimen-chronology", "Q7", |r| {
                r.device.analysed_at = Some("2025-10-01T16:01:00".into())
            }),
            ("specimen-chronology", "Q7", |r| {
                r.freeze_thaw_cycles = Some(2)
            }),
            ("specimen-interference", "Q7", |r| {
                r.haemolysis_index = Some(100.5)
            }),
        ];
        for (rule, clause, change) in past {
            let mut r = record("S1");
            change(&mut r);
            let found = run(&[item(1, "C1", r)], Some(&rules()));
            assert_eq!(found.len(), 1, "{rule}: {found:#?}");
            assert_eq!((found[0].rule, found[0].clause), (rule, clause));
            assert_eq!(found[0].case_ids, ["C1"]);
            assert_eq!(found[0].severity, Severity::Blocking);
        }
    }

    #[test]
    fn the_methods_apart_and_out_of_order_are_chronology() {
        let mut r = record("S1");
        r.storage = Some(StorageTemperature::Refrigerated);
        let mut rules = rules();
        rules.stability.clear();
        r.device.analysed_at = Some("2025-10-02T16:01:00".into());
        let found = run(&[item(1, "C1", r.clone())], Some(&rules));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0]
                .message_en
                .contains("run 24 h apart, more than the 24 h")
        );
        r.device.analysed_at = Some("2025-10-01T07:59:00".into());
        let found = run(&[item(1, "C1", r)], Some(&rules));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message_en.contains("before the collection"));
    }

    #[test]
    fn the_same_specimen_across_providers_and_identical_rows_are_found() {
        let mut twin = record("S2");
        twin.barcode = Some("B-9".into());
        let mut first = record("S1");
        first.barcode = Some("B-9".into());
        let same_id = record("S1");
        let items = [
            item(1, "A-1", first),
            item(2, "A-2", twin),
            item(3, "B-1", same_id),
        ];
        let found = run(&items, Some(&rules()));
        let keys: Vec<&str> = found.iter().map(|f| f.key.as_str()).collect();
        let severity = |key: &str| found.iter().find(|f| f.key == key).unwrap().severity;
        // S1 at providers A and B: two laboratories' numbers may meet; a warning.
        assert_eq!(
            severity("same-specimen:id:S1"),
            Severity::Warning,
            "{keys:?}"
        );
        // One barcode on two tubes of provider A: blocking.
        assert_eq!(
            severity("same-specimen:barcode:B-9"),
            Severity::Blocking,
            "{keys:?}"
        );
        // All three carry the same values: one identical-results finding for the three.
        let identical: Vec<&Finding> = found
            .iter()
            .filter(|f| f.rule == "identical-results")
            .collect();
        assert_eq!(identical.len(), 1);
        assert_eq!(identical[0].case_ids, ["A-1", "A-2", "B-1"]);
        assert_eq!(identical[0].severity, Severity::Warning);
        // One value alone can repeat by chance: not a doubt.
        let mut lone = record("S3");
        lone.haemolysis_index = None;
        lone.device.value = None;
        let mut lone_twin = lone.clone();
        lone_twin.specimen_id = "S4".into();
        let found = run(
            &[item(1, "C1", lone), item(2, "C2", lone_twin)],
            Some(&rules()),
        );
        assert!(
            found.iter().all(|f| f.rule != "identical-results"),
            "{found:#?}"
        );
    }

    /// A date without a time is any minute of its day: a doubt is raised only when it holds at
    /// every such minute.
    #[test]
    fn a_date_without_a_time_raises_only_certain_doubts() {
        let mut r = record("S1");
        r.comparator.analysed_at = Some("2025-10-01".into());
        r.device.analysed_at = Some("2025-10-01".into());
        assert!(run(&[item(1, "C1", r.clone())], Some(&rules())).is_empty());
        // The day before the timed collection is before it, whatever the time.
        r.device.analysed_at = Some("2025-09-30".into());
        let found = run(&[item(1, "C1", r.clone())], Some(&rules()));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message_en.contains("before the collection"));
        // Two days later at room temperature is past 8 h whatever the times.
        r.collected_at = Some("2025-10-01".into());
        r.comparator.analysed_at = Some("2025-10-03".into());
        r.device.analysed_at = Some("2025-10-03".into());
        let found = run(&[item(1, "C1", r)], Some(&rules()));
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found
                .iter()
                .all(|f| f.message_en.contains("beyond the stability"))
        );
    }

    #[test]
    fn a_censored_value_beyond_the_physiological_limits_is_implausible() {
        let mut rules = rules();
        rules.measuring_interval = None;
        for (value, expected) in [(">25", 1), (">300", 1), (">20", 0), ("<2", 1), ("<3", 0)] {
            let mut r = record("S1");
            r.device.value = Some(value.into());
            let found = run(&[item(1, "C1", r)], Some(&rules));
            assert_eq!(found.len(), expected, "{value}: {found:#?}");
        }
    }

    #[test]
    fn units_compare_as_laboratories_write_them() {
        assert!(same_unit("mg/dL", "mg/dl"));
        assert!(same_unit("％", "%"));
        assert!(same_unit(" μmol/L", "µmol/L"));
        assert!(!same_unit("mmol/mol", "%"));
    }

    #[test]
    fn without_a_collection_start_one_warning_asks_for_it() {
        // Case collection dates answer Q2 without a collection start.
        let mut dated = record("S1");
        dated.case_collection_date = Some("2025-10-02".into());
        assert!(run(&[item(1, "C1", dated)], None).is_empty());
        let found = run(
            &[item(1, "C1", record("S1")), item(2, "C2", record("S2"))],
            None,
        );
        let existing: Vec<&Finding> = found
            .iter()
            .filter(|f| f.rule == "specimen-existing")
            .collect();
        assert_eq!(existing.len(), 1);
        assert_eq!(existing[0].severity, Severity::Warning);
        assert_eq!(existing[0].case_ids, ["C1", "C2"]);
        // And nothing about items that are not specimens.
        let mut image = item(3, "C3", record("S3"));
        image.kind = ItemKind::Dicom;
        image.metadata = Box::default();
        assert!(run(&[image], None).is_empty());
    }
}
