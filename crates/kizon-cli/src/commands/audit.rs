//! `kizon audit`: the tamper-evident audit ledger, listed or verified.

use std::fmt::Write;

use clap::{Args, Subcommand};
use kizon_app::{LedgerEntry, VerifyReport, owner_key};

use crate::cli::JsonFlag;
use crate::commands::{Context, Done, Failure, print_json};

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Show the ledger
    Log(JsonFlag),
    /// Check the chain, the rows and documents it covers, and the head anchor; exit 1 on any problem
    #[command(
        after_help = AUDIT_VERIFY_HELP
    )]
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// A ledger hash recorded elsewhere that must be part of the chain
    #[arg(long, value_name = "SHA256")]
    pub head: Option<String>,
    /// The owner's public key from outside the study (64 hex digits, a .pub or key file)
    #[arg(long, value_name = "KEY")]
    pub public_key: Option<String>,
    /// Also decode again every file the decode cache describes and compare
    #[arg(long)]
    pub deep: bool,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

const AUDIT_VERIFY_HELP: &str = "Examples:\n  kizon audit verify\n  kizon audit verify --public-key 3b6a…   the owner's key from the report's title page\n  kizon audit verify --head 3f2a…         a head hash recorded elsewhere (e.g. in a report)\n  kizon audit verify --deep\n\nWhat it proves / 検証内容:\n  - every ledger entry's hash, and the chain from the first entry to the last (nothing altered,\n    removed, inserted or reordered inside the chain);\n  - every row of every covered table is the one its entry recorded (count and SHA-256), and no\n    row lies outside an entry (also rows with no sequence number);\n  - the database's schema is the one kizon creates (NOT NULL, STRICT, append-only triggers; no\n    trigger or table added);\n  - every stored document matches its hash; ledger.head names an entry of the chain;\n  - the owner's Ed25519 signature of every lock, amendment, analysis and package entry.\nWhat it cannot prove without something from outside / 外部の値が必要なこと:\n  - that the whole ledger was not rebuilt and re-signed with another key: give the owner's key\n    from the report's title page with --public-key;\n  - that entries after the last signed one were not removed: give a head hash recorded elsewhere\n    (a report's title page, a package) with --head.\n--deep also decodes every file the decode cache (the basis of the Q7 pixel checks) describes,\nwhere the source file is still readable, and compares.";

pub fn run(ctx: &Context, command: AuditCommand) -> Done {
    match command {
        AuditCommand::Log(flag) => {
            let entries = ctx.open()?.audit_log()?;
            if flag.json {
                print_json(&entries)?
            } else {
                print!("{}", render_ledger(&entries))
            }
        }
        AuditCommand::Verify(args) => {
            let public_key = args
                .public_key
                .as_deref()
                .map(owner_key::read_public_key)
                .transpose()?;
            let study = ctx.open()?;
            let mut report = study.verify_signed(args.head.as_deref(), public_key.as_deref())?;
            if args.deep {
                study.verify_decodes(&mut report)?;
            }
            if args.json {
                print_json(&report)?
            } else {
                print!("{}", render_verify(&report))
            }
            if let Some(first) = report.problems.first() {
                return Err(Failure {
                    what: match first.seq {
                        Some(seq) => format!("audit ledger check failed at entry {seq}: {}", first.message),
                        None => format!("audit ledger check failed: {}", first.message),
                    },
                    hint: "the study was altered outside kizon: restore it from a backup, and compare `kizon audit log` with the head hash in your reports".into(),
                });
            }
        }
    }
    Ok(())
}

fn render_ledger(entries: &[LedgerEntry]) -> String {
    let mut out = String::new();
    for e in entries {
        let _ = writeln!(
            out,
            "{:>5}  {}  {:<12}  {:<16}  {}  {}",
            e.seq,
            e.at,
            e.actor,
            e.command,
            &e.hash[..12],
            e.summary()
        );
    }
    if let Some(last) = entries.last() {
        let _ = writeln!(out, "head: {} {}", last.seq, last.hash);
    }
    out
}

fn render_verify(report: &VerifyReport) -> String {
    let mut out = String::new();
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    for p in &report.problems {
        let _ = writeln!(out, "problem: {}", p.message);
    }
    if report.intact() {
        let head = report
            .head
            .as_ref()
            .map(|(seq, hash)| format!("; head {seq} {hash}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "intact / 改ざんなし: {} ledger entries, {} documents{head}",
            report.entries, report.documents
        );
    }
    out
}
