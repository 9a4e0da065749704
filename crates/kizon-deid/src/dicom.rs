//! De-identification of a DICOM file: PS3.15 Annex E, Table E.1-1, applied at every level of
//! nesting, with the options of the profile.
//!
//! The file is parsed into its tree by kizon-formats (the same bounds-checked walk ingest
//! uses) and written anew: every kept value is copied byte for byte, Pixel Data is copied whole
//! in its original encoding (native or encapsulated, so the pixels are bit-identical), sequences
//! and items are written with undefined length (PS3.5 7.5.2), group lengths other than the meta
//! group's are dropped (retired), and the file meta group is rebuilt. The transfer syntax is
//! kept, a deflated data set is deflated again.
//!
//! The choices Table E.1-1 leaves to the implementer, made here so that the output stays a
//! valid instance without knowing its IOD:
//! - X/Z → Z (an empty value is valid for Type 2 and 3); X/D, Z/D, X/Z/D → D (a dummy is valid
//!   for Type 1); X/Z/U* on a reference sequence → keep it, with its UIDs replaced.
//! - D on a sequence keeps the sequence and de-identifies its items; Z empties it.
//! - C (clean) on a date under Modified Dates moves it by the patient's shift; on a time keeps
//!   it (the shift is whole days); on a descriptor (Clean Descriptors) keeps it only when it holds
//!   none of the patient's identifiers, no run of six or more digits and no `@`.
//! - Patient's Name and Patient ID (Z and Z/D) carry the pseudonym: the case link at the sponsor.
//! - Under Modified Dates every DA and DT value moves, also those the table does not list, so no
//!   date of the patient stays unshifted beside shifted ones.
//! - Curves (50xx) and overlays (60xx) are removed as whole groups: an overlay plane without its
//!   Overlay Data is not valid.
//! - Private elements are removed, except, under Retain Safe Private, those on the profile's
//!   safe list (matched by group, private creator and element byte) and their creators.
//! - An image a pixel rule of the profile matches has its rectangles blanked ([`crate::pixels`]),
//!   BurnedInAnnotation NO and the Clean Pixel Data code (113101); its other samples are kept.

use std::collections::BTreeMap;
use std::io::Write;

use dicom_core::Tag;
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
use dicom_dictionary_std::StandardDataDictionary;
use kizon_formats::dicom::Encoding;
use kizon_formats::dicom::tree::{Body, Node, ParsedFile, long_form, text as text_of};

use crate::dates::{shift_da, shift_dt};
use crate::profile::{BASIC_PROFILE_CODE, DicomOption, Profile};
use crate::table_types::{Basic, Opt, entry};
use crate::uid::replace_uid;

/// kizon's Implementation Class UID (a 2.25 UUID-derived root) and version name (PS3.7 D.3.3.2).
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.223446358116306208930616183330712349313";
pub const IMPLEMENTATION_VERSION_NAME: &str = concat!("KIZON_", env!("CARGO_PKG_VERSION"));

/// The identifiers of a file's patient, read before it is rewritten: the key to its pseudonym
/// and date shift, and what the correspondence table keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub patient_id: String,
    pub issuer_of_patient_id: String,
    pub patient_name: String,
    pub accession_number: String,
    pub study_instance_uid: String,
    pub study_date: String,
}

/// What the rewrite needs from the correspondence table.
#[derive(Debug, Clone)]
pub struct Keys<'a> {
    /// The hospital's secret for UIDs (never leaves the correspondence table).
    pub secret: &'a [u8],
    pub pseudonym: &'a str,
    pub shift_days: i32,
}

/// What was done to one file: counts per action and attribute name, never values.
pub type Tally = BTreeMap<(Action, String), u32>;

/// The actions the tally counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Removed,
    Emptied,
    Replaced,
    UidReplaced,
    DateShifted,
    Cleaned,
    KeptByOption,
    PrivateRemoved,
    PseudonymWritten,
    AgeDerived,
    PixelsBlanked,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Removed => "removed",
            Action::Emptied => "emptied",
            Action::Replaced => "replaced",
            Action::UidReplaced => "uid-replaced",
            Action::DateShifted => "date-shifted",
            Action::Cleaned => "cleaned",
            Action::KeptByOption => "kept-by-option",
            Action::PrivateRemoved => "private-removed",
            Action::PseudonymWritten => "pseudonym-written",
            Action::AgeDerived => "age-derived",
            Action::PixelsBlanked => "pixels-blanked",
        }
    }
}

