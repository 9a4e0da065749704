//! The perceptual hash: a 64-bit DCT hash ("pHash", Zauner 2010, *Implementation and
//! Benchmarking of Perceptual Image Hash Functions*, Hagenberg; in the form popularised by
//! N. Krawetz, "Looks Like It", 2011) computed exactly as the Python package ImageHash 4.3
//! (`imagehash.phash`, hash_size 8, highfreq_factor 4) does, after the grey conversion that the
//! peer script `dedup_phash.py` applies to a DICOM image:
//!
//! 1. the first frame's values (pydicom `pixel_array`: YBR_FULL converted to RGB) as float64;
//!    colour averaged over the samples of each pixel;
//! 2. min–max scaled to 0..=255 and truncated to 8 bits: `((v - lo) / (hi - lo or 1) * 255)`;
//! 3. resized to 32×32 with Pillow's `Image.resize(…, LANCZOS)`: a separable, antialiased
//!    Lanczos-3 filter (support scaled by the reduction factor), horizontal pass first, with
//!    Pillow's 8-bit fixed-point arithmetic (22 fractional bits, rounding and clipping after
//!    each pass) reproduced here so that the 32×32 image is Pillow's, byte for byte;
//! 4. 2-D DCT-II (scipy.fftpack `dct`, unnormalised: `y[k] = 2 Σ x[n] cos(πk(2n+1)/2N)`) over
//!    columns then rows;
//! 5. the top-left 8×8 coefficients (DC included); bit = coefficient > their median (the mean of
//!    the 32nd and 33rd values); bits row by row, the first in the most significant position
//!    (ImageHash's hexadecimal string read as one number).
//!
//! Differences from ImageHash come only from floating-point rounding in the DCT (scipy uses an
//! FFT), which can flip a bit whose coefficient lies within ~1e-9 of the median, and from the
//! decoders of lossy JPEG (jpeg-decoder and libjpeg round differently).

use crate::{Image, PixelError};

/// The perceptual hash of the first frame of a DICOM image (see the module doc).
pub fn perceptual_hash(bytes: &[u8]) -> Result<u64, PixelError> {
    let image = Image::open(bytes)?;
    let info = image.info();
    // One decoding buffer per thread: hashing many files then costs no fresh allocation (and
    // page faults) per image.
    SCRATCH.with_borrow_mut(|values| {
        image.frame_into(0, values)?;
        let hash = phash_of_values(info, values);
        if values.capacity() > MAX_KEPT {
            *values = Vec::new();
        }
        Ok(hash)
    })
}

