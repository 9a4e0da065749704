//! Running the real `kizon` binary in a temporary study, as a user would.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const KIZON: &str = env!("CARGO_BIN_EXE_kizon");

/// The owner's passphrase every test study's key is made with.
pub const PASSPHRASE: &str = "test owner passphrase";

/// Where test studies' owner keys are kept: beside the test binaries, never in the user's home.
pub fn key_home() -> std::path::PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("kizon-home")
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    /// A failure as the CLI must report it: exit 1, `error:` then `hint:`, no panic.
    pub fn failed(self) -> Run {
        assert_eq!(
            self.code, 1,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert!(lines.len() >= 2, "{}", self.stderr);
        assert!(
            lines[lines.len() - 2].starts_with("error: "),
            "{}",
            self.stderr
        );
        assert!(
            lines[lines.len() - 1].starts_with("hint: "),
            "{}",
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        self
    }

    pub fn error_line(&self) -> &str {
        self.stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_default()
    }
}

pub fn output(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs kizon with `args` in `dir`, as actor `tester`.
pub fn kizon(dir: &Path, args: &[&str]) -> Run {
    output(command(dir, args).output().expect("kizon runs"))
}

pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(KIZON);
    command
        .current_dir(dir)
        .args(args)
        .env("KIZON_ACTOR", "tester")
        .env("KIZON_HOME", key_home())
        .env("KIZON_PASSPHRASE", PASSPHRASE)
        .env_remove("KIZON_OWNER_KEY")
        .env_remove("KIZON_STUDY");
    command
}

/// A fresh study from `kizon init`, in a temporary directory.
pub fn new_study() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    kizon(tmp.path(), &["init", "study"]).ok();
    let root = tmp.path().join("study");
    (tmp, root)
}

/// Replaces the `[design]` table and novelty of study.toml, dropping the endpoints.
pub fn write_design(
    root: &Path,
    novelty: &str,
    linked: bool,
    reference: &str,
    privacy: &str,
    table: &str,
) {
    let template = kizon_protocol::TEMPLATE;
    let start = template.find("[design]").unwrap();
    let text = format!(
        "{}[design]\nlinked_clinical_info = {linked}\nreference_standard = \"{reference}\"\n\
         privacy = \"{privacy}\"\ncorrespondence_table = \"{table}\"\ndata_kinds = [\"image\"]\n",
        &template[..start]
    )
    .replace("novelty = \"new\"", &format!("novelty = \"{novelty}\""));
    std::fs::write(root.join("study.toml"), text).unwrap();
}

/// A file of ../shared/data (read only: copy before altering).
pub fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(relative)
        .canonicalize()
        .unwrap()
}

/// A fresh study with one hospital provider named `H`.
pub fn study_with_provider() -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = new_study();
    kizon(
        &root,
        &[
            "provider",
            "add",
            "H",
            "--kind",
            "hospital",
            "--consent",
            "opt-out",
            "--legal-basis",
            "x",
        ],
    )
    .ok();
    (tmp, root)
}
