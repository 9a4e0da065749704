//! JPEG (ISO/IEC 10918-1) frames: baseline (1.2.840.10008.1.2.4.50), extended 8-bit (.51),
//! lossless (.57) and lossless first-order prediction (.70), decoded by the pure-Rust
//! `jpeg-decoder`. Three-component DCT images stated as YBR_FULL or YBR_FULL_422 are converted
//! to RGB by the decoder (its YCbCr path upsamples chroma and converts in one pass; asking it
//! for untransformed YCbCr gives planar or failing output in jpeg-decoder 0.3.2), so their
//! decoded values are RGB, as pydicom's default `pixel_array` gives. Images stated as RGB are
//! not transformed unless an APP14 Adobe marker says YCbCr. 12-bit extended images, which
//! `jpeg-decoder` rejects, go to [`crate::jpeg12`].

use jpeg_decoder::{ColorTransform, Decoder, PixelFormat};
use kizon_formats::dicom::PixelData;

use crate::{ImageInfo, PixelError, interpret};

fn corrupt(frame: u32, message: impl Into<String>) -> PixelError {
    PixelError::Corrupt {
        frame,
        codec: "JPEG",
        message: message.into(),
    }
}

/// The sample precision in the first SOF marker, and whether it is a DCT process.
pub(crate) fn frame_header(data: &[u8]) -> Option<(u8, bool)> {
    let mut at = 2;
    while at + 4 <= data.len() {
        if data[at] != 0xFF {
            return None;
        }
        let marker = data[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        let length = usize::from(u16::from_be_bytes([data[at + 2], data[at + 3]]));
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let precision = *data.get(at + 4)?;
            let dct = !matches!(marker, 0xC3 | 0xC7 | 0xCB | 0xCF);
            return Some((precision, dct));
        }
        at += 2 + length;
    }
    None
}

/// Decodes one JPEG frame into pixel-interleaved values.
pub(crate) fn frame(
    data: &[u8],
    pixels: &PixelData<'_>,
    info: &ImageInfo,
    index: u32,
) -> Result<Vec<i64>, PixelError> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err(corrupt(index, "the frame does not start with SOI (FFD8)"));
    }
    if let Some((precision, true)) = frame_header(data)
        && precision > 8
    {
        return crate::jpeg12::frame(data, info, index);
    }
    let mut decoder = Decoder::new(data);
    let samples = info.samples_per_frame() as usize;
    decoder.set_max_decoding_buffer_size(samples.saturating_mul(2).saturating_add(1 << 16));
    if info.samples_per_pixel == 3 && pixels.photometric_interpretation == "RGB" {
        // The pixel data is stated to be RGB: the codestream carries no colour transform,
        // whatever its component identifiers suggest (a JFIF-less stream is otherwise taken as
        // YCbCr). An APP14 Adobe marker saying YCbCr still wins, as in libjpeg.
        if !has_adobe_ycbcr(data) {
            decoder.set_color_transform(ColorTransform::RGB);
        }
    }
    decoder
        .read_info()
        .map_err(|e| corrupt(index, e.to_string()))?;
    let header = decoder
        .info()
        .ok_or_else(|| corrupt(index, "no frame header"))?;
    if u32::from(header.width) != info.columns || u32::from(header.height) != info.rows {
        return Err(PixelError::Inconsistent(format!(
            "frame {index} is {}×{} in the JPEG data but {}×{} in the header",
            header.width, header.height, info.columns, info.rows
        )));
    }
    let channels = match header.pixel_format {
        PixelFormat::L8 | PixelFormat::L16 => 1,
        PixelFormat::RGB24 => 3,
        PixelFormat::CMYK32 => 4,
    };
    if channels != info.samples_per_pixel {
        return Err(PixelError::Inconsistent(format!(
            "frame {index} has {channels} components in the JPEG data but Samples per Pixel is {}",
            info.samples_per_pixel
        )));
    }
    let decoded = decoder
        .decode()
        .map_err(|e| corrupt(index, e.to_string()))?;
    let (bs, signed) = (info.bits_stored, info.signed);
    let values: Vec<i64> = match header.pixel_format {
        PixelFormat::L16 => decoded
            .chunks_exact(2)
            .map(|c| interpret(u64::from(u16::from_ne_bytes([c[0], c[1]])), bs, signed))
            .collect(),
        _ => decoded
            .iter()
            .map(|&b| interpret(u64::from(b), bs, signed))
            .collect(),
    };
    if values.len() != samples {
        return Err(corrupt(
            index,
            format!("decoded {} samples, expected {samples}", values.len()),
        ));
    }
    Ok(values)
}

/// Whether an APP14 "Adobe" marker before the frame header says the components are YCbCr.
fn has_adobe_ycbcr(data: &[u8]) -> bool {
    let mut at = 2;
    while at + 4 <= data.len() && data[at] == 0xFF {
        let marker = data[at + 1];
        let length = usize::from(u16::from_be_bytes([data[at + 2], data[at + 3]]));
        if marker == 0xEE {
            let body = data.get(at + 4..at + 2 + length).unwrap_or(&[]);
            return body.starts_with(b"Adobe") && body.get(11) == Some(&1);
        }
        if matches!(marker, 0xC0..=0xCF | 0xDA) {
            return false;
        }
        at += 2 + length;
    }
    false
}
