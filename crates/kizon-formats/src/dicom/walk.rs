//! A bounds-checked walk over the element structure of a DICOM data set.
//!
//! kizon reads DICOM headers with this walk rather than a general parser: it reads tags and
//! lengths, checks every length against the bytes present, the tag order (PS3.5 7.1), the VR
//! and where undefined lengths may appear, and records where each value lies without copying
//! it. A corrupted length (a flipped byte) then costs nothing and is reported with its offset;
//! general parsers allocate at the declared length and can spend seconds and gigabytes on it.

use std::ops::Range;

/// How the data set is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    pub explicit_vr: bool,
    pub big_endian: bool,
}

pub const EXPLICIT_LITTLE: Encoding = Encoding {
    explicit_vr: true,
    big_endian: false,
};
pub const IMPLICIT_LITTLE: Encoding = Encoding {
    explicit_vr: false,
    big_endian: false,
};
pub const EXPLICIT_BIG: Encoding = Encoding {
    explicit_vr: true,
    big_endian: true,
};

pub type Tag = (u16, u16);

/// One element: where its value lies, and where it sits in the tree of sequences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub tag: Tag,
    /// The VR as written; two spaces in implicit VR; `SQ` for any sequence found.
    pub vr: [u8; 2],
    /// The value's bytes in the walked buffer (empty for sequences).
    pub value: Range<usize>,
    /// 0 at the top level, 1 inside an item of a top-level sequence, …
    pub depth: u8,
    /// The top-level sequence this element is nested in, and the item's index there.
    pub within: Option<(Tag, u32)>,
    /// The sequence element directly around this one (its index in [`Walk::elements`]) and the
    /// item's index in it; `None` at the top level. Following it up gives the path of nested
    /// items, e.g. a channel definition inside a multiplex group of a waveform.
    pub parent: Option<(usize, u32)>,
    /// For a sequence, how many items it holds (an empty item has no element of its own to show
    /// it); 0 for any other element.
    pub items: u32,
}

/// What the walk found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Walk {
    /// Every element up to where the walk stopped, sequences included.
    pub elements: Vec<Element>,
    /// Where the walk stopped: the end of the bytes (or of the meta group), or the start of the
    /// first unsound top-level element.
    pub sound_until: usize,
    /// Why the walk stopped early.
    pub overrun: Option<String>,
    /// Offset of the Pixel Data element's header, and its declared length (`None`: encapsulated).
    pub pixel_data: Option<(usize, Option<u32>)>,
    /// The offset just past the Pixel Data element (its value, or its Sequence Delimitation).
    pub pixel_data_end: usize,
}

const PIXEL_DATA: Tag = (0x7FE0, 0x0010);
const ITEM: Tag = (0xFFFE, 0xE000);
const ITEM_END: Tag = (0xFFFE, 0xE00D);
const SEQUENCE_END: Tag = (0xFFFE, 0xE0DD);
const UNDEFINED: u32 = u32::MAX;

/// Nesting deeper than this is not a real data set.
const MAX_DEPTH: u8 = 16;

/// The value representations of PS3.5 Table 6.2-1.
const VRS: &[&[u8; 2]] = &[
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT", b"OB",
    b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"SV", b"TM",
    b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV",
];

/// Whether `vr` has the explicit-VR header with a 32-bit length (PS3.5 Table 7.1-1).
pub fn long_form(vr: [u8; 2]) -> bool {
    matches!(
        &vr,
        b"OB"
            | b"OD"
            | b"OF"
            | b"OL"
            | b"OV"
            | b"OW"
            | b"SQ"
            | b"SV"
            | b"UC"
            | b"UN"
            | b"UR"
            | b"UT"
            | b"UV"
    )
}

struct Header {
    tag: Tag,
    vr: [u8; 2],
    length: u32,
    value_at: usize,
}

struct Walker<'a> {
    bytes: &'a [u8],
    encoding: Encoding,
    elements: Vec<Element>,
    pixel_data: Option<(usize, Option<u32>)>,
    pixel_data_end: usize,
}

