//! `kizon evidence`: the documents that explain each provider's consent (Q6, Q9).

use std::fmt::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use kizon_app::Evidence;
use kizon_app::providers::EvidenceKind;

use crate::cli::{JsonFlag, parse_vocabulary};
use crate::commands::{Context, Done, print_json};

#[derive(Subcommand, Debug)]
pub enum EvidenceCommand {
    /// Store a document by its SHA-256 and register it for a provider
    #[command(
        after_help = "Kinds (Q9): protocol, consent-form-draft, blank-consent-form, ethics-review, contract, opt-out-notice, other\n\nExample:\n  kizon evidence add \"Hospital A\" ethics-review approval-2026-041.pdf --note \"IRB approval\""
    )]
    Add(EvidenceAddArgs),
    /// List evidence documents
    List(JsonFlag),
}

#[derive(Args, Debug)]
pub struct EvidenceAddArgs {
    /// The provider's registered name
    pub provider: String,
    /// protocol | consent-form-draft | blank-consent-form | ethics-review | contract | opt-out-notice | other
    #[arg(value_parser = parse_vocabulary::<EvidenceKind>)]
    pub kind: EvidenceKind,
    /// The document to store
    pub file: PathBuf,
    /// A note kept with it
    #[arg(long)]
    pub note: Option<String>,
}

pub fn run(ctx: &Context, command: EvidenceCommand) -> Done {
    match command {
        EvidenceCommand::Add(args) => {
            let mut study = ctx.open()?;
            let evidence = study.add_evidence(
                ctx.actor(),
                &args.provider,
                args.kind,
                &args.file,
                args.note.as_deref(),
            )?;
            println!(
                "evidence stored / 根拠資料を保存しました: {} for {} ({} bytes, sha256 {})",
                evidence.kind, evidence.provider, evidence.size, evidence.document
            );
        }
        EvidenceCommand::List(flag) => {
            let evidence = ctx.open()?.evidence()?;
            if flag.json {
                print_json(&evidence)?
            } else {
                print!("{}", render(&evidence))
            }
        }
    }
    Ok(())
}

fn render(evidence: &[Evidence]) -> String {
    if evidence.is_empty() {
        return "no evidence document / 根拠資料は未登録です\n".into();
    }
    let mut out = String::new();
    for e in evidence {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{} bytes\tsha256 {}{}",
            e.provider,
            e.kind,
            e.file_name,
            e.size,
            e.document,
            e.note
                .as_ref()
                .map(|n| format!("\t{n}"))
                .unwrap_or_default()
        );
    }
    out
}
