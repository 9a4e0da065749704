//! `kizon report`: the 性能評価試験報告書, filled from the study and rendered by kizon-report.
//!
//! Every number comes from the stored analysis (never recomputed here), every hash from the
//! locks and the ledger; the report date is given by the caller. The rendered file's SHA-256
//! is recorded in the ledger, so a report handed to PMDA can be matched to the study.

use std::collections::BTreeMap;

use kizon_protocol::ReferenceStandard;
use kizon_report::model::{
    self as m, Baseline, BaselineRow, BaselineValue, Exclusion, Flow, Hashes, Interval, LedgerHead,
    Methods, PlanLine, RegulatoryPlan, Report, StudyInfo, Text, TraceRow,
};
use serde::Serialize;
use serde_json::json;

use crate::analyze::Analysis;
use crate::{AppError, Study, sha256_hex};

pub use kizon_report::{Lang, NOTO_BOLD, NOTO_REGULAR};

/// The report's output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pdf,
    Html,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Html => "html",
        }
    }
}

/// A rendered report as a file of the evidence package.
#[derive(Debug, Clone)]
pub struct ReportFile {
    pub name: String,
    pub bytes: Vec<u8>,
    pub title_ja: String,
    pub title_en: String,
}

/// A rendered report.
#[derive(Debug, Clone, Serialize)]
pub struct Rendered {
    #[serde(skip)]
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub lang: &'static str,
    pub format: Format,
    pub analysis_sha256: String,
}

/// Text the user gave as written, with its English version when they gave one besides it:
/// the Japanese report prints `text`, the English one `en` or, without it, `text` as written.
/// Two fields, never one string split at a separator (issue 13.6).
fn written(text: &str, en: Option<&str>) -> Text {
    Text::new(text, en.unwrap_or(text))
}

/// The sample-size rationale of the protocol's `[sample_size]` for its primary endpoint: the
/// cases of the endpoint's class that its acceptance criterion needs at the expected value and
/// power (exact binomial; Flahault, Cadilhac & Thomas 2005), and all cases at the prevalence.
fn sample_size(protocol: &kizon_protocol::Protocol, analysis: &Analysis) -> Option<m::SampleSize> {
    use kizon_protocol::Metric as P;
    let plan = protocol.sample_size.as_ref()?;
    let endpoint = protocol.primary_endpoint()?;
    let positive_class = matches!(endpoint.metric, P::Sensitivity | P::Ppa);
    let mut size = m::SampleSize {
        endpoint_id: endpoint.id.clone(),
        metric: report_metric(endpoint.metric),
        goal: endpoint.lower_bound_at_least.unwrap_or(f64::NAN),
        expected: plan.expected,
        power: plan.power,
        ci: ci_method(endpoint.ci.as_str()),
        class_cases: None,
        achieved_power: None,
        positive_class,
        prevalence: plan.prevalence,
        total_cases: None,
        planned_cases: plan.planned_cases,
        analysed_class_cases: if positive_class {
            analysis.flow.reference_positive as u64
        } else {
            analysis.flow.reference_negative as u64
        },
        rationale: plan
            .rationale
            .as_ref()
            .map(|r| written(&r.text, r.en.as_deref())),
        note: None,
    };
    let not_computed = |ja: &str, en: &str| Some(Text::new(ja, en));
    let Some(goal) = endpoint.lower_bound_at_least else {
        size.goal = plan.expected;
        size.note = not_computed(
            "主要評価項目の判定基準が信頼区間の下限によらないため、必要症例数は計算していない。",
            "The primary endpoint's criterion is not on the interval's lower bound: no sample size is computed.",
        );
        return Some(size);
    };
    if !matches!(
        endpoint.metric,
        P::Sensitivity | P::Specificity | P::Ppa | P::Npa
    ) {
        size.note = not_computed(
            "kizon は感度・特異度（陽性・陰性一致率）の判定基準について必要症例数を計算する。本試験の主要評価項目については計画書の根拠を示す。",
            "kizon computes the sample size for sensitivity and specificity (PPA, NPA) criteria; for this primary endpoint the protocol's rationale is shown.",
        );
        return Some(size);
    }
    match kizon_stats::proportion_sample_size(
        goal,
        plan.expected,
        endpoint.level,
        plan.power,
        crate::analyze::proportion_ci(endpoint),
    ) {
        Ok(n) => {
            size.class_cases = Some(n.n);
            size.achieved_power = Some(n.power);
            size.total_cases = plan.prevalence.and_then(|p| {
                let fraction = if positive_class { p } else { 1.0 - p };
                kizon_stats::total_for_fraction(n.n, fraction).ok()
            });
        }
        Err(e) => {
            size.note = Some(Text::new(
                format!("必要症例数を計算できない：{e}"),
                format!("The sample size cannot be computed: {e}"),
            ));
        }
    }
    Some(size)
}

/// The panel's agreement before consensus: Fleiss' κ over the cases every reader read (Fleiss
/// 1971) and the range of the pairwise Cohen's κ (Cohen 1960), with their intervals.
fn agreement_statements(agreement: Option<&crate::reference::PanelAgreement>) -> Vec<Text> {
    let Some(a) = agreement else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(f) = &a.fleiss {
        let k = &f.kappa;
        out.push(Text::new(
            format!(
                "読影者間の一致（合議前）：Fleiss の κ = {:.3}（95% 信頼区間 {:.3}–{:.3}；読影者 {} 名、{} 例）。",
                k.estimate, k.lower, k.upper, f.readers, f.cases
            ),
            format!(
                "Agreement between readers (before consensus): Fleiss' κ = {:.3} (95% CI {:.3}–{:.3}; {} readers, {} cases).",
                k.estimate, k.lower, k.upper, f.readers, f.cases
            ),
        ));
    }
    let kappas: Vec<f64> = a
        .pairwise
        .iter()
        .filter_map(|p| p.kappa.as_ref().map(|k| k.estimate))
        .collect();
    if let (Some(low), Some(high)) = (
        kappas.iter().copied().reduce(f64::min),
        kappas.iter().copied().reduce(f64::max),
    ) {
        out.push(Text::new(
            format!(
                "読影者の組ごとの Cohen の κ：{low:.3}–{high:.3}（{} 組）。",
                kappas.len()
            ),
            format!(
                "Cohen's κ of each pair of readers: {low:.3}–{high:.3} ({} pairs).",
                kappas.len()
            ),
        ));
    }
    out
}

