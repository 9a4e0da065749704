//! `kizon stats …` run as a user would, outside any study, against the R and Python
//! fixtures of kizon-stats (epiR, pROC, statsmodels, irr).

mod common;

use std::path::{Path, PathBuf};

use common::{Run, kizon};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../kizon-stats/tests/fixtures")
}

/// The `cases` array of a kizon-stats fixture.
fn cases(name: &str) -> Vec<Value> {
    let path = fixtures().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: Value = serde_json::from_str(&text).unwrap();
    json["cases"].as_array().unwrap().clone()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[track_caller]
fn close(actual: f64, expected: f64, rel: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= rel * expected.abs().max(1e-300),
        "{what}: got {actual:.17e}, expected {expected:.17e}"
    );
}

/// Compares `{"estimate", "lower", "upper"}` with `[estimate, lower, upper]`.
#[track_caller]
fn close_estimate(actual: &Value, expected: [f64; 3], rel: f64, what: &str) {
    for (key, e) in ["estimate", "lower", "upper"].iter().zip(expected) {
        close(f(&actual[key]), e, rel, &format!("{what} {key}"));
    }
}

fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

/// Runs kizon in a fresh directory that is not a study.
fn stats(args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    kizon(dir.path(), args)
}

fn in_dir(dir: &Path, args: &[&str]) -> Run {
    kizon(dir, args)
}

fn a_sah() -> String {
    fixtures().join("aSAH.csv").display().to_string()
}

#[test]
fn binary_matches_epir_for_every_method_and_the_mover_youden() {
    let epir = cases("binary_epir.json");
    assert_eq!(epir.len(), 16);
    for c in &epir {
        let counts = ["tp", "fp", "fn", "tn"].map(|k| c[k].as_u64().unwrap().to_string());
        let method = c["method"].as_str().unwrap();
        let level = c["level"].to_string();
        let run = stats(&[
            "stats", "binary", "--tp", &counts[0], "--fp", &counts[1], "--fn", &counts[2], "--tn",
            &counts[3], "--ci", method, "--level", &level, "--json",
        ])
        .ok();
        let json = run.json();
        assert_eq!(
            keys(&json),
            [
                "accuracy",
                "dor",
                "lr_negative",
                "lr_positive",
                "npv",
                "ppv",
                "prevalence",
                "sensitivity",
                "specificity",
                "youden"
            ]
        );
        for key in [
            "sensitivity",
            "specificity",
            "ppv",
            "npv",
            "accuracy",
            "prevalence",
            "lr_positive",
            "lr_negative",
            "dor",
        ] {
            let what = format!("{counts:?} {method} {key}");
            assert_eq!(keys(&json[key]), ["estimate", "lower", "upper"], "{what}");
            let e = [0, 1, 2].map(|i| f(&c[key][i]));
            if method == "agresti-coull" && key != "dor" {
                // epiR reports the Agresti–Coull centre as the estimate and feeds it into
                // its LR intervals; kizon reports x/n (see kizon-stats tests/binary.rs).
                if key.starts_with("lr") {
                    continue;
                }
                close(f(&json[key]["lower"]), e[1].max(0.0), 1e-9, &what);
                close(f(&json[key]["upper"]), e[2].min(1.0), 1e-9, &what);
            } else {
                close_estimate(&json[key], e, 1e-9, &what);
            }
        }
    }
    for c in &cases("youden_mover.json") {
        let counts = ["tp", "fp", "fn", "tn"].map(|k| c[k].as_u64().unwrap().to_string());
        let json = stats(&[
            "stats",
            "binary",
            "--tp",
            &counts[0],
            "--fp",
            &counts[1],
            "--fn",
            &counts[2],
            "--tn",
            &counts[3],
            "--ci",
            c["method"].as_str().unwrap(),
            "--level",
            &c["level"].to_string(),
            "--json",
        ])
        .ok()
        .json();
        let e = [0, 1, 2].map(|i| f(&c["youden"][i]));
        close_estimate(&json["youden"], e, 1e-9, &format!("{counts:?} youden"));
    }
}

