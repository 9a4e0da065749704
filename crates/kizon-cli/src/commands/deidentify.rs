//! `kizon deidentify`: at the hospital, the signed hand-over of its cases (Q1, Q5); `lookup`
//! finds the patient behind a pseudonym again (SDV, Q7); `review` shows the quarantine.

use std::fmt::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use kizon_app::hospital::{self, DeidentifyRequest, Passphrases, key_table};
use kizon_app::owner_key::{self, PASSPHRASE_ENV};

use crate::commands::{Context, Done, Failure, print_json};
use crate::progress;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DeidentifyArgs {
    #[command(subcommand)]
    pub command: Option<DeidentifyCommand>,
    /// The hand-over folder to make (new; its quarantine goes beside it, DIR.quarantine)
    #[arg(long, value_name = "DIR", required_unless_present = "print_profile")]
    pub out: Option<PathBuf>,
    /// The hospital's signing key (PREFIX.key from `kizon provider keygen`)
    #[arg(
        long,
        value_name = "PREFIX.key",
        required_unless_present = "print_profile"
    )]
    pub signing_key: Option<PathBuf>,
    /// The correspondence table (対応表), kept at the hospital; made on first use
    #[arg(long, value_name = "FILE", required_unless_present = "print_profile")]
    pub key_table: Option<PathBuf>,
    /// The de-identification profile (default: Basic Profile with modified dates, patient
    /// characteristics and device identity; see --print-profile)
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Print the default profile, commented, and stop
    #[arg(long)]
    pub print_profile: bool,
    /// Pull the cases from the PACS's DICOMweb root (QIDO-RS, WADO-RS; http://) instead of PATHs
    #[arg(
        long,
        value_name = "URL",
        requires = "accessions",
        conflicts_with = "paths"
    )]
    pub from_dicomweb: Option<String>,
    /// With --from-dicomweb: the accession numbers to pull, one per line (`patient:ID` for a patient's studies)
    #[arg(long, value_name = "FILE", requires = "from_dicomweb")]
    pub accessions: Option<PathBuf>,
    /// The hospital's case list (case_id, path, dates, diagnosis…, as ingest's --manifest):
    /// handed over with its paths into the hand-over and its dates shifted per patient
    #[arg(long, value_name = "FILE.csv")]
    pub case_list: Option<PathBuf>,
    /// Files and folders of the cases
    pub paths: Vec<PathBuf>,
    /// Emit the summary as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum DeidentifyCommand {
    /// Give back the original IDs behind a pseudonym, for a source-record check (recorded in the table)
    Lookup {
        /// A pseudonym (e.g. CASE-0001), or an original or replaced Study Instance UID
        pseudonym: String,
        /// The correspondence table
        #[arg(long, value_name = "FILE")]
        key_table: PathBuf,
        /// Emit JSON
        #[arg(long)]
        json: bool,
    },
    /// List the files kept back in a hand-over's quarantine, or record that one was reviewed
    Review {
        /// The hand-over folder, or its .quarantine folder
        dir: PathBuf,
        /// Record that quarantined file N was reviewed (it stays out of the hand-over)
        #[arg(long, value_name = "N", requires = "note")]
        reviewed: Option<usize>,
        /// What the reviewer decided
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// Emit JSON
        #[arg(long)]
        json: bool,
    },
}

fn table_passphrase(command: &str, confirm: bool) -> Result<String, Failure> {
    Ok(owner_key::ask_passphrase(
        command,
        ("the correspondence table", "対応表"),
        &[key_table::PASSPHRASE_ENV, PASSPHRASE_ENV],
        confirm,
    )?)
}

