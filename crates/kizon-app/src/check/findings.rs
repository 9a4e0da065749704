//! The findings and the decisions on them: each finding as the user sees it (its status
//! derived from the latest decision, the cases an exclusion takes out), read whole, by id, by
//! rule or a page at a time; a decision on one finding, or one decision on every unresolved
//! finding of a rule.

use serde::Serialize;
use serde_json::json;

use kizon_store::{FindingQuery, RuleTally};
use kizon_vocab::{Decision, FindingStatus, Severity};

use crate::{AppError, Study};

/// Findings per page of a list.
pub const FINDINGS_PER_PAGE: u64 = 100;

/// The paths a finding of a page (or a list of blockers) carries: its first 20 items'. A copy
/// made 4,000 times names 4,000 items, and a page of 100 such findings would look 400,000
/// paths up; `kizon findings --json` and the evidence package carry them all.
const PATHS_PER_PAGED_FINDING: usize = 20;

/// Which findings a list shows: by default the unresolved ones of every rule, first page.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub rule: Option<String>,
    /// Decided findings too.
    pub all: bool,
    /// From 0.
    pub page: u64,
}

/// A page of findings.
#[derive(Debug, Clone, Serialize)]
pub struct FindingPage {
    /// How many findings the filter selects.
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
    /// Each with the paths of its first 20 items.
    pub findings: Vec<FindingView>,
    /// Every rule with findings, counted (whatever the filter).
    pub rules: Vec<RuleTally>,
}

/// One decision on every unresolved finding of a rule.
#[derive(Debug, Clone, Serialize)]
pub struct RuleDecision {
    pub rule: String,
    pub decision: Decision,
    /// The findings decided.
    pub findings: Vec<i64>,
}

/// A finding as shown to the user.
#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    pub id: i64,
    pub rule: String,
    pub clause: String,
    pub severity: Severity,
    /// Derived from the latest decision.
    pub status: FindingStatus,
    pub case_ids: Vec<String>,
    pub paths: Vec<String>,
    pub message_ja: String,
    pub message_en: String,
    pub reason: Option<String>,
    /// The latest decision's reason in English, when one was given besides it.
    pub reason_en: Option<String>,
    /// For `excluded`: the cases the decision takes out of the dataset (all of the finding's
    /// cases unless the decision named some).
    pub excluded_cases: Vec<String>,
    /// For each excluded case, the reason of the decision that excluded it (and its English).
    #[serde(skip)]
    pub exclusion_reasons: std::collections::BTreeMap<String, (String, Option<String>)>,
}

impl Study {
    /// Cases a decision excludes that the locked dataset still holds: they leave it only with
    /// `kizon amend --dataset`. Empty before the dataset lock.
    pub fn exclusions_pending_amendment(&self) -> Result<Vec<String>, AppError> {
        let Some((dataset, _)) = self.dataset_document()? else {
            return Ok(Vec::new());
        };
        let locked = dataset.case_ids();
        let mut pending: Vec<String> = self
            .findings()?
            .into_iter()
            .filter(|f| f.status == FindingStatus::Excluded)
            .flat_map(|f| f.excluded_cases)
            .filter(|c| locked.contains(c.as_str()))
            .collect();
        pending.sort();
        pending.dedup();
        Ok(pending)
    }
}

impl FindingView {
    /// Blocking and not decided (open, or queried with the provider): keeps its cases out of
    /// a locked dataset.
    pub fn is_unresolved_blocking(&self) -> bool {
        self.severity == Severity::Blocking && self.status.is_unresolved()
    }
}

impl Study {
    /// Every finding and where it stands, in id order.
    pub fn findings(&self) -> Result<Vec<FindingView>, AppError> {
        self.finding_views(&FindingQuery::default(), usize::MAX)
    }

    /// Finding `id`, if there is one.
    pub fn finding(&self, id: i64) -> Result<Option<FindingView>, AppError> {
        Ok(self
            .finding_views(
                &FindingQuery {
                    id: Some(id),
                    ..FindingQuery::default()
                },
                usize::MAX,
            )?
            .pop())
    }

    /// One page of the findings `filter` selects, with the count of all it selects and every
    /// rule's tally: what a list at 100,000 findings shows without reading them all.
    pub fn findings_page(&self, filter: &FindingFilter) -> Result<FindingPage, AppError> {
        let mut query = FindingQuery {
            rule: filter.rule.clone().filter(|r| !r.is_empty()),
            unresolved: !filter.all,
            ..FindingQuery::default()
        };
        let total = self.store.count_findings(&query)?;
        // A page number from a URL may be anything: past the end is an empty page, never an
        // overflow (SQLite takes offsets as i64).
        query.offset = filter
            .page
            .saturating_mul(FINDINGS_PER_PAGE)
            .min(i64::MAX as u64);
        query.limit = Some(FINDINGS_PER_PAGE);
        Ok(FindingPage {
            total,
            offset: query.offset,
            limit: FINDINGS_PER_PAGE,
            findings: self.finding_views(&query, PATHS_PER_PAGED_FINDING)?,
            rules: self.store.finding_rules()?,
        })
    }

