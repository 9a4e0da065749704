//! A study as one account uses it: the one door of the web workspace.
//!
//! Every use case the web reaches on behalf of a signed-in account goes through [`Acting`]
//! (or takes the account itself, as the overview and the reader's worklist do): each method
//! checks the account's [`Permission`] before it reads or writes, and records the account as
//! the actor. The shell never picks a permission; kizon-web's `tests/boundaries.rs` fails if it
//! checks one itself.
//!
//! The command line acts as the operating-system user on a study folder it can already read
//! and write (filesystem access is the access control there), so it calls [`Study`]'s use cases
//! directly.

use kizon_store::{DeviceResult, Read};

use crate::access::{Account, Permission};
use crate::analyze::{Analysis, AnalyzeOutcome};
use crate::check::{Decision, FindingView};
use crate::providers::EvidenceKind;
use crate::report::{Format, Lang, Rendered};
use crate::text::Reason;
use crate::{AppError, Evidence, LedgerEntry, Provider, Study};

/// A study and the account acting on it.
/// What the providers page shows.
#[derive(Debug, Clone)]
pub struct ProvidersView {
    pub providers: Vec<Provider>,
    pub evidence: Vec<Evidence>,
    /// Each provider's registered signing keys (its hand-overs are verified against them).
    pub keys: Vec<kizon_store::ProviderKey>,
    /// The signed hand-overs accepted at ingest.
    pub handovers: Vec<kizon_store::Handover>,
}

pub struct Acting<'s> {
    study: &'s mut Study,
    account: &'s Account,
}

impl Study {
    /// The study as `account` may use it.
    pub fn acting<'s>(&'s mut self, account: &'s Account) -> Acting<'s> {
        Acting {
            study: self,
            account,
        }
    }
}

