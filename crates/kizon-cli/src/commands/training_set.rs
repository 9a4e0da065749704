//! `kizon training-set`: the device's training data, so that `check` proves the test data independent of it.

use std::path::PathBuf;

use clap::Subcommand;

use crate::commands::{Context, Done};

#[derive(Subcommand, Debug)]
pub enum TrainingSetCommand {
    /// Fingerprint files and folders of training data (SHA-256, SOP Instance UID, patient key, pixel and perceptual hashes)
    #[command(
        after_help = "Examples:\n  kizon training-set add /data/training-2025\n  kizon training-set add --manifest training.csv     (a CSV with a `path` column, relative to it)\n  kizon check      # any overlap with the test data is a finding"
    )]
    Add {
        /// Files and folders of training data (read, never stored)
        #[arg(required_unless_present = "manifest")]
        paths: Vec<PathBuf>,
        /// A CSV listing training files or folders in a `path` column (relative to the CSV)
        #[arg(long, value_name = "FILE.csv")]
        manifest: Option<PathBuf>,
    },
}

pub fn run(ctx: &Context, command: TrainingSetCommand) -> Done {
    match command {
        TrainingSetCommand::Add {
            mut paths,
            manifest,
        } => {
            let mut study = ctx.open()?;
            if let Some(manifest) = manifest {
                paths.extend(kizon_app::training::manifest_paths(&manifest)?);
            }
            let summary = study.training_set_add(ctx.actor(), &paths)?;
            println!(
                "training data registered / 学習データを登録しました: {} files, {} new fingerprints",
                summary.files, summary.fingerprints_added
            );
        }
    }
    Ok(())
}