impl Walker<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.encoding.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.encoding.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The element header at `at`; item and delimiter tags never carry a VR.
    fn header(&self, at: usize) -> Result<Header, String> {
        let cut = || format!("element header at byte {at} is cut off by the end of the data");
        let tag = (
            self.u16(at).ok_or_else(cut)?,
            self.u16(at + 2).ok_or_else(cut)?,
        );
        if tag.0 == 0xFFFE || !self.encoding.explicit_vr {
            return Ok(Header {
                tag,
                vr: *b"  ",
                length: self.u32(at + 4).ok_or_else(cut)?,
                value_at: at + 8,
            });
        }
        let vr: [u8; 2] = self
            .bytes
            .get(at + 4..at + 6)
            .ok_or_else(cut)?
            .try_into()
            .expect("2 bytes");
        if !VRS.contains(&&vr) {
            return Err(format!(
                "element ({:04X},{:04X}) at byte {at} has no valid VR",
                tag.0, tag.1
            ));
        }
        let long = long_form(vr);
        Ok(if long {
            Header {
                tag,
                vr,
                length: self.u32(at + 8).ok_or_else(cut)?,
                value_at: at + 12,
            }
        } else {
            Header {
                tag,
                vr,
                length: u32::from(self.u16(at + 6).ok_or_else(cut)?),
                value_at: at + 8,
            }
        })
    }

    /// The end of a defined-length value, checked against the bytes present.
    fn value_end(&self, header: &Header) -> Result<usize, String> {
        let end = header.value_at as u64 + u64::from(header.length);
        if end > self.bytes.len() as u64 {
            return Err(format!(
                "element ({:04X},{:04X}) at byte {} declares {} bytes, {} more than the data holds",
                header.tag.0,
                header.tag.1,
                header.value_at,
                header.length,
                end - self.bytes.len() as u64
            ));
        }
        Ok(end as usize)
    }

    fn is_sequence(&self, header: &Header) -> bool {
        match &header.vr {
            b"SQ" => true,
            // UN with undefined length and implicit-VR elements whose value is an item hold a
            // sequence (PS3.5 6.2.2, 7.5.1).
            b"UN" => header.length == UNDEFINED,
            b"  " => {
                header.length == UNDEFINED
                    || (header.length >= 8
                        && self.u16(header.value_at) == Some(ITEM.0)
                        && self.u16(header.value_at + 2) == Some(ITEM.1))
            }
            _ => false,
        }
    }

    /// Walks the elements from `at` to `end` (or to an Item Delimitation when `end` is `None`).
    fn data_set(
        &mut self,
        mut at: usize,
        end: Option<usize>,
        depth: u8,
        within: Option<(Tag, u32)>,
        parent: Option<(usize, u32)>,
    ) -> Result<usize, String> {
        let mut previous: Option<Tag> = None;
        loop {
            match end {
                Some(end) if at == end => return Ok(at),
                Some(end) if at > end => {
                    return Err(format!(
                        "an item overruns its declared length at byte {end}"
                    ));
                }
                None if at >= self.bytes.len() => {
                    return Err("an item has no Item Delimitation before the end".into());
                }
                _ => {}
            }
            let header = self.header(at)?;
            if end.is_none() && header.tag == ITEM_END {
                return Ok(header.value_at);
            }
            at = self.element(at, &header, depth, within, parent, &mut previous)?;
        }
    }

    /// Records the element whose header is at `at` and returns the offset just past it.
    fn element(
        &mut self,
        at: usize,
        header: &Header,
        depth: u8,
        within: Option<(Tag, u32)>,
        parent: Option<(usize, u32)>,
        previous: &mut Option<Tag>,
    ) -> Result<usize, String> {
        // PS3.5 7.1: a data set's elements come in ascending tag order; a flipped tag byte breaks it.
        if previous.is_some_and(|p| header.tag <= p) {
            return Err(format!(
                "element ({:04X},{:04X}) at byte {at} is out of tag order",
                header.tag.0, header.tag.1
            ));
        }
        *previous = Some(header.tag);
        if header.tag.0 == 0xFFFE {
            return Err(format!(
                "item tag ({:04X},{:04X}) at byte {at} outside a sequence",
                header.tag.0, header.tag.1
            ));
        }
        if header.tag == PIXEL_DATA && depth == 0 {
            let length = (header.length != UNDEFINED).then_some(header.length);
            // Recorded before its end is checked: a truncated Pixel Data is still located, so
            // the decoder can say it is truncated.
            self.pixel_data = Some((at, length));
            let end = match length {
                Some(_) => self.value_end(header)?,
                None => self.fragments(header.value_at)?,
            };
            self.pixel_data_end = end;
            return Ok(end);
        }
        if self.is_sequence(header) {
            let index = self.elements.len();
            self.elements.push(Element {
                tag: header.tag,
                vr: *b"SQ",
                value: header.value_at..header.value_at,
                depth,
                within,
                parent,
                items: 0,
            });
            // A sequence under VR UN is encoded in implicit VR little endian (PS3.5 6.2.2).
            let outer = self.encoding;
            if header.vr == *b"UN" {
                self.encoding = IMPLICIT_LITTLE;
            }
            let end = self.sequence(header, depth + 1, within, index);
            self.encoding = outer;
            return end;
        }
        if header.length == UNDEFINED {
            return Err(format!(
                "element ({:04X},{:04X}) at byte {} has an undefined length, which its VR {} cannot have",
                header.tag.0,
                header.tag.1,
                header.value_at,
                String::from_utf8_lossy(&header.vr)
            ));
        }
        let end = self.value_end(header)?;
        self.elements.push(Element {
            tag: header.tag,
            vr: header.vr,
            value: header.value_at..end,
            depth,
            within,
            parent,
            items: 0,
        });
        Ok(end)
    }

    /// The items of a sequence (the element at `index` of `elements`), each walked as a data set.
    fn sequence(
        &mut self,
        header: &Header,
        depth: u8,
        within: Option<(Tag, u32)>,
        index: usize,
    ) -> Result<usize, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "sequences nested deeper than {MAX_DEPTH} at byte {}",
                header.value_at
            ));
        }
        let end = if header.length == UNDEFINED {
            None
        } else {
            Some(self.value_end(header)?)
        };
        let mut at = header.value_at;
        let mut item_index = 0u32;
        loop {
            self.elements[index].items = item_index;
            if end == Some(at) {
                return Ok(at);
            }
            let item = self.header(at)?;
            let within = if depth == 1 {
                Some((header.tag, item_index))
            } else {
                within
            };
            let parent = Some((index, item_index));
            match item.tag {
                SEQUENCE_END if end.is_none() => return Ok(item.value_at),
                ITEM if item.length == UNDEFINED => {
                    at = self.data_set(item.value_at, None, depth, within, parent)?
                }
                ITEM => {
                    let item_end = self.value_end(&item)?;
                    at = self.data_set(item.value_at, Some(item_end), depth, within, parent)?;
                }
                other => {
                    return Err(format!(
                        "({:04X},{:04X}) at byte {at} where a sequence item was expected",
                        other.0, other.1
                    ));
                }
            }
            item_index += 1;
            if end.is_some_and(|end| at > end) {
                return Err(format!(
                    "sequence ({:04X},{:04X}) overruns its declared length",
                    header.tag.0, header.tag.1
                ));
            }
        }
    }

    /// Skips the fragments of encapsulated pixel data up to the Sequence Delimitation.
    fn fragments(&self, mut at: usize) -> Result<usize, String> {
        loop {
            let item = self.header(at)?;
            match item.tag {
                SEQUENCE_END => return Ok(item.value_at),
                ITEM if item.length != UNDEFINED => at = self.value_end(&item)?,
                other => {
                    return Err(format!(
                        "({:04X},{:04X}) at byte {at} inside encapsulated pixel data",
                        other.0, other.1
                    ));
                }
            }
        }
    }
}

