//! Renders the sample report (an AI chest X-ray nodule detector, 2 providers, 312 cases) and
//! reads the PDF back with poppler's `pdftotext` and `pdffonts` (Debian `poppler-utils`).

use std::process::Command;

use kizon_report::{
    CiMethod, Interval, Lang, Metric, ReferenceStandard, Report, ReportError, Text,
    format_interval, format_value, render_html, render_pdf,
};

fn sample() -> Report {
    serde_json::from_str(include_str!("fixtures/sample_report.json")).expect("the sample parses")
}

fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {tool} ({e}): install Debian poppler-utils (apt-get install -y poppler-utils)")
    });
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A clean PDF for poppler: no "Syntax Error" (it used to print one for every report).
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("Error"), "{tool} complains: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

struct Pdf {
    _dir: tempfile::TempDir,
    text: String,
    fonts: String,
}

fn read_pdf(bytes: &[u8]) -> Pdf {
    assert!(bytes.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).unwrap();
    let p = path.to_str().unwrap();
    Pdf {
        text: poppler("pdftotext", &["-enc", "UTF-8", p, "-"]),
        fonts: poppler("pdffonts", &[p]),
        _dir: dir,
    }
}

/// Text with all whitespace removed: lines wrap wherever the layout wants.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn assert_contains_all(what: &str, haystack: &str, needles: &[&str]) {
    let flat = squeeze(haystack);
    let missing: Vec<&&str> = needles
        .iter()
        .filter(|n| !flat.contains(&squeeze(n)))
        .collect();
    assert!(missing.is_empty(), "{what} lacks {missing:?}");
}

/// The numbers both renderings must show: estimates, intervals and flow counts.
fn key_numbers(r: &Report) -> Vec<String> {
    let mut v = Vec::new();
    for e in &r.endpoints {
        v.push(format_value(e.metric, e.estimate));
        if let Some(ci) = &e.ci {
            v.push(format_interval(e.metric, ci));
        }
    }
    let f = &r.flow;
    for n in [
        f.collected,
        f.eligible,
        f.analysed,
        f.reference_positive,
        f.reference_negative,
    ] {
        v.push(format!("n = {n}"));
    }
    for e in &f.excluded {
        v.push(format!("n = {}", e.count));
    }
    v
}

#[test]
fn japanese_pdf_has_the_headings_title_ci_and_flow_counts_with_the_font_embedded() {
    let r = sample();
    let pdf = read_pdf(&render_pdf(&r, Lang::Ja).unwrap());
    assert_contains_all(
        "Japanese PDF",
        &pdf.text,
        &[
            "性能評価試験報告書",
            "目次",
            "要約",
            "試験の方法",
            "既存データと提供元（医療機関等）",
            "参照標準",
            "盲検化",
            "統計解析",
            "症例の流れ（STARD 2015）",
            "背景因子",
            "感度",
            "特異度",
            "95%信頼区間",
            "判定基準",
            "適合",
            "部分集団解析",
            "感度分析",
            "データの疑義と対応（Q7）",
            "計画の変更",
            "承認申請に向けた計画（Q10、Q11）",
            "付録A　数値の出典",
            "信頼性調査",
            "収集された症例",
            "除外",
            "解析対象",
            "2(1)",
            "Wilson",
            "DeLong",
            &r.study.title.ja,
            &r.study.hashes.protocol_sha256,
        ],
    );
    let numbers = key_numbers(&r);
    let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
    assert_contains_all("Japanese PDF", &pdf.text, &numbers);
    assert_contains_all(
        "Japanese PDF",
        &pdf.text,
        &["86.4%–95.8%", "n = 312", "n = 292"],
    );
    for face in ["NotoSansJP-Regular", "NotoSansJP-Bold"] {
        let line = pdf
            .fonts
            .lines()
            .find(|l| l.contains(face))
            .unwrap_or_else(|| panic!("{face} not in pdffonts:\n{}", pdf.fonts));
        let cols: Vec<&str> = line.split_whitespace().collect();
        // name type encoding emb sub uni object ID: "yes yes yes" = embedded, subset, ToUnicode
        assert!(line.contains("CID TrueType"), "{line}");
        assert_eq!(
            &cols[cols.len() - 5..cols.len() - 2],
            ["yes", "yes", "yes"],
            "{line}"
        );
    }
}

