//! `kizon serve` and `kizon user`: the web workspace and its accounts.

use std::io::BufRead;
use std::path::Path;

use kizon_app::Study;
use kizon_app::access::Role;

use crate::cli::{ServeArgs, UserCommand};
use crate::{Failure, print_json};

/// One line from standard input: the password (never an argument, which `ps` would show).
fn password_from_stdin() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure {
            what: format!("standard input: {e}"),
            hint: "give the password on standard input, e.g. < password.txt".into(),
        })?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err(Failure {
            what: "no password on standard input".into(),
            hint: "give the password on standard input, e.g. < password.txt".into(),
        });
    }
    Ok(password)
}

pub fn user(mut study: Study, actor: &str, command: UserCommand) -> Result<(), Failure> {
    match command {
        UserCommand::Add(args) => {
            let role: Role = args.role.parse()?;
            let password = password_from_stdin()?;
            let account =
                study.add_user(actor, &args.name, role, args.reader.as_deref(), &password)?;
            println!(
                "user added / 利用者を追加しました: {} ({}, {}){}",
                account.name,
                account.role,
                account.role.name_ja(),
                account
                    .reader_code
                    .map(|c| format!(", reader {c}"))
                    .unwrap_or_default()
            );
        }
        UserCommand::List(flag) => {
            let users = study.users()?;
            if flag.json {
                return print_json(&users);
            }
            if users.is_empty() {
                println!("no users yet / 利用者は未登録です (kizon user add NAME --role admin)");
            }
            for user in users {
                println!(
                    "{}\t{}\t{}",
                    user.name,
                    user.role,
                    user.reader_code.unwrap_or_default()
                );
            }
        }
        UserCommand::Passwd { name } => {
            let password = password_from_stdin()?;
            study.set_password(actor, &name, &password)?;
            println!("password replaced; sessions ended / パスワードを変更しました: {name}");
        }
    }
    Ok(())
}

pub fn serve(study_dir: &Path, args: ServeArgs) -> Result<(), Failure> {
    // The owner's key signs analyses run from the browser. It is unlocked now, at start, when
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
                "note: the owner's key is not unlocked ({e}): analyses cannot be run from the browser; set {} to enable them",
                kizon_app::owner_key::PASSPHRASE_ENV
            ),
        }
    }
    let options = kizon_web::ServeOptions {
        owner_key,
        bind: args.bind,
        upload_limit: args.upload_limit_mib << 20,
        secure_cookies: !args.insecure_cookies,
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
