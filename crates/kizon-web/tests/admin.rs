//! Administration in the browser: an admin adds an account, assigns a reader cases, resets a
//! password and deactivates an account through the users page's forms; each in the ledger
//! under the admin's name; no other role may, and no form works without its CSRF token.

mod support;

use kizon_app::Study;
use kizon_app::demo::DemoStop;
use support::{PASSWORD, sign_in};

#[test]
fn an_admin_adds_assigns_resets_and_deactivates_accounts_from_the_users_page() {
    let root = tempfile::tempdir().unwrap();
    let dir = support::study(root.path(), DemoStop::Checked);
    let address = support::serve(&dir, 1 << 20);
    let admin = sign_in(address, "admin", PASSWORD).unwrap();
    let add = |csrf: &str| {
        format!("csrf={csrf}&name=suzuki&role=reader&reader=R2&password=suzuki+reads+well")
    };

    // Another role may not, nor a form without the admin's CSRF token.
    let dm = sign_in(address, "dm", PASSWORD).unwrap();
    assert_eq!(dm.post_form("/users/add", &add(&dm.csrf)).status, 403);
    assert_eq!(dm.get("/users").status, 403);
    assert_eq!(admin.post_form("/users/add", &add(&dm.csrf)).status, 403);

    // An account for a reader, then cases assigned to their reader code.
    let added = admin.post_form("/users/add", &add(&admin.csrf));
    assert_eq!(added.status, 303, "{}", added.text());
    let again = admin.post_form("/users/add", &add(&admin.csrf));
    assert!(
        again.status >= 400 && again.text().contains("already registered"),
        "{}",
        again.text()
    );
    let suzuki = sign_in(address, "suzuki", "suzuki reads well").expect("the new reader signs in");
    let assigned = admin.post_form(
        "/users/assign",
        &format!("csrf={}&reader=R2&cases=C-001%2C+C-002", admin.csrf),
    );
    assert_eq!(assigned.status, 303, "{}", assigned.text());
    let mut cases: Vec<String> = suzuki
        .get("/api/worklist")
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case_id"].as_str().unwrap().to_owned())
        .collect();
    cases.sort();
    assert_eq!(cases, ["C-001", "C-002", "C-003"]);

    // A reset password: the old one and the old session end.
    let reset = admin.post_form(
        "/users/password",
        &format!("csrf={}&name=suzuki&password=a+new+passphrase", admin.csrf),
    );
    assert_eq!(reset.status, 303, "{}", reset.text());
    assert_eq!(suzuki.get("/api/worklist").status, 401);
    assert!(sign_in(address, "suzuki", "suzuki reads well").is_err());
    let suzuki = sign_in(address, "suzuki", "a new passphrase").expect("the new password");

    // Deactivated: the session ends and sign-in is refused; activated again, it works.
    let off = admin.post_form(
        "/users/active",
        &format!("csrf={}&name=suzuki&active=false", admin.csrf),
    );
    assert_eq!(off.status, 303, "{}", off.text());
    assert_eq!(suzuki.get("/api/worklist").status, 401);
    assert!(sign_in(address, "suzuki", "a new passphrase").is_err());
    let page = admin.get("/users?lang=en").text();
    assert!(page.contains("deactivated"), "{page}");
    let own = admin.post_form(
        "/users/active",
        &format!("csrf={}&name=admin&active=false", admin.csrf),
    );
    assert!(
        own.status >= 400 && own.text().contains("your own account"),
        "{}",
        own.text()
    );
    let on = admin.post_form(
        "/users/active",
        &format!("csrf={}&name=suzuki&active=true", admin.csrf),
    );
    assert_eq!(on.status, 303);
    sign_in(address, "suzuki", "a new passphrase").expect("active again");

    // Every change in the ledger under the admin's name; the ledger intact.
    let study = Study::open(&dir).unwrap();
    let log = study.audit_log().unwrap();
    for command in [
        "user add",
        "user password",
        "user deactivate",
        "user activate",
    ] {
        assert!(
            log.iter()
                .any(|e| e.command == command && e.actor == "admin (web, admin)"),
            "{command} by the admin"
        );
    }
    assert!(
        log.iter()
            .filter(|e| e.actor == "admin (web, admin)")
            .count()
            >= 5,
        "the assignment too"
    );
    assert!(study.verify(None).unwrap().intact());
}

