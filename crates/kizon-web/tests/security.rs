//! What each role must not see or do, refused by direct URL and by API call; CSRF, session
//! fixation, login rate limiting, path traversal and oversized uploads. A real server on
//! loopback over a real study (the demo's generated data).

mod support;

use std::net::SocketAddr;
use std::sync::OnceLock;

use kizon_app::demo::DemoStop;
use support::{Client, PASSWORD, login_token, request, serve_within, sign_in, sign_in_from, study};

const UPLOAD_LIMIT: usize = 1 << 20;

struct Server {
    _dir: tempfile::TempDir,
    address: SocketAddr,
}

/// The study before any lock: findings open, readers assigned.
fn before_locks() -> SocketAddr {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let study = support::study(dir.path(), DemoStop::Checked);
            Server {
                address: support::serve(&study, UPLOAD_LIMIT),
                _dir: dir,
            }
        })
        .address
}

/// The complete study: both locks, results, an analysis.
fn after_locks() -> SocketAddr {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let study = support::study(dir.path(), DemoStop::Complete);
            Server {
                address: support::serve(&study, UPLOAD_LIMIT),
                _dir: dir,
            }
        })
        .address
}

fn user(address: SocketAddr, name: &str) -> Client {
    sign_in(address, name, PASSWORD)
        .unwrap_or_else(|r| panic!("{name} cannot sign in: {} {}", r.status, r.text()))
}

#[test]
fn a_reader_sees_only_assigned_images_and_never_metadata_results_or_other_reads() {
    let address = after_locks();
    let admin = user(address, "admin");
    let reader = user(address, "r1");
    let assigned = support::item_ids(&admin, "C-001")[0];
    let unassigned = support::item_ids(&admin, "C-050")[0];

    // The assigned image renders; another case's image is "not found", not "forbidden".
    let png = reader.get(&format!("/items/{assigned}/frame.png"));
    assert_eq!(png.status, 200);
    assert_eq!(&png.body[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(
        reader.get(&format!("/items/{unassigned}/frame.png")).status,
        404
    );
    assert_eq!(reader.get("/reading/C-050").status, 404);

    // Metadata, lists, results, reads, analyses, reports, the audit log: refused by URL and API.
    for path in [
        "/".to_owned(),
        "/items".into(),
        format!("/items/{assigned}"),
        "/providers".into(),
        "/findings".into(),
        "/analysis".into(),
        "/reports/report-ja.pdf".into(),
        "/audit".into(),
        "/users".into(),
        "/api/items".into(),
        format!("/api/items/{assigned}"),
        "/api/findings".into(),
        "/api/results".into(),
        "/api/reads".into(),
        "/api/analysis".into(),
        "/api/audit".into(),
    ] {
        let response = reader.get(&path);
        assert!(
            response.status == 403
                || (path == "/"
                    && response.status == 303
                    && response.header("location") == Some("/reading")),
            "{path}: {} for a reader",
            response.status
        );
        let text = response.text();
        assert!(
            !text.contains("NoduleFinder") && !text.contains("device_version"),
            "{path} leaks device results"
        );
    }

    // The worklist holds the assigned cases only; the blinded case page shows no clinical data.
    let worklist = reader.get("/api/worklist").json();
    let mut cases: Vec<&str> = worklist
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case_id"].as_str().unwrap())
        .collect();
    cases.sort_unstable();
    assert_eq!(cases, ["C-001", "C-002", "C-003"]);
    let page = reader.get("/reading/C-001").text();
    for clinical in [
        "diagnosis",
        "診断",
        "patient",
        "2.0.0",
        ".dcm",
        "Kizon Demo University Hospital",
    ] {
        assert!(
            !page.contains(clinical),
            "the blinded page shows `{clinical}`"
        );
    }
}

#[test]
fn results_are_refused_before_the_locks_and_to_the_data_manager_always() {
    let before = before_locks();
    for name in ["stat", "audit"] {
        let client = user(before, name);
        assert_eq!(
            client.get("/api/results").status,
            403,
            "{name} before the locks"
        );
        assert_eq!(
            client.get("/analysis").status,
            403,
            "{name} before the locks"
        );
        assert!(
            client.get("/api/results").json()["error"]
                .as_str()
                .unwrap()
                .contains("lock")
        );
    }
    let after = after_locks();
    let stat = user(after, "stat");
    assert_eq!(stat.get("/api/results").status, 200);
    assert_eq!(
        stat.get("/api/results").json().as_array().unwrap().len(),
        116
    );
    let dm = user(after, "dm");
    for path in [
        "/api/results",
        "/api/reads",
        "/api/analysis",
        "/analysis",
        "/reports/report-en.pdf",
    ] {
        assert_eq!(dm.get(path).status, 403, "{path} for the data manager");
    }
    // The auditor reads the ledger but resolves nothing.
    let auditor = user(after, "audit");
    assert_eq!(auditor.get("/api/audit").status, 200);
    let refused = request(
        after,
        "POST",
        "/api/findings/1/resolve",
        &[
            ("Cookie", &auditor.cookie()),
            ("X-CSRF-Token", &auditor.csrf),
            ("Content-Type", "application/json"),
        ],
        br#"{"decision":"accept","reason":"auditor tries"}"#,
    );
    assert_eq!(refused.status, 403);
}

#[test]
fn forms_without_the_sessions_csrf_token_are_refused_and_change_nothing() {
    let address = before_locks();
    let dm = user(address, "dm");
    let open = |dm: &Client| {
        dm.get("/api/findings")
            .json()
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == "open")
            .count()
    };
    let before = open(&dm);
    let missing = dm.post_form("/findings/2/resolve", "decision=accept&reason=looked");
    assert_eq!(
        missing.status, 422,
        "a form without the csrf field does not even parse"
    );
    let wrong = dm.post_form(
        "/findings/2/resolve",
        &format!("csrf={}&decision=accept&reason=looked", "0".repeat(64)),
    );
    assert_eq!(wrong.status, 403);
    // Another user's token is not this session's.
    let other = user(address, "admin");
    assert_eq!(
        dm.post_form(
            "/findings/2/resolve",
            &format!("csrf={}&decision=accept&reason=looked", other.csrf)
        )
        .status,
        403
    );
    let api = request(
        address,
        "POST",
        "/api/findings/2/resolve",
        &[
            ("Cookie", &dm.cookie()),
            ("Content-Type", "application/json"),
        ],
        br#"{"decision":"accept","reason":"no header"}"#,
    );
    assert_eq!(api.status, 403);
    assert_eq!(open(&dm), before, "nothing was resolved");

    // With the token the decision is recorded, in the ledger, under the user's name.
    let done = dm.post_form(
        "/findings/2/resolve",
        &format!(
            "csrf={}&decision=exclude-case&reason=burned+in+text",
            dm.csrf
        ),
    );
    assert_eq!(done.status, 303);
    assert_eq!(open(&dm), before - 1);
    let audit = user(address, "audit").get("/api/audit").json();
    let last = audit
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["command"] == "resolve")
        .expect("a resolve entry");
    assert_eq!(last["actor"], "dm (web, data-manager)");
}

