//! The kizon crates a crate's `[dependencies]` table names (its dev-dependencies aside), for
//! the shells' boundary tests. Shared by path with kizon-cli's `tests/boundaries.rs`.

/// The `kizon-*` names in the `[dependencies]` table of the Cargo.toml at `manifest_dir`.
pub fn kizon_dependencies(manifest_dir: &str) -> Vec<String> {
    let path = format!("{manifest_dir}/Cargo.toml");
    let manifest = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("a [dependencies] table");
    dependencies
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name.trim()))
        .filter(|name| name.starts_with("kizon-"))
        .map(str::to_owned)
        .collect()
}
