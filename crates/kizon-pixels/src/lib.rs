//! Decodes the pixel data of DICOM images and hashes it, so that `kizon check` can find the same
//! image used as several cases (PMDA Q&A Q7), even under another encoding.
//!
//! One job: bytes of a DICOM file in, decoded sample values and hashes out. No file or
//! network I/O, no panics on any input, and no allocation that the input does not justify:
//! what cannot be decoded is a typed [`PixelError`], which the caller turns into a finding.
//!
//! - [`Image::open`] locates the pixel data with kizon-formats' bounds-checked element walk
//!   ([`kizon_formats::dicom::pixel_data`]) and [`Image::frame`] decodes one frame into
//!   pixel-interleaved sample values (masked to Bits Stored, sign-extended when signed).
//! - [`pixel_content_hash`]: SHA-256 over a canonical form of all decoded values; the same
//!   image in any lossless encoding (native little or big endian, deflated, RLE, JPEG
//!   lossless, JPEG-LS lossless, JPEG 2000 reversible) has the same hash.
//! - [`perceptual_hash`]: a 64-bit pHash of the first frame following ImageHash's `phash`
//!   (Zauner 2010), for near duplicates (lossy re-encodings, resized copies, small edits);
//!   [`perceptual_hash_fast`] decodes JPEG 2000 at a reduced resolution level for speed;
//!   [`pixel_hashes`] gives both hashes from one decoding.
//! - [`display_frame`] and [`encode_png`]: one frame through a VOI window to an 8-bit PNG,
//!   for the web workspace's viewer.
//! - [`near_duplicate_pairs`]: every pair of 64-bit hashes within a Hamming distance, by
//!   multi-index hashing (Norouzi et al. 2012), exact and sub-quadratic.
//!
//! Transfer syntaxes decoded (PS3.5 Section 10 and Annex A; encapsulation and fragments,
//! PS3.5 A.4, in kizon-formats' `dicom/pixels.rs`):
//!
//! | UID | name | decoder |
//! |---|---|---|
//! | 1.2.840.10008.1.2, .1.2.1, .1.2.2 | implicit / explicit VR little endian, explicit VR big endian | own (`native.rs`, PS3.5 8.1) |
//! | 1.2.840.10008.1.2.1.99 | deflated explicit VR little endian | kizon-formats inflates (flate2), then native |
//! | 1.2.840.10008.1.2.5 | RLE Lossless | own (`rle.rs`, PS3.5 Annex G) |
//! | 1.2.840.10008.1.2.4.50, .4.57, .4.70 | JPEG baseline, lossless, lossless SV1 | `jpeg-decoder` (pure Rust) |
//! | 1.2.840.10008.1.2.4.51 | JPEG extended | `jpeg-decoder` for 8-bit; own 12-bit sequential DCT (`jpeg12.rs`, ISO/IEC 10918-1) |
//! | 1.2.840.10008.1.2.4.80, .4.81 | JPEG-LS lossless, near-lossless | own ([`jpegls`], ITU-T T.87) |
//! | 1.2.840.10008.1.2.4.90, .4.91 (.4.201–.4.203) | JPEG 2000 (reversible, irreversible; HTJ2K, untested: no sample) | `openjp2` (pure-Rust port of OpenJPEG, ISO/IEC 15444-1) |
//!
//! Why these decoders: everything builds offline with the Rust toolchain alone (the project
//! promises `cargo run --release -- demo` on a fresh machine). `openjp2` was chosen over
//! `openjpeg-sys` (the C library built by `cc`) because it builds faster (12 s against 18 s
//! cold, measured) and turns out-of-bounds accesses into panics instead of memory corruption;
//! it decodes at about 0.75× the speed of C OpenJPEG. JPEG-LS has no pure-Rust decoder and
//! CharLS needs cmake, so kizon has its own; `jpeg-decoder` rejects 12-bit DCT images, so those
//! have their own decoder too.
//!
//! Bounds: a frame's declared size is checked against the DICOM header and the codestream
//! header before decoding; a compressed frame may decode to at most 4 Mi samples, or 4,096
//! samples per compressed byte beyond that, and never more than 128 Mi samples
//! ([`PixelError::TooLarge`]). Native frames are slices of the input. Third-party decoders run
//! inside `catch_unwind`, so a panic there (none seen in the robustness tests) is a
//! [`PixelError::Corrupt`]; kizon's own code is tested not to panic.

mod content;
mod display;
mod j2k;
mod jpeg;
mod jpeg12;
pub mod jpegls;
mod native;
mod phash;
mod rle;
mod search;

use kizon_formats::dicom::{PixelData, pixel_data};

