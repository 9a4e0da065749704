//! `kizon serve`: the study team's web workspace.

use clap::Args;
use kizon_app::Study;

use crate::commands::{Context, Done};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub bind: std::net::SocketAddr,
    /// Largest upload accepted, in MiB
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    pub upload_limit_mib: usize,
    /// Memory kept for decoded frames the viewer showed (scrolling back costs no decoding), in MiB
    #[arg(long, default_value_t = 512, value_name = "MIB")]
    pub frame_cache_mib: u64,
    /// Drop the Secure flag of cookies (only for plain HTTP beyond loopback on a closed network)
    #[arg(long)]
    pub insecure_cookies: bool,
    /// The session key file shared by several servers on this study (behind one load balancer):
    /// made, readable by its owner only, when it does not exist. Without it the server keys
    /// sessions with a key of its own, and they end when it stops
    #[arg(long, env = "KIZON_SESSION_KEY_FILE", value_name = "FILE")]
    pub session_key_file: Option<std::path::PathBuf>,
}

pub fn run(ctx: &Context, args: ServeArgs) -> Done {
    let study_dir = ctx.study_dir();
    // The owner's key signs analyses, accounts and passwords set from the browser, and is the
    // key sign-ins check the password entries against. It is unlocked now, at start, when
    // the study has one and a passphrase is at hand; without it the server still serves, and
    // refuses only what must be signed.
    let mut owner_key = None;
    if let Some(public) = Study::open(study_dir)?.owner_public_key()? {
        let path = kizon_app::owner_key::key_path(&public);
        let unlocked = if path.is_file() {
            kizon_app::owner_key::passphrase("kizon serve", false)
                .and_then(|p| kizon_app::owner_key::OwnerKey::unlock(&path, &p))
        } else {
            Err(kizon_app::AppError::Refused {
                what: format!("{}: no key file", path.display()),
                hint: String::new(),
            })
        };
        match unlocked {
            Ok(key) => owner_key = Some(key),
            Err(e) => eprintln!(
                "note: the owner's key is not unlocked ({e}): analyses cannot be run, nor accounts added or passwords set, from the browser, and sign-ins trust the key the ledger records; set {} to enable them",
                kizon_app::owner_key::PASSPHRASE_ENV
            ),
        }
    }
    let session_key = args
        .session_key_file
        .as_deref()
        .map(kizon_app::access::session_key_file)
        .transpose()?;
    let options = kizon_web::ServeOptions {
        session_key,
        owner_key,
        bind: args.bind,
        upload_limit: args.upload_limit_mib << 20,
        secure_cookies: !args.insecure_cookies,
        frame_cache_bytes: args.frame_cache_mib << 20,
    };
    if !args.bind.ip().is_loopback() && !args.insecure_cookies {
        eprintln!(
            "note: {} is not loopback; browsers send Secure cookies only over HTTPS there: put a TLS-terminating reverse proxy in front",
            args.bind
        );
    }
    kizon_web::serve(study_dir, &options, |address| {
        println!("kizon web workspace / Web作業画面: http://{address}/  (Ctrl-C to stop)");
    })?;
    Ok(())
}
