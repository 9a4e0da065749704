//! The reader-study demo at benchmark size (`kizon demo --kind reader-study --cases N --slices
//! M`): every case a CT series of M single-frame 512×512 slices, as a scanner sends them, so
//! that a study of 400 cases of 250 slices holds 100,000 items. Slices are stored RLE Lossless
//! (PS3.5 Annex G) to keep 100,000 files to a few gigabytes: the phantom is drawn in constant
//! regions (body, lungs, heart, spine, organs, vessels, nodules), which RLE packs well, with no
//! pixel noise. Each slice differs from its neighbours (the vessels move along the series), so
//! no two files share their pixels.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use rayon::prelude::*;

use super::data::{element, part10};
use super::reader_study::{
    CT_IMAGE, FRAMES, Nodule, Written, anatomy, case_id, ct_header, ct_pixels, nodules,
};
use crate::AppError;
use crate::error::io;

/// Rows and columns of a series slice.
pub(super) const SLICE_SIZE: usize = 512;
const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";

fn slice_uid(case: usize, slice: usize) -> String {
    format!("2.25.3959{case:03}.{}", slice + 1)
}

/// Hounsfield units of the case's phantom without what changes along the series.
fn base(case: usize) -> Vec<i32> {
    let a = anatomy(case);
    // Organs of the case's own: large constant regions that set its perceptual hash apart.
    let mut rng = super::reader_study::Rng(0x9E37_79B9_7F4A_7C15 ^ case as u64);
    let organs: Vec<(i32, i32, i32, i32, i32)> = (0..6)
        .map(|_| {
            (
                90 + rng.below(150),
                150 + rng.below(90),
                8 + rng.below(30),
                6 + rng.below(22),
                -100 + rng.below(200),
            )
        })
        .collect();
    let inside = |x: i32, y: i32, cx: i32, cy: i32, rx: i32, ry: i32| {
        let (dx, dy) = (
            f64::from(x - cx) / f64::from(rx.max(1)),
            f64::from(y - cy) / f64::from(ry.max(1)),
        );
        dx * dx + dy * dy <= 1.0
    };
    let (sx, sy) = a.shift;
    let mut out = vec![-1000; SLICE_SIZE * SLICE_SIZE];
    for (k, value) in out.iter_mut().enumerate() {
        // The anatomy is laid out on a 256 grid, drawn here at twice the resolution.
        let (x, y) = ((k % SLICE_SIZE) as i32 / 2, (k / SLICE_SIZE) as i32 / 2);
        let mut hu = -1000;
        if inside(x, y, 128 + sx, 128 + sy, a.body.0, a.body.1) {
            hu = 40 + 10 * ((a.tilt.0 * (x - 128) + a.tilt.1 * (y - 128)) / 400);
            for &(ox, oy, rx, ry, level) in &organs {
                if inside(x, y, ox + sx, oy + sy, rx, ry) {
                    hu = level;
                }
            }
        }
        let [(lx0, ly0), (lx1, ly1)] = a.lungs;
        if inside(x, y, lx0, ly0, a.lung.0, a.lung.1) || inside(x, y, lx1, ly1, a.lung.0, a.lung.1)
        {
            hu = -850;
        }
        if inside(x, y, 128 + a.heart.0 + sx, 140 + sy, a.heart.1, a.heart.2) {
            hu = 45;
        }
        if inside(x, y, 128 + sx, 128 + sy + a.body.1 - 20, 14, 14) {
            hu = 700;
        }
        *value = hu;
    }
    out
}

