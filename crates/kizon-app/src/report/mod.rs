//! `kizon report`: the 性能評価試験報告書, filled from the study and rendered by kizon-report.
//!
//! Every number comes from the stored analysis (never recomputed here), every hash from the
//! locks and the ledger; the report date is given by the caller. The rendered file's SHA-256
//! is recorded in the ledger, so a report handed to PMDA can be matched to the study.

use kizon_report::model::Report;
use serde::Serialize;
use serde_json::json;

use crate::analyze::Analysis;
use crate::{AppError, Study, sha256_hex};

mod deviations;
mod method_comparison;
mod methods;
mod records;
mod sections;
mod words;

/// What every section of the report is built from: the study, its protocol and plan, the
/// locked dataset and reference standard, the ledger, and the analysis the report shows.
pub(super) struct Inputs<'s> {
    pub study: &'s Study,
    pub protocol: kizon_protocol::Protocol,
    pub plan: kizon_rules::Plan,
    pub reference: crate::reference::ReferenceStandardDoc,
    pub reference_sha: Option<String>,
    pub ledger: Vec<kizon_store::LedgerEntry>,
    pub analysis: Analysis,
    pub analysis_sha256: String,
    /// The ledger entry that recorded the analysis: the report is bound to it.
    pub analyze_seq: i64,
    pub head: (i64, String),
    /// The first `results import` (the unblinding), if any.
    pub first_result_seq: Option<i64>,
    pub dataset: crate::dataset::Dataset,
    pub report_date: &'s str,
}

pub(crate) use methods::planned_cases_warning;

pub use kizon_report::{Lang, NOTO_BOLD, NOTO_REGULAR};

/// The report's output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pdf,
    Html,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Html => "html",
        }
    }
}

/// A rendered report as a file of the evidence package.
#[derive(Debug, Clone)]
pub struct ReportFile {
    pub name: String,
    pub bytes: Vec<u8>,
    pub title_ja: String,
    pub title_en: String,
}

/// A rendered report.
#[derive(Debug, Clone, Serialize)]
pub struct Rendered {
    #[serde(skip)]
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub lang: &'static str,
    pub format: Format,
    pub analysis_sha256: String,
}

impl Study {
    /// Renders the report of the latest analysis.
    /// Renders the report of the latest analysis dated today (UTC): the date of a report made
    /// on request, as the web workspace makes them.
    pub fn report_today(
        &mut self,
        actor: &str,
        lang: Lang,
        format: Format,
    ) -> Result<Rendered, AppError> {
        let today = crate::dates::today().to_string();
        self.report(actor, lang, format, &today)
    }

    pub fn report(
        &mut self,
        actor: &str,
        lang: Lang,
        format: Format,
        report_date: &str,
    ) -> Result<Rendered, AppError> {
        let (report, analysis_sha256) = self.report_model(report_date)?;
        // A report is a submission document drawn from the study's rows: never from a study
        // that fails `audit verify` (checked after the model, whose reading names a stored
        // value that does not parse more precisely).
        self.refuse_unless_intact("kizon report")?;
        self.render(actor, &report, &analysis_sha256, lang, format)
    }

    /// Renders a report model and records the rendering's hash in the ledger.
    fn render(
        &mut self,
        actor: &str,
        report: &Report,
        analysis_sha256: &str,
        lang: Lang,
        format: Format,
    ) -> Result<Rendered, AppError> {
        let refused = |e: kizon_report::ReportError| AppError::Refused {
            what: format!("the report cannot be rendered: {e}"),
            hint: "check the study's texts for characters outside JIS X 0208/0213, or report a bug"
                .into(),
        };
        let bytes = match format {
            Format::Pdf => kizon_report::render_pdf(report, lang).map_err(refused)?,
            Format::Html => kizon_report::render_html(report, lang)
                .map_err(refused)?
                .into_bytes(),
        };
        let sha256 = sha256_hex(&bytes);
        let lang_name = match lang {
            Lang::Ja => "ja",
            Lang::En => "en",
        };
        let report_date = &report.study.report_date;
        self.store.transact(actor, |tx| {
            tx.record(
                "report",
                &format!("report rendered ({lang_name}, {}): sha256 {}", format.extension(), &sha256[..12]),
                json!({ "sha256": sha256, "lang": lang_name, "format": format.extension(), "analysis_sha256": analysis_sha256, "report_date": report_date }),
            )
        })?;
        Ok(Rendered {
            bytes,
            sha256,
            lang: lang_name,
            format,
            analysis_sha256: analysis_sha256.to_owned(),
        })
    }

