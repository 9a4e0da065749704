//! DICOM files: detection, header reading up to the pixel data, and DICOM waveforms.
//!
//! Accepted layouts: the standard Part 10 file (128-byte preamble, `DICM`, file meta group),
//! the same without the preamble, and a bare data set with no file meta (implicit or explicit VR
//! little endian, explicit VR big endian), which older archives still hold. The header is read
//! with dicom-rs up to, not into, the pixel data: ingest stays bounded by reading and hashing.

use std::io::Cursor;

use dicom_core::Tag;
use dicom_core::header::Header;
use dicom_dictionary_std::tags;
use dicom_object::OpenFileOptions;
use dicom_object::file::ReadPreamble;
use dicom_object::mem::InMemDicomObject;
use dicom_transfer_syntax_registry::entries;

mod walk;

use crate::metadata::MultiplexGroup;
use crate::{Inspection, Kind, Metadata};
use walk::{EXPLICIT_LITTLE, Encoding};

/// How the DICOM content is laid out in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// 128-byte preamble, then `DICM`.
    Preamble,
    /// `DICM` at the start.
    NoPreamble,
    /// A data set with no file meta group, in this transfer syntax.
    NoMeta(BareSyntax),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareSyntax {
    ImplicitLittle,
    ExplicitLittle,
    ExplicitBig,
}

/// Recognises DICOM content.
pub fn detect(bytes: &[u8]) -> Option<Layout> {
    if bytes.get(128..132) == Some(b"DICM") {
        return Some(Layout::Preamble);
    }
    if bytes.get(0..4) == Some(b"DICM") {
        return Some(Layout::NoPreamble);
    }
    // A bare data set starts with a group 0x0008 element (Specific Character Set, Image Type,
    // SOP Class UID…). Require a well-formed first element and a successful parse.
    let head = bytes.get(0..8)?;
    let vr_like = |b: &[u8]| b.iter().all(u8::is_ascii_uppercase);
    let syntax = if head[0..2] == [0x08, 0x00] {
        if vr_like(&head[4..6]) {
            BareSyntax::ExplicitLittle
        } else {
            BareSyntax::ImplicitLittle
        }
    } else if head[0..2] == [0x00, 0x08] && vr_like(&head[4..6]) {
        BareSyntax::ExplicitBig
    } else {
        return None;
    };
    // Recognised when its first element is structurally sound; the parse comes later, on the
    // sound prefix only.
    let walked = walk::walk(bytes, 0, bare_encoding(syntax), false);
    (walked.sound_until > 0).then_some(Layout::NoMeta(syntax))
}

fn bare_encoding(syntax: BareSyntax) -> Encoding {
    match syntax {
        BareSyntax::ImplicitLittle => Encoding {
            explicit_vr: false,
            big_endian: false,
        },
        BareSyntax::ExplicitLittle => EXPLICIT_LITTLE,
        BareSyntax::ExplicitBig => Encoding {
            explicit_vr: true,
            big_endian: true,
        },
    }
}

fn read_bare(bytes: &[u8], syntax: BareSyntax) -> Result<InMemDicomObject, String> {
    let ts = match syntax {
        BareSyntax::ImplicitLittle => entries::IMPLICIT_VR_LITTLE_ENDIAN.erased(),
        BareSyntax::ExplicitLittle => entries::EXPLICIT_VR_LITTLE_ENDIAN.erased(),
        BareSyntax::ExplicitBig => entries::EXPLICIT_VR_BIG_ENDIAN.erased(),
    };
    InMemDicomObject::read_dataset_with_ts(Cursor::new(bytes), &ts).map_err(|e| e.to_string())
}

