//! `kizon-fuzz`: the million-input run of `bench/fuzz/run.sh`.
//!
//! Usage: `kizon-fuzz [--inputs N] [--seed S] [--target NAME] [--crashes DIR]`. Prints, per
//! target, the inputs run, the panics found, the slowest input and the inputs per second; keeps
//! each input that panicked in DIR (`TARGET-SEED-ITERATION.bin`). Exits 1 when any panicked.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut inputs: u64 = 1_000_000;
    let mut seed: u64 = 1;
    let mut only: Option<String> = None;
    let mut crashes_dir = std::path::PathBuf::from("fuzz-crashes");
    let mut args = std::env::args().skip(1);
    let usage = "kizon-fuzz [--inputs N] [--seed S] [--target NAME] [--crashes DIR]";
    let fail = |what: String| {
        eprintln!("error: {what}");
        eprintln!("hint: {usage}");
        ExitCode::FAILURE
    };
    while let Some(arg) = args.next() {
        let Some(value) = args.next() else {
            return fail(format!("`{arg}` needs a value"));
        };
        match arg.as_str() {
            "--inputs" | "--seed" => {
                let Ok(number) = value.parse::<u64>() else {
                    return fail(format!("{arg} `{value}` is not a whole number"));
                };
                if arg == "--inputs" {
                    inputs = number;
                } else {
                    seed = number;
                }
            }
            "--target" => only = Some(value),
            "--crashes" => crashes_dir = value.into(),
            other => return fail(format!("unknown argument `{other}`")),
        }
    }
    let targets = kizon_fuzz::targets();
    if let Some(name) = &only
        && !targets.iter().any(|t| t.name == name)
    {
        let names: Vec<&str> = targets.iter().map(|t| t.name).collect();
        return fail(format!(
            "no target `{name}` (targets: {})",
            names.join(", ")
        ));
    }
    println!(
        "{:<18} {:>10} {:>8} {:>12} {:>12}",
        "target", "inputs", "panics", "slowest ms", "inputs/s"
    );
    let mut any = false;
    for target in targets {
        if only.as_deref().is_some_and(|o| o != target.name) {
            continue;
        }
        let outcome = kizon_fuzz::run(&target, inputs, seed);
        println!(
            "{:<18} {:>10} {:>8} {:>12.1} {:>12.0}",
            outcome.target,
            outcome.inputs,
            outcome.crashes.len(),
            outcome.slowest.as_secs_f64() * 1000.0,
            outcome.inputs as f64 / outcome.elapsed.as_secs_f64()
        );
        for crash in &outcome.crashes {
            any = true;
            let _ = std::fs::create_dir_all(&crashes_dir);
            let path =
                crashes_dir.join(format!("{}-{seed}-{}.bin", outcome.target, crash.iteration));
            let _ = std::fs::write(&path, &crash.input);
            println!(
                "  panic at input {}: {} ({})",
                crash.iteration,
                crash.message,
                path.display()
            );
        }
    }
    if any {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
