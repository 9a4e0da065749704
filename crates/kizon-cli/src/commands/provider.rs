//! `kizon provider`: the hospitals, biobanks and databases the data comes from (Q3).

use std::fmt::Write;

use clap::{Args, Subcommand};
use kizon_app::Provider;
use kizon_app::owner_key;
use kizon_app::providers::{ConsentModel, ProviderInput, ProviderKind, RegulatorAccess};

use crate::cli::{JsonFlag, parse_vocabulary};
use crate::commands::{Context, Done, print_json};

#[derive(Subcommand, Debug)]
pub enum ProviderCommand {
    /// Register a provider
    #[command(
        after_help = "Examples:\n  kizon provider add \"Hospital A\" --kind hospital --consent opt-out --legal-basis \"倫理指針に基づくオプトアウト\"\n  kizon provider add \"Biobank B\" --kind private-biobank --consent broad-consent --legal-basis \"包括同意\" --regulator-access yes"
    )]
    Add(ProviderAddArgs),
    /// List providers
    List(JsonFlag),
    /// At the hospital: make its signing key for hand-overs (PREFIX.key, passphrase-encrypted, and PREFIX.pub)
    Keygen {
        /// Writes PREFIX.key and PREFIX.pub
        #[arg(long, value_name = "PREFIX")]
        out: std::path::PathBuf,
    },
    /// At the sponsor: register a provider's public key; its hand-overs are then verified at ingest
    Key {
        /// The provider's name
        name: String,
        /// The PREFIX.pub the hospital made with `kizon provider keygen`
        #[arg(long, value_name = "PREFIX.pub")]
        public_key: String,
    },
}

#[derive(Args, Debug)]
pub struct ProviderAddArgs {
    /// Name of the hospital, biobank or database
    pub name: String,
    /// hospital | public-biobank | private-biobank | database
    #[arg(long, value_parser = parse_vocabulary::<ProviderKind>)]
    pub kind: ProviderKind,
    /// informed-consent | broad-consent | opt-out | not-required
    #[arg(long, value_parser = parse_vocabulary::<ConsentModel>)]
    pub consent: ConsentModel,
    /// The legal basis on which the data is provided (Q3, Q6)
    #[arg(long, value_name = "TEXT")]
    pub legal_basis: String,
    /// Do the consent documents mention that regulators may read source records (Q8)? yes | no | unknown
    #[arg(long, default_value = "unknown", value_parser = parse_vocabulary::<RegulatorAccess>)]
    pub regulator_access: RegulatorAccess,
    /// The provider's public key (PREFIX.pub from `kizon provider keygen`): its hand-overs must be signed with it
    #[arg(long, value_name = "PREFIX.pub")]
    pub public_key: Option<String>,
}

pub fn run(ctx: &Context, command: ProviderCommand) -> Done {
    match command {
        ProviderCommand::Add(args) => {
            let mut study = ctx.open()?;
            let provider = study.add_provider(
                ctx.actor(),
                &ProviderInput {
                    name: args.name,
                    kind: args.kind,
                    consent_model: args.consent,
                    legal_basis: args.legal_basis,
                    regulator_access: args.regulator_access,
                    public_key: args.public_key,
                },
            )?;
            println!(
                "provider added / データ提供元を登録しました: {} ({}, {})",
                provider.name, provider.kind, provider.consent_model
            );
        }
        ProviderCommand::Keygen { out } => {
            let passphrase = owner_key::ask_passphrase(
                "kizon provider keygen",
                ("the provider's signing key", "提供元の署名鍵"),
                &[owner_key::PASSPHRASE_ENV],
                true,
            )?;
            let public = kizon_app::hospital::keygen(&out, &passphrase)?;
            println!(
                "signing key made / 署名鍵を作成しました: {}.key (keep it at the hospital), {}.pub (send it to the sponsor)",
                out.display(),
                out.display()
            );
            println!("  public key {public}");
        }
        ProviderCommand::Key { name, public_key } => {
            let mut study = ctx.open()?;
            let key = study.add_provider_key(ctx.actor(), &name, &public_key)?;
            println!(
                "signing key registered / 署名鍵を登録しました: `{name}` {key}\n  its hand-overs are verified at ingest; nothing unsigned from it is ingested"
            );
        }
        ProviderCommand::List(flag) => {
            let providers = ctx.open()?.providers()?;
            if flag.json {
                print_json(&providers)?
            } else {
                print!("{}", render(&providers))
            }
        }
    }
    Ok(())
}

fn render(providers: &[Provider]) -> String {
    if providers.is_empty() {
        return "no provider registered / データ提供元は未登録です\n".into();
    }
    let mut out = String::new();
    for p in providers {
        let (kind_ja, kind_en) = p.kind.names();
        let (consent_ja, consent_en) = p.consent_model.names();
        let _ = writeln!(
            out,
            "{}\t{kind_ja} / {kind_en}\t{consent_ja} / {consent_en}\t同意文書での規制当局の閲覧 / regulator access in consent: {}\t法的根拠 / legal basis: {}",
            p.name, p.regulator_access, p.legal_basis
        );
    }
    out
}
