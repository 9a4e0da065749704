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
    let (width, height, grey) = grey_first_frame(&image)?;
    Ok(phash_of_grey(width, height, &grey))
}

/// The first frame as 8-bit grey by min–max scaling, as the peer does (steps 1–2): returns
/// (width, height, row-major values).
pub fn grey_first_frame(image: &Image<'_>) -> Result<(usize, usize, Vec<u8>), PixelError> {
    let info = image.info();
    let values = image.frame(0)?;
    let spp = info.samples_per_pixel as usize;
    let (width, height) = (info.columns as usize, info.rows as usize);
    let ybr = info.photometric_interpretation == "YBR_FULL" && spp == 3 && info.bits_stored <= 8;
    let mut grey: Vec<f64> = Vec::with_capacity(width * height);
    if spp == 1 {
        grey.extend(values.iter().map(|&v| v as f64));
    } else {
        for pixel in values.chunks_exact(spp) {
            let mut sum = 0.0f64;
            if ybr {
                for v in ybr_full_to_rgb(pixel[0], pixel[1], pixel[2]) {
                    sum += v;
                }
            } else {
                for &v in pixel {
                    sum += v as f64;
                }
            }
            grey.push(sum / spp as f64);
        }
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in &grey {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let span = if hi - lo == 0.0 { 1.0 } else { hi - lo };
    let bytes = grey
        .iter()
        .map(|&v| ((v - lo) / span * 255.0) as u8)
        .collect();
    Ok((width, height, bytes))
}

/// pydicom 3's YBR_FULL → RGB (PS3.3 C.7.6.3.1.2): float32 arithmetic, round half up, clip.
fn ybr_full_to_rgb(y: i64, cb: i64, cr: i64) -> [f64; 3] {
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
    let mut image = src[..width * height].to_vec();
    let mut w = width;
    if out_w != width {
        let (bounds, kk, ksize) = coefficients(width, out_w);
        let mut out = vec![0u8; out_w * height];
        for y in 0..height {
            let row = &image[y * w..(y + 1) * w];
            for xx in 0..out_w {
                let (xmin, xmax) = bounds[xx];
                let k = &kk[xx * ksize..];
                let mut ss: i64 = 1 << (PRECISION_BITS - 1);
                for x in 0..xmax {
                    ss += i64::from(row[x + xmin]) * i64::from(k[x]);
                }
                out[y * out_w + xx] = clip8(ss);
            }
        }
        image = out;
        w = out_w;
    }
    if out_h != height {
        let (bounds, kk, ksize) = coefficients(height, out_h);
        let mut out = vec![0u8; w * out_h];
        for yy in 0..out_h {
            let (ymin, ymax) = bounds[yy];
            let k = &kk[yy * ksize..];
            for x in 0..w {
                let mut ss: i64 = 1 << (PRECISION_BITS - 1);
                for y in 0..ymax {
                    ss += i64::from(image[(y + ymin) * w + x]) * i64::from(k[y]);
                }
                out[yy * w + x] = clip8(ss);
            }
        }
        image = out;
    }
    image
}

const PRECISION_BITS: u32 = 32 - 8 - 2;

fn clip8(v: i64) -> u8 {
    if v >= (1i64 << PRECISION_BITS << 8) {
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
