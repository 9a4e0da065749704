//! Reading sessions over HTTP on the reader-study demo (`kizon demo --kind reader-study`): a
//! reader marks lesions through the JSON API, withdraws one, submits; the unaided session
//! closes into a washout that a set clock moves past (no sleeping); the aided session then
//! opens; blinding, CSRF, assignment and "never replaced" hold at every step; the marks are
//! stored as `kizon marks import` stores them, and the order derives again from its seed.

mod support;

use std::path::{Path, PathBuf};

use kizon_app::Study;
use kizon_app::access::Role;
use kizon_app::clock::Clock;
use serde_json::{Value, json};
use support::{Client, PASSWORD, sign_in};

fn reader_study(root: &Path) -> PathBuf {
    let dir = root.join("study");
    kizon_app::demo::reader_study_demo(&dir, "tester", false, &root.join("keys"))
        .expect("the reader-study demo builds");
    let mut study = Study::open(&dir).unwrap();
    // Accounts are signed by the owner (a password is vouched for by a signed entry).
    study.set_owner_key(support::owner_key(&dir));
    for (name, role, reader) in [
        ("admin", Role::Admin, None),
        ("r1", Role::Reader, Some("R1")),
        ("r2", Role::Reader, Some("R2")),
    ] {
        study
            .add_user("tester", name, role, reader, PASSWORD)
            .unwrap();
    }
    dir
}

