//! The fixed words of the protocol's `[device]` and `[design]` tables.
//!
//! These names are part of kizon's public contract (study.toml and `plan --json`), so each
//! enum spells its values exactly as the file does and offers `as_str` for the way back.

use serde::{Deserialize, Deserializer, Serialize};

pub use kizon_vocab::{Metric, vocabulary};

vocabulary! {
    /// Where the reference standard (正解) comes from (Q4).
    ReferenceStandard {
        /// 2(1): several specialists read the existing data and their consensus is the answer.
        ExpertPanel = "expert-panel",
        /// 2(1): a comparator method's result (e.g. an approved analyser); report agreement, not sensitivity.
        ComparatorMethod = "comparator-method",
        /// 2(2): the linked confirmed diagnosis (確定診断, e.g. pathology).
        ConfirmedDiagnosis = "confirmed-diagnosis",
    }
}

vocabulary! {
    /// How identifiable the collected data is in the applicant's hands.
    Privacy {
        /// The data itself identifies the person.
        Identifiable = "identifiable",
        /// 仮名加工情報: identifiable only with a separately kept key.
        Pseudonymized = "pseudonymized",
        /// 匿名加工情報 (APPI): processed so that the person cannot be re-identified (Q11).
        Anonymized = "anonymized",
        /// Not identifiable to the applicant; the provider may still keep a correspondence table (Q5).
        NonIdentifiable = "non-identifiable",
    }
}

vocabulary! {
    /// Where the correspondence table (対応表, pseudonym ↔ patient) is kept (Q5).
    CorrespondenceTable {
        None = "none",
        AtProvider = "at-provider",
        AtApplicant = "at-applicant",
    }
}

vocabulary! {
    /// The kinds of existing data the test collects (Q1: video and waveforms count as images
    /// when they carry no clearly identifying information).
    DataKind {
        Image = "image",
        Video = "video",
        Waveform = "waveform",
        Specimen = "specimen",
        Sequence = "sequence",
    }
}

vocabulary! {
    /// How far the applicant checks the collected clinical information against the source
    /// records (原資料（カルテ情報等）との照合, SDV): Q7 leaves it to the applicant, by the
    /// information collected, the test's nature and the reliability it needs.
    SourceDataVerification {
        /// No SDV: the reason says why the test needs none.
        None = "none",
        /// A sample of cases (the reason says which, and how many).
        Sampled = "sampled",
        /// Every case.
        Full = "full",
    }
}

vocabulary! {
    /// How an expert panel's reads become the reference standard of a case (`[reference]`).
    Consensus {
        /// More than half of the panel's reads; a tie goes to the adjudicator, if any.
        Majority = "majority",
        /// Every panel read agrees; otherwise the adjudicator, if any.
        Unanimous = "unanimous",
        /// Positive when at least `k` panel reads are positive.
        KOfN = "k-of-n",
        /// Agreement of the panel stands; any disagreement goes to the adjudicator.
        Adjudicator = "adjudicator",
    }
}

vocabulary! {
    /// Case attributes by which `kizon analyze` reports subgroups (`[analysis] subgroups`).
    Subgroup {
        Provider = "provider",
        Modality = "modality",
        Manufacturer = "manufacturer",
        Sex = "sex",
        AgeBand = "age-band",
        BodyPart = "body-part",
    }
}

vocabulary! {
    /// Confidence-interval methods for a proportion.
    CiMethod {
        Wilson = "wilson",
        ClopperPearson = "clopper-pearson",
        AgrestiCoull = "agresti-coull",
        Jeffreys = "jeffreys",
    }
}

/// Whether the device under test is new or an improvement of an approved one (Q10).
///
/// Anything else (a generic device, say) is kept as written: the Q&A does not cover it, and
/// the plan says so instead of guessing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum Novelty {
    New,
    Improved,
    /// Outside the Q&A's scope; the written value is kept for the message.
    Other(String),
}

impl Novelty {
    pub fn as_str(&self) -> &str {
        match self {
            Novelty::New => "new",
            Novelty::Improved => "improved",
            Novelty::Other(text) => text,
        }
    }
}

impl From<Novelty> for String {
    fn from(novelty: Novelty) -> String {
        novelty.as_str().to_owned()
    }
}

impl<'de> Deserialize<'de> for Novelty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match text.as_str() {
            "new" => Novelty::New,
            "improved" => Novelty::Improved,
            _ => Novelty::Other(text),
        })
    }
}

impl std::fmt::Display for Novelty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

vocabulary! {
    /// When a mark is on a lesion (`[lesions] criterion`): for matching device marks to the
    /// reference lesions and for clustering the panel's marks.
    LesionCriterion {
        /// Centre distance at most `radius`.
        Distance = "distance",
        /// Intersection over union of the boxes at least `threshold`.
        Iou = "iou",
        /// The mark's centre inside the lesion's region (circle, box or polygon).
        Inside = "inside",
    }
}

vocabulary! {
    /// The unit of mark coordinates and of `[lesions] radius`.
    LesionUnits {
        Mm = "mm",
        Pixels = "pixels",
    }
}

vocabulary! {
    /// What a second mark on an already credited lesion counts as (`[lesions] duplicates`).
    DuplicateMarks {
        /// Neither hit nor false positive (Chakraborty's FROC convention).
        Discard = "discard",
        /// A false positive (non-lesion localisation).
        FalsePositive = "false-positive",
    }
}

vocabulary! {
    /// The order in which each reader is shown the cases.
    #[derive(Default)]
    CaseOrder {
        /// A random order of its own for each reader, fixed by the reader and the case (the web
        /// workspace's worklist).
        #[default]
        RandomPerReader = "random-per-reader",
        /// The same order for every reader, as assigned.
        AsAssigned = "as-assigned",
    }
}

impl SourceDataVerification {
    /// How the plan and the report say it: (Japanese, English).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            SourceDataVerification::None => ("行わない", "none"),
            SourceDataVerification::Sampled => ("一部の症例で行う", "on a sample of cases"),
            SourceDataVerification::Full => ("全症例で行う", "on every case"),
        }
    }
}
