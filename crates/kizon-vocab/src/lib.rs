//! The words kizon's crates share, each defined once.
//!
//! A value such as an item's kind or a finding's severity crosses every layer: a parser
//! recognises it, the store keeps it, the application decides on it, the shells and the
//! report print it. Each is a closed enum here with one spelling ([`Word::as_str`]): the one
//! study.toml, the SQLite file, the ledger and `--json` hold. Matches over them are
//! exhaustive, so a new kind of item is a compile error wherever a decision depends on it.
//!
//! Reading a spelling back ([`Word::parse`]) gives `None` for anything else. A caller that
//! reads a stored value turns that into an error naming where it was (the store's
//! `Tampered`), never into a default: nothing stored is skipped in silence.
//!
//! - [`ItemKind`]: what a file holds, recognised from its content (kizon-formats).
//! - [`Severity`], [`Decision`], [`FindingStatus`]: a data finding (Q7) and how it was
//!   resolved.
//! - [`Label`]: a binary read or result; [`ReadRole`]: who read, in which capacity.
//! - [`Lang`]: the language of a report or a page; [`Metric`]: an accuracy or agreement
//!   measure.
//! - [`ProviderKind`], [`ConsentModel`], [`EvidenceKind`], [`RegulatorAccess`]: a data provider
//!   and the consent behind its data (Q3, Q6, Q8, Q9).
//! - [`SpecimenType`], [`StorageTemperature`]: a residual specimen and how it was kept (Q4, Q7).

#![forbid(unsafe_code)]

mod metric;
mod providers;
mod read;
mod specimens;

pub use metric::Metric;
pub use providers::{ConsentModel, EvidenceKind, ProviderKind, RegulatorAccess};
pub use read::{Label, ReadRole};
pub use specimens::{ComparisonMethod, SpecimenType, StorageTemperature};

/// A closed vocabulary with one spelling per value.
pub trait Word: Copy + Sized + 'static {
    /// Every value, in the order hints list them.
    const ALL: &'static [Self];

    /// The spelling kizon writes.
    fn as_str(self) -> &'static str;

    /// The value spelled `text`; `None` for anything else.
    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|w| w.as_str() == text)
    }

    /// The accepted spellings, for hints: `"a" | "b"`.
    fn choices() -> String {
        Self::ALL
            .iter()
            .map(|v| format!("\"{}\"", v.as_str()))
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

/// Declares a closed vocabulary: its values spelled as given in TOML and JSON, `as_str`,
/// `parse`, `ALL`, `choices` (inherent, so callers need not import [`Word`]) and `Display`.
#[macro_export]
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the order hints list them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling kizon writes.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value spelled `text`; `None` for anything else.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The accepted spellings, for hints: `"a" | "b"`.
            pub fn choices() -> String {
                Self::ALL.iter().map(|v| format!("\"{}\"", v.as_str())).collect::<Vec<_>>().join(" | ")
            }
        }

        impl $crate::Word for $name {
            const ALL: &'static [$name] = $name::ALL;
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// What kind of data a file holds, recognised from its content, never from its name.
    /// Declared in the order of the spellings, so that sorted kinds come out as lists, reports
    /// and the case list have always shown them.
    ItemKind {
        Dicom = "dicom",
        DicomWaveform = "dicom-waveform",
        Edf = "edf",
        Mfer = "mfer",
        /// One residual specimen's record (`kizon specimens import`): its pre-analytical facts
        /// and its results, a row of a laboratory export.
        Specimen = "specimen",
        Table = "table",
        Unknown = "unknown",
        Video = "video",
        Wfdb = "wfdb",
    }
}

impl ItemKind {
    /// A waveform (ECG, EEG): its channels can be decoded, drawn and checked.
    pub fn is_waveform(self) -> bool {
        match self {
            ItemKind::DicomWaveform | ItemKind::Edf | ItemKind::Wfdb | ItemKind::Mfer => true,
            ItemKind::Dicom
            | ItemKind::Video
            | ItemKind::Specimen
            | ItemKind::Table
            | ItemKind::Unknown => false,
        }
    }

