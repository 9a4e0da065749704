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

/// Rewrites `relative` and its hash and size in index.json, as a careful forger would.
fn forge(pkg: &Path, relative: &str, edit: impl FnOnce(String) -> String) {
    let path = pkg.join(relative);
    let old = std::fs::read_to_string(&path).unwrap();
    let new = edit(old.clone());
    assert_ne!(old, new, "the edit must change {relative}");
    std::fs::write(&path, &new).unwrap();
    let mut index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pkg.join("index.json")).unwrap()).unwrap();
    for file in index["files"].as_array_mut().unwrap() {
        if file["path"] == relative {
            file["sha256"] = hex(new.as_bytes()).into();
            file["size"] = new.len().into();
        }
    }
    std::fs::write(
        pkg.join("index.json"),
        serde_json::to_vec_pretty(&index).unwrap(),
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
    // The ledger and the owner's signatures sit beside the index: the ledger's last entry, the
    // package's own, records the index's hash.
    assert!(!paths.contains(&"ledger/ledger.json"));
    let ledger: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pkg.join("ledger/ledger.json")).unwrap())
            .unwrap();
    let last = ledger.as_array().unwrap().last().unwrap();
    assert_eq!(last["command"], "package");
    let index_sha = Sha256::digest(std::fs::read(pkg.join("index.json")).unwrap())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect::<String>();
    assert!(last["detail"].as_str().unwrap().contains(&index_sha));
    assert!(pkg.join("ledger/signatures.json").is_file());
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

/// A ledger entry whose detail is not JSON was read as an empty detail, and the checks that
/// compare documents with the ledger's lock entries passed over it in silence.
#[test]
fn a_ledger_detail_that_is_not_json_is_named() {
    let (_tmp, pkg) = packaged();
    forge(&pkg, "ledger/ledger.json", |text| {
        let mut ledger: serde_json::Value = serde_json::from_str(&text).unwrap();
        let entries = ledger.as_array_mut().unwrap();
        let lock = entries
            .iter_mut()
            .find(|e| e["command"] == "lock dataset")
            .expect("the package's ledger locks the dataset");
        lock["detail"] = serde_json::Value::String("{not json".into());
        serde_json::to_string_pretty(&ledger).unwrap()
    });
    let run = verify(&pkg).failed();
    assert!(
        run.stdout
            .contains("(lock dataset): its detail is not JSON"),
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

/// Appends to `relative` and puts its new hash and size into index.json.
fn append_and_reindex(pkg: &Path, relative: &str, extra: &[u8]) {
    let path = pkg.join(relative);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(extra);
    std::fs::write(&path, &bytes).unwrap();
    let mut index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pkg.join("index.json")).unwrap()).unwrap();
    for file in index["files"].as_array_mut().unwrap() {
        if file["path"] == relative {
            file["sha256"] = hex(&bytes).into();
            file["size"] = bytes.len().into();
        }
    }
    std::fs::write(
        pkg.join("index.json"),
        serde_json::to_vec_pretty(&index).unwrap(),
    )
    .unwrap();
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Adds a file entry to index.json as a hostile packager would.
fn index_entry(pkg: &Path, path: &str, sha256: &str, size: u64) {
    let mut index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pkg.join("index.json")).unwrap()).unwrap();
    index["files"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "path": path, "sha256": sha256, "size": size, "title_ja": "x", "title_en": "x"
        }));
    std::fs::write(
        pkg.join("index.json"),
        serde_json::to_vec_pretty(&index).unwrap(),
    )
    .unwrap();
}

/// Bytes appended to the report with its new hash in the index used to verify as intact.
#[test]
fn an_index_rehashed_after_an_edit_no_longer_matches_the_signed_ledger() {
    let (_tmp, pkg) = packaged();
    append_and_reindex(&pkg, "report/report-ja.pdf", b"%% appended");
    let run = verify(&pkg).failed();
    assert!(
        run.stdout
            .contains("is not the index the ledger's last entry records"),
        "{}",
        run.stdout
    );
}

/// A protocol version deleted and dropped from the index used to verify as intact.
#[test]
fn a_document_dropped_from_the_index_is_found() {
    let (_tmp, pkg) = packaged();
    let mut index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pkg.join("index.json")).unwrap()).unwrap();
    let files = index["files"].as_array_mut().unwrap();
    let at = files
        .iter()
        .position(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .starts_with("protocol/versions/")
        })
        .unwrap();
    let removed = files.remove(at);
    std::fs::remove_file(pkg.join(removed["path"].as_str().unwrap())).unwrap();
    std::fs::write(
        pkg.join("index.json"),
        serde_json::to_vec_pretty(&index).unwrap(),
    )
    .unwrap();
    let run = verify(&pkg).failed();
    assert!(
        run.stdout
            .contains("is not the index the ledger's last entry records"),
        "{}",
        run.stdout
    );
}

