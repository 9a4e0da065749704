//! Issue 18: a study kept in PostgreSQL, run as a new user runs it, on a throwaway server (a
//! cluster in a temporary folder, never a system service): the demo end to end with the
//! ledger and the evidence package verified; a database that already holds a study refused;
//! several writers at once (separate `kizon` processes) never forking the ledger.

mod common;

use std::path::Path;

use common::*;
use kizon_store::throwaway::ThrowawayPostgres;

#[test]
fn the_demo_runs_on_postgresql_and_its_ledger_and_package_verify() {
    let server = ThrowawayPostgres::start().unwrap();
    let url = server.new_database().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let made = kizon(tmp.path(), &["demo", "d", "--database", &url]).ok();
    let root = tmp.path().join("d");
    assert!(made.stdout.contains("report:"), "{}", made.stdout);
    assert!(root.join("database.url").is_file());
    assert!(
        !root.join("kizon.sqlite").exists(),
        "no SQLite file beside PostgreSQL"
    );

    let verified = kizon(&root, &["audit", "verify"]).ok();
    assert!(verified.stdout.contains("intact"), "{}", verified.stdout);

    // `--force` rebuilds a demo's folder, never its database: on the same database it is
    // refused before the folder is touched, and says what to give instead.
    let forced = kizon(tmp.path(), &["demo", "d", "--database", &url, "--force"]).failed();
    assert!(
        forced.error_line().contains("already holds a kizon study"),
        "{}",
        forced.stderr
    );
    assert!(
        forced.stderr.contains("CREATE DATABASE"),
        "{}",
        forced.stderr
    );
    let still = kizon(&root, &["audit", "verify"]).ok();
    assert!(still.stdout.contains("intact"), "{}", still.stdout);

    let package = kizon(tmp.path(), &["package", "verify", "d/package"]).ok();
    assert!(package.stdout.contains("intact"), "{}", package.stdout);

    // The same demo on SQLite finds the same problems and measures the same table.
    let sqlite = tmp.path().join("s");
    kizon(tmp.path(), &["demo", "s"]).ok();
    let rules = |root: &Path| {
        let findings = kizon(root, &["findings", "--json"]).ok().json();
        let mut rules: Vec<String> = findings
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect();
        rules.sort();
        rules
    };
    assert_eq!(rules(&root), rules(&sqlite));
    let table = |root: &Path| {
        let analysis = kizon(root, &["analyze", "--json"]).ok().json();
        analysis["endpoints"][0]["table"].clone()
    };
    assert_eq!(table(&root), table(&sqlite));
    assert!(table(&root)["tp"].as_i64().unwrap() > 0);

    // Editing the database behind kizon's back is caught, as it is in a SQLite file.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .batch_execute(
            "DROP TRIGGER providers_append_only ON providers;
             UPDATE providers SET legal_basis = 'none' WHERE id = 1;",
        )
        .unwrap();
    let caught = kizon(&root, &["audit", "verify"]).failed();
    assert!(caught.stdout.contains("`providers`") || caught.stderr.contains("`providers`"));

    // A second study on the same database is refused, naming the database without secrets.
    let again = kizon(tmp.path(), &["init", "e", "--database", &url]).failed();
    assert!(
        again.error_line().contains("already holds a kizon study"),
        "{}",
        again.stderr
    );
    assert!(!tmp.path().join("e").join("database.url").exists());
}

