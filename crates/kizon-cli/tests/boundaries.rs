//! The command line is a shell over kizon-app (ARCHITECTURE.md's invariants): its dependencies
//! name kizon-app and, for `kizon serve`, kizon-web; no source names a lower crate; `main.rs`
//! parses, dispatches and prints a failure, and each command lives in a module of its own.

/// The `[dependencies]` reader kizon-web's boundary test uses too.
#[path = "../../kizon-web/tests/support/manifest.rs"]
mod manifest;

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_command_line_depends_on_kizon_app_and_the_web_shell_alone() {
    let kizon_crates = manifest::kizon_dependencies(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(kizon_crates, ["kizon-app", "kizon-web"]);

    let mut files = Vec::new();
    sources(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut files,
    );
    assert!(files.len() > 20, "{files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for lower in [
            "kizon_store",
            "kizon_protocol",
            "kizon_rules",
            "kizon_stats",
            "kizon_report",
            "kizon_formats",
            "kizon_pixels",
            "kizon_vocab",
        ] {
            assert!(!text.contains(lower), "{} uses {lower}", file.display());
        }
    }
}

#[test]
fn main_dispatches_and_each_command_runs_in_its_own_module() {
    let src = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let main = std::fs::read_to_string(src.join("main.rs")).unwrap();
    let code: String = main
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    // Printing a command's answer is the command's; main prints only a failure.
    assert_eq!(
        code.matches("println!").count(),
        code.matches("eprintln!").count(),
        "main.rs prints an answer"
    );
    assert_eq!(code.matches("eprintln!").count(), 2, "error: and hint:");
    let cli = std::fs::read_to_string(src.join("cli.rs")).unwrap();
    let variants = cli
        .split("pub enum Command {")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .unwrap();
    let mut commands = 0;
    for line in variants.lines().map(str::trim) {
        let Some((variant, _)) = line.split_once('(') else {
            continue;
        };
        if !variant.chars().next().is_some_and(char::is_uppercase) {
            continue;
        }
        commands += 1;
        // `TrainingSet` lives in commands/training_set.rs (or commands/stats/mod.rs).
        let mut module = String::new();
        for (i, c) in variant.chars().enumerate() {
            if c.is_uppercase() && i > 0 {
                module.push('_');
            }
            module.push(c.to_ascii_lowercase());
        }
        let file = src.join("commands").join(format!("{module}.rs"));
        let dir = src.join("commands").join(&module).join("mod.rs");
        let text = std::fs::read_to_string(&file)
            .or_else(|_| std::fs::read_to_string(&dir))
            .unwrap_or_else(|_| panic!("`{variant}` has no module commands/{module}.rs"));
        assert!(text.contains("pub fn run("), "commands/{module} has no run");
        assert!(
            main.contains(&format!("{module}::run(")),
            "main does not dispatch {variant}"
        );
    }
    assert!(commands >= 28, "{commands} commands found");
}

/// ARCHITECTURE.md: "Pure crates stay pure". Their sources (tests aside) name no file system,
/// environment, process, network or clock.
#[test]
fn the_pure_crates_do_no_io() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for name in [
        "kizon-vocab",
        "kizon-protocol",
        "kizon-rules",
        "kizon-stats",
        "kizon-deid",
    ] {
        let mut files = Vec::new();
        sources(&crates.join(name).join("src"), &mut files);
        assert!(!files.is_empty(), "{name}");
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            // the unit tests at the end of a file may read fixtures
            let code = text.split("#[cfg(test)]").next().unwrap();
            for io in [
                "std::fs",
                "std::env",
                "std::process",
                "std::net",
                "SystemTime",
                "now_utc",
                "Instant::now",
            ] {
                assert!(!code.contains(io), "{} uses {io}", file.display());
            }
        }
    }
}