/// The perceptual hash of one decoded frame (steps 1–5 of the module doc).
pub(crate) fn phash_of_values(info: &crate::ImageInfo, values: &[i64]) -> u64 {
    let (width, height) = (info.columns as usize, info.rows as usize);
    let grey = grey_from_values(info, width, height, values);
    phash_of_grey(width, height, &grey)
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<i64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The largest decoding buffer kept between calls (64 MiB).
const MAX_KEPT: usize = 1 << 23;

/// The perceptual hash from a JPEG 2000 image decoded at reduced resolution (at least 128
/// pixels on the shorter side; other codecs decode in full). Decoding the codestream's
/// lower resolution levels skips most of JPEG 2000's cost; the hash then differs from
/// [`perceptual_hash`] by a few bits on some images (measured in the tests), well within the
/// near-duplicate distance.
pub fn perceptual_hash_fast(bytes: &[u8]) -> Result<u64, PixelError> {
    let image = Image::open(bytes)?;
    let (width, height, values) = image.frame_at_least(0, 200)?;
    let grey = grey_from_values(image.info(), width, height, &values);
    Ok(phash_of_grey(width, height, &grey))
}

/// The first frame as 8-bit grey by min–max scaling, as the peer does (steps 1–2): returns
/// (width, height, row-major values).
pub fn grey_first_frame(image: &Image<'_>) -> Result<(usize, usize, Vec<u8>), PixelError> {
    let info = image.info();
    let values = image.frame(0)?;
    let (width, height) = (info.columns as usize, info.rows as usize);
    Ok((
        width,
        height,
        grey_from_values(info, width, height, &values),
    ))
}

fn grey_from_values(
    info: &crate::ImageInfo,
    width: usize,
    height: usize,
    values: &[i64],
) -> Vec<u8> {
    let spp = info.samples_per_pixel.max(1) as usize;
    let count = (width * height).min(values.len() / spp);
    let ybr = info.photometric_interpretation == "YBR_FULL" && spp == 3 && info.bits_stored <= 8;
    if !ybr {
        // numpy's grey value is key / spp in float64, where the key is the sample (spp 1) or
        // the exact integer sum of a pixel's samples; so the 8-bit level is a function of the
        // integer key, computed once per key through a table when there are fewer keys than
        // pixels (the float arithmetic is numpy's, so the levels are identical).
        if spp == 1 {
            return levels(&values[..count], 1);
        }
        let sums: Vec<i64> = values
            .chunks_exact(spp)
            .take(count)
            .map(|p| p.iter().sum())
            .collect();
        return levels(&sums, spp);
    }
    // YBR_FULL: converted to RGB as pydicom does, then the mean of R, G, B.
    let mean = |pixel: &[i64]| -> f64 {
        let mut sum = 0.0f64;
        for v in ybr_full_to_rgb(pixel[0], pixel[1], pixel[2]) {
            sum += v;
        }
        sum / spp as f64
    };
    let pixels = || values.chunks_exact(spp).take(count);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for pixel in pixels() {
        let v = mean(pixel);
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let span = if hi - lo == 0.0 { 1.0 } else { hi - lo };
    pixels()
        .map(|pixel| ((mean(pixel) - lo) / span * 255.0) as u8)
        .collect()
}

/// The peer's `((v - lo) / (hi - lo or 1) * 255).astype(uint8)` with v = key / divisor.
fn levels(keys: &[i64], divisor: usize) -> Vec<u8> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2.
        return unsafe { levels_avx2(keys, divisor) };
    }
    levels_body(keys, divisor)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn levels_avx2(keys: &[i64], divisor: usize) -> Vec<u8> {
    levels_body(keys, divisor)
}

#[inline(always)]
fn levels_body(keys: &[i64], divisor: usize) -> Vec<u8> {
    let (Some(&min), Some(&max)) = (keys.iter().min(), keys.iter().max()) else {
        return Vec::new();
    };
    let d = divisor as f64;
    let (lo, hi) = (min as f64 / d, max as f64 / d);
    let span = if hi - lo == 0.0 { 1.0 } else { hi - lo };
    let level = |k: i64| ((k as f64 / d - lo) / span * 255.0) as u8;
    let range = max.abs_diff(min);
    if range < keys.len() as u64 && range < 1 << 22 {
        let table: Vec<u8> = (0..=range).map(|o| level(min + o as i64)).collect();
        keys.iter()
            .map(|&k| table[k.abs_diff(min) as usize])
            .collect()
    } else {
        keys.iter().map(|&k| level(k)).collect()
    }
}

/// pydicom 3's YBR_FULL → RGB (PS3.3 C.7.6.3.1.2): float32 arithmetic, round half up, clip.
pub(crate) fn ybr_full_to_rgb(y: i64, cb: i64, cr: i64) -> [f64; 3] {
    let (y, cb, cr) = (y as f32, cb as f32 - 128.0, cr as f32 - 128.0);
    let g_cb = -0.114f32 * 1.772 / 0.587;
    let g_cr = -0.299f32 * 1.402 / 0.587;
    let r = y + cb * 0.0 + cr * 1.402;
    let g = y + cb * g_cb + cr * g_cr;
    let b = y + cb * 1.772 + cr * 0.0;
    [r, g, b].map(|v| f64::from((v + 0.5).floor().clamp(0.0, 255.0)))
}

/// ImageHash's phash of an 8-bit grey image (steps 3–5 of the module doc).
pub fn phash_of_grey(width: usize, height: usize, grey: &[u8]) -> u64 {
    const SIZE: usize = 32;
    if width == 0 || height == 0 || grey.len() < width * height {
        return 0;
    }
    let small = resize_lanczos(grey, width, height, SIZE, SIZE);
    // DCT-II along columns (axis 0) keeping the first 8 rows, then along rows, first 8.
    let cos = |k: usize, n: usize| {
        (std::f64::consts::PI * k as f64 * (2 * n + 1) as f64 / (2 * SIZE) as f64).cos()
    };
    let mut table = [[0.0f64; SIZE]; 8];
    for (k, row) in table.iter_mut().enumerate() {
        for (n, c) in row.iter_mut().enumerate() {
            *c = cos(k, n);
        }
    }
    let mut columns = [[0.0f64; SIZE]; 8]; // columns[u][x]
    for u in 0..8 {
        for x in 0..SIZE {
            let mut s = 0.0;
            for y in 0..SIZE {
                s += f64::from(small[y * SIZE + x]) * table[u][y];
            }
            columns[u][x] = 2.0 * s;
        }
    }
    let mut low = [0.0f64; 64];
    for u in 0..8 {
        for v in 0..8 {
            let mut s = 0.0;
            for x in 0..SIZE {
                s += columns[u][x] * table[v][x];
            }
            // A coefficient that is zero in exact arithmetic (flat rows or columns, common in
            // synthetic and padded images) comes out of scipy's FFT-based DCT as exactly 0.0 and
            // out of this direct sum as ±1e-10; snap it, so the comparison with the median (then
            // often 0.0) agrees. No true coefficient of a 32×32 8-bit image is this small and
            // non-zero in practice.
            low[u * 8 + v] = if s.abs() < 1e-6 { 0.0 } else { 2.0 * s };
        }
    }
    let mut sorted = low;
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[31] + sorted[32]) / 2.0;
    low.iter()
        .fold(0u64, |hash, &c| (hash << 1) | u64::from(c > median))
}

