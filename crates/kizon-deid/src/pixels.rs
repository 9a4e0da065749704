//! Pixel regions blanked by rule (PS3.15 E.3.1, Clean Pixel Data Option, code 113101), as the
//! RSNA CTP pixel anonymizer does: a rule names the equipment and image size whose burned-in text
//! sits in known places, and the rectangles to blank there. Only the samples inside the
//! rectangles change (to 0), in every frame; every other byte of the pixel data stays as it was.
//! Native (uncompressed) pixel data only: compressed pixels would have to be decoded and written
//! anew, which the hospital should decide on; such a file goes to the quarantine.

use kizon_formats::dicom::tree::{Body, ParsedFile};
use serde::Deserialize;

/// One rule of the profile's `[[pixels.blank]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PixelRule {
    /// What the rule is for, for the reader of the profile and the de-identification record.
    #[serde(default)]
    pub name: String,
    /// Modality (0008,0060), Manufacturer (0008,0070), Manufacturer's Model Name (0008,1090):
    /// each given one must equal the file's (case and surrounding spaces aside).
    pub modality: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    /// Rows and Columns, when given, must equal the image's.
    pub rows: Option<u32>,
    pub columns: Option<u32>,
    /// `[x, y, width, height]` in pixels, x to the right and y down from the top left corner.
    pub rectangles: Vec<[u32; 4]>,
}

impl PixelRule {
    pub fn check(&self) -> Result<(), String> {
        let named = |what: &str| format!("pixels.blank `{}`: {what}", self.name);
        if self.modality.is_none() && self.manufacturer.is_none() && self.model.is_none() {
            return Err(named(
                "names no modality, manufacturer or model, so it would match every image",
            ));
        }
        if self.rectangles.is_empty() {
            return Err(named("has no rectangle to blank"));
        }
        for [x, y, w, h] in &self.rectangles {
            if *w == 0 || *h == 0 {
                return Err(named("a rectangle is empty"));
            }
            if self.columns.is_some_and(|c| x + w > c) || self.rows.is_some_and(|r| y + h > r) {
                return Err(named(
                    "a rectangle lies outside the image size the rule gives",
                ));
            }
        }
        Ok(())
    }

    fn matches(&self, parsed: &ParsedFile<'_>) -> bool {
        let text = |tag| parsed.top_text(tag).map(|t| t.to_ascii_uppercase());
        let equal = |wanted: &Option<String>, tag| {
            wanted.as_ref().is_none_or(|w| {
                text(tag).as_deref() == Some(w.trim().to_ascii_uppercase().as_str())
            })
        };
        equal(&self.modality, (0x0008, 0x0060))
            && equal(&self.manufacturer, (0x0008, 0x0070))
            && equal(&self.model, (0x0008, 0x1090))
            && self
                .rows
                .is_none_or(|r| top_u16(parsed, (0x0028, 0x0010)) == Some(r))
            && self
                .columns
                .is_none_or(|c| top_u16(parsed, (0x0028, 0x0011)) == Some(c))
    }
}

/// The first rule of `rules` that matches the file.
pub fn matching_rule<'r>(rules: &'r [PixelRule], parsed: &ParsedFile<'_>) -> Option<&'r PixelRule> {
    rules.iter().find(|rule| rule.matches(parsed))
}

fn top_u16(parsed: &ParsedFile<'_>, tag: (u16, u16)) -> Option<u32> {
    parsed.top_u16(tag).map(u32::from)
}

const NATIVE: &[&str] = &[
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.1.99",
];

/// The Pixel Data element (header included, as in the file) with the rule's rectangles blanked
/// in every frame.
pub fn blank(parsed: &ParsedFile<'_>, rule: &PixelRule) -> Result<Vec<u8>, String> {
    if !NATIVE.contains(&parsed.transfer_syntax.as_str()) {
        return Err(format!(
            "a pixel rule (`{}`) matches, but the pixel data is compressed (transfer syntax {}): kizon blanks uncompressed pixel data only; decompress the image at the hospital and run again",
            rule.name, parsed.transfer_syntax
        ));
    }
    let node = parsed
        .data_set
        .iter()
        .find(|n| n.tag == (0x7FE0, 0x0010))
        .ok_or("a pixel rule matches, but the image has no pixel data")?;
    let Body::PixelData(range) = &node.body else {
        return Err("the pixel data is not where an image keeps it".into());
    };
    let mut element = parsed.data[range.clone()].to_vec();
    let header = if parsed.encoding.explicit_vr { 12 } else { 8 };
    let need = |what: &str| format!("a pixel rule matches, but the image has no {what}");
    let rows = top_u16(parsed, (0x0028, 0x0010)).ok_or_else(|| need("Rows"))? as usize;
    let columns = top_u16(parsed, (0x0028, 0x0011)).ok_or_else(|| need("Columns"))? as usize;
    let samples = top_u16(parsed, (0x0028, 0x0002)).unwrap_or(1) as usize;
    let bits = top_u16(parsed, (0x0028, 0x0100)).ok_or_else(|| need("Bits Allocated"))? as usize;
    let planar = top_u16(parsed, (0x0028, 0x0006)).unwrap_or(0);
    let frames: usize = parsed
        .top_text((0x0028, 0x0008))
        .and_then(|f| f.trim().parse().ok())
        .unwrap_or(1)
        .max(1);
    if !bits.is_multiple_of(8) || bits == 0 {
        return Err(format!(
            "a pixel rule matches, but the pixels are {bits}-bit packed: not blanked"
        ));
    }
    let bytes_per_sample = bits / 8;
    let frame_size = rows * columns * samples * bytes_per_sample;
    let pixels = element
        .get_mut(header..)
        .ok_or("the pixel data is cut off")?;
    if pixels.len() < frames * frame_size {
        return Err("the pixel data is shorter than its frames".into());
    }
    for frame in 0..frames {
        let base = frame * frame_size;
        for &[x, y, w, h] in &rule.rectangles {
            let (x0, y0) = (x as usize, y as usize);
            let x1 = (x0 + w as usize).min(columns);
            let y1 = (y0 + h as usize).min(rows);
            for sample in 0..samples {
                for row in y0..y1 {
                    if x0 >= x1 {
                        continue;
                    }
                    let at = |column: usize| {
                        let index = if planar == 1 {
                            (sample * rows + row) * columns + column
                        } else {
                            (row * columns + column) * samples + sample
                        };
                        base + index * bytes_per_sample
                    };
                    if planar == 1 || samples == 1 {
                        pixels[at(x0)..at(x1 - 1) + bytes_per_sample].fill(0);
                    } else {
                        for column in x0..x1 {
                            pixels[at(column)..at(column) + bytes_per_sample].fill(0);
                        }
                    }
                }
            }
        }
    }
    Ok(element)
}