/// A de-identified file.
#[derive(Debug)]
pub struct Rewritten {
    pub bytes: Vec<u8>,
    pub tally: Tally,
    /// The new Study Instance UID (for the correspondence table).
    pub study_instance_uid: String,
}

/// Why a file was not rewritten (it goes to the quarantine with this reason).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("the file has no Patient ID (0010,0020), so it cannot be given a pseudonym")]
    NoPatientId,
    #[error("{0}")]
    Unwritable(String),
}

const PATIENT_NAME: (u16, u16) = (0x0010, 0x0010);
const PATIENT_ID: (u16, u16) = (0x0010, 0x0020);
const ISSUER_OF_PATIENT_ID: (u16, u16) = (0x0010, 0x0021);
const ACCESSION_NUMBER: (u16, u16) = (0x0008, 0x0050);
const STUDY_INSTANCE_UID: (u16, u16) = (0x0020, 0x000D);
const STUDY_DATE: (u16, u16) = (0x0008, 0x0020);
const SOP_INSTANCE_UID: (u16, u16) = (0x0008, 0x0018);
const SOP_CLASS_UID: (u16, u16) = (0x0008, 0x0016);
const PATIENT_AGE: (u16, u16) = (0x0010, 0x1010);
const PATIENT_BIRTH_DATE: (u16, u16) = (0x0010, 0x0030);

/// The Patient's Age (AS, PS3.5 6.2) at the examination from the birth date and the first of
/// Study, Series, Acquisition and Content Date: whole years (`045Y`), or under two years whole
/// months, under two months whole weeks, under two weeks days (as practice writes ages of
/// infants). `None` when a date is missing or not a full date, or the birth comes after.
fn derived_age(parsed: &ParsedFile<'_>) -> Option<String> {
    let birth = civil(&top_text(parsed, PATIENT_BIRTH_DATE)?)?;
    let exam = [
        (0x0008, 0x0020),
        (0x0008, 0x0021),
        (0x0008, 0x0022),
        (0x0008, 0x0023),
    ]
    .into_iter()
    .find_map(|tag| civil(&top_text(parsed, tag)?))?;
    if exam < birth {
        return None;
    }
    let (by, bm, bd) = birth;
    let (ey, em, ed) = exam;
    let mut years = ey - by;
    if (em, ed) < (bm, bd) {
        years -= 1;
    }
    let mut months = (ey - by) * 12 + (em as i32 - bm as i32);
    if ed < bd {
        months -= 1;
    }
    let days = i64::from(
        time::Date::from_calendar_date(ey, time::Month::try_from(em).ok()?, ed)
            .ok()?
            .to_julian_day(),
    ) - i64::from(
        time::Date::from_calendar_date(by, time::Month::try_from(bm).ok()?, bd)
            .ok()?
            .to_julian_day(),
    );
    let age = if years >= 2 {
        format!("{years:03}Y")
    } else if months >= 2 {
        format!("{months:03}M")
    } else if days >= 14 {
        format!("{:03}W", days / 7)
    } else {
        format!("{days:03}D")
    };
    (age.len() == 4).then_some(age)
}

/// A full DA value as (year, month, day).
fn civil(text: &str) -> Option<(i32, u8, u8)> {
    let text = text.trim();
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((
        text[0..4].parse().ok()?,
        text[4..6].parse().ok()?,
        text[6..8].parse().ok()?,
    ))
}

/// Reads the patient's identifiers from the top level of the data set.
pub fn identity(parsed: &ParsedFile<'_>) -> Identity {
    let text = |tag| parsed.top_text(tag).unwrap_or_default();
    Identity {
        patient_id: text(PATIENT_ID),
        issuer_of_patient_id: text(ISSUER_OF_PATIENT_ID),
        patient_name: text(PATIENT_NAME),
        accession_number: text(ACCESSION_NUMBER),
        study_instance_uid: text(STUDY_INSTANCE_UID),
        study_date: text(STUDY_DATE),
    }
}

