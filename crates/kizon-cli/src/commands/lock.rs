//! `kizon lock`: the protocol, the dataset or the reference standard fixed before results are seen.

use clap::Subcommand;
use kizon_app::Study;

use crate::cli::JsonFlag;
use crate::commands::{Context, Done, print_json};

#[derive(Subcommand, Debug)]
pub enum LockCommand {
    /// Fix study.toml: later changes need `kizon amend`
    Protocol,
    /// Fix the cases and their files (a Merkle root); refused while blocking findings are open
    Dataset(JsonFlag),
    /// Fix the reference standard of the locked dataset, before any device result
    Reference(JsonFlag),
}

pub fn run(ctx: &Context, command: LockCommand) -> Done {
    match command {
        LockCommand::Dataset(flag) => lock_dataset(ctx.open()?, ctx.actor(), flag.json)?,
        LockCommand::Reference(flag) => lock_reference(ctx.open()?, ctx.actor(), flag.json)?,
        LockCommand::Protocol => {
            let locked = ctx.open()?.lock_protocol(ctx.actor())?;
            println!(
                "protocol locked / 計画書を固定しました: sha256 {} (ledger entry {}, test type {}, rules {})",
                locked.sha256, locked.ledger_seq, locked.test_type, locked.rules_version
            );
        }
    }
    Ok(())
}

fn lock_dataset(mut study: Study, actor: &str, json: bool) -> Done {
    let lock = study.lock_dataset(actor)?;
    if json {
        return print_json(&lock);
    }
    println!(
        "dataset locked / データセットを固定しました: {} cases, {} items, {} excluded (ledger entry {})",
        lock.cases, lock.items, lock.excluded, lock.ledger_seq
    );
    println!("  Merkle root: {}", lock.merkle_root);
    Ok(())
}

fn lock_reference(mut study: Study, actor: &str, json: bool) -> Done {
    let lock = study.lock_reference(actor)?;
    if json {
        return print_json(&lock);
    }
    println!(
        "reference standard locked / 参照標準を固定しました: {} of {} cases decided ({} positive, {} negative), sha256 {} (ledger entry {})",
        lock.decided, lock.cases, lock.positive, lock.negative, lock.sha256, lock.ledger_seq
    );
    Ok(())
}