#[test]
fn a_login_always_issues_a_new_session_and_logout_ends_it() {
    let address = before_locks();
    // Session fixation: a token planted before login is neither kept nor valid.
    let planted = "a".repeat(64);
    let (cookie, token) = support::login_token(address);
    let response = request(
        address,
        "POST",
        "/login",
        &[
            (
                "Cookie",
                &format!("kizon_login={cookie}; kizon_session={planted}"),
            ),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        format!(
            "name=dm&password={}&login_token={token}",
            PASSWORD.replace(' ', "+")
        )
        .as_bytes(),
    );
    assert_eq!(response.status, 303);
    let issued = response.cookie("kizon_session").unwrap();
    assert_ne!(issued, planted);
    assert_eq!(issued.len(), 64);
    let set_cookie = response
        .headers_named("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("kizon_session="))
        .unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(
            set_cookie.contains(attribute),
            "{set_cookie} lacks {attribute}"
        );
    }
    let planted_client = Client {
        address,
        session: planted,
        csrf: String::new(),
    };
    assert_eq!(planted_client.get("/api/findings").status, 401);

    // Login CSRF: a login post without the form's cookie is refused.
    let forged = request(
        address,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!(
            "name=dm&password={}&login_token={token}",
            PASSWORD.replace(' ', "+")
        )
        .as_bytes(),
    );
    assert_eq!(forged.status, 403);
    assert!(forged.cookie("kizon_session").is_none());

    let dm = Client {
        address,
        session: issued,
        csrf: String::new(),
    };
    let csrf = dm
        .get("/")
        .text()
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(dm.get("/api/findings").status, 200);
    let out = dm.post_form("/logout", &format!("csrf={csrf}"));
    assert_eq!(out.status, 303);
    assert_eq!(
        dm.get("/api/findings").status,
        401,
        "the token dies at logout"
    );
}

#[test]
fn repeated_failed_logins_are_refused_for_a_while_even_with_the_right_password() {
    let address = before_locks();
    for _ in 0..5 {
        let failed = sign_in(address, "guest", "wrong password here").unwrap_err();
        assert_eq!(failed.status, 401);
        assert!(failed.text().contains("login-error"));
    }
    let blocked = sign_in(address, "guest", PASSWORD).unwrap_err();
    assert_eq!(blocked.status, 429);
    assert!(
        blocked
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    // An unknown name and a wrong password look alike.
    let unknown = sign_in(address, "nobody", "wrong password here").unwrap_err();
    assert_eq!(unknown.status, 401);
}

/// Forty concurrent wrong passwords used to be checked all (the count came after the check),
/// and the lockout then refused the real user from anywhere for 15 minutes.
#[test]
fn concurrent_wrong_passwords_meet_the_limit_and_do_not_lock_out_the_real_user() {
    // A server of its own: the shared one's counts belong to the other login tests.
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path(), DemoStop::Checked);
    let address = serve_within(&dir, 1 << 20, kizon_web::Limits::default());
    let (cookie, token) = login_token(address);
    let attempts: Vec<_> = (0..40)
        .map(|_| {
            let (cookie, token) = (cookie.clone(), token.clone());
            std::thread::spawn(move || {
                request(
                    address,
                    "POST",
                    "/login",
                    &[
                        ("Cookie", &format!("kizon_login={cookie}")),
                        ("Content-Type", "application/x-www-form-urlencoded"),
                    ],
                    format!("name=guest&password=wrong+guess&login_token={token}").as_bytes(),
                )
                .status
            })
        })
        .collect();
    let statuses: Vec<u16> = attempts.into_iter().map(|t| t.join().unwrap()).collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked, 5, "{statuses:?}");
    assert_eq!(refused, 35, "{statuses:?}");
    // The attacker's address is blocked for this name; the real user elsewhere is not.
    assert_eq!(sign_in(address, "guest", PASSWORD).unwrap_err().status, 429);
    let elsewhere: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    assert!(sign_in_from(Some(elsewhere), address, "guest", PASSWORD).is_ok());
}

