//! The words of providers and consent (Q3, Q6, Q8, Q9): where data comes from, how consent was
//! obtained, what documents explain it, and whether they let the regulator read source records.

use crate::vocabulary;

vocabulary! {
    /// Where existing data comes from (Q3: routine care, or public or private biobanks and databases).
    ProviderKind {
        Hospital = "hospital",
        PublicBiobank = "public-biobank",
        PrivateBiobank = "private-biobank",
        Database = "database",
    }
}

vocabulary! {
    /// How the provider obtained the patients' consent, or why none was needed (Q6).
    ConsentModel {
        /// 個別の同意（文書又は口頭）/ individual informed consent.
        InformedConsent = "informed-consent",
        /// 包括同意（バイオバンク等）/ broad consent given to a biobank.
        BroadConsent = "broad-consent",
        /// オプトアウト / notice with opportunity to refuse.
        OptOut = "opt-out",
        /// 同意不要（法令上の根拠による）/ not required on a legal basis stated with the provider.
        NotRequired = "not-required",
    }
}

vocabulary! {
    /// Kinds of evidence documents (根拠資料) that explain consent (Q9).
    EvidenceKind {
        /// 性能評価試験計画書 / protocol.
        Protocol = "protocol",
        /// 医療機関等のデータ提供元へ配布した説明・同意文書案 / consent document drafts sent to the provider.
        ConsentFormDraft = "consent-form-draft",
        /// 医療機関等が患者へ配布した説明資料・同意文書用紙（未記入）/ blank consent forms used.
        BlankConsentForm = "blank-consent-form",
        /// 研究実施者が審査依頼を行った倫理審査に係る資料 / ethics review documents.
        EthicsReview = "ethics-review",
        /// データ提供元との契約・合意文書 / contract or agreement with the provider.
        Contract = "contract",
        /// オプトアウトの通知・公開文書 / the opt-out notice.
        OptOutNotice = "opt-out-notice",
        /// その他 / other.
        Other = "other",
    }
}

vocabulary! {
    /// Whether the consent documents mention that the regulator may read source records (Q8).
    RegulatorAccess {
        Yes = "yes",
        No = "no",
        Unknown = "unknown",
    }
}

impl ProviderKind {
    /// The kind's name in the Q&A's terms (Q3).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            ProviderKind::Hospital => ("医療機関（日常診療）", "hospital (routine care)"),
            ProviderKind::PublicBiobank => ("公的バイオバンク", "public biobank"),
            ProviderKind::PrivateBiobank => ("民間バイオバンク", "private biobank"),
            ProviderKind::Database => ("データベース", "database"),
        }
    }
}

impl ConsentModel {
    /// The consent model's name in the Q&A's terms (Q6).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            ConsentModel::InformedConsent => ("個別の同意", "individual informed consent"),
            ConsentModel::BroadConsent => ("包括同意", "broad consent"),
            ConsentModel::OptOut => ("オプトアウト", "opt-out"),
            ConsentModel::NotRequired => (
                "同意不要（法令上の根拠による）",
                "not required (legal basis)",
            ),
        }
    }
}

impl EvidenceKind {
    /// The kind's name in the Q&A's terms (Q9), Japanese and English.
    pub fn names(self) -> (&'static str, &'static str) {
        (self.name_ja(), self.name_en())
    }

    pub fn name_ja(self) -> &'static str {
        match self {
            EvidenceKind::Protocol => "性能評価試験計画書",
            EvidenceKind::ConsentFormDraft => "データ提供元へ配布した説明・同意文書案",
            EvidenceKind::BlankConsentForm => {
                "患者へ配布した説明資料・同意文書用紙（署名等未記入のもの）"
            }
            EvidenceKind::EthicsReview => "倫理審査に係る資料",
            EvidenceKind::Contract => "データ提供元との契約・合意文書",
            EvidenceKind::OptOutNotice => "オプトアウトの通知・公開文書",
            EvidenceKind::Other => "その他の根拠資料",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            EvidenceKind::Protocol => "protocol",
            EvidenceKind::ConsentFormDraft => "consent document drafts sent to the provider",
            EvidenceKind::BlankConsentForm => {
                "blank explanation and consent forms given to patients"
            }
            EvidenceKind::EthicsReview => "ethics review documents",
            EvidenceKind::Contract => "contract or agreement with the provider",
            EvidenceKind::OptOutNotice => "opt-out notice",
            EvidenceKind::Other => "other evidence",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_have_names() {
        assert_eq!(EvidenceKind::EthicsReview.names().0, "倫理審査に係る資料");
        assert_eq!(ProviderKind::Hospital.names().1, "hospital (routine care)");
        assert_eq!(ConsentModel::OptOut.names().0, "オプトアウト");
    }
}
