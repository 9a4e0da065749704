//! The audit ledger end to end: tampering with the SQLite file or the documents is caught by
//! `kizon audit verify`, and a command killed with SIGKILL leaves a study that verifies.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;

/// Edits the database directly, as someone with the sqlite3 shell would (dropping the
/// append-only triggers first).
fn tamper(root: &Path, statements: &str) {
    drop_triggers(root);
    sql(root, statements);
}

fn verify_fails_at(root: &Path, seq: i64) -> String {
    let run = kizon(root, &["audit", "verify"]).failed();
    let error = run.error_line().to_owned();
    assert!(
        error.contains(&format!("at entry {seq}:")),
        "expected entry {seq}: {error}"
    );
    error
}

#[test]
fn untouched_demo_verifies_and_the_log_shows_every_command() {
    let (_tmp, root) = demo_study();
    let run = kizon(&root, &["audit", "verify"]).ok();
    assert!(run.stdout.contains("intact"), "{}", run.stdout);
    let log = kizon(&root, &["audit", "log", "--json"]).ok().json();
    let commands: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["command"].as_str().unwrap())
        .collect();
    assert_eq!(commands.first(), Some(&"demo"));
    assert_eq!(commands.last(), Some(&"package"));
    for command in [
        "lock protocol",
        "ingest",
        "check",
        "resolve",
        "lock dataset",
        "reference import",
        "lock reference",
        "results import",
        "analyze",
        "report",
    ] {
        assert!(commands.contains(&command), "{command}: {commands:?}");
    }
    assert_eq!(commands.iter().filter(|c| **c == "evidence add").count(), 9);
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == "tester")
    );
    let text = kizon(&root, &["audit", "log"]).ok().stdout;
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with(&format!("head: {} ", commands.len())),
        "{text}"
    );
}

#[test]
fn edited_ledger_row_is_caught() {
    let (_tmp, root) = demo_study();
    tamper(
        &root,
        "UPDATE ledger SET actor = 'someone-else' WHERE seq = 5",
    );
    assert!(verify_fails_at(&root, 5).contains("altered"));
}

#[test]
fn edited_detail_is_caught() {
    let (_tmp, root) = demo_study();
    tamper(
        &root,
        "UPDATE ledger SET detail = replace(detail, 'opt-out', 'informed-consent') WHERE seq = 2",
    );
    verify_fails_at(&root, 2);
}

#[test]
fn deleted_ledger_row_is_caught() {
    let (_tmp, root) = demo_study();
    tamper(&root, "DELETE FROM ledger WHERE seq = 7");
    verify_fails_at(&root, 8);
}

#[test]
fn deleted_last_ledger_row_is_caught() {
    let (_tmp, root) = demo_study();
    let last = kizon(&root, &["audit", "log", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .len();
    tamper(
        &root,
        &format!(
            "DELETE FROM analyses WHERE ledger_seq = {last}; DELETE FROM documents WHERE ledger_seq = {last};
             DELETE FROM ledger WHERE seq = {last}"
        ),
    );
    assert!(verify_fails_at(&root, last as i64).contains("truncated"));
}

#[test]
fn reordered_ledger_rows_are_caught() {
    let (_tmp, root) = demo_study();
    tamper(
        &root,
        "UPDATE ledger SET seq = -1 WHERE seq = 4; UPDATE ledger SET seq = 4 WHERE seq = 5; UPDATE ledger SET seq = 5 WHERE seq = -1;",
    );
    verify_fails_at(&root, 4);
}

#[test]
fn edited_lock_is_caught() {
    let (_tmp, root) = demo_study();
    tamper(
        &root,
        &format!("UPDATE locks SET sha256 = '{}'", "0".repeat(64)),
    );
    assert!(verify_fails_at(&root, 13).contains("`locks`"));
}

#[test]
fn edited_provider_is_caught() {
    let (_tmp, root) = demo_study();
    tamper(
        &root,
        "UPDATE providers SET regulator_access = 'yes' WHERE kind = 'hospital'",
    );
    verify_fails_at(&root, 2);
}

#[test]
fn replaced_document_is_caught() {
    let (_tmp, root) = demo_study();
    let evidence = kizon(&root, &["evidence", "list", "--json"]).ok().json();
    let sha = evidence[2]["document"].as_str().unwrap().to_owned();
    let path = root.join("documents/sha256").join(&sha[..2]).join(&sha);
    let mut permissions = std::fs::metadata(&path).unwrap().permissions();
    assert!(permissions.readonly());
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&path, permissions).unwrap();
    std::fs::write(&path, b"a different ethics approval").unwrap();
    let run = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        run.error_line().contains(&sha) && run.error_line().contains("altered"),
        "{}",
        run.stderr
    );
}

#[test]
fn head_hash_recorded_elsewhere_must_be_in_the_chain() {
    let (_tmp, root) = demo_study();
    let log = kizon(&root, &["audit", "log", "--json"]).ok().json();
    let hash = log[5]["hash"].as_str().unwrap();
    kizon(&root, &["audit", "verify", "--head", hash]).ok();
    kizon(&root, &["audit", "verify", "--head", &"ab".repeat(32)]).failed();
}

