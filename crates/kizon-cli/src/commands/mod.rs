//! One module per command: its clap arguments, its run and its rendering. Each `run` calls
//! one use case of kizon-app and prints its answer; errors go back to `main` as a [`Failure`].

pub mod amend;
pub mod analyze;
pub mod audit;
pub mod check;
pub mod dataset;
pub mod deidentify;
pub mod demo;
pub mod deviation;
pub mod evidence;
pub mod export;
pub mod findings;
pub mod ingest;
pub mod init;
pub mod items;
pub mod lock;
pub mod marks;
pub mod migrate_store;
pub mod owner_key;
pub mod package;
pub mod plan;
pub mod provider;
pub mod readers;
pub mod reading;
pub mod reads;
pub mod reference;
pub mod report;
pub mod resolve;
pub mod results;
pub mod serve;
pub mod specimens;
pub mod stats;
pub mod training_set;
pub mod user;

use std::io::Write;
use std::path::{Path, PathBuf};

use kizon_app::{AppError, Study};
use serde::Serialize;

/// What a command returns: done, or a failure for `main` to print.
pub type Done = Result<(), Failure>;

/// Who acts and on which study, from the global options.
pub struct Context {
    actor: String,
    study_dir: PathBuf,
}

impl Context {
    /// `--actor` (else KIZON_ACTOR, else the OS user) and `--study` (else the current directory).
    pub fn new(actor: Option<String>, study_dir: Option<PathBuf>) -> Context {
        Context {
            actor: actor
                .filter(|a| !a.trim().is_empty())
                .unwrap_or_else(kizon_app::os_user),
            study_dir: study_dir.unwrap_or_else(|| PathBuf::from(".")),
        }
    }

    /// Who acts, as the audit ledger records it.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    pub fn study_dir(&self) -> &Path {
        &self.study_dir
    }

    /// Opens the study.
    pub fn open(&self) -> Result<Study, Failure> {
        Study::open(&self.study_dir).map_err(Failure::from)
    }
}

/// A failure as the user sees it: what and where, and what to do.
pub struct Failure {
    pub what: String,
    pub hint: String,
}

impl From<AppError> for Failure {
    fn from(error: AppError) -> Failure {
        Failure {
            hint: error.hint(),
            what: error.to_string(),
        }
    }
}

impl From<kizon_app::stats::CalcError> for Failure {
    fn from(error: kizon_app::stats::CalcError) -> Failure {
        Failure::from(AppError::from(error))
    }
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

pub(crate) fn print_import(
    summary: &kizon_app::reference::ImportSummary,
    what: &str,
    json: bool,
) -> Done {
    if json {
        return print_json(summary);
    }
    println!(
        "{what}: {} rows, {} new, {} already recorded (file sha256 {}{})",
        summary.rows,
        summary.new,
        summary.unchanged,
        &summary.document[..12],
        summary
            .ledger_seq
            .map(|s| format!(", ledger entry {s}"))
            .unwrap_or_default()
    );
    Ok(())
}