#[test]
fn english_pdf_uses_english_labels() {
    let r = sample();
    let pdf = read_pdf(&render_pdf(&r, Lang::En).unwrap());
    assert_contains_all(
        "English PDF",
        &pdf.text,
        &[
            "Performance Evaluation Test Report",
            "Flow of cases (STARD 2015)",
            "Sensitivity",
            "Specificity",
            "95% CI",
            "Acceptance criterion",
            "Pass",
            "Data doubts and their resolution (Q7)",
            "Amendments to the protocol",
            "Appendix A. Source of every number",
            &r.study.title.en,
        ],
    );
    let numbers = key_numbers(&r);
    let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
    assert_contains_all("English PDF", &pdf.text, &numbers);
    assert!(
        !pdf.text.contains("感度"),
        "Japanese label in the English PDF"
    );
}

#[test]
fn html_shows_the_same_numbers_as_the_pdf() {
    let r = sample();
    for lang in [Lang::Ja, Lang::En] {
        let html = render_html(&r, lang).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("<script"), "no scripts");
        // Self-contained: the only URL is the SVG namespace.
        assert!(html.matches("http").count() == html.matches("http://www.w3.org/2000/svg").count());
        let numbers = key_numbers(&r);
        let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
        assert_contains_all("HTML", &html, &numbers);
        // Every percentage the PDF prints, the HTML prints too.
        let pdf = read_pdf(&render_pdf(&r, lang).unwrap());
        let flat_html = squeeze(&html);
        for p in percentages(&pdf.text) {
            assert!(flat_html.contains(&p), "{lang}: HTML lacks {p}");
        }
        assert!(html.contains("<svg"), "ROC figure inline");
    }
}

/// Tokens like `92.3%` in a text.
fn percentages(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        if c != '%' {
            continue;
        }
        let mut j = i;
        while j > 0 && (chars[j - 1].is_ascii_digit() || chars[j - 1] == '.') {
            j -= 1;
        }
        if j < i && chars[j..i].contains(&'.') {
            out.push(chars[j..=i].iter().collect());
        }
    }
    out.sort();
    out.dedup();
    assert!(out.len() >= 10, "{out:?}");
    out
}

const HOSTILE: &str = r#"<script>alert("x")</script> #set text(red) $x^2$ *bold* _em_ [link](u) @ref <lbl> // c \ & "q" 'a'"#;

#[test]
fn hostile_study_text_is_printed_not_interpreted() {
    let mut r = sample();
    r.study.title = Text::new(HOSTILE, HOSTILE);
    r.findings[0].reason.ja = format!("{HOSTILE}（理由）");

    let html = render_html(&r, Lang::Ja).unwrap();
    assert!(!html.contains("<script"), "unescaped script tag");
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert!(html.contains("#set text(red) $x^2$ *bold* _em_"));

    let pdf = read_pdf(&render_pdf(&r, Lang::Ja).unwrap());
    assert_contains_all("PDF", &pdf.text, &[HOSTILE, &format!("{HOSTILE}（理由）")]);
}

#[test]
fn rendering_is_deterministic() {
    let r = sample();
    for lang in [Lang::Ja, Lang::En] {
        assert_eq!(render_pdf(&r, lang).unwrap(), render_pdf(&r, lang).unwrap());
        assert_eq!(
            render_html(&r, lang).unwrap(),
            render_html(&r, lang).unwrap()
        );
    }
}

#[test]
fn the_pdf_date_comes_from_the_model() {
    let r = sample();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, render_pdf(&r, Lang::En).unwrap()).unwrap();
    let info = poppler("pdfinfo", &["-isodates", path.to_str().unwrap()]);
    let created = info
        .lines()
        .find(|l| l.starts_with("CreationDate:"))
        .expect(&info);
    assert!(created.contains("2025-11-20"), "{created}");
}

fn comparator(mut r: Report) -> Report {
    r.methods.reference_standard = ReferenceStandard::ComparatorMethod {
        method: Text::new("既承認の解析装置 X-100", "approved analyser X-100"),
    };
    r
}

