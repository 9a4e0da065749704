//! The de-identification profile: which PS3.15 Annex E options apply, the safe private
//! attributes, how pseudonyms look and how far dates move.
//!
//! A profile is a TOML file the hospital keeps with its procedure; its SHA-256 goes into the
//! signed hand-over so the sponsor and PMDA know exactly which rules were applied. An unknown
//! key or option is refused with its line and column (toml's spans), never ignored.

use serde::Deserialize;

kizon_vocab::vocabulary! {
    /// The options of PS3.15 E.3 a profile may add to the Basic Profile, each with its code in
    /// CID 7050 (De-identification Method). Clean Graphics (113103) and Clean Structured
    /// Content (113104) are not offered: kizon cannot clean them, so overlays and curves are
    /// removed and structured content is de-identified by the Basic Profile's table.
    DicomOption {
        CleanDescriptors = "clean-descriptors",
        RetainFullDates = "retain-longitudinal-full-dates",
        RetainModifiedDates = "retain-longitudinal-modified-dates",
        RetainPatientCharacteristics = "retain-patient-characteristics",
        RetainDeviceIdentity = "retain-device-identity",
        RetainInstitutionIdentity = "retain-institution-identity",
        RetainUids = "retain-uids",
        RetainSafePrivate = "retain-safe-private",
    }
}

impl DicomOption {
    /// The code of CID 7050 and its meaning (PS3.16).
    pub fn code(self) -> (&'static str, &'static str) {
        match self {
            DicomOption::CleanDescriptors => ("113105", "Clean Descriptors Option"),
            DicomOption::RetainFullDates => (
                "113106",
                "Retain Longitudinal Temporal Information Full Dates Option",
            ),
            DicomOption::RetainModifiedDates => (
                "113107",
                "Retain Longitudinal Temporal Information Modified Dates Option",
            ),
            DicomOption::RetainPatientCharacteristics => {
                ("113108", "Retain Patient Characteristics Option")
            }
            DicomOption::RetainDeviceIdentity => ("113109", "Retain Device Identity Option"),
            DicomOption::RetainUids => ("113110", "Retain UIDs Option"),
            DicomOption::RetainSafePrivate => ("113111", "Retain Safe Private Option"),
            DicomOption::RetainInstitutionIdentity => {
                ("113112", "Retain Institution Identity Option")
            }
        }
    }
}

/// The code of the Basic Application Level Confidentiality Profile itself (CID 7050).
pub const BASIC_PROFILE_CODE: (&str, &str) =
    ("113100", "Basic Application Confidentiality Profile");

/// The format tag a profile file carries.
pub const PROFILE_FORMAT: &str = "kizon-deid-profile-v1";

/// A profile as read from its file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub format: String,
    pub dicom: DicomProfile,
    pub pseudonyms: Pseudonyms,
    pub dates: Dates,
    #[serde(default)]
    pub pixels: Pixels,
    #[serde(default)]
    pub tables: crate::tables::TableProfile,
}

/// Pixel regions to blank (see [`crate::pixels`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pixels {
    #[serde(default)]
    pub blank: Vec<crate::pixels::PixelRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DicomProfile {
    /// The options applied on top of the Basic Profile.
    #[serde(default)]
    pub options: Vec<DicomOption>,
    /// Private attributes kept by `retain-safe-private`; every other private element is removed.
    #[serde(default)]
    pub safe_private: Vec<SafePrivate>,
}

/// A private attribute known not to identify: its group, its private creator and the low byte
/// of its element (PS3.5 7.8.1: element `xxEE` of the block the creator reserved).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafePrivate {
    pub group: String,
    pub creator: String,
    pub element: String,
    /// What the attribute is, for the reader of the profile.
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pseudonyms {
    /// Pseudonyms are this prefix and a running number (`HOSP-A-0001`).
    pub prefix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dates {
    /// Each patient's dates move by a number of days drawn once from this range (inclusive) and
    /// kept in the correspondence table; with `retain-longitudinal-modified-dates` only.
    pub shift_days: [i32; 2],
}

/// A profile that cannot be used; the message names the line and column.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{0}")]
    Syntax(String),
    #[error("{0}")]
    Contradiction(String),
}

