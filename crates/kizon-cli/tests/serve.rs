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

/// A `kizon serve` process on `root`, with the arguments `extra`: the process and the address
/// it printed.
fn start_server(
    root: &std::path::Path,
    extra: &[&str],
) -> (std::process::Child, std::net::SocketAddr) {
    let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = command(root, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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
        .parse()
        .unwrap();
    (child, address)
}

/// Signs in through the login form of the server at `address`: the session cookie, or the
/// response that refused it.
fn sign_in(
    address: std::net::SocketAddr,
    name: &str,
    password: &str,
) -> Result<String, http::Response> {
    let (cookie, token) = http::login_token(address);
    let response = http::request(
        address,
        "POST",
        "/login",
        &[
            ("Cookie", &format!("kizon_login={cookie}")),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        format!(
            "name={name}&password={}&login_token={token}",
            password.replace(' ', "+")
        )
        .as_bytes(),
    );
    response
        .cookie("kizon_session")
        .filter(|s| !s.is_empty())
        .ok_or(response)
}

fn csrf_of(page: &http::Response) -> String {
    page.text()
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no CSRF token in {}", page.text()))
        .to_owned()
}

/// Issue 18: two servers on one study behind a load balancer. With one session key file, a
/// login on one server is a session on the other; a CSRF token from a page of one is accepted
/// by a form sent to the other; the login limit counts attempts on both; a logout on one ends
/// the session on both. A server with a key of its own does not take the others' sessions.
#[test]
fn two_servers_on_one_study_share_sessions_csrf_tokens_and_the_login_limit() {
    two_servers_share_what_matters(None);
}

/// The same with the study kept in PostgreSQL, as a multi-site deployment keeps it.
#[test]
fn two_servers_on_one_postgresql_study_share_sessions_csrf_tokens_and_the_login_limit() {
    let server = kizon_store::throwaway::ThrowawayPostgres::start().unwrap();
    two_servers_share_what_matters(Some(&server.new_database().unwrap()));
}

fn two_servers_share_what_matters(database: Option<&str>) {
    let tmp = tempfile::tempdir().unwrap();
    let mut init = vec!["init", "s"];
    if let Some(url) = database {
        init.extend(["--database", url]);
    }
    kizon(tmp.path(), &init).ok();
    let root = tmp.path().join("s");
    let password = "a long enough passphrase";
    with_stdin(
        &root,
        &["user", "add", "admin", "--role", "admin"],
        &format!("{password}\n"),
    )
    .ok();
    let key_file = tmp.path().join("session.key");
    let key_arg = key_file.to_str().unwrap();
    let (mut first, a) = start_server(&root, &["--session-key-file", key_arg]);
    let (mut second, b) = start_server(&root, &["--session-key-file", key_arg]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is its owner's alone");
    }
    let get = |address, path: &str, session: &str| {
        http::request(
            address,
            "GET",
            path,
            &[("Cookie", &format!("kizon_session={session}"))],
            b"",
        )
    };
    let post = |address, path: &str, session: &str, form: &str| {
        http::request(
            address,
            "POST",
            path,
            &[
                ("Cookie", &format!("kizon_session={session}")),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            form.as_bytes(),
        )
    };

    // Signed in on the first, the user goes on on the second.
    let session = sign_in(a, "admin", password).unwrap_or_else(|r| panic!("{}", r.text()));
    let users_on_b = get(b, "/users?lang=en", &session);
    assert_eq!(users_on_b.status, 200, "{}", users_on_b.text());
    // The CSRF token of a page the first served is accepted by the second, and the change is
    // in the study (and its ledger) whichever server made it.
    let csrf = csrf_of(&get(a, "/users?lang=en", &session));
    let added = post(
        b,
        "/users/add",
        &session,
        &format!("csrf={csrf}&name=sato&role=auditor&password=another+long+passphrase"),
    );
    assert_eq!(added.status, 303, "{}", added.text());
    let forged = post(
        b,
        "/users/add",
        &session,
        "csrf=0000&name=kato&role=auditor&password=another+long+passphrase",
    );
    assert_eq!(
        forged.status, 403,
        "a wrong token is refused on every server"
    );
    let users = kizon(&root, &["user", "list"]).ok().stdout;
    assert!(users.contains("sato") && !users.contains("kato"), "{users}");

    // Five wrong passwords for a name, spread over both servers, use up its limit on both.
    for n in 0..5 {
        let server = if n % 2 == 0 { a } else { b };
        let refused = sign_in(server, "sato", "not the passphrase").unwrap_err();
        assert_eq!(refused.status, 401, "attempt {n}: {}", refused.text());
    }
    for server in [a, b] {
        let limited = sign_in(server, "sato", "another long passphrase").unwrap_err();
        assert_eq!(limited.status, 429, "{}", limited.text());
    }

    // A server with a key of its own does not take the shared key's sessions.
    let (mut alone, c) = start_server(&root, &[]);
    let on_c = get(c, "/users?lang=en", &session);
    assert_eq!(
        on_c.status,
        303,
        "a session keyed otherwise opens nothing: {}",
        on_c.text()
    );

    // Signed out on the second, the session has ended on the first too.
    let out = post(b, "/logout", &session, &format!("csrf={csrf}"));
    assert_eq!(out.status, 303, "{}", out.text());
    let after = get(a, "/users?lang=en", &session);
    assert_eq!(after.status, 303, "{}", after.text());
    assert!(
        after
            .header("location")
            .unwrap_or_default()
            .starts_with("/login")
    );

    // Stopped as a service manager stops them: each closes its study and exits cleanly (on
    // PostgreSQL, closing the client inside the server's runtime once aborted the process).
    for child in [&mut first, &mut second, &mut alone] {
        let stopped = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(stopped.success());
        let status = child.wait().unwrap();
        assert!(status.success(), "kizon serve stopped with {status}");
    }
    kizon(&root, &["audit", "verify"]).ok();

    // A key file others may read, or one that holds no key, is refused before listening.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let serve_with = |file: &std::path::Path| {
            kizon(
                &root,
                &[
                    "serve",
                    "--bind",
                    "127.0.0.1:0",
                    "--session-key-file",
                    file.to_str().unwrap(),
                ],
            )
            .failed()
        };
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let open = serve_with(&key_file);
        assert!(
            open.error_line().contains("may be read by others"),
            "{}",
            open.stderr
        );
        std::fs::write(&key_file, "not a key\n").unwrap();
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let garbage = serve_with(&key_file);
        assert!(
            garbage.error_line().contains("not a session key"),
            "{}",
            garbage.stderr
        );
        // A symbolic link is not followed (to a file someone else may read or own).
        let link = tmp.path().join("link.key");
        std::os::unix::fs::symlink(&key_file, &link).unwrap();
        let linked = serve_with(&link);
        assert!(
            linked.error_line().contains("not a plain file"),
            "{}",
            linked.stderr
        );
        // A key file of another user's (whoever owns it knows the key), where the test may
        // make one: as root.
        use std::os::unix::fs::MetadataExt;
        if std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
            let theirs = tmp.path().join("theirs.key");
            std::fs::write(&theirs, format!("{}\n", "ab".repeat(32))).unwrap();
            std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::os::unix::fs::chown(&theirs, Some(65534), None).unwrap();
            let foreign = serve_with(&theirs);
            assert!(
                foreign.error_line().contains("belongs to another user"),
                "{}",
                foreign.stderr
            );
        }
    }
}

