//! The protocol lock and its amendments.
//!
//! Locking stores study.toml in the document store and records its hash; from then on the
//! commands that depend on the protocol refuse a study.toml with another hash until an amendment
//! (old hash, new hash, reason, actor) is recorded. Every locked or amended text stays in the
//! document store, so each version of the protocol can be shown to PMDA.

use serde::Serialize;
use serde_json::json;

use crate::plan::PlanOptions;
use crate::{AppError, Study};

/// The lock kind of the protocol.
pub const PROTOCOL: &str = "protocol";

/// What a lock or an amendment recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Locked {
    pub sha256: String,
    pub ledger_seq: i64,
    pub ledger_hash: String,
    pub test_type: &'static str,
    pub application_category: Option<&'static str>,
    pub rules_version: &'static str,
    /// For an amendment: the hash it replaces.
    pub previous_sha256: Option<String>,
    /// For an amendment: decisions of the plan that the amendment changed.
    pub plan_changes: Vec<String>,
}

impl Study {
    /// Fixes the protocol: refused while it does not parse or no Q&A revision applies.
    pub fn lock_protocol(&mut self, actor: &str) -> Result<Locked, AppError> {
        if let Some(lock) = self.store.lock(PROTOCOL)? {
            return Err(AppError::AlreadyLocked {
                seq: lock.ledger_seq,
                sha256: lock.sha256,
            });
        }
        let view = self.plan(PlanOptions::default())?;
        let text = self.protocol_text()?;
        let plan = &view.plan;
        let key = self.signer("kizon lock protocol")?;
        let entry = self.store.transact(actor, |tx| {
            if let Some(lock) = tx.lock(PROTOCOL)? {
                return Err(kizon_store::StoreError::Conflict(format!(
                    "the protocol was locked meanwhile (ledger entry {})",
                    lock.ledger_seq
                )));
            }
            let document = tx.put_document_bytes(text.text.as_bytes())?;
            tx.insert_lock(PROTOCOL, &document.sha256, Some(&document.sha256))?;
            crate::signing::record_signed(
                tx,
                key.as_ref(),
                "lock protocol",
                &format!(
                    "protocol locked: {} (test type {})",
                    &document.sha256[..12],
                    plan.test_type.as_str()
                ),
                json!({
                    "protocol_sha256": document.sha256,
                    "test_type": plan.test_type.as_str(),
                    "application_category": plan.application_category,
                    "protocol_consultation": plan.protocol_consultation,
                    "rules_version": plan.rules_version.id,
                    "as_of": plan.as_of.to_string(),
                }),
            )
        })?;
        Ok(Locked {
            sha256: text.sha256,
            ledger_seq: entry.seq,
            ledger_hash: entry.hash,
            test_type: plan.test_type.as_str(),
            application_category: plan.application_category,
            rules_version: plan.rules_version.id,
            previous_sha256: None,
            plan_changes: Vec::new(),
        })
    }

