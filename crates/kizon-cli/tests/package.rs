//! `kizon package` and `kizon package verify`: the evidence package of the demo study, and
//! every way of altering it that verification must name.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use sha2::{Digest, Sha256};

/// The demo study and its package in `pkg`.
fn packaged() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    kizon(tmp.path(), &["demo", "demo"]).ok();
    let run = kizon(&tmp.path().join("demo"), &["package", "--out", "../pkg"]).ok();
    assert!(
        run.stdout.contains("evidence package written"),
        "{}",
        run.stdout
    );
    let pkg = tmp.path().join("pkg");
    (tmp, pkg)
}

fn verify(pkg: &Path) -> Run {
    kizon(
        pkg.parent().unwrap(),
        &["package", "verify", pkg.to_str().unwrap()],
    )
}

/// Rewrites `relative` and its hash in index.json, as a careful forger would.
fn forge(pkg: &Path, relative: &str, edit: impl FnOnce(String) -> String) {
    let path = pkg.join(relative);
    let old = std::fs::read_to_string(&path).unwrap();
    let new = edit(old.clone());
    assert_ne!(old, new, "the edit must change {relative}");
    std::fs::write(&path, &new).unwrap();
    let hex = |b: &[u8]| {
        Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    };
    let index = std::fs::read_to_string(pkg.join("index.json")).unwrap();
    std::fs::write(
        pkg.join("index.json"),
        index.replace(&hex(old.as_bytes()), &hex(new.as_bytes())),
    )
    .unwrap();
}

#[test]
fn the_package_lists_every_part_and_verifies() {
    let (_tmp, pkg) = packaged();
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pkg.join("index.json")).unwrap()).unwrap();
    let paths: Vec<&str> = index["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    for expected in [
        "protocol/study.toml",
        "protocol/amendments.json",
        "providers/evidence.json",
        "dataset/ingest-manifest.csv",
        "dataset/dataset.json",
        "findings/findings.json",
        "reference/reference.json",
        "results/results.json",
        "analysis/analysis.json",
        "ledger/ledger.json",
        "ledger/verification.json",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:?}"
        );
    }
    assert!(
        paths
            .iter()
            .filter(|p| p.starts_with("providers/evidence/"))
            .count()
            >= 9
    );
    let md = std::fs::read_to_string(pkg.join("index.md")).unwrap();
    assert!(md.contains("信頼性調査用資料一覧 / Evidence package index"));
    let run = verify(&pkg).ok();
    assert!(run.stdout.contains("intact"), "{}", run.stdout);
}

#[test]
fn altered_missing_and_added_files_are_named() {
    let (_tmp, pkg) = packaged();
    let results = pkg.join("results/results.json");
    let text =
        std::fs::read_to_string(&results)
            .unwrap()
            .replacen("\"positive\"", "\"negative\"", 1);
    std::fs::write(&results, text).unwrap();
    std::fs::remove_file(pkg.join("findings/findings.json")).unwrap();
    std::fs::write(
        pkg.join("reference/extra-reads.csv"),
        "reader,case_id,label\n",
    )
    .unwrap();
    let run = verify(&pkg).failed();
    assert!(
        run.stdout.contains("altered / 改変: results/results.json"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("missing / 欠落: findings/findings.json"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("added / 追加: reference/extra-reads.csv"),
        "{}",
        run.stdout
    );
    assert!(
        run.error_line()
            .contains("1 altered, 1 missing, 1 added files"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_forged_ledger_entry_breaks_the_chain_even_with_a_matching_index() {
    let (_tmp, pkg) = packaged();
    forge(&pkg, "ledger/ledger.json", |text| {
        text.replacen("\"actor\": \"tester\"", "\"actor\": \"someone else\"", 1)
    });
    let run = verify(&pkg).failed();
    assert!(
        run.stdout
            .contains("ledger/ledger.json: the chain breaks at entry 1"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_case_removed_from_the_dataset_changes_its_merkle_root() {
    let (_tmp, pkg) = packaged();
    forge(&pkg, "dataset/dataset.json", |text| {
        let mut dataset: serde_json::Value = serde_json::from_str(&text).unwrap();
        dataset["cases"].as_array_mut().unwrap().remove(3);
        serde_json::to_string_pretty(&dataset).unwrap()
    });
    let run = verify(&pkg).failed();
    assert!(
        run.stdout
            .contains("dataset/dataset.json: its cases and files give Merkle root"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("not the document the ledger records (lock dataset"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_second_package_into_the_same_directory_is_refused() {
    let (tmp, _pkg) = packaged();
    let run = kizon(&tmp.path().join("demo"), &["package", "--out", "../pkg"]).failed();
    assert!(run.error_line().contains("not empty"), "{}", run.stderr);
}
