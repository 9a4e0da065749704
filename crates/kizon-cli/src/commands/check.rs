//! `kizon check`: the data doubts PMDA looks for (Q1, Q2, Q7), recorded as findings.

use crate::cli::JsonFlag;
use crate::commands::{Context, Done, print_json};

pub fn run(ctx: &Context, flag: JsonFlag) -> Done {
    let summary = ctx.open()?.check(ctx.actor())?;
    if flag.json {
        print_json(&summary)?;
    } else {
        println!(
            "checked / 確認: {} items, {} findings ({} new), {} blocking findings open / 未解決の重大な疑義",
            summary.items, summary.findings, summary.new_findings, summary.open_blocking
        );
        println!("next: kizon findings --open");
    }
    Ok(())
}