/// Eighty logins at once: each commits its session and its ledger entry, and each used to race
/// for the ledger's anchor file (three answered 500 after their login had committed).
#[test]
fn concurrent_logins_all_succeed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path(), DemoStop::Checked);
    let address = serve_within(&dir, 1 << 20, kizon_web::Limits::default());
    let names = ["admin", "dm", "r1", "r2", "stat", "audit", "guest"];
    let logins: Vec<_> = (0..80)
        .map(|i| {
            let name = names[i % names.len()];
            let source: std::net::IpAddr = format!("127.0.1.{}", i + 1).parse().unwrap();
            std::thread::spawn(move || sign_in_from(Some(source), address, name, PASSWORD).is_ok())
        })
        .collect();
    let succeeded = logins
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(succeeded, 80);
    let study = kizon_app::Study::open(&dir).unwrap();
    assert!(study.verify(None).unwrap().intact());
    let head = std::fs::read_to_string(dir.join("ledger.head")).unwrap();
    let last = study.audit_log().unwrap().last().unwrap().clone();
    assert_eq!(head.trim(), format!("{} {}", last.seq, last.hash));
}

/// A session row written straight into the database (the table is outside the ledger) used to
/// open the account it named, with no password and no login entry; the server keys session
/// digests with a secret of its own, so such a row opens nothing.
#[test]
fn a_session_forged_in_the_database_opens_nothing() {
    use sha2::Digest;
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path(), DemoStop::Checked);
    let address = serve_within(&dir, 1 << 20, kizon_web::Limits::default());
    let token = "a".repeat(64);
    let digest: String = sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let conn = rusqlite::Connection::open(dir.join("kizon.sqlite")).unwrap();
    conn.execute(
        "INSERT INTO sessions (token_sha256, user_name, csrf, expires_at) VALUES (?1, 'admin', 'c', 9999999999)",
        [&digest],
    )
    .unwrap();
    let forged = request(
        address,
        "GET",
        "/api/findings",
        &[("Cookie", &format!("kizon_session={token}"))],
        b"",
    );
    assert_eq!(forged.status, 401);
    // A real login still works.
    assert!(sign_in(address, "admin", PASSWORD).is_ok());
}

