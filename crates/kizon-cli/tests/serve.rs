//! `kizon user`, `kizon readers assign` and `kizon serve` as a new user runs them: accounts
//! from standard input, clear refusals, and a server that answers on the address it prints.

mod common;
/// The HTTP client kizon-web's tests speak to a real server with.
#[path = "../../kizon-web/tests/support/http.rs"]
mod http;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;

use common::*;

fn with_stdin(root: &std::path::Path, args: &[&str], input: &str) -> Run {
    let mut child = command(root, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    output(child.wait_with_output().unwrap())
}

#[test]
fn users_are_added_with_a_password_from_stdin_and_refused_clearly() {
    let (_tmp, root) = new_study();
    let added = with_stdin(
        &root,
        &["user", "add", "sato", "--role", "data-manager"],
        "a long enough passphrase\n",
    )
    .ok();
    assert!(
        added
            .stdout
            .contains("sato (data-manager, データマネージャー)"),
        "{}",
        added.stdout
    );

    let short = with_stdin(
        &root,
        &["user", "add", "kato", "--role", "auditor"],
        "short\n",
    )
    .failed();
    assert!(
        short.error_line().contains("shorter than 10"),
        "{}",
        short.stderr
    );
    let role = with_stdin(
        &root,
        &["user", "add", "kato", "--role", "boss"],
        "a long enough passphrase\n",
    )
    .failed();
    assert!(
        role.error_line()
            .contains("`boss` is not one of admin | data-manager"),
        "{}",
        role.stderr
    );
    let reader = with_stdin(
        &root,
        &["user", "add", "r1", "--role", "reader"],
        "a long enough passphrase\n",
    )
    .failed();
    assert!(reader.stderr.contains("--reader CODE"), "{}", reader.stderr);
    let unknown = with_stdin(
        &root,
        &["user", "add", "r1", "--role", "reader", "--reader", "R9"],
        "a long enough passphrase\n",
    )
    .failed();
    assert!(
        unknown.error_line().contains("no panel reader `R9`"),
        "{}",
        unknown.stderr
    );
    let twice = with_stdin(
        &root,
        &["user", "add", "sato", "--role", "auditor"],
        "a long enough passphrase\n",
    )
    .failed();
    assert!(
        twice.error_line().contains("already registered"),
        "{}",
        twice.stderr
    );
    let empty = with_stdin(&root, &["user", "add", "ito", "--role", "auditor"], "").failed();
    assert!(
        empty.error_line().contains("no password on standard input"),
        "{}",
        empty.stderr
    );

    let list = kizon(&root, &["user", "list", "--json"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["role"], "data-manager");
    // The password never reaches the ledger; the account does.
    let log = kizon(&root, &["audit", "log", "--json"]).ok().stdout;
    assert!(log.contains("user sato added as data-manager"));
    assert!(!log.contains("passphrase") && !log.contains("argon2"));
}

#[test]
fn readers_get_cases_assigned_and_unknown_cases_are_refused() {
    let (tmp, root) = study_with_provider();
    kizon(tmp.path(), &["demo", "demo"]).ok();
    let images = demo_case_files(&tmp.path().join("demo"));
    let mut manifest = String::from("case_id,path\n");
    for n in 1..=3 {
        manifest.push_str(&format!(
            "C{n:02},{}\n",
            images[&format!("C-{:03}", 20 + n)].display()
        ));
    }
    std::fs::write(tmp.path().join("manifest.csv"), manifest).unwrap();
    kizon(
        &root,
        &[
            "ingest",
            "--provider",
            "H",
            "--manifest",
            tmp.path().join("manifest.csv").to_str().unwrap(),
        ],
    )
    .ok();
    let missing = kizon(&root, &["readers", "assign", "R1", "--dataset"]).failed();
    assert!(
        missing.error_line().contains("no panel reader `R1`"),
        "{}",
        missing.stderr
    );
    kizon(
        &root,
        &[
            "readers",
            "add",
            "R1",
            "--qualification",
            "radiologist",
            "--specialty",
            "chest",
            "--years",
            "9",
            "--independent",
        ],
    )
    .ok();
    let two = kizon(
        &root,
        &["readers", "assign", "R1", "--case", "C01", "--case", "C02"],
    )
    .ok();
    assert!(
        two.stdout
            .starts_with("2 cases newly assigned to reader R1 (2 in all)"),
        "{}",
        two.stdout
    );
    let rest = kizon(&root, &["readers", "assign", "R1", "--dataset"]).ok();
    assert!(
        rest.stdout
            .starts_with("1 cases newly assigned to reader R1 (3 in all)"),
        "{}",
        rest.stdout
    );
    let unknown = kizon(&root, &["readers", "assign", "R1", "--case", "C99"]).failed();
    assert!(
        unknown.error_line().contains("no case `C99`"),
        "{}",
        unknown.stderr
    );
    let neither = kizon(&root, &["readers", "assign", "R1"]);
    assert_eq!(neither.code, 2, "bad usage: {}", neither.stderr);
}

#[test]
fn serve_prints_its_address_and_answers_there() {
    let (_tmp, root) = new_study();
    let mut child = command(&root, &["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    let address: std::net::SocketAddr = address.parse().unwrap();
    let get = |path: &str| http::request(address, "GET", path, &[], b"");
    let response = get("/login?lang=en");
    // Requests naming a case, a patient-like search and a user name: none of it may be logged.
    get("/items?q=YAMADA-TARO&case=C-001");
    get("/reading/C-001");
    http::request(
        address,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"name=tanaka.hanako&password=x&login_token=abcde",
    );
    child.kill().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    child.wait().unwrap();
    assert!(
        log.contains("GET /reading/{case} 303"),
        "route patterns are logged: {log}"
    );
    assert!(log.contains("POST /login 403"), "{log}");
    for secret in ["C-001", "YAMADA", "tanaka", "q="] {
        assert!(
            !log.contains(secret),
            "the server log shows `{secret}`: {log}"
        );
    }
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(response.text().contains("Sign in"));
    assert!(response.cookie("kizon_login").is_some());

    // A directory that is not a study is refused before listening.
    let not_a_study = kizon(root.parent().unwrap(), &["serve", "--bind", "127.0.0.1:0"]).failed();
    assert!(
        not_a_study.error_line().contains("not a kizon study"),
        "{}",
        not_a_study.stderr
    );
}
