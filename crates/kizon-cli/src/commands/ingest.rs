//! `kizon ingest`: the inventory of existing data, grouped into cases.

use std::fmt::Write;
use std::path::PathBuf;

use clap::Args;
use kizon_app::ingest::IngestRequest;

use crate::cli::CsvEncoding;
use crate::commands::{Context, Done, print_json};
use crate::progress;

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// The provider the data comes from (registered with `kizon provider add`)
    #[arg(long)]
    pub provider: String,
    /// CSV mapping paths to cases, with dates and diagnoses
    #[arg(long, value_name = "FILE.csv")]
    pub manifest: Option<PathBuf>,
    /// Files and folders to ingest (default: the manifest's paths)
    pub paths: Vec<PathBuf>,
    /// After the dataset lock: add data for a dataset amendment (`kizon amend --dataset`)
    #[arg(long)]
    pub for_amendment: bool,
    #[command(flatten)]
    pub csv: CsvEncoding,
    /// Emit the summary as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: IngestArgs) -> Done {
    let mut study = ctx.open()?;
    study.set_csv_encoding(args.csv.encoding);
    let request = IngestRequest {
        provider: args.provider,
        manifest: args.manifest,
        paths: args.paths,
        for_amendment: args.for_amendment,
    };
    let summary = study.ingest(
        ctx.actor(),
        &request,
        progress::for_terminal("ingest").as_ref(),
    )?;
    if args.json {
        print_json(&summary)?;
    } else {
        print!("{}", render(&summary));
    }
    Ok(())
}

fn render(summary: &kizon_app::ingest::IngestSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ingested / 取込み: {} files, {} added, {} unchanged and skipped, {} new cases, {} with problems",
        summary.files,
        summary.added,
        summary.skipped_unchanged,
        summary.cases_added,
        summary.problems
    );
    for (kind, n) in &summary.by_kind {
        let _ = writeln!(out, "  {kind}: {n}");
    }
    if !summary.skipped.is_empty() {
        let _ = writeln!(
            out,
            "left out / 対象外: {} (symbolic links and hidden files in the folders given)",
            summary.skipped.len()
        );
        for skipped in summary.skipped.iter().take(20) {
            let _ = writeln!(out, "  {}: {}", skipped.path, skipped.reason);
        }
        if summary.skipped.len() > 20 {
            let _ = writeln!(
                out,
                "  … and {} more (kizon ingest --json lists them all)",
                summary.skipped.len() - 20
            );
        }
    }
    out
}