/// 256 connections each declaring a body and sending it a byte at a time used to hold every
/// connection for five minutes; one address now holds at most its share, and each body has a
/// deadline proportional to its declared length.
#[test]
fn slow_bodies_are_cut_and_one_address_cannot_take_every_connection() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path(), DemoStop::Checked);
    let limits = kizon_web::Limits {
        body_grace: std::time::Duration::from_secs(1),
        max_connections: 16,
        max_connections_per_address: 8,
        ..kizon_web::Limits::default()
    };
    let address = serve_within(&dir, 1 << 20, limits);
    let mut slow: Vec<std::net::TcpStream> = (0..40)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(address).unwrap();
            let _ = stream.write_all(
                b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\na",
            );
            stream
        })
        .collect();
    let elsewhere: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let page = support::request_from(Some(elsewhere), address, "GET", "/login", &[], b"");
    assert_eq!(page.status, 200);
    for stream in slow.iter_mut() {
        let _ = stream.write_all(b"b");
    }
    assert_closed_by_the_server(&mut slow);
}

/// A frame past the last, or an item whose source moved, used to answer with a page naming the
/// source file's absolute path on the server.
#[test]
fn error_pages_name_no_server_path() {
    let address = before_locks();
    let admin = user(address, "admin");
    for path in ["/items/1/frame.png?frame=99999", "/api/items/999999"] {
        let page = admin.get(path);
        assert!(page.status >= 400, "{path}: {}", page.status);
        let text = page.text();
        assert!(!text.contains("/tmp/"), "{path}: {text}");
        assert!(!text.contains("demo-sources/"), "{path}: {text}");
    }
}

/// An entry deleted from the search index (a cache outside the ledger) hid an item from every
/// search; the server checks the index against the items when it starts and rebuilds it.
#[test]
fn a_doctored_search_index_is_rebuilt_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path(), DemoStop::Checked);
    // A first server prepares the index; the doctoring happens after it.
    let _first = serve_within(&dir, 1 << 20, kizon_web::Limits::default());
    let conn = rusqlite::Connection::open(dir.join("kizon.sqlite")).unwrap();
    let (id, path, case): (i64, String, String) = conn
        .query_row(
            "SELECT id, path, case_id FROM items WHERE path LIKE '%c008.dcm'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    conn.execute(
        "INSERT INTO item_search (item_search, rowid, path, case_id) VALUES ('delete', ?1, ?2, ?3)",
        rusqlite::params![id, path, case],
    )
    .unwrap();
    drop(conn);
    let address = serve_within(&dir, 1 << 20, kizon_web::Limits::default());
    let admin = user(address, "admin");
    let found = admin.get("/api/items?q=c008.dcm");
    assert!(found.text().contains("c008.dcm"), "{}", found.text());
}

/// A page number far beyond the last used to overflow into a 500 naming the database's path.
#[test]
fn an_out_of_range_page_is_an_empty_page_and_no_error_names_a_path() {
    let address = before_locks();
    let admin = user(address, "admin");
    for path in [
        "/items?page=18446744073709551615",
        "/items?page=0",
        "/audit?page=18446744073709551615",
        "/api/items?page=18446744073709551615",
    ] {
        let page = admin.get(path);
        assert!(
            page.status == 200 || page.status == 400,
            "{path}: {}",
            page.status
        );
        assert!(!page.text().contains("kizon.sqlite"), "{path}");
        assert!(!page.text().contains("database error"), "{path}");
    }
}

/// Every connection in `slow` is closed by the server within 10 s (its end of file, or a reset).
fn assert_closed_by_the_server(slow: &mut [std::net::TcpStream]) {
    use std::io::Read;
    for (i, stream) in slow.iter_mut().enumerate() {
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut buffer = Vec::new();
        let read = stream.read_to_end(&mut buffer);
        assert!(
            read.is_ok()
                || read
                    .as_ref()
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
            "slow connection {i} was not closed: {read:?}"
        );
    }
}