/// Pillow's `ImagingResample` for 8-bit single-band images with the LANCZOS filter
/// (`libImaging/Resample.c`: `precompute_coeffs`, `normalize_coeffs_8bpc`,
/// `ImagingResampleHorizontal_8bpc` / `Vertical_8bpc`).
fn resize_lanczos(src: &[u8], width: usize, height: usize, out_w: usize, out_h: usize) -> Vec<u8> {
    // The same integer arithmetic compiled for AVX2 where the CPU has it (exact either way:
    // wrapping i32 sums do not depend on the order of addition).
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2.
        return unsafe { resize_lanczos_avx2(src, width, height, out_w, out_h) };
    }
    resize_lanczos_body(src, width, height, out_w, out_h)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn resize_lanczos_avx2(
    src: &[u8],
    width: usize,
    height: usize,
    out_w: usize,
    out_h: usize,
) -> Vec<u8> {
    resize_lanczos_body(src, width, height, out_w, out_h)
}

#[inline(always)]
fn resize_lanczos_body(
    src: &[u8],
    width: usize,
    height: usize,
    out_w: usize,
    out_h: usize,
) -> Vec<u8> {
    let mut image = src[..width * height].to_vec();
    let mut w = width;
    if out_w != width {
        let table = coefficients_cached(width, out_w);
        let (bounds, kk, ksize) = (&table.0, &table.1, table.2);
        let mut out = vec![0u8; out_w * height];
        for y in 0..height {
            let row = &image[y * w..(y + 1) * w];
            for xx in 0..out_w {
                let (xmin, xmax) = bounds[xx];
                let k = &kk[xx * ksize..];
                let mut ss: i32 = 1 << (PRECISION_BITS - 1);
                for (&p, &w) in row[xmin..xmin + xmax].iter().zip(&k[..xmax]) {
                    ss = ss.wrapping_add(i32::from(p).wrapping_mul(w));
                }
                out[y * out_w + xx] = clip8(ss);
            }
        }
        image = out;
        w = out_w;
    }
    if out_h != height {
        let table = coefficients_cached(height, out_h);
        let (bounds, kk, ksize) = (&table.0, &table.1, table.2);
        let mut out = vec![0u8; w * out_h];
        for yy in 0..out_h {
            let (ymin, ymax) = bounds[yy];
            let k = &kk[yy * ksize..];
            let mut sums = vec![1i32 << (PRECISION_BITS - 1); w];
            for (y, &weight) in k[..ymax].iter().enumerate() {
                let row = &image[(y + ymin) * w..(y + ymin + 1) * w];
                for (s, &p) in sums.iter_mut().zip(row) {
                    *s = s.wrapping_add(i32::from(p).wrapping_mul(weight));
                }
            }
            for (x, &s) in sums.iter().enumerate() {
                out[yy * w + x] = clip8(s);
            }
        }
        image = out;
    }
    image
}

