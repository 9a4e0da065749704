//! End to end in a real browser: headless Chromium driven through ChromeDriver (W3C WebDriver)
//! against a real server over a real study. A data manager resolves a finding, a reader makes
//! a blinded read, a statistician downloads the report. Screenshots of every step are kept in
//! `target/tmp/kizon-web-e2e/` (look at them).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Where they are
//! absent the test fails, unless `KIZON_SKIP_BROWSER=1` says to skip it.

mod support;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kizon_app::Study;
use kizon_app::demo::{self, DemoStop};
use serde_json::{Value, json};
use support::PASSWORD;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    process: Child,
    address: SocketAddr,
    session: String,
    shots: PathBuf,
    step: usize,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = support::request(
            self.address,
            "DELETE",
            &format!("/session/{}", self.session),
            &[],
            b"",
        );
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Driver {
    fn start(downloads: &Path, shots: PathBuf) -> Driver {
        let port = free_port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(address).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {address}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let user_data = downloads.parent().unwrap().join("chromium-profile");
        let capabilities = json!({ "capabilities": { "alwaysMatch": { "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                     format!("--user-data-dir={}", user_data.display())],
            "prefs": { "download.default_directory": downloads.display().to_string(), "download.prompt_for_download": false }
        }}}});
        let created = post(address, "/session", &capabilities);
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        let driver = Driver {
            process,
            address,
            session,
            shots,
            step: 0,
        };
        // Allow downloads into our directory (headless Chromium needs it said over CDP).
        driver.command("POST", "/chromium/send_command", json!({ "cmd": "Browser.setDownloadBehavior", "params": { "behavior": "allow", "downloadPath": downloads.display().to_string() } }));
        driver
    }

    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let body = if method == "GET" {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let response = support::request(
            self.address,
            method,
            &path,
            &[("Content-Type", "application/json")],
            &body,
        );
        let value: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        assert!(
            response.status < 400,
            "WebDriver {method} {path}: {} {value}",
            response.status
        );
        value["value"].clone()
    }

    fn go(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let value = self.command(
            "POST",
            "/element",
            json!({ "using": "css selector", "value": css }),
        );
        value[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    fn count(&self, css: &str) -> usize {
        self.command(
            "POST",
            "/elements",
            json!({ "using": "css selector", "value": css }),
        )
        .as_array()
        .map_or(0, Vec::len)
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.command(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        );
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.command("POST", &format!("/element/{id}/click"), json!({}));
    }

    /// Waits (up to 15 s) until `css` matches: after a click that navigates.
    fn wait_for(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.count(css) == 0 {
            assert!(
                Instant::now() < deadline,
                "{css} never appeared; the page is:\n{}",
                self.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.command("GET", &format!("/element/{id}/text"), Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn source(&self) -> String {
        self.command("GET", "/source", Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn script(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
    }

    fn screenshot(&mut self, name: &str) {
        self.step += 1;
        let data = self.command("GET", "/screenshot", Value::Null);
        let bytes = base64_decode(data.as_str().unwrap());
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(
            self.shots.join(format!("{:02}-{name}.png", self.step)),
            bytes,
        )
        .unwrap();
    }

    fn sign_in(&mut self, base: &str, name: &str) {
        self.go(&format!("{base}/login"));
        self.type_into("#name", name);
        self.type_into("#password", PASSWORD);
        self.click("#sign-in");
        self.wait_for("nav .who");
    }

    fn sign_out(&self) {
        self.click("nav form button");
        self.wait_for("#sign-in");
    }
}

fn post(address: SocketAddr, path: &str, body: &Value) -> Value {
    let response = support::request(
        address,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    serde_json::from_slice(&response.body).unwrap_or_else(|_| panic!("{path}: {}", response.text()))
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &c)| {
            acc | (u32::from(value(c)) << (18 - 6 * i))
        });
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    out
}

fn wait_for_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if path.is_file()
            && !dir.join(format!("{name}.crdownload")).exists()
            && std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) > 0
        {
            return path;
        }
        assert!(
            Instant::now() < deadline,
            "{name} was not downloaded into {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_data_manager_a_reader_and_a_statistician_work_through_the_study_in_chromium() {
    if !browser_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let study_dir = support::study(work.path(), DemoStop::Checked);
    let address = support::serve(&study_dir, 8 << 20);
    let base = format!("http://{address}");
    let downloads = work.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kizon-web-e2e");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let mut browser = Driver::start(&downloads, shots.clone());

    // 1. The data manager signs in, sees what blocks the dataset lock, and resolves a finding.
    browser.sign_in(&base, "dm");
    assert!(
        browser.source().contains("id=\"steps\""),
        "the overview after login"
    );
    assert!(
        browser.text("#steps").contains("未解決"),
        "the overview names the blocking findings"
    );
    browser.screenshot("overview-ja");
    browser.go(&format!("{base}/findings"));
    let open_before = browser.count("section.finding");
    let first = browser.find("section.finding");
    let finding_id = browser
        .command(
            "GET",
            &format!("/element/{first}/attribute/id"),
            Value::Null,
        )
        .as_str()
        .unwrap()
        .to_owned();
    browser.type_into(
        &format!("#{finding_id} input[name=reason]"),
        "提供元の記録と照合し問題なし / checked against the provider's record",
    );
    browser.screenshot("finding-before");
    browser.click(&format!("#{finding_id} button"));
    browser.wait_for(&format!("#{finding_id} p:not(.muted)"));
    browser.go(&format!("{base}/findings"));
    assert_eq!(
        browser.count("section.finding"),
        open_before - 1,
        "one finding fewer is open"
    );
    browser.go(&format!("{base}/findings?show=all&lang=en"));
    assert!(
        browser.source().contains("checked against the provider"),
        "the reason is shown"
    );
    browser.screenshot("findings-en");
    browser.sign_out();

    // The rest of the team settles the other findings and locks the dataset (as the demo does).
    let mut study = Study::open(&study_dir).unwrap();
    study.set_owner_key(support::owner_key(&study_dir));
    demo::settle_and_lock_dataset(&mut study, "tester").unwrap();

    // 2. The reader signs in to their worklist and reads C-001, blinded.
    browser.sign_in(&base, "r1");
    assert!(
        browser.source().contains("id=\"worklist\""),
        "a reader lands on the worklist"
    );
    assert_eq!(browser.count("#worklist tbody tr"), 3);
    browser.go(&format!("{base}/reading/C-001?lang=ja"));
    let image_ok = browser.script(
        "const i = document.querySelector('img.frame'); return i && i.complete && i.naturalWidth > 0;",
    );
    assert_eq!(
        image_ok,
        Value::Bool(true),
        "the image renders in the browser"
    );
    let page = browser.source();
    assert!(
        !page.contains("diagnosis") && !page.contains(".dcm"),
        "no clinical information or paths on the reading page"
    );
    browser.screenshot("reading-case");
    browser.click("input[name=label][value=positive]");
    browser.type_into("input[name=score]", "0.83");
    browser.click("#submit-read");
    browser.wait_for("#recorded");
    browser.screenshot("read-submitted");
    assert!(
        browser.text("#recorded").contains("陽性"),
        "the read is recorded and shown back"
    );
    browser.screenshot("read-recorded");
    // Another case's page is not there for this reader.
    browser.go(&format!("{base}/reading/C-050"));
    assert!(browser.source().contains("404"));
    browser.go(&format!("{base}/reading"));
    sign_out_and_check(&mut browser);

    let reads = study.reads().unwrap();
    let read = reads
        .iter()
        .find(|r| r.reader == "R1" && r.case_id == "C-001")
        .expect("the read is in the store");
    assert_eq!(read.label, Some(kizon_app::Label::Positive));
    assert_eq!(read.score, Some(0.83));

    // The reference standard is locked, results imported and analysed.
    demo::reference_to_analysis(&mut study, "tester").unwrap();

    // 3. The statistician sees the analysis and downloads the Japanese report.
    browser.sign_in(&base, "stat");
    browser.go(&format!("{base}/analysis"));
    browser.screenshot("analysis");
    assert!(
        browser.text("#endpoints").contains("適合"),
        "the verdicts are shown"
    );
    browser.click("#reports a[href='/reports/report-ja.pdf']");
    let pdf = wait_for_file(&downloads, "report-ja.pdf");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(
        bytes.starts_with(b"%PDF"),
        "a real PDF was downloaded ({} bytes)",
        bytes.len()
    );
    assert!(bytes.len() > 100_000);

    // Every action above is in the ledger under the user who did it.
    let log = study.audit_log().unwrap();
    for (actor, command) in [
        ("dm (web, data-manager)", "resolve"),
        ("r1 (web, reader)", "read"),
        ("stat (web, statistician)", "report"),
    ] {
        assert!(
            log.iter().any(|e| e.actor == actor && e.command == command),
            "{command} by {actor} in the ledger"
        );
    }
    assert!(std::fs::read_dir(&shots).unwrap().count() >= 6);
}

fn sign_out_and_check(browser: &mut Driver) {
    browser.sign_out();
    assert!(
        browser.source().contains("id=\"sign-in\""),
        "back on the login page"
    );
}

impl Driver {
    /// Scrolls `css` to the middle of the window (pointer actions need it in view).
    fn scroll_to(&self, css: &str) {
        self.script(&format!(
            "document.querySelector('{css}').scrollIntoView({{block: 'center', inline: 'center'}});"
        ));
    }

    /// Replaces the value of an input.
    fn set_value(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.command("POST", &format!("/element/{id}/clear"), json!({}));
        self.command(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        );
    }

    /// Pointer actions on `css`: each step a press (true) or a move to an offset from the
    /// element's centre, in CSS pixels.
    fn pointer(&self, css: &str, steps: &[(i64, i64, bool)]) {
        self.scroll_to(css);
        let id = self.find(css);
        let origin = json!({ ELEMENT: id });
        let mut actions = Vec::new();
        for &(x, y, press) in steps {
            actions.push(
                json!({ "type": "pointerMove", "duration": 50, "origin": origin, "x": x, "y": y }),
            );
            if press {
                actions.push(json!({ "type": "pointerDown", "button": 0 }));
                actions.push(json!({ "type": "pointerUp", "button": 0 }));
            }
        }
        self.command(
            "POST",
            "/actions",
            json!({ "actions": [{ "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" }, "actions": actions }] }),
        );
    }

    /// A drag on `css` from one offset to another.
    fn drag(&self, css: &str, from: (i64, i64), to: (i64, i64)) {
        self.scroll_to(css);
        let id = self.find(css);
        let origin = json!({ ELEMENT: id });
        self.command(
            "POST",
            "/actions",
            json!({ "actions": [{ "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" }, "actions": [
                { "type": "pointerMove", "duration": 50, "origin": origin, "x": from.0, "y": from.1 },
                { "type": "pointerDown", "button": 0 },
                { "type": "pointerMove", "duration": 150, "origin": origin, "x": to.0, "y": to.1 },
                { "type": "pointerUp", "button": 0 },
            ] }] }),
        );
    }

    fn key(&self, key: &str) {
        self.command(
            "POST",
            "/actions",
            json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
                { "type": "keyDown", "value": key }, { "type": "keyUp", "value": key },
            ] }] }),
        );
    }

    /// Waits (up to 15 s) until `css` matches `n` elements.
    fn wait_count(&self, css: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.count(css) != n {
            assert!(
                Instant::now() < deadline,
                "{css} never counted {n} (now {}); the page is:\n{}",
                self.count(css),
                self.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The reader-study demo with a real CT image (pydicom's `CT_small.dcm`, 128×128) delivered by
/// the biobank as case X-001, its findings decided as a data manager would, then finished.
fn reader_study_with_a_real_image(root: &Path) -> PathBuf {
    support::reader_study_with_one_file(
        root,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dicom/pydicom/CT_small.dcm"),
        "ct_small.dcm",
        "X-001",
        (
            "試験用の公開画像（識別子は試験ファイル固有の架空のもの）",
            "a public test image: its identifiers are the test file's own, fictitious",
        ),
    )
}

#[test]
fn a_reader_marks_a_real_ct_image_in_chromium_and_meets_the_washout() {
    if !browser_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let dir = reader_study_with_a_real_image(work.path());
    let clock = kizon_app::clock::Clock::set_at(time::OffsetDateTime::now_utc());
    let address = support::serve_with_clock(&dir, clock.clone());
    let base = format!("http://{address}");
    let downloads = work.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kizon-web-reading");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let mut browser = Driver::start(&downloads, shots.clone());

    browser.sign_in(&base, "r1");
    assert!(
        browser.text("#session").contains("unaided"),
        "{}",
        browser.text("#session")
    );
    assert_eq!(browser.count("#worklist tbody tr"), 25);
    browser.screenshot("worklist");
    browser.go(&format!("{base}/reading/X-001?lang=en"));
    browser.wait_for("svg.overlay");
    let loaded = browser.script(
        "const i = document.querySelector('img.frame'); return i && i.complete && i.naturalWidth;",
    );
    assert_eq!(loaded, json!(128), "the real CT frame renders");

    // A box: drawn with the box tool, typed "part-solid", rated 70.
    browser.click("#tools [data-tool=box]");
    browser.set_value("#mark-rating", "70");
    let select = browser.find("#lesion-type");
    browser.command(
        "POST",
        &format!("/element/{select}/value"),
        json!({ "text": "part" }),
    );
    browser.drag("svg.overlay", (-120, -100), (-40, -20));
    browser.wait_count("#marks li", 1);
    // A polygon: three clicks, closed with Enter.
    browser.click("#tools [data-tool=polygon]");
    browser.set_value("#mark-rating", "40");
    browser.script("document.activeElement.blur();");
    browser.pointer(
        "svg.overlay",
        &[(40, 40, true), (120, 50, true), (80, 130, true)],
    );
    browser.key("\u{E007}");
    browser.wait_count("#marks li", 2);
    browser.wait_count("svg.overlay .mark", 2);
    browser.screenshot("marked-box-and-polygon");
    // The script ran under the page's CSP (script-src 'self'): the browser logged no violation.
    let log = browser.command("POST", "/se/log", json!({ "type": "browser" }));
    assert!(
        !log.to_string().contains("Content Security Policy"),
        "{log}"
    );
    // A stray point, withdrawn with its × before the submit.
    browser.click("#tools [data-tool=point]");
    browser.pointer("svg.overlay", &[(150, 150, true)]);
    browser.wait_count("#marks li", 3);
    browser.click("#marks li:last-child .delete-mark");
    browser.wait_count("#marks li", 2);

    browser.click("input[name=label][value=positive]");
    browser.set_value("input[name=score]", "65");
    browser.screenshot("before-submit");
    browser.click("#submit-read");
    browser.wait_for("#recorded");
    browser.screenshot("submitted");

    let study = Study::open(&dir).unwrap();
    let marks: Vec<_> = study
        .marks()
        .unwrap()
        .into_iter()
        .filter(|m| m.reader.as_deref() == Some("R1"))
        .collect();
    assert_eq!(marks.len(), 2, "{marks:?}");
    assert!(
        marks[0].shape.starts_with(r#"{"shape":"box""#),
        "{}",
        marks[0].shape
    );
    assert!(
        marks[1].shape.starts_with(r#"{"shape":"polygon""#),
        "{}",
        marks[1].shape
    );
    assert_eq!(marks[0].lesion_type.as_deref(), Some("part-solid"));
    assert_eq!((marks[0].rating, marks[1].rating), (Some(70.0), Some(40.0)));
    assert_eq!(
        marks[0].image,
        "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
    );
    // The box lies where it was drawn: the image is shown 4× (512 px for 128) with its centre
    // at pixel (64, 64), the drag from 120, 100 px to 40, 20 px left of and above the centre,
    // so from about (34, 39) to (54, 59).
    let shape: Value = serde_json::from_str(&marks[0].shape).unwrap();
    for (key, expected) in [("x0", 34.0), ("y0", 39.0), ("x1", 54.0), ("y1", 59.0)] {
        let got = shape[key].as_f64().unwrap();
        assert!(
            (got - expected).abs() <= 3.0,
            "{key} = {got}, expected about {expected}"
        );
    }

    // The rest of the unaided session through the API, then the washout.
    let client = support::sign_in(address, "r1", PASSWORD).unwrap();
    for case in client.get("/api/worklist").json().as_array().unwrap() {
        if case["read"].is_null() {
            let id = case["case_id"].as_str().unwrap();
            let read = client.api(
                "POST",
                &format!("/api/reading/{id}/submit"),
                &json!({ "label": "negative", "score": 10 }),
            );
            assert_eq!(read.status, 200, "{}", read.text());
        }
    }
    browser.go(&format!("{base}/reading"));
    browser.wait_for("#washout");
    browser.screenshot("washout");
    browser.go(&format!("{base}/reading/X-001"));
    assert!(
        browser.source().contains("washout"),
        "the case page refuses the session"
    );
    clock.advance(time::Duration::days(28));
    browser.go(&format!("{base}/reading"));
    assert!(browser.text("#session").contains("aided"));
    assert_eq!(browser.count("#washout"), 0);
    browser.screenshot("aided-open");

    // The FROC analysis of the reader study counts R1's marks: two on a case without lesions.
    let mut study = Study::open(&dir).unwrap();
    study.set_owner_key(support::owner_key(&dir));
    let analysis = study.analyze("tester", None).unwrap().analysis;
    let unaided = analysis
        .reader_lesions
        .iter()
        .find(|r| r.reader == "R1" && r.modality == "unaided")
        .expect("R1's unaided marks are analysed");
    assert_eq!(unaided.cases, 25);
    let figures = &unaided.analysis.as_ref().expect("figures").figures;
    assert_eq!((figures.marks, figures.nl_marks), (2, 2));
    assert!(std::fs::read_dir(&shots).unwrap().count() >= 6);
}

/// Whether the browser test can run: Debian's chromium and chromium-driver installed, or the
/// run says it may do without them (`KIZON_SKIP_BROWSER`); otherwise the test fails, so that
/// a machine without a browser never passes it silently.
fn browser_present() -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var_os("KIZON_SKIP_BROWSER").is_some() {
        eprintln!("skipped: no {CHROMIUM} / {CHROMEDRIVER} and KIZON_SKIP_BROWSER is set");
        return false;
    }
    panic!(
        "the browser test needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver), or KIZON_SKIP_BROWSER=1"
    );
}

impl Driver {
    /// Waits (up to 15 s) until `script` returns `expected`.
    fn wait_until(&self, script: &str, expected: Value) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.script(script);
            if got == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{script}` gave {got}, never {expected}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn a_reader_steps_a_real_video_to_a_frame_and_marks_it_in_chromium() {
    if !browser_present() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let dir = support::reader_study_with_a_real_video(work.path());
    let address = support::serve(&dir, 1 << 20);
    let base = format!("http://{address}");
    let downloads = work.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kizon-web-video");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let mut browser = Driver::start(&downloads, shots.clone());
    browser.sign_in(&base, "r1");
    browser.go(&format!("{base}/reading/V-001?lang=en"));
    browser.wait_for(".video-viewer.scripted");
    // The browser decodes the real H.264 video (its first frame is there to be shown).
    browser.wait_until(
        "return document.querySelector('video.frame').readyState >= 2;",
        json!(true),
    );
    // To frame 37 through the frame field, then two frames on with the arrow key: 39.
    browser.set_value(".video-viewer input[name=frame]", "37");
    browser.click(".video-viewer form button[type=submit]");
    browser.wait_until(
        "return document.querySelector('.video-viewer input[name=frame]').value;",
        json!("37"),
    );
    browser.pointer(".video-viewer svg.overlay", &[(0, 0, false)]);
    browser.key("\u{E014}");
    browser.key("\u{E014}");
    browser.wait_until(
        "const v = document.querySelector('video.frame'); return !v.seeking && v.paused && document.querySelector('.video-viewer input[name=frame]').value;",
        json!("39"),
    );
    let time = browser.script("return document.querySelector('video.frame').currentTime;");
    let seconds = time.as_f64().unwrap();
    assert!(
        (seconds * 25.0 - 39.5).abs() < 0.6,
        "shown at {seconds} s, frame 39's middle is 1.58 s"
    );

    browser.click("#tools [data-tool=box]");
    browser.set_value("#mark-rating", "55");
    browser.script("document.activeElement.blur();");
    browser.drag(".video-viewer svg.overlay", (-60, -30), (20, 30));
    browser.wait_count("#marks li", 1);
    browser.wait_count(".video-viewer svg.overlay .mark", 1);
    browser.screenshot("video-marked");
    // The mark is on the frame shown, and shown on that frame only.
    browser.key("\u{E014}");
    browser.wait_count(".video-viewer svg.overlay .mark", 0);
    browser.key("\u{E012}");
    browser.wait_count(".video-viewer svg.overlay .mark", 1);

    let client = support::sign_in(address, "r1", PASSWORD).unwrap();
    let marks = client.get("/api/reading/V-001").json()["marks"].clone();
    assert_eq!(marks.as_array().map(Vec::len), Some(1), "{marks}");
    assert_eq!(marks[0]["frame"], 39, "{marks}");
    assert_eq!(marks[0]["shape"], "box");
    // The box lies where it was dragged: the 640×272 video shown 512 px wide (0.8 px per
    // pixel), the drag from 60, 30 px left of and above its centre (320, 136) to 20, 30 px
    // right of and below: about (245, 98.5) to (345, 173.5).
    let points = &marks[0]["points"];
    for (k, expected) in [(0, 245.0), (1, 98.5)] {
        let got = points[0][k].as_f64().unwrap();
        assert!((got - expected).abs() <= 4.0, "{points}");
    }
    for (k, expected) in [(0, 345.0), (1, 173.5)] {
        let got = points[1][k].as_f64().unwrap();
        assert!((got - expected).abs() <= 4.0, "{points}");
    }
}
