//! `kizon report`: the 性能評価試験報告書 as PDF or HTML, in Japanese or English.

use std::path::PathBuf;

use clap::Args;
use kizon_app::Study;
use kizon_app::report::{Format, Lang};

use crate::cli::parse_date;
use crate::commands::{Context, Done, Failure};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Language of the report
    #[arg(long, value_parser = ["ja", "en"])]
    pub lang: String,
    /// pdf or html
    #[arg(long, default_value = "pdf", value_parser = ["pdf", "html"])]
    pub format: String,
    /// Where to write it
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The report's date, YYYY-MM-DD (default: today, UTC)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub date: Option<time::Date>,
}

fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

pub fn run(ctx: &Context, args: ReportArgs) -> Done {
    let mut study = ctx.open()?;
    let actor = ctx.actor();
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
    // The file is made (under a temporary name beside it) before the report is recorded in the
    // ledger: a folder that does not exist or is not writable fails with nothing recorded.
    let unwritable = |e: std::io::Error| Failure {
        what: format!("{}: {e}", args.out.display()),
        hint: "check that the folder exists and is writable".into(),
    };
    let tmp = args.out.with_file_name(format!(
        ".{}.kizon-tmp-{}",
        args.out
            .file_name()
            .map_or("report".into(), |n| n.to_string_lossy()),
        std::process::id()
    ));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(unwritable)?;
    let rendered = match study.report(actor, lang, format, &date) {
        Ok(rendered) => rendered,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
    };
    use std::io::Write;
    let written = file
        .write_all(&rendered.bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, &args.out));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(unwritable(e));
    }
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
