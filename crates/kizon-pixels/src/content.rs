//! The pixel content hash: SHA-256 (FIPS 180-4) over a canonical form of the decoded values,
//! so that one image has one hash whatever lossless encoding carries it.
//!
//! Canonical form, version 1 (all integers little endian):
//!
//! ```text
//! "kizon-pixels canonical v1\0"                      the prefix, 26 bytes
//! rows u32, columns u32, samples per pixel u32, frames u32
//! width u8                                           1, 2 or 4: bytes per value (Bits Stored ≤ 8, ≤ 16, ≤ 32)
//! signed u8                                          1 when Pixel Representation is 1
//! values                                             frame by frame, row by row, the samples of a pixel
//!                                                    together (colour-by-pixel), each the value as the
//!                                                    image means it (masked to Bits Stored, sign-extended
//!                                                    when signed) in `width` bytes, two's complement
//! ```
//!
//! What is deliberately not in it: the transfer syntax, Bits Allocated, Planar Configuration and
//! byte order (they are encodings of the same values), and every other attribute (a copy with
//! another patient ID or UID is the same pixel content: that is what Q7 looks for).
//! Colour values of native, RLE and JPEG-LS data are kept as stored (YBR stays YBR); JPEG and
//! JPEG 2000 colour images are RGB, their codec's colour transform undone by the decoder.

use sha2::{Digest, Sha256};

use crate::{Image, PixelError};

/// The first bytes of the canonical form; a new version changes them.
pub const CANONICAL_PREFIX: &[u8] = b"kizon-pixels canonical v1\0";

/// SHA-256 of the canonical form of every frame's decoded values (see the module doc).
/// Frames are decoded and hashed one at a time, so memory holds one frame.
pub fn pixel_content_hash(bytes: &[u8]) -> Result<[u8; 32], PixelError> {
    content_hash_with(&Image::open(bytes)?, |_, _| {})
}

/// Both hashes of an image from one decoding: the [`pixel_content_hash`] and the
/// [`perceptual_hash`](crate::perceptual_hash) of its first frame, which the content hash
/// decodes anyway. What `check` needs of every image; decoding is most of its cost, and a
/// JPEG 2000 frame decoded twice cost twice (measured: 65 % of a `check` in the JPEG 2000
/// decoder). The results are those of the two functions called one after the other: the
/// perceptual hash comes from the same values, and an image any of whose frames fails to
/// decode is an error here as it is for the content hash.
pub fn pixel_hashes(bytes: &[u8]) -> Result<([u8; 32], u64), PixelError> {
    let image = Image::open(bytes)?;
    let mut phash = 0;
    let content = content_hash_with(&image, |index, values| {
        if index == 0 {
            phash = crate::phash::phash_of_values(image.info(), values);
        }
    })?;
    Ok((content, phash))
}

/// The content hash, handing each decoded frame to `each` as well.
fn content_hash_with(
    image: &Image<'_>,
    mut each: impl FnMut(u32, &[i64]),
) -> Result<[u8; 32], PixelError> {
    let info = image.info();
    let width: usize = match info.bits_stored {
        0..=8 => 1,
        9..=16 => 2,
        _ => 4,
    };
    let mut hasher = Sha256::new();
    hasher.update(CANONICAL_PREFIX);
    for n in [info.rows, info.columns, info.samples_per_pixel, info.frames] {
        hasher.update(n.to_le_bytes());
    }
    hasher.update([width as u8, u8::from(info.signed)]);
    let mut buffer: Vec<u8> = Vec::new();
    image.for_each_frame(|index, values| {
        each(index, values);
        buffer.clear();
        buffer.reserve(values.len() * width);
        for &v in values {
            buffer.extend_from_slice(&v.to_le_bytes()[..width]);
        }
        hasher.update(&buffer);
    })?;
    Ok(hasher.finalize().into())
}