/// De-identifies a parsed DICOM file under `profile` with the patient's `keys`.
pub fn deidentify(
    parsed: &ParsedFile<'_>,
    profile: &Profile,
    keys: &Keys<'_>,
) -> Result<Rewritten, Refusal> {
    let who = identity(parsed);
    if who.patient_id.is_empty() {
        return Err(Refusal::NoPatientId);
    }
    let mut rewriter = Rewriter {
        data: &parsed.data,
        encoding: parsed.encoding,
        profile,
        keys,
        identifiers: identifiers_of(&who),
        tally: Tally::new(),
    };
    let mut top = rewriter.data_set(&parsed.data_set);

    // What the profile says was done (PS3.15 E.1.1 and PS3.3 C.7.1.1): written last, over any
    // value the file carried.
    // The name as a family name component (`CASE-0001^`): a PN of one component without a caret
    // reads as the retired free-text form to validators.
    let name = pad_text(format!("{}^", keys.pseudonym).as_bytes());
    let pseudonym = pad_text(keys.pseudonym.as_bytes());
    rewriter.count(Action::PseudonymWritten, "Patient's Name");
    rewriter.count(Action::PseudonymWritten, "Patient ID");
    let shifted = profile.has(DicomOption::RetainModifiedDates);
    let mut inserts = vec![
        (PATIENT_NAME, *b"PN", name),
        (PATIENT_ID, *b"LO", pseudonym),
        ((0x0012, 0x0062), *b"CS", pad_text(b"YES")),
        (
            (0x0012, 0x0063),
            *b"LO",
            pad_text(method_text(profile).as_bytes()),
        ),
    ];
    if shifted {
        inserts.push(((0x0028, 0x0303), *b"CS", pad_text(b"MODIFIED")));
    }
    for (tag, vr, value) in inserts {
        let bytes = rewriter.element_bytes(tag, vr, &value);
        put(&mut top, tag, bytes);
    }
    // Burned-in text in known places: blanked by the profile's rule (Clean Pixel Data, 113101).
    let blanked = match crate::pixels::matching_rule(&profile.pixels.blank, parsed) {
        Some(rule) => {
            let pixels = crate::pixels::blank(parsed, rule).map_err(Refusal::Unwritable)?;
            put(&mut top, (0x7FE0, 0x0010), pixels);
            let no = rewriter.element_bytes((0x0028, 0x0301), *b"CS", b"NO");
            put(&mut top, (0x0028, 0x0301), no);
            let name = if rule.name.is_empty() {
                "pixel rule"
            } else {
                &rule.name
            };
            rewriter.count(Action::PixelsBlanked, name);
            true
        }
        None => false,
    };
    let codes = rewriter.method_codes(profile, blanked);
    put(&mut top, (0x0012, 0x0064), codes);
    // Retain Patient Characteristics keeps the age; a file that gives only the birth date (which
    // the Basic Profile removes) gets the age it implies at the examination, so subgroups by age
    // still work at the sponsor.
    if profile.has(DicomOption::RetainPatientCharacteristics)
        && top_text(parsed, PATIENT_AGE).is_none()
        && let Some(age) = derived_age(parsed)
    {
        let bytes = rewriter.element_bytes(PATIENT_AGE, *b"AS", age.as_bytes());
        put(&mut top, PATIENT_AGE, bytes);
        rewriter.count(Action::AgeDerived, "Patient's Age");
    }

    let new_sop_instance = top_text(parsed, SOP_INSTANCE_UID).map(|uid| {
        if profile.has(DicomOption::RetainUids) {
            uid
        } else {
            replace_uid(keys.secret, &uid)
        }
    });
    let study_instance_uid = top_text(parsed, STUDY_INSTANCE_UID)
        .map(|uid| {
            if profile.has(DicomOption::RetainUids) {
                uid
            } else {
                replace_uid(keys.secret, &uid)
            }
        })
        .unwrap_or_default();

    let mut body = Vec::with_capacity(parsed.data.len());
    for (_, bytes) in &top {
        body.extend_from_slice(bytes);
    }
    let body = if parsed.deflated {
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(&body)
            .and_then(|()| encoder.finish())
            .map_err(|e| Refusal::Unwritable(format!("the data set could not be deflated: {e}")))?
    } else {
        body
    };
    let meta = meta_group(parsed, new_sop_instance.as_deref());
    let mut bytes = Vec::with_capacity(128 + 4 + meta.len() + body.len());
    bytes.extend_from_slice(&[0u8; 128]);
    bytes.extend_from_slice(b"DICM");
    bytes.extend_from_slice(&meta);
    bytes.extend_from_slice(&body);
    Ok(Rewritten {
        bytes,
        tally: rewriter.tally,
        study_instance_uid,
    })
}

/// A top-level text value that is not empty.
fn top_text(parsed: &ParsedFile<'_>, tag: (u16, u16)) -> Option<String> {
    parsed.top_text(tag).filter(|t| !t.is_empty())
}

