//! `kizon resolve`: a decision on a finding, with its reason.

use clap::Args;

use crate::commands::{Context, Done};

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("decision").required(true).args(["exclude_case", "accept", "query_provider"])))]
#[command(group(clap::ArgGroup::new("which").required(true).args(["id", "rule"])))]
pub struct ResolveArgs {
    /// The finding's id (see `kizon findings`)
    pub id: Option<i64>,
    /// Instead of one finding: every unresolved finding of this rule (e.g. same-file), one
    /// decision and one reason for all, recorded as one ledger entry
    #[arg(long, value_name = "RULE", conflicts_with = "cases")]
    pub rule: Option<String>,
    /// Exclude the case(s) from the dataset
    #[arg(long)]
    pub exclude_case: bool,
    /// Keep the data: the doubt does not hold
    #[arg(long)]
    pub accept: bool,
    /// Ask the provider to check the source records; the finding stays open
    #[arg(long)]
    pub query_provider: bool,
    /// With --exclude-case: exclude only this case of the finding (repeatable), e.g. the later of two duplicates
    #[arg(long = "case", value_name = "CASE_ID", requires = "exclude_case")]
    pub cases: Vec<String>,
    /// Why (as written; in Japanese when --reason-en gives the English)
    #[arg(long)]
    pub reason: String,
    /// The reason in English, for the English report (without it both reports print --reason)
    #[arg(long, value_name = "TEXT")]
    pub reason_en: Option<String>,
}

pub fn run(ctx: &Context, args: ResolveArgs) -> Done {
    use kizon_app::check::Decision;
    let decision = if args.exclude_case {
        Decision::ExcludeCase
    } else if args.accept {
        Decision::Accept
    } else {
        Decision::QueryProvider
    };
    let reason = kizon_app::text::Reason::new(&args.reason, args.reason_en.as_deref());
    let mut study = ctx.open()?;
    let id = match (args.id, &args.rule) {
        (Some(id), _) => id,
        (None, Some(rule)) => {
            let decided = study.resolve_rule(ctx.actor(), rule, decision, reason)?;
            println!(
                "{} findings of rule {rule}: {} / 規則 {rule} の疑義 {} 件に対応を記録しました: {}",
                decided.findings.len(),
                decision.as_str(),
                decided.findings.len(),
                args.reason
            );
            return pending_note(&study);
        }
        (None, None) => unreachable!("clap requires an id or --rule"),
    };
    let finding = study.resolve(ctx.actor(), id, decision, reason, &args.cases)?;
    match finding.status {
        kizon_app::FindingStatus::Excluded => println!(
            "finding {}: case {} excluded / 症例を除外しました: {}",
            finding.id,
            finding.excluded_cases.join(", "),
            args.reason
        ),
        status => println!(
            "finding {} is now {status} / 対応を記録しました: {}",
            finding.id, args.reason
        ),
    }
    pending_note(&study)
}

/// Cases a decision excluded that the locked dataset still holds, and how they leave it.
fn pending_note(study: &kizon_app::Study) -> Done {
    let pending = study.exclusions_pending_amendment()?;
    if !pending.is_empty() {
        println!(
            "note: the locked dataset still holds {}: they leave it with `kizon amend --dataset --reason \"...\"` / 固定データセットから除くには kizon amend --dataset を実行してください",
            pending.join(", ")
        );
    }
    Ok(())
}