fn case_json(client: &Client, case: &str) -> Value {
    let response = client.get(&format!("/api/reading/{case}"));
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

#[test]
fn a_reader_marks_submits_waits_out_the_washout_and_reads_again_aided() {
    let root = tempfile::tempdir().unwrap();
    let dir = reader_study(root.path());
    let clock = Clock::set_at(time::OffsetDateTime::now_utc());
    let address = support::serve_with_clock(&dir, clock.clone());
    let r1 = sign_in(address, "r1", PASSWORD).expect("r1 signs in");
    let r2 = sign_in(address, "r2", PASSWORD).expect("r2 signs in");

    // The first session, open, nothing read; the worklist in R1's order from the start's seed.
    let session = r1.get("/api/session").json();
    assert_eq!(session["session"], "unaided");
    assert_eq!(session["state"], "open");
    assert_eq!(
        (session["done"].as_u64(), session["total"].as_u64()),
        (Some(0), Some(24))
    );
    let worklist: Vec<String> = r1
        .get("/api/worklist")
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(worklist.len(), 24);
    let derived = Study::open(&dir)
        .unwrap()
        .derive_order("R1", "unaided")
        .unwrap();
    assert!(derived.matches_recorded);
    assert_eq!(
        derived.cases, worklist,
        "the order derives again from the recorded seed"
    );
    let mut sorted = worklist.clone();
    sorted.sort();
    assert_ne!(sorted, worklist, "a random order of R1's own");
    let r2_order: Vec<String> = r2
        .get("/api/worklist")
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case_id"].as_str().unwrap().to_owned())
        .collect();
    assert_ne!(r2_order, worklist, "each reader has an order of their own");

    // The reference lesions (for the test to mark one): the first case in R1's order that has
    // one, its centre and frame.
    let reference = serde_json::to_value(
        Study::open(&dir)
            .unwrap()
            .reference_standard()
            .unwrap()
            .0
            .lesions
            .unwrap(),
    )
    .unwrap();
    let lesions = reference["lesions"].as_array().unwrap();
    let (case, lesion) = worklist
        .iter()
        .find_map(|c| {
            lesions
                .iter()
                .find(|l| l["case_id"] == c.as_str())
                .map(|l| (c.clone(), l.clone()))
        })
        .expect("a case with a lesion");
    let (lx, ly) = (
        lesion["shape"]["x"].as_f64().unwrap(),
        lesion["shape"]["y"].as_f64().unwrap(),
    );
    let frame: u32 = lesion["image"]
        .as_str()
        .unwrap()
        .rsplit('#')
        .next()
        .unwrap()
        .parse::<u32>()
        .unwrap()
        - 1;
    let others: Vec<String> = worklist.iter().filter(|c| **c != case).cloned().collect();

    // The case as R1 opens it: blinded items, the protocol's lesion types and scale.
    let opened = case_json(&r1, &case);
    assert_eq!(
        opened["lesion_types"],
        json!(["solid", "part-solid", "ground-glass"])
    );
    assert_eq!(opened["rating_scale"]["low"], 0.0);
    assert_eq!(opened["rating_scale"]["high"], 100.0);
    assert_eq!(opened["marks"], json!([]));
    let items = opened["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0]["frames"].as_u64(), items[0]["width"].as_u64()),
        (Some(5), Some(256))
    );
    let item = items[0]["id"].as_i64().unwrap();
    // The window is in Hounsfield units, as the protocol's presets are: the image's own window
    // (lung, -600/1500) and the preset asked for by name give the same picture, and the frame's
    // range is in HU (air near -1000), not in stored values.
    let own = r1.get(&format!("/items/{item}/frame.png?frame=0"));
    let lung = r1.get(&format!("/items/{item}/frame.png?frame=0&wc=-600&ww=1500"));
    let bone = r1.get(&format!("/items/{item}/frame.png?frame=0&wc=400&ww=1800"));
    assert_eq!(own.status, 200);
    assert_eq!(
        own.body, lung.body,
        "the image's own window is the lung preset"
    );
    assert_ne!(own.body, bone.body);
    let range: Vec<i64> = own
        .header("x-kizon-value-range")
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(range[0] < -900 && range[1] > 500, "{range:?}");
    let text = serde_json::to_string(&opened).unwrap();
    for hidden in ["2.25.", "ct0", "\"T1\"", "diagnosis", "Biobank"] {
        assert!(
            !text.contains(hidden),
            "the reading case shows `{hidden}`: {text}"
        );
    }

    let marks_path = format!("/api/reading/{case}/marks");
    // A box around the lesion (a hit), a polygon outside the body (a non-lesion mark).
    let boxed = json!({"item": item, "frame": frame, "shape": "box", "points": [[lx - 6.0, ly - 5.0], [lx + 6.0, ly + 5.0]], "lesion_type": "solid", "rating": 80});
    let polygon = json!({"item": item, "frame": frame, "shape": "polygon", "points": [[4, 4], [20, 4], [20, 18], [6, 20]], "lesion_type": "part-solid", "rating": 35});
    // Without the CSRF header the mark is refused.
    let forged = support::request(
        address,
        "POST",
        &marks_path,
        &[
            ("Cookie", &r1.cookie()),
            ("Content-Type", "application/json"),
        ],
        boxed.to_string().as_bytes(),
    );
    assert_eq!(forged.status, 403, "{}", forged.text());
    // Marks the protocol does not allow are refused with the reason.
    for (bad, says) in [
        (
            json!({"item": item, "frame": 2, "shape": "box", "points": [[60, 90], [80, 112]], "lesion_type": "calcified", "rating": 80}),
            "not one of the protocol's",
        ),
        (
            json!({"item": item, "frame": 2, "shape": "box", "points": [[60, 90], [80, 112]], "lesion_type": "solid", "rating": 101}),
            "not on the protocol's scale",
        ),
        (
            json!({"item": item, "frame": 2, "shape": "box", "points": [[60, 90], [80, 112]], "lesion_type": "solid"}),
            "rating is missing",
        ),
        (
            json!({"item": item, "frame": 5, "shape": "box", "points": [[60, 90], [80, 112]], "lesion_type": "solid", "rating": 5}),
            "past the item's 5 frames",
        ),
        (
            json!({"item": item, "frame": 0, "shape": "box", "points": [[60, 90], [300, 112]], "lesion_type": "solid", "rating": 5}),
            "outside the 256×256 image",
        ),
        (
            json!({"item": item, "frame": 0, "shape": "polygon", "points": [[1, 1], [2, 2]], "lesion_type": "solid", "rating": 5}),
            "3 to 1000 vertices",
        ),
        (
            json!({"item": item + 1000, "frame": 0, "shape": "point", "points": [[1, 1]], "lesion_type": "solid", "rating": 5}),
            "not found",
        ),
    ] {
        let response = r1.api("POST", &marks_path, &bad);
        assert!(response.status >= 400, "{bad}: {}", response.text());
        assert!(response.text().contains(says), "{bad}: {}", response.text());
    }
    let held_box = r1.api("POST", &marks_path, &boxed);
    assert_eq!(held_box.status, 200, "{}", held_box.text());
    let held_polygon = r1.api("POST", &marks_path, &polygon);
    assert_eq!(held_polygon.status, 200, "{}", held_polygon.text());
    let point = r1.api("POST", &marks_path, &json!({"item": item, "frame": 1, "shape": "point", "points": [[10, 10]], "lesion_type": "ground-glass", "rating": 5}));
    let point_id = point.json()["id"].as_i64().unwrap();
    assert_eq!(case_json(&r1, &case)["marks"].as_array().unwrap().len(), 3);

    // R2 (assigned the same case) sees none of R1's marks and cannot withdraw them.
    assert_eq!(case_json(&r2, &case)["marks"], json!([]));
    let theirs = r2.api("DELETE", &format!("{marks_path}/{point_id}"), &json!({}));
    assert_eq!(theirs.status, 404, "{}", theirs.text());
    // R1 withdraws the point.
    let withdrawn = r1.api("DELETE", &format!("{marks_path}/{point_id}"), &json!({}));
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.text());
    let marks = case_json(&r1, &case)["marks"].clone();
    assert_eq!(marks.as_array().unwrap().len(), 2);

    // The session asks for a label and a score.
    let submit = format!("/api/reading/{case}/submit");
    let missing = r1.api("POST", &submit, &json!({"label": "positive"}));
    assert!(
        missing.text().contains("asks for a score"),
        "{}",
        missing.text()
    );
    let read = r1.api("POST", &submit, &json!({"label": "positive", "score": 78}));
    assert_eq!(read.status, 200, "{}", read.text());
    let again = r1.api("POST", &submit, &json!({"label": "negative", "score": 10}));
    assert!(
        again.status >= 400 && again.text().contains("never replaced"),
        "{}",
        again.text()
    );
    let late_mark = r1.api("POST", &marks_path, &boxed);
    assert!(
        late_mark.status >= 400 && late_mark.text().contains("already read"),
        "{}",
        late_mark.text()
    );
    let shown = case_json(&r1, &case);
    assert_eq!(
        shown["marks"], marks,
        "the submitted marks are shown as placed"
    );
    assert_eq!(shown["read"]["score"], 78.0);

    // A case not assigned is not found (R1 is assigned all 24: a case id that is none).
    assert_eq!(r1.get("/api/reading/R-999").status, 404);

    // The rest of the unaided session, then the washout.
    for (n, other) in others.iter().enumerate() {
        clock.advance(time::Duration::seconds(40));
        let _ = case_json(&r1, other);
        clock.advance(time::Duration::seconds(21 + n as i64));
        let response = r1.api(
            "POST",
            &format!("/api/reading/{other}/submit"),
            &json!({"label": "negative", "score": 20}),
        );
        assert_eq!(response.status, 200, "{other}: {}", response.text());
    }
    let session = r1.get("/api/session").json();
    assert_eq!(session["session"], "aided");
    assert_eq!(session["state"], "washout", "{session}");
    let refused = r1.get(&format!("/api/reading/{case}"));
    assert!(refused.status >= 400, "{}", refused.text());
    assert!(refused.text().contains("washout"), "{}", refused.text());
    // Nor can the images be had directly in the washout (the item ids are known from before).
    let frame = r1.get(&format!("/items/{item}/frame.png?frame=0"));
    assert!(
        frame.status >= 400,
        "a frame in the washout: {}",
        frame.status
    );
    assert!(frame.text().contains("washout"), "{}", frame.text());
    // The worklist page says when the session opens.
    let page = r1.get("/reading").text();
    assert!(page.contains("id=\"washout\""), "{page}");

    // 28 days later the aided session opens; the case is read again in the other condition.
    clock.advance(time::Duration::days(28));
    let session = r1.get("/api/session").json();
    assert_eq!(session["state"], "open", "{session}");
    let aided = case_json(&r1, &case);
    assert_eq!(
        aided["marks"],
        json!([]),
        "a new session starts without marks"
    );
    assert_eq!(aided["session"]["session"], "aided");
    // R1 has started the aided session: a new case would send them back to the unaided one.
    let refused = Study::open(&dir)
        .unwrap()
        .assign(
            "tester",
            "R1",
            &kizon_app::access::Assign::Cases(vec!["R-999".into()]),
        )
        .unwrap_err()
        .to_string();
    assert!(refused.contains("has started session aided"), "{refused}");
    // R3 started nothing: assigning the dataset again adds nothing and is allowed.
    let again = Study::open(&dir)
        .unwrap()
        .assign("tester", "R3", &kizon_app::access::Assign::Dataset)
        .unwrap();
    assert_eq!(again, 0);
    let mark = r1.api("POST", &marks_path, &boxed);
    assert_eq!(mark.status, 200, "{}", mark.text());
    let read = r1.api("POST", &submit, &json!({"label": "positive", "score": 91}));
    assert_eq!(read.status, 200, "{}", read.text());
    let twice = r1.api("POST", &submit, &json!({"label": "positive", "score": 91}));
    assert!(twice.text().contains("never replaced"), "{}", twice.text());

    // Stored as marks import stores them: R1's marks in each condition, named by SOP Instance
    // UID and frame; the reads in the roles modality:unaided and modality:aided; reading times
    // from the events; the ledger intact.
    let study = Study::open(&dir).unwrap();
    let mine: Vec<_> = study
        .marks()
        .unwrap()
        .into_iter()
        .filter(|m| m.reader.as_deref() == Some("R1"))
        .collect();
    assert_eq!(mine.len(), 3, "{mine:?}");
    assert_eq!(
        mine[0].role.as_ref().map(|r| r.as_stored().into_owned()),
        Some("modality:unaided".to_owned())
    );
    assert_eq!(
        mine[2].role.as_ref().map(|r| r.as_stored().into_owned()),
        Some("modality:aided".to_owned())
    );
    assert_eq!(
        mine[0].image,
        lesion["image"].as_str().unwrap(),
        "named as the panel named it"
    );
    assert_eq!(
        mine[0].shape,
        format!(
            r#"{{"shape":"box","x0":{:?},"y0":{:?},"x1":{:?},"y1":{:?}}}"#,
            lx - 6.0,
            ly - 5.0,
            lx + 6.0,
            ly + 5.0
        )
    );
    assert_eq!(mine[0].lesion_type.as_deref(), Some("solid"));
    assert_eq!(mine[1].rating, Some(35.0));
    let reads: Vec<_> = study
        .reads()
        .unwrap()
        .into_iter()
        .filter(|r| r.reader == "R1")
        .collect();
    assert_eq!(reads.len(), 25);
    let times = study.reading_times().unwrap();
    let first = times
        .iter()
        .find(|t| t.reader == "R1" && t.session == "unaided" && t.case_id == others[0])
        .expect("a reading time");
    assert!(first.submitted);
    assert!((first.seconds - 21.0).abs() < 1e-6, "{first:?}");
    assert!(study.verify(None).unwrap().intact());

    // The analysis matches each reader's marks per condition to the locked lesions, over the
    // cases read in it: R1 unaided read 24 cases with one hit and one non-lesion mark.
    let mut study = Study::open(&dir).unwrap();
    study.set_owner_key(support::owner_key(&dir));
    let analysis = study.analyze("tester", None).unwrap().analysis;
    let by = |modality: &str| {
        analysis
            .reader_lesions
            .iter()
            .find(|r| r.reader == "R1" && r.modality == modality)
            .unwrap_or_else(|| panic!("R1 {modality} in {:?}", analysis.reader_lesions))
    };
    let unaided = &by("unaided").analysis.as_ref().unwrap().figures;
    assert_eq!(by("unaided").cases, 24);
    assert_eq!((unaided.marks, unaided.hits, unaided.nl_marks), (2, 1, 1));
    // One case read aided, abnormal: no FROC figures without a normal case, and said why.
    assert_eq!(by("aided").cases, 1);
    assert!(by("aided").analysis.is_none());
    assert!(by("aided").not_estimable.is_some());
    assert!(analysis.inputs.reader_marks_sha256.is_some());
    // Reading time per reader and condition, from the events: 24 unaided reads of R1, each of
    // the 23 read by the loop took 21 s or more.
    let time = analysis
        .reading_times
        .iter()
        .find(|t| t.modality == "unaided" && t.reader.as_deref() == Some("R1"))
        .expect("R1's unaided reading time");
    assert_eq!(time.reads, 24);
    assert!(time.median_seconds >= 21.0, "{time:?}");
    assert!(analysis.inputs.reading_times_sha256.is_some());

    // R1 finishes the aided session; R2 reads both, 28 days apart. The report's MRMC section
    // then gives each reader's reading time (45 s from opening to submitting each case) and
    // lesion-level figures per condition.
    let read_all = |client: &Client| {
        for case in client.get("/api/worklist").json().as_array().unwrap() {
            if case["read"].is_null() {
                let id = case["case_id"].as_str().unwrap();
                clock.advance(time::Duration::seconds(30));
                assert_eq!(case_json(client, id)["case"], id);
                clock.advance(time::Duration::seconds(45));
                let response = client.api(
                    "POST",
                    &format!("/api/reading/{id}/submit"),
                    &json!({"label": "negative", "score": (id.len() * 7 % 90) as f64}),
                );
                assert_eq!(response.status, 200, "{id}: {}", response.text());
            }
        }
    };
    read_all(&r1);
    read_all(&r2);
    assert_eq!(r2.get("/api/session").json()["state"], "washout");
    clock.advance(time::Duration::days(28));
    read_all(&r2);
    assert_eq!(r2.get("/api/session").json()["state"], "finished");
    let analysis = study.analyze("tester", None).unwrap().analysis;
    assert!(
        analysis.reader_study.is_some(),
        "two readers, two conditions"
    );
    let report = study
        .report(
            "tester",
            kizon_app::Lang::En,
            kizon_app::report::Format::Html,
            "2026-12-02",
        )
        .unwrap();
    let html = String::from_utf8(report.bytes).unwrap();
    for expected in [
        "Reading time (reads in the web workspace",
        "Lesion level by reader",
        "wAFROC FOM",
        "All readers",
        "45.0",
    ] {
        assert!(html.contains(expected), "the report lacks `{expected}`");
    }
}

