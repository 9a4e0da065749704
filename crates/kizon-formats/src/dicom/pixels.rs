//! Where an image's pixel data lies, and the attributes needed to decode it.
//!
//! [`pixel_data`] walks the data set with the same bounds-checked element walk as
//! `inspect`, reads the Image Pixel Module attributes (PS3.3 C.7.6.3) and locates the Pixel
//! Data (7FE0,0010): native data as one byte range, encapsulated data as its Basic Offset
//! Table and fragments (PS3.5 A.4). Nothing is decoded or copied here (a deflated data set is
//! inflated first, PS3.5 A.5); decoding is kizon-pixels' job.

use std::borrow::Cow;
use std::ops::Range;

use super::walk;
use super::{Layout, Values, detect};

/// The image attributes and the location of the pixel data of one DICOM image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PixelData<'a> {
    /// Transfer Syntax UID (0002,0010); implied by the encoding when there is no file meta.
    pub transfer_syntax: String,
    /// Rows (0028,0010).
    pub rows: u16,
    /// Columns (0028,0011).
    pub columns: u16,
    /// Samples per Pixel (0028,0002); 1 when absent.
    pub samples_per_pixel: u16,
    /// Bits Allocated (0028,0100).
    pub bits_allocated: u16,
    /// Bits Stored (0028,0101); Bits Allocated when absent.
    pub bits_stored: u16,
    /// Pixel Representation (0028,0103): 0 unsigned, 1 two's complement; 0 when absent.
    pub pixel_representation: u16,
    /// Planar Configuration (0028,0006): 0 colour-by-pixel, 1 colour-by-plane; 0 when absent.
    pub planar_configuration: u16,
    /// Photometric Interpretation (0028,0004), trimmed; empty when absent.
    pub photometric_interpretation: String,
    /// Number of Frames (0028,0008); 1 when absent.
    pub number_of_frames: u32,
    /// Whether native pixel data is stored big endian (Explicit VR Big Endian).
    pub big_endian: bool,
    /// The VR of Pixel Data as written (`OB`, `OW`); two spaces in implicit VR. With 8-bit
    /// samples in big endian, `OW` means the bytes of each 16-bit word are swapped.
    pub value_representation: [u8; 2],
    /// The pixel data itself.
    pub location: PixelLocation,
    /// The bytes `location` points into: the file, or the inflated data set.
    pub bytes: Cow<'a, [u8]>,
}

/// Where the pixel data lies in [`PixelData::bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PixelLocation {
    /// Native (uncompressed) pixel data: the value of Pixel Data. It may be shorter than the
    /// image needs; the decoder checks.
    Native(Range<usize>),
    /// Encapsulated pixel data (PS3.5 A.4): the Basic Offset Table's entries (empty when the
    /// table is empty), the Extended Offset Table (7FE0,0001) when present, and the fragments.
    Encapsulated {
        offsets: Vec<u64>,
        extended_offsets: Option<Vec<u64>>,
        fragments: Vec<Range<usize>>,
    },
}

impl PixelData<'_> {
    /// The fragments of encapsulated pixel data, as byte slices (none for native data).
    pub fn fragments(&self) -> Vec<&[u8]> {
        match &self.location {
            PixelLocation::Native(_) => Vec::new(),
            PixelLocation::Encapsulated { fragments, .. } => {
                fragments.iter().map(|r| &self.bytes[r.clone()]).collect()
            }
        }
    }

    /// The native pixel bytes (`None` for encapsulated data).
    pub fn native(&self) -> Option<&[u8]> {
        match &self.location {
            PixelLocation::Native(range) => Some(&self.bytes[range.clone()]),
            PixelLocation::Encapsulated { .. } => None,
        }
    }

    /// The encapsulated frames, each as the fragments that make it up (PS3.5 A.4): one frame
    /// takes all fragments; as many fragments as frames are one each; otherwise the Extended
    /// or Basic Offset Table splits them; with neither, a fragment that starts a codestream
    /// (JPEG SOI `FFD8`, JPEG 2000 SOC `FF4F`) starts a frame.
    pub fn frames(&self) -> Result<Vec<Vec<&[u8]>>, String> {
        let PixelLocation::Encapsulated {
            offsets,
            extended_offsets,
            fragments,
        } = &self.location
        else {
            return Err("native pixel data has no fragments".into());
        };
        let slices: Vec<&[u8]> = fragments.iter().map(|r| &self.bytes[r.clone()]).collect();
        let frames = self.number_of_frames as usize;
        if slices.is_empty() {
            return Err("encapsulated pixel data has no fragments".into());
        }
        if frames <= 1 {
            return Ok(vec![slices]);
        }
        if slices.len() == frames {
            return Ok(slices.into_iter().map(|s| vec![s]).collect());
        }
        let table = extended_offsets
            .as_ref()
            .filter(|t| !t.is_empty())
            .or((!offsets.is_empty()).then_some(offsets));
        if let Some(table) = table {
            // Offsets count from the first byte of the first fragment's item header; each
            // fragment's item header is 8 bytes.
            let mut starts = Vec::with_capacity(slices.len());
            let mut position = 0u64;
            for s in &slices {
                starts.push(position);
                position += 8 + s.len() as u64;
            }
            let mut out: Vec<Vec<&[u8]>> = Vec::with_capacity(table.len());
            for (i, &offset) in table.iter().enumerate() {
                let end = table.get(i + 1).copied().unwrap_or(u64::MAX);
                if end < offset {
                    return Err(format!("offset table entry {i} is out of order"));
                }
                let frame: Vec<&[u8]> = starts
                    .iter()
                    .zip(&slices)
                    .filter(|(start, _)| **start >= offset && **start < end)
                    .map(|(_, s)| *s)
                    .collect();
                if frame.is_empty() {
                    return Err(format!("offset table entry {i} points at no fragment"));
                }
                out.push(frame);
            }
            return Ok(out);
        }
        let mut out: Vec<Vec<&[u8]>> = Vec::new();
        for s in slices {
            let starts = s.starts_with(&[0xFF, 0xD8]) || s.starts_with(&[0xFF, 0x4F]);
            match out.last_mut() {
                Some(frame) if !starts => frame.push(s),
                _ => out.push(vec![s]),
            }
        }
        Ok(out)
    }
}

