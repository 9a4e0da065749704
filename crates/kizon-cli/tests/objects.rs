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

/// Issue 18, moving a study: a study begun with its documents in its folder moves them into a
/// bucket (`migrate-store --objects URL`) and back (`--objects local`). Every document is in
/// the new place and `audit verify` passes there; what is stored afterwards goes there; the
/// old place is kept. A move that stops half-way (here: one document missing from the folder)
/// switches nothing, and once the document is back the same command finishes it on the prefix
/// it had claimed; another study's prefix is refused.
#[test]
fn a_studys_documents_move_into_a_bucket_and_back() {
    let s3 = ThrowawayS3::start().unwrap();
    let (_tmp, root) = study_with_provider();
    let document = |name: &str, text: &str| {
        let path = root.join(name);
        std::fs::write(&path, text).unwrap();
        kizon(&root, &["evidence", "add", "H", "ethics-review", name]).ok();
        kizon_objects::sha256_hex(text.as_bytes())
    };
    document("irb.pdf", "%PDF-1.4 the ethics committee's approval");
    let last = document("optout.pdf", "%PDF-1.4 the opt-out notice");
    let before = kizon(&root, &["audit", "verify", "--json"]).ok().json();
    let documents = before["documents"].as_u64().unwrap();
    assert_eq!(documents, 2, "{before}");

    // Half-way: the last document is missing from the folder. Nothing switches, and the
    // message names the document and where it should be.
    let local_copy = root.join("documents/sha256").join(&last[..2]).join(&last);
    let saved = std::fs::read(&local_copy).unwrap();
    let mut permissions = std::fs::metadata(&local_copy).unwrap().permissions();
    std::fs::remove_file(&local_copy).unwrap();
    let url = s3.url("moved");
    let stopped = with_store(&s3, &root, &["migrate-store", "--objects", &url]).failed();
    assert!(
        stopped.error_line().contains(&last)
            && stopped
                .error_line()
                .contains("still keeps its documents there"),
        "{}",
        stopped.stderr
    );
    assert!(!root.join("objects.url").exists());
    let copied_before = listed(&s3, "moved").len() as u64;
    assert_eq!(
        copied_before,
        documents - 1,
        "all but the missing one copied"
    );

    // Put back, the same command finishes the move on the prefix it claimed.
    std::fs::write(&local_copy, &saved).unwrap();
    permissions.set_readonly(true);
    std::fs::set_permissions(&local_copy, permissions).unwrap();
    let moved = with_store(&s3, &root, &["migrate-store", "--objects", &url]).ok();
    assert!(
        moved.stdout.contains(&format!("{documents} documents")),
        "{}",
        moved.stdout
    );
    assert!(root.join("objects.url").is_file());
    assert!(!root.join("documents").exists());
    assert!(root.join("documents.before-migration/sha256").is_dir());
    assert_eq!(listed(&s3, "moved").len() as u64, documents);
    let there = with_store(&s3, &root, &["audit", "verify", "--json"])
        .ok()
        .json();
    assert_eq!(there["documents"].as_u64(), Some(documents));
    assert!(there["problems"].as_array().unwrap().is_empty(), "{there}");
    assert_eq!(
        there["head"][0].as_i64(),
        before["head"][0].as_i64().map(|seq| seq + 1),
        "one entry more: the move's"
    );
    let log = with_store(&s3, &root, &["audit", "log"]).ok().stdout;
    assert!(
        log.lines()
            .rev()
            .nth(1)
            .is_some_and(|line| line.contains("documents moved to s3://kizon-study/moved")),
        "{log}"
    );
    let again = with_store(&s3, &root, &["migrate-store", "--objects", &url]).failed();
    assert!(
        again.error_line().contains("already in this bucket")
            && again.stderr.contains("nothing to move"),
        "{}",
        again.stderr
    );

    // What is stored from now on goes to the bucket.
    let path = root.join("consent.pdf");
    std::fs::write(&path, "%PDF-1.4 a consent form").unwrap();
    with_store(
        &s3,
        &root,
        &["evidence", "add", "H", "blank-consent-form", "consent.pdf"],
    )
    .ok();
    assert_eq!(listed(&s3, "moved").len() as u64, documents + 1);

    // Another study may not move its documents onto this prefix.
    let (_other_tmp, other) = study_with_provider();
    let refused = with_store(&s3, &other, &["migrate-store", "--objects", &url]).failed();
    assert!(
        refused.error_line().contains("claimed by another study"),
        "{}",
        refused.stderr
    );
    assert!(!other.join("objects.url").exists());

    // And back to the folder: verified without the bucket's credentials.
    let back = with_store(&s3, &root, &["migrate-store", "--objects", "local"]).ok();
    assert!(
        back.stdout.contains("objects.url.before-migration"),
        "{}",
        back.stdout
    );
    assert!(!root.join("objects.url").exists());
    assert!(root.join("objects.url.before-migration").is_file());
    let home = kizon(&root, &["audit", "verify", "--json"]).ok().json();
    assert_eq!(home["documents"].as_u64(), Some(documents + 1));
    assert!(home["problems"].as_array().unwrap().is_empty(), "{home}");

    // A wrong place is refused before anything moves.
    let wrong = kizon(&root, &["migrate-store", "--objects", "/srv/documents"]).failed();
    assert!(
        wrong
            .error_line()
            .contains("neither `local` nor an s3:// URL"),
        "{}",
        wrong.stderr
    );
}