/// An analysis set to pass, an empty ledger and a rehashed index used to verify as intact
/// (an empty ledger skipped every ledger check).
#[test]
fn an_empty_ledger_is_an_error() {
    let (_tmp, pkg) = packaged();
    forge(&pkg, "analysis/analysis.json", |text| {
        text.replacen("\"pass\": false", "\"pass\": true", 1)
            .replacen("\"pass\": true", "\"pass\": true ", 1)
    });
    std::fs::write(pkg.join("ledger/ledger.json"), "[]").unwrap();
    std::fs::write(pkg.join("ledger/signatures.json"), "[]").unwrap();
    let run = verify(&pkg).failed();
    assert!(run.stdout.contains("holds no entry"), "{}", run.stdout);
}

/// Paths outside the package, a FIFO and a device in the index: confined, never read (a FIFO
/// used to hang verify, /dev/zero to read until memory ran out).
#[test]
fn a_hostile_index_cannot_reach_outside_the_package_or_hang_verify() {
    let (tmp, pkg) = packaged();
    let outside = tmp.path().join("outside.txt");
    std::fs::write(&outside, b"outside").unwrap();
    index_entry(&pkg, "../outside.txt", &hex(b"outside"), 7);
    index_entry(&pkg, "/dev/zero", &hex(b""), 0);
    let fifo = pkg.join("reference/pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    index_entry(&pkg, "reference/pipe", &hex(b""), 0);
    std::os::unix::fs::symlink(&outside, pkg.join("reference/link.txt")).unwrap();
    index_entry(&pkg, "reference/link.txt", &hex(b"outside"), 7);
    let run = verify(&pkg).failed();
    for expected in [
        "index.json names `../outside.txt`: not a path inside the package",
        "index.json names `/dev/zero`: not a relative path",
        "index.json names `reference/pipe`: not a regular file",
        "index.json names `reference/link.txt`: a symbolic link",
    ] {
        assert!(run.stdout.contains(expected), "{expected}\n{}", run.stdout);
    }
}

/// The package verifies against the owner's key from outside, and not against another.
#[test]
fn verify_checks_the_signatures_against_the_given_key() {
    let (tmp, pkg) = packaged();
    let public = kizon(&tmp.path().join("demo"), &["owner-key", "show", "--json"])
        .ok()
        .json()["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = pkg.to_str().unwrap();
    kizon(
        tmp.path(),
        &["package", "verify", dir, "--public-key", &public],
    )
    .ok();
    let other = "ab".repeat(32);
    let run = kizon(
        tmp.path(),
        &["package", "verify", dir, "--public-key", &other],
    )
    .failed();
    assert!(
        run.stdout.contains("re-signed with another key"),
        "{}",
        run.stdout
    );
}

/// A 64 GiB sparse file in the index used to abort verify ("memory allocation failed"), a
/// 15 GiB ledger too, and one file listed many times kept it busy for days; now memory stays
/// flat, the large file of an index the ledger does not record is not read, a huge ledger is
/// refused unread, and a path listed twice is a problem.
#[test]
fn a_hostile_package_cannot_exhaust_memory_or_time() {
    let (_tmp, pkg) = packaged();
    let big = pkg.join("reference/big.bin");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(64 << 30)
        .unwrap();
    index_entry(&pkg, "reference/big.bin", &"00".repeat(32), 64 << 30);
    for _ in 0..200 {
        index_entry(&pkg, "findings/findings.json", &"00".repeat(32), 10);
    }
    let ledger = pkg.join("ledger/ledger.json");
    std::fs::remove_file(&ledger).unwrap();
    std::fs::File::create(&ledger)
        .unwrap()
        .set_len(15 << 30)
        .unwrap();
    let run = verify(&pkg).failed();
    for expected in [
        "`reference/big.bin` (68719476736 bytes) not read",
        "index.json lists `findings/findings.json` more than once",
        "ledger/ledger.json: 16106127360 bytes, more than",
    ] {
        assert!(run.stdout.contains(expected), "{expected}\n{}", run.stdout);
    }
}
