//! Native (uncompressed) pixel data: PS3.5 Section 8.1 (pixel cells, byte order, bit packing)
//! and PS3.3 C.7.6.3.1.3 (Planar Configuration), C.7.6.3.1.2 (YBR_FULL_422 stores two
//! luminance values and one Cb, Cr pair per two pixels).

use kizon_formats::dicom::PixelData;

use crate::{ImageInfo, PixelError, interpret};

/// Decodes frame `index` of native pixel data into pixel-interleaved values.
pub(crate) fn frame(
    pixels: &PixelData<'_>,
    info: &ImageInfo,
    index: u32,
) -> Result<Vec<i64>, PixelError> {
    let mut values = Vec::new();
    frame_into(pixels, info, index, &mut values)?;
    Ok(values)
}

/// [`frame`] into a caller's buffer (its capacity is reused).
pub(crate) fn frame_into(
    pixels: &PixelData<'_>,
    info: &ImageInfo,
    index: u32,
    values: &mut Vec<i64>,
) -> Result<(), PixelError> {
    let data = pixels.native().unwrap_or(&[]);
    let bits = u64::from(pixels.bits_allocated);
    let ybr422 = pixels.photometric_interpretation == "YBR_FULL_422" && info.samples_per_pixel == 3;
    let pixel_count = u64::from(info.rows) * u64::from(info.columns);
    // Values stored per frame: YBR_FULL_422 stores 2 per pixel instead of 3.
    let stored = if ybr422 {
        if pixel_count % 2 != 0 {
            return Err(PixelError::Inconsistent(
                "YBR_FULL_422 with an odd number of pixels".into(),
            ));
        }
        pixel_count * 2
    } else {
        pixel_count * u64::from(info.samples_per_pixel)
    };
    let frame_bits = stored * bits;
    let start = u64::from(index) * frame_bits;
    let end = start + frame_bits;
    let present = data.len() as u64;
    if end.div_ceil(8) > present {
        return Err(PixelError::Truncated {
            frame: index,
            needed: end.div_ceil(8),
            present,
        });
    }
    // The frame fits in the input, so `stored` is bounded by the input's size.
    let stored = stored as usize;
    let (bs, signed) = (info.bits_stored, info.signed);
    let value = |raw: u64| interpret(raw, bs, signed);
    values.clear();
    values.reserve(stored);
    let big = pixels.big_endian;
    let from = (start / 8) as usize;
    match pixels.bits_allocated {
        1 => {
            // PS3.5 8.1.1: single-bit pixels are packed eight to a byte, the first pixel in
            // the least significant bit. In big endian OW the bytes of each word are swapped.
            let swap = big && pixels.value_representation == *b"OW";
            for i in 0..stored as u64 {
                let bit = start + i;
                let mut byte = (bit / 8) as usize;
                if swap {
                    byte ^= 1;
                }
                let b = data.get(byte).copied().unwrap_or(0);
                values.push(value(u64::from((b >> (bit % 8)) & 1)));
            }
        }
        8 if big && pixels.value_representation == *b"OW" => {
            // 8-bit samples in 16-bit words, big endian: swap each byte pair.
            for i in 0..stored {
                let b = data.get((from + i) ^ 1).copied().unwrap_or(0);
                values.push(value(u64::from(b)));
            }
        }
        8 => values.extend(
            data[from..from + stored]
                .iter()
                .map(|&b| value(u64::from(b))),
        ),
        16 => values.extend(data[from..from + stored * 2].chunks_exact(2).map(|c| {
            let w = [c[0], c[1]];
            value(u64::from(if big {
                u16::from_be_bytes(w)
            } else {
                u16::from_le_bytes(w)
            }))
        })),
        32 => values.extend(data[from..from + stored * 4].chunks_exact(4).map(|c| {
            let w = [c[0], c[1], c[2], c[3]];
            value(u64::from(if big {
                u32::from_be_bytes(w)
            } else {
                u32::from_le_bytes(w)
            }))
        })),
        other => return Err(PixelError::Unsupported(format!("Bits Allocated {other}"))),
    }
    let spp = info.samples_per_pixel as usize;
    if ybr422 {
        // Y1 Y2 Cb Cr → Y1 Cb Cr Y2 Cb Cr.
        let mut out = Vec::with_capacity(pixel_count as usize * 3);
        for q in values.chunks_exact(4) {
            out.extend_from_slice(&[q[0], q[2], q[3], q[1], q[2], q[3]]);
        }
        *values = out;
        return Ok(());
    }
    if spp > 1 && pixels.planar_configuration == 1 {
        *values = interleave(values, spp);
        return Ok(());
    }
    Ok(())
}

/// Colour-by-plane (all of sample 0, then all of sample 1, …) to colour-by-pixel.
pub(crate) fn interleave(planes: &[i64], spp: usize) -> Vec<i64> {
    let n = planes.len() / spp;
    let mut out = vec![0i64; n * spp];
    for s in 0..spp {
        for (p, &v) in planes[s * n..(s + 1) * n].iter().enumerate() {
            out[p * spp + s] = v;
        }
    }
    out
}
