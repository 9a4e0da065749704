//! DICOM files: detection, header reading up to the pixel data, and DICOM waveforms.
//!
//! Accepted layouts: the standard Part 10 file (128-byte preamble, `DICM`, file meta group),
//! the same without the preamble, and a bare data set with no file meta (implicit or explicit VR
//! little endian, explicit VR big endian), which older archives still hold. Deflated data sets
//! are inflated first. The header is read by [`walk`], which locates every value without
//! copying it and checks every length: ingest stays bounded by reading and hashing, and a
//! corrupt file is a `problem`, never a hang. Decoding belongs to `check`: [`pixel_data`]
//! locates the pixel data and the attributes needed to decode it (decoded by kizon-pixels), and
//! [`waveform`] decodes waveform samples (ingest only checks that each multiplex group's
//! Waveform Data holds the samples it declares).

mod pixels;
pub mod tree;
mod walk;
pub mod waveform;

pub use pixels::{PixelData, PixelLocation, pixel_data};

use std::borrow::Cow;
use std::io::Read;

use dicom_core::Tag;
use dicom_dictionary_std::tags;

use crate::metadata::MultiplexGroup;
use crate::{Inspection, ItemKind, Metadata};
pub use walk::Encoding;
use walk::{EXPLICIT_BIG, EXPLICIT_LITTLE, Element, IMPLICIT_LITTLE};

/// How the DICOM content is laid out in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// 128-byte preamble, then `DICM`.
    Preamble,
    /// `DICM` at the start.
    NoPreamble,
    /// A data set with no file meta group, in this encoding.
    NoMeta(Encoding),
}

const DEFLATED: &[&str] = &["1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.95"];

/// Recognises DICOM content.
pub fn detect(bytes: &[u8]) -> Option<Layout> {
    if bytes.get(128..132) == Some(b"DICM") {
        return Some(Layout::Preamble);
    }
    if bytes.get(0..4) == Some(b"DICM") {
        return Some(Layout::NoPreamble);
    }
    // A bare data set starts with a group 0x0008 element (Specific Character Set, Image Type,
    // SOP Class UID…); it is recognised when that first element is structurally sound.
    let head = bytes.get(0..8)?;
    let vr_like = |b: &[u8]| b.iter().all(u8::is_ascii_uppercase);
    let encoding = if head[0..2] == [0x08, 0x00] {
        if vr_like(&head[4..6]) {
            EXPLICIT_LITTLE
        } else {
            IMPLICIT_LITTLE
        }
    } else if head[0..2] == [0x00, 0x08] && vr_like(&head[4..6]) {
        EXPLICIT_BIG
    } else {
        return None;
    };
    (walk::walk(bytes, 0, encoding, false).sound_until > 0).then_some(Layout::NoMeta(encoding))
}

/// A data set located and walked: the buffer the walk's ranges refer to (the file itself, or
/// the inflated data set of a deflated transfer syntax), its encoding and the file meta group.
struct DataSet<'a> {
    /// The file's bytes (the meta group's ranges refer to them).
    file: &'a [u8],
    data: Cow<'a, [u8]>,
    encoding: Encoding,
    walked: walk::Walk,
    meta: Vec<Element>,
    transfer_syntax: String,
    /// The data set is implicit VR under an explicit-VR transfer syntax.
    mislabelled: bool,
}

impl DataSet<'_> {
    fn values(&self) -> Values<'_> {
        let plain = Values {
            bytes: &self.data,
            encoding: self.encoding,
            elements: &self.walked.elements,
            latin1: false,
        };
        let latin1 = plain
            .text(key(tags::SPECIFIC_CHARACTER_SET))
            .is_some_and(|cs| cs.split('\\').any(|c| c.trim() == "ISO_IR 100"));
        Values { latin1, ..plain }
    }

    fn meta_values(&self) -> Values<'_> {
        Values {
            bytes: self.file,
            encoding: EXPLICIT_LITTLE,
            elements: &self.meta,
            latin1: false,
        }
    }
}