#[test]
fn changed_protocol_is_refused_until_amended() {
    let (_tmp, root) = demo_study();
    let path = root.join("study.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace(
            "detection support of lung nodules on chest CT",
            "detection support of lung nodules on adult chest CT",
        ),
    )
    .unwrap();
    let refused = kizon(&root, &["plan"]).failed();
    assert!(
        refused
            .error_line()
            .contains("changed since the protocol was locked"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("kizon amend"));
    kizon(&root, &["lock", "protocol"]).failed();
    kizon(
        &root,
        &[
            "amend",
            "--reason",
            "intended use worded as in the application after PMDA consultation",
        ],
    )
    .ok();
    let plan = kizon(&root, &["plan", "--json"]).ok().json();
    assert_eq!(plan["protocol_locked"], true);
    let log = kizon(&root, &["audit", "log", "--json"]).ok().json();
    let last = log.as_array().unwrap().last().unwrap();
    assert_eq!(last["command"], "amend");
    let detail: serde_json::Value = serde_json::from_str(last["detail"].as_str().unwrap()).unwrap();
    assert_eq!(
        detail["reason"],
        "intended use worded as in the application after PMDA consultation"
    );
    assert_eq!(detail["changes"][0]["key"], "device.intended_use_en");
    assert_ne!(detail["old_sha256"], detail["new_sha256"]);
    kizon(&root, &["audit", "verify"]).ok();
}

/// Kills `kizon demo` (a sequence of committed commands) at many moments; whatever it left
/// must verify, and a new command must work on it.
#[test]
fn demo_killed_at_any_moment_leaves_a_verifiable_study() {
    let tmp = tempfile::tempdir().unwrap();
    let mut outcomes = std::collections::BTreeSet::new();
    for (i, delay_ms) in [0u64, 2, 4, 8, 16, 32, 64, 100, 150, 250, 400]
        .into_iter()
        .enumerate()
    {
        let dir = format!("d{i}");
        let mut child = command(tmp.path(), &["demo", &dir]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        let root = tmp.path().join(&dir);
        if !root.join("kizon.sqlite").exists() {
            outcomes.insert(0);
            continue; // killed before the study existed: nothing to verify, nothing half-made
        }
        let run = kizon(&root, &["audit", "verify"]);
        assert_eq!(
            run.code, 0,
            "killed after {delay_ms} ms: {}{}",
            run.stdout, run.stderr
        );
        let entries = kizon(&root, &["audit", "log", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len();
        outcomes.insert(entries);
        kizon(
            &root,
            &[
                "provider",
                "add",
                "After Kill",
                "--kind",
                "database",
                "--consent",
                "not-required",
                "--legal-basis",
                "匿名加工情報",
            ],
        )
        .ok();
        kizon(&root, &["audit", "verify"]).ok();
    }
    assert!(
        outcomes.len() >= 2,
        "the kills should land at different moments: {outcomes:?}"
    );
}

/// Kills `kizon evidence add` while it copies a large file into the document store.
#[test]
fn evidence_add_killed_mid_copy_leaves_a_verifiable_study() {
    let (tmp, root) = study_with_provider();
    let big = tmp.path().join("scan.bin");
    let chunk: Vec<u8> = (0..1_048_576u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let mut file = std::fs::File::create(&big).unwrap();
    for _ in 0..256 {
        std::io::Write::write_all(&mut file, &chunk).unwrap();
    }
    drop(file);
    for delay_ms in [5u64, 50, 150] {
        let mut child = command(
            &root,
            &["evidence", "add", "H", "other", big.to_str().unwrap()],
        )
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let run = kizon(&root, &["audit", "verify"]);
        assert_eq!(
            run.code, 0,
            "killed after {delay_ms} ms: {}{}",
            run.stdout, run.stderr
        );
    }
    kizon(
        &root,
        &["evidence", "add", "H", "other", big.to_str().unwrap()],
    )
    .ok();
    kizon(&root, &["audit", "verify"]).ok();
}

/// A passphrase the owner's key refuses used to leave `study.toml` behind, and the next
/// `kizon demo` refused the folder as "not empty and holds no demo study". Nothing is written
/// now until the key is saved.
#[test]
fn a_refused_passphrase_leaves_no_half_made_demo() {
    let tmp = tempfile::tempdir().unwrap();
    let run = output(
        command(tmp.path(), &["demo", "d"])
            .env("KIZON_PASSPHRASE", "short")
            .output()
            .unwrap(),
    )
    .failed();
    assert!(
        run.error_line().contains("shorter than 8 characters"),
        "{}",
        run.stderr
    );
    assert!(!tmp.path().join("d").join("study.toml").exists());
    kizon(tmp.path(), &["demo", "d"]).ok();
}