/// The reading API to those it is not for: no session (401), a role that does not read (403),
/// a reader with no case assigned (nothing to read, the case not found), a forged request.
#[test]
fn the_reading_api_refuses_other_roles_unassigned_readers_and_forged_requests() {
    let root = tempfile::tempdir().unwrap();
    let dir = reader_study(root.path());
    let mut study = Study::open(&dir).unwrap();
    study.set_owner_key(support::owner_key(&dir));
    study
        .add_user("tester", "t1", Role::Reader, Some("T1"), PASSWORD)
        .unwrap();
    // A reader study's readers may join after the reference lock (their reads are never
    // reference); the new reader reads nothing until assigned.
    study
        .add_reader(
            "tester",
            &kizon_app::NewReader {
                code: "R9".into(),
                qualification: "放射線科専攻医".into(),
                qualification_en: None,
                specialty: "chest".into(),
                years_experience: 3,
                independent: true,
                declaration: None,
            },
        )
        .expect("a reader-study reader joins after the reference lock");
    drop(study);
    let address = support::serve(&dir, 1 << 20);
    let mark = json!({"item": 1, "frame": 0, "shape": "point", "points": [[10, 10]], "lesion_type": "solid", "rating": 50});

    let anonymous = support::request(
        address,
        "POST",
        "/api/reading/R-001/marks",
        &[("Content-Type", "application/json")],
        mark.to_string().as_bytes(),
    );
    assert_eq!(anonymous.status, 401, "{}", anonymous.text());

    let admin = sign_in(address, "admin", PASSWORD).unwrap();
    let submission = json!({"label": "positive", "score": 50});
    for (method, path, body) in [
        ("GET", "/api/session", &mark),
        ("GET", "/api/reading/R-001", &mark),
        ("POST", "/api/reading/R-001/marks", &mark),
        ("POST", "/api/reading/R-001/submit", &submission),
    ] {
        let response = admin.api(method, path, body);
        assert_eq!(response.status, 403, "{method} {path}: {}", response.text());
    }

    // T1 read for the reference standard and is assigned nothing in the reader study.
    let t1 = sign_in(address, "t1", PASSWORD).unwrap();
    assert_eq!(t1.get("/api/session").json()["state"], "nothing-assigned");
    let response = t1.api("POST", "/api/reading/R-001/marks", &mark);
    assert_eq!(response.status, 404, "{}", response.text());
    assert_eq!(t1.get("/api/reading/R-001").status, 404);

    // A reader's own request with another session's CSRF token is refused.
    let r1 = sign_in(address, "r1", PASSWORD).unwrap();
    let forged = support::request(
        address,
        "POST",
        "/api/reading/R-001/submit",
        &[
            ("Cookie", &r1.cookie()),
            ("Content-Type", "application/json"),
            ("X-CSRF-Token", &admin.csrf),
        ],
        br#"{"label": "positive", "score": 50}"#,
    );
    assert_eq!(forged.status, 403, "{}", forged.text());
    assert!(
        Study::open(&dir)
            .unwrap()
            .reads()
            .unwrap()
            .iter()
            .all(|r| r.reader != "R1"),
        "nothing was read"
    );
}