/// Connections that send half a request line and nothing, or a header every few seconds, used
/// to stay open for ever; enough of them made the login page time out for everyone.
#[test]
fn slow_clients_are_dropped_and_the_server_stays_available() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path(), DemoStop::Checked);
    let limits = kizon_web::Limits {
        header_timeout: std::time::Duration::from_secs(1),
        request_timeout: std::time::Duration::from_secs(5),
        max_connections: 16,
        ..kizon_web::Limits::default()
    };
    let address = serve_within(&dir, 1 << 20, limits);
    let mut slow: Vec<std::net::TcpStream> = (0..40)
        .map(|i| {
            let mut stream = std::net::TcpStream::connect(address).unwrap();
            let partial: &[u8] = if i % 2 == 0 {
                b"GET /log"
            } else {
                b"GET /login HTTP/1.1\r\nX-A: 1\r\n"
            };
            let _ = stream.write_all(partial);
            stream
        })
        .collect();
    // One header more every 300 ms on the odd ones: still dropped once the head takes over 1 s.
    for _ in 0..4 {
        std::thread::sleep(std::time::Duration::from_millis(300));
        for stream in slow.iter_mut().skip(1).step_by(2) {
            let _ = stream.write_all(b"X-B: 2\r\n");
        }
    }
    let page = request(address, "GET", "/login", &[], b"");
    assert_eq!(page.status, 200);
    assert_closed_by_the_server(&mut slow);
}

#[test]
fn nothing_outside_the_fixed_report_names_is_served() {
    let address = after_locks();
    let stat = user(address, "stat");
    for path in [
        "/reports/..%2Fkizon.sqlite",
        "/reports/..%2F..%2Fetc%2Fpasswd",
        "/reports/%2Fetc%2Fpasswd",
        "/reports/report-ja.pdf%00.txt",
        "/reports/study.toml",
        "/static/..%2Fkizon.sqlite",
        "/static/../kizon.sqlite",
        "/items/..%2F..%2Fstudy.toml",
    ] {
        let response = stat.get(path);
        assert!(
            matches!(response.status, 400 | 404),
            "{path}: {}",
            response.status
        );
        assert!(
            !response.text().contains("SQLite format"),
            "{path} served the database"
        );
    }
    let report = stat.get("/reports/report-en.pdf");
    assert_eq!(report.status, 200);
    assert!(report.body.starts_with(b"%PDF"));
    assert_eq!(
        report.header("content-disposition"),
        Some("attachment; filename=\"report-en.pdf\"")
    );
}

fn multipart(csrf: &str, file_len: usize) -> (String, Vec<u8>) {
    let boundary = "kizonboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in [
        ("csrf", csrf),
        ("provider", "Kizon Demo Biobank"),
        ("kind", "contract"),
        ("note", ""),
    ] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../contract.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes(),
    );
    body.extend(std::iter::repeat_n(b'x', file_len));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn an_oversized_upload_is_refused_cleanly_and_a_small_one_is_stored_under_its_base_name() {
    let address = before_locks();
    let dm = user(address, "dm");
    let evidence_rows = |dm: &Client| {
        dm.get("/providers")
            .text()
            .matches("<td>Kizon Demo Biobank</td>")
            .count()
    };
    let before = evidence_rows(&dm);
    let (content_type, body) = multipart(&dm.csrf, 2 * UPLOAD_LIMIT);
    let refused = request(
        address,
        "POST",
        "/evidence",
        &[("Cookie", &dm.cookie()), ("Content-Type", &content_type)],
        &body,
    );
    assert_eq!(refused.status, 413);
    assert!(refused.text().contains("MiB"));
    assert_eq!(evidence_rows(&dm), before, "nothing stored");

    let (content_type, body) = multipart(&dm.csrf, 1000);
    let stored = request(
        address,
        "POST",
        "/evidence",
        &[("Cookie", &dm.cookie()), ("Content-Type", &content_type)],
        &body,
    );
    assert_eq!(stored.status, 303, "{}", stored.text());
    let page = dm.get("/providers").text();
    assert_eq!(evidence_rows(&dm), before + 1);
    assert!(
        page.contains("<td>contract.pdf</td>"),
        "only the base name is kept"
    );

    // A reader may not upload.
    let reader = user(address, "r2");
    let (content_type, body) = multipart(&reader.csrf, 1000);
    let refused = request(
        address,
        "POST",
        "/evidence",
        &[
            ("Cookie", &reader.cookie()),
            ("Content-Type", &content_type),
        ],
        &body,
    );
    assert_eq!(refused.status, 403);
}

#[test]
fn every_page_carries_the_security_headers() {
    let address = before_locks();
    let dm = user(address, "dm");
    for path in ["/", "/items", "/login"] {
        let response = dm.get(path);
        assert!(
            response
                .header("content-security-policy")
                .unwrap()
                .contains("default-src 'none'")
        );
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(response.header("cache-control"), Some("no-store"));
    }
}
