//! `kizon package`: the evidence package for the reliability investigation, written or verified offline.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use kizon_app::Study;

use crate::commands::{Context, Done, Failure, print_json};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PackageArgs {
    #[command(subcommand)]
    pub command: Option<PackageCommand>,
    /// A new or empty directory to write the package into
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum PackageCommand {
    /// Check a package offline: every file's hash, the ledger chain and signatures, the Merkle root
    #[command(after_help = PACKAGE_VERIFY_HELP)]
    Verify {
        dir: PathBuf,
        /// The owner's public key from outside the package (64 hex digits, a .pub or key file)
        #[arg(long, value_name = "KEY")]
        public_key: Option<String>,
        /// A ledger hash recorded elsewhere that must be an entry of the package's ledger
        #[arg(long, value_name = "SHA256")]
        head: Option<String>,
        /// Emit JSON
        #[arg(long)]
        json: bool,
    },
}

const PACKAGE_VERIFY_HELP: &str = "Examples:\n  kizon package verify submission --public-key 3b6a…\n\nWhat it proves / 検証内容 (no study, no network):\n  - every file the index lists is there, unaltered, and nothing else is (paths confined to the\n    package: no `..`, absolute paths, links, FIFOs or devices);\n  - the index is the one the ledger's last entry (the package's own) records, and the ledger is\n    a whole chain from the study's creation; an empty or shortened ledger is an error;\n  - the owner's signatures of every lock, amendment, analysis and the package itself;\n  - the dataset's Merkle root, and that the dataset, reference standard and analysis are the\n    documents the ledger's lock and analysis entries name.\nGive the owner's public key (from the report's title page) with --public-key: without it the\nkey recorded in the package's own ledger is used, which a forger could have replaced.";

pub fn run(ctx: &Context, args: PackageArgs) -> Done {
    let (study_dir, actor) = (ctx.study_dir(), ctx.actor());
    if let Some(PackageCommand::Verify {
        dir,
        public_key,
        head,
        json,
    }) = args.command
    {
        let public_key = public_key
            .as_deref()
            .map(kizon_app::owner_key::read_public_key)
            .transpose()?;
        let check =
            kizon_app::package::verify_package(&dir, public_key.as_deref(), head.as_deref())?;
        if json {
            print_json(&check)?;
        } else {
            println!(
                "package / 資料一式: {} ({} files listed)",
                dir.display(),
                check.files
            );
            for path in &check.altered {
                println!("  altered / 改変: {path}");
            }
            for path in &check.missing {
                println!("  missing / 欠落: {path}");
            }
            for path in &check.added {
                println!("  added / 追加: {path}");
            }
            for problem in &check.problems {
                println!("  problem / 問題: {problem}");
            }
            for note in &check.notes {
                println!("  note: {note}");
            }
            if check.intact() {
                println!(
                    "intact: every hash, the ledger chain, the owner's signatures and the Merkle root match / 改変なし"
                );
            }
        }
        if !check.intact() {
            return Err(Failure {
                what: format!(
                    "{}: {} altered, {} missing, {} added files, {} other problems",
                    dir.display(),
                    check.altered.len(),
                    check.missing.len(),
                    check.added.len(),
                    check.problems.len()
                ),
                hint: "the package differs from what kizon wrote: ask for a fresh copy, or compare with the study".into(),
            });
        }
        return Ok(());
    }
    let Some(out) = args.out else {
        return Err(Failure {
            what: "no output directory".into(),
            hint: "kizon package --out DIR, or kizon package verify DIR".into(),
        });
    };
    let mut study = Study::open(study_dir)?;
    let reports = super::report::all_reports(&mut study, actor)?;
    let outcome = study.package(actor, &out, reports)?;
    if args.json {
        return print_json(&outcome);
    }
    println!(
        "evidence package written / 信頼性調査用資料を作成しました: {} ({} files, {} bytes, index sha256 {}, ledger entry {})",
        outcome.dir.display(),
        outcome.files,
        outcome.bytes,
        outcome.index_sha256,
        outcome.ledger_seq
    );
    println!("  index: {}/index.md", outcome.dir.display());
    println!("next: kizon package verify {}", outcome.dir.display());
    Ok(())
}