pub use content::{CANONICAL_PREFIX, pixel_content_hash, pixel_hashes};
pub use display::{DisplayFrame, Window, display_frame, display_values, encode_png};
pub use phash::{grey_first_frame, perceptual_hash, perceptual_hash_fast, phash_of_grey};
pub use search::{
    DEFAULT_MAX_DISTANCE, brute_force_pairs, hamming_distance, indexed_pairs, near_duplicate_pairs,
};

/// Why pixel data could not be decoded. Each variant says what and where; none is a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PixelError {
    /// Not DICOM, no image, or an image header that cannot be read.
    #[error("no decodable DICOM image: {0}")]
    NotAnImage(String),
    /// A transfer syntax kizon does not decode.
    #[error("transfer syntax {0} is not decoded by kizon")]
    UnsupportedTransferSyntax(String),
    /// Image attributes outside what the decoders handle (e.g. Bits Allocated 12).
    #[error("unsupported image: {0}")]
    Unsupported(String),
    /// The image attributes contradict each other or the codestream.
    #[error("inconsistent image: {0}")]
    Inconsistent(String),
    /// Native pixel data shorter than the frames it must hold.
    #[error("frame {frame} needs bytes up to {needed}, but the pixel data holds {present}")]
    Truncated {
        frame: u32,
        needed: u64,
        present: u64,
    },
    /// A compressed frame that its decoder rejects.
    #[error("frame {frame}: the {codec} data is corrupt: {message}")]
    Corrupt {
        frame: u32,
        codec: &'static str,
        message: String,
    },
    /// A frame whose decoded size the compressed bytes do not justify.
    #[error(
        "frame {frame} would decode to {samples} samples from {compressed} compressed bytes, over the limit"
    )]
    TooLarge {
        frame: u32,
        samples: u64,
        compressed: u64,
    },
    /// A frame index past the last frame.
    #[error("frame {index} does not exist: the image has {frames} frames")]
    NoSuchFrame { index: u32, frames: u32 },
}

/// What a decoded image is: its dimensions and how to read its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// Transfer Syntax UID.
    pub transfer_syntax: String,
    pub rows: u32,
    pub columns: u32,
    /// Samples per pixel of the decoded values (3 for YBR_FULL_422, which is expanded).
    pub samples_per_pixel: u32,
    /// Number of frames.
    pub frames: u32,
    /// Bits Stored: values are masked to this many bits.
    pub bits_stored: u16,
    /// Pixel Representation 1: values are two's complement in `bits_stored` bits.
    pub signed: bool,
    /// The photometric interpretation of the decoded values: as stated, except that colour
    /// transforms undone by the codec give `RGB` (JPEG YCbCr, JPEG 2000 RCT/ICT) and native
    /// YBR_FULL_422 expanded to one value per sample gives `YBR_FULL`.
    pub photometric_interpretation: String,
}

impl ImageInfo {
    /// Samples in one frame: rows × columns × samples per pixel.
    pub fn samples_per_frame(&self) -> u64 {
        u64::from(self.rows) * u64::from(self.columns) * u64::from(self.samples_per_pixel)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Native,
    Rle,
    Jpeg,
    JpegLs,
    J2k,
}

/// A DICOM image whose frames can be decoded one at a time.
#[derive(Debug)]
pub struct Image<'a> {
    info: ImageInfo,
    codec: Codec,
    pixels: PixelData<'a>,
}

/// A decoded frame of fewer samples than this is always allowed (4 Mi samples, e.g. 2048²).
const SAMPLE_FLOOR: u64 = 1 << 22;
/// Beyond the floor, a compressed frame must hold at least one byte per this many samples.
const MAX_SAMPLES_PER_BYTE: u64 = 1 << 12;
/// No frame decodes to more samples than this (128 Mi samples).
const MAX_SAMPLES: u64 = 1 << 27;