/// The De-identification Method (0012,0063): the profile and options in words.
fn method_text(profile: &Profile) -> String {
    let mut text = String::from("kizon: PS3.15 Basic Profile");
    for option in &profile.dicom.options {
        text.push_str(", ");
        text.push_str(option.as_str());
    }
    // LO holds at most 64 characters; the code sequence carries the full list.
    text.truncate(64);
    text
}

/// Replaces or inserts the encoded element `tag` in a sorted list.
fn put(list: &mut Vec<((u16, u16), Vec<u8>)>, tag: (u16, u16), bytes: Vec<u8>) {
    match list.binary_search_by_key(&tag, |(t, _)| *t) {
        Ok(i) => list[i].1 = bytes,
        Err(i) => list.insert(i, (tag, bytes)),
    }
}

/// Pads a text value to an even length with a space (PS3.5 6.2).
fn pad_text(value: &[u8]) -> Vec<u8> {
    let mut v = value.to_vec();
    if v.len() % 2 == 1 {
        v.push(b' ');
    }
    v
}

/// The patient's identifiers as byte strings a descriptor must not contain.
fn identifiers_of(who: &Identity) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if who.patient_id.len() >= 3 {
        out.push(who.patient_id.as_bytes().to_vec());
    }
    if who.accession_number.len() >= 3 {
        out.push(who.accession_number.as_bytes().to_vec());
    }
    for part in who.patient_name.split(['^', '=', ' ']) {
        if part.trim().len() >= 2 {
            out.push(part.trim().as_bytes().to_vec());
        }
    }
    out
}

/// What to do with one element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Remove,
    Empty,
    Dummy,
    Keep,
    KeepByOption,
    Clean,
    Uid,
}

struct Rewriter<'a> {
    data: &'a [u8],
    encoding: Encoding,
    profile: &'a Profile,
    keys: &'a Keys<'a>,
    identifiers: Vec<Vec<u8>>,
    tally: Tally,
}

type Encoded = Vec<((u16, u16), Vec<u8>)>;

