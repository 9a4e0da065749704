//! The report's records of the study's conduct: findings and every decision on them,
//! amendments key by key, the regulatory plan and the 症例一覧表.

use std::collections::BTreeMap;

use kizon_report::model::{self as m, PlanLine, RegulatoryPlan, Text};

use super::Inputs;
use super::words::{rule_name, same, written};
use crate::AppError;

/// Every finding, open or decided, with every decision on it; and the decisions taken for a
/// whole rule at once (`kizon resolve --rule`), one row each, whose findings are not listed
/// one by one (100,000 copies decided by one reason make one row, not 100,000).
pub(super) fn findings(
    i: &Inputs<'_>,
) -> Result<(Vec<m::FindingRow>, Vec<m::RuleDecisionRow>), AppError> {
    let Inputs {
        study: st, ledger, ..
    } = i;
    let entries: BTreeMap<i64, &kizon_store::LedgerEntry> =
        ledger.iter().map(|e| (e.seq, e)).collect();
    let when = |seq: i64| {
        entries
            .get(&seq)
            .map_or((String::new(), String::new()), |e| {
                (
                    format!("{} {}", &e.at[..10], &e.at[11..16]),
                    e.actor.clone(),
                )
            })
    };
    // A decision for a whole rule: its ledger entry names the rule and no single finding.
    let for_rule = |seq: i64| -> Option<String> {
        let detail: serde_json::Value = serde_json::from_str(&entries.get(&seq)?.detail).ok()?;
        (detail.get("finding").is_none())
            .then(|| detail.get("rule")?.as_str().map(str::to_owned))
            .flatten()
    };
    // Every finding, open or decided, with every decision on it (a query to the provider
    // and the later decision both stay), each with its date and actor from the ledger.
    let mut history: BTreeMap<i64, Vec<m::DecisionRecord>> = BTreeMap::new();
    let mut by_rule_entry: BTreeMap<i64, (String, Vec<i64>, kizon_store::Resolution)> =
        BTreeMap::new();
    let mut individually: std::collections::BTreeSet<i64> = std::collections::BTreeSet::new();
    // Read once per ledger entry: a decision for a rule is one entry over many findings.
    let mut rule_of_entry: BTreeMap<i64, Option<String>> = BTreeMap::new();
    for r in st.store.resolutions()? {
        let rule = rule_of_entry
            .entry(r.ledger_seq)
            .or_insert_with(|| for_rule(r.ledger_seq))
            .clone();
        match rule {
            Some(rule) => {
                by_rule_entry
                    .entry(r.ledger_seq)
                    .or_insert_with(|| (rule, Vec::new(), r.clone()))
                    .1
                    .push(r.finding_id);
            }
            None => {
                individually.insert(r.finding_id);
            }
        }
        let (at, actor) = when(r.ledger_seq);
        history
            .entry(r.finding_id)
            .or_default()
            .push(m::DecisionRecord {
                at,
                actor,
                decision: r.decision,
                reason: written(&r.reason, r.reason_en.as_deref()),
                ledger_seq: r.ledger_seq as u64,
            });
    }
    let mut cases_of: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let mut clause_of: BTreeMap<String, String> = BTreeMap::new();
    let mut rows = Vec::new();
    for f in st.findings()? {
        clause_of
            .entry(f.rule.clone())
            .or_insert_with(|| f.clause.clone());
        // Decided only by decisions for its whole rule: that decision's row stands for it.
        if f.status.decision().is_some() && !individually.contains(&f.id) {
            cases_of.insert(f.id, f.case_ids);
            continue;
        }
        let decision = f.status.decision();
        rows.push(m::FindingRow {
            id: format!("#{}", f.id),
            rule_name: Some(rule_name(&f.rule)),
            rule: f.rule,
            clause: f.clause,
            case_ids: f.case_ids,
            severity: f.severity,
            description: Text::new(f.message_ja, f.message_en),
            decision,
            reason: written(f.reason.as_deref().unwrap_or(""), f.reason_en.as_deref()),
            history: history.remove(&f.id).unwrap_or_default(),
        });
    }
    let rule_decisions = by_rule_entry
        .into_iter()
        .map(|(seq, (rule, ids, r))| {
            let cases: std::collections::BTreeSet<&String> = ids
                .iter()
                .filter_map(|id| cases_of.get(id))
                .flatten()
                .collect();
            let (at, actor) = when(seq);
            m::RuleDecisionRow {
                rule_name: Some(rule_name(&rule)),
                clause: clause_of.get(&rule).cloned().unwrap_or_default(),
                rule,
                findings: ids.len() as u64,
                cases: cases.len() as u64,
                decision: r.decision,
                reason: written(&r.reason, r.reason_en.as_deref()),
                at,
                actor,
                ledger_seq: seq as u64,
            }
        })
        .collect();
    Ok((rows, rule_decisions))
}

