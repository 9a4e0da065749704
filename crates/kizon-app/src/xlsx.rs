//! A one-sheet Excel workbook (Office Open XML, ECMA-376 SpreadsheetML) written directly: the
//! 症例一覧表 and the other exports as `.xlsx`, which Excel, LibreOffice and Numbers open on a
//! Japanese PC without an import dialog or an encoding question.
//!
//! Only what a table needs: inline strings (no shared-string table), a bold header row frozen
//! at the top, column widths from the content. Cells are text, never formulas, so a case id
//! or a reason that begins with `=` stays text (no CSV-style injection to guard against). The
//! zip container is written here too (deflate, fixed timestamps), so the same rows give the
//! same bytes.

use std::io::Write;

/// The workbook's bytes: one sheet named `sheet`, `headers` in bold on the first row (frozen),
/// then `rows`.
pub fn workbook(sheet: &str, headers: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut zip = Zip::default();
    zip.add("[Content_Types].xml", CONTENT_TYPES.as_bytes());
    zip.add("_rels/.rels", ROOT_RELS.as_bytes());
    zip.add("xl/workbook.xml", workbook_xml(sheet).as_bytes());
    zip.add("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes());
    zip.add("xl/styles.xml", STYLES.as_bytes());
    zip.add(
        "xl/worksheets/sheet1.xml",
        sheet_xml(headers, rows).as_bytes(),
    );
    zip.finish()
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;

/// Two cell formats: 0 plain, 1 bold (the header row).
const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"#;

fn workbook_xml(sheet: &str) -> String {
    // Excel refuses sheet names over 31 characters or with []:*?/\ in them.
    let name: String = sheet
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{}" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        escape(&name)
    )
}

fn sheet_xml(headers: &[&str], rows: &[Vec<String>]) -> String {
    let columns = headers
        .len()
        .max(rows.iter().map(Vec::len).max().unwrap_or(0));
    // Widths in characters: CJK characters count twice, capped so a long reason wraps.
    let mut widths = vec![8usize; columns];
    let width = |text: &str| -> usize {
        text.chars()
            .map(|c| if c.is_ascii() { 1 } else { 2 })
            .sum::<usize>()
    };
    for (i, h) in headers.iter().enumerate() {
        widths[i] = widths[i].max(width(h) + 2);
    }
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max((width(cell) + 2).min(60));
        }
    }
    let mut xml = String::with_capacity(64 * (rows.len() + 1) * columns.max(1));
    xml.push_str(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><cols>"#);
    for (i, w) in widths.iter().enumerate() {
        xml.push_str(&format!(
            r#"<col min="{n}" max="{n}" width="{w}" customWidth="1"/>"#,
            n = i + 1
        ));
    }
    xml.push_str("</cols><sheetData>");
    let mut row_xml = |r: usize, cells: &mut dyn Iterator<Item = &str>, style: u8| {
        xml.push_str(&format!(r#"<row r="{r}">"#));
        for (c, text) in cells.enumerate() {
            if text.is_empty() {
                continue;
            }
            xml.push_str(&format!(
                r#"<c r="{}{r}" t="inlineStr"{}><is><t xml:space="preserve">{}</t></is></c>"#,
                column_name(c),
                if style == 1 { r#" s="1""# } else { "" },
                escape(text)
            ));
        }
        xml.push_str("</row>");
    };
    row_xml(1, &mut headers.iter().copied(), 1);
    for (i, row) in rows.iter().enumerate() {
        row_xml(i + 2, &mut row.iter().map(String::as_str), 0);
    }
    xml.push_str("</sheetData></worksheet>");
    xml
}

/// `A`, `B`, …, `Z`, `AA`, … for the 0-based column `index`.
fn column_name(mut index: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).expect("ASCII letters")
}

/// XML text: markup characters escaped, characters XML 1.0 forbids dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A zip archive (PKWARE APPNOTE 6.3.x) of deflated entries with UTF-8 names and the DOS
/// epoch as their time, so that equal content gives equal bytes.
#[derive(Default)]
struct Zip {
    bytes: Vec<u8>,
    central: Vec<u8>,
    entries: u16,
}

/// 1980-01-01 00:00 in MS-DOS date and time.
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;
/// General-purpose flag bit 11: the name is UTF-8.
const UTF8_NAMES: u16 = 1 << 11;

impl Zip {
    fn add(&mut self, name: &str, content: &[u8]) {
        let mut deflater =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        deflater.write_all(content).expect("writing to memory");
        let compressed = deflater.finish().expect("writing to memory");
        let crc = crc32fast::hash(content);
        let offset = self.bytes.len() as u32;
        let header = |out: &mut Vec<u8>, central: bool| {
            out.extend(if central { 0x0201_4b50u32 } else { 0x0403_4b50 }.to_le_bytes());
            if central {
                out.extend(20u16.to_le_bytes()); // made by
            }
            out.extend(20u16.to_le_bytes()); // needed to extract (deflate)
            out.extend(UTF8_NAMES.to_le_bytes());
            out.extend(8u16.to_le_bytes()); // deflate
            out.extend(DOS_TIME.to_le_bytes());
            out.extend(DOS_DATE.to_le_bytes());
            out.extend(crc.to_le_bytes());
            out.extend((compressed.len() as u32).to_le_bytes());
            out.extend((content.len() as u32).to_le_bytes());
            out.extend((name.len() as u16).to_le_bytes());
            out.extend(0u16.to_le_bytes()); // extra field
            if central {
                out.extend(0u16.to_le_bytes()); // comment
                out.extend(0u16.to_le_bytes()); // disk
                out.extend(0u16.to_le_bytes()); // internal attributes
                out.extend(0u32.to_le_bytes()); // external attributes
                out.extend(offset.to_le_bytes());
            }
            out.extend(name.as_bytes());
        };
        header(&mut self.bytes, false);
        self.bytes.extend(&compressed);
        header(&mut self.central, true);
        self.entries += 1;
    }

    fn finish(mut self) -> Vec<u8> {
        let central_offset = self.bytes.len() as u32;
        let central_size = self.central.len() as u32;
        self.bytes.append(&mut self.central);
        self.bytes.extend(0x0605_4b50u32.to_le_bytes());
        self.bytes.extend(0u16.to_le_bytes()); // this disk
        self.bytes.extend(0u16.to_le_bytes()); // disk with the central directory
        self.bytes.extend(self.entries.to_le_bytes());
        self.bytes.extend(self.entries.to_le_bytes());
        self.bytes.extend(central_size.to_le_bytes());
        self.bytes.extend(central_offset.to_le_bytes());
        self.bytes.extend(0u16.to_le_bytes()); // comment
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_run_past_z() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(27), "AB");
        assert_eq!(column_name(701), "ZZ");
        assert_eq!(column_name(702), "AAA");
    }

    #[test]
    fn same_rows_same_bytes_and_text_is_escaped() {
        let rows = vec![vec!["=1+1".to_owned(), "a<b & \"c\"\u{1}".to_owned()]];
        let a = workbook("症例一覧表", &["症例ID", "理由"], &rows);
        assert_eq!(a, workbook("症例一覧表", &["症例ID", "理由"], &rows));
        assert!(a.starts_with(b"PK\x03\x04"));
        let xml = sheet_xml(&["症例ID", "理由"], &rows);
        assert!(xml.contains("<t xml:space=\"preserve\">=1+1</t>"));
        assert!(xml.contains("a&lt;b &amp; &quot;c&quot;</t>"));
    }
}
