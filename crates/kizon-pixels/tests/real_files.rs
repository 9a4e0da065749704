//! Q7 on the real third-party files in testdata: the same image under another encoding
//! has the same content hash; a lossy copy is a near duplicate by pHash; other images are not.

use std::path::{Path, PathBuf};

use kizon_pixels::{
    DEFAULT_MAX_DISTANCE, Image, PixelError, hamming_distance, near_duplicate_pairs,
    perceptual_hash, pixel_content_hash,
};

fn data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/dicom")
        .join(relative)
}

fn read(relative: &str) -> Vec<u8> {
    std::fs::read(data(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e} (testdata must be present)"))
}

fn content(relative: &str) -> [u8; 32] {
    pixel_content_hash(&read(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn phash(relative: &str) -> u64 {
    perceptual_hash(&read(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn mr_small_in_eight_lossless_encodings_is_one_pixel_content() {
    // Explicit/implicit VR little endian, explicit big endian (twice), trailing padding, RLE,
    // JPEG 2000 reversible, JPEG-LS lossless: one image.
    let family = [
        "pydicom/MR_small.dcm",
        "pydicom/MR_small_implicit.dcm",
        "pydicom/MR_small_bigendian.dcm",
        "pydicom/MR_small_expb.dcm",
        "pydicom/MR_small_padded.dcm",
        "pydicom/MR_small_RLE.dcm",
        "pydicom/MR_small_jp2klossless.dcm",
        "pydicom/MR_small_jpeg_ls_lossless.dcm",
    ];
    let reference = content(family[0]);
    for name in family {
        assert_eq!(content(name), reference, "{name}");
    }
    assert_ne!(content("pydicom/CT_small.dcm"), reference);
}

#[test]
fn multi_frame_mr_in_five_encodings_is_one_pixel_content() {
    let family = [
        "pydicom-data/emri_small.dcm",
        "pydicom-data/emri_small_big_endian.dcm",
        "pydicom-data/emri_small_RLE.dcm",
        "pydicom-data/emri_small_jpeg_2k_lossless.dcm",
        "pydicom-data/emri_small_jpeg_ls_lossless.dcm",
    ];
    let reference = content(family[0]);
    for name in family {
        assert_eq!(content(name), reference, "{name}");
    }
}

#[test]
fn uncompressed_and_reversible_jpeg_2000_are_the_same_image_lossy_is_not() {
    for (uncompressed, reversible, irreversible) in [
        (
            "pydicom-data/693_UNCR.dcm",
            "pydicom-data/693_J2KR.dcm",
            "pydicom/693_J2KI.dcm",
        ),
        (
            "pydicom-data/MR2_UNCR.dcm",
            "pydicom-data/MR2_J2KR.dcm",
            "pydicom-data/MR2_J2KI.dcm",
        ),
        // RGB stored natively and as JPEG 2000 with the reversible colour transform.
        (
            "pydicom-data/US1_UNCR.dcm",
            "pydicom-data/US1_J2KR.dcm",
            "pydicom-data/US1_J2KI.dcm",
        ),
    ] {
        assert_eq!(content(uncompressed), content(reversible), "{reversible}");
        assert_ne!(
            content(uncompressed),
            content(irreversible),
            "{irreversible}"
        );
    }
    // UNCI is the lossy J2KI decoded and stored uncompressed: the same pixel content.
    assert_eq!(
        content("pydicom-data/693_UNCI.dcm"),
        content("pydicom/693_J2KI.dcm")
    );
}

#[test]
fn a_lossy_copy_is_a_near_duplicate_and_unrelated_images_are_far() {
    let original = phash("pydicom-data/693_UNCR.dcm");
    let lossy = phash("pydicom/693_J2KI.dcm");
    let distance = hamming_distance(original, lossy);
    assert!(
        distance <= DEFAULT_MAX_DISTANCE,
        "693 UNCR vs J2KI: {distance}"
    );
    for (a, b) in [
        ("pydicom-data/MR2_UNCR.dcm", "pydicom-data/MR2_J2KI.dcm"),
        ("pydicom-data/US1_UNCR.dcm", "pydicom-data/US1_J2KI.dcm"),
    ] {
        assert!(
            hamming_distance(phash(a), phash(b)) <= DEFAULT_MAX_DISTANCE,
            "{a} {b}"
        );
    }
    // pydicom's examples_rgb_color.dcm (320×240) is US1 (640×480) downsized: the same image.
    assert_eq!(
        hamming_distance(
            phash("pydicom-data/US1_UNCR.dcm"),
            phash("pydicom/examples_rgb_color.dcm")
        ),
        0
    );
    let unrelated = [
        "pydicom-data/693_UNCR.dcm",
        "pydicom-data/MR2_UNCR.dcm",
        "pydicom-data/US1_UNCR.dcm",
        "pydicom/CT_small.dcm",
        "pydicom/MR_small.dcm",
        "deid/GREYSCALE_IMAGE.dcm",
        "pydicom-data/JPGLosslessP14SV1_1s_1f_8b.dcm",
        "pydicom/examples_ybr_color.dcm",
    ];
    let hashes: Vec<u64> = unrelated.iter().map(|f| phash(f)).collect();
    for i in 0..hashes.len() {
        for j in i + 1..hashes.len() {
            let d = hamming_distance(hashes[i], hashes[j]);
            assert!(d > 16, "{} vs {}: {d}", unrelated[i], unrelated[j]);
        }
    }
    assert!(near_duplicate_pairs(&hashes, DEFAULT_MAX_DISTANCE).is_empty());
}

#[test]
fn every_transfer_syntax_in_the_data_decodes() {
    // At least one file of each transfer syntax present in testdata/dicom.
    for (name, syntax) in [
        ("pydicom/MR_small_implicit.dcm", "1.2.840.10008.1.2"),
        ("pydicom/MR_small.dcm", "1.2.840.10008.1.2.1"),
        ("pydicom/MR_small_bigendian.dcm", "1.2.840.10008.1.2.2"),
        ("pydicom/image_dfl.dcm", "1.2.840.10008.1.2.1.99"),
        ("pydicom/SC_rgb_jpeg_dcmtk.dcm", "1.2.840.10008.1.2.4.50"),
        ("pydicom/JPGExtended.dcm", "1.2.840.10008.1.2.4.51"),
        (
            "pydicom-data/JPGLosslessP14SV1_1s_1f_8b.dcm",
            "1.2.840.10008.1.2.4.70",
        ),
        (
            "pydicom/MR_small_jpeg_ls_lossless.dcm",
            "1.2.840.10008.1.2.4.80",
        ),
        (
            "pydicom/SC_rgb_jls_lossy_sample.dcm",
            "1.2.840.10008.1.2.4.81",
        ),
        (
            "pydicom/MR_small_jp2klossless.dcm",
            "1.2.840.10008.1.2.4.90",
        ),
        ("pydicom/693_J2KI.dcm", "1.2.840.10008.1.2.4.91"),
        ("pydicom/MR_small_RLE.dcm", "1.2.840.10008.1.2.5"),
    ] {
        let bytes = read(name);
        let image = Image::open(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(image.info().transfer_syntax, syntax, "{name}");
        image
            .for_each_frame(|_, _| {})
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn broken_files_are_typed_errors() {
    assert!(matches!(
        pixel_content_hash(&read("pydicom/MR_truncated.dcm")),
        Err(PixelError::Truncated { .. })
    ));
    assert!(matches!(
        pixel_content_hash(&read("pydicom/rtplan.dcm")),
        Err(PixelError::NotAnImage(_))
    ));
    assert!(matches!(
        pixel_content_hash(&read("dicognito/bad.dcm")),
        Err(PixelError::NotAnImage(_))
    ));
    assert!(matches!(
        perceptual_hash(&read("pydicom/badVR.dcm")),
        Err(PixelError::NotAnImage(_))
    ));
}

fn every_file(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("testdata/dicom must be present") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            every_file(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn both_hashes_from_one_decoding_are_the_two_functions_results_on_every_file() {
    // `check` takes both hashes from one decoding (pixel_hashes); on every real file they must
    // be what the two functions give one after the other, errors included.
    let mut paths = Vec::new();
    every_file(&data(""), &mut paths);
    let (mut hashed, mut failed) = (0, 0);
    for path in &paths {
        let bytes = std::fs::read(path).expect("readable");
        let separate = pixel_content_hash(&bytes).and_then(|c| Ok((c, perceptual_hash(&bytes)?)));
        let together = kizon_pixels::pixel_hashes(&bytes);
        match (&separate, &together) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "{}", path.display());
                hashed += 1;
            }
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string(), "{}", path.display());
                failed += 1;
            }
            _ => panic!("{}: {separate:?} against {together:?}", path.display()),
        }
    }
    assert!(
        hashed > 120 && failed > 50,
        "{hashed} hashed, {failed} failed"
    );
}
