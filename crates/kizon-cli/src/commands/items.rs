//! `kizon items`: the ingested items, with their kind and metadata.

use std::fmt::Write;

use clap::Args;
use kizon_app::ItemKind;

use crate::cli::parse_vocabulary;
use crate::commands::{Context, Done, print_json};

#[derive(Args, Debug)]
pub struct ItemsArgs {
    /// Emit JSON
    #[arg(long)]
    pub json: bool,
    /// Only items of this kind (dicom, dicom-waveform, edf, wfdb, mfer, video, table, unknown)
    #[arg(long, value_parser = parse_vocabulary::<ItemKind>)]
    pub kind: Option<ItemKind>,
    /// Only items of this case
    #[arg(long)]
    pub case: Option<String>,
}

pub fn run(ctx: &Context, args: ItemsArgs) -> Done {
    let items = ctx.open()?.items()?;
    let listed: Vec<serde_json::Value> = items
        .iter()
        .filter(|i| args.kind.is_none_or(|k| i.kind == k))
        .filter(|i| args.case.as_deref().is_none_or(|c| i.case_id == c))
        .map(item_json)
        .collect();
    if args.json {
        print_json(&listed)?;
    } else {
        print!("{}", render(&listed));
    }
    Ok(())
}

/// An item as `kizon items --json` shows it: fixed keys, metadata as an object.
fn item_json(item: &kizon_app::Item) -> serde_json::Value {
    serde_json::json!({
        "id": item.id,
        "path": item.path,
        "kind": item.kind,
        "sha256": item.sha256,
        "size": item.size,
        "case_id": item.case_id,
        "provider": item.provider,
        "problem": item.problem,
        "metadata": item.metadata,
    })
}

fn render(items: &[serde_json::Value]) -> String {
    let mut out = String::new();
    for item in items {
        let text = |key: &str| item[key].as_str().unwrap_or("").to_owned();
        let problem = item["problem"]
            .as_str()
            .map(|p| format!("\tproblem: {p}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}{problem}",
            text("case_id"),
            text("kind"),
            &text("sha256")[..12.min(text("sha256").len())],
            text("path")
        );
    }
    let _ = writeln!(out, "{} items", items.len());
    out
}
