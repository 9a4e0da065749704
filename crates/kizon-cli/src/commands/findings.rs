//! `kizon findings`: the findings and where each stands.

use std::fmt::Write;

use clap::Args;

use crate::commands::{Context, Done, print_json};

#[derive(Args, Debug)]
pub struct FindingsArgs {
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
    /// Only findings without a final decision
    #[arg(long)]
    pub open: bool,
}

pub fn run(ctx: &Context, args: FindingsArgs) -> Done {
    let findings: Vec<_> = ctx
        .open()?
        .findings()?
        .into_iter()
        .filter(|f| !args.open || f.status.is_unresolved())
        .collect();
    if args.json {
        print_json(&findings)?;
    } else {
        print!("{}", render(&findings));
    }
    Ok(())
}

fn render(findings: &[kizon_app::check::FindingView]) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(
            out,
            "#{} [{}] {} {} ({}) cases: {}",
            f.id,
            f.clause,
            f.severity,
            f.rule,
            f.status,
            f.case_ids.join(", ")
        );
        let _ = writeln!(out, "    {}", f.message_ja);
        let _ = writeln!(out, "    {}", f.message_en);
        if let Some(reason) = &f.reason {
            let _ = writeln!(out, "    reason / 理由: {reason}");
        }
    }
    let _ = writeln!(out, "{} findings", findings.len());
    out
}
