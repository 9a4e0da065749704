//! `[reading]`: how readers read, fixed with the protocol. The conditions printed in the
//! report's methods, the order cases are shown in, the rating scale of marks and reader-study
//! scores, the window presets the viewer offers, and the reading sessions of a multi-reader
//! multi-case (MRMC) design: which reading condition (modality) each session is, and the
//! washout a reader must let pass between sessions so that memory of the first read does not
//! carry into the second (Obuchowski 2004, "How many observers are needed in clinical studies
//! of medical imaging?", AJR 182: a washout of weeks between conditions of the same reader).

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::{BilingualText, CaseOrder, ProtocolError};

/// `[reading]`, checked.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ReadingPlan {
    /// Display, environment, time limits, what readers were told.
    pub conditions: Option<BilingualText>,
    pub case_order: CaseOrder,
    /// The scale of a mark's confidence rating and of a reader-study case score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating_scale: Option<RatingScale>,
    /// The window presets the viewer offers besides the image's own window.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub window_presets: Vec<WindowPreset>,
    /// The reading sessions in the order each reader goes through them; empty: one session of
    /// the reference panel (see [`ReadingPlan::sessions`]).
    #[serde(skip_serializing_if = "Vec::is_empty", rename = "sessions")]
    pub declared_sessions: Vec<ReadingSession>,
}

/// The range of a rating, both ends included; `integer` when both ends were written as
/// integers (a 1–5 scale), so that 2.5 is refused.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RatingScale {
    pub low: f64,
    pub high: f64,
    pub integer: bool,
}

impl RatingScale {
    /// Whether `value` is a rating on this scale.
    pub fn admits(&self, value: f64) -> bool {
        value.is_finite()
            && value >= self.low
            && value <= self.high
            && (!self.integer || value.fract() == 0.0)
    }

    /// `1–5` or `0–100`, for messages.
    pub fn describe(&self) -> String {
        format!("{}–{}", self.low, self.high)
    }
}

/// A named window (center and width in the modality's values, e.g. Hounsfield units).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowPreset {
    pub name: String,
    pub center: f64,
    pub width: f64,
}

/// The usual CT windows by name (radiology's common settings, in HU): a protocol may name
/// these or give its own `{ name, center, width }`.
pub const NAMED_WINDOWS: &[(&str, f64, f64)] = &[
    ("lung", -600.0, 1500.0),
    ("mediastinum", 40.0, 400.0),
    ("bone", 400.0, 1800.0),
    ("brain", 40.0, 80.0),
    ("abdomen", 40.0, 400.0),
    ("liver", 60.0, 160.0),
];

/// What a reader gives per case when submitting a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseRead {
    /// Positive, negative or indeterminate.
    Label,
    /// A score on the rating scale (the reader study's rating, for ROC).
    Score,
    LabelAndScore,
}

impl CaseRead {
    pub fn asks_label(self) -> bool {
        matches!(self, CaseRead::Label | CaseRead::LabelAndScore)
    }

    pub fn asks_score(self) -> bool {
        matches!(self, CaseRead::Score | CaseRead::LabelAndScore)
    }
}

/// One reading session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadingSession {
    pub id: String,
    /// The reading condition of a reader-study session (reads stored as `modality:M`);
    /// `None`: the reference panel's read (reads stored as `panel`).
    pub modality: Option<String>,
    /// Days that must pass between the reader's end of the previous session and the start of
    /// this one.
    pub washout_days: u32,
    pub case_read: CaseRead,
}

