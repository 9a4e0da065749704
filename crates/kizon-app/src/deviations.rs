//! `kizon deviation add`: protocol deviations (計画からの逸脱) as the study team records them —
//! a case read outside the protocol's conditions, a reader who saw clinical information — and
//! those kizon derives itself for the report (another device version, missing results, fewer
//! cases than the sample-size rationale needs, amendments after unblinding).

use serde_json::json;

use crate::text::Reason;
use crate::{AppError, Study};

impl Study {
    /// Records a deviation from the protocol; `cases` names the cases it concerns (empty: the
    /// study as a whole).
    pub fn add_deviation<'r>(
        &mut self,
        actor: &str,
        description: impl Into<Reason<'r>>,
        cases: &[String],
    ) -> Result<kizon_store::Deviation, AppError> {
        let description = description.into().checked(
            "the deviation",
            "describe what departed from the protocol: kizon deviation add --description \"...\" [--description-en \"...\"]",
        )?;
        let known: std::collections::BTreeSet<String> =
            self.store.cases()?.into_iter().map(|c| c.id).collect();
        if let Some(stranger) = cases.iter().find(|c| !known.contains(*c)) {
            return Err(AppError::Refused {
                what: format!("no case `{stranger}` in the study"),
                hint: "case ids are those of `kizon items`".into(),
            });
        }
        let seq = self.store.transact(actor, |tx| {
            tx.insert_deviation(description.text, description.en, cases)?;
            tx.record(
                "deviation add",
                &format!(
                    "protocol deviation{}",
                    if cases.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", cases.join(" "))
                    }
                ),
                json!({ "description": description.text, "description_en": description.en, "cases": cases }),
            )
            .map(|e| e.seq)
        })?;
        self.store
            .deviations()?
            .into_iter()
            .find(|d| d.ledger_seq == seq)
            .ok_or_else(|| AppError::NotFound {
                what: format!("the deviation recorded at ledger entry {seq}"),
            })
    }

    /// Every deviation recorded, oldest first.
    pub fn deviations(&self) -> Result<Vec<kizon_store::Deviation>, AppError> {
        Ok(self.store.deviations()?)
    }
}
