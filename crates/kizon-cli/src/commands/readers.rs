//! `kizon readers`: the expert panel's readers, their qualifications and assignments.

use clap::{Args, Subcommand};
use kizon_app::reference::NewReader;

use crate::cli::JsonFlag;
use crate::commands::{Context, Done, print_json};

#[derive(Subcommand, Debug)]
pub enum ReadersCommand {
    /// Register a reader: a code (no name), qualification, specialty, years, independence
    #[command(
        after_help = "Examples:\n  kizon readers add R1 --qualification 放射線診断専門医 --qualification-en \"board-certified radiologist\" --specialty chest --years 15 --independent\n  kizon readers add R4 --qualification radiologist --specialty chest --years 8 --declaration \"consultant to the applicant in 2024\""
    )]
    Add(ReaderAddArgs),
    /// List readers
    List(JsonFlag),
    /// Assign cases to a reader for blinded reading in the web workspace / 読影症例の割付け
    #[command(
        after_help = "Examples:\n  kizon readers assign R1 --dataset\n  kizon readers assign R2 --case C-001 --case C-002\n  kizon readers assign R1 --sessions unaided,aided\n  kizon readers assign T1 --dataset --sessions panel"
    )]
    Assign(AssignArgs),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("which").required(true).multiple(true).args(["dataset", "case", "sessions"])))]
pub struct AssignArgs {
    /// The reader's code
    pub code: String,
    /// Every case of the (locked, else candidate) dataset
    #[arg(long)]
    pub dataset: bool,
    /// One case (repeatable)
    #[arg(long, value_name = "CASE_ID", conflicts_with = "dataset")]
    pub case: Vec<String>,
    /// The reading sessions the reader takes part in, by the protocol's ids (without: every
    /// session the protocol declares)
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub sessions: Vec<String>,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("independence").required(true).args(["independent", "declaration"])))]
pub struct ReaderAddArgs {
    /// The reader's code, as used in reads files (e.g. R1)
    pub code: String,
    /// Qualification (e.g. 放射線診断専門医)
    #[arg(long)]
    pub qualification: String,
    /// The qualification in English, for the English report (e.g. board-certified radiologist)
    #[arg(long, value_name = "TEXT")]
    pub qualification_en: Option<String>,
    /// Specialty (e.g. chest radiology)
    #[arg(long)]
    pub specialty: String,
    /// Years of experience
    #[arg(long)]
    pub years: i64,
    /// Independent of the applicant (no employment, payment or other tie to the device maker)
    #[arg(long)]
    pub independent: bool,
    /// Not independent: the declared tie to the applicant
    #[arg(long, value_name = "TEXT")]
    pub declaration: Option<String>,
}

pub fn run(ctx: &Context, command: ReadersCommand) -> Done {
    let mut study = ctx.open()?;
    let actor = ctx.actor();
    match command {
        ReadersCommand::Add(args) => {
            let reader = study.add_reader(
                actor,
                &NewReader {
                    code: args.code,
                    qualification: args.qualification,
                    qualification_en: args.qualification_en,
                    specialty: args.specialty,
                    years_experience: args.years,
                    independent: args.independent,
                    declaration: args.declaration,
                },
            )?;
            println!(
                "reader registered / 読影者を登録しました: {} ({}, {}, {} years / 経験 {} 年, {})",
                reader.code,
                reader.qualification,
                reader.specialty,
                reader.years_experience,
                reader.years_experience,
                independence(&reader)
            );
        }
        ReadersCommand::Assign(args) => {
            // Sessions first: the case assignment's checks then see the reader's sessions.
            if !args.sessions.is_empty() {
                study.assign_sessions(actor, &args.code, &args.sessions)?;
                println!(
                    "reader {} reads in sessions {} / 読影セッションを割り当てました",
                    args.code,
                    study.reader_session_ids(&args.code)?.join(", ")
                );
            }
            let which = if args.dataset {
                Some(kizon_app::access::Assign::Dataset)
            } else if !args.case.is_empty() {
                Some(kizon_app::access::Assign::Cases(args.case))
            } else {
                None
            };
            if let Some(which) = which {
                let new = study.assign(actor, &args.code, &which)?;
                let total = study.assignments(&args.code)?.len();
                println!(
                    "{new} cases newly assigned to reader {} ({total} in all) / 読影症例を割り付けました",
                    args.code
                );
            }
        }
        ReadersCommand::List(flag) => {
            let readers = study.readers()?;
            if flag.json {
                return print_json(&readers);
            }
            if readers.is_empty() {
                println!("no readers yet / 読影者は未登録です (kizon readers add)");
            }
            for reader in &readers {
                println!(
                    "{:<6} {} | {} | {} years | {}",
                    reader.code,
                    reader.qualification,
                    reader.specialty,
                    reader.years_experience,
                    independence(reader)
                );
            }
        }
    }
    Ok(())
}

fn independence(reader: &kizon_app::reference::Reader) -> String {
    if reader.independent {
        "independent of the applicant / 申請者から独立".into()
    } else {
        format!(
            "declared tie / 申告: {}",
            reader.declaration.as_deref().unwrap_or("-")
        )
    }
}