    /// What a reader looks at when reading the case: images, video and waveforms; not the
    /// result tables and not what could not be recognised.
    pub fn is_readable(self) -> bool {
        match self {
            ItemKind::Dicom | ItemKind::Video => true,
            ItemKind::Specimen | ItemKind::Table | ItemKind::Unknown => false,
            waveform => waveform.is_waveform(),
        }
    }

    /// The names users read, Japanese and English: `dicom-waveform` → DICOM 波形.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            ItemKind::Dicom => ("DICOM 画像", "DICOM image"),
            ItemKind::DicomWaveform => ("DICOM 波形", "DICOM waveform"),
            ItemKind::Edf => ("EDF 波形", "EDF waveform"),
            ItemKind::Wfdb => ("WFDB 波形", "WFDB waveform"),
            ItemKind::Mfer => ("MFER 波形", "MFER waveform"),
            ItemKind::Video => ("動画", "video"),
            ItemKind::Specimen => ("検体", "specimen"),
            ItemKind::Table => ("結果表（CSV）", "result table (CSV)"),
            ItemKind::Unknown => ("不明な形式", "unknown format"),
        }
    }
}

vocabulary! {
    /// How much a data finding (Q7) weighs: a blocking one stops the dataset lock until it
    /// is resolved.
    Severity {
        Blocking = "blocking",
        Warning = "warning",
    }
}

vocabulary! {
    /// How a finding was resolved, as `kizon check resolve` words it.
    Decision {
        /// The data stayed; the reason says why the doubt does not hold.
        Accept = "accept",
        /// The case left the dataset; it appears among the exclusions of the flow diagram.
        ExcludeCase = "exclude-case",
        /// The provider was asked to check the source records (Q7, Q8).
        QueryProvider = "query-provider",
    }
}

vocabulary! {
    /// Where a finding stands: derived from its latest [`Decision`], never stored.
    FindingStatus {
        Open = "open",
        Queried = "queried",
        Excluded = "excluded",
        Accepted = "accepted",
    }
}

impl FindingStatus {
    /// The decision that gives this status (none for an open finding): the inverse of
    /// [`FindingStatus::of`].
    pub fn decision(self) -> Option<Decision> {
        match self {
            FindingStatus::Open => None,
            FindingStatus::Queried => Some(Decision::QueryProvider),
            FindingStatus::Excluded => Some(Decision::ExcludeCase),
            FindingStatus::Accepted => Some(Decision::Accept),
        }
    }

    /// The status that the latest decision (none yet: open) gives.
    pub fn of(decision: Option<Decision>) -> FindingStatus {
        match decision {
            None => FindingStatus::Open,
            Some(Decision::QueryProvider) => FindingStatus::Queried,
            Some(Decision::ExcludeCase) => FindingStatus::Excluded,
            Some(Decision::Accept) => FindingStatus::Accepted,
        }
    }

    /// Still waiting for a decision that closes it: open, or asked of the provider.
    pub fn is_unresolved(self) -> bool {
        match self {
            FindingStatus::Open | FindingStatus::Queried => true,
            FindingStatus::Excluded | FindingStatus::Accepted => false,
        }
    }
}

vocabulary! {
    /// The language of a report, a page or a message.
    Lang {
        Ja = "ja",
        En = "en",
    }
}

impl Lang {
    /// Picks the Japanese or the English text.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// The first `limit` of `names`, comma-separated, and how many more there are ("ほか N 件",
    /// "and N more"): what a message, a report row or a page names of a finding's thousands
    /// of cases or paths (the finding itself keeps them all).
    pub fn first_named<S: AsRef<str>>(self, names: &[S], limit: usize) -> String {
        let shown: Vec<&str> = names.iter().take(limit).map(AsRef::as_ref).collect();
        match names.len().saturating_sub(limit) {
            0 => shown.join(", "),
            more => match self {
                Lang::Ja => format!("{} ほか {more} 件", shown.join(", ")),
                Lang::En => format!("{} and {more} more", shown.join(", ")),
            },
        }
    }
}

