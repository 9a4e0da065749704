//! A bounds-checked walk over the element structure of a DICOM stream, before dicom-rs reads it.
//!
//! dicom-rs allocates each value at its declared length; a corrupted length (a flipped byte)
//! then costs gigabytes and seconds. Walking the tags and lengths first, without reading values,
//! finds the first element that runs past the end of the bytes, so that only the sound prefix is
//! handed to the parser, and tells where the pixel data starts and whether it is complete.

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

impl Encoding {
    /// The encoding of a transfer syntax UID; `None` for deflated data sets, which must be
    /// inflated before their structure can be walked.
    pub fn of_transfer_syntax(uid: &str) -> Option<Encoding> {
        match uid {
            "1.2.840.10008.1.2" => Some(Encoding {
                explicit_vr: false,
                big_endian: false,
            }),
            "1.2.840.10008.1.2.2" => Some(Encoding {
                explicit_vr: true,
                big_endian: true,
            }),
            "1.2.840.10008.1.2.1.99" | "1.2.840.10008.1.2.4.95" => None,
            _ => Some(EXPLICIT_LITTLE),
        }
    }
}

/// What the walk found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Walk {
    /// Where the walk stopped: the end of the bytes, or the start of the first unsound element.
    pub sound_until: usize,
    /// The first element that runs past the end, as a message.
    pub overrun: Option<String>,
    /// Offset of the Pixel Data element's header, and its declared length (`None`: encapsulated).
    pub pixel_data: Option<(usize, Option<u32>)>,
    /// The Transfer Syntax UID, when walking a file meta group.
    pub transfer_syntax: Option<String>,
}

const PIXEL_DATA: (u16, u16) = (0x7FE0, 0x0010);
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
const ITEM_END: (u16, u16) = (0xFFFE, 0xE00D);
const SEQUENCE_END: (u16, u16) = (0xFFFE, 0xE0DD);
const UNDEFINED: u32 = u32::MAX;

/// Nesting deeper than this is not a real data set.
const MAX_DEPTH: usize = 32;

/// The value representations of PS3.5 Table 6.2-1.
const VRS: &[&[u8; 2]] = &[
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT", b"OB",
    b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"SV", b"TM",
    b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV",
];

struct Reader<'a> {
    bytes: &'a [u8],
    encoding: Encoding,
}

struct Header {
    tag: (u16, u16),
    vr: [u8; 2],
    length: u32,
    value_at: usize,
}

impl Reader<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if self.encoding.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if self.encoding.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The element header at `at`; item and delimiter tags never carry a VR.
    fn header(&self, at: usize) -> Option<Header> {
        let tag = (self.u16(at)?, self.u16(at + 2)?);
        if tag.0 == 0xFFFE || !self.encoding.explicit_vr {
            return Some(Header {
                tag,
                vr: *b"  ",
                length: self.u32(at + 4)?,
                value_at: at + 8,
            });
        }
        let vr: [u8; 2] = self.bytes.get(at + 4..at + 6)?.try_into().ok()?;
        if !VRS.contains(&&vr) {
            return None;
        }
        let long = matches!(
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
        );
        if long {
            Some(Header {
                tag,
                vr,
                length: self.u32(at + 8)?,
                value_at: at + 12,
            })
        } else {
            Some(Header {
                tag,
                vr,
                length: u32::from(self.u16(at + 6)?),
                value_at: at + 8,
            })
        }
    }
}

