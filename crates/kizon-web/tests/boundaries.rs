//! The web server is a shell over kizon-app: it names no other kizon crate, so the compiler
//! enforces that it decides nothing the application does not (ARCHITECTURE.md's invariant).

#[test]
fn the_web_server_depends_on_kizon_app_alone() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("kizon-web's Cargo.toml");
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("a [dependencies] table");
    let kizon_crates: Vec<&str> = dependencies
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name.trim()))
        .filter(|name| name.starts_with("kizon-") && *name != "kizon-web")
        .collect();
    assert_eq!(
        kizon_crates,
        ["kizon-app"],
        "kizon-web's Cargo.toml names {kizon_crates:?}"
    );
    for source in [
        "src/lib.rs",
        "src/routes.rs",
        "src/pages.rs",
        "src/error.rs",
        "src/state.rs",
    ] {
        let text =
            std::fs::read_to_string(format!("{}/{source}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        for other in [
            "kizon_store",
            "kizon_pixels",
            "kizon_protocol",
            "kizon_rules",
            "kizon_stats",
        ] {
            assert!(!text.contains(other), "{source} uses {other}");
        }
    }
}

/// One door: the web calls use cases that check the acting account themselves
/// (`Study::acting`, or a use case taking the account); it never checks a permission itself.
#[test]
fn the_web_guards_no_use_case_itself() {
    for source in ["src/routes.rs", "src/state.rs", "src/auth.rs"] {
        let text =
            std::fs::read_to_string(format!("{}/{source}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        for guard in [
            ".require(",
            "guarded(",
            "Permission::Read)",
            "Permission::ViewStudy)",
        ] {
            assert!(!text.contains(guard), "{source} guards with {guard}");
        }
    }
}