/// Locates the data set of a file recognised by [`detect`] and walks it. The error is a
/// one-line problem: the file meta group cannot be read or the data set cannot be inflated.
fn read_data_set(bytes: &[u8], layout: Layout) -> Result<DataSet<'_>, String> {
    let (meta, data_start, transfer_syntax) = match layout {
        Layout::Preamble | Layout::NoPreamble => {
            let start = if layout == Layout::Preamble { 128 } else { 0 } + 4;
            let meta = walk::walk(bytes, start, EXPLICIT_LITTLE, true);
            if let Some(overrun) = meta.overrun {
                return Err(format!("file meta group is corrupt: {overrun}"));
            }
            let syntax = Values {
                bytes,
                encoding: EXPLICIT_LITTLE,
                elements: &meta.elements,
                latin1: false,
            }
            .text((0x0002, 0x0010));
            let Some(syntax) = syntax else {
                return Err("file meta group has no Transfer Syntax UID (0002,0010)".into());
            };
            (meta.elements, meta.sound_until, syntax)
        }
        Layout::NoMeta(encoding) => {
            let syntax = match (encoding.explicit_vr, encoding.big_endian) {
                (false, _) => "1.2.840.10008.1.2",
                (true, false) => "1.2.840.10008.1.2.1",
                (true, true) => "1.2.840.10008.1.2.2",
            };
            (Vec::new(), 0, syntax.to_owned())
        }
    };
    let encoding = match transfer_syntax.as_str() {
        "1.2.840.10008.1.2" => IMPLICIT_LITTLE,
        "1.2.840.10008.1.2.2" => EXPLICIT_BIG,
        _ => EXPLICIT_LITTLE,
    };
    // A deflated data set (PS3.5 A.5) is raw deflate after the meta group.
    let (data, data_start) = if DEFLATED.contains(&transfer_syntax.as_str()) {
        (
            Cow::Owned(inflate_bounded(
                bytes.get(data_start..).unwrap_or_default(),
            )?),
            0,
        )
    } else {
        (Cow::Borrowed(bytes), data_start)
    };

    let mut walked = walk::walk(&data, data_start, encoding, false);
    let mut encoding = encoding;
    let mut mislabelled = false;
    if walked.sound_until == data_start && encoding == EXPLICIT_LITTLE {
        // Some writers label an implicit-VR data set as explicit; readers such as pydicom
        // accept it, so kizon reads it too and says so.
        let implicit = walk::walk(&data, data_start, IMPLICIT_LITTLE, false);
        if implicit.sound_until > data_start {
            walked = implicit;
            encoding = IMPLICIT_LITTLE;
            mislabelled = true;
        }
    }
    Ok(DataSet {
        file: bytes,
        data,
        encoding,
        walked,
        meta,
        transfer_syntax,
        mislabelled,
    })
}

/// Reads the header of a DICOM file recognised by [`detect`].
pub fn inspect(bytes: &[u8], layout: Layout) -> Inspection {
    let data_set = match read_data_set(bytes, layout) {
        Ok(data_set) => data_set,
        Err(problem) => return dicom_problem(problem),
    };
    let (values, meta_values) = (data_set.values(), data_set.meta_values());
    let walked = &data_set.walked;
    let mislabelled = data_set.mislabelled;
    let transfer_syntax = data_set.transfer_syntax.clone();
    let mut inspection = from_values(&values, &meta_values, transfer_syntax);
    if let Some(overrun) = &walked.overrun {
        inspection.problem = Some(format!("truncated or corrupt: {overrun}"));
    } else if mislabelled {
        inspection.problem = Some(
            "the data set is encoded in implicit VR although its transfer syntax says explicit"
                .into(),
        );
    } else if let (Some((_, Some(declared))), Some(needed)) =
        (walked.pixel_data, native_pixel_bytes(&inspection.metadata))
    {
        if u64::from(declared) < needed {
            inspection.problem = Some(format!(
                "the pixel data holds {declared} bytes but the image needs {needed}"
            ));
        }
    } else if walked.pixel_data.is_none() && inspection.metadata.rows.is_some() {
        inspection.problem = Some("the image has no pixel data".into());
    } else if inspection.kind == Some(ItemKind::DicomWaveform) {
        inspection.problem = waveform::truncation(&values);
    }
    inspection
}

fn dicom_problem(problem: String) -> Inspection {
    Inspection {
        kind: Some(ItemKind::Dicom),
        problem: Some(problem),
        ..Default::default()
    }
}

fn key(tag: Tag) -> walk::Tag {
    (tag.group(), tag.element())
}