impl Acting<'_> {
    fn require(&self, permission: Permission) -> Result<(), AppError> {
        self.study.require(self.account, permission)
    }

    /// The providers and the evidence of their consent (Q3, Q6, Q9).
    /// The providers, their evidence, their signing keys and the signed hand-overs received.
    pub fn providers_and_evidence(&self) -> Result<ProvidersView, AppError> {
        self.require(Permission::ViewStudy)?;
        Ok(ProvidersView {
            providers: self.study.providers()?,
            evidence: self.study.evidence()?,
            keys: self.study.provider_keys()?,
            handovers: self.study.handovers()?,
        })
    }

    /// Refuses an account that may not upload evidence, before its upload is read.
    pub fn may_upload_evidence(&self) -> Result<(), AppError> {
        self.require(Permission::UploadEvidence)
    }

    /// Stores an evidence document uploaded from the browser.
    pub fn add_evidence_bytes(
        &mut self,
        provider: &str,
        kind: EvidenceKind,
        file_name: &str,
        bytes: &[u8],
        note: Option<&str>,
    ) -> Result<Evidence, AppError> {
        self.require(Permission::UploadEvidence)?;
        let actor = self.account.actor();
        self.study
            .add_evidence_bytes(&actor, provider, kind, file_name, bytes, note)
    }

    /// Every finding and where it stands.
    pub fn findings(&self) -> Result<Vec<FindingView>, AppError> {
        self.require(Permission::ViewStudy)?;
        self.study.findings()
    }

    /// A decision on a finding, with its reason.
    pub fn resolve<'r>(
        &mut self,
        id: i64,
        decision: Decision,
        reason: impl Into<Reason<'r>>,
        cases: &[String],
    ) -> Result<FindingView, AppError> {
        self.require(Permission::ResolveFindings)?;
        let actor = self.account.actor();
        self.study.resolve(&actor, id, decision, reason, cases)
    }

    /// A page of findings, with every rule's tally.
    pub fn findings_page(
        &self,
        filter: &crate::check::FindingFilter,
    ) -> Result<crate::check::FindingPage, AppError> {
        self.require(Permission::ViewStudy)?;
        self.study.findings_page(filter)
    }

    /// One decision, with one reason, on every unresolved finding of a rule.
    pub fn resolve_rule<'r>(
        &mut self,
        rule: &str,
        decision: Decision,
        reason: impl Into<Reason<'r>>,
    ) -> Result<crate::check::RuleDecision, AppError> {
        self.require(Permission::ResolveFindings)?;
        let actor = self.account.actor();
        self.study.resolve_rule(&actor, rule, decision, reason)
    }

    /// The reads recorded (the panel's and a reader study's).
    pub fn reads(&self) -> Result<Vec<Read>, AppError> {
        self.require(Permission::ViewResults)?;
        self.study.reads()
    }

    /// The device's results.
    pub fn results(&self) -> Result<Vec<DeviceResult>, AppError> {
        self.require(Permission::ViewResults)?;
        self.study.results()
    }

    /// The latest stored analysis, if any.
    pub fn latest_analysis(&self) -> Result<Option<Analysis>, AppError> {
        self.require(Permission::ViewResults)?;
        Ok(self.study.latest_analysis()?.map(|(analysis, _)| analysis))
    }

    /// Runs the analysis of the latest device version.
    pub fn analyze(&mut self) -> Result<AnalyzeOutcome, AppError> {
        self.require(Permission::Analyze)?;
        let actor = self.account.actor();
        self.study.analyze(&actor, None)
    }

    /// The report of the latest analysis, dated today.
    pub fn report(&mut self, lang: Lang, format: Format) -> Result<Rendered, AppError> {
        self.require(Permission::ViewResults)?;
        let actor = self.account.actor();
        self.study.report_today(&actor, lang, format)
    }

    /// The audit ledger.
    pub fn audit_log(&self) -> Result<Vec<LedgerEntry>, AppError> {
        self.require(Permission::ViewAudit)?;
        self.study.audit_log()
    }

    /// The accounts of the web workspace, each with whether it is active.
    pub fn users(&self) -> Result<Vec<(Account, bool)>, AppError> {
        self.require(Permission::ManageUsers)?;
        self.study.users_with_status()
    }

    /// The protocol's reading sessions and each registered reader's, for the users page.
    pub fn reader_sessions(&self) -> Result<ReaderSessions, AppError> {
        self.require(Permission::ManageUsers)?;
        let declared = self
            .study
            .reading_plan()?
            .sessions()
            .into_iter()
            .map(|s| s.id)
            .collect();
        let mut readers = Vec::new();
        for reader in self.study.readers()? {
            let theirs = self.study.reader_session_ids(&reader.code)?;
            readers.push((reader.code, theirs));
        }
        Ok(ReaderSessions { declared, readers })
    }

    /// Adds an account (the admin's, in the ledger under the admin's name).
    pub fn add_user(
        &mut self,
        name: &str,
        role: crate::access::Role,
        reader_code: Option<&str>,
        password: &str,
    ) -> Result<Account, AppError> {
        self.require(Permission::ManageUsers)?;
        let actor = self.account.actor();
        self.study
            .add_user(&actor, name, role, reader_code, password)
    }

    /// Replaces a user's password (their sessions end).
    pub fn reset_password(&mut self, name: &str, password: &str) -> Result<(), AppError> {
        self.require(Permission::ManageUsers)?;
        let actor = self.account.actor();
        self.study.set_password(&actor, name, password)
    }

    /// Deactivates or reactivates an account; an admin cannot deactivate themself (the study
    /// would be left without anyone to undo it from the web).
    pub fn set_user_active(&mut self, name: &str, active: bool) -> Result<(), AppError> {
        self.require(Permission::ManageUsers)?;
        if !active && name == self.account.name {
            return Err(AppError::Refused {
                what: "you cannot deactivate your own account".into(),
                hint: "ask another admin, or use `kizon user` on the study's machine".into(),
            });
        }
        let actor = self.account.actor();
        self.study.set_user_active(&actor, name, active)
    }

    /// Assigns a reader the reading sessions they take part in.
    pub fn assign_sessions(
        &mut self,
        reader_code: &str,
        sessions: &[String],
    ) -> Result<usize, AppError> {
        self.require(Permission::ManageUsers)?;
        let actor = self.account.actor();
        self.study.assign_sessions(&actor, reader_code, sessions)
    }

    /// Assigns a panel reader cases (every case of the dataset, or those named).
    pub fn assign(
        &mut self,
        reader_code: &str,
        which: &crate::access::Assign,
    ) -> Result<usize, AppError> {
        self.require(Permission::ManageUsers)?;
        let actor = self.account.actor();
        self.study.assign(&actor, reader_code, which)
    }
}

/// The protocol's reading sessions, and the sessions each registered reader takes part in.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReaderSessions {
    pub declared: Vec<String>,
    /// Reader code → the reader's sessions, in the protocol's order.
    pub readers: Vec<(String, Vec<String>)>,
}