/// Paints a disc of `hu` (centre and radius in slice pixels).
fn disc(values: &mut [i32], cx: i32, cy: i32, r: i32, hu: i32) {
    let size = SLICE_SIZE as i32;
    for y in (cy - r).max(0)..=(cy + r).min(size - 1) {
        for x in (cx - r).max(0)..=(cx + r).min(size - 1) {
            if (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r {
                values[(y * size + x) as usize] = hu;
            }
        }
    }
}

/// The slice of a nodule's widest extent, and its radius on `slice` (slice pixels).
fn nodule_on(n: &Nodule, slice: usize, slices: usize) -> (usize, i32) {
    let centre = (2 * n.frame + 1) * slices / (2 * FRAMES);
    let shrink = (slice.abs_diff(centre) * 4 * FRAMES / slices.max(1)) as i32;
    (centre, 2 * n.r - shrink)
}

fn slice(base: &[i32], case: usize, slice: usize, slices: usize, found: &[Nodule]) -> Vec<u16> {
    let a = anatomy(case);
    let mut values = base.to_vec();
    for &(vx, vy, r, level) in &a.vessels {
        // One pixel further along the series on every slice, within a band of 160 pixels.
        let y = 2 * vy - 80 + (slice as i32 + 7 * vx).rem_euclid(160);
        disc(&mut values, 2 * vx, y, 2 * r, level);
    }
    for n in found {
        let (_, r) = nodule_on(n, slice, slices);
        if r > 0 {
            disc(&mut values, 2 * n.x, 2 * n.y, r, 30);
        }
    }
    values
        .iter()
        .map(|&hu| (hu + 1024).clamp(0, 4095) as u16)
        .collect()
}

/// PackBits (PS3.5 G.3.1) of one row of one byte plane.
fn pack_bits(row: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < row.len() {
        let mut run = 1;
        while i + run < row.len() && run < 128 && row[i + run] == row[i] {
            run += 1;
        }
        if run >= 2 {
            out.push((257 - run) as u8);
            out.push(row[i]);
            i += run;
            continue;
        }
        let start = i;
        while i < row.len() && i - start < 128 && !(i + 1 < row.len() && row[i] == row[i + 1]) {
            i += 1;
        }
        out.push((i - start - 1) as u8);
        out.extend_from_slice(&row[start..i]);
    }
}

/// RLE Lossless of 16-bit values: two segments (high bytes, then low bytes), each row packed
/// on its own, after the 64-byte header of segment offsets (PS3.5 G.3, G.5).
fn rle(values: &[u16]) -> Vec<u8> {
    let mut segments = Vec::new();
    for plane in [1usize, 0] {
        let bytes: Vec<u8> = values.iter().map(|v| v.to_le_bytes()[plane]).collect();
        let mut segment = Vec::new();
        for row in bytes.chunks(SLICE_SIZE) {
            pack_bits(row, &mut segment);
        }
        if segment.len() % 2 == 1 {
            segment.push(0);
        }
        segments.push(segment);
    }
    let mut out = Vec::with_capacity(64 + segments.iter().map(Vec::len).sum::<usize>());
    let mut header = [0u32; 16];
    header[0] = 2;
    header[1] = 64;
    header[2] = 64 + segments[0].len() as u32;
    for word in header {
        out.extend_from_slice(&word.to_le_bytes());
    }
    for segment in segments {
        out.extend_from_slice(&segment);
    }
    out
}

fn dicom(case: usize, index: usize, slices: usize, values: &[u16]) -> Vec<u8> {
    let instance = slice_uid(case, index);
    let mut data = Vec::new();
    ct_header(&mut data, case, &instance, b"1.0");
    let number = (index + 1).to_string();
    element(&mut data, 0x0020, 0x0013, b"IS", number.as_bytes());
    let z = format!("{:.1}", -(index as f64) - 0.5 * slices as f64);
    let position = format!("-179.2\\-179.2\\{z}");
    element(&mut data, 0x0020, 0x0032, b"DS", position.as_bytes());
    element(&mut data, 0x0020, 0x0037, b"DS", b"1\\0\\0\\0\\1\\0");
    element(&mut data, 0x0020, 0x1041, b"DS", z.as_bytes());
    ct_pixels(&mut data, SLICE_SIZE, None, b"0.7\\0.7", false);
    // Encapsulated pixel data (PS3.5 A.4): an empty offset table, one fragment per frame.
    let fragment = rle(values);
    data.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00]);
    data.extend_from_slice(b"OB\0\0");
    data.extend_from_slice(&u32::MAX.to_le_bytes());
    for (tag, length) in [(0xE000u16, 0u32), (0xE000, fragment.len() as u32)] {
        data.extend_from_slice(&0xFFFEu16.to_le_bytes());
        data.extend_from_slice(&tag.to_le_bytes());
        data.extend_from_slice(&length.to_le_bytes());
    }
    data.extend_from_slice(&fragment);
    data.extend_from_slice(&0xFFFEu16.to_le_bytes());
    data.extend_from_slice(&0xE0DDu16.to_le_bytes());
    data.extend_from_slice(&0u32.to_le_bytes());
    part10(CT_IMAGE, &instance, RLE_LOSSLESS, &data)
}