impl ReadingPlan {
    /// The sessions each reader goes through: those declared, or else the one session of the
    /// reference panel that a protocol without sessions has always had.
    pub fn sessions(&self) -> Vec<ReadingSession> {
        if self.declared_sessions.is_empty() {
            vec![ReadingSession {
                id: "panel".into(),
                modality: None,
                washout_days: 0,
                case_read: CaseRead::LabelAndScore,
            }]
        } else {
            self.declared_sessions.clone()
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReading {
    conditions: Option<crate::raw::RawText>,
    #[serde(default)]
    case_order: CaseOrder,
    rating_scale: Option<Spanned<[toml::Value; 2]>>,
    #[serde(default)]
    window_presets: Vec<Spanned<RawPreset>>,
    #[serde(default)]
    sessions: Vec<Spanned<RawSession>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawPreset {
    Named(String),
    Own {
        name: String,
        center: f64,
        width: f64,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSession {
    id: String,
    modality: Option<String>,
    washout_days: Option<u32>,
    case_read: Option<CaseRead>,
}

type Invalid<'a> = dyn Fn(std::ops::Range<usize>, &str, String, &str) -> ProtocolError + 'a;

/// A name a reader, a file or a role can carry: one word of letters, digits, `-` and `_`.
fn is_word(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 40
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl RawReading {
    pub(crate) fn into_plan(self, invalid: &Invalid<'_>) -> Result<ReadingPlan, ProtocolError> {
        let rating_scale = match self.rating_scale {
            None => None,
            Some(spanned) => {
                let span = spanned.span();
                let [low, high] = spanned.into_inner();
                let number = |v: &toml::Value| match v {
                    toml::Value::Integer(i) => Some((*i as f64, true)),
                    toml::Value::Float(f) if f.is_finite() => Some((*f, false)),
                    _ => None,
                };
                match (number(&low), number(&high)) {
                    (Some((low, a)), Some((high, b))) if low < high => Some(RatingScale {
                        low,
                        high,
                        integer: a && b,
                    }),
                    _ => {
                        return Err(invalid(
                            span,
                            "reading.rating_scale",
                            "not a range [low, high] of numbers with low < high".into(),
                            "write e.g. rating_scale = [1, 5] (integers: whole ratings) or [0.0, 100.0]",
                        ));
                    }
                }
            }
        };
        let mut window_presets: Vec<WindowPreset> = Vec::new();
        for spanned in self.window_presets {
            let span = spanned.span();
            let preset = match spanned.into_inner() {
                RawPreset::Named(name) => {
                    let Some(&(name, center, width)) =
                        NAMED_WINDOWS.iter().find(|(n, _, _)| *n == name)
                    else {
                        return Err(invalid(
                            span,
                            "reading.window_presets",
                            format!("`{name}` is not a window kizon knows"),
                            &format!(
                                "name one of {} or give your own {{ name = \"…\", center = C, width = W }}",
                                NAMED_WINDOWS
                                    .iter()
                                    .map(|(n, _, _)| *n)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ));
                    };
                    WindowPreset {
                        name: name.into(),
                        center,
                        width,
                    }
                }
                RawPreset::Own {
                    name,
                    center,
                    width,
                } => {
                    if name.trim().is_empty()
                        || !center.is_finite()
                        || !(width.is_finite() && width >= 1.0)
                    {
                        return Err(invalid(
                            span,
                            "reading.window_presets",
                            "a window needs a name, a finite center and a width of at least 1"
                                .into(),
                            "write e.g. { name = \"liver\", center = 60, width = 160 }",
                        ));
                    }
                    WindowPreset {
                        name,
                        center,
                        width,
                    }
                }
            };
            if window_presets.iter().any(|p| p.name == preset.name) {
                return Err(invalid(
                    span,
                    "reading.window_presets",
                    format!("window `{}` is named twice", preset.name),
                    "name every preset once",
                ));
            }
            window_presets.push(preset);
        }
        let mut sessions: Vec<ReadingSession> = Vec::new();
        for (index, spanned) in self.sessions.into_iter().enumerate() {
            let span = spanned.span();
            let raw = spanned.into_inner();
            let key = |name: &str| format!("reading.sessions[{index}].{name}");
            if !is_word(&raw.id) {
                return Err(invalid(
                    span,
                    &key("id"),
                    format!("`{}` is not a session id", raw.id),
                    "name a session in one word of letters, digits, - and _, e.g. id = \"S1\"",
                ));
            }
            if sessions.iter().any(|s| s.id == raw.id) {
                return Err(invalid(
                    span,
                    &key("id"),
                    format!("session `{}` is declared twice", raw.id),
                    "give every session its own id",
                ));
            }
            if let Some(m) = &raw.modality
                && !is_word(m)
            {
                return Err(invalid(
                    span,
                    &key("modality"),
                    format!("`{m}` is not a reading condition"),
                    "name the condition in one word, e.g. modality = \"unaided\" or \"aided\"",
                ));
            }
            // A reader reads a case once per condition: two sessions of one condition would
            // be a second read of the same thing.
            if sessions.iter().any(|s| s.modality == raw.modality) {
                return Err(invalid(
                    span,
                    &key("modality"),
                    match &raw.modality {
                        Some(m) => format!("two sessions read in condition `{m}`"),
                        None => "two sessions of the reference panel (no modality)".into(),
                    },
                    "a reader reads each case once per condition: one session per modality",
                ));
            }
            let washout_days = raw.washout_days.unwrap_or(0);
            if index == 0 && washout_days > 0 {
                return Err(invalid(
                    span,
                    &key("washout_days"),
                    "the first session has no session before it to wash out".into(),
                    "put washout_days on the later sessions, e.g. washout_days = 28 on the second",
                ));
            }
            let case_read = raw.case_read.unwrap_or(match raw.modality {
                Some(_) => CaseRead::Score,
                None => CaseRead::Label,
            });
            if raw.modality.is_some() && !case_read.asks_score() {
                return Err(invalid(
                    span,
                    &key("case_read"),
                    "a reader-study session needs a score for every case (the MRMC analysis compares AUCs)".into(),
                    "use case_read = \"score\" or \"label-and-score\"",
                ));
            }
            sessions.push(ReadingSession {
                id: raw.id,
                modality: raw.modality,
                washout_days,
                case_read,
            });
        }
        Ok(ReadingPlan {
            conditions: self.conditions.map(Into::into),
            case_order: self.case_order,
            rating_scale,
            window_presets,
            declared_sessions: sessions,
        })
    }
}
