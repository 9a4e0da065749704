//! `kizon dataset`: the cases a lock would fix, or the locked dataset.

use clap::Subcommand;

use crate::cli::JsonFlag;
use crate::commands::{Context, Done, print_json};

#[derive(Subcommand, Debug)]
pub enum DatasetCommand {
    /// The locked dataset, or the cases a lock would fix now, with exclusions and blocking findings
    Show(JsonFlag),
}

pub fn run(ctx: &Context, command: DatasetCommand) -> Done {
    let study = ctx.open()?;
    let DatasetCommand::Show(flag) = command;
    let locked = study.dataset()?;
    let (dataset, blocking, state) = match locked {
        Some(dataset) => (dataset, Vec::new(), "locked / 固定済み"),
        None => {
            let (dataset, blocking) = study.candidate_dataset()?;
            (dataset, blocking, "not locked yet / 未固定")
        }
    };
    if flag.json {
        return print_json(&serde_json::json!({
            "locked": state.starts_with("locked"),
            "dataset": dataset,
            "blocking_findings": blocking,
        }));
    }
    println!("dataset / データセット: {state}");
    println!(
        "  {} cases collected, {} excluded, {} included with {} items / 収集 {}・除外 {}・採用 {} 症例",
        dataset.collected_cases,
        dataset.excluded.len(),
        dataset.cases.len(),
        dataset.items(),
        dataset.collected_cases,
        dataset.excluded.len(),
        dataset.cases.len()
    );
    println!("  Merkle root: {}", dataset.merkle_root);
    for exclusion in &dataset.excluded {
        println!(
            "  excluded / 除外 {}: finding {} ({}, {}): {}",
            exclusion.case_id,
            exclusion.finding_id,
            exclusion.rule,
            exclusion.clause,
            exclusion.reason
        );
    }
    if !blocking.is_empty() {
        println!(
            "  {} blocking findings open: the lock is refused until each is decided / 未解決の重大な疑義があり固定できません",
            blocking.len()
        );
        for finding in &blocking {
            println!(
                "    #{} [{}] {} on {}",
                finding.id,
                finding.clause,
                finding.rule,
                finding.case_ids.join(" ")
            );
        }
    }
    Ok(())
}
