//! `kizon reads`: the panel's reads and the reads of a reader study, imported and listed.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use kizon_app::ReadRole;

use crate::cli::{CsvEncoding, JsonFlag, reference_role};
use crate::commands::{Context, Done, print_import, print_json};

#[derive(Subcommand, Debug)]
pub enum ReadsCommand {
    /// Import reads: CSV with reader,case_id and label and/or score; optional role, marks, read_at
    #[command(
        after_help = "Example:\n  kizon reads import panel-reads.csv\n  kizon reads import adjudication.csv --role adjudicator\n  kizon reads import reader-study-aided.csv --modality aided    (MRMC reader study, after the reference lock)\n\nlabel: positive | negative | indeterminate (also 1/0, 陽性/陰性/判定不能); every individual read is kept."
    )]
    Import(ReadsImportArgs),
    /// List reads
    List(JsonFlag),
}

#[derive(Args, Debug)]
pub struct ReadsImportArgs {
    pub file: PathBuf,
    /// Role of reads without a `role` column value: panel or adjudicator
    #[arg(long, default_value = "panel", value_parser = reference_role())]
    pub role: ReadRole,
    /// Reads of an MRMC reader study in this modality (e.g. unaided, aided): after the reference lock, a score on every row
    #[arg(long, value_name = "M", conflicts_with = "role")]
    pub modality: Option<String>,
    #[command(flatten)]
    pub csv: CsvEncoding,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, command: ReadsCommand) -> Done {
    let mut study = ctx.open()?;
    let actor = ctx.actor();
    match command {
        ReadsCommand::Import(args) => {
            study.set_csv_encoding(args.csv.encoding);
            let summary = match &args.modality {
                Some(modality) => study.import_reader_study(actor, &args.file, modality)?,
                None => study.import_reads(actor, &args.file, args.role)?,
            };
            print_import(
                &summary,
                "reads imported / 読影結果を取り込みました",
                args.json,
            )
        }
        ReadsCommand::List(flag) => {
            let reads = study.reads()?;
            if flag.json {
                return print_json(&reads);
            }
            for read in &reads {
                println!(
                    "{:<10} {:<6} {:<11} {:<13} {}",
                    read.case_id,
                    read.reader,
                    read.role.to_string(),
                    read.label.map_or("-", |l| l.as_str()),
                    read.score.map(|s| s.to_string()).unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}