/// Walks a data set from `start` to the end of `bytes` (or, with `meta_only`, to the end of
/// the file meta group).
pub fn walk(bytes: &[u8], start: usize, encoding: Encoding, meta_only: bool) -> Walk {
    let reader = Reader { bytes, encoding };
    let mut result = Walk {
        sound_until: start,
        ..Walk::default()
    };
    let mut at = start;
    let mut previous: Option<(u16, u16)> = None;
    while at < bytes.len() {
        if meta_only && reader.u16(at) != Some(0x0002) {
            break; // the data set that follows may use another encoding
        }
        let Some(header) = reader.header(at) else {
            result.overrun = Some(format!(
                "element header at byte {at} is cut off or has no valid VR"
            ));
            return result;
        };
        // PS3.5 7.1: elements of a data set are in ascending tag order; a flipped tag byte
        // breaks it.
        if previous.is_some_and(|p| header.tag <= p) {
            result.overrun = Some(format!(
                "element ({:04X},{:04X}) at byte {at} is out of tag order",
                header.tag.0, header.tag.1
            ));
            return result;
        }
        previous = Some(header.tag);
        if header.tag == PIXEL_DATA {
            let length = (header.length != UNDEFINED).then_some(header.length);
            result.pixel_data = Some((at, length));
        }
        match skip(&reader, &header, 0) {
            Ok(end) => {
                if meta_only && header.tag == (0x0002, 0x0010) {
                    let value = &bytes[header.value_at..end];
                    result.transfer_syntax = Some(
                        String::from_utf8_lossy(value)
                            .trim_end_matches(['\0', ' '])
                            .to_owned(),
                    );
                }
                at = end;
                result.sound_until = at;
            }
            Err(message) => {
                result.overrun = Some(message);
                return result;
            }
        }
    }
    result
}

/// The offset just past the element whose header is `header`.
fn skip(reader: &Reader<'_>, header: &Header, depth: usize) -> Result<usize, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "sequences nested deeper than {MAX_DEPTH} at byte {}",
            header.value_at
        ));
    }
    if header.length != UNDEFINED {
        let end = header.value_at as u64 + u64::from(header.length);
        if end > reader.bytes.len() as u64 {
            return Err(format!(
                "element ({:04X},{:04X}) at byte {} declares {} bytes, {} more than the file holds",
                header.tag.0,
                header.tag.1,
                header.value_at,
                header.length,
                end - reader.bytes.len() as u64
            ));
        }
        return Ok(end as usize);
    }
    // Undefined length belongs to sequences, UN holding a sequence, and encapsulated pixel
    // data (PS3.5 7.1.2, 7.5, A.4); on any other element it is corruption.
    let allowed = matches!(&header.vr, b"SQ" | b"UN" | b"  ")
        || (header.tag == PIXEL_DATA && matches!(&header.vr, b"OB" | b"OW"));
    if !allowed {
        return Err(format!(
            "element ({:04X},{:04X}) at byte {} has an undefined length, which its VR {} cannot have",
            header.tag.0,
            header.tag.1,
            header.value_at,
            String::from_utf8_lossy(&header.vr)
        ));
    }
    let mut at = header.value_at;
    loop {
        let item = reader.header(at).ok_or_else(|| {
            format!(
                "sequence ({:04X},{:04X}) is cut off at byte {at}",
                header.tag.0, header.tag.1
            )
        })?;
        match item.tag {
            SEQUENCE_END => return Ok(item.value_at),
            ITEM if item.length != UNDEFINED => at = skip(reader, &item, depth + 1)?,
            ITEM => at = skip_dataset(reader, item.value_at, depth + 1)?,
            _ if header.vr == *b"UN" || header.vr == *b"  " => {
                // Implicit-VR undefined-length elements may hold a data set directly.
                let element = reader
                    .header(at)
                    .ok_or_else(|| format!("cut off at byte {at}"))?;
                at = skip(reader, &element, depth + 1)?;
            }
            other => {
                return Err(format!(
                    "unexpected ({:04X},{:04X}) inside a sequence at byte {at}",
                    other.0, other.1
                ));
            }
        }
    }
}

/// Skips the elements of an undefined-length item up to its Item Delimitation.
fn skip_dataset(reader: &Reader<'_>, mut at: usize, depth: usize) -> Result<usize, String> {
    let mut previous: Option<(u16, u16)> = None;
    loop {
        let header = reader
            .header(at)
            .ok_or_else(|| format!("item is cut off or has no valid VR at byte {at}"))?;
        if header.tag == ITEM_END {
            return Ok(header.value_at);
        }
        if previous.is_some_and(|p| header.tag <= p) {
            return Err(format!(
                "element ({:04X},{:04X}) at byte {at} is out of tag order",
                header.tag.0, header.tag.1
            ));
        }
        previous = Some(header.tag);
        at = skip(reader, &header, depth)?;
    }
}