#[test]
fn against_a_comparator_sensitivity_is_refused_and_agreement_is_labelled() {
    let r = comparator(sample());
    match render_pdf(&r, Lang::Ja) {
        Err(ReportError::Inconsistent { field, message }) => {
            assert_eq!(field, "endpoints[0].metric");
            assert!(message.contains("comparator"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let mut r = r;
    r.endpoints[0].metric = Metric::Ppa;
    r.endpoints[1].metric = Metric::Npa;
    r.endpoints.truncate(2);
    r.traceability
        .retain(|t| t.endpoint_id.as_deref() != Some("E3"));
    r.roc.clear();
    r.subgroups.clear();
    r.sensitivity_analyses.clear();
    r.baseline.groups[1] = Text::new("比較対照法 陽性", "Comparator positive");
    r.baseline.groups[2] = Text::new("比較対照法 陰性", "Comparator negative");
    let html = render_html(&r, Lang::Ja).unwrap();
    assert!(html.contains("陽性一致率") && html.contains("陰性一致率"));
    assert!(html.contains("比較対照法 陽性"));
    assert!(!html.contains("参照標準 陽性"));
    let pdf = read_pdf(&render_pdf(&r, Lang::En).unwrap());
    assert_contains_all(
        "PDF",
        &pdf.text,
        &["Positive percent agreement (PPA)", "Comparator positive"],
    );
    assert!(!pdf.text.contains("Reference standard positive"));
}

#[test]
fn counts_that_do_not_add_up_are_refused() {
    let mut r = sample();
    r.flow.excluded[0].count += 1;
    let err = render_html(&r, Lang::En).unwrap_err();
    assert!(
        matches!(&err, ReportError::Inconsistent { field, .. } if field == "flow.eligible"),
        "{err}"
    );

    let mut r = sample();
    r.endpoints[0].estimate = 0.95; // not 120/130
    let err = render_pdf(&r, Lang::En).unwrap_err();
    assert!(
        matches!(&err, ReportError::Inconsistent { field, .. } if field == "endpoints[0].estimate"),
        "{err}"
    );

    let mut r = sample();
    r.endpoints[0].ci = Some(Interval {
        low: 0.95,
        high: 0.99,
        method: CiMethod::Wilson,
    });
    assert!(render_html(&r, Lang::Ja).is_err());

    let mut r = sample();
    r.study.report_date = "20/11/2025".into();
    assert!(render_pdf(&r, Lang::Ja).is_err());
}

#[test]
fn a_kanji_outside_the_embedded_font_is_an_error_naming_the_field() {
    let mut r = sample();
    r.methods.providers[1].name.ja = "𪚲中央病院".into(); // CJK Ext B, outside JIS X 0213 plane 1
    match render_pdf(&r, Lang::Ja) {
        Err(e @ ReportError::MissingGlyphs(_)) => {
            assert!(
                e.to_string().contains("methods.providers[1].name.ja"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    // HTML leaves glyphs to the reader's browser.
    assert!(render_html(&r, Lang::Ja).is_ok());
}

#[test]
fn the_sample_round_trips_through_json() {
    let r = sample();
    let again: Report = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(r, again);
}

#[test]
fn text_longer_than_a_page_is_continued_not_cut_off() {
    let mut r = sample();
    r.findings[0].reason.ja = (0..900).map(|i| format!("理由{i}番目の説明。")).collect();
    let pdf = read_pdf(&render_pdf(&r, Lang::Ja).unwrap());
    assert_contains_all(
        "PDF",
        &pdf.text,
        &["理由0番目", "理由450番目", "理由899番目の説明。"],
    );
}

#[test]
fn many_exclusion_reasons_move_from_the_diagram_to_a_table() {
    let mut r = sample();
    let total: u64 = r.flow.excluded.iter().map(|e| e.count).sum();
    r.flow.excluded = (0..total)
        .map(|i| kizon_report::Exclusion {
            reason: Text::new(format!("除外理由{i}"), format!("exclusion reason {i}")),
            count: 1,
        })
        .collect();
    let pdf = read_pdf(&render_pdf(&r, Lang::Ja).unwrap());
    let names: Vec<String> = (0..total).map(|i| format!("除外理由{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_contains_all("PDF", &pdf.text, &names);
    assert_contains_all("PDF", &pdf.text, &["除外の理由", "n = 14"]);
}

/// The sample with lesion-level results and an MRMC reader study added.
fn with_lesions() -> Report {
    let mut r = sample();
    let lesions: kizon_report::LesionResults = serde_json::from_value(serde_json::json!({
        "criterion": "distance ≤ 10 mm",
        "k": 2,
        "threshold": 0.5,
        "cases": 10, "normal_cases": 6, "abnormal_cases": 4, "images": 12,
        "lesions": 5, "marks": 9, "hits": 4, "false_positives": 4,
        "lesion_types": [{"lesion_type": "nodule", "count": 4}, {"lesion_type": null, "count": 1}],
        "afroc": {"estimate": 0.8125, "lower": 0.61, "upper": 0.95},
        "wafroc": {"estimate": 0.79, "lower": 0.6, "upper": 0.94},
        "replicates": 2000,
        "lesion_sensitivity": {"estimate": 0.8, "lower": 0.55, "upper": 1.0},
        "fp_per_image": {"estimate": 0.3333, "lower": 0.1, "upper": 0.6},
        "fp_per_case": {"estimate": 0.4, "lower": 0.1, "upper": 0.7},
        "case_sensitivity": {"estimate": 1.0, "lower": 0.51, "upper": 1.0},
        "case_specificity": {"estimate": 0.5, "lower": 0.19, "upper": 0.81},
        "mean_distance": 2.345, "median_distance": 2.0, "mean_iou": null, "mean_dice": 0.875,
        "froc": [{"x": 0.0, "y": 0.0}, {"x": 0.2, "y": 0.6}, {"x": 0.4, "y": 0.8}],
        "afroc_curve": [{"x": 0.0, "y": 0.0}, {"x": 0.5, "y": 0.8}, {"x": 1.0, "y": 1.0}]
    }))
    .unwrap();
    r.lesions = Some(lesions);
    r.reader_study = Some(
        serde_json::from_value(serde_json::json!({
            "modalities": ["unaided", "aided"],
            "readers": ["R1", "R2"],
            "cases": 10, "positives": 4, "negatives": 6, "incomplete_cases": 0,
            "aucs": [[0.75, 0.875], [0.7, 0.8]],
            "modality_aucs": [{"estimate": 0.725, "lower": 0.6, "upper": 0.85},
                              {"estimate": 0.8375, "lower": 0.7, "upper": 0.97}],
            "f": 4.5, "df1": 1.0, "df2": 12.3, "p_value": 0.0546,
            "difference": {"estimate": -0.1125, "lower": -0.23, "upper": 0.005},
            "warnings": []
        }))
        .unwrap(),
    );
    r
}

#[test]
fn lesion_and_reader_study_sections_render_in_both_languages() {
    let r = with_lesions();
    let ja = render_html(&r, Lang::Ja).unwrap();
    let en = render_html(&r, Lang::En).unwrap();
    assert_contains_all(
        "ja html",
        &ja,
        &[
            "病変単位の評価",
            "JAFROC 性能指標",
            "0.812",
            "FROC曲線",
            "AFROC曲線",
            "病変単位の感度",
            "80.0%",
            "0.875",
            "複数読影者による読影試験（MRMC）",
            "F = 4.500, df = 1, 12.30, p = 0.0546",
        ],
    );
    assert_contains_all(
        "en html",
        &en,
        &[
            "Lesion-level evaluation",
            "False positives per image",
            "0.33",
            "AUC by reader",
            "unaided − aided",
        ],
    );
    // Two more figures than the sample: the FROC and the AFROC curves.
    let base = render_html(&sample(), Lang::En).unwrap();
    assert_eq!(en.matches("<svg").count(), base.matches("<svg").count() + 2);
    let pdf = read_pdf(&render_pdf(&r, Lang::Ja).unwrap());
    assert_contains_all(
        "ja pdf",
        &squeeze(&pdf.text),
        &["病変単位の評価", "FROC曲線", "読影者別AUC"],
    );
    assert_eq!(
        render_pdf(&r, Lang::En).unwrap(),
        render_pdf(&r, Lang::En).unwrap()
    );
}

#[test]
fn a_report_without_lesions_has_no_lesion_keys_and_inconsistent_lesion_counts_are_refused() {
    let json = serde_json::to_value(sample()).unwrap();
    assert!(json.get("lesions").is_none() && json.get("reader_study").is_none());
    let mut r = with_lesions();
    r.lesions.as_mut().unwrap().normal_cases = 7;
    match render_html(&r, Lang::En) {
        Err(ReportError::Inconsistent { field, .. }) => assert_eq!(field, "lesions.cases"),
        other => panic!("{other:?}"),
    }
}

/// Issue 13.8: one set of counts. A 2×2 table whose columns are not the flow diagram's
/// analysed positives and negatives, a ROC curve with more cases than the analysis set, and
/// subgroup rows that do not add up to their endpoint's denominator are each refused.
#[test]
fn tables_and_figures_that_count_other_cases_than_the_flow_are_refused() {
    let r = sample();
    let t = r.endpoints[0]
        .table
        .expect("the sample's first endpoint has a 2×2 table");
    assert_eq!(
        t.tp + t.fn_,
        r.flow.reference_positive,
        "the sample agrees with itself"
    );

    let mut bad = sample();
    bad.flow.reference_positive += 1;
    bad.flow.reference_negative -= 1;
    let err = render_html(&bad, Lang::Ja).unwrap_err();
    assert!(
        matches!(&err, ReportError::Inconsistent { field, .. } if field == "endpoints[0].table"),
        "{err}"
    );

    let mut bad = sample();
    bad.roc[0].negatives = r.flow.reference_negative + 3;
    let err = render_html(&bad, Lang::Ja).unwrap_err();
    assert!(
        matches!(&err, ReportError::Inconsistent { field, .. } if field == "roc[0]"),
        "{err}"
    );

    // Subgroup rows of the first endpoint by one variable: two levels that add up, then one
    // level dropped.
    let e = &r.endpoints[0];
    let (x, n) = t.fraction(e.metric).unwrap();
    let row = |level: &str, x: u64, n: u64| kizon_report::SubgroupRow {
        endpoint: Some(e.id.clone()),
        variable: Text::new("年齢区分", "Age band"),
        level: Text::new(level, level),
        cases: None,
        n,
        x: Some(x),
        metric: e.metric,
        estimate: (n > 0).then(|| x as f64 / n as f64),
        ci: None,
    };
    let mut good = sample();
    good.subgroups = vec![
        row("<65", x - 1, n - 1),
        row("≥65", 1, 1),
        row("unknown", 0, 0),
    ];
    render_html(&good, Lang::Ja).expect("levels that add up render");
    // The level with no case to estimate from says so.
    let html = render_html(&good, Lang::Ja).unwrap();
    assert!(good.subgroups.iter().any(|s| s.estimate.is_none()));
    assert!(
        html.contains("推定不能"),
        "the empty level is not shown as such"
    );
    let mut bad = good.clone();
    bad.subgroups.remove(1); // a level with a case drops out
    let err = render_html(&bad, Lang::Ja).unwrap_err();
    assert!(
        matches!(&err, ReportError::Inconsistent { field, .. } if field == "subgroups"),
        "{err}"
    );
}

/// Issue 13.7: the body of the report names endpoints by their Japanese or English label
/// (主要評価項目, 副次評価項目1, …), never by their internal ids; the ids appear only in the
/// traceability appendix, where they are the key into the analysis output.
#[test]
fn endpoints_are_named_by_their_labels_and_ids_stay_in_the_appendix() {
    let mut r = sample();
    for (i, e) in r.endpoints.iter_mut().enumerate() {
        e.id = format!("endpoint-id-{i}:raw");
    }
    for t in &mut r.traceability {
        if let Some(id) = &mut t.endpoint_id {
            let i: usize = id.trim_start_matches('E').parse::<usize>().unwrap() - 1;
            *id = format!("endpoint-id-{i}:raw");
        }
    }
    for (lang, label) in [(Lang::Ja, "主要評価項目"), (Lang::En, "Primary endpoint")] {
        let pdf = read_pdf(&render_pdf(&r, lang).unwrap());
        // The appendix is the last occurrence of its heading (the first is in the contents).
        let text = squeeze(&pdf.text);
        let (body, appendix) = text
            .rsplit_once(if lang == Lang::Ja {
                "付録A"
            } else {
                "AppendixA"
            })
            .expect("the report has its appendix");
        assert!(!body.contains("endpoint-id-"), "{lang:?} body prints an id");
        assert!(body.contains(&squeeze(label)));
        assert!(appendix.contains("endpoint-id-0:raw"));
    }
}
