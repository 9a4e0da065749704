//! The methods the report states that are not in the analysis: the sample-size rationale
//! recomputed from the protocol, and how the panel read (conditions, case order, blinding,
//! agreement).

use std::collections::BTreeMap;

use kizon_protocol::ReferenceStandard;
use kizon_report::model::{self as m, Methods, Text};
use kizon_vocab::ItemKind;

use super::Inputs;
use super::words::{ci_method, same, written};
use crate::AppError;
use crate::analyze::Analysis;

/// The sample-size rationale of the protocol's `[sample_size]` for its primary endpoint: the
/// cases of the endpoint's class that its acceptance criterion needs at the expected value and
/// power (exact binomial; Flahault, Cadilhac & Thomas 2005), and all cases at the prevalence;
/// with the cases of that class the analysis had.
pub(super) fn sample_size(
    protocol: &kizon_protocol::Protocol,
    analysis: &Analysis,
) -> Option<m::SampleSize> {
    let mut size = planned_sample_size(protocol)?;
    size.analysed_class_cases = if size.positive_class {
        analysis.flow.reference_positive as u64
    } else {
        analysis.flow.reference_negative as u64
    };
    Some(size)
}

/// The sample-size rationale as the protocol alone gives it (no case analysed yet): what the
/// report prints and what `kizon plan` compares the planned cases with.
fn planned_sample_size(protocol: &kizon_protocol::Protocol) -> Option<m::SampleSize> {
    use kizon_protocol::Metric as P;
    let plan = protocol.sample_size.as_ref()?;
    let endpoint = protocol.primary_endpoint()?;
    let positive_class = matches!(endpoint.metric, P::Sensitivity | P::Ppa);
    let mut size = m::SampleSize {
        endpoint_id: endpoint.id.clone(),
        metric: endpoint.metric,
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
        analysed_class_cases: 0,
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
pub(super) fn agreement_statements(
    agreement: Option<&crate::reference::PanelAgreement>,
) -> Vec<Text> {
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
    let plan = protocol.sample_size.as_ref()?;
    let size = planned_sample_size(protocol)?;
    let (planned, needed) = (size.planned_cases?, size.total_cases?);
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
pub(super) fn reading_statements(
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
                "症例の提示順：読影者・セッションごとに無作為（各読影者のセッション開始時に引いて監査証跡に記録した乱数シード、読影者、セッション及び症例 ID の SHA-256 の順。kizon reading order で再現できる）。",
                "Case order: random for each reader and session (by the SHA-256 of a seed drawn at the reader's start of the session and recorded in the ledger, the reader, the session and the case id; `kizon reading order` derives it again).",
            ),
            kizon_protocol::CaseOrder::AsAssigned => Text::new(
                "症例の提示順：全読影者に同一（割り当ての順）。",
                "Case order: the same for every reader (the order of assignment).",
            ),
        });
    }
    let sessions = &protocol.reading.declared_sessions;
    if !sessions.is_empty() {
        let list = |ja: bool| {
            sessions
                .iter()
                .map(|s| {
                    let condition = s.modality.as_deref().map_or_else(
                        || {
                            if ja {
                                "参照標準のパネル読影".to_owned()
                            } else {
                                "the reference panel's read".to_owned()
                            }
                        },
                        str::to_owned,
                    );
                    match (s.washout_days, ja) {
                        (0, _) => format!("{}（{condition}）", s.id),
                        (d, true) => format!(
                            "{}（{condition}、前セッションから {d} 日以上のウォッシュアウト）",
                            s.id
                        ),
                        (d, false) => format!(
                            "{} ({condition}, at least {d} days of washout after the one before)",
                            s.id
                        ),
                    }
                })
                .collect::<Vec<_>>()
                .join(" → ")
        };
        out.push(Text::new(
            format!("読影セッション：{}。ウォッシュアウト期間は kizon が読影者ごとに強制し、各症例は条件ごとに一度だけ読影された。", list(true)),
            format!("Reading sessions: {}. kizon enforced the washout for each reader, and each case was read once per condition.", list(false)),
        ));
    }
    if files > 0 {
        out.push(Text::new(
            format!(
                "読影記録ファイル {files} 件から読影を取り込んだ（その読影の環境と提示順は kizon の外で管理された。取り込んだファイルは信頼性調査用資料の imports/reads/ に収録）。"
            ),
            format!(
                "Reads were imported from {files} reading files (their environment and case order were managed outside kizon; the files as imported are in the evidence package, imports/reads/)."
            ),
        ));
    }
    out
}

