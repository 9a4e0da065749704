//! The web server is a shell over kizon-app: it names no other kizon crate, so the compiler
//! enforces that it decides nothing the application does not (ARCHITECTURE.md's invariant).

#[path = "support/manifest.rs"]
mod manifest;

#[test]
fn the_web_server_depends_on_kizon_app_alone() {
    let kizon_crates = manifest::kizon_dependencies(env!("CARGO_MANIFEST_DIR"));
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
