//! Table E.1-1 of DICOM PS3.15 (edition 2024b), checked attribute by attribute: for every row,
//! a file holding that attribute is de-identified and the attribute's fate is compared with the
//! row's action under the Basic Profile and under each option that names it.

use dicom_core::Tag;
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
use dicom_dictionary_std::StandardDataDictionary;
use kizon_deid::dicom::{Keys, deidentify};
use kizon_deid::profile::{DEFAULT_PROFILE, DicomOption, Profile};
use kizon_formats::dicom::tree::{Body, Node, long_form, parse};
use serde_json::Value;

const SECRET: &[u8] = b"a study secret of the hospital";
const SHIFT: i32 = -400;

fn table() -> Vec<Value> {
    let text = include_str!("../testdata/ps3.15-table-e.1-1-2024b.json");
    serde_json::from_str::<Vec<Value>>(text).unwrap()
}

fn tag_of(row: &Value) -> Option<(u16, u16)> {
    let tag = row["tag"].as_str().unwrap();
    let digits = tag.trim_matches(|c| c == '(' || c == ')');
    let (g, e) = digits.split_once(',')?;
    Some((
        u16::from_str_radix(g, 16).ok()?,
        u16::from_str_radix(e, 16).ok()?,
    ))
}

fn vr_of(tag: (u16, u16)) -> [u8; 2] {
    let vr = StandardDataDictionary
        .by_tag(Tag(tag.0, tag.1))
        .map(|e| e.vr())
        .unwrap_or(VirtualVr::Exact(dicom_core::VR::LO));
    let vr = match vr {
        VirtualVr::Exact(vr) => vr,
        VirtualVr::Xs => dicom_core::VR::US,
        _ => dicom_core::VR::OW,
    };
    let s = vr.to_string().as_bytes();
    [s[0], s[1]]
}

/// A value of `vr` that identifies, as a sender would write it.
fn sample(vr: [u8; 2]) -> Vec<u8> {
    let v: &[u8] = match &vr {
        b"DA" => b"20200115",
        b"DT" => b"20200115101010",
        b"TM" => b"101010",
        b"UI" => b"1.2.840.99.12345.6",
        b"AS" => b"045Y",
        b"DS" => b"1.5 ",
        b"IS" => b"12",
        b"CS" => b"SECRET",
        b"US" | b"SS" => &[7, 0],
        b"UL" | b"SL" | b"FL" | b"AT" => &[7, 0, 0, 0],
        b"FD" | b"SV" | b"UV" => &[7, 0, 0, 0, 0, 0, 0, 0],
        b"OB" | b"OW" | b"UN" | b"OF" | b"OD" | b"OL" | b"OV" => &[1, 2, 3, 4],
        b"PN" => b"Suzuki^Hanako",
        _ => b"Suzuki clinic 3F",
    };
    let mut v = v.to_vec();
    if v.len() % 2 == 1 {
        v.push(if vr == *b"UI" { 0 } else { b' ' });
    }
    v
}

fn element(tag: (u16, u16), vr: [u8; 2], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&tag.0.to_le_bytes());
    out.extend_from_slice(&tag.1.to_le_bytes());
    out.extend_from_slice(&vr);
    if long_form(vr) {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(value);
    out
}

/// A sequence of one item holding a Referenced SOP Instance UID.
fn sequence(tag: (u16, u16)) -> Vec<u8> {
    let inner = element((0x0008, 0x1155), *b"UI", &sample(*b"UI"));
    let mut item = vec![0xFE, 0xFF, 0x00, 0xE0];
    item.extend_from_slice(&(inner.len() as u32).to_le_bytes());
    item.extend_from_slice(&inner);
    element(tag, *b"SQ", &item)
}