pub fn run(ctx: &Context, args: DeidentifyArgs) -> Done {
    match args.command {
        Some(DeidentifyCommand::Lookup {
            pseudonym,
            key_table,
            json,
        }) => {
            let passphrase = table_passphrase("kizon deidentify lookup", false)?;
            let found = hospital::lookup(&key_table, &passphrase, &pseudonym, ctx.actor())?;
            if json {
                print_json(&found)?;
            } else {
                println!("仮名 / pseudonym: {}", found.pseudonym);
                println!("患者ID / Patient ID: {}", found.patient_id);
                if !found.issuer.is_empty() {
                    println!("発行者 / issuer: {}", found.issuer);
                }
                println!("日付のずらし / date shift: {} days", found.shift_days);
                for study in &found.studies {
                    println!(
                        "  study {} (accession {}, date {}) → {}",
                        study.study_instance_uid,
                        if study.accession_number.is_empty() {
                            "-"
                        } else {
                            &study.accession_number
                        },
                        if study.study_date.is_empty() {
                            "-"
                        } else {
                            &study.study_date
                        },
                        study.new_study_instance_uid
                    );
                }
                println!(
                    "(この照会は対応表に記録されました / this look-up was recorded in the table)"
                );
            }
            return Ok(());
        }
        Some(DeidentifyCommand::Review {
            dir,
            reviewed,
            note,
            json,
        }) => {
            if let Some(number) = reviewed {
                let file = hospital::review::mark_reviewed(
                    &dir,
                    number,
                    ctx.actor(),
                    note.as_deref().unwrap_or_default(),
                )?;
                println!(
                    "quarantined file {} marked as reviewed / 確認済みとして記録しました: {}",
                    file.number, file.original
                );
                return Ok(());
            }
            let (folder, list) = hospital::review::list(&dir)?;
            if json {
                print_json(&list)?;
                return Ok(());
            }
            let open = list.iter().filter(|f| f.reviewed.is_none()).count();
            println!(
                "{}: {} files kept back, {open} not yet reviewed / 隔離 {} 件（未確認 {open} 件）",
                folder.display(),
                list.len(),
                list.len()
            );
            for file in &list {
                let state = match &file.reviewed {
                    Some(review) => format!(
                        "reviewed by {} at {}: {}",
                        review.by, review.at, review.note
                    ),
                    None => "not reviewed / 未確認".into(),
                };
                println!(
                    "  {:>4}  {}  [{}]\n        {}\n        {state}",
                    file.number, file.original, file.stored, file.reason
                );
            }
            return Ok(());
        }
        None => {}
    }
    if args.print_profile {
        print!("{}", hospital::DEFAULT_PROFILE);
        return Ok(());
    }
    let (Some(out), Some(signing_key), Some(key_table)) =
        (args.out, args.signing_key, args.key_table)
    else {
        unreachable!("clap requires --out, --signing-key and --key-table")
    };
    let signing = owner_key::ask_passphrase(
        "kizon deidentify",
        ("the provider's signing key", "提供元の署名鍵"),
        &[PASSPHRASE_ENV],
        false,
    )?;
    let table = table_passphrase("kizon deidentify", !key_table.exists())?;
    let request = DeidentifyRequest {
        out,
        signing_key,
        key_table,
        profile: args.profile,
        paths: args.paths,
        from_dicomweb: args.from_dicomweb.zip(args.accessions),
        case_list: args.case_list,
    };
    let summary = hospital::deidentify(
        &request,
        &Passphrases {
            signing_key: signing,
            key_table: table,
        },
        progress::for_terminal("deidentify").as_ref(),
    )?;
    if args.json {
        print_json(&summary)?;
    } else {
        print!("{}", render(&summary));
    }
    Ok(())
}

fn render(summary: &hospital::HandoverSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "signed hand-over / 署名付き提供データ: {} ({} files, {} patients, {} new)",
        summary.out, summary.files, summary.patients, summary.new_patients
    );
    for (kind, n) in &summary.counts_by_kind {
        let _ = writeln!(out, "  {kind}: {n}");
    }
    if let Some(pulled) = &summary.pulled {
        let _ = writeln!(
            out,
            "  pulled from the PACS / PACS から取得: {} studies, {} files for {} lines of the list{}",
            pulled.studies,
            pulled.files,
            pulled.queries,
            if pulled.not_found.is_empty() {
                String::new()
            } else {
                format!(
                    "; nothing found for lines {}",
                    pulled
                        .not_found
                        .iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
    let _ = writeln!(out, "  manifest SHA-256 {}", summary.manifest_sha256);
    let _ = writeln!(out, "  signed with key {}", summary.public_key);
    if summary.quarantined > 0 {
        let _ = writeln!(
            out,
            "kept back / 隔離: {} files in {} (not handed over; kizon deidentify review {})",
            summary.quarantined, summary.quarantine, summary.out
        );
        for (reason, n) in &summary.quarantine_reasons {
            let _ = writeln!(out, "  {n}: {reason}");
        }
    }
    out
}