impl<'a> Image<'a> {
    /// Locates the pixel data and reads the image attributes; decodes nothing yet.
    pub fn open(bytes: &'a [u8]) -> Result<Image<'a>, PixelError> {
        let pixels = pixel_data(bytes).map_err(PixelError::NotAnImage)?;
        let syntax = pixels.transfer_syntax.as_str();
        let codec = match syntax {
            "1.2.840.10008.1.2"
            | "1.2.840.10008.1.2.1"
            | "1.2.840.10008.1.2.2"
            | "1.2.840.10008.1.2.1.99" => Codec::Native,
            "1.2.840.10008.1.2.5" => Codec::Rle,
            "1.2.840.10008.1.2.4.50"
            | "1.2.840.10008.1.2.4.51"
            | "1.2.840.10008.1.2.4.57"
            | "1.2.840.10008.1.2.4.70" => Codec::Jpeg,
            "1.2.840.10008.1.2.4.80" | "1.2.840.10008.1.2.4.81" => Codec::JpegLs,
            "1.2.840.10008.1.2.4.90"
            | "1.2.840.10008.1.2.4.91"
            | "1.2.840.10008.1.2.4.201"
            | "1.2.840.10008.1.2.4.202"
            | "1.2.840.10008.1.2.4.203" => Codec::J2k,
            other => return Err(PixelError::UnsupportedTransferSyntax(other.to_owned())),
        };
        let native = codec == Codec::Native;
        if native
            != matches!(
                pixels.location,
                kizon_formats::dicom::PixelLocation::Native(_)
            )
        {
            return Err(PixelError::Inconsistent(format!(
                "transfer syntax {syntax} but the pixel data is {}",
                if native { "encapsulated" } else { "native" }
            )));
        }
        if pixels.rows == 0 || pixels.columns == 0 {
            return Err(PixelError::Inconsistent("Rows or Columns is 0".into()));
        }
        if pixels.number_of_frames == 0 {
            return Err(PixelError::Inconsistent("Number of Frames is 0".into()));
        }
        if !matches!(pixels.samples_per_pixel, 1 | 3 | 4) {
            return Err(PixelError::Unsupported(format!(
                "Samples per Pixel {}",
                pixels.samples_per_pixel
            )));
        }
        if !matches!(pixels.bits_allocated, 1 | 8 | 16 | 32) {
            return Err(PixelError::Unsupported(format!(
                "Bits Allocated {}",
                pixels.bits_allocated
            )));
        }
        if pixels.bits_stored == 0 || pixels.bits_stored > pixels.bits_allocated {
            return Err(PixelError::Inconsistent(format!(
                "Bits Stored {} with Bits Allocated {}",
                pixels.bits_stored, pixels.bits_allocated
            )));
        }
        let pi = pixels.photometric_interpretation.as_str();
        let photometric_interpretation = match (codec, pi) {
            (Codec::Native, "YBR_FULL_422") => "YBR_FULL",
            (Codec::J2k, "YBR_RCT" | "YBR_ICT") => "RGB",
            (Codec::Jpeg, "YBR_FULL" | "YBR_FULL_422") if pixels.samples_per_pixel == 3 => "RGB",
            _ => pi,
        }
        .to_owned();
        let info = ImageInfo {
            transfer_syntax: pixels.transfer_syntax.clone(),
            rows: u32::from(pixels.rows),
            columns: u32::from(pixels.columns),
            samples_per_pixel: u32::from(pixels.samples_per_pixel),
            frames: pixels.number_of_frames,
            bits_stored: pixels.bits_stored,
            signed: pixels.pixel_representation == 1,
            photometric_interpretation,
        };
        Ok(Image {
            info,
            codec,
            pixels,
        })
    }

    /// The image's dimensions and value interpretation.
    pub fn info(&self) -> &ImageInfo {
        &self.info
    }

    /// Decodes frame `index` (from 0): rows × columns × samples per pixel values, row by row,
    /// the samples of a pixel together.
    pub fn frame(&self, index: u32) -> Result<Vec<i64>, PixelError> {
        if index >= self.info.frames {
            return Err(PixelError::NoSuchFrame {
                index,
                frames: self.info.frames,
            });
        }
        if self.codec == Codec::Native {
            return native::frame(&self.pixels, &self.info, index);
        }
        let frames = self.encapsulated_frames()?;
        self.decode_encapsulated(&frames, index)
    }

    /// [`Image::frame`] into `values`, reusing its capacity where the decoder allows (native
    /// data); for hashing many files without a fresh allocation per frame.
    pub fn frame_into(&self, index: u32, values: &mut Vec<i64>) -> Result<(), PixelError> {
        if self.codec == Codec::Native && index < self.info.frames {
            return native::frame_into(&self.pixels, &self.info, index, values);
        }
        *values = self.frame(index)?;
        Ok(())
    }

    /// Decodes every frame in order, calling `each` with the frame's index and values; stops at
    /// the first error.
    pub fn for_each_frame(&self, mut each: impl FnMut(u32, &[i64])) -> Result<(), PixelError> {
        if self.codec == Codec::Native {
            let mut values = Vec::new();
            for index in 0..self.info.frames {
                native::frame_into(&self.pixels, &self.info, index, &mut values)?;
                each(index, &values);
            }
            return Ok(());
        }
        let frames = self.encapsulated_frames()?;
        for index in 0..self.info.frames {
            each(index, &self.decode_encapsulated(&frames, index)?);
        }
        Ok(())
    }

    /// Frame `index` at reduced resolution when the codec has resolution levels (JPEG 2000):
    /// halved as often as both dimensions stay at least `min_size`; other codecs, or a
    /// codestream with fewer levels, give the full frame. Returns (width, height, values).
    pub fn frame_at_least(
        &self,
        index: u32,
        min_size: u32,
    ) -> Result<(usize, usize, Vec<i64>), PixelError> {
        let full =
            |values: Vec<i64>| Ok((self.info.columns as usize, self.info.rows as usize, values));
        if self.codec != Codec::J2k || index >= self.info.frames {
            return full(self.frame(index)?);
        }
        let smaller = self.info.rows.min(self.info.columns);
        let mut reduce = 0;
        while reduce < 5 && smaller >> (reduce + 1) >= min_size.max(1) {
            reduce += 1;
        }
        if reduce == 0 {
            return full(self.frame(index)?);
        }
        let frames = self.encapsulated_frames()?;
        let Some(fragments) = frames.get(index as usize) else {
            return full(self.frame(index)?);
        };
        let data = fragments.concat();
        let info = &self.info;
        let reduced = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            j2k::decode(&data, info, index, reduce)
        }));
        match reduced {
            Ok(Ok(decoded)) => Ok(decoded),
            // Fewer resolution levels than asked for, or a decoder error: the full frame says
            // which.
            _ => full(self.frame(index)?),
        }
    }

    fn encapsulated_frames(&self) -> Result<Vec<Vec<&[u8]>>, PixelError> {
        self.pixels.frames().map_err(PixelError::Inconsistent)
    }

    fn decode_encapsulated(
        &self,
        frames: &[Vec<&[u8]>],
        index: u32,
    ) -> Result<Vec<i64>, PixelError> {
        let Some(fragments) = frames.get(index as usize) else {
            return Err(PixelError::Inconsistent(format!(
                "Number of Frames is {} but the encapsulated pixel data holds {}",
                self.info.frames,
                frames.len()
            )));
        };
        let data: std::borrow::Cow<'_, [u8]> = if fragments.len() == 1 {
            std::borrow::Cow::Borrowed(fragments[0])
        } else {
            std::borrow::Cow::Owned(fragments.concat())
        };
        let samples = self.info.samples_per_frame();
        let allowed = SAMPLE_FLOOR.max((data.len() as u64).saturating_mul(MAX_SAMPLES_PER_BYTE));
        if samples > allowed.min(MAX_SAMPLES) {
            return Err(PixelError::TooLarge {
                frame: index,
                samples,
                compressed: data.len() as u64,
            });
        }
        let pixels = &self.pixels;
        let info = &self.info;
        let decoded = guard(index, || match self.codec {
            Codec::Rle => rle::frame(&data, pixels, info, index),
            Codec::Jpeg => jpeg::frame(&data, pixels, info, index),
            Codec::JpegLs => jpegls::frame(&data, info, index),
            Codec::J2k => j2k::frame(&data, info, index),
            Codec::Native => unreachable_native(),
        })?;
        if decoded.len() as u64 != samples {
            return Err(PixelError::Inconsistent(format!(
                "frame {index} decoded to {} samples, the image needs {samples}",
                decoded.len()
            )));
        }
        Ok(decoded)
    }
}