/// Reads the header of a DICOM file recognised by [`detect`].
///
/// The element structure is walked first ([`walk`]); dicom-rs then reads only the sound prefix,
/// so a corrupted length can neither exhaust memory nor hide a truncation.
pub fn inspect(bytes: &[u8], layout: Layout) -> Inspection {
    let (parse_from, data_start, encoding, meta_syntax) = match layout {
        Layout::Preamble | Layout::NoPreamble => {
            let start = if layout == Layout::Preamble { 128 } else { 0 };
            let meta = walk::walk(bytes, start + 4, EXPLICIT_LITTLE, true);
            if let Some(overrun) = meta.overrun {
                return dicom_problem(format!("file meta group is corrupt: {overrun}"));
            }
            let syntax = meta.transfer_syntax.unwrap_or_default();
            (
                start,
                meta.sound_until,
                Encoding::of_transfer_syntax(&syntax),
                Some(syntax),
            )
        }
        Layout::NoMeta(syntax) => (0, 0, Some(bare_encoding(syntax)), None),
    };
    // Deflated data sets cannot be walked before inflation: dicom-rs reads them whole.
    let walked = encoding.map(|encoding| walk::walk(bytes, data_start, encoding, false));
    // The header reader stops at the pixel data anyway; giving it only what precedes keeps it
    // away from fragments it could misread.
    let sound = walked.as_ref().map_or(bytes.len(), |w| {
        w.pixel_data
            .map_or(w.sound_until, |(at, _)| at.min(w.sound_until))
    });
    let sound_bytes = &bytes[parse_from..sound.max(parse_from)];

    let read = match layout {
        Layout::Preamble | Layout::NoPreamble => OpenFileOptions::new()
            .read_preamble(ReadPreamble::Never)
            .read_until(tags::PIXEL_DATA)
            .from_reader(Cursor::new(sound_bytes))
            .map(|file| {
                let class = file
                    .meta()
                    .media_storage_sop_class_uid()
                    .trim_end_matches('\0')
                    .to_owned();
                (file.into_inner(), Some(class))
            })
            .map_err(|e| e.to_string()),
        Layout::NoMeta(syntax) => read_bare(sound_bytes, syntax).map(|object| (object, None)),
    };
    let transfer_syntax = match layout {
        Layout::NoMeta(BareSyntax::ImplicitLittle) => Some("1.2.840.10008.1.2".to_owned()),
        Layout::NoMeta(BareSyntax::ExplicitLittle) => Some("1.2.840.10008.1.2.1".to_owned()),
        Layout::NoMeta(BareSyntax::ExplicitBig) => Some("1.2.840.10008.1.2.2".to_owned()),
        _ => meta_syntax,
    };
    let mut inspection = match read {
        Ok((object, class)) => from_object(&object, transfer_syntax, class),
        Err(e) => return dicom_problem(format!("DICOM header could not be read: {e}")),
    };
    if let Some(walked) = walked {
        if let Some(overrun) = walked.overrun {
            inspection.problem = Some(format!("truncated or corrupt: {overrun}"));
        } else if let (Some((_, Some(declared))), Some(needed)) =
            (walked.pixel_data, native_pixel_bytes(&inspection.metadata))
        {
            if u64::from(declared) < needed {
                inspection.problem = Some(format!(
                    "the pixel data holds {declared} bytes but the image needs {needed}"
                ));
            }
        }
    }
    inspection
}

fn dicom_problem(problem: String) -> Inspection {
    Inspection {
        kind: Some(Kind::Dicom),
        problem: Some(problem),
        ..Default::default()
    }
}