    /// Every rule's findings, counted (all, unresolved, unresolved blocking).
    pub fn finding_rules(&self) -> Result<Vec<RuleTally>, AppError> {
        Ok(self.store.finding_rules()?)
    }

    /// The first `limit` unresolved blocking findings (what keeps the dataset from its lock).
    pub fn unresolved_blocking(&self, limit: u64) -> Result<Vec<FindingView>, AppError> {
        self.finding_views(
            &FindingQuery {
                unresolved: true,
                blocking: true,
                limit: Some(limit),
                ..FindingQuery::default()
            },
            PATHS_PER_PAGED_FINDING,
        )
    }

    /// The findings `query` selects as shown, each with the paths of its first
    /// `paths_per_finding` items.
    fn finding_views(
        &self,
        query: &FindingQuery,
        paths_per_finding: usize,
    ) -> Result<Vec<FindingView>, AppError> {
        let findings = self.store.findings_where(query)?;
        // Only the items findings name, not every item of a study that may hold 100,000.
        let mut named: Vec<i64> = Vec::new();
        for f in &findings {
            let ids: Vec<i64> =
                crate::stored_json(&format!("finding {} items", f.id), &f.item_ids)?;
            named.extend(ids.into_iter().take(paths_per_finding));
        }
        let paths = self.store.item_paths(&named)?;
        // The cases a finding excludes: those of every exclusion since its last other decision.
        // Excluding C07, then C01 of the same pair, excludes both (the latest decision alone
        // would bring C07 back at the next dataset amendment); an `accept` in between undoes
        // what came before it.
        type Exclusions = Vec<(Option<Vec<String>>, String, Option<String>)>;
        let mut excluding: std::collections::BTreeMap<i64, Exclusions> =
            std::collections::BTreeMap::new();
        // Every decision when every finding is read; else each finding's own (by index).
        let everything = query.id.is_none()
            && query.rule.is_none()
            && !query.unresolved
            && !query.blocking
            && query.limit.is_none();
        let resolutions = if everything {
            self.store.resolutions()?
        } else {
            let mut of_these = Vec::new();
            for f in &findings {
                of_these.extend(self.store.resolutions_of(f.id)?);
            }
            of_these
        };
        for r in resolutions {
            let run = excluding.entry(r.finding_id).or_default();
            if r.decision == Decision::ExcludeCase {
                run.push((
                    (!r.cases.is_empty()).then_some(r.cases),
                    r.reason,
                    r.reason_en,
                ));
            } else {
                run.clear();
            }
        }
        findings
            .into_iter()
            .map(|f| {
                let item_ids: Vec<i64> =
                    crate::stored_json(&format!("finding {} items", f.id), &f.item_ids)?;
                let case_ids: Vec<String> =
                    crate::stored_json(&format!("finding {} cases", f.id), &f.case_ids)?;
                // Each case with the reason of the (latest) decision that excluded it.
                let mut exclusion_reasons = std::collections::BTreeMap::new();
                if f.decision == Some(Decision::ExcludeCase) {
                    for (named, reason, reason_en) in excluding.get(&f.id).into_iter().flatten() {
                        for case in named.clone().unwrap_or_else(|| case_ids.clone()) {
                            exclusion_reasons.insert(case, (reason.clone(), reason_en.clone()));
                        }
                    }
                }
                let excluded_cases: Vec<String> = exclusion_reasons.keys().cloned().collect();
                Ok(FindingView {
                    excluded_cases,
                    exclusion_reasons,
                    id: f.id,
                    status: FindingStatus::of(f.decision),
                    rule: f.rule,
                    clause: f.clause,
                    severity: f.severity,
                    case_ids,
                    paths: item_ids
                        .iter()
                        .take(paths_per_finding)
                        .filter_map(|id| paths.get(id).cloned())
                        .collect(),
                    message_ja: f.message_ja,
                    message_en: f.message_en,
                    reason: f.reason,
                    reason_en: f.reason_en,
                })
            })
            .collect()
    }