fn unreachable_native() -> Result<Vec<i64>, PixelError> {
    Err(PixelError::Inconsistent(
        "native data has no fragments".into(),
    ))
}

/// Runs a third-party decoder so that a panic inside it becomes a [`PixelError`]; our own code
/// does not panic, but the crates it calls are not ours to prove.
fn guard(
    frame: u32,
    decode: impl FnOnce() -> Result<Vec<i64>, PixelError>,
) -> Result<Vec<i64>, PixelError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)).unwrap_or_else(|_| {
        Err(PixelError::Corrupt {
            frame,
            codec: "compressed",
            message: "the decoder stopped on an internal error".into(),
        })
    })
}

/// A stored value as the image means it: the low `bits_stored` bits of `raw`, sign-extended
/// when the image is signed (PS3.5 8.1.1, Pixel Representation).
#[inline]
pub(crate) fn interpret(raw: u64, bits_stored: u16, signed: bool) -> i64 {
    let bits = u32::from(bits_stored.clamp(1, 64));
    let shift = 64 - bits;
    if signed {
        ((raw << shift) as i64) >> shift
    } else {
        ((raw << shift) >> shift) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::interpret;

    #[test]
    fn values_are_masked_and_sign_extended() {
        assert_eq!(interpret(0xFFFF, 16, true), -1);
        assert_eq!(interpret(0xFFFF, 12, false), 0x0FFF);
        assert_eq!(interpret(0x0800, 12, true), -2048);
        assert_eq!(interpret(0xFFFF_FFFF, 32, false), 0xFFFF_FFFF);
        assert_eq!(interpret(1, 1, false), 1);
    }
}