fn from_object(
    object: &InMemDicomObject,
    transfer_syntax: Option<String>,
    class_from_meta: Option<String>,
) -> Inspection {
    let text = |tag: Tag| -> Option<String> {
        let element = object.element_opt(tag).ok().flatten()?;
        let value = element.to_str().ok()?;
        let trimmed = value.trim_matches(|c: char| c == '\0' || c.is_whitespace());
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    };
    let number =
        |tag: Tag| -> Option<f64> { object.element_opt(tag).ok().flatten()?.to_float64().ok() };
    let integer =
        |tag: Tag| -> Option<i64> { object.element_opt(tag).ok().flatten()?.to_int::<i64>().ok() };

    let waveform = waveform_groups(object);
    let mut metadata = Metadata {
        sop_class_uid: text(tags::SOP_CLASS_UID).or(class_from_meta.filter(|c| !c.is_empty())),
        sop_instance_uid: text(tags::SOP_INSTANCE_UID),
        study_instance_uid: text(tags::STUDY_INSTANCE_UID),
        series_instance_uid: text(tags::SERIES_INSTANCE_UID),
        transfer_syntax,
        modality: text(tags::MODALITY),
        body_part: text(tags::BODY_PART_EXAMINED),
        manufacturer: text(tags::MANUFACTURER),
        model: text(tags::MANUFACTURER_MODEL_NAME),
        study_date: text(tags::STUDY_DATE).and_then(|d| date(&d)),
        study_time: text(tags::STUDY_TIME).and_then(|t| clock(&t)),
        series_date: text(tags::SERIES_DATE).and_then(|d| date(&d)),
        acquisition_date: text(tags::ACQUISITION_DATE).and_then(|d| date(&d)),
        content_date: text(tags::CONTENT_DATE).and_then(|d| date(&d)),
        patient_sex: text(tags::PATIENT_SEX),
        patient_age_years: text(tags::PATIENT_AGE).and_then(|a| age_years(&a)),
        patient_birth_date: text(tags::PATIENT_BIRTH_DATE).and_then(|d| date(&d)),
        rows: integer(tags::ROWS).and_then(|v| u32::try_from(v).ok()),
        columns: integer(tags::COLUMNS).and_then(|v| u32::try_from(v).ok()),
        frames: None,
        pixel_spacing_mm: pair(object, tags::PIXEL_SPACING)
            .or_else(|| pair(object, tags::IMAGER_PIXEL_SPACING)),
        slice_thickness_mm: number(tags::SLICE_THICKNESS),
        photometric_interpretation: text(tags::PHOTOMETRIC_INTERPRETATION),
        bits_allocated: integer(tags::BITS_ALLOCATED).and_then(|v| u16::try_from(v).ok()),
        burned_in_annotation: text(tags::BURNED_IN_ANNOTATION).map(|v| v.to_ascii_uppercase()),
        patient_identity_removed: text(tags::PATIENT_IDENTITY_REMOVED),
        ..Metadata::default()
    };
    if metadata.rows.is_some() {
        metadata.frames = Some(
            integer(tags::NUMBER_OF_FRAMES)
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(1),
        );
    }
    let mut identifying = Vec::new();
    let mut private_tags = 0u32;
    let mut creators = Vec::new();
    scan_identifiers(object, &mut identifying, &mut private_tags, &mut creators);
    identifying.sort();
    identifying.dedup();
    creators.sort();
    creators.dedup();
    metadata.identifying_attributes = identifying;
    metadata.private_tags = Some(private_tags);
    metadata.private_creators = creators;

    let kind = if waveform.is_empty() {
        Kind::Dicom
    } else {
        let first = &waveform[0];
        metadata.channels = Some(first.channels);
        metadata.sampling_rate_hz = Some(first.sampling_rate_hz);
        metadata.samples = Some(first.samples);
        metadata.start = metadata
            .acquisition_date
            .clone()
            .or(metadata.content_date.clone());
        metadata.multiplex_groups = waveform;
        Kind::DicomWaveform
    };
    Inspection {
        kind: Some(kind),
        metadata,
        problem: None,
        patient_id: text(tags::PATIENT_ID),
    }
}