impl Rewriter<'_> {
    fn count(&mut self, action: Action, name: &str) {
        *self.tally.entry((action, name.to_owned())).or_default() += 1;
    }

    /// The de-identified elements of one data set (the top level or an item), in tag order.
    fn data_set(&mut self, nodes: &[Node]) -> Encoded {
        let kept_private = self.safe_private(nodes);
        let mut out = Encoded::with_capacity(nodes.len());
        for node in nodes {
            let (group, element) = node.tag;
            if element == 0x0000 {
                continue; // group lengths are retired and would be wrong after the rewrite
            }
            if group % 2 == 1 {
                if kept_private.contains(&node.tag) {
                    out.push((node.tag, self.keep(node)));
                } else {
                    self.count(
                        Action::PrivateRemoved,
                        &format!("private group {group:04X}"),
                    );
                }
                continue;
            }
            if (0x5000..=0x501E).contains(&group) || (0x6000..=0x601E).contains(&group) {
                let name = if group < 0x6000 {
                    "Curve Data"
                } else {
                    "Overlay"
                };
                if element == 0x3000 || group < 0x6000 {
                    self.count(Action::Removed, name);
                }
                continue;
            }
            if let Some(bytes) = self.element(node) {
                out.push((node.tag, bytes));
            }
        }
        out
    }

    /// The private elements of this data set to keep under Retain Safe Private: those on the
    /// safe list and the private creators they belong to.
    fn safe_private(&self, nodes: &[Node]) -> Vec<(u16, u16)> {
        if !self.profile.has(DicomOption::RetainSafePrivate)
            || self.profile.dicom.safe_private.is_empty()
        {
            return Vec::new();
        }
        let mut kept = Vec::new();
        for creator in nodes
            .iter()
            .filter(|n| n.tag.0 % 2 == 1 && (0x0010..=0x00FF).contains(&n.tag.1))
        {
            let Body::Value(range) = &creator.body else {
                continue;
            };
            let name = text_of(&self.data[range.clone()]);
            let block = creator.tag.1 << 8;
            let mut any = false;
            for safe in &self.profile.dicom.safe_private {
                let Ok((group, low)) = safe.parsed() else {
                    continue;
                };
                if group == creator.tag.0 && safe.creator.trim() == name {
                    let tag = (group, block | u16::from(low));
                    if nodes.iter().any(|n| n.tag == tag) {
                        kept.push(tag);
                        any = true;
                    }
                }
            }
            if any {
                kept.push(creator.tag);
            }
        }
        kept
    }

    /// The VR of an element: as written, or from the dictionary when the file did not say
    /// (implicit VR, or UN).
    fn vr_of(&self, node: &Node) -> [u8; 2] {
        if node.vr != *b"  " && node.vr != *b"UN" {
            return node.vr;
        }
        dictionary_vr(node.tag).unwrap_or(node.vr)
    }

    /// The action for a public element under the profile, and the attribute's name.
    fn action(&self, node: &Node, vr: [u8; 2]) -> (Act, String) {
        let tag = (u32::from(node.tag.0) << 16) | u32::from(node.tag.1);
        let profile = self.profile;
        let Some(row) = entry(tag) else {
            let name = attribute_name(node.tag);
            let act = if (vr == *b"DA" || vr == *b"DT")
                && profile.has(DicomOption::RetainModifiedDates)
            {
                Act::Clean
            } else {
                Act::Keep
            };
            return (act, name);
        };
        let o = &row.options;
        let applied = [
            (DicomOption::RetainSafePrivate, o.retain_safe_private),
            (DicomOption::RetainUids, o.retain_uids),
            (DicomOption::RetainDeviceIdentity, o.retain_device_identity),
            (
                DicomOption::RetainInstitutionIdentity,
                o.retain_institution_identity,
            ),
            (
                DicomOption::RetainPatientCharacteristics,
                o.retain_patient_characteristics,
            ),
            (DicomOption::RetainFullDates, o.retain_full_dates),
            (DicomOption::RetainModifiedDates, o.retain_modified_dates),
            (DicomOption::CleanDescriptors, o.clean_descriptors),
        ];
        let chosen: Vec<Opt> = applied
            .iter()
            .filter(|(option, action)| *action != Opt::None && profile.has(*option))
            .map(|(_, action)| *action)
            .collect();
        let act = if chosen.contains(&Opt::K) {
            Act::KeepByOption
        } else if chosen.contains(&Opt::C) {
            Act::Clean
        } else {
            let sequence = matches!(node.body, Body::Sequence(_));
            match row.basic {
                Basic::X => Act::Remove,
                Basic::Z | Basic::XZ => Act::Empty,
                Basic::D | Basic::XD | Basic::ZD | Basic::XZD => Act::Dummy,
                Basic::K => Act::Keep,
                Basic::C => Act::Clean,
                Basic::U => Act::Uid,
                Basic::XZUStar if sequence => Act::Keep,
                Basic::XZUStar => Act::Empty,
            }
        };
        (act, row.name.to_owned())
    }

    /// One public element, de-identified; `None` when removed.
    fn element(&mut self, node: &Node) -> Option<Vec<u8>> {
        let vr = self.vr_of(node);
        let (act, name) = self.action(node, vr);
        if let Body::Sequence(items) = &node.body {
            return match act {
                Act::Remove => {
                    self.count(Action::Removed, &name);
                    None
                }
                Act::Empty => {
                    self.count(Action::Emptied, &name);
                    Some(self.sequence_bytes(node.tag, &[]))
                }
                Act::Keep | Act::KeepByOption | Act::Dummy | Act::Clean | Act::Uid => {
                    if act == Act::Dummy || act == Act::Clean {
                        self.count(Action::Cleaned, &name);
                    }
                    let items: Vec<Encoded> =
                        items.iter().map(|item| self.data_set(item)).collect();
                    Some(self.sequence_bytes(node.tag, &items))
                }
            };
        }
        if let Body::PixelData(range) = &node.body {
            return Some(self.data[range.clone()].to_vec());
        }
        let Body::Value(range) = &node.body else {
            unreachable!("sequences and pixel data are handled above")
        };
        let value = &self.data[range.clone()];
        match act {
            Act::Keep => Some(self.element_bytes(node.tag, node_vr(node, vr), value)),
            Act::KeepByOption => {
                self.count(Action::KeptByOption, &name);
                Some(self.element_bytes(node.tag, node_vr(node, vr), value))
            }
            Act::Remove => {
                self.count(Action::Removed, &name);
                None
            }
            Act::Empty => {
                self.count(Action::Emptied, &name);
                Some(self.element_bytes(node.tag, node_vr(node, vr), &[]))
            }
            Act::Dummy => {
                self.count(Action::Replaced, &name);
                let dummy = if vr == *b"UI" {
                    pad_uid(replace_uid(self.keys.secret, &text_of(value)).as_bytes())
                } else {
                    dummy_value(vr, value.len())
                };
                Some(self.element_bytes(node.tag, node_vr(node, vr), &dummy))
            }
            Act::Uid => {
                self.count(Action::UidReplaced, &name);
                let text = text_of(value);
                let replaced: Vec<String> = text
                    .split('\\')
                    .filter(|u| !u.trim().is_empty())
                    .map(|u| replace_uid(self.keys.secret, u.trim()))
                    .collect();
                Some(self.element_bytes(
                    node.tag,
                    node_vr(node, vr),
                    &pad_uid(replaced.join("\\").as_bytes()),
                ))
            }
            Act::Clean => {
                let cleaned = self.clean(vr, value);
                match &cleaned {
                    Cleaned::Shifted(_) => self.count(Action::DateShifted, &name),
                    Cleaned::Kept => self.count(Action::Cleaned, &name),
                    Cleaned::Emptied => self.count(Action::Emptied, &name),
                }
                let bytes = match cleaned {
                    Cleaned::Shifted(v) => pad_text(v.as_bytes()),
                    Cleaned::Kept => value.to_vec(),
                    Cleaned::Emptied => Vec::new(),
                };
                Some(self.element_bytes(node.tag, node_vr(node, vr), &bytes))
            }
        }
    }

    /// A kept element written as it was (a private one: copied with its items).
    fn keep(&mut self, node: &Node) -> Vec<u8> {
        match &node.body {
            Body::Value(range) | Body::PixelData(range) => {
                let vr = self.vr_of(node);
                self.element_bytes(node.tag, node_vr(node, vr), &self.data[range.clone()])
            }
            Body::Sequence(items) => {
                let items: Vec<Encoded> = items.iter().map(|item| self.data_set(item)).collect();
                self.sequence_bytes(node.tag, &items)
            }
        }
    }

    /// Clean (C): dates move by the shift, times stay, descriptors stay only when clean.
    fn clean(&self, vr: [u8; 2], value: &[u8]) -> Cleaned {
        let text = text_of(value);
        match &vr {
            b"DA" | b"DT" if self.profile.has(DicomOption::RetainModifiedDates) => {
                if text.is_empty() {
                    return Cleaned::Kept;
                }
                let shifted = if vr == *b"DA" {
                    shift_da(&text, self.keys.shift_days)
                } else {
                    shift_dt(&text, self.keys.shift_days)
                };
                shifted.map_or(Cleaned::Emptied, Cleaned::Shifted)
            }
            b"TM" if self.profile.has(DicomOption::RetainModifiedDates) => Cleaned::Kept,
            b"DA" | b"DT" | b"TM" => Cleaned::Emptied,
            b"LO" | b"SH" | b"ST" | b"LT" | b"UT" | b"UC" | b"CS" | b"PN" => {
                if self.is_clean(value) {
                    Cleaned::Kept
                } else {
                    Cleaned::Emptied
                }
            }
            _ => Cleaned::Emptied,
        }
    }

    /// A descriptor is clean when it holds none of the patient's identifiers, no run of six or
    /// more digits (an ID or a date) and no `@` (an address).
    fn is_clean(&self, value: &[u8]) -> bool {
        if value.contains(&b'@') {
            return false;
        }
        let mut run = 0;
        for &b in value {
            run = if b.is_ascii_digit() { run + 1 } else { 0 };
            if run >= 6 {
                return false;
            }
        }
        !self
            .identifiers
            .iter()
            .any(|id| value.windows(id.len()).any(|w| w.eq_ignore_ascii_case(id)))
    }

    /// The Deidentification Method Code Sequence (0012,0064): CID 7050 codes of what was applied.
    fn method_codes(&self, profile: &Profile, pixels_cleaned: bool) -> Vec<u8> {
        let mut codes = vec![BASIC_PROFILE_CODE];
        if pixels_cleaned {
            codes.push(("113101", "Clean Pixel Data Option"));
        }
        codes.extend(profile.dicom.options.iter().map(|o| o.code()));
        let items: Vec<Encoded> = codes
            .iter()
            .map(|(value, meaning)| {
                vec![
                    (
                        (0x0008, 0x0100),
                        self.element_bytes((0x0008, 0x0100), *b"SH", &pad_text(value.as_bytes())),
                    ),
                    (
                        (0x0008, 0x0102),
                        self.element_bytes((0x0008, 0x0102), *b"SH", &pad_text(b"DCM")),
                    ),
                    (
                        (0x0008, 0x0104),
                        self.element_bytes((0x0008, 0x0104), *b"LO", &pad_text(meaning.as_bytes())),
                    ),
                ]
            })
            .collect();
        self.sequence_bytes((0x0012, 0x0064), &items)
    }

    fn u16_bytes(&self, v: u16) -> [u8; 2] {
        if self.encoding.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u32_bytes(&self, v: u32) -> [u8; 4] {
        if self.encoding.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn header(&self, out: &mut Vec<u8>, tag: (u16, u16), vr: [u8; 2], length: u32) {
        out.extend_from_slice(&self.u16_bytes(tag.0));
        out.extend_from_slice(&self.u16_bytes(tag.1));
        if !self.encoding.explicit_vr {
            out.extend_from_slice(&self.u32_bytes(length));
            return;
        }
        let vr = if vr == *b"  " { *b"UN" } else { vr };
        out.extend_from_slice(&vr);
        if long_form(vr) {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&self.u32_bytes(length));
        } else {
            out.extend_from_slice(&self.u16_bytes(length as u16));
        }
    }

    /// An element with a value. A value too long for the short length field of its VR cannot
    /// occur: kept values were read with that VR, new ones are short.
    fn element_bytes(&self, tag: (u16, u16), vr: [u8; 2], value: &[u8]) -> Vec<u8> {
        let vr = if self.encoding.explicit_vr && !long_form(vr) && value.len() > 0xFFFE {
            *b"UN"
        } else {
            vr
        };
        let mut out = Vec::with_capacity(12 + value.len());
        self.header(&mut out, tag, vr, value.len() as u32);
        out.extend_from_slice(value);
        out
    }

    /// A sequence of undefined length whose items are of undefined length (PS3.5 7.5.2).
    fn sequence_bytes(&self, tag: (u16, u16), items: &[Encoded]) -> Vec<u8> {
        let mut out = Vec::new();
        self.header(&mut out, tag, *b"SQ", u32::MAX);
        for item in items {
            out.extend_from_slice(&self.u16_bytes(0xFFFE));
            out.extend_from_slice(&self.u16_bytes(0xE000));
            out.extend_from_slice(&self.u32_bytes(u32::MAX));
            for (_, bytes) in item {
                out.extend_from_slice(bytes);
            }
            out.extend_from_slice(&self.u16_bytes(0xFFFE));
            out.extend_from_slice(&self.u16_bytes(0xE00D));
            out.extend_from_slice(&self.u32_bytes(0));
        }
        out.extend_from_slice(&self.u16_bytes(0xFFFE));
        out.extend_from_slice(&self.u16_bytes(0xE0DD));
        out.extend_from_slice(&self.u32_bytes(0));
        out
    }
}

