//! `kizon report`: the 性能評価試験報告書 as PDF or HTML, in Japanese or English.

use kizon_app::Study;
use kizon_app::report::{Format, Lang};

use crate::Failure;
use crate::cli::ReportArgs;

fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

pub fn report(mut study: Study, actor: &str, args: ReportArgs) -> Result<(), Failure> {
    let lang = if args.lang == "ja" {
        Lang::Ja
    } else {
        Lang::En
    };
    let format = if args.format == "html" {
        Format::Html
    } else {
        Format::Pdf
    };
    let date = args.date.map_or_else(today, |d| d.to_string());
    let rendered = study.report(actor, lang, format, &date)?;
    std::fs::write(&args.out, &rendered.bytes).map_err(|e| Failure {
        what: format!("{}: {e}", args.out.display()),
        hint: "check that the folder exists and is writable".into(),
    })?;
    println!(
        "report written / 報告書を作成しました: {} ({}, {}, {} bytes, sha256 {})",
        args.out.display(),
        rendered.lang,
        format.extension(),
        rendered.bytes.len(),
        rendered.sha256
    );
    Ok(())
}

/// Every rendering of the report for the evidence package (empty before the first analysis).
pub fn all_reports(
    study: &mut Study,
    actor: &str,
) -> Result<Vec<kizon_app::report::ReportFile>, Failure> {
    Ok(study.report_files(actor, &today())?)
}
