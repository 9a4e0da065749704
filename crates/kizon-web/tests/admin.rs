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