#[test]
fn binary_text_is_bilingual_and_marks_what_cannot_be_estimated() {
    let run = stats(&[
        "stats", "binary", "--tp", "670", "--fp", "202", "--fn", "74", "--tn", "640",
    ])
    .ok();
    assert!(
        run.stdout
            .contains("感度 / sensitivity                0.9005 (95% CI 0.8769–0.9200, Wilson)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("特異度 / specificity"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("3.754 (95% CI 3.321–4.243, log method)"),
        "{}",
        run.stdout
    );

    // No reference-negative case: specificity, ratios and Youden cannot be estimated.
    let args = [
        "stats", "binary", "--tp", "12", "--fp", "0", "--fn", "3", "--tn", "0",
    ];
    let json = stats(&[&args[..], &["--json"]].concat()).ok().json();
    for key in ["specificity", "lr_positive", "lr_negative", "dor", "youden"] {
        assert!(json[key].is_null(), "{key}: {json}");
    }
    assert!((f(&json["sensitivity"]["estimate"]) - 0.8).abs() < 1e-15);
    let text = stats(&args).ok().stdout;
    let line = text.lines().find(|l| l.contains("specificity")).unwrap();
    assert!(line.ends_with("—（推定不能 / not estimable）"), "{text}");
}

#[test]
fn agreement_reads_as_the_fda_2007_example_and_its_kappa_as_statsmodels() {
    let run = stats(&[
        "stats",
        "agreement",
        "--pos-pos",
        "40",
        "--pos-neg",
        "5",
        "--neg-pos",
        "4",
        "--neg-neg",
        "171",
        "--json",
    ])
    .ok();
    let json = run.json();
    assert_eq!(keys(&json), ["kappa", "npa", "opa", "ppa"]);
    // FDA 2007 guidance §7.2, in percent to one decimal with score intervals.
    let pct = |key: &str| {
        ["estimate", "lower", "upper"].map(|b| format!("{:.1}", 100.0 * f(&json[key][b])))
    };
    assert_eq!(pct("ppa"), ["90.9", "78.8", "96.4"]);
    assert_eq!(pct("npa"), ["97.2", "93.5", "98.8"]);
    assert_eq!(pct("opa"), ["95.9", "92.4", "97.8"]);
    // Cohen's kappa of the same table, [[40, 5], [4, 171]], against statsmodels.
    let c = cases("kappa_statsmodels.json")
        .into_iter()
        .find(|c| {
            c["table"] == serde_json::json!([[40, 5], [4, 171]]) && c["weights"] == "unweighted"
        })
        .unwrap();
    close_estimate(
        &json["kappa"],
        [f(&c["kappa"]), f(&c["lower"]), f(&c["upper"])],
        1e-9,
        "kappa",
    );
    let text = stats(&[
        "stats",
        "agreement",
        "--pos-pos",
        "40",
        "--pos-neg",
        "5",
        "--neg-pos",
        "4",
        "--neg-neg",
        "171",
    ])
    .ok()
    .stdout;
    assert!(text.contains("陽性一致率 / PPA"), "{text}");
    assert!(
        text.contains("0.9091 (95% CI 0.7884–0.9641, Wilson)"),
        "{text}"
    );
}

#[test]
fn roc_matches_proc_delong_intervals_and_roc_test() {
    for c in cases("delong_proc.json")
        .iter()
        .filter(|c| c["data"] == "aSAH")
    {
        let score = c["score"].as_str().unwrap();
        let json = stats(&[
            "stats",
            "roc",
            "--csv",
            &a_sah(),
            "--truth",
            "outcome",
            "--positive",
            "Poor",
            "--score",
            score,
            "--level",
            &c["level"].to_string(),
            "--json",
        ])
        .ok()
        .json();
        assert_eq!(keys(&json), ["auc", "n_negative", "n_positive", "se"]);
        let what = format!("{score} {}", c["level"]);
        close_estimate(
            &json["auc"],
            [f(&c["auc"]), f(&c["lower"]), f(&c["upper"])],
            1e-9,
            &what,
        );
        close(f(&json["se"]), f(&c["se"]), 1e-9, &format!("{what} se"));
        assert_eq!(
            (json["n_positive"].as_u64(), json["n_negative"].as_u64()),
            (Some(41), Some(72))
        );
    }
    for c in cases("delong_test_proc.json")
        .iter()
        .filter(|c| c["data"] == "aSAH")
    {
        let (s1, s2) = (c["score1"].as_str().unwrap(), c["score2"].as_str().unwrap());
        let json = stats(&[
            "stats",
            "roc",
            "--csv",
            &a_sah(),
            "--truth",
            "outcome",
            "--positive",
            "Poor",
            "--score",
            s1,
            "--score",
            s2,
            "--json",
        ])
        .ok()
        .json();
        assert_eq!(
            keys(&json),
            [
                "auc",
                "auc2",
                "comparison",
                "n_negative",
                "n_positive",
                "se"
            ]
        );
        assert_eq!(keys(&json["comparison"]), ["difference", "p_value", "z"]);
        let what = format!("{s1} vs {s2}");
        close(f(&json["auc"]["estimate"]), f(&c["auc1"]), 1e-9, &what);
        close(f(&json["auc2"]["estimate"]), f(&c["auc2"]), 1e-9, &what);
        let cmp = &json["comparison"];
        close_estimate(
            &cmp["difference"],
            [
                f(&c["auc1"]) - f(&c["auc2"]),
                f(&c["lower"]),
                f(&c["upper"]),
            ],
            1e-9,
            &what,
        );
        close(f(&cmp["z"]), f(&c["z"]), 1e-9, &format!("{what} z"));
        close(
            f(&cmp["p_value"]),
            f(&c["p_value"]),
            1e-9,
            &format!("{what} p"),
        );
    }
    let text = stats(&[
        "stats",
        "roc",
        "--csv",
        &a_sah(),
        "--truth",
        "outcome",
        "--positive",
        "Poor",
        "--score",
        "s100b",
        "--score",
        "ndka",
    ])
    .ok()
    .stdout;
    assert!(
        text.contains("0.7314 (95% CI 0.6301–0.8326, DeLong)"),
        "{text}"
    );
    assert!(text.contains("z = 1.391, p = 0.1643"), "{text}");
}

#[test]
fn bootstrap_is_reproducible_from_its_seed_and_near_proc() {
    let csv = a_sah();
    let run = |seed: &str| {
        stats(&[
            "stats",
            "roc",
            "--csv",
            &csv,
            "--truth",
            "outcome",
            "--positive",
            "Poor",
            "--score",
            "s100b",
            "--ci",
            "bootstrap",
            "--reps",
            "2000",
            "--seed",
            seed,
            "--json",
        ])
        .ok()
        .stdout
    };
    let first = run("42");
    assert_eq!(first, run("42"), "the same seed must give the same output");
    assert_ne!(first, run("43"));
    let json: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(
        keys(&json),
        ["auc", "bootstrap", "n_negative", "n_positive", "se"]
    );
    let boot = &json["bootstrap"];
    assert_eq!(boot["seed"], 42);
    assert_eq!(boot["replicates"], 2000);
    assert_eq!(boot["resampling"], "stratified");
    assert_eq!(json["auc"], boot["percentile"]);
    assert!(boot["bca"]["lower"].is_f64());
    // pROC's stratified percentile interval from 10,000 replicates of its own RNG: the
    // two Monte Carlo intervals agree to a few thousandths.
    let p = &cases("bootstrap_proc_asah.json")[0];
    for bound in ["lower", "upper"] {
        let (got, want) = (f(&json["auc"][bound]), f(&p[bound]));
        assert!((got - want).abs() < 0.015, "{bound}: {got} vs pROC {want}");
    }
}

#[test]
fn cluster_bootstrap_resamples_patients_and_needs_the_bootstrap() {
    let tied = fixtures().join("tied_ratings.csv").display().to_string();
    let base = [
        "stats",
        "roc",
        "--csv",
        &tied,
        "--truth",
        "truth",
        "--positive",
        "1",
        "--score",
        "reader1",
        "--cluster",
        "patient",
    ];
    let json = stats(&[&base[..], &["--ci", "bootstrap", "--reps", "300", "--json"]].concat())
        .ok()
        .json();
    assert!(json["se"].is_null(), "{json}");
    assert_eq!(json["bootstrap"]["resampling"], "clustered");
    let auc = f(&json["auc"]["estimate"]);
    let c = cases("delong_proc.json")
        .into_iter()
        .find(|c| c["data"] == "tied_ratings" && c["score"] == "reader1")
        .unwrap();
    close(auc, f(&c["auc"]), 1e-12, "clustered AUC estimate");
    let run = stats(&base).failed();
    assert!(
        run.error_line().contains("--cluster needs the bootstrap"),
        "{}",
        run.stderr
    );
}

/// Expands a k×k table into two rating columns, writing a BOM and CRLF line ends.
fn ratings_csv(dir: &Path, table: &Value) -> PathBuf {
    let mut text = String::from("\u{feff}case,reader_a,reader_b\r\n");
    let mut case = 0;
    for (i, row) in table.as_array().unwrap().iter().enumerate() {
        for (j, count) in row.as_array().unwrap().iter().enumerate() {
            for _ in 0..count.as_u64().unwrap() {
                case += 1;
                text.push_str(&format!("{case},{},{}\r\n", i + 1, j + 1));
            }
        }
    }
    let path = dir.join("ratings.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn kappa_matches_statsmodels_from_a_csv_of_ratings() {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases("kappa_statsmodels.json");
    for c in cases
        .iter()
        .filter(|c| c["table"].as_array().unwrap().len() >= 3)
    {
        ratings_csv(dir.path(), &c["table"]);
        let weights = match c["weights"].as_str().unwrap() {
            "unweighted" => "none",
            other => other,
        };
        let json = in_dir(
            dir.path(),
            &[
                "stats",
                "kappa",
                "--csv",
                "ratings.csv",
                "--raters",
                "reader_a,reader_b",
                "--weights",
                weights,
                "--level",
                &c["level"].to_string(),
                "--json",
            ],
        )
        .ok()
        .json();
        assert_eq!(keys(&json), ["kappa", "se"]);
        let what = format!("{} {weights}", c["table"]);
        close_estimate(
            &json["kappa"],
            [f(&c["kappa"]), f(&c["lower"]), f(&c["upper"]).min(1.0)],
            1e-9,
            &what,
        );
        close(f(&json["se"]), f(&c["se"]), 1e-9, &format!("{what} se"));
    }
    let text = in_dir(
        dir.path(),
        &[
            "stats",
            "kappa",
            "--csv",
            "ratings.csv",
            "--raters",
            "reader_a,reader_b",
        ],
    )
    .ok()
    .stdout;
    assert!(text.contains("categories 1 < 2 < 3 < 4"), "{text}");
}

#[test]
fn fleiss_kappa_for_three_raters_matches_irr() {
    let c = cases("fleiss_irr_formula.json")
        .into_iter()
        .find(|c| c["counts"][0].as_array().unwrap().len() == 3)
        .unwrap();
    // Each subject's counts per category, handed out to raters r1, r2, r3 in turn.
    let mut text = String::from("subject,r1,r2,r3\n");
    for (s, counts) in c["counts"].as_array().unwrap().iter().enumerate() {
        let labels: Vec<String> = counts
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .flat_map(|(k, n)| {
                std::iter::repeat_n(
                    ["low", "mid", "high"][k].to_string(),
                    n.as_u64().unwrap() as usize,
                )
            })
            .collect();
        text.push_str(&format!("{s},{}\n", labels.join(",")));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("three.csv"), text).unwrap();
    let json = in_dir(
        dir.path(),
        &[
            "stats",
            "kappa",
            "--csv",
            "three.csv",
            "--raters",
            "r1,r2,r3",
            "--json",
        ],
    )
    .ok()
    .json();
    close(
        f(&json["fleiss_kappa"]["estimate"]),
        f(&c["kappa"]),
        1e-9,
        "kappa",
    );
    close(f(&json["se0"]), f(&c["se0"]), 1e-9, "se0");
    close(f(&json["z"]), f(&c["z"]), 1e-9, "z");
    close(f(&json["p_value"]), f(&c["p_value"]), 1e-9, "p");
    assert_eq!(
        (json["subjects"].as_u64(), json["raters"].as_u64()),
        (Some(8), Some(3))
    );
    // Weights need ordered categories and two raters.
    let run = in_dir(
        dir.path(),
        &[
            "stats",
            "kappa",
            "--csv",
            "three.csv",
            "--raters",
            "r1,r2",
            "--weights",
            "linear",
        ],
    )
    .failed();
    assert!(
        run.error_line()
            .starts_with("error: three.csv:2: column `r1`: `"),
        "{}",
        run.stderr
    );
}

#[test]
fn sample_sizes_match_the_exact_binomial_and_obuchowski_fixtures() {
    for c in cases("sample_size_exact.json") {
        let json = stats(&[
            "stats",
            "sample-size",
            "proportion",
            "--goal",
            &c["p0"].to_string(),
            "--expected",
            &c["p1"].to_string(),
            "--power",
            &c["power"].to_string(),
            "--level",
            &c["level"].to_string(),
            "--ci",
            c["ci"].as_str().unwrap(),
            "--json",
        ])
        .ok()
        .json();
        for key in ["n", "first_n", "critical_successes", "search_limit"] {
            assert_eq!(json[key], c[key], "{key}: {c}");
        }
        close(f(&json["power"]), f(&c["power_at_n"]), 1e-9, "power at n");
        assert!(json.get("total").is_none());
    }
    // With a prevalence: 113 diseased cases at 30% → 377 cases to enrol.
    let json = stats(&[
        "stats",
        "sample-size",
        "proportion",
        "--goal",
        "0.8",
        "--expected",
        "0.9",
        "--prevalence",
        "0.3",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(
        (json["n"].as_u64(), json["total"].as_u64()),
        (Some(113), Some(377))
    );
    assert_eq!(json["class"], "diseased");

    for c in cases("auc_sample_size_formula.json") {
        let mut args: Vec<String> = [
            "stats",
            "sample-size",
            "auc",
            "--null",
            &c["auc0"].to_string(),
            "--expected",
            &c["auc1"].to_string(),
            "--alpha",
            &c["alpha"].to_string(),
            "--power",
            &c["power"].to_string(),
            "--ratio",
            &c["ratio"].to_string(),
            "--model",
            c["model"].as_str().unwrap(),
            "--json",
        ]
        .map(String::from)
        .to_vec();
        if let Some(b) = c["b"].as_f64() {
            args.extend(["--binormal-b".into(), b.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let json = stats(&args).ok().json();
        assert_eq!(keys(&json), ["diseased", "non_diseased", "power", "total"]);
        assert_eq!(json["diseased"], c["diseased"], "{c}");
        assert_eq!(json["non_diseased"], c["non_diseased"], "{c}");
        close(
            f(&json["power"]),
            f(&c["achieved_power"]),
            1e-9,
            "achieved power",
        );
    }
}

#[test]
fn mcnemar_matches_statsmodels() {
    for c in cases("mcnemar_statsmodels.json")
        .iter()
        .filter(|c| c.get("chi_square").is_some())
    {
        let t: Vec<String> = c["table"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.to_string())
            .collect();
        let json = stats(&[
            "stats",
            "mcnemar",
            "--both-pos",
            &t[0],
            "--first-only",
            &t[1],
            "--second-only",
            &t[2],
            "--both-neg",
            &t[3],
            "--json",
        ])
        .ok()
        .json();
        for key in [
            "exact_p_value",
            "chi_square",
            "p_value",
            "chi_square_corrected",
            "p_value_corrected",
        ] {
            close(f(&json[key]), f(&c[key]), 1e-9, &format!("{t:?} {key}"));
        }
        assert!(json["difference"]["lower"].is_f64(), "{json}");
    }
}

/// aSAH.csv copied into `dir`, with line `line` (1 = header) replaced by `text`.
fn altered_a_sah(dir: &Path, line: usize, text: &str) {
    let original = std::fs::read_to_string(fixtures().join("aSAH.csv")).unwrap();
    let lines: Vec<&str> = original
        .lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == line { text } else { l })
        .collect();
    std::fs::write(dir.join("aSAH.csv"), lines.join("\n") + "\n").unwrap();
}

#[test]
fn bad_input_fails_with_the_file_column_line_and_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let roc = |dir: &Path, extra: &[&str]| {
        let base = [
            "stats",
            "roc",
            "--csv",
            "aSAH.csv",
            "--truth",
            "outcome",
            "--positive",
            "Poor",
            "--score",
            "s100b",
        ];
        in_dir(dir, &[&base[..], extra].concat())
    };

    // An unknown column lists the columns that exist.
    altered_a_sah(dir.path(), 0, "");
    let run = in_dir(
        dir.path(),
        &[
            "stats",
            "roc",
            "--csv",
            "aSAH.csv",
            "--truth",
            "outcome",
            "--positive",
            "Poor",
            "--score",
            "S100B",
        ],
    )
    .failed();
    assert_eq!(
        run.error_line(),
        "error: aSAH.csv:1: column `S100B`: no such column in the header"
    );
    assert!(
        run.stderr.contains(
            "hint: did you mean `s100b`? the columns are `outcome`, `gender`, `age`, `wfns`, `s100b`, `ndka`"
        ),
        "{}",
        run.stderr
    );

    // A score that is not a number, on CSV line 14.
    altered_a_sah(dir.path(), 14, "\"Good\",\"Male\",45,1,abc,12.5");
    let run = roc(dir.path(), &[]).failed();
    assert_eq!(
        run.error_line(),
        "error: aSAH.csv:14: column `s100b`: `abc` is not a number"
    );
    assert!(
        run.stderr.contains("hint: scores must be numbers"),
        "{}",
        run.stderr
    );

    // An empty score is not dropped silently.
    altered_a_sah(dir.path(), 9, "\"Poor\",\"Male\",45,1,,12.5");
    let run = roc(dir.path(), &[]).failed();
    assert_eq!(
        run.error_line(),
        "error: aSAH.csv:9: column `s100b`: empty score"
    );

    // A third truth value.
    altered_a_sah(dir.path(), 20, "\"Unknown\",\"Male\",45,1,0.2,12.5");
    let run = roc(dir.path(), &[]).failed();
    assert!(
        run.error_line()
            .starts_with("error: aSAH.csv:20: column `outcome`: `Unknown` is a third value"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: the truth column must hold exactly two values")
    );

    // A positive value that does not occur.
    altered_a_sah(dir.path(), 0, "");
    let run = in_dir(
        dir.path(),
        &[
            "stats",
            "roc",
            "--csv",
            "aSAH.csv",
            "--truth",
            "outcome",
            "--positive",
            "poor",
            "--score",
            "s100b",
        ],
    )
    .failed();
    assert_eq!(
        run.error_line(),
        "error: aSAH.csv: column `outcome`: no row is `poor` (--positive)"
    );
    assert!(
        run.stderr.contains("did you mean --positive Poor?"),
        "{}",
        run.stderr
    );

    // A confidence level given in percent.
    let run = roc(dir.path(), &["--level", "1.5"]).failed();
    assert!(run.error_line().contains("got 1.5"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hint: give the confidence level as a fraction")
    );
    let run = stats(&[
        "stats", "binary", "--tp", "1", "--fp", "1", "--fn", "1", "--tn", "1", "--level", "95",
    ])
    .failed();
    assert!(run.error_line().contains("got 95"), "{}", run.stderr);

    // A row with a missing field.
    altered_a_sah(dir.path(), 30, "\"Good\",\"Male\",45,1,0.2");
    let run = roc(dir.path(), &[]).failed();
    assert_eq!(
        run.error_line(),
        "error: aSAH.csv:30: 5 fields, but the header has 6"
    );

    // Shift_JIS (CP932) text is read as such: the label `陽性` is matched, so the error is
    // about the data (no negative case), not about the encoding.
    let mut sjis = b"truth,score\n".to_vec();
    sjis.extend_from_slice(b"\x97\x7a\x90\xab,0.5\n"); // 陽性
    std::fs::write(dir.path().join("sjis.csv"), sjis).unwrap();
    let run = in_dir(
        dir.path(),
        &[
            "stats",
            "roc",
            "--csv",
            "sjis.csv",
            "--truth",
            "truth",
            "--positive",
            "陽性",
            "--score",
            "score",
        ],
    )
    .failed();
    assert_eq!(
        run.error_line(),
        "error: sjis.csv: column `truth`: every row is `陽性`: there are no negative cases"
    );

    // A missing file.
    let run = in_dir(
        dir.path(),
        &["stats", "kappa", "--csv", "missing.csv", "--raters", "a,b"],
    )
    .failed();
    assert!(
        run.error_line().starts_with("error: missing.csv: "),
        "{}",
        run.stderr
    );
}

#[test]
fn stats_needs_no_study_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    in_dir(
        dir.path(),
        &[
            "stats", "binary", "--tp", "9", "--fp", "3", "--fn", "2", "--tn", "17",
        ],
    )
    .ok();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let help = in_dir(dir.path(), &["stats", "--help"]).ok().stdout;
    assert!(help.contains("kizon stats roc --csv"), "{help}");
}

fn van_dyke() -> String {
    fixtures().join("van_dyke_1993.csv").display().to_string()
}

fn mrmc(csv: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "stats",
        "mrmc",
        "--csv",
        csv,
        "--reader",
        "reader",
        "--modality",
        "treatment",
        "--case",
        "case",
        "--truth",
        "truth",
        "--score",
        "rating",
    ];
    args.extend_from_slice(extra);
    stats(&args)
}

/// Van Dyke et al. (1993) through the CLI: the JSON keys, and the numbers printed
/// by OR-DBM MRMC 2.51 (jackknife; RJafroc `inst/Iowa/VanDyke.txt`) and in the MRMCaov
/// manuscript (DeLong; `docs/jss/MRMCaov.tex`).
#[test]
fn mrmc_reproduces_van_dyke_as_printed_by_the_iowa_program_and_mrmcaov() {
    let json = mrmc(&van_dyke(), &["--cov", "jackknife", "--json"])
        .ok()
        .json();
    for key in [
        "modalities",
        "f",
        "df1",
        "df2",
        "p_value",
        "difference",
        "warnings",
    ] {
        assert!(json.get(key).is_some(), "missing {key}: {json}");
    }
    assert_eq!(
        keys(&json["modalities"][0]),
        ["auc", "df", "lower", "modality", "se", "upper"]
    );
    assert_eq!(json["analysis"], "random-readers-random-cases");
    assert_eq!(json["covariance"], "jackknife");
    assert_eq!(
        (json["readers"].as_u64(), json["cases"].as_u64()),
        (Some(5), Some(114))
    );
    let round = |v: &Value, digits: i32| (f(v) * 10f64.powi(digits)).round() / 10f64.powi(digits);
    let m = &json["modalities"];
    assert_eq!(
        (m[0]["modality"].as_str(), m[1]["modality"].as_str()),
        (Some("1"), Some("2"))
    );
    assert_eq!(round(&m[0]["auc"], 8), 0.89703704);
    assert_eq!(round(&m[1]["auc"], 8), 0.94083736);
    assert_eq!(round(&m[0]["lower"], 8), 0.82522360);
    assert_eq!(round(&m[1]["upper"], 8), 0.98753689);
    assert_eq!(round(&json["f"], 2), 4.46);
    assert_eq!(f(&json["df1"]), 1.0);
    assert_eq!(round(&json["df2"], 2), 15.26);
    assert_eq!(round(&json["p_value"], 4), 0.0517);
    let d = &json["difference"];
    assert_eq!(
        (d["first"].as_str(), d["second"].as_str()),
        (Some("1"), Some("2"))
    );
    assert_eq!(round(&d["estimate"], 5), -0.04380);
    assert_eq!(round(&d["lower"], 5), -0.08796);
    assert_eq!(round(&d["upper"], 5), 0.00036);
    assert_eq!(json["warnings"].as_array().unwrap().len(), 0);

    // DeLong is the default covariance.
    let json = mrmc(&van_dyke(), &["--json"]).ok().json();
    assert_eq!(json["covariance"], "delong");
    close(f(&json["f"]), 4.484854, 5e-7, "F");
    close(f(&json["df2"]), 15.06611, 5e-7, "df2");
    close(f(&json["p_value"]), 0.05123303, 5e-7, "p");
    close_estimate(
        &json["difference"],
        [-0.04380032, -0.0878671960, 0.0002665519],
        5e-7,
        "difference",
    );

    // Fixed readers (Iowa analysis 2) and fixed cases (analysis 3).
    let json = mrmc(
        &van_dyke(),
        &["--cov", "jackknife", "--fixed", "readers", "--json"],
    )
    .ok()
    .json();
    assert_eq!(json["analysis"], "fixed-readers-random-cases");
    assert_eq!(round(&json["chi_square"], 5), 5.47595);
    assert!(json["df2"].is_null());
    assert_eq!(round(&json["p_value"], 4), 0.0193);
    assert_eq!(round(&json["difference"]["upper"], 5), -0.00711);
    let json = mrmc(&van_dyke(), &["--fixed", "cases", "--json"])
        .ok()
        .json();
    assert_eq!(round(&json["f"], 2), 8.70);
    assert_eq!(f(&json["df2"]), 4.0);
    assert_eq!(round(&json["p_value"], 4), 0.0420);

    let text = mrmc(&van_dyke(), &["--cov", "jackknife"]).ok().stdout;
    assert!(text.contains("F(1, 15.26) = 4.456, p = 0.0517"), "{text}");
    assert!(text.contains("差 / difference `1` − `2`"), "{text}");
}

#[test]
fn mrmc_refuses_an_incomplete_or_inconsistent_study_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(fixtures().join("van_dyke_1993.csv")).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let write = |name: &str, lines: &[&str]| {
        let path = dir.path().join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path.display().to_string()
    };
    // Line 2 is reader 1, treatment 1, case 1 (truth 0): drop it.
    let mut missing = lines.clone();
    missing.remove(1);
    let run = mrmc(&write("missing.csv", &missing), &[]).failed();
    assert!(
        run.stderr
            .contains("reader `1` has no rating of case `1` in modality `1`"),
        "{}",
        run.stderr
    );
    // Line 2 repeated.
    let mut duplicate = lines.clone();
    duplicate.push(lines[1]);
    let run = mrmc(&write("duplicate.csv", &duplicate), &[]).failed();
    assert!(
        run.stderr
            .contains(&format!("duplicate.csv:{}", lines.len() + 1))
            && run.stderr.contains("already on line 2"),
        "{}",
        run.stderr
    );
    // Case 1 positive on line 3 only.
    let mut truth = lines.clone();
    let changed = lines[2].replace(",1,0,", ",1,1,");
    truth[2] = &changed;
    let run = mrmc(&write("truth.csv", &truth), &[]).failed();
    assert!(
        run.stderr.contains("truth.csv:3")
            && run
                .stderr
                .contains("case `1` has a different truth here than on line 2"),
        "{}",
        run.stderr
    );
    // One modality only.
    let one: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.split(',').nth(1) != Some("2"))
        .collect();
    let run = mrmc(&write("one.csv", &one), &[]).failed();
    assert!(
        run.stderr
            .contains("at least 2 modalities and 2 readers; the file has 1 modality"),
        "{}",
        run.stderr
    );
    let run = stats(&[
        "stats",
        "mrmc",
        "--csv",
        &van_dyke(),
        "--reader",
        "reader",
        "--modality",
        "reader",
        "--case",
        "case",
        "--truth",
        "truth",
        "--score",
        "rating",
    ])
    .failed();
    assert!(
        run.stderr
            .contains("column `reader` is given for two roles"),
        "{}",
        run.stderr
    );
}

/// The MRMC sample size from the Van Dyke pilot (jackknife OR components) for 6 readers and
/// the pilot's own difference: 251 cases for random readers and cases, as RJafroc's tests
/// expect (`SsSampleSizeKGivenJ(dataset02, J = 6)`, `tests/testthat/test-SsSampleSizeRoc.R`).
#[test]
fn mrmc_sample_size_from_the_van_dyke_pilot_matches_rjafroc() {
    let csv = van_dyke();
    let base = [
        "stats",
        "sample-size",
        "mrmc",
        "--csv",
        &csv,
        "--reader",
        "reader",
        "--modality",
        "treatment",
        "--case",
        "case",
        "--truth",
        "truth",
        "--score",
        "rating",
        "--cov",
        "jackknife",
        "--readers",
        "6",
    ];
    let json = stats(&[&base[..], &["--json"]].concat()).ok().json();
    assert_eq!(json["pilot"]["cases"], 114);
    assert!((json["pilot_difference"].as_f64().unwrap() + 0.043800322).abs() < 5e-9);
    assert_eq!(json["plan"]["random_readers_random_cases"]["cases"], 251);
    let power = json["plan"]["random_readers_random_cases"]["random_readers_random_cases"]["power"]
        .as_f64()
        .unwrap();
    assert!(power > 0.8 && power < 0.81, "{power}");
    let text = stats(&base).ok().stdout;
    assert!(text.contains("251 cases"), "{text}");
    // A planned effect of zero can never reach the power: said, not looped for ever.
    let none = stats(&[&base[..], &["--effect", "0", "--max-cases", "300"]].concat())
        .ok()
        .stdout;
    assert!(none.contains("more than 300 cases"), "{none}");
    let bad = stats(&[&base[..], &["--power", "1.5"]].concat()).failed();
    assert!(bad.error_line().contains("power"), "{}", bad.stderr);
}

/// `kizon stats method-comparison` on a CSV of specimens gives mcr's Passing–Bablok, Deming
/// (error ratio 2) and weighted Deming, and the Bland–Altman formulas, under the documented
/// JSON keys; a non-number names its line and column and the run fails.
#[test]
fn method_comparison_matches_mcr_under_the_documented_keys() {
    let case = &cases("method_comparison_mcr.json")[0];
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("specimens.csv");
    let mut text = String::from("specimen,comparator,device\n");
    for (i, (x, y)) in case["x"]
        .as_array()
        .unwrap()
        .iter()
        .zip(case["y"].as_array().unwrap())
        .enumerate()
    {
        text.push_str(&format!("S{i},{x},{y}\n"));
    }
    std::fs::write(&csv, &text).unwrap();
    let run = |method: &str, extra: &[&str]| {
        let mut args = vec![
            "stats",
            "method-comparison",
            csv.to_str().unwrap(),
            "--x",
            "comparator",
            "--y",
            "device",
            "--method",
            method,
            "--json",
        ];
        args.extend_from_slice(extra);
        stats(&args).ok().json()
    };
    for (method, extra, expected) in [
        ("passing-bablok", &[][..], &case["passing_bablok"]),
        (
            "deming",
            &["--error-ratio", "2"][..],
            &case["deming_ratio_2"],
        ),
        ("weighted-deming", &[][..], &case["weighted_deming"]),
        ("ols", &[][..], &case["ols"]),
    ] {
        let got = run(method, extra);
        assert_eq!(got["method"], method);
        assert_eq!(got["n"], 60);
        for key in ["slope", "intercept"] {
            close(
                f(&got[key]),
                f(&expected[key]),
                1e-9,
                &format!("{method} {key}"),
            );
        }
        for key in ["slope_ci", "intercept_ci"] {
            for side in 0..2 {
                close(
                    f(&got[key][side]),
                    f(&expected[key][side]),
                    1e-9,
                    &format!("{method} {key}[{side}]"),
                );
            }
        }
    }
    // The bias at decision points (mcr's calcBias) and the correlations (cor.test, epi.ccc).
    let deming = run("deming", &["--decision-points", "10,50,90"]);
    for (got, expected) in deming["bias_at"]
        .as_array()
        .unwrap()
        .iter()
        .zip(case["deming"]["bias_at"].as_array().unwrap())
    {
        close(
            f(&got["bias"]),
            f(&expected["bias"]),
            1e-9,
            "bias at a decision point",
        );
        for side in 0..2 {
            close(
                f(&got["bias_ci"][side]),
                f(&expected["bias_ci"][side]),
                1e-9,
                "bias CI at a decision point",
            );
        }
    }
    for key in ["pearson", "ccc"] {
        for bound in ["estimate", "lower", "upper"] {
            close(
                f(&deming["correlation"][key][bound]),
                f(&case["correlation"][key][bound]),
                1e-9,
                key,
            );
        }
    }

    let ba = run("bland-altman", &[]);
    let expected = &case["bland_altman"];
    for key in ["bias", "sd"] {
        close(f(&ba[key]), f(&expected[key]), 1e-9, key);
    }
    for key in ["bias_ci", "loa", "loa_lower_ci", "loa_upper_ci"] {
        for side in 0..2 {
            close(f(&ba[key][side]), f(&expected[key][side]), 1e-9, key);
        }
    }

    // Line 5 (specimen S3): a comparator result below its reporting limit, as laboratory
    // systems write it.
    let lines: Vec<&str> = text.lines().collect();
    let device = lines[4].rsplit(',').next().unwrap();
    std::fs::write(&csv, text.replace(lines[4], &format!("S3,<0.5,{device}"))).unwrap();
    let failed = stats(&[
        "stats",
        "method-comparison",
        csv.to_str().unwrap(),
        "--x",
        "comparator",
        "--y",
        "device",
        "--method",
        "deming",
    ])
    .failed();
    let line = failed.error_line();
    assert!(
        line.contains("specimens.csv:5") && line.contains("comparator"),
        "{line}"
    );
}

/// At the analyser's cut-off (CLSI EP12) both methods' results become judgements: the 2×2
/// against the comparator (counted by hand here), PPA, NPA, OPA with Wilson intervals, and the
/// specimens within 10 % of the cut-off listed with their lines and ids.
#[test]
fn method_comparison_at_a_cutoff_gives_the_ep12_table_and_the_results_near_it() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("psa.csv");
    std::fs::write(
        &csv,
        "specimen,ref,dev\nA,1.0,1.2\nB,3.9,4.1\nC,5.0,5.5\nD,2.0,1.8\nE,4.2,3.7\nF,8.0,7.6\nG,0.5,0.4\nH,6.0,6.3\n",
    )
    .unwrap();
    let json = stats(&[
        "stats",
        "method-comparison",
        csv.to_str().unwrap(),
        "--x",
        "ref",
        "--y",
        "dev",
        "--method",
        "passing-bablok",
        "--cutoff",
        "4",
        "--id",
        "specimen",
        "--json",
    ])
    .ok()
    .json();
    let q = &json["qualitative"];
    assert_eq!(
        [
            &q["both_positive"],
            &q["device_only"],
            &q["comparator_only"],
            &q["both_negative"]
        ],
        [3, 1, 1, 3]
    );
    // Wilson's interval for 3 of 4 (statsmodels 0.15 proportion_confint: 0.300641842582, 0.954412739190).
    close_estimate(
        &q["ppa"],
        [0.75, 0.300_641_842_582, 0.954_412_739_190],
        1e-9,
        "PPA",
    );
    close(f(&q["opa"]["estimate"]), 0.75, 1e-12, "OPA");
    let near: Vec<(u64, &str)> = q["near_cutoff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["line"].as_u64().unwrap(), s["id"].as_str().unwrap()))
        .collect();
    assert_eq!(near, [(3, "B"), (6, "E")]);
}
