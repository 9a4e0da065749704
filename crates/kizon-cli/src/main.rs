//! `kizon`: the command-line shell over kizon-app. It parses arguments, calls one use case and
//! renders the result; errors are printed once, here, as `error: …` and `hint: …`.

mod cli;
mod progress;
mod render;
mod report_cmd;
mod serve_cmd;
mod stats_cmd;
mod study_cmd;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use kizon_app::ingest::IngestRequest;
use kizon_app::plan::PlanOptions;
use kizon_app::providers::ProviderInput;
use kizon_app::{AppError, Study, demo, init, owner_key};
use serde::Serialize;

use cli::{AuditCommand, Cli, Command, EvidenceCommand, LockCommand, ProviderCommand};

/// A failure as the user sees it: what and where, and what to do.
pub(crate) struct Failure {
    what: String,
    hint: String,
}

impl From<AppError> for Failure {
    fn from(error: AppError) -> Failure {
        Failure {
            hint: error.hint(),
            what: error.to_string(),
        }
    }
}

fn main() -> ExitCode {
    // `kizon analyze | head -1`: when the reader of standard output goes away, end quietly as
    // Unix tools do (SIGPIPE's default action), instead of panicking in `println!`.
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.what);
            eprintln!("hint: {}", failure.hint);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let actor = cli
        .actor
        .clone()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(kizon_app::os_user);
    let study_dir = cli.study.clone().unwrap_or_else(|| PathBuf::from("."));
    let open = || Study::open(&study_dir).map_err(Failure::from);
    match cli.command {
        Command::Init(args) => {
            if args.print_template {
                print!("{}", kizon_protocol::TEMPLATE);
                return Ok(());
            }
            let dir = args
                .dir
                .expect("clap requires DIR without --print-template");
            // Before a key is made for it: a study already there is refused with nothing written.
            init::refuse_existing(&dir)?;
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
                    let path =
                        owner_key::key_ring().join(format!("{}.key", &owner.public_hex()[..16]));
                    owner.save(&path, &passphrase)?;
                    (owner, path, true)
                }
            };
            let done = init::init(&dir, &actor, "init", &owner)?;
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
            println!(
                "  kizon.sqlite     database and audit ledger (head {})",
                &done.ledger_head[..12]
            );
            println!("  documents/       content-addressed document store");
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
        }
        Command::OwnerKey(cli::OwnerKeyCommand::Create) => {
            let mut study = open()?;
            let owner = owner_key::OwnerKey::generate()?;
            let passphrase = owner_key::passphrase("kizon owner-key create", true)?;
            let path = owner_key::key_ring().join(format!("{}.key", &owner.public_hex()[..16]));
            owner.save(&path, &passphrase)?;
            let entry = study.adopt_owner_key(&actor, &owner)?;
            println!(
                "owner's key recorded in ledger entry {} / 署名鍵を記録しました: {}",
                entry.seq,
                path.display()
            );
            println!("  public key {}", owner.public_hex());
        }
        Command::OwnerKey(cli::OwnerKeyCommand::Show { json }) => {
            let study = open()?;
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
        Command::Export(command) => {
            use kizon_app::export::{self, CsvEncoding, ExportFormat};
            let study = open()?;
            let format_of = |args: &cli::ExportArgs| {
                let xlsx = match args.format.as_deref() {
                    Some(format) => format == "xlsx",
                    None => args
                        .out
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx")),
                };
                match (xlsx, args.encoding.as_str()) {
                    (true, _) => ExportFormat::Xlsx,
                    (false, "cp932") => ExportFormat::Csv(CsvEncoding::Cp932),
                    (false, _) => ExportFormat::Csv(CsvEncoding::Utf8Bom),
                }
            };
            let (args, sheet, headers, rows, what) = match command {
                cli::ExportCommand::CaseList(args) => {
                    let rows: Vec<Vec<String>> = study
                        .case_list()?
                        .iter()
                        .map(|r| r.cells_ja().to_vec())
                        .collect();
                    (
                        args,
                        "症例一覧表",
                        &export::CASE_LIST_HEADERS[..],
                        rows,
                        "case list / 症例一覧表",
                    )
                }
                cli::ExportCommand::Reads(args) => (
                    args,
                    "読影結果",
                    &export::READ_HEADERS[..],
                    study.read_rows()?,
                    "reads / 読影結果",
                ),
                cli::ExportCommand::Results(args) => (
                    args,
                    "被験機器の結果",
                    &export::RESULT_HEADERS[..],
                    study.result_rows()?,
                    "device results / 被験機器の結果",
                ),
            };
            let bytes = export::table_bytes(sheet, headers, &rows, format_of(&args));
            let rows = rows.len();
            let out = args.out;
            // Written beside the target and renamed over it: an interrupted export leaves the
            // old file or the new one, never half of one.
            let partial = out.with_extension("partial");
            std::fs::write(&partial, bytes)
                .and_then(|()| std::fs::rename(&partial, &out))
                .map_err(|e| {
                    let _ = std::fs::remove_file(&partial);
                    Failure {
                        what: format!("{}: {e}", out.display()),
                        hint: "check that the folder exists and is writable".into(),
                    }
                })?;
            println!(
                "{what} written / 出力しました: {} ({rows} rows)",
                out.display()
            );
        }
        Command::Plan(args) => {
            let study = open()?;
            let view = study.plan(PlanOptions {
                as_of: args.as_of,
                draft: args.draft,
            })?;
            if args.json {
                print_json(&view)?;
            } else {
                print!("{}", render::plan(&view, args.lang));
            }
        }
        Command::Provider(ProviderCommand::Add(args)) => {
            let mut study = open()?;
            let provider = study.add_provider(
                &actor,
                &ProviderInput {
                    name: args.name,
                    kind: args.kind,
                    consent_model: args.consent,
                    legal_basis: args.legal_basis,
                    regulator_access: args.regulator_access,
                },
            )?;
            println!(
                "provider added / データ提供元を登録しました: {} ({}, {})",
                provider.name, provider.kind, provider.consent_model
            );
        }
        Command::Provider(ProviderCommand::List(flag)) => {
            let providers = open()?.providers()?;
            if flag.json {
                print_json(&providers)?
            } else {
                print!("{}", render::providers(&providers))
            }
        }
        Command::Evidence(EvidenceCommand::Add(args)) => {
            let mut study = open()?;
            let evidence = study.add_evidence(
                &actor,
                &args.provider,
                args.kind,
                &args.file,
                args.note.as_deref(),
            )?;
            println!(
                "evidence stored / 根拠資料を保存しました: {} for {} ({} bytes, sha256 {})",
                evidence.kind, evidence.provider, evidence.size, evidence.document
            );
        }
        Command::Evidence(EvidenceCommand::List(flag)) => {
            let evidence = open()?.evidence()?;
            if flag.json {
                print_json(&evidence)?
            } else {
                print!("{}", render::evidence(&evidence))
            }
        }
        Command::Ingest(args) => {
            let mut study = open()?;
            study.set_csv_encoding(args.csv.encoding);
            let request = IngestRequest {
                provider: args.provider,
                manifest: args.manifest,
                paths: args.paths,
                for_amendment: args.for_amendment,
            };
            let summary = study.ingest(&actor, &request, progress::for_terminal().as_ref())?;
            if args.json {
                print_json(&summary)?;
            } else {
                print!("{}", render::ingest(&summary));
            }
        }
        Command::Items(args) => {
            let items = open()?.items()?;
            let listed: Vec<serde_json::Value> = items
                .iter()
                .filter(|i| args.kind.is_none_or(|k| i.kind == k))
                .filter(|i| args.case.as_deref().is_none_or(|c| i.case_id == c))
                .map(render::item_json)
                .collect();
            if args.json {
                print_json(&listed)?;
            } else {
                print!("{}", render::items(&listed));
            }
        }
        Command::Check(flag) => {
            let summary = open()?.check(&actor)?;
            if flag.json {
                print_json(&summary)?;
            } else {
                println!(
                    "checked / 確認: {} items, {} findings ({} new), {} blocking findings open / 未解決の重大な疑義",
                    summary.items, summary.findings, summary.new_findings, summary.open_blocking
                );
                println!("next: kizon findings --open");
            }
        }
        Command::Findings(args) => {
            let findings: Vec<_> = open()?
                .findings()?
                .into_iter()
                .filter(|f| !args.open || f.status.is_unresolved())
                .collect();
            if args.json {
                print_json(&findings)?;
            } else {
                print!("{}", render::findings(&findings));
            }
        }
        Command::Resolve(args) => {
            use kizon_app::check::Decision;
            let decision = if args.exclude_case {
                Decision::ExcludeCase
            } else if args.accept {
                Decision::Accept
            } else {
                Decision::QueryProvider
            };
            let reason = kizon_app::text::Reason::new(&args.reason, args.reason_en.as_deref());
            let mut study = open()?;
            let finding = study.resolve(&actor, args.id, decision, reason, &args.cases)?;
            match finding.status {
                kizon_app::FindingStatus::Excluded => println!(
                    "finding {}: case {} excluded / 症例を除外しました: {}",
                    finding.id,
                    finding.excluded_cases.join(", "),
                    args.reason
                ),
                status => println!(
                    "finding {} is now {status} / 対応を記録しました: {}",
                    finding.id, args.reason
                ),
            }
            let pending = study.exclusions_pending_amendment()?;
            if !pending.is_empty() {
                println!(
                    "note: the locked dataset still holds {}: they leave it with `kizon amend --dataset --reason \"...\"` / 固定データセットから除くには kizon amend --dataset を実行してください",
                    pending.join(", ")
                );
            }
        }
        Command::TrainingSet(cli::TrainingSetCommand::Add {
            mut paths,
            manifest,
        }) => {
            let mut study = open()?;
            if let Some(manifest) = manifest {
                paths.extend(kizon_app::training::manifest_paths(&manifest)?);
            }
            let summary = study.training_set_add(&actor, &paths)?;
            println!(
                "training data registered / 学習データを登録しました: {} files, {} new fingerprints",
                summary.files, summary.fingerprints_added
            );
        }
        Command::Dataset(command) => study_cmd::dataset(open()?, command)?,
        Command::Readers(command) => study_cmd::readers(open()?, &actor, command)?,
        Command::Reads(command) => study_cmd::reads(open()?, &actor, command)?,
        Command::Reference(command) => study_cmd::reference(open()?, &actor, command)?,
        Command::Report(args) => report_cmd::report(open()?, &actor, args)?,
        Command::Package(args) => study_cmd::package(&study_dir, &actor, args)?,
        Command::Analyze(args) => study_cmd::analyze(open()?, &actor, args)?,
        Command::Results(command) => study_cmd::results(open()?, &actor, command)?,
        Command::Marks(command) => study_cmd::marks(open()?, &actor, command)?,
        Command::Lock(LockCommand::Dataset(flag)) => {
            study_cmd::lock_dataset(open()?, &actor, flag.json)?
        }
        Command::Lock(LockCommand::Reference(flag)) => {
            study_cmd::lock_reference(open()?, &actor, flag.json)?
        }
        Command::Amend(args) if args.dataset => study_cmd::amend_dataset(
            open()?,
            &actor,
            kizon_app::text::Reason::new(&args.reason, args.reason_en.as_deref()),
        )?,
        Command::Lock(LockCommand::Protocol) => {
            let locked = open()?.lock_protocol(&actor)?;
            println!(
                "protocol locked / 計画書を固定しました: sha256 {} (ledger entry {}, test type {}, rules {})",
                locked.sha256, locked.ledger_seq, locked.test_type, locked.rules_version
            );
        }
        Command::Deviation(cli::DeviationCommand::Add {
            description,
            description_en,
            cases,
            json,
        }) => {
            let deviation = open()?.add_deviation(
                &actor,
                kizon_app::text::Reason::new(&description, description_en.as_deref()),
                &cases,
            )?;
            if json {
                print_json(&deviation)?;
            } else {
                println!(
                    "deviation recorded / 計画からの逸脱を記録しました: #{} (ledger entry {})",
                    deviation.id, deviation.ledger_seq
                );
            }
        }
        Command::Deviation(cli::DeviationCommand::List(args)) => {
            let deviations = open()?.deviations()?;
            if args.json {
                print_json(&deviations)?;
            } else if deviations.is_empty() {
                println!("no deviation recorded / 記録された逸脱はありません");
            } else {
                for d in &deviations {
                    println!(
                        "#{}\t{}\t{}\tledger entry {}",
                        d.id,
                        d.description,
                        d.case_ids.join(" "),
                        d.ledger_seq
                    );
                }
            }
        }
        Command::Amend(args) => {
            let amended = open()?.amend(
                &actor,
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
        }
        Command::Audit(AuditCommand::Log(flag)) => {
            let entries = open()?.audit_log()?;
            if flag.json {
                print_json(&entries)?
            } else {
                print!("{}", render::ledger(&entries))
            }
        }
        Command::Audit(AuditCommand::Verify(args)) => {
            let public_key = args
                .public_key
                .as_deref()
                .map(owner_key::read_public_key)
                .transpose()?;
            let study = open()?;
            let mut report = study.verify_signed(args.head.as_deref(), public_key.as_deref())?;
            if args.deep {
                study.verify_decodes(&mut report)?;
            }
            if args.json {
                print_json(&report)?
            } else {
                print!("{}", render::verify(&report))
            }
            if let Some(first) = report.problems.first() {
                return Err(Failure {
                    what: match first.seq {
                        Some(seq) => format!("audit ledger check failed at entry {seq}: {}", first.message),
                        None => format!("audit ledger check failed: {}", first.message),
                    },
                    hint: "the study was altered outside kizon: restore it from a backup, and compare `kizon audit log` with the head hash in your reports".into(),
                });
            }
        }
        Command::Demo(args) => {
            let outcome = demo::demo(&args.dir, &actor, args.force)?;
            if args.json {
                print_json(&outcome)?;
            } else {
                println!("kizon demo: an example performance evaluation test / 性能評価試験のデモ");
                for (i, step) in outcome.steps.iter().enumerate() {
                    println!("  {}. {step}", i + 1);
                }
                println!();
                println!(
                    "problems planted in the generated data, and what `kizon check` found / 仕込んだ疑義と検出結果:"
                );
                for planted in &outcome.planted {
                    println!("  - planted: {planted}");
                }
                for f in &outcome.findings {
                    println!(
                        "  - found #{} [{}] {} {}: {}",
                        f.id, f.clause, f.severity, f.rule, f.message_en
                    );
                }
                println!();
                print!("{}", render::plan(&outcome.plan, cli::Lang::Both));
                println!();
                println!("study: {} / 試験ディレクトリ", outcome.dir.display());
                for report in &outcome.reports {
                    println!("report: {} / 報告書", report.display());
                }
                println!(
                    "package: {} / 信頼性調査用資料 (kizon package verify {})",
                    outcome.package.display(),
                    outcome.package.display()
                );
                println!(
                    "next: kizon --study {} plan | audit log | audit verify",
                    outcome.dir.display()
                );
                println!(
                    "web / Web作業画面: kizon --study {0} user add admin --role admin < password.txt && kizon --study {0} serve",
                    outcome.dir.display()
                );
            }
        }
        Command::Stats(command) => stats_cmd::run(command)?,
        Command::Serve(args) => serve_cmd::serve(&study_dir, args)?,
        Command::User(command) => serve_cmd::user(open()?, &actor, command)?,
    }
    Ok(())
}

pub(crate) fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure {
        what: format!("could not write JSON: {e}"),
        hint: "report this as a bug".into(),
    })?;
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`kizon plan --json | head`) is not an error worth a message.
    let _ = writeln!(stdout, "{text}");
    Ok(())
}