    /// Every rendering (Japanese and English, PDF and HTML) of one report model, for the
    /// evidence package; empty before the first analysis.
    pub fn report_files(
        &mut self,
        actor: &str,
        report_date: &str,
    ) -> Result<Vec<ReportFile>, AppError> {
        if self.store.analyses()?.is_empty() {
            return Ok(Vec::new());
        }
        let (report, analysis_sha256) = self.report_model(report_date)?;
        self.refuse_unless_intact("kizon package")?;
        let mut out = Vec::new();
        for (lang, ja) in [(Lang::Ja, "日本語"), (Lang::En, "英語")] {
            for format in [Format::Pdf, Format::Html] {
                let rendered = self.render(actor, &report, &analysis_sha256, lang, format)?;
                out.push(ReportFile {
                    name: format!("report-{}.{}", rendered.lang, format.extension()),
                    bytes: rendered.bytes,
                    title_ja: format!("性能評価試験報告書（{ja}、{}）", format.extension()),
                    title_en: format!(
                        "performance evaluation test report ({}, {})",
                        rendered.lang,
                        format.extension()
                    ),
                });
            }
        }
        Ok(out)
    }

    /// The report model of the latest analysis, and that analysis's output hash.
    /// The report model of the latest analysis, and that analysis's output hash: one builder
    /// per section (`sections`, `methods`, `records`), each from the same [`Inputs`].
    pub fn report_model(&self, report_date: &str) -> Result<(Report, String), AppError> {
        let Some((analysis, analysis_sha256)) = self.latest_analysis()? else {
            return Err(AppError::Refused {
                what: "no analysis yet: the report shows an analysis".into(),
                hint: "run `kizon analyze` first".into(),
            });
        };
        let (protocol, _) = self.protocol()?;
        // The protocol consultation was asked under the Q&A of the protocol's date; what the
        // application attaches (Q10: the case list, whose waiver for 2(2) came with the
        // 2025-03-17 revision) follows the Q&A in force when the report goes with the
        // application, on the report's date.
        let mut plan = self.plan(crate::plan::PlanOptions::default())?.plan;
        {
            let day = crate::dates::parse_iso(report_date).ok_or_else(|| AppError::Refused {
                what: format!("`{report_date}` is not a report date"),
                hint: "give the date as YYYY-MM-DD".into(),
            })?;
            let application = self
                .plan(crate::plan::PlanOptions {
                    as_of: Some(day),
                    ..Default::default()
                })?
                .plan;
            plan.case_list_required = application.case_list_required;
            plan.required_attachments = application.required_attachments;
            plan.application_category = application.application_category;
            plan.rules_version = application.rules_version;
        }
        let (reference, reference_sha) = self.reference_standard()?;
        let ledger = self.audit_log()?;
        // The report is bound to the ledger entry that recorded its analysis (not to the head
        // at rendering time, which each rendering moves), so rendering again gives the same bytes.
        let analyze_entry = ledger
            .iter()
            .rev()
            .find(|e| e.command == "analyze" && e.detail.contains(&analysis_sha256));
        let analyze_seq = analyze_entry.map_or(0, |e| e.seq);
        let head = analyze_entry
            .map(|e| (e.seq, e.hash.clone()))
            .unwrap_or_default();
        let first_result_seq = ledger
            .iter()
            .find(|e| e.command == "results import")
            .map(|e| e.seq);
        let dataset = self.locked_dataset("the report")?;
        let i = Inputs {
            study: self,
            protocol,
            plan,
            reference,
            reference_sha,
            ledger,
            analysis,
            analysis_sha256,
            analyze_seq,
            head,
            first_result_seq,
            dataset,
            report_date,
        };
        let methods = methods::methods(&i)?;
        let (endpoints, traceability) = sections::endpoints(&i)?;
        let amendments = records::amendments(&i)?;
        let deviations = self.deviation_rows(
            &i.protocol,
            &i.analysis,
            &methods,
            &amendments,
            i.analyze_seq,
        )?;
        let (findings, rule_decisions) = records::findings(&i)?;
        let report = Report {
            study: sections::study_info(&i)?,
            summary: sections::summary(&i)?,
            methods,
            flow: sections::flow(&i)?,
            baseline: sections::baseline(&i)?,
            endpoints,
            roc: sections::roc(&i)?,
            lesions: sections::lesions(&i)?,
            reader_study: sections::reader_study(&i)?,
            method_comparisons: method_comparison::method_comparisons(
                &i.analysis.method_comparisons,
            ),
            subgroups: sections::subgroups(&i)?,
            sensitivity_analyses: sections::sensitivity(&i)?,
            findings,
            rule_decisions,
            amendments,
            deviations,
            regulatory_plan: records::regulatory_plan(&i)?,
            traceability,
            case_list: records::case_list(&i)?,
        };
        Ok((report, i.analysis_sha256))
    }
}

/// The analysis whose numbers a report shows (re-exported for the shells).
pub type ReportAnalysis = Analysis;
