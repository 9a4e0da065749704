//! Issue 18, point 3: a study's documents in an S3-compatible object store, on a real one (a
//! throwaway `moto_server`, never a service): the demo end to end with its ledger and package
//! verified; a document altered or deleted in the bucket caught by `audit verify`; a second
//! machine reaching the same study through the same database and bucket; clear one-line
//! errors without credentials or with a prefix another study uses.

mod common;

use std::path::Path;

use common::*;
use kizon_objects::throwaway::ThrowawayS3;
use kizon_store::throwaway::ThrowawayPostgres;

fn with_store(server: &ThrowawayS3, dir: &Path, args: &[&str]) -> Run {
    let mut command = command(dir, args);
    command.envs(server.env());
    output(command.output().expect("kizon runs"))
}

/// The objects under `prefix` in the throwaway bucket, as (name, `s3://` URL).
fn listed(server: &ThrowawayS3, prefix: &str) -> Vec<(String, String)> {
    kizon_objects::Objects::S3(std::sync::Arc::new(server.store(prefix)))
        .list()
        .unwrap()
}

#[test]
fn the_demo_keeps_its_documents_in_the_object_store_and_verifies() {
    let server = ThrowawayS3::start().unwrap();
    let url = server.url("demo-study");
    let tmp = tempfile::tempdir().unwrap();
    let made = with_store(&server, tmp.path(), &["demo", "d", "--objects", &url]).ok();
    assert!(made.stdout.contains("report:"), "{}", made.stdout);
    let root = tmp.path().join("d");
    let recorded = std::fs::read_to_string(root.join("objects.url")).unwrap();
    assert!(
        recorded.starts_with("s3://kizon-study/demo-study?endpoint="),
        "{recorded}"
    );
    assert!(
        !root.join("documents").exists(),
        "no local document store beside the bucket"
    );

    let verified = with_store(&server, &root, &["audit", "verify", "--json"])
        .ok()
        .json();
    let documents = verified["documents"].as_u64().unwrap();
    let objects = listed(&server, "demo-study");
    assert!(documents >= 10, "{verified}");
    assert_eq!(
        objects.len() as u64,
        documents,
        "every document is in the bucket"
    );
    assert!(
        verified["problems"].as_array().unwrap().is_empty(),
        "{verified}"
    );

    // `--force` rebuilds a demo's folder, never its bucket: on the same prefix it is refused
    // before the folder is touched, and says what to give instead.
    let forced = with_store(
        &server,
        tmp.path(),
        &["demo", "d", "--objects", &url, "--force"],
    )
    .failed();
    assert!(
        forced.error_line().contains("already holds objects"),
        "{}",
        forced.stderr
    );
    assert!(forced.stderr.contains("STUDY-ID"), "{}", forced.stderr);
    assert!(root.join("objects.url").is_file());
    assert_eq!(listed(&server, "demo-study").len() as u64, documents);

    let package = kizon(tmp.path(), &["package", "verify", "d/package"]).ok();
    assert!(package.stdout.contains("intact"), "{}", package.stdout);

    // A command that needs a document, without credentials: one line naming what to set.
    let refused = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        refused.error_line().contains("AWS_ACCESS_KEY_ID"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("panicked"), "{}", refused.stderr);

    // One document altered and another deleted in the bucket, behind kizon's back.
    let (altered, altered_url) = &objects[0];
    let (deleted, deleted_url) = &objects[1];
    let key = |url: &str| url.trim_start_matches("s3://kizon-study/").to_owned();
    server.overwrite(&key(altered_url), b"forged").unwrap();
    server.remove(&key(deleted_url)).unwrap();
    let caught = with_store(&server, &root, &["audit", "verify"]).failed();
    let said = format!("{}{}", caught.stdout, caught.stderr);
    assert!(
        said.contains(&format!("document {altered} was altered")),
        "{said}"
    );
    assert!(
        said.contains(&format!("document {deleted} is missing")),
        "{said}"
    );
    assert!(
        said.contains(altered_url.as_str()),
        "the bucket key is named: {said}"
    );

    // A second study may not share the prefix.
    let again = with_store(&server, tmp.path(), &["init", "e", "--objects", &url]).failed();
    assert!(
        again.error_line().contains("already holds objects"),
        "{}",
        again.stderr
    );
    assert!(!tmp.path().join("e").join("kizon.sqlite").exists());

    // A prefix is claimed when its study is made, before any document is stored in it.
    let fresh = server.url("fresh");
    with_store(&server, tmp.path(), &["init", "f", "--objects", &fresh]).ok();
    let second = with_store(&server, tmp.path(), &["init", "g", "--objects", &fresh]).failed();
    assert!(
        second.error_line().contains("already holds objects"),
        "{}",
        second.stderr
    );

    // An objects.url left in a folder (a copy, a killed init) does not travel into a new
    // study made without one: its documents stay in its own folder.
    let copied = tmp.path().join("h");
    std::fs::create_dir(&copied).unwrap();
    std::fs::copy(root.join("objects.url"), copied.join("objects.url")).unwrap();
    kizon(tmp.path(), &["init", "h"]).ok();
    assert!(!copied.join("objects.url").exists());
    assert!(copied.join("documents").is_dir());
}

