//! kizon-formats on the real third-party files in testdata.

use std::path::{Path, PathBuf};

use kizon_formats::{ItemKind, inspect};

fn data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(relative)
}

fn read(relative: &str) -> Vec<u8> {
    std::fs::read(data(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn mr_small_in_seven_encodings_is_one_sop_instance() {
    let encodings = [
        "MR_small.dcm",
        "MR_small_implicit.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_expb.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
    ];
    let mut syntaxes = Vec::new();
    for name in encodings {
        let inspection = inspect(&read(&format!("dicom/pydicom/{name}")));
        assert_eq!(inspection.kind(), ItemKind::Dicom, "{name}");
        assert!(
            inspection.problem.is_none(),
            "{name}: {:?}",
            inspection.problem
        );
        let m = &inspection.metadata;
        assert_eq!(
            m.sop_instance_uid.as_deref(),
            Some("1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457"),
            "{name}"
        );
        assert_eq!(
            (m.rows, m.columns, m.frames),
            (Some(64), Some(64), Some(1)),
            "{name}"
        );
        assert_eq!(m.modality.as_deref(), Some("MR"));
        syntaxes.push(m.transfer_syntax.clone().unwrap());
    }
    syntaxes.sort();
    syntaxes.dedup();
    assert_eq!(syntaxes.len(), 6, "{syntaxes:?}"); // explicit big endian appears twice (expb, bigendian)
}

#[test]
fn data_sets_without_file_meta_are_read() {
    for name in ["ExplVR_LitEndNoMeta.dcm", "ExplVR_BigEndNoMeta.dcm"] {
        let inspection = inspect(&read(&format!("dicom/pydicom/{name}")));
        assert_eq!(inspection.kind(), ItemKind::Dicom, "{name}");
        assert_eq!(
            inspection.metadata.sop_instance_uid.as_deref(),
            Some("1.2.333.4444.5.6.7.8"),
            "{name}"
        );
    }
}

#[test]
fn burned_in_annotation_values_are_kept_as_stated() {
    let value = |name: &str| {
        inspect(&read(&format!("dicom/dicognito/{name}")))
            .metadata
            .burned_in_annotation
    };
    assert_eq!(value("burned_in_yes.dcm").as_deref(), Some("YES"));
    assert_eq!(value("burned_in_no.dcm").as_deref(), Some("NO"));
    assert_eq!(value("burned_in_other.dcm").as_deref(), Some("OTHER"));
    assert_eq!(value("burned_in_missing.dcm"), None);
    let grey = inspect(&read("dicom/deid/GREYSCALE_IMAGE.dcm")).metadata;
    assert_eq!(
        (
            grey.modality.as_deref(),
            grey.burned_in_annotation.as_deref()
        ),
        (Some("US"), Some("YES"))
    );
    let rgb = inspect(&read("dicom/deid/RGB_IMAGE.dcm")).metadata;
    assert_eq!(
        (rgb.modality.as_deref(), rgb.burned_in_annotation),
        (Some("US"), None)
    );
}

#[test]
fn identifying_attributes_are_named_never_valued() {
    let inspection = inspect(&read("dicom/deid/GREYSCALE_IMAGE.dcm"));
    let names = &inspection.metadata.identifying_attributes;
    assert!(
        names.contains(&"PatientName (0010,0010)".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"AccessionNumber (0008,0050)".to_owned()),
        "{names:?}"
    );
    let json = serde_json::to_string(&inspection.metadata).unwrap();
    let patient_id = inspection
        .patient_id
        .clone()
        .expect("the file has a PatientID");
    assert!(
        !json.contains(&patient_id),
        "the PatientID value must not enter the metadata"
    );
}

#[test]
fn japanese_person_names_file_is_read() {
    let inspection = inspect(&read("dicom/pydicom/charset_files/chrH31.dcm"));
    assert_eq!(inspection.kind(), ItemKind::Dicom);
    assert!(
        inspection
            .metadata
            .identifying_attributes
            .iter()
            .any(|a| a.starts_with("PatientName"))
    );
}

#[test]
fn ecg_waveform_has_its_multiplex_groups() {
    let inspection = inspect(&read("dicom/pydicom/waveform_ecg.dcm"));
    assert_eq!(inspection.kind(), ItemKind::DicomWaveform);
    let m = &inspection.metadata;
    assert_eq!(m.multiplex_groups.len(), 2);
    let first = &m.multiplex_groups[0];
    assert_eq!((first.channels, first.sampling_rate_hz), (12, 1000.0));
    assert_eq!(first.samples, 10_000);
    assert_eq!(m.channels, Some(12));
    assert_eq!(m.sampling_rate_hz, Some(1000.0));
}

#[test]
fn truncated_and_broken_files_are_problems_not_crashes() {
    let truncated = inspect(&read("dicom/pydicom/MR_truncated.dcm"));
    assert_eq!(truncated.kind(), ItemKind::Dicom);
    assert!(truncated.problem.unwrap().starts_with("truncated"));
    for name in ["rtplan_truncated.dcm", "meta_missing_tsyntax.dcm"] {
        let inspection = inspect(&read(&format!("dicom/pydicom/{name}")));
        assert!(inspection.problem.is_some(), "{name}");
    }
}

#[test]
fn deflated_transfer_syntax_is_read() {
    let inspection = inspect(&read("dicom/pydicom/image_dfl.dcm"));
    assert!(inspection.problem.is_none(), "{:?}", inspection.problem);
    assert_eq!(inspection.metadata.rows, Some(512));
}

#[test]
fn mp4_videos_give_codec_size_frames_and_duration() {
    let bikes = inspect(&read("video/bikes.mp4"));
    assert_eq!(bikes.kind(), ItemKind::Video);
    let m = &bikes.metadata;
    assert_eq!(
        (m.codec.as_deref(), m.width, m.height, m.frames),
        (Some("avc1"), Some(640), Some(272), Some(250))
    );
    assert_eq!(m.duration_s, Some(10.0));
    let carphone = inspect(&read("video/carphone_pristine.mp4")).metadata;
    assert_eq!(
        (carphone.width, carphone.height, carphone.frames),
        (Some(192), Some(144), Some(120))
    );
}

#[test]
fn biosignal_files_are_recognised_by_content() {
    for name in [
        "edf/test_generator.edf",
        "edf/test_utf8.edf",
        "edf/test_subsecond.edf",
        "edf/test_generator.bdf",
    ] {
        assert_eq!(
            inspect(&read(&format!("waveform/{name}"))).kind(),
            ItemKind::Edf,
            "{name}"
        );
    }
    assert_eq!(
        inspect(&read("waveform/wfdb/100.hea")).kind(),
        ItemKind::Wfdb
    );
    assert_eq!(
        inspect(&read("waveform/wfdb/100.dat")).kind(),
        ItemKind::Unknown,
        "a signal file is known only through its header"
    );
}

/// Every parser must survive arbitrary bytes: every prefix of small real files, and seeded
/// byte flips of each, give an inspection, never a panic.
#[test]
fn truncations_and_byte_flips_of_real_files_never_panic() {
    let mut files: Vec<PathBuf> = [
        "dicom/pydicom",
        "dicom/dicognito",
        "video",
        "waveform/edf",
        "waveform/wfdb",
    ]
    .iter()
    .flat_map(|dir| {
        std::fs::read_dir(data(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
    })
    .filter(|p| p.is_file())
    .collect();
    files.sort();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut inspected = 0;
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let step = (bytes.len() / 64).max(1);
        for cut in (0..bytes.len().min(2048)).chain((0..bytes.len()).step_by(step)) {
            inspect(&bytes[..cut]);
            inspected += 1;
        }
        for _ in 0..64 {
            let mut flipped = bytes.clone();
            for _ in 0..4 {
                if !flipped.is_empty() {
                    let at = (next() % flipped.len() as u64) as usize;
                    flipped[at] ^= (next() % 255 + 1) as u8;
                }
            }
            inspect(&flipped);
            inspected += 1;
        }
    }
    for len in [0usize, 1, 7, 131, 132, 1000] {
        let random: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        inspect(&random);
    }
    assert!(inspected > 100_000, "{inspected}");
}

#[test]
fn pixel_data_is_located_native_and_encapsulated() {
    use kizon_formats::dicom::{PixelLocation, pixel_data};
    let bytes = read("dicom/pydicom/MR_small.dcm");
    let p = pixel_data(&bytes).unwrap();
    assert_eq!(
        (p.rows, p.columns, p.bits_allocated, p.bits_stored),
        (64, 64, 16, 16)
    );
    assert_eq!((p.samples_per_pixel, p.pixel_representation), (1, 1));
    assert_eq!(p.native().map(<[u8]>::len), Some(8192));

    let bytes = read("dicom/pydicom-data/emri_small_jpeg_2k_lossless.dcm");
    let p = pixel_data(&bytes).unwrap();
    assert_eq!(p.number_of_frames, 10);
    assert!(matches!(p.location, PixelLocation::Encapsulated { .. }));
    let frames = p.frames().unwrap();
    assert_eq!(frames.len(), 10);
    assert!(frames.iter().all(|f| f[0].starts_with(&[0xFF, 0x4F])));

    // Deflated: located in the inflated data set.
    let bytes = read("dicom/pydicom/image_dfl.dcm");
    let p = pixel_data(&bytes).unwrap();
    assert_eq!(p.native().map(<[u8]>::len), Some(512 * 512));

    assert!(pixel_data(&read("dicom/pydicom/rtplan.dcm")).is_err());
    assert!(pixel_data(b"not dicom").is_err());
}
