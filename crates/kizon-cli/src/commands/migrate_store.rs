//! `kizon migrate-store`: the study's database moved to PostgreSQL or back to a SQLite file,
//! and its documents to an S3-compatible bucket or back to the folder.

use clap::Args;
use kizon_app::migrate_store::{Migrated, MovedDocuments, Target, parse_documents_target};

use crate::commands::{Context, Done, print_json};

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).multiple(true).args(["to", "objects"])))]
pub struct MigrateStoreArgs {
    /// The database: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (an empty database), or
    /// `sqlite`
    #[arg(long, value_name = "URL|sqlite")]
    pub to: Option<String>,
    /// The documents: `s3://BUCKET/PREFIX?endpoint=URL&region=R` (a prefix of the study's own;
    /// credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or `local` (the folder's
    /// documents/)
    #[arg(long, value_name = "URL|local")]
    pub objects: Option<String>,
    /// Print what was copied as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: MigrateStoreArgs) -> Done {
    // Both arguments are read before anything moves: a wrong second one stops the first.
    let target = args.to.as_deref().map(Target::parse).transpose()?;
    let documents = args
        .objects
        .as_deref()
        .map(parse_documents_target)
        .transpose()?;
    let database = match target {
        Some(target) => match ctx.open()?.migrate_store(ctx.actor(), target) {
            Ok(moved) => Some(moved),
            // Run again after the documents' move failed: the database has moved already.
            Err(e) if e.is_nothing_to_move() && documents.is_some() => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    // What is done is said before the next step, which may fail.
    if let (Some(database), false) = (&database, args.json) {
        print_database(database);
    }
    let moved = match documents {
        Some(documents) => Some(ctx.open()?.migrate_documents(ctx.actor(), documents)?),
        None => None,
    };
    if args.json {
        return match (database, moved) {
            (Some(database), None) => print_json(&database),
            (None, Some(moved)) => print_json(&moved),
            (database, moved) => print_json(&serde_json::json!({
                "database": database,
                "documents": moved,
            })),
        };
    }
    if let Some(moved) = &moved {
        print_documents(moved);
    }
    match database.as_ref().and_then(|d| d.head.as_ref()) {
        Some((_, hash)) => println!("next: kizon audit verify --head {hash}"),
        None => println!("next: kizon audit verify"),
    }
    Ok(())
}

fn print_database(moved: &Migrated) {
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
}

fn print_documents(moved: &MovedDocuments) {
    println!(
        "moved the study's documents / 文書の保管先を移行しました: {} -> {}, {} documents ({} bytes), each read back intact",
        moved.from, moved.to, moved.documents, moved.bytes
    );
    println!(
        "  the old place is kept as {} (nothing was deleted)",
        moved.kept.display()
    );
}
