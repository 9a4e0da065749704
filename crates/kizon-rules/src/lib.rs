//! The Q&A on performance evaluation tests on existing data, as rules (pure: no I/O).
//!
//! The MHLW Q&A (事務連絡 of 2022-12-08, revised 2025-03-17) interprets the Director's notice
//! 薬生機審発0929第1号 of 2021-09-29. This crate encodes it so that a protocol and its providers
//! give a [`Plan`]: the test type 2(1) or 2(2) (Q4, Q5), the application category and the
//! consultations (Q10), whether a case list is needed (Q10), the Q6/Q9 evidence checklist per
//! provider, flags (Q1, Q3, Q4, Q5, Q7, Q8, Q11) and a reason for every decision, each naming the
//! Q&A item it comes from.
//!
//! - [`versions`]: the revisions and what changed between them (Q8, Q10); a plan applies the one
//!   in force on the protocol's date.
//! - [`providers`]: providers, consent models and evidence kinds (Q3, Q6, Q9).
//! - [`plan`](mod@plan): the decisions.

#![forbid(unsafe_code)]

pub mod plan;
pub mod providers;
pub mod versions;

pub use plan::{Flag, Plan, PlanError, Reason, TestType, plan};
pub use providers::{ConsentModel, EvidenceKind, ProviderFacts, ProviderKind, RegulatorAccess};
pub use versions::RulesVersion;

#[cfg(test)]
mod tests;
