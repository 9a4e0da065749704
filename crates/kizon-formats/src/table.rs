//! CSV tables of specimen or analyser results: recognised by a header line and a consistent
//! number of comma-separated fields in the first lines.

use crate::{Inspection, ItemKind, Metadata};

pub fn inspect(bytes: &[u8]) -> Option<Inspection> {
    let text = text_of(bytes)?;
    let text = text.as_ref();
    if text.contains('\0') {
        return None;
    }
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = split(lines.next()?);
    if header.len() < 2 || header.iter().any(|h| h.is_empty()) {
        return None;
    }
    let mut rows = 0u64;
    let mut inconsistent = None;
    for (index, line) in lines.enumerate() {
        rows += 1;
        if inconsistent.is_none() && split(line).len() != header.len() {
            inconsistent = Some(index + 2);
        }
        if index < 20 && inconsistent.is_some() {
            return None; // not a table after all
        }
    }
    Some(Inspection {
        kind: Some(ItemKind::Table),
        metadata: Metadata {
            table_columns: header,
            table_rows: Some(rows),
            ..Metadata::default()
        },
        problem: inconsistent
            .map(|line| format!("line {line}: the number of fields differs from the header's")),
        patient_id: None,
    })
}

/// The text of a table file: UTF-8 (its byte-order mark dropped), UTF-16 by its byte-order mark,
/// or CP932 (Shift_JIS), which Japanese hospital and laboratory systems export; `None` for bytes
/// that are none of these (not a table).
fn text_of(bytes: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    if let [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] = bytes {
        let (text, _, malformed) = encoding_rs::UTF_16LE.decode(bytes);
        return (!malformed).then(|| std::borrow::Cow::Owned(text.into_owned()));
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(body) {
        Ok(text) => Some(std::borrow::Cow::Borrowed(text)),
        Err(_) => encoding_rs::SHIFT_JIS
            .decode_without_bom_handling_and_without_replacement(body)
            .map(|t| std::borrow::Cow::Owned(t.into_owned())),
    }
}

/// Fields of one CSV line (RFC 4180 quoting).
pub fn split(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field).trim().to_owned()),
            _ => field.push(c),
        }
    }
    fields.push(field.trim().to_owned());
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_quotes_is_a_table() {
        let table =
            inspect(b"specimen,analyte,value\nS1,\"CRP, high-sensitivity\",0.3\nS2,CRP,1.2\n")
                .unwrap();
        assert_eq!(
            table.metadata.table_columns,
            vec!["specimen", "analyte", "value"]
        );
        assert_eq!(table.metadata.table_rows, Some(2));
        assert!(table.problem.is_none());
    }

    #[test]
    fn prose_is_not_a_table() {
        assert!(
            inspect(b"Dear colleague,\nthank you for the images, which arrived today.\nBest\n")
                .is_none()
        );
        assert!(inspect(b"\x00\x01binary,stuff\n").is_none());
    }
}