/// Readers assigned to sessions from the users page: a reader who takes part in the aided
/// session only reads there at once (no washout: it is their first session); a reader who has
/// read in a session keeps it; an unknown session is refused with the protocol's ids; every
/// assignment is in the ledger under the admin's name; no other role may, nor a forged form.
#[test]
fn an_admin_assigns_readers_their_reading_sessions() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("study");
    kizon_app::demo::reader_study_demo(&dir, "tester", false, &root.path().join("keys")).unwrap();
    let mut study = Study::open(&dir).unwrap();
    study.set_owner_key(support::owner_key(&dir));
    for (name, role, reader) in [
        ("admin", kizon_app::access::Role::Admin, None),
        ("r1", kizon_app::access::Role::Reader, Some("R1")),
        ("r3", kizon_app::access::Role::Reader, Some("R3")),
    ] {
        study
            .add_user("tester", name, role, reader, PASSWORD)
            .unwrap();
    }
    drop(study);
    let address = support::serve(&dir, 1 << 20);
    let admin = sign_in(address, "admin", PASSWORD).unwrap();
    let r1 = sign_in(address, "r1", PASSWORD).unwrap();
    let r3 = sign_in(address, "r3", PASSWORD).unwrap();
    let sessions_of = |reader: &str| -> String {
        let page = admin.get("/users").text();
        let row = page
            .split(&format!("<tr data-reader=\"{reader}\">"))
            .nth(1)
            .unwrap_or_else(|| panic!("{reader} on the users page: {page}"));
        row[..row.find("</tr>").unwrap()].to_owned()
    };
    assert!(sessions_of("R3").contains("unaided, aided"));

    // R3 reads aided only: the aided session is their first, open now.
    let form = |csrf: &str, reader: &str, sessions: &[&str]| {
        let mut body = format!("csrf={csrf}&reader={reader}");
        for s in sessions {
            body.push_str(&format!("&session={s}"));
        }
        body
    };
    assert_eq!(
        r3.post_form("/users/sessions", &form(&r3.csrf, "R3", &["aided"]))
            .status,
        403,
        "a reader may not"
    );
    assert_eq!(
        admin
            .post_form("/users/sessions", &form(&r3.csrf, "R3", &["aided"]))
            .status,
        403,
        "nor a form without the admin's token"
    );
    let assigned = admin.post_form("/users/sessions", &form(&admin.csrf, "R3", &["aided"]));
    assert_eq!(assigned.status, 303, "{}", assigned.text());
    assert!(
        sessions_of("R3").contains("<td>aided</td>"),
        "{}",
        sessions_of("R3")
    );
    let session = r3.get("/api/session").json();
    assert_eq!(
        (&session["session"], &session["state"], &session["sessions"]),
        (
            &serde_json::json!("aided"),
            &serde_json::json!("open"),
            &serde_json::json!(1)
        ),
        "{session}"
    );

    // R1 reads a case unaided; taking the unaided session away from R1 is refused.
    let case = r1.get("/api/worklist").json()[0]["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = r1.api(
        "POST",
        &format!("/api/reading/{case}/submit"),
        &serde_json::json!({ "label": "negative", "score": 5 }),
    );
    assert_eq!(read.status, 200, "{}", read.text());
    let narrowed = admin.post_form("/users/sessions", &form(&admin.csrf, "R1", &["aided"]));
    assert_eq!(narrowed.status, 409, "{}", narrowed.text());
    assert!(
        narrowed.text().contains("unaided"),
        "the session R1 read in: {}",
        narrowed.text()
    );
    let unknown = admin.post_form(
        "/users/sessions",
        &form(&admin.csrf, "R1", &["second-look"]),
    );
    assert_eq!(unknown.status, 409, "{}", unknown.text());
    assert!(
        unknown.text().contains("unaided, aided"),
        "the protocol's sessions: {}",
        unknown.text()
    );

    let entries = Study::open(&dir)
        .unwrap()
        .audit_log()
        .unwrap()
        .into_iter()
        .filter(|e| e.command == "readers assign" && e.actor == "admin (web, admin)")
        .collect::<Vec<_>>();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(
        entries[0]
            .detail
            .contains("reader R3 assigned reading sessions aided"),
        "{}",
        entries[0].detail
    );
}
