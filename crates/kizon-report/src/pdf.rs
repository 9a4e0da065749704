//! PDF through Typst as a library: a minimal in-memory [`World`] with two files (the fixed
//! template and the document as JSON), the embedded fonts, no packages, no clock.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use crate::doc::Doc;
use crate::{MissingGlyph, ReportError};

/// Noto Sans JP 2.004 (SIL OFL 1.1), subset by `fonts/make_subset.py`.
pub static NOTO_REGULAR: &[u8] = include_bytes!("../fonts/NotoSansJP-Regular-subset.ttf");
pub static NOTO_BOLD: &[u8] = include_bytes!("../fonts/NotoSansJP-Bold-subset.ttf");

const TEMPLATE: &str = include_str!("template.typ");

/// Noto Sans JP for all text, DejaVu Sans Mono (from typst-assets) for hashes.
static FONTS: LazyLock<Vec<Font>> = LazyLock::new(|| {
    let mut fonts: Vec<Font> = [NOTO_REGULAR, NOTO_BOLD]
        .into_iter()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    fonts.extend(
        typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .filter(|font| font.info().family == "DejaVu Sans Mono"),
    );
    fonts
});

static BOOK: LazyLock<LazyHash<FontBook>> =
    LazyLock::new(|| LazyHash::new(FontBook::from_fonts(FONTS.iter())));

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

fn file_id(path: &str) -> FileId {
    RootedPath::new(
        VirtualRoot::Project,
        VirtualPath::new(path).expect("a valid virtual path"),
    )
    .intern()
}

struct ReportWorld {
    main: Source,
    data_id: FileId,
    data: Bytes,
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &BOOK
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::NotSource)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else if id == self.main.id() {
            Ok(Bytes::from_string(self.main.clone()))
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.get(index).cloned()
    }

    /// No clock: the template never asks for today's date.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn diagnostics(diags: &[SourceDiagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Compiles the document; also returns Typst's warnings (the tests require none).
pub(crate) fn compile(doc: &Doc) -> Result<(PagedDocument, Vec<String>), ReportError> {
    compile_template(TEMPLATE, doc)
}

/// Compiles `template` with `data` as `/data.json`; also returns Typst's warnings.
pub(crate) fn compile_template(
    template: &str,
    data: &impl serde::Serialize,
) -> Result<(PagedDocument, Vec<String>), ReportError> {
    let data = serde_json::to_vec(data).map_err(|e| ReportError::Typeset(e.to_string()))?;
    let world = ReportWorld {
        main: Source::new(file_id("/main.typ"), template.to_owned()),
        data_id: file_id("/data.json"),
        data: Bytes::new(data),
    };
    let warned = typst::compile::<PagedDocument>(&world);
    let warnings = warned
        .warnings
        .iter()
        .map(|w| w.message.to_string())
        .collect();
    let document = warned
        .output
        .map_err(|errors| ReportError::Typeset(diagnostics(&errors)))?;
    Ok((document, warnings))
}

pub(crate) fn render(doc: &Doc) -> Result<Vec<u8>, ReportError> {
    let (document, _warnings) = compile(doc)?;
    export(&document, &doc.ident)
}

/// Exports a compiled document as PDF with a fixed identifier and no timestamp (the same
/// input gives the same bytes).
pub(crate) fn export(document: &PagedDocument, ident: &str) -> Result<Vec<u8>, ReportError> {
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(ident.to_owned()),
        creator: Smart::Custom(Some(format!(
            "kizon-report {} (Typst 0.15)",
            env!("CARGO_PKG_VERSION")
        ))),
        timestamp: None,
        ..Default::default()
    };
    typst_pdf::pdf(document, &options)
        .map(quiet_for_poppler)
        .map_err(|errors| ReportError::Export(diagnostics(&errors)))
}

/// Characters that only decide layout and need no glyph.
fn needs_no_glyph(c: char) -> bool {
    c.is_control()
        || matches!(c as u32,
            0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2064 | 0xFE00..=0xFE0F
            | 0xFEFF | 0xE0100..=0xE01EF)
}

/// Every string of the model, with its path, must be drawable by an embedded font: a character
/// outside the subset would otherwise print as a blank box.
pub(crate) fn check_glyphs(report: &impl serde::Serialize) -> Result<(), ReportError> {
    let value = serde_json::to_value(report).map_err(|e| ReportError::Typeset(e.to_string()))?;
    let mut missing = Vec::new();
    walk(&value, &mut String::new(), &mut missing);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ReportError::MissingGlyphs(missing))
    }
}

fn covered(c: char) -> bool {
    FONTS.iter().any(|f| f.info().coverage.contains(c as u32))
}

fn walk(v: &serde_json::Value, path: &mut String, out: &mut Vec<MissingGlyph>) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            for ch in s.chars() {
                if !needs_no_glyph(ch)
                    && !covered(ch)
                    && !out.iter().any(|m| m.ch == ch && m.field == *path)
                {
                    out.push(MissingGlyph {
                        ch,
                        field: path.clone(),
                    });
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, out);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(item, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Blanks `/Suspects false` in the catalogue's `/MarkInfo`. The key is valid PDF (ISO 32000-1,
/// 14.7.1) and `false` its default, but poppler (`pdfinfo`, `pdftoppm`, `pdftotext`) prints
/// "Syntax Error: Suspects object is wrong type (boolean)" for every file that has it, which
/// reviewers read as a broken PDF. The same number of spaces replaces it, so every byte offset
/// in the cross-reference table stays right.
fn quiet_for_poppler(mut pdf: Vec<u8>) -> Vec<u8> {
    const KEY: &[u8] = b"/Suspects false";
    if let Some(at) = pdf.windows(KEY.len()).position(|w| w == KEY) {
        pdf[at..at + KEY.len()].fill(b' ');
    }
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;
    use crate::model::Report;

    fn sample() -> Report {
        serde_json::from_str(include_str!("../tests/fixtures/sample_report.json")).unwrap()
    }

    #[test]
    fn the_template_compiles_without_warnings() {
        for lang in [Lang::Ja, Lang::En] {
            let doc = crate::doc::build(&sample(), lang);
            let (document, warnings) = compile(&doc).unwrap();
            assert!(warnings.is_empty(), "{lang}: {warnings:?}");
            assert!(
                document.pages().len() >= 5,
                "{lang}: {} pages",
                document.pages().len()
            );
        }
    }

    #[test]
    fn the_subset_covers_jis_x_0208_examples_and_common_extensions() {
        // Level 1 and 2 kanji, kana, full-width forms, 2010 常用漢字 outside JIS X 0208 (剝),
        // CP932 extensions (髙, ①, ㈱).
        for c in "亜腫瘍鬱憂ぁゔヴァヶＡ０（）－～・「」剝髙﨑①㈱㎝μ±×÷≦≧→".chars()
        {
            assert!(covered(c), "{c} (U+{:04X})", c as u32);
        }
    }

    #[test]
    fn a_character_outside_the_fonts_is_reported_with_its_field() {
        let mut r = sample();
        r.findings[0].reason.ja.push('𪚲'); // JIS X 0213 plane 2, not in the subset
        match check_glyphs(&r) {
            Err(ReportError::MissingGlyphs(m)) => {
                assert_eq!(m.len(), 1);
                assert_eq!(m[0].ch, '𪚲');
                assert_eq!(m[0].field, "findings[0].reason.ja");
            }
            other => panic!("{other:?}"),
        }
    }
}