/// Every amendment, key by key.
pub(super) fn amendments(i: &Inputs<'_>) -> Result<Vec<m::Amendment>, AppError> {
    let Inputs {
        study: st,
        protocol: _,
        ledger,
        first_result_seq,
        dataset: _,
        ..
    } = i;
    let amendments: Vec<m::Amendment> = st
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
                // A version missing or altered in the store fails the report: a diff shown
                // from an empty text would misstate the amendment.
                let text = |sha: &str| -> Result<String, AppError> {
                    Ok(String::from_utf8_lossy(&st.store.document(sha)?).into_owned())
                };
                crate::protocol_diff::changes(&text(&a.old_sha256)?, &text(&a.new_sha256)?)
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
            Ok(m::Amendment {
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
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(amendments)
}

/// The regulatory path (Q10, Q11).
pub(super) fn regulatory_plan(i: &Inputs<'_>) -> Result<RegulatoryPlan, AppError> {
    let Inputs {
        study: _st,
        plan,
        protocol,
        dataset: _,
        ..
    } = i;
    let line = |ja: &str, en: &str, value: Text, clause: &str| PlanLine {
        item: Text::new(ja, en),
        value,
        clause: clause.into(),
    };
    let mut regulatory_plan = RegulatoryPlan {
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
    // Q7: the applicant's decision on SDV, which a reviewer of a 2(2) test asks for first.
    let design = &protocol.design;
    if plan.test_type.as_str() == "2(2)" || design.source_data_verification.is_some() {
        let (ja, en) = design.source_data_verification.map_or(
            ("計画書に記載なし", "not stated in the protocol"),
            |sdv| sdv.names(),
        );
        let value = match &design.source_data_verification_reason {
            Some(why) => Text::new(
                format!("{ja}（{}）", why.text),
                format!("{en} ({})", why.english()),
            ),
            None => Text::new(ja, en),
        };
        regulatory_plan.lines.push(line(
            "原資料との照合（SDV）",
            "Source data verification (SDV)",
            value,
            "Q7",
        ));
    }
    Ok(regulatory_plan)
}

/// The 症例一覧表 as an appendix when the application attaches one (Q10: 2(1)).
pub(super) fn case_list(i: &Inputs<'_>) -> Result<Vec<m::CaseListRow>, AppError> {
    let Inputs {
        study: st,
        plan,
        reference: _,
        ..
    } = i;
    // The 症例一覧表 as an appendix when the application attaches one (Q10: 2(1)).
    let case_list = if plan.case_list_required {
        st.case_list()?
            .into_iter()
            .map(|c| m::CaseListRow {
                included: c.included == Some(true),
                exclusion_reason: (!c.exclusions.is_empty())
                    .then(|| Text::new(c.exclusions_text(false), c.exclusions_text(true))),
                reference: c.reference.map(|l| l.as_str().to_owned()),
                device: c.device_label.map(|l| l.as_str().to_owned()),
                device_score: c.device_score,
                agreement: c.agreement,
                data_kinds: Text::new(c.data_kinds_text(false), c.data_kinds_text(true)),
                provider: same(c.provider),
                acquisition_date: c.acquisition_date,
                case_id: c.case_id,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(case_list)
}
