//! `kizon user`: the accounts of the web workspace and their roles.

use std::io::BufRead;

use clap::{Args, Subcommand};
use kizon_app::access::Role;

use crate::cli::JsonFlag;
use crate::commands::{Context, Done, Failure, print_json};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input (one line)
    #[command(
        after_help = "Examples:\n  kizon user add sato --role data-manager < password.txt\n  kizon user add r1 --role reader --reader R1 < password.txt\n\nRoles: admin, data-manager, reader (blinded; needs --reader CODE), statistician (results after\nthe locks), auditor (read-only, audit log). Passwords are stored as argon2id hashes."
    )]
    Add(UserAddArgs),
    /// List users and their roles
    List(JsonFlag),
    /// Replace a user's password (read from standard input) and end their sessions
    Passwd { name: String },
}

#[derive(Args, Debug)]
pub struct UserAddArgs {
    pub name: String,
    /// admin | data-manager | reader | statistician | auditor
    #[arg(long)]
    pub role: String,
    /// For a reader: the panel reader code their reads are recorded under
    #[arg(long, value_name = "CODE")]
    pub reader: Option<String>,
}

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

pub fn run(ctx: &Context, command: UserCommand) -> Done {
    let mut study = ctx.open()?;
    let actor = ctx.actor();
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
