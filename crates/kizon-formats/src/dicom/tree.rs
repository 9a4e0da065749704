//! A DICOM file as a tree of elements, for a caller that rewrites it (kizon-deid).
//!
//! The tree is built from the same bounds-checked [`walk`](super::walk) that ingest uses, so a
//! file kizon can rewrite is exactly a file it can read: nothing is parsed twice in two ways.
//! Values are not copied: each leaf holds the range of its value in [`ParsedFile::data`] (or,
//! for the file meta group, in [`ParsedFile::file`]). Pixel Data at the top level is kept whole,
//! header included, so a rewriter can copy it bit for bit in its original encoding.

use std::borrow::Cow;
use std::ops::Range;

use super::walk::{self, Element, Encoding};
use super::{Layout, detect, read_data_set};

/// One element of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub tag: (u16, u16),
    /// The VR as written; two spaces for an implicit-VR element; `SQ` for a sequence.
    pub vr: [u8; 2],
    pub body: Body,
}

/// What an element holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A value: its bytes in the buffer the node belongs to.
    Value(Range<usize>),
    /// A sequence: its items, each a data set.
    Sequence(Vec<Vec<Node>>),
    /// The top-level Pixel Data element, header included, native or encapsulated.
    PixelData(Range<usize>),
}

/// A DICOM file parsed for rewriting.
#[derive(Debug)]
pub struct ParsedFile<'a> {
    pub layout: Layout,
    /// The file as read; the meta group's ranges refer to it.
    pub file: &'a [u8],
    /// The file meta group (empty for a bare data set).
    pub meta: Vec<Node>,
    pub transfer_syntax: String,
    /// How the data set is encoded.
    pub encoding: Encoding,
    /// The data set was deflated in the file (PS3.5 A.5); `data` holds it inflated.
    pub deflated: bool,
    /// The data set's bytes; the data set's ranges refer to them.
    pub data: Cow<'a, [u8]>,
    pub data_set: Vec<Node>,
}

impl ParsedFile<'_> {
    /// The value of the top-level element `tag` (not a sequence or the pixel data).
    pub fn top_value(&self, tag: (u16, u16)) -> Option<&[u8]> {
        value_of(&self.data_set, &self.data, tag)
    }

    /// The value of the file meta group's element `tag`.
    pub fn meta_value(&self, tag: (u16, u16)) -> Option<&[u8]> {
        value_of(&self.meta, self.file, tag)
    }

    /// The top-level element `tag` as text, its padding removed ([`text`]).
    pub fn top_text(&self, tag: (u16, u16)) -> Option<String> {
        self.top_value(tag).map(text)
    }

    /// The top-level element `tag` as an unsigned 16-bit number (US) in the data set's byte order.
    pub fn top_u16(&self, tag: (u16, u16)) -> Option<u16> {
        let b: [u8; 2] = self.top_value(tag)?.get(0..2)?.try_into().ok()?;
        Some(if self.encoding.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }
}

fn value_of<'b>(nodes: &[Node], bytes: &'b [u8], tag: (u16, u16)) -> Option<&'b [u8]> {
    nodes
        .iter()
        .find(|n| n.tag == tag)
        .and_then(|n| match &n.body {
            Body::Value(range) => Some(&bytes[range.clone()]),
            _ => None,
        })
}

/// A text value without its padding: trailing NULs and spaces (PS3.5 6.2) and leading spaces.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches(['\0', ' '])
        .trim_start()
        .to_owned()
}

/// Parses a whole DICOM file into its tree. The error is one line: not DICOM, a meta group or
/// data set that is corrupt or truncated (with the offset), or a data set whose encoding
/// contradicts its transfer syntax.
pub fn parse(bytes: &[u8]) -> Result<ParsedFile<'_>, String> {
    let layout = detect(bytes).ok_or("not a DICOM file")?;
    let data_set = read_data_set(bytes, layout)?;
    if let Some(overrun) = &data_set.walked.overrun {
        return Err(format!("truncated or corrupt: {overrun}"));
    }
    if data_set.mislabelled {
        return Err(
            "the data set is encoded in implicit VR although its transfer syntax says explicit"
                .into(),
        );
    }
    let deflated = super::DEFLATED.contains(&data_set.transfer_syntax.as_str());
    let meta = build(&data_set.meta);
    let mut tree = build(&data_set.walked.elements);
    if let Some((at, _)) = data_set.walked.pixel_data {
        let node = Node {
            tag: (0x7FE0, 0x0010),
            vr: if data_set.encoding.explicit_vr {
                let vr = &data_set.data[at + 4..at + 6];
                [vr[0], vr[1]]
            } else {
                *b"  "
            },
            body: Body::PixelData(at..data_set.walked.pixel_data_end),
        };
        let position = tree.partition_point(|n| n.tag < node.tag);
        tree.insert(position, node);
    }
    Ok(ParsedFile {
        layout,
        file: bytes,
        meta,
        transfer_syntax: data_set.transfer_syntax,
        encoding: data_set.encoding,
        deflated,
        data: data_set.data,
        data_set: tree,
    })
}

/// The tree of the walked `elements`.
fn build(elements: &[Element]) -> Vec<Node> {
    // Children follow their sequence in document order; one pass groups them by parent.
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); elements.len()];
    let mut top = Vec::new();
    for (index, element) in elements.iter().enumerate() {
        match element.parent {
            Some((sequence, _)) => children[sequence].push(index),
            None => top.push(index),
        }
    }
    top.into_iter()
        .map(|index| node(elements, &children, index))
        .collect()
}

fn node(elements: &[Element], children: &[Vec<usize>], index: usize) -> Node {
    let element = &elements[index];
    // The walk writes `SQ` for every sequence it descended into (whatever VR the file gave it).
    let body = if element.vr == *b"SQ" {
        let mut items: Vec<Vec<Node>> = (0..element.items).map(|_| Vec::new()).collect();
        for &child in &children[index] {
            let (_, item) = elements[child].parent.expect("a child has a parent");
            items[item as usize].push(node(elements, children, child));
        }
        Body::Sequence(items)
    } else {
        Body::Value(element.value.clone())
    };
    Node {
        tag: element.tag,
        vr: element.vr,
        body,
    }
}

pub use super::walk::long_form;

/// The encodings a data set may have, for callers that write one.
pub const EXPLICIT_LITTLE: Encoding = walk::EXPLICIT_LITTLE;
pub const IMPLICIT_LITTLE: Encoding = walk::IMPLICIT_LITTLE;
pub const EXPLICIT_BIG: Encoding = walk::EXPLICIT_BIG;
