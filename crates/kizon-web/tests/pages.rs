//! The pages as a data manager and a statistician use them: the English switch, the item list
//! with filters and paging, the item viewer (a DICOM frame through a window, a waveform plot).

mod support;

use kizon_app::demo::DemoStop;
use support::{PASSWORD, sign_in};

#[test]
fn items_filter_page_and_show_images_and_waveforms_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let study = support::study(dir.path(), DemoStop::Checked);
    let address = support::serve(&study, 1 << 20);
    let dm = sign_in(address, "dm", PASSWORD).unwrap();

    let ja = dm.get("/items").text();
    assert!(ja.contains("<h1>症例とデータ</h1>"));
    assert!(ja.contains("121 件 · ページ 1 / 3"), "121 items, 50 a page");
    let en = dm.get("/items?lang=en").text();
    assert!(en.contains("<h1>Cases and items</h1>") && en.contains("121 items · page 1 / 3"));
    // The choice is remembered by a cookie.
    let remembered = dm.get("/items?lang=en");
    assert!(
        remembered
            .headers_named("set-cookie")
            .iter()
            .any(|c| c.starts_with("kizon_lang=en"))
    );

    let third = dm.get("/items?page=3").text();
    assert_eq!(third.matches("<tr><td><a href=\"/items/").count(), 21);
    let waveforms = dm.get("/items?kind=edf").text();
    assert!(waveforms.contains("1 件"), "one EDF in the demo");
    // A kind that is none is refused, as on the command line, not read as "every kind".
    let unknown = dm.get("/items?kind=pdf");
    assert_eq!(unknown.status, 400, "{}", unknown.text());
    assert_eq!(dm.get("/items?kind=").status, 200, "empty: every kind");
    // The hospital's files arrive under their patients' pseudonyms: CASE-0001 … CASE-0009
    // have twelve files (three of them have two cases each).
    let search = dm.get("/items?q=CASE-000").text();
    assert!(search.contains("12 件"), "{search}");
    let biobank = dm.get("/items?q=c00").text();
    assert!(biobank.contains("2 件"), "the biobank's c007, c008");
    let case = dm.get("/api/items?case=C-121").json();
    let ecg = case["items"][0]["id"].as_i64().unwrap();
    let ecg_page = dm.get(&format!("/items/{ecg}")).text();
    assert!(
        ecg_page.contains("class=\"waveform\""),
        "the ECG is plotted"
    );
    assert!(
        ecg_page.matches("<path d=\"M").count() >= 2,
        "one trace per channel"
    );

    let ct = support::item_ids(&dm, "C-001")[0];
    let page = dm.get(&format!("/items/{ct}?frame=0&wc=40&ww=400")).text();
    assert!(page.contains(&format!(
        "src=\"/items/{ct}/frame.png?frame=0&amp;wc=40&amp;ww=400\""
    )));
    let default = dm.get(&format!("/items/{ct}/frame.png"));
    let windowed = dm.get(&format!("/items/{ct}/frame.png?wc=40&ww=10"));
    assert_eq!(default.header("content-type"), Some("image/png"));
    assert_ne!(
        default.body, windowed.body,
        "the window changes the rendering"
    );
    let range = default.header("x-kizon-value-range").unwrap();
    assert_eq!(range.split(' ').count(), 2);
    assert_eq!(
        dm.get(&format!("/items/{ct}/frame.png?frame=5")).status,
        409,
        "a frame that does not exist"
    );
}

/// The hospital's side as the sponsor's team sees it: a provider's signing key, the signed
/// hand-overs received from it and how many files its quarantine kept back, on the providers
/// page and in the overview.
#[test]
fn the_providers_page_and_the_overview_show_signed_hand_overs_and_what_was_kept_back() {
    let dir = tempfile::tempdir().unwrap();
    // The demo's hospital de-identified its cases and signed the hand-over, one ultrasound kept
    // back in its quarantine; its biobank sent its delivery unsigned.
    let study = support::study(dir.path(), DemoStop::Checked);
    let public = std::fs::read_to_string(study.join("demo-sources/at-hospital/hospital.pub"))
        .unwrap()
        .trim()
        .trim_start_matches("ed25519:")
        .to_owned();
    let address = support::serve(&study, 1 << 20);
    let dm = sign_in(address, "dm", PASSWORD).unwrap();
    let page = dm.get("/providers").text();
    assert!(page.contains(&format!("{}…", &public[..16])), "the key");
    assert!(
        page.contains("1 件、119 ファイル（提供元で隔離 1）"),
        "{page}"
    );
    assert!(
        page.contains("未登録（署名なしで受領）"),
        "the biobank sends unsigned"
    );
    let english = dm.get("/providers?lang=en").text();
    assert!(
        english.contains("1, 119 files (1 kept back in the provider"),
        "{english}"
    );
    let overview = dm.get("/").text();
    assert!(
        overview.contains("署名付き提供データ 1（提供元で隔離 1 ファイル）"),
        "{overview}"
    );
}