enum Cleaned {
    Shifted(String),
    Kept,
    Emptied,
}

/// The VR to write: as read when the file said it (UN stays UN: its bytes are not re-encoded),
/// else the dictionary's.
fn node_vr(node: &Node, dictionary: [u8; 2]) -> [u8; 2] {
    if node.vr == *b"  " {
        dictionary
    } else {
        node.vr
    }
}

/// The dictionary's VR for a standard element (the first of an ambiguous pair).
fn dictionary_vr(tag: (u16, u16)) -> Option<[u8; 2]> {
    let entry = StandardDataDictionary.by_tag(Tag(tag.0, tag.1))?;
    let vr = match entry.vr() {
        VirtualVr::Exact(vr) => vr,
        VirtualVr::Xs => dicom_core::VR::US,
        VirtualVr::Ox | VirtualVr::Px => dicom_core::VR::OW,
        VirtualVr::Lt => dicom_core::VR::OW,
        _ => return None,
    };
    let text = vr.to_string().as_bytes();
    Some([text[0], text[1]])
}

/// The attribute's name for the tally: the dictionary's keyword, or its tag.
fn attribute_name(tag: (u16, u16)) -> String {
    StandardDataDictionary
        .by_tag(Tag(tag.0, tag.1))
        .map(|e| e.alias().to_owned())
        .unwrap_or_else(|| format!("({:04X},{:04X})", tag.0, tag.1))
}