/// Several `kizon` processes writing to one PostgreSQL study at once: each command appends its
/// entries under the ledger's advisory lock, so the chain never forks and no entry is lost.
#[test]
fn concurrent_writers_on_postgresql_never_fork_the_ledger() {
    let server = ThrowawayPostgres::start().unwrap();
    let url = server.new_database().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    kizon(tmp.path(), &["init", "s", "--database", &url]).ok();
    let root = tmp.path().join("s");
    let writers: Vec<std::process::Child> = (0..8)
        .map(|n| {
            add_provider_command(&root, &format!("Hospital {n}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for writer in writers {
        let output = writer.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let log = kizon(&root, &["audit", "log", "--json"]).ok().json();
    let entries = log.as_array().unwrap();
    assert_eq!(
        entries.len(),
        9,
        "the study's first entry and one per writer"
    );
    for (n, entry) in entries.iter().enumerate() {
        assert_eq!(entry["seq"].as_i64(), Some(n as i64 + 1));
    }
    let verified = kizon(&root, &["audit", "verify"]).ok();
    assert!(verified.stdout.contains("intact"), "{}", verified.stdout);
}

/// `kizon migrate-store`: the demo study (SQLite) moved into PostgreSQL and back; each time
/// `audit verify` finds the chain intact with the head hash it had before the move, and the
/// study goes on working where it now is.
#[test]
fn migrate_store_moves_a_study_to_postgresql_and_back_with_the_same_head() {
    let server = ThrowawayPostgres::start().unwrap();
    let (_tmp, root) = demo_study();
    let head = |root: &Path| {
        let log = kizon(root, &["audit", "log", "--json"]).ok().json();
        let last = log.as_array().unwrap().last().unwrap().clone();
        last["hash"].as_str().unwrap().to_owned()
    };
    let before = head(&root);
    let url = server.new_database().unwrap();
    let moved = kizon(&root, &["migrate-store", "--to", &url]).ok();
    assert!(moved.stdout.contains(&before), "{}", moved.stdout);
    assert!(root.join("database.url").is_file());
    assert!(root.join("kizon.sqlite.before-migration").is_file());
    let verified = kizon(&root, &["audit", "verify", "--head", &before]).ok();
    assert!(verified.stdout.contains("intact"), "{}", verified.stdout);
    assert_eq!(head(&root), before);

    // Work goes on in PostgreSQL: a deviation recorded is a new entry there.
    kizon(
        &root,
        &[
            "deviation",
            "add",
            "--description",
            "読影順の逸脱",
            "--description-en",
            "reading order deviation",
        ],
    )
    .ok();
    let after = head(&root);
    assert_ne!(after, before);
    assert!(root.join("database.schema.json").is_file());

    // A second move into a database that already holds a study is refused, nothing changed.
    let refused = kizon(&root, &["migrate-store", "--to", &url]).failed();
    assert!(
        refused.error_line().contains("already kept in PostgreSQL")
            && refused.stderr.contains("nothing to move"),
        "{}",
        refused.stderr
    );

    let back = kizon(&root, &["migrate-store", "--to", "sqlite"]).ok();
    assert!(back.stdout.contains(&after), "{}", back.stdout);
    assert!(root.join("kizon.sqlite").is_file());
    assert!(!root.join("database.schema.json").exists());
    let verified = kizon(&root, &["audit", "verify", "--head", &after]).ok();
    assert!(verified.stdout.contains("intact"), "{}", verified.stdout);
    let bad = kizon(&root, &["migrate-store", "--to", "mysql://x"]).failed();
    assert!(
        bad.error_line()
            .contains("neither `sqlite` nor a PostgreSQL URL"),
        "{}",
        bad.stderr
    );
}

/// A server across a network is reached over TLS, its certificate verified: against the
/// authority PGSSLROOTCERT names, never blindly. The throwaway server refuses any connection
/// without TLS (`hostnossl … reject`), so a study that works there worked over TLS.
#[test]
fn postgresql_over_tls_verifies_the_servers_certificate() {
    let server = ThrowawayPostgres::start_with_tls().unwrap();
    let url = format!("{}?sslmode=require", server.new_database().unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let with_ca = |dir: &Path, args: &[&str]| {
        let mut command = command(dir, args);
        command.env("PGSSLROOTCERT", server.ca_file());
        output(command.output().unwrap())
    };

    // An authority the server's certificate does not come from: refused, nothing made.
    let untrusted = kizon(tmp.path(), &["init", "s", "--database", &url]).failed();
    assert!(
        untrusted
            .error_line()
            .contains("TLS to the PostgreSQL server failed"),
        "{}",
        untrusted.stderr
    );
    assert!(
        untrusted.stderr.contains("PGSSLROOTCERT"),
        "{}",
        untrusted.stderr
    );
    assert!(
        untrusted
            .stderr
            .contains("hint: 試験のデータベースは database.url"),
        "{}",
        untrusted.stderr
    );
    assert!(!tmp.path().join("s").join("database.url").exists());

    // With the authority, the whole path works over TLS.
    with_ca(tmp.path(), &["init", "s", "--database", &url]).ok();
    let root = tmp.path().join("s");
    let mut add = add_provider_command(&root, "Hospital A");
    add.env("PGSSLROOTCERT", server.ca_file());
    output(add.output().unwrap()).ok();
    let verified = with_ca(&root, &["audit", "verify"]).ok();
    assert!(verified.stdout.contains("intact"), "{}", verified.stdout);
    // `prefer` takes TLS when the server offers it.
    let prefer = url.replace("sslmode=require", "sslmode=prefer");
    std::fs::write(root.join("database.url"), format!("{prefer}\n")).unwrap();
    with_ca(&root, &["audit", "verify"]).ok();
    // No sslmode to a server on this machine: no TLS, as Debian's own clusters need (this one
    // takes TLS only, so it turns kizon away).
    let local = url.replace("?sslmode=require", "");
    std::fs::write(root.join("database.url"), format!("{local}\n")).unwrap();
    let plain_here = with_ca(&root, &["audit", "verify"]).failed();
    assert!(
        plain_here.error_line().contains("no encryption"),
        "{}",
        plain_here.stderr
    );

    // Without TLS the server turns kizon away, and kizon says so in one line.
    let plain = url.replace("sslmode=require", "sslmode=disable");
    std::fs::write(root.join("database.url"), format!("{plain}\n")).unwrap();
    let refused = with_ca(&root, &["audit", "verify"]).failed();
    assert!(
        refused.error_line().contains("no encryption"),
        "{}",
        refused.stderr
    );

    // A file that holds no certificate is named.
    std::fs::write(root.join("database.url"), format!("{url}\n")).unwrap();
    let mut command = command(&root, &["audit", "verify"]);
    command.env("PGSSLROOTCERT", root.join("study.toml"));
    let empty = output(command.output().unwrap()).failed();
    assert!(
        empty.error_line().contains("no certificate in it"),
        "{}",
        empty.stderr
    );
}

/// A role without CREATE on the database (which making pg_trgm needs) is told what to ask its
/// administrator for, and nothing is left behind; once the administrator has made pg_trgm, the
/// same `init` makes the study without the privilege, and commands write and verify (the
/// schema check's reference is made in the session's temporary schema, which needs none).
#[test]
fn a_role_without_create_on_the_database_is_told_what_to_ask_for() {
    let server = ThrowawayPostgres::start().unwrap();
    let url = server.new_database().unwrap();
    let database = url.rsplit('/').next().unwrap().to_owned();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "CREATE ROLE limited LOGIN; GRANT CONNECT ON DATABASE {database} TO limited;
             GRANT USAGE, CREATE ON SCHEMA public TO limited;"
        ))
        .unwrap();
    let limited = url.replacen("kizon@", "limited@", 1);
    let tmp = tempfile::tempdir().unwrap();
    let refused = kizon(tmp.path(), &["init", "s", "--database", &limited]).failed();
    assert!(
        refused.stderr.contains("GRANT CREATE ON DATABASE"),
        "{}",
        refused.stderr
    );
    assert!(!tmp.path().join("s").join("database.url").exists());

    admin.batch_execute("CREATE EXTENSION pg_trgm").unwrap();
    kizon(tmp.path(), &["init", "s", "--database", &limited]).ok();
    let root = tmp.path().join("s");
    add_provider(&root, "H").ok();
    let verified = kizon(&root, &["audit", "verify"]).ok();
    assert!(verified.stdout.contains("intact"), "{}", verified.stdout);
}

/// A write command compares the study's schema with kizon's own, made afresh once and then
/// remembered in the study folder (database.schema.json): a damaged file is made again, a
/// schema altered behind kizon's back is refused with the file there, and one altered along
/// with the file (what the file gives away, to whoever can write the study folder) passes the
/// check before writes but not `audit verify`, which always makes the reference afresh.
#[test]
fn the_remembered_reference_schema_never_hides_an_altered_one_from_verify() {
    let server = ThrowawayPostgres::start().unwrap();
    let url = server.new_database().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    kizon(tmp.path(), &["init", "s", "--database", &url]).ok();
    let root = tmp.path().join("s");
    let add = |name: &str| add_provider(&root, name);
    let remembered = root.join("database.schema.json");
    add("H1").ok();
    let objects = |file: &Path| -> Vec<serde_json::Value> {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        json["objects"].as_array().unwrap().clone()
    };
    let trigger = serde_json::json!("providers.providers_append_only");
    assert!(objects(&remembered).iter().any(|o| o[1] == trigger));

    std::fs::write(&remembered, "{ damaged").unwrap();
    add("H2").ok();
    assert!(objects(&remembered).iter().any(|o| o[1] == trigger));

    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .batch_execute("DROP TRIGGER providers_append_only ON providers")
        .unwrap();
    let refused = add("H3").failed();
    assert!(
        refused.error_line().contains("providers_append_only"),
        "{}",
        refused.stderr
    );

    let without: Vec<serde_json::Value> = objects(&remembered)
        .into_iter()
        .filter(|o| o[1] != trigger)
        .collect();
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&remembered).unwrap()).unwrap();
    json["objects"] = serde_json::Value::Array(without);
    std::fs::write(&remembered, serde_json::to_vec(&json).unwrap()).unwrap();
    add("H4").ok();
    let caught = kizon(&root, &["audit", "verify"]).failed();
    assert!(
        caught.stdout.contains("providers_append_only"),
        "{}{}",
        caught.stdout,
        caught.stderr
    );
}

/// A role that must give a password, as an operations team sets one up: without a password the
/// error says where one may come from; the password file (`PGPASSFILE`, else `~/.pgpass`, as
/// libpq reads them) gives it, and it is never written into `database.url`; a password file
/// others may read is refused by name; `PGPASSWORD` works as well.
#[test]
fn a_password_comes_from_the_password_file_or_pgpassword_never_from_database_url() {
    let server = ThrowawayPostgres::start().unwrap();
    let database = server.new_database().unwrap();
    let name = database.rsplit('/').next().unwrap().to_owned();
    let url = server
        .add_role_with_password("clerk", "s3cret:pass", &name)
        .unwrap();
    let port = url.rsplit(':').next().unwrap().split('/').next().unwrap();
    let tmp = tempfile::tempdir().unwrap();

    let missing = kizon(tmp.path(), &["init", "s", "--database", &url]).failed();
    assert!(missing.stderr.contains(".pgpass"), "{}", missing.stderr);
    assert!(!tmp.path().join("s").join("database.url").exists());

    // In the home folder, readable by others: refused by name.
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let file = home.join(".pgpass");
    std::fs::write(
        &file,
        format!("# kizon's studies\n127.0.0.1:{port}:*:clerk:s3cret\\:pass\n"),
    )
    .unwrap();
    let with_home = |dir: &Path, args: &[&str]| {
        let mut command = command(dir, args);
        command.env_remove("PGPASSFILE").env("HOME", &home);
        output(command.output().unwrap())
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let open = with_home(tmp.path(), &["init", "s", "--database", &url]).failed();
        assert!(
            open.error_line().contains(file.to_str().unwrap())
                && open.error_line().contains("chmod 600"),
            "{}",
            open.stderr
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    with_home(tmp.path(), &["init", "s", "--database", &url]).ok();
    let root = tmp.path().join("s");
    let recorded = std::fs::read_to_string(root.join("database.url")).unwrap();
    assert_eq!(recorded.trim(), url, "no password in the folder");
    with_home(
        &root,
        &[
            "provider",
            "add",
            "H",
            "--kind",
            "hospital",
            "--consent",
            "opt-out",
            "--legal-basis",
            "x",
        ],
    )
    .ok();

    // PGPASSFILE names another file; PGPASSWORD needs none.
    let elsewhere = tmp.path().join("pgpass");
    std::fs::copy(&file, &elsewhere).unwrap();
    let mut by_variable = command(&root, &["audit", "verify"]);
    by_variable.env("PGPASSFILE", &elsewhere);
    let verified = output(by_variable.output().unwrap()).ok();
    assert!(verified.stdout.contains("intact"), "{}", verified.stdout);
    let mut by_password = command(&root, &["provider", "list"]);
    by_password.env("PGPASSWORD", "s3cret:pass");
    let listed = output(by_password.output().unwrap()).ok();
    assert!(listed.stdout.contains('H'), "{}", listed.stdout);
    kizon(&root, &["provider", "list"]).failed();
}