/// Locates the pixel data of a DICOM image and reads the attributes needed to decode it.
/// `Err` says why there is nothing to decode (not DICOM, no image, a corrupt header).
pub fn pixel_data(bytes: &[u8]) -> Result<PixelData<'_>, String> {
    let layout: Layout = detect(bytes).ok_or("not DICOM")?;
    let super::DataSet {
        data: set_data,
        walked,
        encoding,
        transfer_syntax,
        ..
    } = super::read_data_set(bytes, layout)?;
    let Some((at, declared)) = walked.pixel_data else {
        return Err(match walked.overrun {
            Some(overrun) => format!("no pixel data before the data set broke off: {overrun}"),
            None => "the data set has no Pixel Data (7FE0,0010)".into(),
        });
    };
    let data = &set_data[..];
    let values = Values {
        bytes: data,
        encoding,
        elements: &walked.elements,
        latin1: false,
    };
    let us = |tag: walk::Tag| -> Result<Option<u16>, String> {
        match values.top(tag) {
            None => Ok(None),
            Some(e) => {
                let raw = values.raw(e);
                if raw.is_empty() {
                    return Ok(None);
                }
                values.u16(raw).map(Some).ok_or_else(|| {
                    format!("({:04X},{:04X}) is not an unsigned short", tag.0, tag.1)
                })
            }
        }
    };
    let required = |tag: walk::Tag, name: &str| -> Result<u16, String> {
        us(tag)?.ok_or_else(|| format!("{name} ({:04X},{:04X}) is missing", tag.0, tag.1))
    };
    let rows = required((0x0028, 0x0010), "Rows")?;
    let columns = required((0x0028, 0x0011), "Columns")?;
    let bits_allocated = required((0x0028, 0x0100), "Bits Allocated")?;
    let samples_per_pixel = us((0x0028, 0x0002))?.unwrap_or(1);
    let bits_stored = us((0x0028, 0x0101))?.unwrap_or(bits_allocated);
    let pixel_representation = us((0x0028, 0x0103))?.unwrap_or(0);
    let planar_configuration = us((0x0028, 0x0006))?.unwrap_or(0);
    let photometric_interpretation = values.text((0x0028, 0x0004)).unwrap_or_default();
    let number_of_frames = match values.text((0x0028, 0x0008)) {
        None => 1,
        Some(text) => {
            let first = text.split('\\').next().unwrap_or("").trim();
            first
                .parse::<u32>()
                .map_err(|_| format!("Number of Frames (0028,0008) '{first}' is not an integer"))?
        }
    };
    let header_length = if encoding.explicit_vr { 12 } else { 8 };
    let value_at = at + header_length;
    let location = match declared {
        Some(length) => {
            let end = value_at.saturating_add(length as usize).min(data.len());
            PixelLocation::Native(value_at.min(end)..end)
        }
        None => encapsulated(data, value_at, &values)?,
    };
    let big_endian = encoding.big_endian;
    let value_representation = if encoding.explicit_vr {
        data.get(at + 4..at + 6)
            .and_then(|v| v.try_into().ok())
            .unwrap_or(*b"  ")
    } else {
        *b"  "
    };

    Ok(PixelData {
        transfer_syntax,
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored,
        pixel_representation,
        planar_configuration,
        photometric_interpretation,
        number_of_frames,
        big_endian,
        value_representation,
        location,
        bytes: set_data,
    })
}

fn le_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        data.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The items of encapsulated pixel data (always little endian, PS3.5 A.4): the first is the
/// Basic Offset Table, the others are fragments, up to the Sequence Delimitation Item.
fn encapsulated(data: &[u8], mut at: usize, values: &Values<'_>) -> Result<PixelLocation, String> {
    let mut items: Vec<Range<usize>> = Vec::new();
    loop {
        let group = data
            .get(at..at.saturating_add(4))
            .ok_or_else(|| format!("encapsulated pixel data is cut off at byte {at}"))?;
        let length = le_u32(data, at.saturating_add(4))
            .ok_or_else(|| format!("encapsulated pixel data is cut off at byte {at}"))?;
        match group {
            [0xFE, 0xFF, 0xDD, 0xE0] => break,
            [0xFE, 0xFF, 0x00, 0xE0] => {
                let start = at.saturating_add(8);
                let end = start
                    .checked_add(length as usize)
                    .filter(|&end| end <= data.len())
                    .ok_or_else(|| {
                        format!("fragment at byte {at} declares {length} bytes past the end")
                    })?;
                items.push(start..end);
                at = end;
            }
            _ => {
                return Err(format!(
                    "unexpected item at byte {at} in encapsulated pixel data"
                ));
            }
        }
    }
    let Some(table) = items.first().cloned() else {
        return Err("encapsulated pixel data has no Basic Offset Table item".into());
    };
    let offsets: Vec<u64> = data[table]
        .chunks_exact(4)
        .map(|c| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
        .collect();
    let extended_offsets = values.top((0x7FE0, 0x0001)).map(|e| {
        values
            .raw(e)
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect()
    });
    Ok(PixelLocation::Encapsulated {
        offsets,
        extended_offsets,
        fragments: items[1..].to_vec(),
    })
}