/// The multiplex groups of a Waveform Sequence (5400,0100).
fn waveform_groups(object: &InMemDicomObject) -> Vec<MultiplexGroup> {
    let Some(sequence) = object.element_opt(tags::WAVEFORM_SEQUENCE).ok().flatten() else {
        return Vec::new();
    };
    sequence
        .items()
        .unwrap_or_default()
        .iter()
        .map(|item| {
            let int = |tag: Tag| {
                item.element_opt(tag)
                    .ok()
                    .flatten()
                    .and_then(|e| e.to_int::<i64>().ok())
            };
            let text = |tag: Tag| {
                item.element_opt(tag)
                    .ok()
                    .flatten()
                    .and_then(|e| e.to_str().ok().map(|s| s.trim().to_owned()))
            };
            MultiplexGroup {
                label: text(tags::MULTIPLEX_GROUP_LABEL).filter(|s| !s.is_empty()),
                channels: int(tags::NUMBER_OF_WAVEFORM_CHANNELS)
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(0),
                samples: int(tags::NUMBER_OF_WAVEFORM_SAMPLES)
                    .and_then(|v| u64::try_from(v).ok())
                    .unwrap_or(0),
                sampling_rate_hz: item
                    .element_opt(tags::SAMPLING_FREQUENCY)
                    .ok()
                    .flatten()
                    .and_then(|e| e.to_float64().ok())
                    .unwrap_or(0.0),
                bits_allocated: int(tags::WAVEFORM_BITS_ALLOCATED)
                    .and_then(|v| u16::try_from(v).ok())
                    .unwrap_or(0),
                sample_interpretation: text(tags::WAVEFORM_SAMPLE_INTERPRETATION)
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// Attributes of the PS3.15 Annex E Basic Application Level Confidentiality Profile that
/// identify a person or a place when they carry a value (Q1). Names only; values are never kept.
/// Retired attributes are included: old archives still carry them.
#[allow(deprecated)]
pub const IDENTIFYING_ATTRIBUTES: &[(Tag, &str)] = &[
    (tags::PATIENT_NAME, "PatientName"),
    (tags::PATIENT_ID, "PatientID"),
    (tags::ISSUER_OF_PATIENT_ID, "IssuerOfPatientID"),
    (tags::PATIENT_BIRTH_DATE, "PatientBirthDate"),
    (tags::PATIENT_BIRTH_TIME, "PatientBirthTime"),
    (tags::OTHER_PATIENT_I_DS, "OtherPatientIDs"),
    (tags::OTHER_PATIENT_NAMES, "OtherPatientNames"),
    (tags::PATIENT_BIRTH_NAME, "PatientBirthName"),
    (tags::PATIENT_MOTHER_BIRTH_NAME, "PatientMotherBirthName"),
    (tags::PATIENT_ADDRESS, "PatientAddress"),
    (tags::PATIENT_TELEPHONE_NUMBERS, "PatientTelephoneNumbers"),
    (tags::MEDICAL_RECORD_LOCATOR, "MedicalRecordLocator"),
    (tags::MILITARY_RANK, "MilitaryRank"),
    (tags::PATIENT_COMMENTS, "PatientComments"),
    (tags::ADDITIONAL_PATIENT_HISTORY, "AdditionalPatientHistory"),
    (tags::ACCESSION_NUMBER, "AccessionNumber"),
    (tags::STUDY_ID, "StudyID"),
    (tags::INSTITUTION_NAME, "InstitutionName"),
    (tags::INSTITUTION_ADDRESS, "InstitutionAddress"),
    (
        tags::INSTITUTIONAL_DEPARTMENT_NAME,
        "InstitutionalDepartmentName",
    ),
    (tags::STATION_NAME, "StationName"),
    (tags::REFERRING_PHYSICIAN_NAME, "ReferringPhysicianName"),
    (
        tags::REFERRING_PHYSICIAN_ADDRESS,
        "ReferringPhysicianAddress",
    ),
    (
        tags::REFERRING_PHYSICIAN_TELEPHONE_NUMBERS,
        "ReferringPhysicianTelephoneNumbers",
    ),
    (tags::PHYSICIANS_OF_RECORD, "PhysiciansOfRecord"),
    (tags::PERFORMING_PHYSICIAN_NAME, "PerformingPhysicianName"),
    (
        tags::NAME_OF_PHYSICIANS_READING_STUDY,
        "NameOfPhysiciansReadingStudy",
    ),
    (tags::OPERATORS_NAME, "OperatorsName"),
    (tags::REQUESTING_PHYSICIAN, "RequestingPhysician"),
    (tags::DEVICE_SERIAL_NUMBER, "DeviceSerialNumber"),
    (tags::CONTENT_CREATOR_NAME, "ContentCreatorName"),
];

/// Collects identifying attributes with a value and private tags, in sequences too.
fn scan_identifiers(
    object: &InMemDicomObject,
    found: &mut Vec<String>,
    private: &mut u32,
    creators: &mut Vec<String>,
) {
    for element in object.iter() {
        let tag = element.tag();
        if tag.group() % 2 == 1 {
            *private += 1;
            if (0x0010..=0x00FF).contains(&tag.element()) {
                if let Ok(creator) = element.to_str() {
                    let creator = creator.trim().to_owned();
                    if !creator.is_empty() {
                        creators.push(creator);
                    }
                }
            }
        } else if let Some((_, name)) = IDENTIFYING_ATTRIBUTES.iter().find(|(t, _)| *t == tag) {
            let has_value = element
                .to_str()
                .map(|v| {
                    !v.trim_matches(|c: char| c == '\0' || c.is_whitespace())
                        .is_empty()
                })
                .unwrap_or(true);
            if has_value {
                found.push(format!(
                    "{name} ({:04X},{:04X})",
                    tag.group(),
                    tag.element()
                ));
            }
        }
        if let Some(items) = element.items() {
            for item in items {
                scan_identifiers(item, found, private, creators);
            }
        }
    }
}

/// A multi-valued decimal attribute as two numbers.
fn pair(object: &InMemDicomObject, tag: Tag) -> Option<[f64; 2]> {
    let values = object
        .element_opt(tag)
        .ok()
        .flatten()?
        .to_multi_float64()
        .ok()?;
    match values.as_slice() {
        [a, b, ..] => Some([*a, *b]),
        [a] => Some([*a, *a]),
        [] => None,
    }
}

/// A DA value (`YYYYMMDD`, or the old `YYYY.MM.DD`) as `YYYY-MM-DD`.
pub fn date(value: &str) -> Option<String> {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 8).then(|| format!("{}-{}-{}", &digits[0..4], &digits[4..6], &digits[6..8]))
}

/// A TM value (`HHMMSS.frac`, or `HH:MM:SS`) as `hh:mm:ss`.
fn clock(value: &str) -> Option<String> {
    let digits: String = value
        .split('.')
        .next()?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    match digits.len() {
        6 => Some(format!(
            "{}:{}:{}",
            &digits[0..2],
            &digits[2..4],
            &digits[4..6]
        )),
        4 => Some(format!("{}:{}:00", &digits[0..2], &digits[2..4])),
        _ => None,
    }
}

/// An AS value (`045Y`, `006M`, `003W`, `010D`) in years.
pub fn age_years(value: &str) -> Option<f64> {
    let value = value.trim();
    let unit = value.chars().last()?;
    let n: f64 = value[..value.len() - unit.len_utf8()].parse().ok()?;
    Some(match unit {
        'Y' | 'y' => n,
        'M' | 'm' => n / 12.0,
        'W' | 'w' => n * 7.0 / 365.25,
        'D' | 'd' => n / 365.25,
        _ => return None,
    })
}

/// The bytes a native (uncompressed) image's pixel data needs; `None` when compressed or unknown.
fn native_pixel_bytes(metadata: &Metadata) -> Option<u64> {
    let native = matches!(
        metadata.transfer_syntax.as_deref(),
        Some("1.2.840.10008.1.2" | "1.2.840.10008.1.2.1" | "1.2.840.10008.1.2.2")
    );
    if !native {
        return None;
    }
    let (rows, columns, frames, bits) = (
        metadata.rows?,
        metadata.columns?,
        metadata.frames?,
        metadata.bits_allocated?,
    );
    // Samples per pixel: YBR_FULL_422 stores two per pixel (PS3.3 C.7.6.3.1.2).
    let samples_per_pixel: u64 = match metadata.photometric_interpretation.as_deref() {
        Some("YBR_FULL_422") => 2,
        Some("RGB" | "YBR_FULL" | "HSV" | "ARGB" | "CMYK" | "YBR_RCT" | "YBR_ICT") => 3,
        _ => 1,
    };
    Some(u64::from(rows) * u64::from(columns) * frames * samples_per_pixel * u64::from(bits) / 8)
}
