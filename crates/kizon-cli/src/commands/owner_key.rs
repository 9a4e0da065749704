//! `kizon owner-key`: the study owner's signing key, created for an older study or shown.

use clap::Subcommand;
use kizon_app::owner_key;

use crate::commands::{Context, Done, print_json};

#[derive(Subcommand, Debug)]
pub enum OwnerKeyCommand {
    /// Make an owner's key for a study made before kizon signed, and record it in the ledger
    Create,
    /// Print the owner's public key the study records, and where its key file is looked for
    Show {
        /// Emit JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Context, command: OwnerKeyCommand) -> Done {
    match command {
        OwnerKeyCommand::Create => {
            let mut study = ctx.open()?;
            let owner = owner_key::OwnerKey::generate()?;
            let passphrase = owner_key::passphrase("kizon owner-key create", true)?;
            let path = owner_key::key_ring().join(format!("{}.key", &owner.public_hex()[..16]));
            owner.save(&path, &passphrase)?;
            let entry = study.adopt_owner_key(ctx.actor(), &owner)?;
            println!(
                "owner's key recorded in ledger entry {} / 署名鍵を記録しました: {}",
                entry.seq,
                path.display()
            );
            println!("  public key {}", owner.public_hex());
        }
        OwnerKeyCommand::Show { json } => {
            let study = ctx.open()?;
            let public = study.owner_public_key()?;
            let path = public.as_deref().map(owner_key::key_path);
            if json {
                print_json(&serde_json::json!({
                    "public_key": public,
                    "key_file": path.as_ref().map(|p| p.display().to_string()),
                    "key_file_present": path.as_ref().is_some_and(|p| p.is_file()),
                }))?;
            } else {
                match (public, path) {
                    (Some(public), Some(path)) => {
                        println!("owner's public key / 署名鍵（公開鍵）: {public}");
                        println!(
                            "key file / 鍵ファイル: {} ({})",
                            path.display(),
                            if path.is_file() {
                                "present"
                            } else {
                                "not on this machine"
                            }
                        );
                    }
                    _ => println!(
                        "the study records no owner's key / 署名鍵は未登録です (kizon owner-key create)"
                    ),
                }
            }
        }
    }
    Ok(())
}