/// A warning when the protocol plans fewer cases than its own sample-size assumptions need.
pub(crate) fn planned_cases_warning(
    protocol: &kizon_protocol::Protocol,
) -> Option<kizon_protocol::lint::Warning> {
    let planned = protocol.sample_size.as_ref()?.planned_cases?;
    let endpoint = protocol.primary_endpoint()?;
    let plan = protocol.sample_size.as_ref()?;
    let goal = endpoint.lower_bound_at_least?;
    let positive = matches!(
        endpoint.metric,
        kizon_protocol::Metric::Sensitivity | kizon_protocol::Metric::Ppa
    );
    let n = kizon_stats::proportion_sample_size(
        goal,
        plan.expected,
        endpoint.level,
        plan.power,
        crate::analyze::proportion_ci(endpoint),
    )
    .ok()?;
    let fraction = if positive {
        plan.prevalence?
    } else {
        1.0 - plan.prevalence?
    };
    let needed = kizon_stats::total_for_fraction(n.n, fraction).ok()?;
    (planned < needed).then(|| kizon_protocol::lint::Warning {
        key: "sample_size.planned_cases".into(),
        message_ja: format!(
            "計画症例数 {planned} 例は、想定（想定値 {}、検出力 {}、想定有病率 {}）から計算した必要症例数 {needed} 例に満たない（正確二項法）。",
            plan.expected,
            plan.power,
            plan.prevalence.unwrap_or(0.0)
        ),
        message_en: format!(
            "{planned} cases are planned, fewer than the {needed} the protocol's own assumptions need (expected {}, power {}, prevalence {}; exact binomial)",
            plan.expected,
            plan.power,
            plan.prevalence.unwrap_or(0.0)
        ),
    })
}

/// How the panel read: the protocol's reading conditions, the order the web workspace showed
/// the cases in, and what the readers were kept from, according to where the reads came from
/// (the web workspace, or files imported).
fn reading_statements(
    protocol: &kizon_protocol::Protocol,
    ledger: &[kizon_store::LedgerEntry],
) -> Vec<Text> {
    let mut out = Vec::new();
    if let Some(c) = &protocol.reading.conditions {
        out.push(Text::new(
            format!("読影条件：{}", c.text),
            format!("Reading conditions: {}", c.english()),
        ));
    }
    let web = ledger.iter().filter(|e| e.command == "read").count();
    let files = ledger
        .iter()
        .filter(|e| e.command == "reads import")
        .count();
    if web > 0 {
        out.push(Text::new(
            format!(
                "{web} 件の読影は kizon の Web 作業画面で行われた。読影者には割り当てられた症例の画像・波形のみを示し、被験機器の結果、臨床情報及び他の読影者の判定は示していない。各読影は一度だけ記録され、変更できない。"
            ),
            format!(
                "{web} reads were made in kizon's web workspace, which shows a reader the images and waveforms of their assigned cases only: no device result, clinical information or other reader's read. Each read is recorded once and cannot be changed."
            ),
        ));
        out.push(match protocol.reading.case_order {
            kizon_protocol::CaseOrder::RandomPerReader => Text::new(
                "症例の提示順：読影者ごとに無作為（読影者コードと症例 ID の SHA-256 の順。再現可能）。",
                "Case order: random for each reader (by the SHA-256 of reader code and case id; reproducible).",
            ),
            kizon_protocol::CaseOrder::AsAssigned => Text::new(
                "症例の提示順：全読影者に同一（割り当ての順）。",
                "Case order: the same for every reader (the order of assignment).",
            ),
        });
    }
    if files > 0 {
        out.push(Text::new(
            format!(
                "読影記録ファイル {files} 件から読影を取り込んだ（その読影の環境と提示順は kizon の外で管理され、ファイルは信頼性調査用資料に含まれる）。"
            ),
            format!(
                "Reads were imported from {files} reading files (their environment and case order were managed outside kizon; the files are in the evidence package)."
            ),
        ));
    }
    out
}

fn same(text: impl Into<String>) -> Text {
    let text = text.into();
    Text::new(text.clone(), text)
}

/// A rule's name in both languages, for exclusion reasons and finding rows.
fn rule_name(rule: &str) -> Text {
    let (ja, en) = crate::names::rule(rule);
    Text::new(ja, en)
}