/// A Part 10 file holding the base attributes and the attribute under test.
fn file_with(tag: (u16, u16)) -> Vec<u8> {
    let mut elements: Vec<((u16, u16), Vec<u8>)> = vec![
        (
            (0x0008, 0x0016),
            element((0x0008, 0x0016), *b"UI", b"1.2.840.10008.5.1.4.1.1.7\0"),
        ),
        (
            (0x0008, 0x0018),
            element((0x0008, 0x0018), *b"UI", b"1.2.840.99.777.1\0"),
        ),
        (
            (0x0010, 0x0010),
            element((0x0010, 0x0010), *b"PN", b"Yamada^Taro "),
        ),
        (
            (0x0010, 0x0020),
            element((0x0010, 0x0020), *b"LO", b"PID-123456"),
        ),
    ];
    let vr = vr_of(tag);
    let bytes = if vr == *b"SQ" {
        sequence(tag)
    } else {
        element(tag, vr, &sample(vr))
    };
    elements.retain(|(t, _)| *t != tag);
    elements.push((tag, bytes));
    elements.sort_by_key(|(t, _)| *t);
    let meta_values = [
        element((0x0002, 0x0001), *b"OB", &[0, 1]),
        element((0x0002, 0x0002), *b"UI", b"1.2.840.10008.5.1.4.1.1.7\0"),
        element((0x0002, 0x0003), *b"UI", b"1.2.840.99.777.1\0"),
        element((0x0002, 0x0010), *b"UI", b"1.2.840.10008.1.2.1\0"),
    ]
    .concat();
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    out.extend(element(
        (0x0002, 0x0000),
        *b"UL",
        &(meta_values.len() as u32).to_le_bytes(),
    ));
    out.extend(meta_values);
    for (_, bytes) in elements {
        out.extend(bytes);
    }
    out
}

fn profile_with(options: &[DicomOption]) -> Profile {
    let mut profile = Profile::parse(DEFAULT_PROFILE).unwrap();
    profile.dicom.options = options.to_vec();
    profile
}

/// What became of the attribute: absent, or its value (a sequence: its first item's
/// Referenced SOP Instance UID, or `None` inside when emptied).
#[derive(Debug, PartialEq)]
enum Fate {
    Absent,
    Value(Vec<u8>),
    Sequence(Option<Vec<u8>>),
}

fn fate(tag: (u16, u16), profile: &Profile) -> Fate {
    let bytes = file_with(tag);
    let parsed = parse(&bytes).unwrap();
    let keys = Keys {
        secret: SECRET,
        pseudonym: "CASE-0001",
        shift_days: SHIFT,
    };
    let out = deidentify(&parsed, profile, &keys).unwrap();
    let again = parse(&out.bytes).unwrap();
    let find = |nodes: &[Node]| nodes.iter().find(|n| n.tag == tag).cloned();
    match find(&again.data_set) {
        None => Fate::Absent,
        Some(Node {
            body: Body::Value(range),
            ..
        }) => Fate::Value(again.data[range].to_vec()),
        Some(Node {
            body: Body::Sequence(items),
            ..
        }) => Fate::Sequence(items.first().and_then(|item| {
            item.iter()
                .find(|n| n.tag == (0x0008, 0x1155))
                .and_then(|n| match &n.body {
                    Body::Value(range) => Some(again.data[range.clone()].to_vec()),
                    _ => None,
                })
        })),
        Some(other) => panic!("{other:?}"),
    }
}

fn trimmed(v: &[u8]) -> &[u8] {
    let end = v
        .iter()
        .rposition(|b| *b != 0 && *b != b' ')
        .map_or(0, |i| i + 1);
    &v[..end]
}

/// Rows that cannot be tested in a file's data set: command elements (group 0000), the meta
/// group (rebuilt, checked separately) and the repeating/private patterns (tested below).
fn testable(row: &Value) -> Option<(u16, u16)> {
    let tag = tag_of(row)?;
    (tag.0 != 0x0000 && tag.0 != 0x0002).then_some(tag)
}

/// The attributes kizon writes itself whatever the file held.
const WRITTEN: &[(u16, u16)] = &[
    (0x0010, 0x0010),
    (0x0010, 0x0020),
    (0x0012, 0x0062),
    (0x0012, 0x0063),
    (0x0012, 0x0064),
];

