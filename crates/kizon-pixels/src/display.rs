//! One frame made viewable: decoded values mapped to 8-bit grey or RGB through a window, and
//! encoded as PNG for the web workspace's item viewer.
//!
//! The window follows the VOI LUT function LINEAR of PS3.3 C.11.2.1.2.1: with centre `c` and
//! width `w`, a value `x ≤ c − 0.5 − (w − 1)/2` is black, `x > c − 0.5 + (w − 1)/2` is white,
//! and in between `((x − (c − 0.5)) / (w − 1) + 0.5) · 255`. Values are the stored values
//! (the window is in the same units; the viewer shows the frame's range to choose from).
//! Without a window the frame's own minimum and maximum are used. MONOCHROME1 is inverted
//! (PS3.3 C.7.6.3.1.2: its minimum is white). Colour images are shown as RGB, YBR_FULL
//! converted as pydicom does; a window applies to grey images only.

use crate::{Image, ImageInfo, PixelError};

/// A VOI window: centre and width in stored-value units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub center: f64,
    pub width: f64,
}

/// A frame ready to show: 8-bit samples, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayFrame {
    pub width: u32,
    pub height: u32,
    /// 1 (grey) or 3 (RGB).
    pub channels: u8,
    pub samples: Vec<u8>,
    /// The frame's smallest and largest grey value (for choosing a window).
    pub range: (i64, i64),
}

/// Maps frame `index` of `image` to 8-bit samples through `window`.
pub fn display_frame(
    image: &Image<'_>,
    index: u32,
    window: Option<Window>,
) -> Result<DisplayFrame, PixelError> {
    let info = image.info();
    let values = image.frame(index)?;
    Ok(display_values(info, &values, window))
}

/// Maps one frame's decoded values (as [`Image::frame`] gives them, of an image described by
/// `info`) to 8-bit samples through `window`: what [`display_frame`] does after decoding, for
/// a caller that keeps decoded frames (the viewer's decode cache).
pub fn display_values(info: &ImageInfo, values: &[i64], window: Option<Window>) -> DisplayFrame {
    let (width, height) = (info.columns, info.rows);
    let pixels = width as usize * height as usize;
    let spp = info.samples_per_pixel.max(1) as usize;
    let colour = spp >= 3 && info.photometric_interpretation != "PALETTE COLOR";
    let range = values
        .iter()
        .step_by(if colour { 1 } else { spp })
        .fold((i64::MAX, i64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let range = if range.0 > range.1 { (0, 0) } else { range };
    if colour {
        let ybr = info.photometric_interpretation == "YBR_FULL" && info.bits_stored <= 8;
        let shift = info.bits_stored.saturating_sub(8);
        let mut samples = Vec::with_capacity(pixels * 3);
        for pixel in values.chunks_exact(spp).take(pixels) {
            if ybr {
                samples.extend(
                    crate::phash::ybr_full_to_rgb(pixel[0], pixel[1], pixel[2]).map(|v| v as u8),
                );
            } else {
                samples.extend(
                    pixel[..3]
                        .iter()
                        .map(|&v| (v.max(0) >> shift).min(255) as u8),
                );
            }
        }
        samples.resize(pixels * 3, 0);
        return DisplayFrame {
            width,
            height,
            channels: 3,
            samples,
            range,
        };
    }
    let window = window
        .filter(|w| w.width >= 1.0 && w.center.is_finite() && w.width.is_finite())
        .unwrap_or(Window {
            center: (range.0 as f64 + range.1 as f64 + 1.0) / 2.0,
            width: ((range.1 - range.0) as f64 + 1.0).max(1.0),
        });
    let invert = info.photometric_interpretation == "MONOCHROME1";
    let (c, w) = (window.center - 0.5, window.width - 1.0);
    let level = |x: i64| -> u8 {
        let x = x as f64;
        let y = if w <= 0.0 {
            if x > c { 255.0 } else { 0.0 }
        } else if x <= c - w / 2.0 {
            0.0
        } else if x > c + w / 2.0 {
            255.0
        } else {
            ((x - c) / w + 0.5) * 255.0
        };
        let y = y.round().clamp(0.0, 255.0) as u8;
        if invert { 255 - y } else { y }
    };
    let mut samples: Vec<u8> = values
        .iter()
        .step_by(spp)
        .take(pixels)
        .map(|&v| level(v))
        .collect();
    samples.resize(pixels, 0);
    DisplayFrame {
        width,
        height,
        channels: 1,
        samples,
        range,
    }
}

/// Encodes a display frame as PNG (fast compression: these images are shown once).
pub fn encode_png(frame: &DisplayFrame) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, frame.width, frame.height);
        encoder.set_color(if frame.channels == 3 {
            png::ColorType::Rgb
        } else {
            png::ColorType::Grayscale
        });
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        // Writing to a Vec cannot fail, and the sample count matches the header by
        // construction (map_values pads or truncates to width × height × channels).
        if let Ok(mut writer) = encoder.write_header() {
            let _ = writer.write_image_data(&frame.samples);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey_info(pi: &str) -> ImageInfo {
        ImageInfo {
            transfer_syntax: "1.2.840.10008.1.2.1".into(),
            rows: 1,
            columns: 4,
            samples_per_pixel: 1,
            frames: 1,
            bits_stored: 12,
            signed: false,
            photometric_interpretation: pi.into(),
        }
    }

    #[test]
    fn the_linear_window_of_ps3_3_maps_ends_to_black_and_white() {
        // c = 100, w = 11: x ≤ 94.5 black, x > 104.5 white, 100 → ((100-99.5)/10 + 0.5)·255.
        let frame = display_values(
            &grey_info("MONOCHROME2"),
            &[94, 100, 104, 105],
            Some(Window {
                center: 100.0,
                width: 11.0,
            }),
        );
        assert_eq!(frame.samples, vec![0, 140, 242, 255]);
        assert_eq!(frame.range, (94, 105));
    }

    #[test]
    fn without_a_window_the_frame_range_spans_black_to_white_and_monochrome1_inverts() {
        let frame = display_values(&grey_info("MONOCHROME2"), &[0, 1000, 2000, 4095], None);
        assert_eq!(frame.samples[0], 0);
        assert_eq!(frame.samples[3], 255);
        let inverted = display_values(&grey_info("MONOCHROME1"), &[0, 1000, 2000, 4095], None);
        assert_eq!(inverted.samples[0], 255);
        assert_eq!(inverted.samples[3], 0);
    }

    #[test]
    fn a_png_decodes_back_to_the_same_samples() {
        let frame = display_values(&grey_info("MONOCHROME2"), &[0, 1000, 2000, 4095], None);
        let bytes = encode_png(&frame);
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buffer).unwrap();
        assert_eq!(buffer, frame.samples);
    }
}