fn subgroup_name(variable: &str) -> Text {
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

fn level_text(variable: &str, level: &str) -> Text {
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

fn report_metric(metric: kizon_protocol::Metric) -> m::Metric {
    serde_json::from_value(json!(metric.as_str())).expect("protocol metrics are report metrics")
}

fn ci_method(name: &str) -> m::CiMethod {
    match name {
        "delong" => m::CiMethod::Delong,
        "fleiss-cohen-everitt" => m::CiMethod::KappaAsymptotic,
        other => serde_json::from_value(json!(other)).unwrap_or(m::CiMethod::Wilson),
    }
}

fn verdict(pass: Option<bool>) -> Option<m::Verdict> {
    pass.map(|p| {
        if p {
            m::Verdict::Pass
        } else {
            m::Verdict::Fail
        }
    })
}

impl Study {
    /// Renders the report of the latest analysis.
    pub fn report(
        &mut self,
        actor: &str,
        lang: Lang,
        format: Format,
        report_date: &str,
    ) -> Result<Rendered, AppError> {
        let (report, analysis_sha256) = self.report_model(report_date)?;
        self.render(actor, &report, &analysis_sha256, lang, format)
    }

    /// Renders a report model and records the rendering's hash in the ledger.
    fn render(
        &mut self,
        actor: &str,
        report: &Report,
        analysis_sha256: &str,
        lang: Lang,
        format: Format,
    ) -> Result<Rendered, AppError> {
        let refused = |e: kizon_report::ReportError| AppError::Refused {
            what: format!("the report cannot be rendered: {e}"),
            hint: "check the study's texts for characters outside JIS X 0208/0213, or report a bug"
                .into(),
        };
        let bytes = match format {
            Format::Pdf => kizon_report::render_pdf(report, lang).map_err(refused)?,
            Format::Html => kizon_report::render_html(report, lang)
                .map_err(refused)?
                .into_bytes(),
        };
        let sha256 = sha256_hex(&bytes);
        let lang_name = match lang {
            Lang::Ja => "ja",
            Lang::En => "en",
        };
        let report_date = &report.study.report_date;
        self.store.transact(actor, |tx| {
            tx.record(
                "report",
                &format!("report rendered ({lang_name}, {}): sha256 {}", format.extension(), &sha256[..12]),
                json!({ "sha256": sha256, "lang": lang_name, "format": format.extension(), "analysis_sha256": analysis_sha256, "report_date": report_date }),
            )
        })?;
        Ok(Rendered {
            bytes,
            sha256,
            lang: lang_name,
            format,
            analysis_sha256: analysis_sha256.to_owned(),
        })
    }

    /// Every rendering (Japanese and English, PDF and HTML) of one report model, for the
    /// evidence package; empty before the first analysis.
    pub fn report_files(
        &mut self,
        actor: &str,
        report_date: &str,
    ) -> Result<Vec<ReportFile>, AppError> {
        if self.store.analyses()?.is_empty() {
            return Ok(Vec::new());
        }
        let (report, analysis_sha256) = self.report_model(report_date)?;
        let mut out = Vec::new();
        for (lang, ja) in [(Lang::Ja, "日本語"), (Lang::En, "英語")] {
            for format in [Format::Pdf, Format::Html] {
                let rendered = self.render(actor, &report, &analysis_sha256, lang, format)?;
                out.push(ReportFile {
                    name: format!("report-{}.{}", rendered.lang, format.extension()),
                    bytes: rendered.bytes,
                    title_ja: format!("性能評価試験報告書（{ja}、{}）", format.extension()),
                    title_en: format!(
                        "performance evaluation test report ({}, {})",
                        rendered.lang,
                        format.extension()
                    ),
                });
            }
        }
        Ok(out)
    }

    /// The report model of the latest analysis, and that analysis's output hash.
    pub fn report_model(&self, report_date: &str) -> Result<(Report, String), AppError> {
        let Some((analysis, analysis_sha256)) = self.latest_analysis()? else {
            return Err(AppError::Refused {
                what: "no analysis yet: the report shows an analysis".into(),
                hint: "run `kizon analyze` first".into(),
            });
        };
        let (protocol, _) = self.protocol()?;
        let plan = self.plan(crate::plan::PlanOptions::default())?.plan;
        let (reference, reference_sha) = self.reference_standard()?;
        let ledger = self.audit_log()?;
        // The report is bound to the ledger entry that recorded its analysis (not to the head
        // at rendering time, which each rendering moves), so rendering again gives the same bytes.
        let analyze_entry = ledger
            .iter()
            .rev()
            .find(|e| e.command == "analyze" && e.detail.contains(&analysis_sha256));
        let analyze_seq = analyze_entry.map_or(0, |e| e.seq);
        let head = analyze_entry
            .map(|e| (e.seq, e.hash.clone()))
            .unwrap_or_default();
        let first_result_seq = ledger
            .iter()
            .find(|e| e.command == "results import")
            .map(|e| e.seq);
        let dataset = self.locked_dataset("the report")?;

        let title = Text::new(
            protocol.study.title.clone(),
            protocol
                .study
                .title_en
                .clone()
                .unwrap_or_else(|| protocol.study.title.clone()),
        );
        let study = StudyInfo {
            id: protocol.study.id.clone(),
            title,
            sponsor: written(
                &protocol.study.sponsor,
                protocol.study.sponsor_en.as_deref(),
            ),
            device: m::Device {
                name: same(protocol.device.name.clone()),
                // The version whose results the report analyses; a protocol naming another
                // version is a finding (`device-version-differs`) listed with the doubts.
                version: analysis.inputs.device_version.clone(),
                intended_use: protocol
                    .device
                    .intended_use
                    .as_deref()
                    .map(|u| written(u, protocol.device.intended_use_en.as_deref())),
            },
            test_type: if plan.test_type.as_str() == "2(2)" {
                m::TestType::WithClinicalInfo
            } else {
                m::TestType::ImagesOnly
            },
            rules_version: plan.rules_version.id.to_owned(),
            report_date: report_date.to_owned(),
            hashes: Hashes {
                protocol_sha256: analysis.inputs.protocol_sha256.clone(),
                dataset_merkle_root: analysis.inputs.dataset_root.clone(),
                reference_standard: reference_sha.clone().unwrap_or_default(),
                device_results: analysis.inputs.results_sha256.clone(),
                analysis: analysis_sha256.clone(),
                ledger_head: LedgerHead {
                    seq: head.0 as u64,
                    hash: head.1,
                },
                owner_public_key: self.owner_public_key()?,
            },
        };

        let mut provider_cases: BTreeMap<String, u64> = BTreeMap::new();
        for case in self.store.cases()? {
            *provider_cases.entry(case.provider).or_default() += 1;
        }
        let mut provider_dataset_cases: BTreeMap<&str, u64> = BTreeMap::new();
        for case in &dataset.cases {
            *provider_dataset_cases
                .entry(case.provider.as_str())
                .or_default() += 1;
        }
        let providers = self
            .providers()?
            .into_iter()
            .filter_map(|p| {
                Some(m::Provider {
                    cases: provider_cases.get(&p.name).copied().unwrap_or(0),
                    dataset_cases: Some(
                        provider_dataset_cases
                            .get(p.name.as_str())
                            .copied()
                            .unwrap_or(0),
                    ),
                    kind: serde_json::from_value(json!(p.kind)).ok()?,
                    consent: serde_json::from_value(json!(p.consent_model)).ok()?,
                    name: same(p.name),
                })
            })
            .collect();
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for case in &dataset.cases {
            for item in &case.items {
                *kinds.entry(item.kind.clone()).or_default() += 1;
            }
        }
        let kinds_text = |en: bool| {
            kinds
                .iter()
                .map(|(k, n)| {
                    let (ja, english) = crate::names::item_kind(k);
                    format!("{} {n}", if en { english } else { ja })
                })
                .collect::<Vec<_>>()
                .join(if en { ", " } else { "、" })
        };
        let readers = self.readers()?;
        let reference_standard = match reference.kind {
            ReferenceStandard::ExpertPanel => {
                let years: Vec<i64> = readers.iter().map(|r| r.years_experience).collect();
                // Each distinct qualification once, as written and in English.
                let qualifications: Vec<Text> = readers
                    .iter()
                    .map(|r| written(&r.qualification, r.qualification_en.as_deref()))
                    .fold(Vec::new(), |mut seen, q| {
                        if !seen.contains(&q) {
                            seen.push(q);
                        }
                        seen
                    });
                let qualifications_ja = qualifications
                    .iter()
                    .map(|q| q.ja.as_str())
                    .collect::<Vec<_>>()
                    .join("、");
                let qualifications_en = qualifications
                    .iter()
                    .map(|q| q.en.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                let rule = reference.rule.as_ref();
                m::ReferenceStandard::ExpertPanel {
                    readers: reference.readers.len() as u32,
                    qualification: {
                        // "12 years" when every reader has the same, "8–20 years" otherwise;
                        // each reader's qualification, independence and years stay listed
                        // one by one in the package's readers.json.
                        let (low, high) = (
                            years.iter().min().copied().unwrap_or(0),
                            years.iter().max().copied().unwrap_or(0),
                        );
                        let span = if low == high {
                            low.to_string()
                        } else {
                            format!("{low}–{high}")
                        };
                        let independent = readers.iter().filter(|r| r.independent).count();
                        Text::new(
                            format!(
                                "{}（経験 {span} 年、{} 名中 {independent} 名が被験機器の開発から独立）",
                                qualifications_ja,
                                readers.len()
                            ),
                            format!(
                                "{} ({span} years of experience; {independent} of {} independent of the device's development)",
                                qualifications_en,
                                readers.len()
                            ),
                        )
                    },
                    // Each rule as the template defines it: who decides when the panel does not.
                    consensus_rule: match rule {
                        Some(rule) => {
                            use kizon_protocol::Consensus as C;
                            let k = rule.k.unwrap_or(0);
                            let (ja, en) = match rule.consensus {
                                C::Majority => (
                                    "過半数（同数のときは判定者）".to_owned(),
                                    "majority (a tie goes to the adjudicator)".to_owned(),
                                ),
                                C::Unanimous => (
                                    "全員一致（一致しないときは判定者）".to_owned(),
                                    "unanimous (otherwise the adjudicator)".to_owned(),
                                ),
                                C::KOfN => (
                                    format!("{k} 人以上が陽性なら陽性"),
                                    format!("positive when at least {k} readers say positive"),
                                ),
                                C::Adjudicator => (
                                    "一致はそのまま、一致しないときは判定者".to_owned(),
                                    "agreement stands; a disagreement goes to the adjudicator"
                                        .to_owned(),
                                ),
                            };
                            Text::new(
                                format!("{ja}。各症例 {} 読影以上", rule.minimum_reads),
                                format!("{en}; at least {} reads per case", rule.minimum_reads),
                            )
                        }
                        None => same("-"),
                    },
                }
            }
            ReferenceStandard::ConfirmedDiagnosis => {
                let sources: Vec<(String, Option<String>)> = self
                    .store
                    .reference_records()?
                    .into_iter()
                    .filter_map(|r| Some((r.source_document?, r.source_document_en)))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                // Each kind of source record once, as written and in English.
                let split: Vec<Text> = sources
                    .iter()
                    .map(|(s, en)| written(s, en.as_deref()))
                    .collect();
                m::ReferenceStandard::ConfirmedDiagnosis {
                    source: Text::new(
                        split
                            .iter()
                            .map(|t| t.ja.as_str())
                            .collect::<Vec<_>>()
                            .join("、"),
                        split
                            .iter()
                            .map(|t| t.en.as_str())
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                }
            }
            ReferenceStandard::ComparatorMethod => m::ReferenceStandard::ComparatorMethod {
                method: Text::new("対照法の判定結果", "the comparator method's results"),
            },
        };
        let level = protocol.primary_endpoint().map_or(0.95, |e| e.level);
        let mut statistics = vec![Text::new(
            format!(
                "解析対象は参照標準と被験機器の結果がともに陽性又は陰性の症例（{} 例）。判定不能の結果は主解析から除き、感度分析で陽性・陰性として扱った。",
                analysis.flow.analysed
            ),
            format!(
                "The analysis set is the cases whose reference standard and device result are both positive or negative ({} cases). Indeterminate results are left out of the primary analysis and counted as positive and as negative in sensitivity analyses.",
                analysis.flow.analysed
            ),
        )];
        statistics.push(Text::new(
            "評価項目、判定基準、解析対象（固定データセット）、選択・除外基準及び参照標準は、被験機器の結果を取り込む前に計画書と台帳で固定した。結果の取込み後にこれらを変える改訂は kizon が受け付けない（事前規定の保護）。各改訂の変更点は「計画の変更」に項目ごとに示す。",
            "The endpoints, acceptance criteria, analysis set (the locked dataset), eligibility criteria and reference standard were fixed in the protocol and the ledger before the device's results were imported. kizon refuses any amendment that would change them once the results are in (pre-specification guard); each amendment's changes are listed key by key under Amendments.",
        ));
        if analysis.endpoints.iter().any(|e| e.clustered.is_some()) {
            statistics.push(Text::new(
                "同一患者から複数症例がある場合、患者をクラスターとする比推定量の信頼区間（Obuchowski 1998）を併記した。",
                "Where a patient contributes several cases, a clustered interval with patients as clusters (ratio estimator, Obuchowski 1998) is given alongside.",
            ));
        }
        let methods = Methods {
            objective: Text::new(
                format!(
                    "既存データを用いて{}の性能を評価し、事前に定めた判定基準への適合を確認する。",
                    protocol.device.name
                ),
                format!(
                    "To evaluate the performance of {} on existing data against acceptance criteria fixed in advance.",
                    protocol.device.name
                ),
            ),
            data_description: Text::new(
                format!(
                    "固定データセット {} 例、ファイル {} 件（{}）",
                    dataset.cases.len(),
                    dataset.items(),
                    kinds_text(false)
                ),
                format!(
                    "locked dataset of {} cases, {} files ({})",
                    dataset.cases.len(),
                    dataset.items(),
                    kinds_text(true)
                ),
            ),
            providers,
            eligibility: m::Eligibility {
                inclusion: protocol
                    .eligibility
                    .inclusion
                    .iter()
                    .map(|t| written(&t.text, t.en.as_deref()))
                    .collect(),
                exclusion: protocol
                    .eligibility
                    .exclusion
                    .iter()
                    .map(|t| written(&t.text, t.en.as_deref()))
                    .collect(),
            },
            reference_standard,
            blinding: vec![Text::new(
                format!(
                    "参照標準は被験機器の結果を取り込む前に固定した（監査証跡 #{}）。",
                    ledger
                        .iter()
                        .find(|e| e.command == "lock reference")
                        .map_or(0, |e| e.seq)
                ),
                format!(
                    "The reference standard was locked before any device result was imported (ledger entry {}).",
                    ledger
                        .iter()
                        .find(|e| e.command == "lock reference")
                        .map_or(0, |e| e.seq)
                ),
            )],
            confidence_level: level,
            statistics,
            sample_size: sample_size(&protocol, &analysis),
            reading: if reference.kind == ReferenceStandard::ExpertPanel {
                let mut statements = reading_statements(&protocol, &ledger);
                statements.extend(agreement_statements(analysis.reader_agreement.as_ref()));
                statements
            } else {
                Vec::new()
            },
        };

        let flow = Flow {
            collected: analysis.flow.collected as u64,
            excluded: analysis
                .flow
                .excluded
                .iter()
                .map(|g| {
                    let name = rule_name(&g.rule);
                    Exclusion {
                        reason: Text::new(
                            format!("{}（{}）", name.ja, g.clause),
                            format!("{} ({})", name.en, g.clause),
                        ),
                        count: g.cases.len() as u64,
                    }
                })
                .collect(),
            eligible: analysis.flow.included as u64,
            no_reference_standard: (analysis.flow.no_reference.len()
                + analysis.flow.reference_indeterminate.len())
                as u64,
            no_device_result: analysis.flow.no_result.len() as u64,
            indeterminate: analysis.flow.device_indeterminate.len() as u64,
            indeterminate_handling: m::IndeterminateHandling::Excluded,
            analysed: analysis.flow.analysed as u64,
            reference_positive: analysis.flow.reference_positive as u64,
            reference_negative: analysis.flow.reference_negative as u64,
        };
        let included = analysis.flow.included as u64;
        let analysed = analysis.flow.analysed as u64;
        // Two columns, the included cases (the flow diagram's eligible) and the analysed ones
        // (its analysis set), so that each count matches the flow diagram and the 2×2 table.
        let baseline = Baseline {
            groups: vec![
                Text::new("採用症例", "Included cases"),
                Text::new("解析対象", "Analysed cases"),
            ],
            rows: analysis
                .baseline
                .iter()
                .flat_map(|b| {
                    b.levels
                        .iter()
                        .enumerate()
                        .map(move |(i, (level, n))| BaselineRow {
                            variable: subgroup_name(&b.variable),
                            level: Some(level_text(&b.variable, level)),
                            values: vec![
                                BaselineValue::Count {
                                    n: *n as u64,
                                    of: included,
                                },
                                match b.analysed.get(i) {
                                    Some(a) => BaselineValue::Count {
                                        n: *a as u64,
                                        of: analysed,
                                    },
                                    None => BaselineValue::NotApplicable,
                                },
                            ],
                        })
                })
                .collect(),
        };
        let interval = |e: &kizon_stats::Estimate, method: &str| Interval {
            low: e.lower,
            high: e.upper,
            method: ci_method(method),
        };
        let mut endpoints = Vec::new();
        let mut traceability = Vec::new();
        for e in &analysis.endpoints {
            let Some(estimate) = &e.estimate else {
                continue;
            };
            endpoints.push(m::EndpointResult {
                id: e.id.clone(),
                name: Text::new(e.name_ja.clone(), e.name_en.clone()),
                primary: e.primary,
                metric: report_metric(e.metric),
                estimate: estimate.estimate,
                ci: Some(interval(estimate, &e.ci_method)),
                acceptance_criterion: e
                    .criterion_ja
                    .clone()
                    .zip(e.criterion_en.clone())
                    .map(|(ja, en)| Text::new(ja, en)),
                verdict: verdict(e.pass),
                table: e.table.map(|t| m::TwoByTwo {
                    tp: t.tp,
                    fp: t.fp,
                    fn_: t.fn_,
                    tn: t.tn,
                }),
            });
            traceability.push(TraceRow {
                item: Text::new(e.name_ja.clone(), e.name_en.clone()),
                // The same strings the report prints (kizon-report's formatting).
                value: format!(
                    "{} ({})",
                    kizon_report::format_value(report_metric(e.metric), estimate.estimate),
                    kizon_report::format_interval(
                        report_metric(e.metric),
                        &interval(estimate, &e.ci_method)
                    )
                ),
                analysis_id: analysis_sha256[..12].to_owned(),
                endpoint_id: Some(e.id.clone()),
                case_list_sha256: e.cases_sha256.clone(),
                ledger_seq: analyze_seq as u64,
            });
        }
        let primary_table = analysis.endpoints.iter().find_map(|e| e.table);
        let roc = analysis
            .roc
            .iter()
            .map(|r| m::RocCurve {
                id: "roc".into(),
                name: Text::new(
                    format!("{}のROC曲線", protocol.device.name),
                    format!("ROC curve of {}", protocol.device.name),
                ),
                points: r
                    .fpr
                    .iter()
                    .zip(&r.tpr)
                    .map(|(fpr, tpr)| m::RocPoint {
                        fpr: *fpr,
                        tpr: *tpr,
                    })
                    .collect(),
                auc: r.auc.estimate,
                ci: Some(Interval {
                    low: r.auc.lower,
                    high: r.auc.upper,
                    method: m::CiMethod::Delong,
                }),
                positives: r.positives,
                negatives: r.negatives,
                operating_point: primary_table
                    .filter(|t| t.tp + t.fn_ > 0 && t.fp + t.tn > 0)
                    .map(|t| m::RocPoint {
                        fpr: t.fp as f64 / (t.fp + t.tn) as f64,
                        tpr: t.tp as f64 / (t.tp + t.fn_) as f64,
                    }),
            })
            .collect();
        let method_of: BTreeMap<&str, &str> = analysis
            .endpoints
            .iter()
            .map(|e| (e.id.as_str(), e.ci_method.as_str()))
            .collect();
        // Every level, those without an estimate too: its row says so, and the rows of an
        // endpoint add up to the endpoint's denominator.
        let subgroups = analysis
            .subgroups
            .iter()
            .map(|s| {
                let metric = report_metric(s.metric);
                let fraction = s.table.and_then(|t| {
                    metric.fraction(&m::TwoByTwo {
                        tp: t.tp,
                        fp: t.fp,
                        fn_: t.fn_,
                        tn: t.tn,
                    })
                });
                m::SubgroupRow {
                    endpoint: Some(s.endpoint.clone()),
                    variable: subgroup_name(&s.variable),
                    level: level_text(&s.variable, &s.level),
                    cases: Some(s.n as u64),
                    n: fraction.map_or(s.n as u64, |(_, n)| n),
                    x: fraction.map(|(x, _)| x),
                    metric,
                    estimate: s.estimate.as_ref().map(|e| e.estimate),
                    ci: s.estimate.as_ref().map(|e| {
                        interval(
                            e,
                            method_of
                                .get(s.endpoint.as_str())
                                .copied()
                                .unwrap_or("wilson"),
                        )
                    }),
                }
            })
            .collect();
        // Every sensitivity analysis, those with nothing to estimate from too (said so).
        let sensitivity_analyses = analysis
            .sensitivity_analyses
            .iter()
            .map(|s| m::SensitivityRow {
                id: format!("{}:{}", s.endpoint, s.analysis),
                endpoint: Some(s.endpoint.clone()),
                analysis: Text::new(s.name_ja.clone(), s.name_en.clone()),
                n: s.n as u64,
                metric: report_metric(s.metric),
                estimate: s.estimate.as_ref().map(|e| e.estimate),
                ci: s.estimate.as_ref().map(|e| {
                    interval(
                        e,
                        method_of
                            .get(s.endpoint.as_str())
                            .copied()
                            .unwrap_or("wilson"),
                    )
                }),
                verdict: verdict(s.pass),
            })
            .collect();
        // Every finding, open or decided, with every decision on it (a query to the provider
        // and the later decision both stay), each with its date and actor from the ledger.
        let decision_of = |d: &str| match d {
            "exclude-case" => Some(m::Decision::ExcludeCase),
            "accept" => Some(m::Decision::Accept),
            "query-provider" => Some(m::Decision::QueryProvider),
            _ => None,
        };
        let mut history: BTreeMap<i64, Vec<m::DecisionRecord>> = BTreeMap::new();
        for r in self.store.resolutions()? {
            let Some(decision) = decision_of(&r.decision) else {
                continue;
            };
            let entry = ledger.iter().find(|e| e.seq == r.ledger_seq);
            history
                .entry(r.finding_id)
                .or_default()
                .push(m::DecisionRecord {
                    at: entry.map_or(String::new(), |e| {
                        format!("{} {}", &e.at[..10], &e.at[11..16])
                    }),
                    actor: entry.map_or(String::new(), |e| e.actor.clone()),
                    decision,
                    reason: written(&r.reason, r.reason_en.as_deref()),
                    ledger_seq: r.ledger_seq as u64,
                });
        }
        let findings = self
            .findings()?
            .into_iter()
            .map(|f| {
                let decision = match f.status {
                    "excluded" => Some(m::Decision::ExcludeCase),
                    "accepted" => Some(m::Decision::Accept),
                    "queried" => Some(m::Decision::QueryProvider),
                    _ => None,
                };
                m::FindingRow {
                    id: format!("#{}", f.id),
                    rule_name: Some(rule_name(&f.rule)),
                    rule: f.rule,
                    clause: f.clause,
                    case_ids: f.case_ids,
                    severity: if f.severity == "blocking" {
                        m::Severity::Blocking
                    } else {
                        m::Severity::Warning
                    },
                    description: Text::new(f.message_ja, f.message_en),
                    decision,
                    reason: written(f.reason.as_deref().unwrap_or(""), f.reason_en.as_deref()),
                    history: history.remove(&f.id).unwrap_or_default(),
                }
            })
            .collect();
        let amendments: Vec<m::Amendment> = self
            .store
            .amendments()?
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                let date = ledger
                    .iter()
                    .find(|e| e.seq == a.ledger_seq)
                    .map_or(String::new(), |e| e.at[..10].to_owned());
                let what = if a.lock_kind == crate::dataset::DATASET {
                    ("データセット", "dataset")
                } else {
                    ("試験計画書", "protocol")
                };
                // What changed, key by key, from the two versions in the document store.
                let keys = if a.lock_kind == crate::dataset::DATASET {
                    Vec::new()
                } else {
                    let text = |sha: &str| {
                        std::fs::read_to_string(kizon_store::documents::path_of(self.root(), sha))
                            .unwrap_or_default()
                    };
                    crate::protocol_diff::changes(&text(&a.old_sha256), &text(&a.new_sha256))
                };
                let listed = |absent: &str| {
                    if keys.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ": {}",
                            keys.iter()
                                .map(|k| k.describe(absent))
                                .collect::<Vec<_>>()
                                .join("; ")
                        )
                    }
                };
                m::Amendment {
                    seq: i as u32 + 1,
                    date,
                    change: Text::new(
                        format!(
                            "{}の改訂 {} → {}{}",
                            what.0,
                            &a.old_sha256[..12],
                            &a.new_sha256[..12],
                            listed("（なし）")
                        ),
                        format!(
                            "{} amended {} → {}{}",
                            what.1,
                            &a.old_sha256[..12],
                            &a.new_sha256[..12],
                            listed("(none)")
                        ),
                    ),
                    reason: written(&a.reason, a.reason_en.as_deref()),
                    before_unblinding: first_result_seq.is_none_or(|r| a.ledger_seq < r),
                    ledger_seq: a.ledger_seq as u64,
                }
            })
            .collect();
        let line = |ja: &str, en: &str, value: Text, clause: &str| PlanLine {
            item: Text::new(ja, en),
            value,
            clause: clause.into(),
        };
        let regulatory_plan = RegulatoryPlan {
            lines: vec![
                line(
                    "試験区分（課長通知）",
                    "Test type (Director's notice)",
                    same(plan.test_type.as_str()),
                    "Q4",
                ),
                line(
                    "申請区分",
                    "Application category",
                    same(plan.application_category.unwrap_or("-")),
                    "Q10",
                ),
                line(
                    "試験プロトコルの相談区分",
                    "Protocol consultation",
                    same(plan.protocol_consultation),
                    "Q10",
                ),
                line(
                    "信頼性確保の方法の相談区分",
                    "Reliability consultation",
                    same(plan.reliability_consultation),
                    "Q10",
                ),
                line(
                    "症例一覧表",
                    "Case list",
                    if plan.case_list_required {
                        Text::new("必要（付録B）", "required (Appendix B)")
                    } else {
                        Text::new(
                            "不要（信頼性調査用資料 dataset/case-list.csv に収録）",
                            "not required (dataset/case-list.csv in the evidence package)",
                        )
                    },
                    "Q10",
                ),
            ],
        };
        let primary = analysis
            .endpoints
            .iter()
            .find(|e| e.primary)
            .or(analysis.endpoints.first());
        let summary = primary
            .and_then(|e| {
                let est = e.estimate.as_ref()?;
                let verdict = match e.pass {
                    Some(true) => ("判定基準に適合した", "met its acceptance criterion"),
                    Some(false) => (
                        "判定基準に適合しなかった",
                        "did not meet its acceptance criterion",
                    ),
                    None => ("", ""),
                };
                Some(vec![Text::new(
                    format!(
                        "主要評価項目（{}）は {:.1}%（{:.0}%信頼区間 {:.1}–{:.1}%）であり、{}。",
                        e.name_ja,
                        est.estimate * 100.0,
                        e.level * 100.0,
                        est.lower * 100.0,
                        est.upper * 100.0,
                        verdict.0
                    ),
                    format!(
                        "The primary endpoint ({}) was {:.1}% ({:.0}% CI {:.1}–{:.1}%) and {}.",
                        e.name_en,
                        est.estimate * 100.0,
                        e.level * 100.0,
                        est.lower * 100.0,
                        est.upper * 100.0,
                        verdict.1
                    ),
                )])
            })
            .unwrap_or_default();
        let lesions = analysis.lesions.as_ref().map(|l| {
            let f = &l.figures;
            let est = |e: &kizon_stats::Estimate| m::LesionEstimate {
                estimate: e.estimate,
                lower: Some(e.lower),
                upper: Some(e.upper),
            };
            let fom = |e: &crate::lesions::FomCi| m::LesionEstimate {
                estimate: e.estimate,
                lower: e.lower,
                upper: e.upper,
            };
            m::LesionResults {
                criterion: f.criterion.clone(),
                k: protocol.lesions.as_ref().map_or(1, |p| p.k),
                threshold: f.threshold,
                cases: f.cases,
                normal_cases: f.normal_cases,
                abnormal_cases: f.abnormal_cases,
                images: f.images,
                lesions: f.lesions,
                marks: f.marks,
                hits: f.hits,
                false_positives: f.nl_marks,
                lesion_types: l
                    .lesion_types
                    .iter()
                    .map(|(t, n)| m::LesionTypeCount {
                        lesion_type: t.clone(),
                        count: *n,
                    })
                    .collect(),
                afroc: fom(&f.afroc),
                wafroc: fom(&f.wafroc),
                replicates: f.replicates as u64,
                lesion_sensitivity: f.lesion_sensitivity.as_ref().map(est),
                fp_per_image: f.fp_per_image.as_ref().map(est),
                fp_per_case: f.fp_per_case.as_ref().map(est),
                case_sensitivity: f.case_sensitivity.as_ref().map(est),
                case_specificity: f.case_specificity.as_ref().map(est),
                mean_distance: f.localisation.as_ref().map(|x| x.mean_distance),
                median_distance: f.localisation.as_ref().map(|x| x.median_distance),
                mean_iou: f.localisation.as_ref().and_then(|x| x.mean_iou),
                mean_dice: f
                    .localisation
                    .as_ref()
                    .and_then(|x| x.segmentation.as_ref())
                    .map(|s| s.mean_dice),
                froc: f
                    .froc_curve
                    .iter()
                    .map(|p| m::CurvePoint { x: p.nlf, y: p.llf })
                    .collect(),
                afroc_curve: f
                    .afroc_curve
                    .iter()
                    .map(|p| m::CurvePoint { x: p.fpf, y: p.llf })
                    .collect(),
            }
        });
        let reader_study = analysis.reader_study.as_ref().map(|s| {
            let est = |e: &kizon_stats::Estimate| m::LesionEstimate {
                estimate: e.estimate,
                lower: Some(e.lower),
                upper: Some(e.upper),
            };
            m::ReaderStudyResults {
                modalities: s.modalities.clone(),
                readers: s.readers.clone(),
                cases: s.cases as u64,
                positives: s.positives,
                negatives: s.negatives,
                incomplete_cases: s.incomplete_cases.len() as u64,
                aucs: s
                    .readers
                    .iter()
                    .map(|reader| {
                        s.modalities
                            .iter()
                            .map(|m| {
                                s.reader_aucs
                                    .iter()
                                    .find(|a| a.reader.as_ref() == Some(reader) && a.modality == *m)
                                    .map_or(f64::NAN, |a| a.auc.estimate)
                            })
                            .collect()
                    })
                    .collect(),
                modality_aucs: s.modality_aucs.iter().map(|a| est(&a.auc)).collect(),
                f: s.f,
                df1: s.df1,
                df2: s.df2,
                p_value: s.p_value,
                difference: s.differences.first().map(|d| est(&d.difference)),
                warnings: s
                    .warnings
                    .iter()
                    .map(|w| Text::new(w.message_ja.clone(), w.message_en.clone()))
                    .collect(),
            }
        });
        let deviations =
            self.deviation_rows(&protocol, &analysis, &methods, &amendments, analyze_seq)?;
        // The 症例一覧表 as an appendix when the application attaches one (Q10: 2(1)).
        let case_list = if plan.case_list_required {
            self.case_list()?
                .into_iter()
                .map(|c| m::CaseListRow {
                    included: c.included == Some(true),
                    exclusion_reason: (!c.exclusions.is_empty()).then(|| {
                        Text::new(
                            c.exclusions
                                .iter()
                                .map(|e| format!("{}（{}）：{}", e.rule_ja, e.clause, e.reason))
                                .collect::<Vec<_>>()
                                .join("; "),
                            c.exclusions
                                .iter()
                                .map(|e| {
                                    format!(
                                        "{} ({}): {}",
                                        e.rule_en,
                                        e.clause,
                                        e.reason_en.as_deref().unwrap_or(&e.reason)
                                    )
                                })
                                .collect::<Vec<_>>()
                                .join("; "),
                        )
                    }),
                    reference: c.reference.map(|l| l.as_str().to_owned()),
                    device: c.device_label.map(|l| l.as_str().to_owned()),
                    device_score: c.device_score,
                    agreement: c.agreement,
                    provider: same(c.provider),
                    data_kinds: {
                        let kinds = |en: bool| {
                            c.data_kinds
                                .split(' ')
                                .filter(|k| !k.is_empty())
                                .map(|k| {
                                    let (ja, english) = crate::names::item_kind(k);
                                    if en { english } else { ja }
                                })
                                .collect::<Vec<_>>()
                                .join(if en { ", " } else { "、" })
                        };
                        Text::new(kinds(false), kinds(true))
                    },
                    acquisition_date: c.acquisition_date,
                    case_id: c.case_id,
                })
                .collect()
        } else {
            Vec::new()
        };
        let report = Report {
            study,
            summary,
            methods,
            flow,
            baseline,
            endpoints,
            roc,
            lesions,
            reader_study,
            subgroups,
            sensitivity_analyses,
            findings,
            amendments,
            deviations,
            regulatory_plan,
            traceability,
            case_list,
        };
        Ok((report, analysis_sha256))
    }
}