/// The default profile, commented: `kizon deidentify --print-profile` prints it.
pub const DEFAULT_PROFILE: &str = r#"# kizon de-identification profile / 仮名加工プロファイル
#
# DICOM PS3.15 Annex E: the Basic Application Level Confidentiality Profile (Table E.1-1,
# code 113100) always applies, inside sequences too. The options below add to it.
# 個人を識別できる情報の除去（Q&A Q1）。対応表は医療機関内に保管されます（Q5）。
format = "kizon-deid-profile-v1"

[dicom]
options = [
  # 113107: every date moves by one shift per patient (kept in the correspondence table), so
  # intervals between a patient's examinations stay true; times are kept.
  "retain-longitudinal-modified-dates",
  # 113108: sex, age, size, weight and the like (needed for subgroup analyses).
  "retain-patient-characteristics",
  # 113109: device serial numbers and identifiers of the equipment (needed for subgroups by device).
  "retain-device-identity",
  # Further options, off by default:
  # "clean-descriptors",               # 113105: keep descriptions that name no person or ID
  # "retain-safe-private",             # 113111: keep the private attributes listed below
  # "retain-institution-identity",     # 113112: keep the institution's name and address
  # "retain-uids",                     # 113110: not advised, UIDs can identify
  # "retain-longitudinal-full-dates",  # 113106: not advised, dates can identify
]

# With "retain-safe-private": the private attributes known not to identify. Every other private
# element is removed.
# [[dicom.safe_private]]
# group = "0019"
# creator = "GEMS_ACQU_01"
# element = "1C"
# name = "Cell spacing"

[pseudonyms]
# A patient's pseudonym: this prefix and a running number. The same patient keeps the same
# pseudonym in every later hand-over made with the same correspondence table.
prefix = "CASE-"

[dates]
# Each patient's shift in days, drawn once from this range (both ends included).
shift_days = [-1095, -365]

# Burned-in text (Q1): an image that says it carries some (BurnedInAnnotation YES), or of a kind
# that often does (ultrasound, secondary capture, camera and endoscopy images), goes to the
# quarantine unless a rule here names its equipment and the rectangles its text sits in; those
# are blanked (set to 0) in every frame (113101, Clean Pixel Data). Uncompressed images only.
# [[pixels.blank]]
# name = "EPIQ 5G header band"
# modality = "US"
# manufacturer = "Philips"          # optional, as in (0008,0070)
# model = "EPIQ 5G"                 # optional, as in (0008,1090)
# rows = 768                        # optional
# columns = 1024                    # optional
# rectangles = [[0, 0, 1024, 40]]   # [x, y, width, height] from the top left

# CSV tables (specimen lists, analyser exports; UTF-8 or CP932), by column header. Without
# `patient`, tables are kept back in the quarantine. Columns not named here are kept as they are.
# [tables]
# patient = "患者ID"                          # becomes each row's pseudonym
# drop = ["氏名", "カナ氏名", "生年月日"]       # removed
# pseudonymise = ["検体ID", "受付番号"]          # replaced by a keyed token (ID-...)
# shift_dates = ["採取日", "測定日"]             # moved by the row's patient's shift
"#;