/// A dummy value consistent with the VR (PS3.15 E.1.1, action D).
fn dummy_value(vr: [u8; 2], original_length: usize) -> Vec<u8> {
    match &vr {
        b"DA" => b"19000101".to_vec(),
        b"DT" => b"19000101000000".to_vec(),
        b"TM" => b"000000".to_vec(),
        b"AS" => b"000Y".to_vec(),
        b"DS" | b"IS" => b"0 ".to_vec(),
        b"AE" | b"CS" => b"REMOVED ".to_vec(),
        b"US" | b"SS" => vec![0; 2],
        b"UL" | b"SL" | b"FL" | b"AT" => vec![0; 4],
        b"FD" | b"SV" | b"UV" => vec![0; 8],
        b"OB" | b"OW" | b"OD" | b"OF" | b"OL" | b"OV" | b"UN" => {
            vec![0; original_length.clamp(2, 8) & !1]
        }
        _ => b"REMOVED ".to_vec(),
    }
}

/// A UID value padded with NUL to an even length (PS3.5 9.1).
fn pad_uid(value: &[u8]) -> Vec<u8> {
    let mut v = value.to_vec();
    if v.len() % 2 == 1 {
        v.push(0);
    }
    v
}

/// The file meta group, rebuilt (PS3.10 7.1): version, SOP class, the new SOP instance UID,
/// the transfer syntax, kizon's implementation UID and name, and its group length. The source
/// and sending application entity titles are left out (they name the hospital's systems).
fn meta_group(parsed: &ParsedFile<'_>, sop_instance: Option<&str>) -> Vec<u8> {
    let meta_text = |tag| {
        parsed
            .meta_value(tag)
            .map(text_of)
            .filter(|t| !t.is_empty())
    };
    let sop_class = meta_text((0x0002, 0x0002)).or_else(|| top_text(parsed, SOP_CLASS_UID));
    type MetaElement = ((u16, u16), [u8; 2], Vec<u8>);
    let mut elements: Vec<MetaElement> = vec![((0x0002, 0x0001), *b"OB", vec![0x00, 0x01])];
    if let Some(class) = sop_class {
        elements.push(((0x0002, 0x0002), *b"UI", pad_uid(class.as_bytes())));
    }
    if let Some(instance) = sop_instance {
        elements.push(((0x0002, 0x0003), *b"UI", pad_uid(instance.as_bytes())));
    }
    elements.push((
        (0x0002, 0x0010),
        *b"UI",
        pad_uid(parsed.transfer_syntax.as_bytes()),
    ));
    elements.push((
        (0x0002, 0x0012),
        *b"UI",
        pad_uid(IMPLEMENTATION_CLASS_UID.as_bytes()),
    ));
    elements.push((
        (0x0002, 0x0013),
        *b"SH",
        pad_text(IMPLEMENTATION_VERSION_NAME.as_bytes()),
    ));
    let mut group = Vec::new();
    for (tag, vr, value) in &elements {
        group.extend_from_slice(&tag.0.to_le_bytes());
        group.extend_from_slice(&tag.1.to_le_bytes());
        group.extend_from_slice(vr);
        if long_form(*vr) {
            group.extend_from_slice(&[0, 0]);
            group.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            group.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        group.extend_from_slice(value);
    }
    let mut out = Vec::with_capacity(12 + group.len());
    out.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, b'U', b'L', 4, 0]);
    out.extend_from_slice(&(group.len() as u32).to_le_bytes());
    out.extend_from_slice(&group);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with_dates(birth: &str, study: &str) -> Vec<u8> {
        let element = |tag: (u16, u16), vr: &[u8; 2], value: &[u8]| {
            let mut out = Vec::new();
            out.extend_from_slice(&tag.0.to_le_bytes());
            out.extend_from_slice(&tag.1.to_le_bytes());
            out.extend_from_slice(vr);
            out.extend_from_slice(&(value.len() as u16).to_le_bytes());
            out.extend_from_slice(value);
            out
        };
        [
            element((0x0008, 0x0020), b"DA", study.as_bytes()),
            element((0x0010, 0x0020), b"LO", b"P1"),
            element((0x0010, 0x0030), b"DA", birth.as_bytes()),
        ]
        .concat()
    }

    #[test]
    fn ages_are_derived_in_the_units_practice_writes() {
        let cases = [
            ("19830214", "20040101", Some("020Y")),
            ("19830214", "20040214", Some("021Y")),
            ("20200101", "20211231", Some("023M")),
            ("20200101", "20200301", Some("002M")),
            ("20200101", "20200220", Some("007W")),
            ("20200101", "20200110", Some("009D")),
            ("20200301", "20200101", None),
            ("1983", "20040101", None),
        ];
        for (birth, study, expected) in cases {
            let bytes = file_with_dates(birth, study);
            let parsed = kizon_formats::dicom::tree::parse(&bytes).unwrap();
            assert_eq!(derived_age(&parsed).as_deref(), expected, "{birth} {study}");
        }
    }
}