/// The moves made on one machine of a study served from two: the second machine's folder still
/// names the old bucket, then the database the study left. Its writes would land where the
/// study no longer reads; they are refused, saying what to change, and nothing of them is
/// written anywhere.
#[test]
fn a_move_made_on_one_machine_stops_the_others_writing_to_the_old_places() {
    let s3 = ThrowawayS3::start().unwrap();
    let postgres = ThrowawayPostgres::start().unwrap();
    let database = postgres.new_database().unwrap();
    let objects = s3.new_study_url();
    let tmp = tempfile::tempdir().unwrap();
    with_store(
        &s3,
        tmp.path(),
        &[
            "init",
            "first",
            "--database",
            &database,
            "--objects",
            &objects,
        ],
    )
    .ok();
    let first = tmp.path().join("first");
    let second = tmp.path().join("second");
    std::fs::create_dir(&second).unwrap();
    for name in ["study.toml", "database.url", "objects.url"] {
        std::fs::copy(first.join(name), second.join(name)).unwrap();
    }
    let add_provider = |root: &Path, name: &str| {
        with_store(
            &s3,
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
    };
    add_provider(&second, "H1").ok();

    // The first machine moves the documents to another prefix.
    let elsewhere = s3.url("elsewhere");
    with_store(&s3, &first, &["migrate-store", "--objects", &elsewhere]).ok();
    let refused = add_provider(&second, "H2").failed();
    assert!(
        refused
            .error_line()
            .contains("documents moved to s3://kizon-study/elsewhere")
            && refused.error_line().contains("objects.url"),
        "{}",
        refused.stderr
    );
    std::fs::copy(first.join("objects.url"), second.join("objects.url")).unwrap();
    add_provider(&second, "H2").ok();

    // The first machine moves the database into a SQLite file of its own.
    let moved = with_store(&s3, &first, &["migrate-store", "--to", "sqlite"]).ok();
    let refused = add_provider(&second, "H3").failed();
    assert!(
        refused
            .error_line()
            .contains("the study moved out of this database"),
        "{}",
        refused.stderr
    );
    let providers = with_store(&s3, &first, &["provider", "list"]).ok().stdout;
    assert!(
        providers.contains("H2") && !providers.contains("H3"),
        "{providers}"
    );
    // The SQLite study verifies with the head `migrate-store` printed; the database left
    // behind verifies too, one entry longer (the move's).
    let head = moved
        .stdout
        .split("--head ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    with_store(&s3, &first, &["audit", "verify", "--head", &head]).ok();
    let left = with_store(&s3, &second, &["audit", "verify", "--json"])
        .ok()
        .json();
    assert!(left["problems"].as_array().unwrap().is_empty(), "{left}");
    assert!(
        left["notes"]
            .to_string()
            .contains("the study moved out of this database"),
        "verify says why this database takes no more writes: {left}"
    );
}