impl Profile {
    /// Parses a profile; errors name the line and column.
    pub fn parse(text: &str) -> Result<Profile, ProfileError> {
        let profile: Profile =
            toml::from_str(text).map_err(|e| ProfileError::Syntax(one_line(text, &e)))?;
        if profile.format != PROFILE_FORMAT {
            return Err(ProfileError::Contradiction(format!(
                "format is `{}`, expected `{PROFILE_FORMAT}`",
                profile.format
            )));
        }
        let [low, high] = profile.dates.shift_days;
        if low > high || low.abs() > 36_500 || high.abs() > 36_500 {
            return Err(ProfileError::Contradiction(format!(
                "dates.shift_days = [{low}, {high}]: give the smaller number first, within ±36500 days"
            )));
        }
        let prefix = &profile.pseudonyms.prefix;
        if prefix.is_empty()
            || prefix.len() > 48
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ProfileError::Contradiction(format!(
                "pseudonyms.prefix = {prefix:?}: use 1 to 48 ASCII letters, digits, `-` or `_` (it becomes part of a DICOM Patient ID)"
            )));
        }
        if profile
            .dicom
            .options
            .contains(&DicomOption::RetainFullDates)
            && profile
                .dicom
                .options
                .contains(&DicomOption::RetainModifiedDates)
        {
            return Err(ProfileError::Contradiction(
                "dicom.options: retain-longitudinal-full-dates and retain-longitudinal-modified-dates exclude each other".into(),
            ));
        }
        for safe in &profile.dicom.safe_private {
            safe.parsed().map_err(ProfileError::Contradiction)?;
        }
        for rule in &profile.pixels.blank {
            rule.check().map_err(ProfileError::Contradiction)?;
        }
        Ok(profile)
    }

    /// The default profile (see [`DEFAULT_PROFILE`]).
    pub fn default_profile() -> Profile {
        Profile::parse(DEFAULT_PROFILE).expect("the default profile parses")
    }

    pub fn has(&self, option: DicomOption) -> bool {
        self.dicom.options.contains(&option)
    }
}

impl SafePrivate {
    /// The group (odd) and the element's low byte.
    pub fn parsed(&self) -> Result<(u16, u8), String> {
        let group = u16::from_str_radix(&self.group, 16)
            .ok()
            .filter(|g| g % 2 == 1 && *g > 0x0008)
            .ok_or_else(|| {
                format!(
                    "dicom.safe_private: group {:?} is not an odd (private) group in hex, e.g. \"0019\"",
                    self.group
                )
            })?;
        let element = u8::from_str_radix(&self.element, 16).map_err(|_| {
            format!(
                "dicom.safe_private: element {:?} is not the low byte in hex, e.g. \"1C\"",
                self.element
            )
        })?;
        if self.creator.trim().is_empty() {
            return Err("dicom.safe_private: an entry has no creator".into());
        }
        Ok((group, element))
    }
}

/// toml's error on one line: "line L, column C: message".
fn one_line(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().replace('\n', " ");
    match error.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// Line and column (1-based) of byte `at` in `text`.
pub fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_is_the_issue_s_basic_profile_with_three_options() {
        let profile = Profile::default_profile();
        assert_eq!(
            profile.dicom.options,
            vec![
                DicomOption::RetainModifiedDates,
                DicomOption::RetainPatientCharacteristics,
                DicomOption::RetainDeviceIdentity
            ]
        );
    }

    #[test]
    fn an_unknown_option_or_key_is_refused_with_its_place() {
        let text = DEFAULT_PROFILE.replace("\"retain-device-identity\",", "\"retain-everything\",");
        let error = Profile::parse(&text).unwrap_err().to_string();
        assert!(error.contains("retain-everything"), "{error}");
        assert!(error.contains("line 16, column 3"), "{error}");
        let text = DEFAULT_PROFILE.replace("[pseudonyms]", "[pseudonyms]\nlength = 4");
        let error = Profile::parse(&text).unwrap_err().to_string();
        assert!(error.contains("length"), "{error}");
    }

    #[test]
    fn contradictions_are_refused() {
        let text = DEFAULT_PROFILE.replace("[-1095, -365]", "[-1, -365]");
        assert!(Profile::parse(&text).is_err());
        let text = DEFAULT_PROFILE.replace("\"CASE-\"", "\"佐藤\"");
        assert!(Profile::parse(&text).is_err());
        let text = DEFAULT_PROFILE.replace(
            "# \"retain-longitudinal-full-dates\",",
            "\"retain-longitudinal-full-dates\",",
        );
        assert!(Profile::parse(&text).is_err());
    }

    #[test]
    fn line_and_column_count_from_one() {
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("ab", 0), (1, 1));
    }
}