/// Walks the data set in `bytes` from `start`; with `meta_only`, only the file meta group
/// (group 0002, always explicit VR little endian) and stops where it ends.
pub fn walk(bytes: &[u8], start: usize, encoding: Encoding, meta_only: bool) -> Walk {
    let mut walker = Walker {
        bytes,
        encoding,
        elements: Vec::new(),
        pixel_data: None,
        pixel_data_end: 0,
    };
    let mut at = start;
    let mut previous: Option<Tag> = None;
    let mut overrun = None;
    while at < bytes.len() {
        if meta_only && walker.u16(at) != Some(0x0002) {
            break; // the data set that follows may use another encoding
        }
        let kept = walker.elements.len();
        let step = walker
            .header(at)
            .and_then(|header| walker.element(at, &header, 0, None, None, &mut previous));
        match step {
            Ok(next) => at = next,
            Err(message) => {
                walker.elements.truncate(kept);
                overrun = Some(message);
                break;
            }
        }
    }
    Walk {
        elements: walker.elements,
        sound_until: at,
        overrun,
        pixel_data: walker.pixel_data,
        pixel_data_end: walker.pixel_data_end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explicit(tag: Tag, vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&tag.0.to_le_bytes());
        out.extend_from_slice(&tag.1.to_le_bytes());
        out.extend_from_slice(vr);
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        out.extend_from_slice(value);
        out
    }

    #[test]
    fn elements_and_their_values_are_located() {
        let mut bytes = explicit((0x0008, 0x0060), b"CS", b"CT");
        bytes.extend(explicit((0x0010, 0x0010), b"PN", b"Doe^J "));
        let walk = walk(&bytes, 0, EXPLICIT_LITTLE, false);
        assert_eq!(walk.overrun, None);
        assert_eq!(walk.elements.len(), 2);
        assert_eq!(&bytes[walk.elements[1].value.clone()], b"Doe^J ");
    }

    #[test]
    fn out_of_order_tags_stop_the_walk_before_them() {
        let mut bytes = explicit((0x0010, 0x0010), b"PN", b"Doe^J ");
        let second = bytes.len();
        bytes.extend(explicit((0x0008, 0x0060), b"CS", b"CT"));
        let walk = walk(&bytes, 0, EXPLICIT_LITTLE, false);
        assert_eq!(walk.sound_until, second);
        assert!(walk.overrun.unwrap().contains("out of tag order"));
    }

    #[test]
    fn a_length_past_the_end_is_reported_with_its_offset() {
        let mut bytes = explicit((0x0008, 0x0060), b"CS", b"CT");
        bytes.extend_from_slice(&[0x10, 0x00, 0x10, 0x00, b'P', b'N', 0xFF, 0x7F, b'x']);
        let walk = walk(&bytes, 0, EXPLICIT_LITTLE, false);
        assert_eq!(walk.sound_until, 10);
        assert!(
            walk.overrun
                .unwrap()
                .contains("at byte 18 declares 32767 bytes")
        );
    }

    #[test]
    fn nested_sequence_items_know_their_parent() {
        // (0040,0275) SQ, undefined length, one item of undefined length with (0040,0009) SH.
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&[
            0x40, 0x00, 0x75, 0x02, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        bytes.extend(explicit((0x0040, 0x0009), b"SH", b"SPS1"));
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        let walk = walk(&bytes, 0, EXPLICIT_LITTLE, false);
        assert_eq!(walk.overrun, None);
        let nested = &walk.elements[1];
        assert_eq!(
            (nested.tag, nested.depth, nested.within, nested.parent),
            (
                (0x0040, 0x0009),
                1,
                Some(((0x0040, 0x0275), 0)),
                Some((0, 0))
            )
        );
        assert_eq!(walk.elements[0].parent, None);
    }
}
