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
    /// Only the findings of this rule (e.g. same-file)
    #[arg(long, value_name = "RULE")]
    pub rule: Option<String>,
    /// Instead of the findings: each rule with its count of findings and of unresolved ones
    #[arg(long, conflicts_with_all = ["open", "rule"])]
    pub by_rule: bool,
}

pub fn run(ctx: &Context, args: FindingsArgs) -> Done {
    let study = ctx.open()?;
    if args.by_rule {
        let rules = study.finding_rules()?;
        if args.json {
            print_json(&rules)?;
        } else {
            println!(
                "rule / 規則\tfindings / 疑義\tunresolved / 未解決\tblocking unresolved / 重大な未解決"
            );
            for t in &rules {
                println!(
                    "{}\t{}\t{}\t{}",
                    t.rule, t.findings, t.unresolved, t.unresolved_blocking
                );
            }
        }
        return Ok(());
    }
    let findings: Vec<_> = study
        .findings()?
        .into_iter()
        .filter(|f| !args.open || f.status.is_unresolved())
        .filter(|f| args.rule.as_ref().is_none_or(|r| &f.rule == r))
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