    /// Records the edited study.toml as an amendment of the locked protocol.
    pub fn amend<'r>(
        &mut self,
        actor: &str,
        reason: impl Into<crate::text::Reason<'r>>,
    ) -> Result<Locked, AppError> {
        let reason = required_reason(reason.into(), "kizon amend --reason \"...\"")?;
        let Some(previous) = self.store.locked_hash(PROTOCOL)? else {
            return Err(AppError::NotLocked);
        };
        let text = self.protocol_text()?;
        if text.sha256 == previous {
            return Err(AppError::Unchanged {
                file: self.protocol_path(),
                sha256: previous,
            });
        }
        let previous_text = String::from_utf8_lossy(&self.read_document(&previous)?).into_owned();
        let key_changes = crate::protocol_diff::changes(&previous_text, &text.text);
        self.refuse_after_unblinding(
            key_changes
                .iter()
                .filter(|c| crate::protocol_diff::is_prespecified(&c.key))
                .map(|c| c.describe("(none)"))
                .collect(),
        )?;
        let before = self.locked_plan(&previous)?;
        let after = self
            .plan(PlanOptions {
                draft: true,
                ..PlanOptions::default()
            })?
            .plan;
        let plan_changes = plan_changes(before.as_ref(), &after);
        let key = self.signer("kizon amend")?;
        let entry = self.store.transact(actor, |tx| {
            let document = tx.put_document_bytes(text.text.as_bytes())?;
            tx.insert_amendment(
                PROTOCOL,
                &previous,
                &document.sha256,
                reason.text,
                reason.en,
                Some(&document.sha256),
            )?;
            crate::signing::record_signed(
                tx,
                key.as_ref(),
                "amend",
                &format!(
                    "protocol amended: {} → {}",
                    &previous[..12],
                    &document.sha256[..12]
                ),
                json!({
                    "old_sha256": previous,
                    "new_sha256": document.sha256,
                    "reason": reason.text, "reason_en": reason.en,
                    "test_type": after.test_type.as_str(),
                    "application_category": after.application_category,
                    "rules_version": after.rules_version.id,
                    "plan_changes": plan_changes,
                    "changes": key_changes,
                }),
            )
        })?;
        Ok(Locked {
            sha256: text.sha256,
            ledger_seq: entry.seq,
            ledger_hash: entry.hash,
            test_type: after.test_type.as_str(),
            application_category: after.application_category,
            rules_version: after.rules_version.id,
            previous_sha256: Some(previous),
            plan_changes,
        })
    }

    /// The pre-specification guard: once the device's results are in (unblinded), a change to
    /// what was pre-specified — endpoints and acceptance criteria, analysis sets, eligibility,
    /// the reference standard — would let the criteria follow the results. It is refused,
    /// naming each change; the analysis stays the one the protocol fixed before the results.
    pub(crate) fn refuse_after_unblinding(
        &self,
        prespecified: Vec<String>,
    ) -> Result<(), AppError> {
        if prespecified.is_empty() {
            return Ok(());
        }
        let Some(first) = self
            .store
            .results()?
            .into_iter()
            .map(|r| r.ledger_seq)
            .min()
        else {
            return Ok(());
        };
        Err(AppError::Refused {
            what: format!(
                "the device's results are in (ledger entry {first}): a change to what the protocol pre-specified is refused: {}",
                prespecified.join("; ")
            ),
            hint: "結果を見た後に評価項目・判定基準・解析対象・参照標準は変更できません / keep the pre-specified endpoints, criteria, analysis sets and reference standard; record what departs from them as a deviation: kizon deviation add --description \"...\"".into(),
        })
    }

    /// The plan of the protocol text stored under `sha256`, if that text is in the store.
    fn locked_plan(&self, sha256: &str) -> Result<Option<kizon_rules::Plan>, AppError> {
        // A text missing from the store or altered has no plan to compare with (`audit verify`
        // reports it); an object store that cannot be reached is an error.
        let text = match self.store.objects().get(sha256) {
            Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            Ok(None) | Err(kizon_store::documents::ObjectsError::Tampered(_)) => return Ok(None),
            Err(e) => return Err(kizon_store::StoreError::from(e).into()),
        };
        let Ok(protocol) = kizon_protocol::Protocol::parse(&text) else {
            return Ok(None);
        };
        let as_of = protocol
            .study
            .planned_on
            .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
        Ok(kizon_rules::plan(&protocol, &self.provider_facts()?, as_of).ok())
    }
}

/// An amendment's reason, trimmed; refused when empty.
pub(crate) fn required_reason<'r>(
    reason: crate::text::Reason<'r>,
    usage: &str,
) -> Result<crate::text::Reason<'r>, AppError> {
    reason.checked("the amendment", &format!("say why it changes: {usage}"))
}

/// The regulatory decisions that differ between two plans, as `key: before → after`.
fn plan_changes(before: Option<&kizon_rules::Plan>, after: &kizon_rules::Plan) -> Vec<String> {
    let Some(before) = before else {
        return Vec::new();
    };
    let mut changes = Vec::new();
    let mut compare = |key: &str, old: String, new: String| {
        if old != new {
            changes.push(format!("{key}: {old} → {new}"));
        }
    };
    compare(
        "test_type",
        before.test_type.as_str().into(),
        after.test_type.as_str().into(),
    );
    compare(
        "application_category",
        before.application_category.unwrap_or("-").into(),
        after.application_category.unwrap_or("-").into(),
    );
    compare(
        "protocol_consultation",
        before.protocol_consultation.into(),
        after.protocol_consultation.into(),
    );
    compare(
        "case_list_required",
        before.case_list_required.to_string(),
        after.case_list_required.to_string(),
    );
    compare(
        "rules_version",
        before.rules_version.id.into(),
        after.rules_version.id.into(),
    );
    changes
}