/// How each provider that signs its hand-overs sent its data, as recorded up to the analysis
/// (Q1, Q5: de-identified at the provider, the correspondence table kept there; Q7: data
/// management from collection on): hand-overs, files, what stayed in the provider's quarantine.
fn handovers_text(
    study: &crate::Study,
    analyze_seq: i64,
    english: bool,
) -> Result<String, AppError> {
    let mut by_provider: BTreeMap<String, (usize, i64, i64, String)> = BTreeMap::new();
    for h in study.handovers()? {
        if h.ledger_seq > analyze_seq {
            continue;
        }
        let entry =
            by_provider
                .entry(h.provider.clone())
                .or_insert((0, 0, 0, h.public_key.clone()));
        entry.0 += 1;
        entry.1 += h.files;
        entry.2 += h.quarantined;
    }
    Ok(by_provider
        .iter()
        .map(|(provider, (count, files, kept, key))| {
            let key = &key[..key.len().min(16)];
            if english {
                format!(
                    ". {provider} sent its data as {count} signed hand-over(s) of {files} files, de-identified at the provider by kizon deidentify (PS3.15 Annex E), its correspondence table kept there; the signature (Ed25519 key {key}…) and every file's SHA-256 were verified on arrival, and {kept} file(s) were kept back in the provider's quarantine."
                )
            } else {
                format!(
                    "。{provider} のデータは、提供元で kizon deidentify により仮名加工（PS3.15 Annex E）された署名付き提供データ {count} 件（ファイル {files} 件）として受領し、対応表は提供元が保管する。署名（Ed25519 鍵 {key}…）と全ファイルの SHA-256 を受領時に検証した。提供元で隔離されたファイルは {kept} 件。"
                )
            }
        })
        .collect())
}

/// The methods as fixed in the protocol: providers, eligibility, reference standard, blinding, reading, sample size, statistics.
pub(super) fn methods(i: &Inputs<'_>) -> Result<Methods, AppError> {
    let Inputs {
        study: st,
        protocol,
        reference,
        ledger,
        analysis,
        dataset,
        ..
    } = i;
    let mut provider_cases: BTreeMap<String, u64> = BTreeMap::new();
    for case in st.store.cases()? {
        *provider_cases.entry(case.provider).or_default() += 1;
    }
    let mut provider_dataset_cases: BTreeMap<&str, u64> = BTreeMap::new();
    for case in &dataset.cases {
        *provider_dataset_cases
            .entry(case.provider.as_str())
            .or_default() += 1;
    }
    let providers = st
        .providers()?
        .into_iter()
        .map(|p| m::Provider {
            cases: provider_cases.get(&p.name).copied().unwrap_or(0),
            dataset_cases: Some(
                provider_dataset_cases
                    .get(p.name.as_str())
                    .copied()
                    .unwrap_or(0),
            ),
            kind: p.kind,
            consent: p.consent_model,
            name: same(p.name),
        })
        .collect();
    let mut kinds: BTreeMap<ItemKind, usize> = BTreeMap::new();
    for case in &dataset.cases {
        for item in &case.items {
            *kinds.entry(item.kind).or_default() += 1;
        }
    }
    let kinds_text = |en: bool| {
        kinds
            .iter()
            .map(|(kind, n)| {
                let (ja, english) = kind.names();
                format!("{} {n}", if en { english } else { ja })
            })
            .collect::<Vec<_>>()
            .join(if en { ", " } else { "、" })
    };
    let readers = st.readers()?;
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
            let sources: Vec<(String, Option<String>)> = st
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
                "固定データセット {} 例、ファイル {} 件（{}）{}",
                dataset.cases.len(),
                dataset.items(),
                kinds_text(false),
                handovers_text(st, i.analyze_seq, false)?
            ),
            format!(
                "locked dataset of {} cases, {} files ({}){}",
                dataset.cases.len(),
                dataset.items(),
                kinds_text(true),
                handovers_text(st, i.analyze_seq, true)?
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
        blinding: {
            let locked = ledger
                .iter()
                .find(|e| e.command == "lock reference")
                .map_or(0, |e| e.seq);
            vec![Text::new(
                format!("参照標準は被験機器の結果を取り込む前に固定した（監査証跡 #{locked}）。"),
                format!(
                    "The reference standard was locked before any device result was imported (ledger entry {locked})."
                ),
            )]
        },
        confidence_level: level,
        statistics,
        sample_size: sample_size(protocol, analysis),
        reading: if reference.kind == ReferenceStandard::ExpertPanel {
            let mut statements = reading_statements(protocol, ledger);
            statements.extend(agreement_statements(analysis.reader_agreement.as_ref()));
            statements
        } else {
            Vec::new()
        },
    };

    Ok(methods)
}

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
