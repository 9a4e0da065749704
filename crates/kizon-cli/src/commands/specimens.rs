//! `kizon specimens`: residual specimens (残余検体), each its own case.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::{CsvEncoding, JsonFlag};
use crate::commands::{Context, Done, print_json};

#[derive(Subcommand, Debug)]
pub enum SpecimensCommand {
    /// Import a laboratory's specimen records: one row per specimen, each its own case / 検体の取込み
    #[command(after_help = IMPORT_HELP)]
    Import(SpecimensImportArgs),
    /// List the specimens recorded / 検体の一覧
    List(JsonFlag),
}

const IMPORT_HELP: &str = "\
Columns (header names; UTF-8, UTF-16 or CP932/Shift_JIS, detected or --encoding):
  specimen_id              required: the laboratory's specimen id (検体番号)
  specimen_type            required: serum | plasma | whole-blood | urine | csf | ffpe-tissue |
                           frozen-tissue | swab | saliva | stool | other (or 血清, 血漿, 全血, 尿 …)
  case_id                  the case (default: the specimen id); one specimen per case
  barcode                  the tube's barcode
  patient_key              the provider's pseudonym of the patient
  collected_at             collection date and time (YYYY-MM-DD hh:mm, YYYY/MM/DD, 和暦)
  collection_date          the day the case was collected for the test (症例の収集日): a specimen
                           collected by then is existing data even after the study began (Q2)
  storage_temperature      °C (-80, 4) or room | refrigerated | frozen | deep-frozen (室温, 冷蔵, 冷凍)
  freeze_thaw_cycles       0, 1, 2 …
  haemolysis_index, icterus_index, lipaemia_index    the analyser's serum indices (HIL)
  residual_volume_ul       residual volume in µL
  comparator_analysed_at, comparator_value, comparator_unit, comparator_result
  device_analysed_at, device_value, device_unit, device_result
                           per method: when it ran, its value (6.52, or <0.5 / >1000 for a result
                           below or above what was measured), the unit, and a judgement
                           (positive / negative / indeterminate, 陽性 / 陰性)

Anything malformed is an error naming the line and column, and nothing is stored. The same
record again adds nothing; another record for a specimen already imported is refused.
`kizon check` then raises the specimen doubts (Q2, Q7) against the protocol's [specimens].

Example:
  kizon specimens import hba1c-2026-03.csv --provider \"Hospital A laboratory\"
  kizon specimens import 検体一覧.csv --provider \"Biobank B\" --encoding cp932";

#[derive(Args, Debug)]
pub struct SpecimensImportArgs {
    /// The CSV file, one row per specimen
    pub file: PathBuf,
    /// The provider the specimens come from (kizon provider list)
    #[arg(long)]
    pub provider: String,
    #[command(flatten)]
    pub csv: CsvEncoding,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, command: SpecimensCommand) -> Done {
    let mut study = ctx.open()?;
    match command {
        SpecimensCommand::Import(args) => {
            study.set_csv_encoding(args.csv.encoding);
            let summary = study.import_specimens(ctx.actor(), &args.file, &args.provider)?;
            if args.json {
                return print_json(&summary);
            }
            println!(
                "specimens imported / 検体を取り込みました: {} rows from `{}`, {} new specimens (each its own case), {} already recorded{}",
                summary.rows,
                summary.provider,
                summary.added,
                summary.unchanged,
                summary
                    .ledger_seq
                    .map(|s| format!(" (ledger entry {s})"))
                    .unwrap_or_default()
            );
            println!("  next / 次: kizon check");
            Ok(())
        }
        SpecimensCommand::List(flag) => {
            let specimens = study.specimens()?;
            if flag.json {
                return print_json(&specimens);
            }
            for s in &specimens {
                let r = &s.record;
                let result = |m: &kizon_app::specimens::MethodResult| {
                    let mut text = m.value.clone().unwrap_or_else(|| "-".into());
                    if let Some(unit) = &m.unit {
                        text.push(' ');
                        text.push_str(unit);
                    }
                    if let Some(label) = m.judgement {
                        text.push_str(&format!(" ({label})"));
                    }
                    text
                };
                println!(
                    "{:<12} {:<12} {:<12} {:<19} comparator {:<18} device {}",
                    s.case_id,
                    r.specimen_id,
                    r.specimen_type,
                    r.collected_at.as_deref().unwrap_or("-"),
                    result(&r.comparator),
                    result(&r.device)
                );
            }
            Ok(())
        }
    }
}
