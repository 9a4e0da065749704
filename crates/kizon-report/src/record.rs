//! A short record as PDF, through the same Typst world as the report: a title, paragraphs, a
//! table of facts and tables by section. The hospital's de-identification record (仮名加工記録)
//! is one; the caller writes the text, in both languages where it wants both.

use serde::Serialize;

use crate::ReportError;

const TEMPLATE: &str = include_str!("record.typ");

/// The document.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub title: String,
    pub intro: Vec<String>,
    pub facts: Vec<Fact>,
    pub sections: Vec<Section>,
    /// The running foot of every page.
    pub footer: String,
    /// The PDF's stable identifier (the same record gives the same bytes).
    pub ident: String,
}

/// One row of the facts table; `mono` for hashes and keys.
#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
    pub mono: bool,
}

/// A titled table.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub title: String,
    pub note: Option<String>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Renders the record as PDF (A4, Noto Sans JP embedded); refuses a character the embedded
/// fonts cannot draw, naming where it is.
pub fn render_record_pdf(record: &Record) -> Result<Vec<u8>, ReportError> {
    if let Some((i, section)) = record
        .sections
        .iter()
        .enumerate()
        .find(|(_, s)| s.rows.iter().any(|r| r.len() != s.header.len()))
    {
        return Err(ReportError::Inconsistent {
            field: format!("sections[{i}]"),
            message: format!("`{}`: a row's cells do not match the header", section.title),
        });
    }
    crate::pdf::check_glyphs(record)?;
    let (document, _warnings) = crate::pdf::compile_template(TEMPLATE, record)?;
    crate::pdf::export(&document, &record.ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            title: "仮名加工記録 / De-identification record".into(),
            intro: vec!["対応表は医療機関内に保管されます。".into()],
            facts: vec![Fact {
                label: "署名鍵 / Signing key".into(),
                value: "ab".repeat(32),
                mono: true,
            }],
            sections: vec![Section {
                title: "属性ごとの処理".into(),
                note: None,
                header: vec!["処理".into(), "属性".into(), "件数".into()],
                rows: vec![vec!["削除".into(), "Patient's Name".into(), "3".into()]],
            }],
            footer: "kizon".into(),
            ident: "record-test".into(),
        }
    }

    #[test]
    fn the_record_template_compiles_without_warnings_and_renders_the_same_bytes_twice() {
        let (_, warnings) = crate::pdf::compile_template(TEMPLATE, &record()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let pdf = render_record_pdf(&record()).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(pdf, render_record_pdf(&record()).unwrap());
    }

    #[test]
    fn a_row_that_does_not_fit_its_header_is_refused() {
        let mut bad = record();
        bad.sections[0].rows[0].pop();
        assert!(matches!(
            render_record_pdf(&bad),
            Err(ReportError::Inconsistent { .. })
        ));
    }
}