/// Typed access to the values the walk located.
struct Values<'a> {
    bytes: &'a [u8],
    encoding: Encoding,
    elements: &'a [Element],
    /// Specific Character Set ISO_IR 100: Latin-1 text.
    latin1: bool,
}

impl Values<'_> {
    fn top(&self, tag: walk::Tag) -> Option<&Element> {
        self.elements.iter().find(|e| e.depth == 0 && e.tag == tag)
    }

    fn raw<'b>(&'b self, element: &Element) -> &'b [u8] {
        &self.bytes[element.value.clone()]
    }

    fn decode(&self, raw: &[u8]) -> Option<String> {
        let text: String = if self.latin1 {
            raw.iter().map(|&b| char::from(b)).collect()
        } else {
            String::from_utf8_lossy(raw).into_owned()
        };
        let trimmed = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }

    fn text(&self, tag: walk::Tag) -> Option<String> {
        self.decode(self.raw(self.top(tag)?))
    }

    fn text_of(&self, element: &Element) -> Option<String> {
        self.decode(self.raw(element))
    }

    /// A binary unsigned integer (US or UL by its length); implicit VR does not say the VR, so
    /// the caller, who knows the attribute, chooses this or [`Values::integer_string`].
    fn binary_of(&self, element: &Element) -> Option<u64> {
        let raw = self.raw(element);
        match raw.len() {
            2 => Some(u64::from(self.u16(raw)?)),
            4 => Some(u64::from(self.u32(raw)?)),
            _ => None,
        }
    }

    fn binary(&self, tag: walk::Tag) -> Option<u64> {
        self.binary_of(self.top(tag)?)
    }

    /// An integer string (IS), first value.
    fn integer_string(&self, tag: walk::Tag) -> Option<u64> {
        self.decode(self.raw(self.top(tag)?))?
            .split('\\')
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// Decimal strings (DS, IS), multi-valued.
    fn decimals_of(&self, element: &Element) -> Vec<f64> {
        self.decode(self.raw(element))
            .map(|t| {
                t.split('\\')
                    .filter_map(|v| v.trim().parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn decimals(&self, tag: walk::Tag) -> Vec<f64> {
        self.top(tag)
            .map(|e| self.decimals_of(e))
            .unwrap_or_default()
    }

    fn u16(&self, raw: &[u8]) -> Option<u16> {
        let b: [u8; 2] = raw.get(0..2)?.try_into().ok()?;
        Some(if self.encoding.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&self, raw: &[u8]) -> Option<u32> {
        let b: [u8; 4] = raw.get(0..4)?.try_into().ok()?;
        Some(if self.encoding.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }
}

fn from_values(values: &Values<'_>, meta: &Values<'_>, transfer_syntax: String) -> Inspection {
    let text = |tag: Tag| values.text(key(tag));
    let date_of = |tag: Tag| text(tag).and_then(|d| date(&d));
    let spacing = |tag: Tag| match values.decimals(key(tag)).as_slice() {
        [a, b, ..] => Some([*a, *b]),
        [a] => Some([*a, *a]),
        [] => None,
    };
    let mut metadata = Metadata {
        sop_class_uid: text(tags::SOP_CLASS_UID).or_else(|| meta.text((0x0002, 0x0002))),
        sop_instance_uid: text(tags::SOP_INSTANCE_UID).or_else(|| meta.text((0x0002, 0x0003))),
        study_instance_uid: text(tags::STUDY_INSTANCE_UID),
        series_instance_uid: text(tags::SERIES_INSTANCE_UID),
        transfer_syntax: Some(transfer_syntax),
        modality: text(tags::MODALITY),
        body_part: text(tags::BODY_PART_EXAMINED),
        manufacturer: text(tags::MANUFACTURER),
        model: text(tags::MANUFACTURER_MODEL_NAME),
        study_date: date_of(tags::STUDY_DATE),
        study_time: text(tags::STUDY_TIME).and_then(|t| clock(&t)),
        series_date: date_of(tags::SERIES_DATE),
        acquisition_date: date_of(tags::ACQUISITION_DATE),
        content_date: date_of(tags::CONTENT_DATE),
        patient_sex: text(tags::PATIENT_SEX),
        patient_age_years: text(tags::PATIENT_AGE).and_then(|a| age_years(&a)),
        patient_age_source: None,
        born_after_image: false,
        rows: values
            .binary(key(tags::ROWS))
            .and_then(|v| u32::try_from(v).ok()),
        columns: values
            .binary(key(tags::COLUMNS))
            .and_then(|v| u32::try_from(v).ok()),
        pixel_spacing_mm: spacing(tags::PIXEL_SPACING)
            .or_else(|| spacing(tags::IMAGER_PIXEL_SPACING)),
        slice_thickness_mm: values.decimals(key(tags::SLICE_THICKNESS)).first().copied(),
        instance_number: values.integer_string(key(tags::INSTANCE_NUMBER)),
        slice_position_mm: values
            .decimals(key(tags::IMAGE_POSITION_PATIENT))
            .get(2)
            .copied()
            .filter(|z| z.is_finite()),
        photometric_interpretation: text(tags::PHOTOMETRIC_INTERPRETATION),
        bits_allocated: values
            .binary(key(tags::BITS_ALLOCATED))
            .and_then(|v| u16::try_from(v).ok()),
        burned_in_annotation: text(tags::BURNED_IN_ANNOTATION).map(|v| v.to_ascii_uppercase()),
        patient_identity_removed: text(tags::PATIENT_IDENTITY_REMOVED),
        ..Metadata::default()
    };
    if metadata.rows.is_some() {
        metadata.frames = Some(
            values
                .integer_string(key(tags::NUMBER_OF_FRAMES))
                .unwrap_or(1),
        );
    }
    let (identifying, private_tags, creators) = identifiers(values);
    // The birth date is read only to derive the age (and to notice a birth after the image),
    // then dropped: no date of birth leaves this function.
    if let Some(born) = date_of(tags::PATIENT_BIRTH_DATE) {
        let imaged = metadata
            .acquisition_date
            .clone()
            .or(metadata.content_date.clone())
            .or(metadata.series_date.clone())
            .or(metadata.study_date.clone());
        if let Some(days) = imaged
            .as_deref()
            .and_then(crate::calendar_day_number)
            .zip(crate::calendar_day_number(&born))
            .map(|(imaged, born)| imaged - born)
        {
            metadata.born_after_image = days < 0;
            if metadata.patient_age_years.is_none() && days >= 0 {
                metadata.patient_age_years = Some((days as f64 / 365.2425).floor());
                metadata.patient_age_source = Some("birth-date".into());
            }
        }
    }
    metadata.identifying_attributes = identifying;
    metadata.private_tags = Some(private_tags);
    metadata.private_creators = creators;

    let waveform = waveform_groups(values);
    let kind = if waveform.is_empty() {
        ItemKind::Dicom
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
        ItemKind::DicomWaveform
    };
    Inspection {
        kind: Some(kind),
        metadata,
        problem: None,
        patient_id: text(tags::PATIENT_ID),
    }
}

/// The multiplex groups of a Waveform Sequence (5400,0100).
fn waveform_groups(values: &Values<'_>) -> Vec<MultiplexGroup> {
    let sequence = key(tags::WAVEFORM_SEQUENCE);
    let mut groups: Vec<MultiplexGroup> = Vec::new();
    for element in values
        .elements
        .iter()
        .filter(|e| e.depth == 1 && e.within.map(|w| w.0) == Some(sequence))
    {
        let index = element.within.map_or(0, |w| w.1) as usize;
        if groups.len() <= index {
            groups.resize(index + 1, MultiplexGroup::default());
        }
        let group = &mut groups[index];
        let tag = element.tag;
        if tag == key(tags::MULTIPLEX_GROUP_LABEL) {
            group.label = values.text_of(element);
        } else if tag == key(tags::NUMBER_OF_WAVEFORM_CHANNELS) {
            group.channels = values
                .binary_of(element)
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(0);
        } else if tag == key(tags::NUMBER_OF_WAVEFORM_SAMPLES) {
            group.samples = values.binary_of(element).unwrap_or(0);
        } else if tag == key(tags::SAMPLING_FREQUENCY) {
            group.sampling_rate_hz = values.decimals_of(element).first().copied().unwrap_or(0.0);
        } else if tag == key(tags::WAVEFORM_BITS_ALLOCATED) {
            group.bits_allocated = values
                .binary_of(element)
                .and_then(|v| u16::try_from(v).ok())
                .unwrap_or(0);
        } else if tag == key(tags::WAVEFORM_SAMPLE_INTERPRETATION) {
            group.sample_interpretation = values.text_of(element).unwrap_or_default();
        }
    }
    groups
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

/// Identifying attributes with a value (in sequences too), the number of private elements,
/// and the private creators.
///
/// A value a de-identifier writes in place of one is not an identifier: an empty value, the
/// dummies of PS3.15 E.1.1 (`REMOVED`, `ANONYMIZED`, `ANONYMOUS`), and, in a file that says
/// Patient Identity Removed (0012,0062) = YES, a Patient ID equal to the Patient's Name (the
/// provider's pseudonym, written in both) and a Device Serial Number or Station Name kept under
/// the Retain Device Identity Option (113109 in (0012,0064)): they name equipment, not a person. Every other attribute is re-checked from
/// its value whatever the file or a hand-over claims.
fn identifiers(values: &Values<'_>) -> (Vec<String>, u32, Vec<String>) {
    let removed = values
        .text(key(tags::PATIENT_IDENTITY_REMOVED))
        .is_some_and(|v| v.trim() == "YES");
    let pseudonym = removed
        && values
            .text(key(tags::PATIENT_ID))
            .zip(values.text(key(tags::PATIENT_NAME)))
            .is_some_and(|(id, name)| id.trim() == name.trim_end_matches('^').trim());
    let device_identity_kept = removed
        && values.elements.iter().any(|e| {
            e.tag == key(tags::CODE_VALUE)
                && e.within.is_some_and(|(sequence, _)| {
                    sequence == key(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE)
                })
                && values.text_of(e).as_deref() == Some("113109")
        });
    let mut found = Vec::new();
    let mut private = 0u32;
    let mut creators = Vec::new();
    for element in values.elements {
        let (group, number) = element.tag;
        if group % 2 == 1 {
            private += 1;
            if (0x0010..=0x00FF).contains(&number) {
                creators.extend(values.text_of(element));
            }
        } else if let Some((_, name)) = IDENTIFYING_ATTRIBUTES
            .iter()
            .find(|(t, _)| key(*t) == element.tag)
        {
            let value = values.text_of(element);
            let dummy = value
                .as_deref()
                .is_some_and(|v| matches!(v.trim(), "REMOVED" | "ANONYMIZED" | "ANONYMOUS"));
            let written_by_deidentifier = dummy
                || (pseudonym && matches!(*name, "PatientID" | "PatientName"))
                || (device_identity_kept && matches!(*name, "DeviceSerialNumber" | "StationName"));
            let has_value = element.vr == *b"SQ" || value.is_some();
            if has_value && !written_by_deidentifier {
                found.push(format!("{name} ({group:04X},{number:04X})"));
            }
        }
    }
    found.sort();
    found.dedup();
    creators.sort();
    creators.dedup();
    (found, private, creators)
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

/// The most a deflated data set may inflate to. DEFLATE compresses at most about 1032:1, so a
/// 1 MB file could otherwise claim 1 GiB per worker, and what happened would depend on the
/// machine's memory; with a fixed bound every machine records the same problem.
pub const MAX_INFLATED_BYTES: u64 = 256 << 20;

/// Inflates a deflated data set (PS3.5 A.5), refusing one that inflates beyond
/// [`MAX_INFLATED_BYTES`]: it is measured first without keeping the bytes, so the refusal costs
/// no memory, then inflated into a buffer of exactly its size.
fn inflate_bounded(deflated: &[u8]) -> Result<Vec<u8>, String> {
    let measured = std::io::copy(
        &mut flate2::read::DeflateDecoder::new(deflated).take(MAX_INFLATED_BYTES + 1),
        &mut std::io::sink(),
    )
    .map_err(|e| format!("deflated data set could not be inflated: {e}"))?;
    if measured > MAX_INFLATED_BYTES {
        return Err(format!(
            "deflated data set inflates to more than {} MiB ({} bytes compressed): not read (a decompression bomb, or not DICOM)",
            MAX_INFLATED_BYTES >> 20,
            deflated.len()
        ));
    }
    let mut out = Vec::with_capacity(measured as usize);
    flate2::read::DeflateDecoder::new(deflated)
        .read_to_end(&mut out)
        .map_err(|e| format!("deflated data set could not be inflated: {e}"))?;
    Ok(out)
}
