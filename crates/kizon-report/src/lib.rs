//! Renders the 性能評価試験報告書 (performance evaluation test report) as PDF and HTML, in
//! Japanese or English, from a plain data model ([`Report`]). That is its one job: it computes
//! no statistics, reads no study, and does no I/O at all — no files, no clock, no environment.
//! The Japanese font (Noto Sans JP, SIL OFL 1.1, subset to JIS X 0208/0213 plane 1 and the
//! CP932 extensions; see `fonts/`) is embedded in the binary, so the PDF renders the same on a
//! machine with no Japanese font installed.
//!
//! # Pipeline
//! ```text
//! Report ──validate──▶ Report (counts add up, labels fit the reference)
//!        ──doc::build(lang)──▶ Doc (localised, numbers formatted once)
//!            ├──pdf: Doc as JSON ──▶ fixed Typst template (template.typ) ──▶ typst-pdf
//!            └──html: Doc ──▶ self-contained HTML (inline CSS and SVG)
//! ```
//! The study's text reaches Typst only as JSON string values read by `json(..)` in a fixed
//! template, never as markup, so no study text can be interpreted as Typst code and there is
//! no escaping layer to get wrong. The HTML renderer escapes every string it writes.
//!
//! Output is deterministic: the same model and language give byte-identical PDF and HTML (the
//! PDF's date and identifier come from the model).
//!
//! # Contents of the report
//! Title page (study, device, test type 2(1)/2(2), Q&A version, hashes and ledger head), table of
//! contents, then: summary with the endpoint results at a glance; methods from the protocol
//! (objective, test type, existing data and providers, eligibility, reference standard or
//! comparator, blinding, statistics with every CI method and its citation); the participant
//! flow diagram of STARD 2015 (Bossuyt PM, Reitsma JB, Bruns DE, et al. STARD 2015: an updated
//! list of essential items for reporting diagnostic accuracy studies. BMJ 2015;351:h5527),
//! drawn from the study's own counts; baseline characteristics; endpoint results with 2×2
//! tables, CIs and 適合/不適合; ROC curves; subgroups; sensitivity analyses; the data doubts and
//! how each was resolved (Q1, Q2, Q7); amendments (計画の変更); the regulatory plan (Q10, Q11);
//! and an appendix mapping each number to its analysis, case list hash and ledger entry.
//!
//! Against a comparator method the results are agreement (陽性一致率/陰性一致率/全体一致率,
//! PPA/NPA/OPA), never sensitivity: the model says which metric, the renderer labels it, and
//! [`render_pdf`]/[`render_html`] refuse a sensitivity, specificity, PPV, NPV or AUC reported
//! against a comparator.
//!
//! # Example
//! ```no_run
//! let report: kizon_report::Report = serde_json::from_str("…").unwrap();
//! let pdf = kizon_report::render_pdf(&report, kizon_report::Lang::Ja).unwrap();
//! let html = kizon_report::render_html(&report, kizon_report::Lang::En).unwrap();
//! ```

#![forbid(unsafe_code)]

mod doc;
mod format;
mod html;
mod labels;
mod method_svg;
pub mod model;
mod pdf;
pub mod record;
mod svg;
mod validate;

pub use format::{format_interval, format_value};
pub use model::*;
/// The embedded Noto Sans JP subsets (SIL OFL 1.1), also served to browsers by the web workspace.
pub use pdf::{NOTO_BOLD, NOTO_REGULAR};
pub use record::{Fact, Record, Section, render_record_pdf};

/// The language of a rendered report.
pub use kizon_vocab::Lang;

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The model contradicts itself (counts that do not add up, a label that does not fit the
    /// reference); `field` is a path into the model such as `flow.eligible`.
    #[error("{field}: {message}")]
    Inconsistent { field: String, message: String },
    /// Characters the embedded fonts cannot draw; rendering them would print blank boxes.
    #[error("{}", missing_glyphs_message(.0))]
    MissingGlyphs(Vec<MissingGlyph>),
    /// Typst refused the generated document: a bug in this crate, not in the model.
    #[error("typesetting failed (a bug in kizon-report): {0}")]
    Typeset(String),
    #[error("PDF export failed (a bug in kizon-report): {0}")]
    Export(String),
}

/// A character of the study's text that no embedded font covers, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingGlyph {
    pub ch: char,
    /// Path into the model, e.g. `findings[2].reason.ja`.
    pub field: String,
}

fn missing_glyphs_message(missing: &[MissingGlyph]) -> String {
    let shown: Vec<String> = missing
        .iter()
        .take(5)
        .map(|m| format!("{:?} (U+{:04X}) in {}", m.ch, m.ch as u32, m.field))
        .collect();
    let more = if missing.len() > 5 {
        format!(" and {} more", missing.len() - 5)
    } else {
        String::new()
    };
    format!(
        "the embedded fonts cannot draw {}{more}; use a JIS X 0208/0213 equivalent character",
        shown.join(", ")
    )
}

/// Renders the report as PDF (A4, fonts embedded and subset).
pub fn render_pdf(report: &Report, lang: Lang) -> Result<Vec<u8>, ReportError> {
    validate::validate(report)?;
    pdf::check_glyphs(report)?;
    let doc = doc::build(report, lang);
    pdf::render(&doc)
}

/// Renders the report as one self-contained HTML page (inline CSS and SVG, no scripts, no
/// external resources). Every string from the model is escaped.
pub fn render_html(report: &Report, lang: Lang) -> Result<String, ReportError> {
    validate::validate(report)?;
    let doc = doc::build(report, lang);
    Ok(html::render(&doc))
}
