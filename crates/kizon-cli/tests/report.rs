//! `kizon report` on the demo study: the PDF's text read back with pdftotext (poppler-utils,
//! installed by .ci/run), the HTML's numbers, and the report hash in the ledger.

mod common;

use std::process::Command;

use common::*;

fn pdftotext(pdf: &std::path::Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (Debian poppler-utils) is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_demo_report_in_japanese_and_english_carries_the_studys_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    kizon(tmp.path(), &["demo", "demo"]).ok();
    let root = tmp.path().join("demo");
    let analysis = kizon(&root, &["analyze", "--json"]).ok().json();
    let flow = &analysis["flow"];
    let primary = &analysis["endpoints"][0];
    let tp = primary["table"]["tp"].as_u64().unwrap();

    let run = kizon(
        &root,
        &[
            "report",
            "--lang",
            "ja",
            "--format",
            "pdf",
            "--out",
            "r.pdf",
            "--date",
            "2026-11-25",
        ],
    )
    .ok();
    assert!(run.stdout.contains("report written"), "{}", run.stdout);
    let text = pdftotext(&root.join("r.pdf"));
    for expected in [
        "性能評価試験報告書",
        "肺結節検出支援プログラム",
        "感度",
        "特異度",
        "参照標準",
        "KZ-DEMO-2026-01",
    ] {
        assert!(
            text.contains(expected),
            "{expected} missing from the PDF text"
        );
    }
    assert!(
        text.contains(&flow["collected"].to_string()),
        "collected count"
    );
    assert!(
        text.contains(&flow["analysed"].to_string()),
        "analysed count"
    );
    assert!(text.contains(&tp.to_string()));
    let fonts = Command::new("pdffonts")
        .arg(root.join("r.pdf"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&fonts.stdout).contains("NotoSansJP"),
        "Japanese font embedded"
    );

    kizon(
        &root,
        &[
            "report",
            "--lang",
            "en",
            "--format",
            "html",
            "--out",
            "r.html",
            "--date",
            "2026-11-25",
        ],
    )
    .ok();
    let html = std::fs::read_to_string(root.join("r.html")).unwrap();
    assert!(html.contains("Sensitivity") && html.contains("Specificity"));
    assert!(
        html.contains(analysis["inputs"]["dataset_root"].as_str().unwrap()),
        "the Merkle root is on the title page"
    );

    // The same date gives the same bytes; the ledger records each rendering's hash.
    kizon(
        &root,
        &[
            "report",
            "--lang",
            "ja",
            "--format",
            "pdf",
            "--out",
            "r2.pdf",
            "--date",
            "2026-11-25",
        ],
    )
    .ok();
    let first = std::fs::read(root.join("r.pdf")).unwrap();
    let second = std::fs::read(root.join("r2.pdf")).unwrap();
    assert!(
        first == second,
        "two renderings of the same analysis on the same date differ"
    );
    let log = kizon(&root, &["audit", "log", "--json"]).ok().json();
    let reports = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["command"] == "report")
        .count();
    assert!(reports >= 3, "{reports} report entries");
}

#[test]
fn a_report_before_any_analysis_says_what_to_do() {
    let (_tmp, root) = new_study();
    let run = kizon(&root, &["report", "--lang", "ja", "--out", "r.pdf"]).failed();
    assert!(
        run.error_line().contains("no analysis yet"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("kizon analyze"), "{}", run.stderr);
}
