//! A fixed-seed sample of the hostile-input run, in every test run: 10,000 inputs per parser
//! (`KIZON_FUZZ_INPUTS` sets another number), none may panic; and every input that once made
//! a parser panic (`tests/regressions/TARGET-*.bin`) is parsed again.

use std::time::Duration;

fn inputs() -> u64 {
    std::env::var("KIZON_FUZZ_INPUTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

#[test]
fn no_parser_panics_on_a_fixed_sample_of_mutated_files() {
    let mut report = Vec::new();
    for target in kizon_fuzz::targets() {
        assert!(!target.seeds.is_empty(), "{} has no seeds", target.name);
        let outcome = kizon_fuzz::run(&target, inputs(), 20261202);
        let first = outcome.crashes.first().map(|c| {
            format!(
                "input {}: {} ({} bytes)",
                c.iteration,
                c.message,
                c.input.len()
            )
        });
        assert!(
            outcome.crashes.is_empty(),
            "{}: {} panics, the first at {}",
            target.name,
            outcome.crashes.len(),
            first.unwrap_or_default()
        );
        // A debug build parses many times slower than a release one: the bound here only
        // catches a hang; bench/fuzz/run.sh holds each input to a second.
        assert!(
            outcome.slowest < Duration::from_secs(10),
            "{}: an input took {:?}",
            target.name,
            outcome.slowest
        );
        report.push(format!(
            "{} {} inputs, slowest {:?}",
            target.name, outcome.inputs, outcome.slowest
        ));
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn every_input_that_once_crashed_a_parser_is_refused_cleanly() {
    let targets = kizon_fuzz::targets();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.extension().is_none_or(|x| x != "bin") {
            continue;
        }
        let Some(target) = targets
            .iter()
            .find(|t| name.starts_with(&format!("{}-", t.name)))
        else {
            continue;
        };
        let input = std::fs::read(&path).unwrap();
        if let Err(message) = kizon_fuzz::parse_catching(target, &input) {
            panic!("{name}: {message}");
        }
        replayed += 1;
    }
    let kept = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "bin"))
        })
        .count();
    assert_eq!(replayed, kept, "a kept input names no target");
}

/// The harness itself: a parser that panics on some input is caught, with the input kept, and
/// the same seed finds the same inputs again; so is a panic the parser catches itself.
#[test]
fn a_panicking_parser_is_caught_with_the_input_that_did_it() {
    fn fragile(bytes: &[u8]) {
        // Trusts a length byte, as the parsers must not.
        let n = usize::from(*bytes.first().unwrap_or(&0));
        let _ = bytes[..n].len();
    }
    let target = kizon_fuzz::Target {
        name: "fragile",
        seeds: vec![vec![3, 1, 2, 3]],
        parse: fragile,
    };
    let first = kizon_fuzz::run(&target, 2_000, 1);
    assert!(
        !first.crashes.is_empty(),
        "the mutator never broke the length"
    );
    let crash = &first.crashes[0];
    assert!(crash.message.contains("out of range"), "{}", crash.message);
    assert!(
        crash.message.contains("sample.rs"),
        "the place: {}",
        crash.message
    );
    assert!(kizon_fuzz::parse_catching(&target, &crash.input).is_err());
    let again = kizon_fuzz::run(&target, 2_000, 1);
    assert_eq!(
        again
            .crashes
            .iter()
            .map(|c| c.iteration)
            .collect::<Vec<_>>(),
        first
            .crashes
            .iter()
            .map(|c| c.iteration)
            .collect::<Vec<_>>(),
        "one seed, one sequence of inputs"
    );
}

#[test]
fn a_panic_the_parser_catches_itself_is_still_counted() {
    fn guarded(bytes: &[u8]) {
        let _ = std::panic::catch_unwind(|| {
            let n = usize::from(*bytes.first().unwrap_or(&0));
            bytes[..n].len()
        });
    }
    let target = kizon_fuzz::Target {
        name: "guarded",
        seeds: vec![vec![9, 1]],
        parse: guarded,
    };
    assert!(kizon_fuzz::parse_catching(&target, &[9, 1]).is_err());
    assert!(kizon_fuzz::parse_catching(&target, &[1, 1]).is_ok());
}

/// The `handover` target's seed is a manifest the checks `kizon ingest` runs accept once it is
/// signed, and the same manifest naming a file outside `files/` is refused by the path check
/// (not by the signature): mutated manifests, signed by the target, meet those checks.
#[test]
fn the_handover_target_reaches_the_manifest_checks() {
    use kizon_app::hospital::manifest::{check_signed_bytes, signature_file};
    let targets = kizon_fuzz::targets();
    let target = targets.iter().find(|t| t.name == "handover").unwrap();
    let key = kizon_app::owner_key::OwnerKey::generate().unwrap();
    let keys = [key.public_hex()];
    let mut manifest: serde_json::Value = serde_json::from_slice(&target.seeds[0]).unwrap();
    manifest["public_key"] = key.public_hex().into();
    let signed = |m: &serde_json::Value| {
        let bytes = serde_json::to_vec(m).unwrap();
        let signature = signature_file(&key, &kizon_app::sha256_hex(&bytes));
        (bytes, signature)
    };
    let (bytes, signature) = signed(&manifest);
    assert_eq!(
        check_signed_bytes(&bytes, &signature, &keys)
            .unwrap()
            .files
            .len(),
        2
    );
    manifest["files"][1]["path"] = "files/../../etc/passwd".into();
    let (bytes, signature) = signed(&manifest);
    let refused = check_signed_bytes(&bytes, &signature, &keys)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("outside its folder"), "{refused}");
    kizon_fuzz::parse_catching(target, &bytes).unwrap();
}