#[cfg(test)]
mod first_named_tests {
    use super::Lang;

    #[test]
    fn names_the_first_ones_and_counts_the_rest() {
        let cases: Vec<String> = (0..25).map(|i| format!("C{i:02}")).collect();
        assert_eq!(
            Lang::En.first_named(&cases[..3], 20),
            "C00, C01, C02",
            "all of a few"
        );
        let en = Lang::En.first_named(&cases, 20);
        assert!(
            en.starts_with("C00, ") && en.ends_with("C19 and 5 more"),
            "{en}"
        );
        assert!(Lang::Ja.first_named(&cases, 20).ends_with("C19 ほか 5 件"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<W: Word + PartialEq + std::fmt::Debug + serde::Serialize>() {
        for &w in W::ALL {
            assert_eq!(W::parse(w.as_str()), Some(w));
            assert_eq!(
                serde_json::to_string(&w).unwrap(),
                format!("\"{}\"", w.as_str())
            );
        }
        assert_eq!(W::parse(""), None);
        assert_eq!(W::parse("Positive "), None);
    }

    #[test]
    fn every_word_reads_back_as_itself_and_nothing_else_does() {
        round_trips::<ItemKind>();
        round_trips::<Severity>();
        round_trips::<Decision>();
        round_trips::<FindingStatus>();
        round_trips::<Label>();
        round_trips::<Lang>();
        round_trips::<Metric>();
        round_trips::<ProviderKind>();
        round_trips::<ConsentModel>();
        round_trips::<EvidenceKind>();
        round_trips::<RegulatorAccess>();
        round_trips::<SpecimenType>();
        round_trips::<StorageTemperature>();
        round_trips::<ComparisonMethod>();
    }

    #[test]
    fn the_stored_spellings_are_those_of_earlier_studies() {
        // These strings are in SQLite files and ledgers already written: changing one would
        // make an existing study unreadable.
        let kinds: Vec<&str> = ItemKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "dicom",
                "dicom-waveform",
                "edf",
                "mfer",
                "specimen",
                "table",
                "unknown",
                "video",
                "wfdb"
            ]
        );
        let mut sorted = kinds.clone();
        sorted.sort_unstable();
        assert_eq!(kinds, sorted, "the enum's order is the spellings' order");
        assert_eq!(Decision::ExcludeCase.as_str(), "exclude-case");
        assert_eq!(Decision::QueryProvider.as_str(), "query-provider");
        assert_eq!(Metric::LrPositive.as_str(), "lr_positive");
    }

    #[test]
    fn status_follows_the_latest_decision() {
        assert_eq!(FindingStatus::of(None), FindingStatus::Open);
        for &status in FindingStatus::ALL {
            assert_eq!(FindingStatus::of(status.decision()), status);
        }
        assert!(FindingStatus::of(Some(Decision::QueryProvider)).is_unresolved());
        assert!(!FindingStatus::of(Some(Decision::Accept)).is_unresolved());
        assert_eq!(
            FindingStatus::of(Some(Decision::ExcludeCase)),
            FindingStatus::Excluded
        );
    }

    #[test]
    fn readers_read_images_video_and_waveforms_only() {
        let readable: Vec<ItemKind> = ItemKind::ALL
            .iter()
            .copied()
            .filter(|k| k.is_readable())
            .collect();
        assert_eq!(
            readable,
            [
                ItemKind::Dicom,
                ItemKind::DicomWaveform,
                ItemKind::Edf,
                ItemKind::Mfer,
                ItemKind::Video,
                ItemKind::Wfdb
            ]
        );
    }
}
