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
        .env_remove("KIZON_STUDY")
        .env_remove("KIZON_DATABASE_URL")
        .env_remove("KIZON_OBJECTS_URL");
    // An object store is reached only with what a test gives.
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_CA_BUNDLE",
    ] {
        command.env_remove(name);
    }
    // Nor a PostgreSQL password from this machine's environment or password file.
    command
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", "/nonexistent/kizon-tests/pgpass");
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
    let template = kizon_app::init::PROTOCOL_TEMPLATE;
    let start = template.find("[design]").unwrap();
    let text = format!(
        "{}[design]\nlinked_clinical_info = {linked}\nreference_standard = \"{reference}\"\n\
         privacy = \"{privacy}\"\ncorrespondence_table = \"{table}\"\ndata_kinds = [\"image\"]\n",
        &template[..start]
    )
    .replace("novelty = \"new\"", &format!("novelty = \"{novelty}\""));
    std::fs::write(root.join("study.toml"), text).unwrap();
}

/// A file of testdata (read only: copy before altering).
pub fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(relative)
        .canonicalize()
        .unwrap()
}

/// `kizon provider add NAME` for a hospital with an opt-out consent model.
pub fn add_provider(root: &Path, name: &str) -> Run {
    output(
        add_provider_command(root, name)
            .output()
            .expect("kizon runs"),
    )
}

/// [`add_provider`] as a command not yet run (to run several at once).
pub fn add_provider_command(root: &Path, name: &str) -> Command {
    command(
        root,
        &[
            "provider",
            "add",
            name,
            "--kind",
            "hospital",
            "--consent",
            "opt-out",
            "--legal-basis",
            "x",
        ],
    )
}

/// A fresh study with one hospital provider named `H`.
pub fn study_with_provider() -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = new_study();
    add_provider(&root, "H").ok();
    (tmp, root)
}

/// The demo study in `d` of a temporary directory (the owner's key in the test key ring).
pub fn demo_study() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    kizon(tmp.path(), &["demo", "d"]).ok();
    let root = tmp.path().join("d");
    (tmp, root)
}

/// The de-identified file of each case the demo in `demo` handed over from its hospital, by
/// case ID (from the hand-over's case list).
pub fn demo_case_files(demo: &Path) -> std::collections::BTreeMap<String, PathBuf> {
    let handover = demo.join("demo-sources/received/handover-2026-11-images");
    let list = std::fs::read_to_string(handover.join("cases.csv")).unwrap();
    list.lines()
        .skip(1)
        .map(|line| {
            let mut cells = line.split(',');
            let case = cells.next().unwrap().to_owned();
            (case, handover.join(cells.next().unwrap()))
        })
        .collect()
}

/// Files of testdata copied into `dir` (created) under the names given.
pub fn copy_as(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (from, to) in files {
        std::fs::copy(shared(from), dir.join(to)).unwrap();
    }
}

/// Runs SQL straight on the study's database, as someone with the sqlite3 shell would.
pub fn sql(root: &Path, statements: &str) {
    let conn = rusqlite::Connection::open(root.join("kizon.sqlite")).unwrap();
    conn.execute_batch(statements).unwrap();
}

/// The last ledger entry's sequence number, read straight from the database.
pub fn head_seq(root: &Path) -> i64 {
    let conn = rusqlite::Connection::open(root.join("kizon.sqlite")).unwrap();
    conn.query_row("SELECT max(seq) FROM ledger", [], |r| r.get(0))
        .unwrap()
}

/// Drops every trigger, the append-only ones first of all, as a forger would before editing.
pub fn drop_triggers(root: &Path) {
    let conn = rusqlite::Connection::open(root.join("kizon.sqlite")).unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for name in names {
        conn.execute_batch(&format!("DROP TRIGGER {name}")).unwrap();
    }
}

/// The study's report in `lang` as HTML, rendered with `kizon report` into the study folder.
pub fn report_html(root: &Path, lang: &str) -> String {
    let out = root.join(format!("report-{lang}.html"));
    kizon(
        root,
        &[
            "report",
            "--lang",
            lang,
            "--format",
            "html",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .ok();
    std::fs::read_to_string(&out).unwrap()
}