/// The findings page at scale: a page of 100 at a time with a range and links, every rule
/// counted, a filter by rule, and one decision for a rule's unresolved findings (with the CSRF
/// token), recorded in one ledger entry; the auditor may not make it.
#[test]
fn findings_are_paged_counted_by_rule_and_decided_by_rule() {
    let dir = tempfile::tempdir().unwrap();
    let study = support::study(dir.path(), DemoStop::Checked);
    let address = support::serve(&study, 1 << 20);
    let dm = sign_in(address, "dm", PASSWORD).unwrap();
    let all = dm.get("/api/findings").json();
    let all = all.as_array().unwrap();
    let open = all.iter().filter(|f| f["status"] == "open").count();
    assert!(open > 1, "the demo's check leaves findings open");

    let page = dm.get("/findings?lang=en").text();
    assert!(page.contains("id=\"rules\""), "the rules are counted");
    assert_eq!(
        page.matches("<section class=\"finding\"").count(),
        open.min(100)
    );
    assert!(
        page.contains(&format!("1–{} / {open}", open.min(100))),
        "the range of the page"
    );
    // One rule: its findings only, and its row counts them.
    let rule = all[0]["rule"].as_str().unwrap();
    let of_rule = all.iter().filter(|f| f["rule"] == rule).count();
    let filtered = dm
        .get(&format!("/findings?show=all&rule={rule}&lang=en"))
        .text();
    assert_eq!(
        filtered.matches("<section class=\"finding\"").count(),
        of_rule.min(100)
    );
    assert!(filtered.contains(&format!("/ {of_rule}")), "{filtered}");
    // A page past the end is empty, not an error.
    let beyond = dm.get("/findings?show=all&page=50&lang=en");
    assert_eq!(beyond.status, 200);
    assert_eq!(
        beyond.text().matches("<section class=\"finding\"").count(),
        0
    );
    assert!(
        beyond.text().contains("No finding on this page"),
        "a page past the end says so"
    );
    let absurd = dm.get(&format!("/findings?show=all&page={}", u64::MAX));
    assert_eq!(
        absurd.status, 200,
        "a page number past any study is an empty page"
    );

    // One decision for every unresolved finding of the rule.
    let unresolved_of_rule = all
        .iter()
        .filter(|f| f["rule"] == rule && f["status"] == "open")
        .count();
    assert!(unresolved_of_rule > 0);
    let auditor = sign_in(address, "audit", PASSWORD).unwrap();
    let entries = || auditor.get("/api/audit").json().as_array().unwrap().len();
    let before = entries();
    let refused = auditor.post_form(
        "/findings/resolve-rule",
        &format!(
            "csrf={}&rule={rule}&decision=accept&reason=no",
            auditor.csrf
        ),
    );
    assert_eq!(refused.status, 403, "the auditor decides nothing");
    let forged = dm.post_form(
        "/findings/resolve-rule",
        &format!(
            "csrf={}&rule={rule}&decision=accept&reason=x",
            "0".repeat(64)
        ),
    );
    assert_eq!(forged.status, 403, "without the session's token");
    let done = dm.post_form(
        "/findings/resolve-rule",
        &format!(
            "csrf={}&rule={rule}&decision=accept&reason=checked+against+the+records",
            dm.csrf
        ),
    );
    assert_eq!(done.status, 303, "{}", done.text());
    assert_eq!(entries(), before + 1, "one ledger entry for the rule");
    let after = dm.get("/api/findings").json();
    let after = after.as_array().unwrap();
    assert!(
        after
            .iter()
            .filter(|f| f["rule"] == rule)
            .all(|f| f["status"] != "open"),
        "every finding of the rule is decided"
    );
    assert_eq!(
        after.iter().filter(|f| f["status"] == "open").count(),
        open - unresolved_of_rule
    );
}
