//! `kizon init`: a new study directory, its protocol template and the owner's signing key.

use std::path::PathBuf;

use clap::Args;
use kizon_app::{init, owner_key};

use crate::commands::{Context, Done};

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Directory to create (or an existing one without a study)
    #[arg(value_name = "DIR", required_unless_present = "print_template")]
    pub dir: Option<PathBuf>,
    /// Print the commented study.toml template and exit
    #[arg(long)]
    pub print_template: bool,
    /// Use this existing owner's key file instead of making a new one
    #[arg(long, value_name = "FILE")]
    pub owner_key: Option<PathBuf>,
    /// Keep the study's database in PostgreSQL (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE,
    /// an empty database) instead of a SQLite file in DIR, for several machines and servers
    #[arg(long, env = "KIZON_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// Keep the study's documents in an S3-compatible bucket (s3://BUCKET/PREFIX?endpoint=URL&region=R,
    /// a prefix of its own; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) instead
    /// of DIR/documents, so that several machines share them
    #[arg(long, env = "KIZON_OBJECTS_URL", value_name = "URL")]
    pub objects: Option<String>,
}

pub fn run(ctx: &Context, args: InitArgs) -> Done {
    if args.print_template {
        print!("{}", init::PROTOCOL_TEMPLATE);
        return Ok(());
    }
    let dir = args
        .dir
        .expect("clap requires DIR without --print-template");
    // Before a key is made for it: a study already there is refused with nothing written.
    init::refuse_existing(&dir)?;
    let placement = init::Placement {
        database: args.database.clone(),
        objects: args.objects.clone(),
    };
    placement.check(&dir)?;
    let (owner, key_path, made) = match &args.owner_key {
        Some(path) => {
            let passphrase = owner_key::passphrase("kizon init", false)?;
            (
                owner_key::OwnerKey::unlock(path, &passphrase)?,
                path.clone(),
                false,
            )
        }
        None => {
            let owner = owner_key::OwnerKey::generate()?;
            let passphrase = owner_key::passphrase("kizon init: a new owner's key", true)?;
            let path = owner_key::key_ring().join(format!("{}.key", &owner.public_hex()[..16]));
            owner.save(&path, &passphrase)?;
            (owner, path, true)
        }
    };
    let done = init::init_placed(&dir, ctx.actor(), "init", &owner, &placement)?;
    println!(
        "created study in {} / 試験ディレクトリを作成しました",
        dir.display()
    );
    if done.wrote_template {
        println!(
            "  study.toml       the protocol: edit it, then `kizon plan` / 計画書を編集してください"
        );
    } else {
        println!(
            "  study.toml       kept as it was (sha256 {})",
            done.protocol_sha256
        );
    }
    match &args.database {
        Some(url) => println!(
            "  database.url     database and audit ledger in PostgreSQL, {} (head {})",
            kizon_app::redacted_url(url),
            &done.ledger_head[..12]
        ),
        None => println!(
            "  kizon.sqlite     database and audit ledger (head {})",
            &done.ledger_head[..12]
        ),
    }
    match &args.objects {
        Some(_) => println!(
            "  objects.url      documents in the object store {} (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)",
            std::fs::read_to_string(dir.join(kizon_app::OBJECTS_URL_FILE))
                .unwrap_or_default()
                .trim()
        ),
        None => println!("  documents/       content-addressed document store"),
    }
    println!(
        "owner's key / 署名鍵: {}{} (keep it and its passphrase outside the study folder)",
        key_path.display(),
        if made { ", new" } else { "" }
    );
    println!(
        "  public key       {} (printed on every report's title page)",
        done.owner_public_key
    );
    println!("next: cd {} && kizon plan", dir.display());
    Ok(())
}