fn check(tag: (u16, u16), action: &str, fate: &Fate, original: &[u8], context: &str) {
    let uid_replaced =
        |v: &[u8]| trimmed(v).starts_with(b"2.25.") && trimmed(v) != trimmed(original);
    let ok = match (action, fate) {
        ("X", Fate::Absent) => true,
        ("Z" | "X/Z", Fate::Value(v)) => trimmed(v).is_empty(),
        ("Z" | "X/Z", Fate::Sequence(None)) => true,
        ("X/Z", Fate::Absent) => true,
        ("D" | "X/D" | "Z/D" | "X/Z/D", Fate::Value(v)) => {
            !v.is_empty() && trimmed(v) != trimmed(original)
        }
        ("X/D" | "X/Z/D", Fate::Absent) => true,
        ("D" | "X/D" | "Z/D" | "X/Z/D" | "X/Z/U*" | "K", Fate::Sequence(inner)) => {
            // a sequence kept and de-identified: the UID inside is replaced (K under
            // Retain UIDs keeps it, checked by the caller)
            inner
                .as_deref()
                .is_some_and(|v| uid_replaced(v) || action == "K")
        }
        ("U", Fate::Value(v)) => uid_replaced(v),
        ("K", Fate::Value(v)) => trimmed(v) == trimmed(original),
        _ => false,
    };
    assert!(
        ok,
        "({:04X},{:04X}) {context}: action {action}, but the attribute is {fate:?}",
        tag.0, tag.1
    );
}

#[test]
fn every_attribute_of_table_e_1_1_gets_the_basic_profile_s_action() {
    let basic = profile_with(&[]);
    let mut checked = 0;
    for row in table() {
        let Some(tag) = testable(&row) else { continue };
        if WRITTEN.contains(&tag) {
            continue;
        }
        let action = row["basicProfile"].as_str().unwrap();
        let vr = vr_of(tag);
        check(
            tag,
            action,
            &fate(tag, &basic),
            &sample(vr),
            row["name"].as_str().unwrap(),
        );
        checked += 1;
    }
    // 621 rows less the private rule, the 3 repeating groups (50xx, 60xx), 2 command elements,
    // the meta group's Media Storage SOP Instance UID and Patient's Name and Patient ID.
    assert_eq!(checked, 612);
}

#[test]
fn every_option_column_of_table_e_1_1_is_honoured() {
    let columns = [
        ("rtnUIDsOpt", DicomOption::RetainUids),
        ("rtnDevIdOpt", DicomOption::RetainDeviceIdentity),
        ("rtnInstIdOpt", DicomOption::RetainInstitutionIdentity),
        ("rtnPatCharsOpt", DicomOption::RetainPatientCharacteristics),
        ("rtnLongFullDatesOpt", DicomOption::RetainFullDates),
        ("rtnLongModifDatesOpt", DicomOption::RetainModifiedDates),
        ("cleanDescOpt", DicomOption::CleanDescriptors),
    ];
    let mut checked = 0;
    for row in table() {
        let Some(tag) = testable(&row) else { continue };
        if WRITTEN.contains(&tag) {
            continue;
        }
        let vr = vr_of(tag);
        let original = sample(vr);
        for (column, option) in columns {
            let Some(action) = row[column].as_str() else {
                continue;
            };
            let fate = fate(tag, &profile_with(&[option]));
            let context = format!(
                "{} under {}",
                row["name"].as_str().unwrap(),
                option.as_str()
            );
            match (action, vr) {
                ("C", [b'D', b'A']) => {
                    assert_eq!(fate, Fate::Value(b"20181211".to_vec()), "{context}")
                }
                ("C", [b'D', b'T']) => {
                    assert_eq!(fate, Fate::Value(b"20181211101010".to_vec()), "{context}")
                }
                ("C", [b'T', b'M']) => check(tag, "K", &fate, &original, &context),
                // a clean descriptor (no identifier of the patient in it) is kept
                ("C", [b'L' | b'S' | b'U' | b'C' | b'P', _]) if vr != *b"SQ" => {
                    check(tag, "K", &fate, &original, &context)
                }
                // a binary value kizon cannot clean is emptied
                ("C", _) if vr != *b"SQ" => check(tag, "Z", &fate, &original, &context),
                ("C", _) => assert!(
                    matches!(fate, Fate::Sequence(Some(_))),
                    "{context}: {fate:?}"
                ),
                // a sequence kept by an option keeps its items, themselves de-identified by the
                // table (the Referenced SOP Instance UID inside is replaced unless UIDs are kept)
                ("K", _) if vr == *b"SQ" && option == DicomOption::RetainUids => {
                    assert_eq!(fate, Fate::Sequence(Some(sample(*b"UI"))), "{context}")
                }
                ("K", _) if vr == *b"SQ" => assert!(
                    matches!(fate, Fate::Sequence(Some(_))),
                    "{context}: {fate:?}"
                ),
                _ => check(tag, action, &fate, &original, &context),
            }
            checked += 1;
        }
    }
    assert!(checked > 380, "{checked}");
}
