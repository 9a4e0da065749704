//! `kizon amend`: a change to the locked protocol or dataset, with its reason.

use clap::Args;
use kizon_app::Study;

use crate::commands::{Context, Done};

#[derive(Args, Debug)]
pub struct AmendArgs {
    /// Why it changes (as written; in Japanese when --reason-en gives the English)
    #[arg(long)]
    pub reason: String,
    /// The reason in English, for the English report (without it both reports print --reason)
    #[arg(long, value_name = "TEXT")]
    pub reason_en: Option<String>,
    /// Amend the locked dataset (as it is now) instead of the protocol
    #[arg(long)]
    pub dataset: bool,
}

pub fn run(ctx: &Context, args: AmendArgs) -> Done {
    if args.dataset {
        return amend_dataset(
            ctx.open()?,
            ctx.actor(),
            kizon_app::text::Reason::new(&args.reason, args.reason_en.as_deref()),
        );
    }
    let amended = ctx.open()?.amend(
        ctx.actor(),
        kizon_app::text::Reason::new(&args.reason, args.reason_en.as_deref()),
    )?;
    println!(
        "protocol amended / 計画書を改訂しました: {} → {} (ledger entry {})",
        amended.previous_sha256.as_deref().unwrap_or("-"),
        amended.sha256,
        amended.ledger_seq
    );
    for change in &amended.plan_changes {
        println!("  regulatory plan changed / 規制上の取扱いが変わりました: {change}");
    }
    Ok(())
}

fn amend_dataset(mut study: Study, actor: &str, reason: kizon_app::text::Reason<'_>) -> Done {
    let lock = study.amend_dataset(actor, reason)?;
    println!(
        "dataset amended / データセットを改訂しました: {} → {} ({} cases, ledger entry {})",
        lock.previous_root.as_deref().unwrap_or("-"),
        lock.merkle_root,
        lock.cases,
        lock.ledger_seq
    );
    Ok(())
}
