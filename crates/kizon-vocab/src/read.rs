//! A read and a device result: the label given, and the capacity in which a reader gave it.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

crate::vocabulary! {
    /// A binary reading or device result.
    Label {
        Positive = "positive",
        Negative = "negative",
        Indeterminate = "indeterminate",
    }
}

impl Label {
    /// Reads a label as people write it in a spreadsheet, in English or Japanese. This is for
    /// what users type; a stored label is read back with [`Label::parse`] alone.
    pub fn from_cell(cell: &str) -> Option<Label> {
        match cell.trim().to_lowercase().as_str() {
            "positive" | "pos" | "1" | "true" | "yes" | "+" | "陽性" | "あり" => {
                Some(Label::Positive)
            }
            "negative" | "neg" | "0" | "false" | "no" | "-" | "陰性" | "なし" => {
                Some(Label::Negative)
            }
            "indeterminate" | "equivocal" | "判定不能" | "判定保留" => {
                Some(Label::Indeterminate)
            }
            _ => None,
        }
    }

    /// The spellings [`Label::from_cell`] accepts, for hints.
    pub const CHOICES: &'static str =
        "positive | negative | indeterminate (also 1/0, 陽性/陰性/判定不能)";
}

/// The capacity of a read. Stored as `panel`, `adjudicator` or `modality:NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReadRole {
    /// A member of the expert panel whose consensus is the reference standard (Q4).
    Panel,
    /// The reader who decides where the panel disagrees.
    Adjudicator,
    /// A reader-study (MRMC) read under a reading condition, e.g. unaided or aided by the
    /// device.
    Modality(String),
}

impl ReadRole {
    const MODALITY_PREFIX: &'static str = "modality:";

    /// The stored spelling.
    pub fn as_stored(&self) -> Cow<'static, str> {
        match self {
            ReadRole::Panel => Cow::Borrowed("panel"),
            ReadRole::Adjudicator => Cow::Borrowed("adjudicator"),
            ReadRole::Modality(m) => Cow::Owned(format!("{}{m}", Self::MODALITY_PREFIX)),
        }
    }

    /// The role spelled `text`; `None` for anything else (an empty modality included).
    pub fn parse(text: &str) -> Option<ReadRole> {
        match text {
            "panel" => Some(ReadRole::Panel),
            "adjudicator" => Some(ReadRole::Adjudicator),
            other => other
                .strip_prefix(Self::MODALITY_PREFIX)
                .filter(|m| !m.is_empty())
                .map(|m| ReadRole::Modality(m.to_owned())),
        }
    }

    /// Whether the read builds the reference standard (a panel member's or the
    /// adjudicator's), as opposed to a reader-study read.
    pub fn is_reference(&self) -> bool {
        match self {
            ReadRole::Panel | ReadRole::Adjudicator => true,
            ReadRole::Modality(_) => false,
        }
    }

    /// The reading condition of a reader-study read.
    pub fn modality(&self) -> Option<&str> {
        match self {
            ReadRole::Modality(m) => Some(m),
            ReadRole::Panel | ReadRole::Adjudicator => None,
        }
    }
}

impl fmt::Display for ReadRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_stored())
    }
}

impl Serialize for ReadRole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_stored())
    }
}

impl<'de> Deserialize<'de> for ReadRole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ReadRole::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not a role (panel, adjudicator or modality:NAME)"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_as_stored() {
        for role in [
            ReadRole::Panel,
            ReadRole::Adjudicator,
            ReadRole::Modality("unaided".into()),
        ] {
            assert_eq!(ReadRole::parse(&role.as_stored()), Some(role.clone()));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(serde_json::from_str::<ReadRole>(&json).unwrap(), role);
        }
        assert_eq!(ReadRole::parse("modality:"), None);
        assert_eq!(ReadRole::parse("Panel"), None);
        assert!(serde_json::from_str::<ReadRole>("\"reader\"").is_err());
    }

    #[test]
    fn only_panel_and_adjudicator_reads_make_the_reference() {
        assert!(ReadRole::Panel.is_reference());
        assert!(ReadRole::Adjudicator.is_reference());
        let aided = ReadRole::Modality("aided".into());
        assert!(!aided.is_reference());
        assert_eq!(aided.modality(), Some("aided"));
    }

    #[test]
    fn cells_in_either_language_give_labels() {
        assert_eq!(Label::from_cell(" 陽性 "), Some(Label::Positive));
        assert_eq!(Label::from_cell("NEG"), Some(Label::Negative));
        assert_eq!(Label::from_cell("判定保留"), Some(Label::Indeterminate));
        assert_eq!(Label::from_cell("2"), None);
        // A stored label is the exact spelling, nothing looser.
        assert_eq!(Label::parse("pos"), None);
    }
}