/// The point of both: two machines (two study folders) on one PostgreSQL database and one
/// bucket see one study: what one records, with its documents, the other verifies.
#[test]
fn two_machines_share_a_study_through_postgresql_and_the_object_store() {
    let s3 = ThrowawayS3::start().unwrap();
    let postgres = ThrowawayPostgres::start().unwrap();
    let database = postgres.new_database().unwrap();
    let objects = s3.new_study_url();
    let tmp = tempfile::tempdir().unwrap();
    // An init that fails after the object store was checked (here: no database server there)
    // leaves the prefix free for the next try.
    let unreachable = with_store(
        &s3,
        tmp.path(),
        &[
            "init",
            "x",
            "--database",
            "postgres://kizon@127.0.0.1:9/none",
            "--objects",
            &objects,
        ],
    )
    .failed();
    assert!(
        !unreachable.stderr.contains("panicked"),
        "{}",
        unreachable.stderr
    );
    let first = tmp.path().join("first");
    with_store(
        &s3,
        tmp.path(),
        &[
            "demo",
            "first",
            "--database",
            &database,
            "--objects",
            &objects,
        ],
    )
    .ok();

    // The second machine has the protocol and the two URLs, nothing else.
    let second = tmp.path().join("second");
    std::fs::create_dir(&second).unwrap();
    for name in ["study.toml", "database.url", "objects.url"] {
        std::fs::copy(first.join(name), second.join(name)).unwrap();
    }
    let evidence = second.join("irb.pdf");
    std::fs::write(&evidence, b"%PDF-1.4 second machine's approval").unwrap();
    with_store(
        &s3,
        &second,
        &[
            "evidence",
            "add",
            "Kizon Demo University Hospital",
            "ethics-review",
            "irb.pdf",
        ],
    )
    .ok();
    // The first machine reads the document the second stored.
    let verified = with_store(&s3, &first, &["audit", "verify", "--json"])
        .ok()
        .json();
    assert!(
        verified["problems"].as_array().unwrap().is_empty(),
        "{verified}"
    );
    let listed_there = with_store(&s3, &first, &["evidence", "list", "--json"])
        .ok()
        .json();
    assert!(
        listed_there
            .to_string()
            .contains(&kizon_objects::sha256_hex(
                b"%PDF-1.4 second machine's approval"
            )),
        "{listed_there}"
    );
    let from_second = with_store(&s3, &second, &["audit", "verify", "--json"])
        .ok()
        .json();
    assert_eq!(from_second["head"], verified["head"]);
    assert_eq!(from_second["documents"], verified["documents"]);
}
