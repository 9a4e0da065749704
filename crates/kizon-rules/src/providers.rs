//! Data providers and the evidence that explains their consent (Q3, Q6, Q9): which documents
//! each consent model needs. The words themselves are kizon-vocab's.

use serde::Serialize;

pub use kizon_vocab::{ConsentModel, EvidenceKind, ProviderKind, RegulatorAccess};

/// Whether a provider with this consent model needs this kind of evidence, so that the
/// applicant can explain how consent was obtained (Q6) with the documents Q9 lists.
pub fn requirement(kind: EvidenceKind, consent: ConsentModel) -> Requirement {
    use ConsentModel::*;
    use EvidenceKind::*;
    match (kind, consent) {
        (Protocol | EthicsReview | Contract, _) => Requirement::Required,
        (ConsentFormDraft | BlankConsentForm, InformedConsent | BroadConsent) => {
            Requirement::Required
        }
        (OptOutNotice, OptOut) => Requirement::Required,
        (Other, _) => Requirement::Optional,
        _ => Requirement::NotApplicable,
    }
}

/// How a kind of evidence stands for one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    Required,
    Optional,
    NotApplicable,
}

/// What the rules need to know of one provider.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderFacts {
    pub name: String,
    pub kind: ProviderKind,
    pub consent_model: ConsentModel,
    pub legal_basis: String,
    pub regulator_access_in_consent: RegulatorAccess,
    /// The kinds of evidence on file for it, one entry per document.
    pub evidence: Vec<EvidenceKind>,
}