const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Pillow's `clip8`; its sums are C `int`, reproduced with wrapping i32 arithmetic (they
/// never come near overflow for weights that sum to one).
fn clip8(v: i32) -> u8 {
    if v >= (1i32 << PRECISION_BITS << 8) {
        255
    } else if v <= 0 {
        0
    } else {
        (v >> PRECISION_BITS) as u8
    }
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    let x = x * std::f64::consts::PI;
    x.sin() / x
}

fn lanczos(x: f64) -> f64 {
    if (-3.0..3.0).contains(&x) {
        sinc(x) * sinc(x / 3.0)
    } else {
        0.0
    }
}

type Coefficients = std::rc::Rc<(Vec<(usize, usize)>, Vec<i32>, usize)>;

thread_local! {
    /// Filter weights by (input size, output size): images of a series share their sizes, and
    /// the weights cost hundreds of `sin` calls.
    static COEFFICIENTS: std::cell::RefCell<std::collections::HashMap<(usize, usize), Coefficients>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn coefficients_cached(in_size: usize, out_size: usize) -> Coefficients {
    COEFFICIENTS.with_borrow_mut(|cache| {
        if cache.len() > 256 {
            cache.clear();
        }
        cache
            .entry((in_size, out_size))
            .or_insert_with(|| std::rc::Rc::new(coefficients(in_size, out_size)))
            .clone()
    })
}

/// `precompute_coeffs` + `normalize_coeffs_8bpc`: per output sample, the first input sample
/// and the count, and the fixed-point weights (`ksize` per output sample).
fn coefficients(in_size: usize, out_size: usize) -> (Vec<(usize, usize)>, Vec<i32>, usize) {
    const SUPPORT: f64 = 3.0;
    let scale = (in_size as f32 as f64) / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = SUPPORT * filterscale;
    let ksize = support.ceil() as usize * 2 + 1;
    let mut bounds = Vec::with_capacity(out_size);
    let mut kk = vec![0i32; out_size * ksize];
    for xx in 0..out_size {
        let center = (xx as f64 + 0.5) * scale;
        let ss = 1.0 / filterscale;
        let xmin = ((center - support + 0.5) as i64).max(0) as usize; // C cast truncates
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
        let count = xmax.saturating_sub(xmin).min(ksize);
        let mut weights = vec![0.0f64; count];
        let mut total = 0.0;
        for (x, w) in weights.iter_mut().enumerate() {
            *w = lanczos((x as f64 + xmin as f64 - center + 0.5) * ss);
            total += *w;
        }
        for (x, w) in weights.iter().enumerate() {
            let w = if total != 0.0 { w / total } else { *w };
            let fixed = w * f64::from(1u32 << PRECISION_BITS);
            kk[xx * ksize + x] = if w < 0.0 {
                (-0.5 + fixed) as i32
            } else {
                (0.5 + fixed) as i32
            };
        }
        bounds.push((xmin, count));
    }
    (bounds, kk, ksize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_image_hashes_to_its_dc_bit_only() {
        // All AC coefficients are 0 (up to rounding) and the DC is positive.
        let hash = phash_of_grey(40, 40, &[100u8; 1600]);
        assert_eq!(hash >> 63, 1);
    }

    #[test]
    fn downscaling_weights_sum_to_one_in_fixed_point() {
        let (bounds, kk, ksize) = coefficients(512, 32);
        for (i, (_, count)) in bounds.iter().enumerate() {
            let sum: i64 = kk[i * ksize..i * ksize + count]
                .iter()
                .map(|&k| i64::from(k))
                .sum();
            assert!((sum - (1 << PRECISION_BITS)).abs() <= ksize as i64, "{sum}");
        }
    }
}
