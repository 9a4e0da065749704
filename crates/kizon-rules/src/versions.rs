//! The revisions of the Q&A, and what changed between them.
//!
//! The Q&A of 2022-12-08 (事務連絡) was revised on 2025-03-17; the revision's 新旧対照表 changed
//! Q8 (the APPI clause that lets the regulator read source records) and Q10 (the protocol
//! consultation category, and the case list for 2(2)). Everything else reads the same in both.
//! A plan applies the revision in force on the protocol's date.

use serde::Serialize;
use time::{Date, macros::date};

/// One revision of the Q&A, with the answers that differ between revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RulesVersion {
    /// `qa-2022-12-08` or `qa-2025-03-17`.
    pub id: &'static str,
    pub in_force_from: Date,
    pub title_ja: &'static str,
    pub title_en: &'static str,
    /// Q10: the protocol consultation for 2(1); `None` where the Q&A said to ask PMDA.
    #[serde(skip)]
    pub protocol_consultation_2_1: Option<&'static str>,
    /// Q10: the protocol consultation for 2(2); `None` where the Q&A said to ask PMDA.
    #[serde(skip)]
    pub protocol_consultation_2_2: Option<&'static str>,
    /// Q10: whether a 2(2) application may omit the case list (症例一覧表).
    #[serde(skip)]
    pub case_list_waived_for_2_2: bool,
    /// Q8: the legal basis on which the regulator may read source records without consent.
    #[serde(skip)]
    pub regulator_access_basis_ja: &'static str,
    #[serde(skip)]
    pub regulator_access_basis_en: &'static str,
}

/// What the Q&A of 2022-12-08 told applicants to do about the protocol consultation.
pub const ASK_PMDA_JA: &str = "ＰＭＤＡに確認すること";

pub const QA_2022_12_08: RulesVersion = RulesVersion {
    id: "qa-2022-12-08",
    in_force_from: date!(2022 - 12 - 08),
    title_ja: "追加的な侵襲・介入を伴わない既存の医用画像データ等を用いた診断用医療機器の性能評価試験の取扱いに関する質疑応答集（Ｑ＆Ａ）（令和４年12月８日付け事務連絡）",
    title_en: "Q&A on performance evaluation tests of diagnostic devices using existing medical image data etc. without additional invasion or intervention (MHLW notice of 2022-12-08)",
    protocol_consultation_2_1: None,
    protocol_consultation_2_2: None,
    case_list_waived_for_2_2: false,
    regulator_access_basis_ja: "規制当局が行う信頼性調査は法令に基づき実施するものであり、個人情報保護法における「法令に基づく場合」の例外事例に該当する",
    regulator_access_basis_en: "the reliability investigation is conducted under law, an APPI exception for cases based on laws and regulations",
};

pub const QA_2025_03_17: RulesVersion = RulesVersion {
    id: "qa-2025-03-17",
    in_force_from: date!(2025 - 03 - 17),
    title_ja: "追加的な侵襲・介入を伴わない既存の医用画像データ等を用いた診断用医療機器の性能評価試験の取扱いに関する質疑応答集（Ｑ＆Ａ）（令和７年３月17日一部改正）",
    title_en: "Q&A on performance evaluation tests of diagnostic devices using existing medical image data etc. without additional invasion or intervention (as revised by the MHLW notice of 2025-03-17)",
    protocol_consultation_2_1: Some("医療機器プロトコル相談 性能"),
    protocol_consultation_2_2: Some("医療機器プロトコル相談 性能（既存の診療情報を用いる試験）"),
    case_list_waived_for_2_2: true,
    regulator_access_basis_ja: "個人情報保護法第27条第１項第４号（国の機関等が法令の定める事務を遂行することに対して協力する必要がある場合）が適用される",
    regulator_access_basis_en: "under APPI Article 27(1)(iv), cooperation with a national agency performing duties prescribed by law",
};

/// Every revision, oldest first.
pub const ALL: &[RulesVersion] = &[QA_2022_12_08, QA_2025_03_17];

/// The revision in force on `day`; `None` before the first Q&A.
pub fn in_force_on(day: Date) -> Option<&'static RulesVersion> {
    ALL.iter().rev().find(|v| v.in_force_from <= day)
}

/// The newest revision.
pub fn latest() -> &'static RulesVersion {
    ALL.last().expect("at least one revision")
}
