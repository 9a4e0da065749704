//! `kizon results`: the device's results, imported against the locked dataset.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::{CsvEncoding, JsonFlag};
use crate::commands::{Context, Done, print_json};

#[derive(Subcommand, Debug)]
pub enum ResultsCommand {
    /// Import the device's results (case_id and label and/or score, optional marks)
    #[command(
        after_help = "Example:\n  kizon results import device-output.csv --device-version 1.0.0 --device-file cade-1.0.0.tar.gz\n\nRefused before the dataset and reference locks. Results are immutable: a re-import that\ndiffers is a finding, not a change."
    )]
    Import(ResultsImportArgs),
    /// List imported results
    List(JsonFlag),
}

#[derive(Args, Debug)]
pub struct ResultsImportArgs {
    pub file: PathBuf,
    /// The device version that produced the results
    #[arg(long)]
    pub device_version: String,
    /// The device's own output or build, whose SHA-256 is recorded
    #[arg(long, value_name = "PATH")]
    pub device_file: Option<PathBuf>,
    #[command(flatten)]
    pub csv: CsvEncoding,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, command: ResultsCommand) -> Done {
    let mut study = ctx.open()?;
    let actor = ctx.actor();
    match command {
        ResultsCommand::Import(args) => {
            study.set_csv_encoding(args.csv.encoding);
            let summary = study.import_results(
                actor,
                &args.file,
                &args.device_version,
                args.device_file.as_deref(),
            )?;
            if args.json {
                return print_json(&summary);
            }
            println!(
                "device results imported / 機器の結果を取り込みました: version {}, {} rows, {} new, {} already recorded{}",
                summary.device_version,
                summary.rows,
                summary.new,
                summary.unchanged,
                summary
                    .ledger_seq
                    .map(|s| format!(" (ledger entry {s})"))
                    .unwrap_or_default()
            );
            if !summary.outside_dataset.is_empty() {
                println!(
                    "  {} rows not imported: their cases are not in the locked dataset / 固定データセット外の症例のため取り込みません: {}",
                    summary.outside_dataset.len(),
                    summary.outside_dataset.join(" ")
                );
            }
            if !summary.missing.is_empty() {
                println!(
                    "  {} of the locked dataset's cases have no result of version {} / 機器の結果がない症例: {}{}",
                    summary.missing.len(),
                    summary.device_version,
                    summary
                        .missing
                        .iter()
                        .take(20)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" "),
                    if summary.missing.len() > 20 {
                        " …"
                    } else {
                        ""
                    }
                );
            }
            if let Some(planned) = &summary.protocol_version {
                println!(
                    "  version {} differs from the protocol's {planned}: raised as a finding to decide / 計画書の版と異なるため疑義として記録しました (kizon findings --open)",
                    summary.device_version
                );
            }
            if summary.changed > 0 {
                println!(
                    "  {} results differ from those imported before: not changed, raised as findings / 変更された結果を疑義として記録しました (kizon findings --open)",
                    summary.changed
                );
            }
            Ok(())
        }
        ResultsCommand::List(flag) => {
            let results = study.results()?;
            if flag.json {
                return print_json(&results);
            }
            for r in &results {
                println!(
                    "{:<10} {:<10} {:<13} {}",
                    r.case_id,
                    r.device_version,
                    r.label.map_or("-", |l| l.as_str()),
                    r.score.map(|s| s.to_string()).unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}