/// Writes `cases` series of `slices` slices each under `dir/biobank`, with the manifest, the
/// panel's reads and marks (on the slice where a nodule is widest) and the device's results.
pub(super) fn write(dir: &Path, cases: usize, slices: usize) -> Result<Written, AppError> {
    let delivery = dir.join("biobank");
    fs::create_dir_all(&delivery).map_err(io(&delivery))?;
    // The slices, case by case in parallel (each case's phantom drawn once).
    (1..=cases).into_par_iter().try_for_each(|case| {
        let folder = delivery.join(case_id(case));
        fs::create_dir_all(&folder).map_err(io(&folder))?;
        let base = base(case);
        let found = nodules(case);
        for index in 0..slices {
            let values = slice(&base, case, index, slices, &found);
            let path = folder.join(format!("slice-{:04}.dcm", index + 1));
            fs::write(&path, dicom(case, index, slices, &values)).map_err(io(&path))?;
        }
        Ok::<_, AppError>(())
    })?;
    let mut manifest =
        String::from("case_id,path,collection_date,diagnosis,diagnosis_date,patient_key\n");
    let mut reads = String::from("reader,case_id,label,score\n");
    let mut marks = String::from("reader,case_id,image,x,y,r,lesion_type,rating\n");
    let mut results = String::from("case_id,label,score\n");
    for case in 1..=cases {
        let found = nodules(case);
        let diagnosis = if found.is_empty() {
            "no nodule"
        } else {
            "nodule"
        };
        for index in 0..slices {
            let _ = writeln!(
                manifest,
                "{id},{id}/slice-{:04}.dcm,2024-07-01,{diagnosis},,BB-R{case:04}",
                index + 1,
                id = case_id(case)
            );
        }
        let device_positive = (!found.is_empty() && case % 24 != 5) || case % 24 == 8;
        let score = if device_positive { 0.78 } else { 0.12 } + (case % 24) as f64 / 200.0;
        let _ = writeln!(results, "{},,{score}", case_id(case));
        for (t, reader) in ["T1", "T2", "T3"].iter().enumerate() {
            let positive = !found.is_empty();
            let _ = writeln!(
                reads,
                "{reader},{},{},{}",
                case_id(case),
                if positive { "positive" } else { "negative" },
                if positive { 85 + t * 3 } else { 10 + t * 2 }
            );
            for n in &found {
                let (centre, _) = nodule_on(n, 0, slices);
                let _ = writeln!(
                    marks,
                    "{reader},{},{},{},{},{},solid,{}",
                    case_id(case),
                    slice_uid(case, centre),
                    2 * n.x + t as i32 - 1,
                    2 * n.y - t as i32 + 1,
                    2 * n.r,
                    80 + t * 5
                );
            }
        }
    }
    let written = Written::in_dir(dir);
    for (path, text) in [
        (&written.manifest, manifest),
        (&written.reads, reads),
        (&written.marks, marks),
        (&written.results, results),
    ] {
        fs::write(path, text).map_err(io(path))?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_decode_to_what_was_drawn_and_neighbours_differ() {
        let base = base(3);
        let found = nodules(3);
        let drawn: Vec<Vec<u16>> = (0..3).map(|i| slice(&base, 3, i, 250, &found)).collect();
        for (index, values) in drawn.iter().enumerate() {
            let file = dicom(3, index, 250, values);
            let image = kizon_pixels::Image::open(&file).expect("a DICOM image");
            assert_eq!(image.info().transfer_syntax, RLE_LOSSLESS);
            let decoded = image.frame(0).expect("the RLE decodes");
            let expected: Vec<i64> = values.iter().map(|&v| i64::from(v)).collect();
            assert_eq!(decoded, expected, "slice {index}");
            assert!(file.len() < 150_000, "{} bytes", file.len());
        }
        assert_ne!(drawn[0], drawn[1]);
        assert_ne!(drawn[1], drawn[2]);
    }

    #[test]
    fn pack_bits_round_trips_runs_and_literals() {
        let row: Vec<u8> = [
            vec![7u8; 300],
            (0..200).map(|i| i as u8).collect(),
            vec![1, 2, 2],
        ]
        .concat();
        let mut packed = Vec::new();
        pack_bits(&row, &mut packed);
        // Unpacked as PS3.5 G.3.2 says.
        let mut out = Vec::new();
        let mut i = 0;
        while i < packed.len() {
            let n = packed[i] as i8;
            i += 1;
            if n >= 0 {
                out.extend_from_slice(&packed[i..i + n as usize + 1]);
                i += n as usize + 1;
            } else if n != -128 {
                out.extend(std::iter::repeat_n(packed[i], (1 - n as i32) as usize));
                i += 1;
            }
        }
        assert_eq!(out, row);
    }
}