/// An ECG on the reading page is drawn on standard paper, 25 mm/s and 10 mm/mV, 10 s a page
/// with the pages to turn; the SVG's units are millimetres (the demo's 30 s two-lead EDF ECG).
#[test]
fn an_ecg_is_read_on_standard_paper_in_pages() {
    let root = tempfile::tempdir().unwrap();
    let dir = support::study(root.path(), kizon_app::demo::DemoStop::Checked);
    let mut study = Study::open(&dir).unwrap();
    study
        .assign(
            "tester",
            "R1",
            &kizon_app::access::Assign::Cases(vec!["C-121".into()]),
        )
        .unwrap();
    drop(study);
    let address = support::serve(&dir, 1 << 20);
    let r1 = sign_in(address, "r1", PASSWORD).unwrap();
    let page = r1.get("/reading/C-121?lang=en");
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains(r#"class="paper" viewBox="0 0 250 60" width="250mm" height="60mm""#),
        "two 30 mm bands of 250 mm: {html}"
    );
    assert!(
        html.contains("25 mm/s · 10 mm/mV · page 1 / 3 (0–10 s)"),
        "{html}"
    );
    assert!(html.contains(r#"href="/reading/C-121?page=1""#));
    let last = r1.get("/reading/C-121?page=2&lang=en").text();
    assert!(last.contains("page 3 / 3 (20–30 s)"), "{last}");
    std::fs::write(
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ecg-paper.svg"),
        html.split("<svg")
            .nth(1)
            .and_then(|s| s.split("</svg>").next())
            .map(|s| format!("<svg{s}</svg>"))
            .unwrap(),
    )
    .unwrap();
}

/// After the reference lock the reference panel's session is closed: a reader's mark and read
/// are refused with the reason, and nothing is recorded.
#[test]
fn marks_and_reads_are_refused_after_the_reference_lock() {
    let root = tempfile::tempdir().unwrap();
    let dir = support::study(root.path(), kizon_app::demo::DemoStop::Complete);
    let before = Study::open(&dir).unwrap().audit_log().unwrap().len();
    let address = support::serve(&dir, 1 << 20);
    let r1 = sign_in(address, "r1", PASSWORD).unwrap();
    let session = r1.get("/api/session").json();
    assert_eq!(session["state"], "closed", "{session}");
    let mark = r1.api(
        "POST",
        "/api/reading/C-001/marks",
        &json!({"item": 1, "frame": 0, "shape": "point", "points": [[4, 4]], "rating": 1}),
    );
    assert_eq!(mark.status, 409, "{}", mark.text());
    assert!(
        mark.text().contains("reference standard is locked"),
        "{}",
        mark.text()
    );
    let read = r1.api(
        "POST",
        "/api/reading/C-001/submit",
        &json!({"label": "positive"}),
    );
    assert!(
        read.text().contains("reference standard is locked"),
        "{}",
        read.text()
    );
    let log = Study::open(&dir).unwrap().audit_log().unwrap();
    assert!(
        log[before..].iter().all(|e| e.command == "login"),
        "only the logins were recorded: {:?}",
        log[before..].iter().map(|e| &e.command).collect::<Vec<_>>()
    );
}

/// A series stored as one file per slice is read as one stack, in slice order (the position
/// along the patient, not the file names): three copies of pydicom's real `CT_small.dcm` given
/// their own SOP Instance UIDs, instance numbers and positions with dcmtk's `dcmodify`, named so
/// that the names' order is not the slices'.
#[test]
fn a_series_of_single_frame_slices_is_scrolled_as_one_stack_in_slice_order() {
    let root = tempfile::tempdir().unwrap();
    let delivery = root.path().join("series");
    std::fs::create_dir_all(&delivery).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/dicom/pydicom/CT_small.dcm");
    // (file, instance number, z in mm)
    let slices = [("a.dcm", 3, 20.0), ("b.dcm", 1, -10.0), ("c.dcm", 2, 5.0)];
    let mut manifest = String::from("case_id,path,collection_date\n");
    for (n, (file, instance, z)) in slices.iter().enumerate() {
        let path = delivery.join(file);
        std::fs::copy(&source, &path).unwrap();
        let status = std::process::Command::new("dcmodify")
            .args([
                "-nb",
                "-m",
                &format!("(0008,0018)=1.2.826.0.1.3680043.10.1.{}", n + 1),
                "-m",
                &format!("(0020,0013)={instance}"),
                "-m",
                &format!("(0020,0032)=0\\0\\{z}"),
            ])
            .arg(&path)
            .status()
            .expect("dcmtk's dcmodify (tools/test installs dcmtk)");
        assert!(status.success());
        manifest.push_str(&format!("X-002,{file},2024-07-01\n"));
    }
    std::fs::write(delivery.join("manifest.csv"), manifest).unwrap();
    let dir = support::reader_study_with_delivery(
        root.path(),
        &delivery.join("manifest.csv"),
        (
            "試験用に複製した公開画像",
            "a public test image copied for the test",
        ),
    );
    let study = Study::open(&dir).unwrap();
    // The items' ids by file name, as a data manager sees them.
    let data_manager = kizon_app::access::Account {
        name: "tester".into(),
        role: Role::DataManager,
        reader_code: None,
    };
    let by_path: std::collections::BTreeMap<String, i64> = study
        .item_page(
            &data_manager,
            &kizon_app::ItemQuery {
                case_id: Some("X-002".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap()
        .items
        .into_iter()
        .map(|i| (i.path.rsplit('/').next().unwrap().to_owned(), i.id))
        .collect();
    drop(study);
    let address = support::serve(&dir, 1 << 20);
    let r1 = sign_in(address, "r1", PASSWORD).unwrap();
    let case = case_json(&r1, "X-002");
    let items: Vec<(i64, Option<u64>)> = case["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_i64().unwrap(), i["stack"].as_u64()))
        .collect();
    let order = [by_path["b.dcm"], by_path["c.dcm"], by_path["a.dcm"]];
    assert_eq!(
        items,
        order.iter().map(|id| (*id, Some(0))).collect::<Vec<_>>(),
        "one stack, ordered by position along the patient"
    );
    let page = r1.get("/reading/X-002?frame=2&lang=en").text();
    let stack = format!("data-stack=\"{} {} {}\"", order[0], order[1], order[2]);
    assert!(page.contains(&stack), "{page}");
    assert!(
        page.contains(&format!("/items/{}/frame.png?frame=0", order[2])),
        "the third slice shown"
    );
    assert!(page.contains("Slice"), "{page}");
    assert_eq!(
        page.matches("class=\"viewer\"").count(),
        1,
        "one viewer for the series"
    );
    let mark = r1.api(
        "POST",
        "/api/reading/X-002/marks",
        &json!({"item": order[2], "frame": 0, "shape": "point", "points": [[64, 64]], "lesion_type": "solid", "rating": 50}),
    );
    assert_eq!(mark.status, 200, "{}", mark.text());
}

/// The decode cache: frames a reader was shown come from memory, keyed by the content ingest
/// verified. A source changed on disk after it was verified is not what the cache serves (the
/// cached frames are the verified content's), and once the cache is gone (a new server) the
/// changed file is refused as before.
#[test]
fn frames_come_from_the_decode_cache_of_the_verified_content() {
    let root = tempfile::tempdir().unwrap();
    let dir = reader_study(root.path());
    let address = support::serve(&dir, 1 << 20);
    let r1 = sign_in(address, "r1", PASSWORD).expect("r1 signs in");
    let case = r1.get("/api/worklist").json()[0]["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = case_json(&r1, &case)["items"][0]["id"].as_i64().unwrap();
    let frames: Vec<Vec<u8>> = (0..5)
        .map(|f| {
            let shown = r1.get(&format!("/items/{item}/frame.png?frame={f}&wc=40&ww=400"));
            assert_eq!(shown.status, 200, "{}", shown.text());
            shown.body
        })
        .collect();

    // Every file of the delivery is changed behind kizon's back: one pixel of the last frame.
    for file in std::fs::read_dir(dir.join("demo-sources").join("biobank")).unwrap() {
        let path = file.unwrap().path();
        if path.extension().is_some_and(|e| e == "dcm") {
            let mut bytes = std::fs::read(&path).unwrap();
            let last = bytes.len() - 2;
            bytes[last] ^= 0x7f;
            std::fs::write(&path, &bytes).unwrap();
        }
    }

    for (f, before) in frames.iter().enumerate() {
        let again = r1.get(&format!("/items/{item}/frame.png?frame={f}&wc=40&ww=400"));
        assert_eq!(again.status, 200);
        assert_eq!(
            &again.body, before,
            "frame {f}: the verified content, from memory"
        );
    }
    let other_window = r1.get(&format!("/items/{item}/frame.png?frame=4&wc=-600&ww=1500"));
    assert_eq!(other_window.status, 200, "a new window of a cached frame");

    let fresh = support::serve(&dir, 1 << 20);
    let r1 = sign_in(fresh, "r1", PASSWORD).expect("r1 signs in");
    let refused = r1.get(&format!("/items/{item}/frame.png?frame=4&wc=40&ww=400"));
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert!(
        refused.text().contains("changed since ingest"),
        "{}",
        refused.text()
    );
}

/// A video is read like a multi-frame image: the reader's page plays it, a mark names the
/// frame it was placed on (frames counted from 0, within the video's frame count and size),
/// and the marks are stored as `kizon marks import` stores them, `path#frame` counted from 1.
/// The player seeks by byte ranges, answered from the cleaned video.
#[test]
fn a_reader_marks_a_frame_of_a_real_video_and_the_player_seeks_by_ranges() {
    let root = tempfile::tempdir().unwrap();
    let dir = support::reader_study_with_a_real_video(root.path());
    let address = support::serve(&dir, 1 << 20);
    let r1 = sign_in(address, "r1", PASSWORD).expect("r1 signs in");

    let opened = case_json(&r1, "V-001");
    let video = &opened["items"][0];
    assert_eq!(video["kind"], "video");
    assert_eq!(
        (
            video["frames"].as_u64(),
            video["width"].as_u64(),
            video["height"].as_u64()
        ),
        (Some(250), Some(640), Some(272))
    );
    let fps = video["frames_per_second"].as_f64().unwrap();
    assert!((fps - 25.0).abs() < 0.5, "{fps}");
    let id = video["id"].as_i64().unwrap();

    let page = r1.get("/reading/V-001?frame=37").text();
    assert!(page.contains("class=\"viewer video-viewer\""), "{page}");
    assert!(
        page.contains(&format!("/items/{id}/video.mp4#t=1.5")),
        "without the script the page opens at the frame asked for: {page}"
    );

    let mark = |frame: u64, points: Value| {
        r1.api(
            "POST",
            "/api/reading/V-001/marks",
            &json!({ "item": id, "frame": frame, "shape": "box", "points": points,
                     "lesion_type": "solid", "rating": 60 }),
        )
    };
    let placed = mark(37, json!([[100, 50], [180, 120]]));
    assert_eq!(placed.status, 200, "{}", placed.text());
    let past_the_end = mark(250, json!([[100, 50], [180, 120]]));
    assert_eq!(past_the_end.status, 409, "{}", past_the_end.text());
    assert!(past_the_end.text().contains("250 frames"));
    let outside = mark(3, json!([[100, 50], [180, 300]]));
    assert_eq!(outside.status, 409, "{}", outside.text());
    assert!(outside.text().contains("640×272"), "{}", outside.text());
    let read = r1.api(
        "POST",
        "/api/reading/V-001/submit",
        &json!({ "label": "positive", "score": 70 }),
    );
    assert_eq!(read.status, 200, "{}", read.text());
    let marks: Vec<_> = Study::open(&dir)
        .unwrap()
        .marks()
        .unwrap()
        .into_iter()
        .filter(|m| m.reader.as_deref() == Some("R1"))
        .collect();
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert_eq!(marks[0].image, "bikes.mp4#38");

    // The player's ranges, from the cleaned video (its metadata blanked, its media the same).
    let whole = r1.get(&format!("/items/{id}/video.mp4"));
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    let original = std::fs::read(support::bikes_mp4()).unwrap();
    assert_eq!(whole.body.len(), original.len());
    let ranged = |range: &str| {
        support::http::request(
            address,
            "GET",
            &format!("/items/{id}/video.mp4"),
            &[("Cookie", &r1.cookie()), ("Range", range)],
            b"",
        )
    };
    let part = ranged("bytes=1000-1999");
    assert_eq!(part.status, 206);
    assert_eq!(part.body, whole.body[1000..2000]);
    assert_eq!(
        part.header("content-range").map(str::to_owned),
        Some(format!("bytes 1000-1999/{}", whole.body.len()))
    );
    let tail = ranged("bytes=-100");
    assert_eq!(tail.body, whole.body[whole.body.len() - 100..]);
    let past = ranged(&format!("bytes={}-", whole.body.len()));
    assert_eq!(past.status, 416);
    // An item not assigned to the reader stays out of reach.
    assert_eq!(
        r1.get("/items/999999/video.mp4").status,
        404,
        "an item that is not the reader's"
    );
}
