//! `kizon marks`: lesion marks of the readers (the lesion reference) or of the device.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use kizon_app::ReadRole;

use crate::cli::{CsvEncoding, JsonFlag, reference_role};
use crate::commands::{Context, Done, print_json};

#[derive(Subcommand, Debug)]
pub enum MarksCommand {
    /// Import lesion marks: of a panel reader (the lesion reference) or of a device version
    #[command(
        after_help = "CSV (header line) or JSON (an array of marks, or COCO: images with case_id, annotations with
image_id, bbox [x, y, w, h], category_id, score; categories name the lesion types).
Each mark: case_id, optional image (image or frame), a location — x,y (point), x,y,r (circle),
x0,y0,x1,y1 or bbox (box), polygon [[x, y], ...] — optional lesion_type, size_mm, and a rating
(rating, score or confidence; required for device marks). A `reader` or `role` column overrides the flags.

Examples:
  kizon marks import panel-r1.csv --reader R1
  kizon marks import adjudication.csv --reader A1 --role adjudicator
  kizon marks import detections.json --device-version 1.0.0

Reader marks come before `kizon lock reference` (which clusters them into lesions, [lesions] in
study.toml); device marks after it. Marks are never replaced: a different re-import of a reader's
marks is refused, of a device's marks a blocking finding."
    )]
    Import(MarksImportArgs),
    /// List the imported marks
    List(JsonFlag),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("owner").required(true).args(["reader", "device_version"])))]
pub struct MarksImportArgs {
    pub file: PathBuf,
    /// The panel reader who made the marks (registered with `kizon readers add`)
    #[arg(long, value_name = "CODE")]
    pub reader: Option<String>,
    /// Role of the reader's marks
    #[arg(long, default_value = "panel", value_parser = reference_role())]
    pub role: ReadRole,
    /// The device version that made the marks
    #[arg(long, value_name = "V")]
    pub device_version: Option<String>,
    #[command(flatten)]
    pub csv: CsvEncoding,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, command: MarksCommand) -> Done {
    let mut study = ctx.open()?;
    let actor = ctx.actor();
    use kizon_app::lesions::MarksBy;
    match command {
        MarksCommand::Import(args) => {
            study.set_csv_encoding(args.csv.encoding);
            let by = match args.device_version {
                Some(version) => MarksBy::Device { version },
                None => MarksBy::Reader {
                    code: args.reader,
                    role: args.role,
                },
            };
            let summary = study.import_marks(actor, &args.file, &by)?;
            if args.json {
                return print_json(&summary);
            }
            println!(
                "lesion marks imported / 病変マークを取り込みました: {} marks in {} sets ({}), {} new, {} already recorded{}",
                summary.marks,
                summary.sets,
                summary
                    .device_version
                    .as_deref()
                    .map(|v| format!("device {v}"))
                    .unwrap_or_else(|| "readers".into()),
                summary.new,
                summary.unchanged,
                summary
                    .ledger_seq
                    .map(|s| format!(" (ledger entry {s})"))
                    .unwrap_or_default()
            );
            if !summary.outside_dataset.is_empty() {
                println!(
                    "  not imported: cases outside the locked dataset / 固定データセット外の症例: {}",
                    summary.outside_dataset.join(" ")
                );
            }
            if summary.changed > 0 {
                println!(
                    "  {} cases' marks differ from those imported before: not changed, raised as findings / 変更されたマークを疑義として記録しました (kizon findings --open)",
                    summary.changed
                );
            }
            Ok(())
        }
        MarksCommand::List(flag) => {
            let marks = study.marks()?;
            if flag.json {
                return print_json(&marks);
            }
            for m in &marks {
                println!(
                    "{:<10} {:<8} {:<16} {} {}",
                    m.case_id,
                    m.image,
                    m.reader
                        .as_deref()
                        .map(|r| {
                            format!(
                                "{r}/{}",
                                m.role
                                    .as_ref()
                                    .map(|role| role.to_string())
                                    .unwrap_or_default()
                            )
                        })
                        .or_else(|| m.device_version.as_deref().map(|v| format!("device {v}")))
                        .unwrap_or_default(),
                    m.shape,
                    m.rating.map(|r| r.to_string()).unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}
