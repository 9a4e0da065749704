//! `kizon reading`: the reading sessions as recorded — a reader's case order derived again
//! from the seed their start recorded, and the reading time per case.

use clap::{Args, Subcommand};

use crate::cli::JsonFlag;
use crate::commands::{Context, Done, print_json};

#[derive(Subcommand, Debug)]
pub enum ReadingCommand {
    /// Derive a reader's case order of a session again from the seed recorded at its start / 症例の提示順の再現
    #[command(
        after_help = "Example:\n  kizon reading order --reader R1 --session unaided\n\nThe order is the cases sorted by SHA-256(seed, reader, session, case); the start's ledger entry\nholds the seed and the SHA-256 of the order it gave, which this command checks."
    )]
    Order(OrderArgs),
    /// Reading time per reader, session and case, from the server-side events / 読影時間
    Times(JsonFlag),
}

#[derive(Args, Debug)]
pub struct OrderArgs {
    #[arg(long, value_name = "CODE")]
    pub reader: String,
    #[arg(long, value_name = "ID")]
    pub session: String,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, command: ReadingCommand) -> Done {
    let study = ctx.open()?;
    match command {
        ReadingCommand::Order(args) => {
            let order = study.derive_order(&args.reader, &args.session)?;
            if args.json {
                return print_json(&order);
            }
            println!(
                "reader {} session {}: started {} (ledger entry {}), seed {}",
                order.reader, order.session, order.started_at, order.ledger_seq, order.seed
            );
            println!(
                "order SHA-256 {} / 記録された提示順と{}",
                order.recorded_sha256,
                if order.matches_recorded {
                    "一致 (matches the recorded order)"
                } else {
                    "不一致 (differs: cases were assigned after the start)"
                }
            );
            for (n, case) in order.cases.iter().enumerate() {
                println!("{:>5}  {case}", n + 1);
            }
            Ok(())
        }
        ReadingCommand::Times(flag) => {
            let times = study.reading_times()?;
            if flag.json {
                return print_json(&times);
            }
            println!("reader,session,modality,case_id,seconds,submitted");
            for t in &times {
                println!(
                    "{},{},{},{},{:.1},{}",
                    t.reader,
                    t.session,
                    t.modality.as_deref().unwrap_or(""),
                    t.case_id,
                    t.seconds,
                    t.submitted
                );
            }
            Ok(())
        }
    }
}