impl Study {
    /// 計画からの逸脱: what the study team recorded (`kizon deviation add`), then what kizon
    /// finds in the study's own data: results of another device version than the protocol's,
    /// dataset cases without a device result, fewer analysed cases than the sample-size
    /// rationale needs, amendments made after the results were in.
    fn deviation_rows(
        &self,
        protocol: &kizon_protocol::Protocol,
        analysis: &Analysis,
        methods: &Methods,
        amendments: &[m::Amendment],
        analyze_seq: i64,
    ) -> Result<Vec<m::DeviationRow>, AppError> {
        // Those the analysis saw (its inputs hash them): the report is bound to its analysis.
        let mut rows: Vec<m::DeviationRow> = self
            .deviations()?
            .into_iter()
            .filter(|d| d.ledger_seq <= analyze_seq)
            .map(|d| m::DeviationRow {
                description: written(&d.description, d.description_en.as_deref()),
                case_ids: d.case_ids,
                ledger_seq: Some(d.ledger_seq as u64),
            })
            .collect();
        let found = |ja: String, en: String, case_ids: Vec<String>| m::DeviationRow {
            description: Text::new(ja, en),
            case_ids,
            ledger_seq: None,
        };
        let analysed_version = &analysis.inputs.device_version;
        if let Some(planned) = &protocol.device.version
            && planned != analysed_version
        {
            rows.push(found(
                format!("解析した被験機器の版（{analysed_version}）が計画書の版（{planned}）と異なる。"),
                format!("The device version analysed ({analysed_version}) is not the protocol's ({planned})."),
                Vec::new(),
            ));
        }
        let missing = &analysis.flow.no_result;
        if !missing.is_empty() {
            rows.push(found(
                format!(
                    "固定データセットの {} 例に被験機器の結果がない。",
                    missing.len()
                ),
                format!(
                    "{} cases of the locked dataset have no device result.",
                    missing.len()
                ),
                missing.clone(),
            ));
        }
        if let Some(s) = &methods.sample_size
            && let Some(needed) = s.class_cases
            && s.analysed_class_cases < needed
        {
            let (ja, en) = if s.positive_class {
                ("参照標準陽性例", "reference-positive cases")
            } else {
                ("参照標準陰性例", "reference-negative cases")
            };
            rows.push(found(
                format!(
                    "解析対象の{ja}（{} 例）が症例数の設定根拠の必要数（{needed} 例）に満たない。",
                    s.analysed_class_cases
                ),
                format!(
                    "The analysis had {} {en}, fewer than the {needed} the sample-size rationale needs.",
                    s.analysed_class_cases
                ),
                Vec::new(),
            ));
        }
        for a in amendments.iter().filter(|a| !a.before_unblinding) {
            rows.push(found(
                format!("被験機器の結果の取込み後に計画を変更した（改訂 {}、台帳番号 {}）。", a.seq, a.ledger_seq),
                format!(
                    "The protocol was amended after the device's results were imported (amendment {}, ledger entry {}).",
                    a.seq, a.ledger_seq
                ),
                Vec::new(),
            ));
        }
        Ok(rows)
    }
}

/// The analysis whose numbers a report shows (re-exported for the shells).
pub type ReportAnalysis = Analysis;

#[cfg(test)]
mod planned_cases_tests {
    /// 40 cases planned where the template's assumptions (sensitivity 0.92 expected against
    /// 0.80, power 0.8, prevalence 0.3) need more: a warning naming both numbers; the template's
    /// own 300 are enough.
    #[test]
    fn fewer_cases_than_the_assumptions_need_is_a_warning() {
        let template = kizon_protocol::Protocol::parse(kizon_protocol::TEMPLATE).unwrap();
        assert_eq!(super::planned_cases_warning(&template), None);
        let text = kizon_protocol::TEMPLATE.replace("planned_cases = 300", "planned_cases = 40");
        let p = kizon_protocol::Protocol::parse(&text).unwrap();
        let w = super::planned_cases_warning(&p).expect("a warning");
        assert_eq!(w.key, "sample_size.planned_cases");
        assert!(
            w.message_en.starts_with("40 cases are planned"),
            "{}",
            w.message_en
        );
    }
}