/// Issue 18, found as a user: `kizon migrate-store` run while `kizon serve` had the study open.
/// The server kept its connection to the old database, and a user added through it afterwards
/// landed in `kizon.sqlite.before-migration` while the page said it was done: lost to the study.
/// Now the server notices the move and opens the study where it is: the same session goes on,
/// the user is in the study, and nothing is written to the old database. Both ways: SQLite to
/// PostgreSQL and back.
#[test]
fn a_server_left_running_across_migrate_store_follows_the_study_to_its_new_database() {
    let server = kizon_store::throwaway::ThrowawayPostgres::start().unwrap();
    let url = server.new_database().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    kizon(tmp.path(), &["init", "s"]).ok();
    let root = tmp.path().join("s");
    let password = "a long enough passphrase";
    with_stdin(
        &root,
        &["user", "add", "admin", "--role", "admin"],
        &format!("{password}\n"),
    )
    .ok();
    // A signed-in user's form for adding a user: (session, CSRF token).
    let users_form = |address| {
        let session =
            sign_in(address, "admin", password).unwrap_or_else(|r| panic!("{}", r.text()));
        let page = http::request(
            address,
            "GET",
            "/users?lang=en",
            &[("Cookie", &format!("kizon_session={session}"))],
            b"",
        );
        (session, csrf_of(&page))
    };
    let add_user = |address, (session, csrf): &(String, String), name: &str| {
        http::request(
            address,
            "POST",
            "/users/add",
            &[
                ("Cookie", &format!("kizon_session={session}")),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            format!("csrf={csrf}&name={name}&role=auditor&password=another+long+passphrase")
                .as_bytes(),
        )
    };
    let stop = |mut child: std::process::Child| {
        child.kill().unwrap();
        child.wait().unwrap();
    };

    for (to, name) in [(url.as_str(), "sato"), ("sqlite", "kato")] {
        let (running, address) = start_server(&root, &[]);
        let form = users_form(address);
        kizon(&root, &["migrate-store", "--to", to]).ok();
        let added = add_user(address, &form, name);
        assert_eq!(added.status, 303, "{}", added.text());
        stop(running);
        let users = kizon(&root, &["user", "list"]).ok().stdout;
        assert!(users.contains(name), "{users}");
    }
    // Nothing reached the SQLite file kept from the first move.
    let kept = rusqlite::Connection::open(root.join("kizon.sqlite.before-migration")).unwrap();
    let names: Vec<String> = kept
        .prepare("SELECT name FROM users ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(names, ["admin"]);
    // Nor the PostgreSQL database the second move left behind (sealed by the move's entry).
    let mut left = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let names: Vec<String> = left
        .query("SELECT name FROM users ORDER BY name", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(names, ["admin", "sato"]);
    kizon(&root, &["audit", "verify"]).ok();
}

/// `credentials` lies outside the ledger's rows (a password hash must not travel in a package):
/// a hash copied from one's own account into an administrator's row used to sign in as the
/// administrator with one's own password, and nothing showed it. Each entry that sets a
/// password now records its hash's digest and is signed by the owner: the copied hash opens
/// nothing, whether alone, vouched for by an appended unsigned entry, or by one signed with a
/// key slipped into the ledger; `audit verify` names each; `kizon user passwd` mends the row.
#[test]
fn a_password_hash_copied_into_an_administrators_row_opens_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    kizon(tmp.path(), &["init", "s"]).ok();
    let root = tmp.path().join("s");
    let mine = "my own long passphrase";
    with_stdin(
        &root,
        &["user", "add", "boss", "--role", "admin"],
        "the administrator's passphrase\n",
    )
    .ok();
    with_stdin(
        &root,
        &["user", "add", "eve", "--role", "auditor"],
        &format!("{mine}\n"),
    )
    .ok();
    kizon(&root, &["audit", "verify"]).ok();
    let copy_eves_hash = || {
        sql(
            &root,
            "UPDATE credentials SET password_hash =
               (SELECT password_hash FROM credentials WHERE user_name = 'eve')
             WHERE user_name = 'boss'",
        )
    };
    // Signs in as `name` on a server started for the attempt.
    let attempt = |name: &str, password: &str| {
        let (mut server, address) = start_server(&root, &[]);
        let outcome = sign_in(address, name, password);
        server.kill().unwrap();
        server.wait().unwrap();
        outcome
    };
    copy_eves_hash();
    assert!(attempt("eve", mine).is_ok(), "eve's own account");
    assert!(
        attempt("boss", mine).is_err(),
        "the copied hash opened the admin's account"
    );
    let verify = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        verify
            .stdout
            .contains("the password of `boss` is not the one entry"),
        "{}",
        verify.stdout
    );
    // The administrator mends it by setting the password again.
    with_stdin(
        &root,
        &["user", "passwd", "boss"],
        "a new admin passphrase\n",
    )
    .ok();
    kizon(&root, &["audit", "verify"]).ok();
    assert!(attempt("boss", "a new admin passphrase").is_ok());

    // An entry appended to vouch for the copied hash: unsigned, it vouches for nothing.
    copy_eves_hash();
    let append = |signer: Option<&kizon_app::owner_key::OwnerKey>| {
        let conn = rusqlite::Connection::open(root.join("kizon.sqlite")).unwrap();
        let copied: String = conn
            .query_row(
                "SELECT password_hash FROM credentials WHERE user_name = 'boss'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let (seq, prev): (i64, String) = conn
            .query_row(
                "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let detail = serde_json::json!({
            "name": "boss",
            kizon_store::PASSWORD_DIGEST_FIELD: kizon_store::password_digest(&copied),
        })
        .to_string();
        let at = "2026-12-04T00:00:00.000000Z";
        let hash =
            kizon_store::ledger::entry_hash(seq + 1, at, "boss", "user password", &detail, &prev);
        conn.execute(
            "INSERT INTO ledger (seq, at, actor, command, detail, prev_hash, hash) VALUES (?1, ?2, 'boss', 'user password', ?3, ?4, ?5)",
            rusqlite::params![seq + 1, at, detail, prev, hash],
        )
        .unwrap();
        if let Some(key) = signer {
            conn.execute(
                "INSERT INTO signatures (seq, public_key, signature) VALUES (?1, ?2, ?3)",
                rusqlite::params![
                    seq + 1,
                    key.public_hex(),
                    key.sign_checkpoint(seq + 1, &hash)
                ],
            )
            .unwrap();
        }
        std::fs::write(root.join("ledger.head"), format!("{} {hash}\n", seq + 1)).unwrap();
        seq + 1
    };
    let unsigned = append(None);
    assert!(
        attempt("boss", mine).is_err(),
        "an appended, unsigned entry opened the account"
    );
    let verify = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        verify.stdout.contains(&format!(
            "entry {unsigned} (`user password`) is not signed by the owner"
        )),
        "{}",
        verify.stdout
    );

    // A key of one's own slipped in before the first entry, and the entry signed with it: the
    // server checks against the key it unlocked, not one the ledger offers.
    let forger = kizon_app::owner_key::OwnerKey::generate().unwrap();
    let detail = serde_json::json!({ "owner_public_key": forger.public_hex() }).to_string();
    let at = "2026-12-04T00:00:00.000000Z";
    let zero_hash = kizon_store::ledger::entry_hash(
        0,
        at,
        "boss",
        "init",
        &detail,
        kizon_store::ledger::GENESIS_PREV_HASH,
    );
    sql(
        &root,
        &format!(
            "INSERT INTO ledger (seq, at, actor, command, detail, prev_hash, hash)
             VALUES (0, '{at}', 'boss', 'init', '{detail}', '{}', '{zero_hash}')",
            kizon_store::ledger::GENESIS_PREV_HASH
        ),
    );
    append(Some(&forger));
    assert!(
        attempt("boss", mine).is_err(),
        "a forged key's signature opened the account"
    );
}
