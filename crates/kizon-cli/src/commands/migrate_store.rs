//! `kizon migrate-store`: the study's database moved to PostgreSQL, or back to a SQLite file.

use clap::Args;
use kizon_app::migrate_store::Target;

use crate::commands::{Context, Done, print_json};

#[derive(Args, Debug)]
pub struct MigrateStoreArgs {
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (an empty database), or `sqlite`
    #[arg(long, value_name = "URL|sqlite")]
    pub to: String,
    /// Print what was copied as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: MigrateStoreArgs) -> Done {
    let target = Target::parse(&args.to)?;
    let moved = ctx.open()?.migrate_store(target)?;
    if args.json {
        return print_json(&moved);
    }
    let rows: u64 = moved.tables.iter().map(|(_, n)| n).sum();
    println!(
        "moved the study's database / データベースを移行しました: {:?} -> {:?}, {} tables, {rows} rows",
        moved.from,
        moved.to,
        moved.tables.len()
    );
    if let Some((seq, hash)) = &moved.head {
        println!("  ledger head / 監査証跡の先頭: entry {seq}, {hash} (the same in both)");
    }
    println!(
        "  the old database is kept as {} (nothing was deleted)",
        moved.kept.display()
    );
    println!(
        "next: kizon audit verify --head {}",
        moved.head.as_ref().map_or("", |h| h.1.as_str())
    );
    Ok(())
}
