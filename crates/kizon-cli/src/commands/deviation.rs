//! `kizon deviation`: protocol deviations (計画からの逸脱), as the report lists them.

use clap::Subcommand;

use crate::cli::JsonFlag;
use crate::commands::{Context, Done, print_json};

#[derive(Subcommand, Debug)]
pub enum DeviationCommand {
    /// Record a departure from the protocol (a case read outside the reading conditions, …)
    #[command(after_help = "Examples:
  kizon deviation add --description \"読影者 R2 が C-014 を時間外に読影\" --description-en \"reader R2 read C-014 outside the session\" --case C-014

The report lists every deviation recorded, with those kizon finds itself (another device\nversion, cases without results, fewer cases than the sample-size rationale needs).")]
    Add {
        /// What departed from the protocol (as written; in Japanese when --description-en follows)
        #[arg(long)]
        description: String,
        /// The description in English, for the English report
        #[arg(long, value_name = "TEXT")]
        description_en: Option<String>,
        /// A case it concerns (repeatable; none: the study as a whole)
        #[arg(long = "case", value_name = "CASE_ID")]
        cases: Vec<String>,
        /// Emit JSON
        #[arg(long)]
        json: bool,
    },
    /// List the deviations recorded
    List(JsonFlag),
}

pub fn run(ctx: &Context, command: DeviationCommand) -> Done {
    match command {
        DeviationCommand::Add {
            description,
            description_en,
            cases,
            json,
        } => {
            let deviation = ctx.open()?.add_deviation(
                ctx.actor(),
                kizon_app::text::Reason::new(&description, description_en.as_deref()),
                &cases,
            )?;
            if json {
                print_json(&deviation)?;
            } else {
                println!(
                    "deviation recorded / 計画からの逸脱を記録しました: #{} (ledger entry {})",
                    deviation.id, deviation.ledger_seq
                );
            }
        }
        DeviationCommand::List(args) => {
            let deviations = ctx.open()?.deviations()?;
            if args.json {
                print_json(&deviations)?;
            } else if deviations.is_empty() {
                println!("no deviation recorded / 記録された逸脱はありません");
            } else {
                for d in &deviations {
                    println!(
                        "#{}\t{}\t{}\tledger entry {}",
                        d.id,
                        d.description,
                        d.case_ids.join(" "),
                        d.ledger_seq
                    );
                }
            }
        }
    }
    Ok(())
}
