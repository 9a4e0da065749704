//! The regulatory plan of the study's protocol.

use kizon_protocol::Protocol;
use kizon_rules::{EvidenceKind, Plan, ProviderFacts};
use serde::Serialize;
use time::Date;

use crate::{AppError, Study, locks};

/// The plan with what it was made from.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub study_id: String,
    pub study_title: String,
    pub device: String,
    pub protocol_sha256: String,
    /// Whether the protocol is locked (and study.toml matches the lock).
    pub protocol_locked: bool,
    /// True when made from an edited study.toml that differs from the lock (`--draft`).
    pub draft: bool,
    /// Where the date came from: `--as-of`, `planned_on` or `today`.
    pub as_of_source: &'static str,
    #[serde(flatten)]
    pub plan: Plan,
    /// What a reviewer would stop at in study.toml although it is valid: the template's text
    /// left in place, two languages in one string.
    pub protocol_warnings: Vec<kizon_protocol::lint::Warning>,
    #[serde(skip)]
    pub protocol: Protocol,
}

/// How to pick the protocol and the date.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Apply the rules in force on this date instead of the protocol's `planned_on`.
    pub as_of: Option<Date>,
    /// Use study.toml as it is, even if it differs from the locked protocol.
    pub draft: bool,
}

impl Study {
    pub fn plan(&self, options: PlanOptions) -> Result<PlanView, AppError> {
        let (protocol, text) = if options.draft {
            self.draft_protocol()?
        } else {
            self.protocol()?
        };
        let locked_hash = self.store.locked_hash(locks::PROTOCOL)?;
        let (as_of, as_of_source) = match (options.as_of, protocol.study.planned_on) {
            (Some(day), _) => (day, "--as-of"),
            (None, Some(day)) => (day, "planned_on"),
            (None, None) => (time::OffsetDateTime::now_utc().date(), "today"),
        };
        let plan = kizon_rules::plan(&protocol, &self.provider_facts()?, as_of)?;
        Ok(PlanView {
            study_id: protocol.study.id.clone(),
            study_title: protocol.study.title.clone(),
            device: match &protocol.device.version {
                Some(version) => format!("{} {}", protocol.device.name, version),
                None => protocol.device.name.clone(),
            },
            protocol_locked: locked_hash.as_deref() == Some(text.sha256.as_str()),
            draft: locked_hash.is_some_and(|h| h != text.sha256),
            protocol_sha256: text.sha256,
            as_of_source,
            plan,
            protocol_warnings: {
                let mut warnings = kizon_protocol::lint::warnings(&protocol);
                warnings.extend(crate::report::planned_cases_warning(&protocol));
                warnings
            },
            protocol,
        })
    }

    /// Providers and their evidence, in the rules' vocabulary.
    pub(crate) fn provider_facts(&self) -> Result<Vec<ProviderFacts>, AppError> {
        let evidence = self.store.evidence()?;
        // The locked protocol is the protocol every provider is shown: it counts as each
        // provider's protocol evidence without being added again per provider.
        let protocol_locked = self.store.lock(crate::locks::PROTOCOL)?.is_some();
        self.store
            .providers()?
            .into_iter()
            .map(|p| {
                Ok(ProviderFacts {
                    kind: p.kind,
                    consent_model: p.consent_model,
                    regulator_access_in_consent: p.regulator_access,
                    evidence: {
                        let mut kinds: Vec<EvidenceKind> = evidence
                            .iter()
                            .filter(|e| e.provider == p.name)
                            .map(|e| e.kind)
                            .collect();
                        if protocol_locked && !kinds.contains(&EvidenceKind::Protocol) {
                            kinds.push(EvidenceKind::Protocol);
                        }
                        kinds
                    },
                    legal_basis: p.legal_basis,
                    name: p.name,
                })
            })
            .collect()
    }
}