    /// Records a decision on finding `id`. `cases` names which of the finding's cases an
    /// exclusion takes out (say, one of two duplicates); empty: all of them.
    pub fn resolve<'r>(
        &mut self,
        actor: &str,
        id: i64,
        decision: Decision,
        reason: impl Into<crate::text::Reason<'r>>,
        cases: &[String],
    ) -> Result<FindingView, AppError> {
        let reason = reason.into().checked(
            &format!("finding {id}: the decision"),
            "say why: kizon resolve ID --accept --reason \"...\" [--reason-en \"...\"]",
        )?;
        let Some(finding) = self.finding(id)? else {
            return Err(AppError::Refused {
                what: format!("no finding {id}"),
                hint: "list them with `kizon findings`".into(),
            });
        };
        if !cases.is_empty() && decision != Decision::ExcludeCase {
            return Err(AppError::Refused {
                what: format!(
                    "finding {id}: --case names cases to exclude, with --exclude-case only"
                ),
                hint: "kizon resolve ID --exclude-case --case C-004 --reason \"...\"".into(),
            });
        }
        if decision == Decision::ExcludeCase {
            if finding.case_ids.is_empty() {
                return Err(AppError::Refused {
                    what: format!("finding {id} concerns no case: there is no case to exclude"),
                    hint: "accept it with a reason, or record what it means: kizon deviation add --description \"...\"".into(),
                });
            }
            // Which cases are analysed is pre-specified: once the results are in, no case
            // leaves the analysis set.
            self.refuse_after_unblinding(vec![format!(
                "excluding {} from the analysis set",
                if cases.is_empty() {
                    finding.case_ids.join(", ")
                } else {
                    cases.join(", ")
                }
            )])?;
        }
        if let Some(stranger) = cases.iter().find(|c| !finding.case_ids.contains(c)) {
            return Err(AppError::Refused {
                what: format!(
                    "finding {id} does not concern case `{stranger}` (it concerns {})",
                    finding.case_ids.join(", ")
                ),
                hint: "name one of the finding's cases, or leave --case out to exclude them all"
                    .into(),
            });
        }
        self.store.transact(actor, |tx| {
            tx.insert_resolution(id, decision, reason.text, reason.en, cases)?;
            tx.record(
                "resolve",
                &format!("finding {id} ({}): {}", finding.rule, decision.as_str()),
                json!({ "finding": id, "rule": finding.rule, "cases": finding.case_ids, "decision": decision.as_str(), "decided_cases": cases, "reason": reason.text, "reason_en": reason.en }),
            )
        })?;
        Ok(self.finding(id)?.expect("finding just resolved"))
    }

    /// Records one decision, with one reason, on every unresolved finding of `rule` (open or
    /// queried with the provider), in one transaction and one ledger entry that names them:
    /// the way through 100,000 `same-file` findings of copies made by design. Findings already
    /// decided keep their decision.
    pub fn resolve_rule<'r>(
        &mut self,
        actor: &str,
        rule: &str,
        decision: Decision,
        reason: impl Into<crate::text::Reason<'r>>,
    ) -> Result<RuleDecision, AppError> {
        let reason = reason.into().checked(
            &format!("the findings of rule `{rule}`: the decision"),
            "say why: kizon resolve --rule RULE --accept --reason \"...\" [--reason-en \"...\"]",
        )?;
        let rules = self.store.finding_rules()?;
        if !rules.iter().any(|t| t.rule == rule) {
            return Err(AppError::Refused {
                what: format!("no finding of rule `{rule}`"),
                hint: format!(
                    "the rules with findings: {}",
                    rules
                        .iter()
                        .map(|t| t.rule.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        let findings = self.finding_views(
            &FindingQuery {
                rule: Some(rule.to_owned()),
                unresolved: true,
                ..FindingQuery::default()
            },
            0, // the decision needs the ids and cases, not the paths
        )?;
        if findings.is_empty() {
            return Err(AppError::Refused {
                what: format!("every finding of rule `{rule}` is decided already"),
                hint: "a decision on one of them: kizon resolve ID ...".into(),
            });
        }
        if decision == Decision::ExcludeCase {
            if let Some(caseless) = findings.iter().find(|f| f.case_ids.is_empty()) {
                return Err(AppError::Refused {
                    what: format!(
                        "finding {} of rule `{rule}` concerns no case: there is no case to exclude",
                        caseless.id
                    ),
                    hint: "accept them with a reason, or decide that finding on its own".into(),
                });
            }
            self.refuse_after_unblinding(vec![format!(
                "excluding the cases of {} `{rule}` findings from the analysis set",
                findings.len()
            )])?;
        }
        let ids: Vec<i64> = findings.iter().map(|f| f.id).collect();
        self.store.transact(actor, |tx| {
            for id in &ids {
                tx.insert_resolution(*id, decision, reason.text, reason.en, &[])?;
            }
            tx.record(
                "resolve",
                &format!("{} findings of rule {rule}: {}", ids.len(), decision.as_str()),
                json!({ "rule": rule, "decision": decision.as_str(), "findings": ids.len(), "ids": id_ranges(&ids), "reason": reason.text, "reason_en": reason.en }),
            )
        })?;
        Ok(RuleDecision {
            rule: rule.to_owned(),
            decision,
            findings: ids,
        })
    }
}

/// Ids as runs, `1-500, 502`: a ledger entry that names 100,000 findings in a few bytes when
/// they are consecutive.
fn id_ranges(ids: &[i64]) -> String {
    let mut runs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let mut j = i;
        while j + 1 < ids.len() && ids[j + 1] == ids[j] + 1 {
            j += 1;
        }
        runs.push(if i == j {
            ids[i].to_string()
        } else {
            format!("{}-{}", ids[i], ids[j])
        });
        i = j + 1;
    }
    runs.join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_written_as_runs() {
        assert_eq!(super::id_ranges(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7-8");
        assert_eq!(super::id_ranges(&[4]), "4");
        assert_eq!(super::id_ranges(&[]), "");
    }
}
