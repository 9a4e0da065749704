//! Test support: a real study (the demo's generated data), a real server on loopback, and a
//! small HTTP/1.1 client over `std::net::TcpStream` (also used to speak WebDriver).

#![allow(dead_code)]

pub mod http;

pub use http::{Response, login_token, request};

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};

use kizon_app::Study;
use kizon_app::access::Role;
use kizon_app::demo::{self, DemoStop};
use kizon_app::testing::StudyBuilder;

pub use kizon_app::testing::PASSWORD;

/// A connection to `address`, from the loopback address `source` when given (127.0.0.2 is
/// another client to the server, on the same machine).
pub fn connect_from(source: Option<std::net::IpAddr>, address: SocketAddr) -> TcpStream {
    let Some(source) = source else {
        return TcpStream::connect(address).expect("connect");
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(source, 0)).unwrap();
        socket.connect(address).await.expect("connect")
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
}

/// [`request`] from the loopback address `source`.
pub fn request_from(
    source: Option<std::net::IpAddr>,
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    http::request_on(
        connect_from(source, address),
        address,
        method,
        path,
        headers,
        body,
    )
}

/// A signed-in client: its session cookie and CSRF token.
#[derive(Debug, Clone)]
pub struct Client {
    pub address: SocketAddr,
    pub session: String,
    pub csrf: String,
}

impl Client {
    /// A JSON request of the API, with the session and the CSRF header.
    pub fn api(&self, method: &str, path: &str, body: &serde_json::Value) -> Response {
        request(
            self.address,
            method,
            path,
            &[
                ("Cookie", &self.cookie()),
                ("Content-Type", "application/json"),
                ("X-CSRF-Token", &self.csrf),
            ],
            body.to_string().as_bytes(),
        )
    }

    pub fn cookie(&self) -> String {
        format!("kizon_session={}", self.session)
    }

    pub fn get(&self, path: &str) -> Response {
        request(
            self.address,
            "GET",
            path,
            &[("Cookie", &self.cookie())],
            b"",
        )
    }

    pub fn post_form(&self, path: &str, form: &str) -> Response {
        request(
            self.address,
            "POST",
            path,
            &[
                ("Cookie", &self.cookie()),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            form.as_bytes(),
        )
    }
}

/// Signs in through the login form, as a browser would.
pub fn sign_in(address: SocketAddr, name: &str, password: &str) -> Result<Client, Response> {
    sign_in_from(None, address, name, password)
}

/// [`sign_in`] from the loopback address `source`.
pub fn sign_in_from(
    source: Option<std::net::IpAddr>,
    address: SocketAddr,
    name: &str,
    password: &str,
) -> Result<Client, Response> {
    let (cookie, token) = login_token(address);
    let response = request_from(
        source,
        address,
        "POST",
        "/login",
        &[
            ("Cookie", &format!("kizon_login={cookie}")),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        format!(
            "name={name}&password={}&login_token={token}",
            password.replace(' ', "+")
        )
        .as_bytes(),
    );
    let Some(session) = response.cookie("kizon_session").filter(|s| !s.is_empty()) else {
        return Err(response);
    };
    let home = request(
        address,
        "GET",
        "/",
        &[("Cookie", &format!("kizon_session={session}"))],
        b"",
    );
    let reading = request(
        address,
        "GET",
        "/reading",
        &[("Cookie", &format!("kizon_session={session}"))],
        b"",
    );
    let csrf = [home, reading]
        .iter()
        .find_map(|r| {
            r.text()
                .split("name=\"csrf\" value=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .map(str::to_owned)
        })
        .expect("a page with the CSRF token");
    Ok(Client {
        address,
        session,
        csrf,
    })
}

/// The demo's study at `stop`, with readers R1 and R2 (R1 assigned C-001 to C-003, R2 C-003)
/// and one account per role (`guest` a second auditor), each with [`PASSWORD`].
pub fn study(root: &Path, stop: DemoStop) -> PathBuf {
    let builder = match stop {
        DemoStop::Checked => StudyBuilder::checked(),
        DemoStop::Complete => StudyBuilder::analysed(),
    };
    let (dir, _) = builder
        .reader("R1")
        .reader("R2")
        .user("admin", Role::Admin, None)
        .user("dm", Role::DataManager, None)
        .user("r1", Role::Reader, Some("R1"))
        .user("r2", Role::Reader, Some("R2"))
        .user("stat", Role::Statistician, None)
        .user("audit", Role::Auditor, None)
        .user("guest", Role::Auditor, None)
        .assign("R1", &["C-001", "C-002", "C-003"])
        .assign("R2", &["C-003"])
        .build_in(root)
        .expect("the fixture builds");
    dir
}

/// The owner's key of a study made by [`study`]: in `keys/` beside it, with the demo passphrase.
pub fn owner_key(dir: &Path) -> kizon_app::owner_key::OwnerKey {
    let public = Study::open(dir)
        .unwrap()
        .owner_public_key()
        .unwrap()
        .unwrap();
    let path = dir
        .parent()
        .unwrap()
        .join("keys")
        .join(format!("{}.key", &public[..16]));
    kizon_app::owner_key::OwnerKey::unlock(&path, demo::DEMO_PASSPHRASE).unwrap()
}

/// Serves `dir` on an ephemeral loopback port from a background thread, for the test's life.
pub fn serve(dir: &Path, upload_limit: usize) -> SocketAddr {
    serve_within(dir, upload_limit, kizon_web::Limits::default())
}

/// [`serve`] within the given connection limits.
pub fn serve_within(dir: &Path, upload_limit: usize, limits: kizon_web::Limits) -> SocketAddr {
    serve_state(dir, upload_limit, limits, kizon_app::clock::Clock::System)
}

/// [`serve`] with the use cases reading "now" from `clock` (a test moves it).
pub fn serve_with_clock(dir: &Path, clock: kizon_app::clock::Clock) -> SocketAddr {
    serve_state(dir, 1 << 20, kizon_web::Limits::default(), clock)
}

fn serve_state(
    dir: &Path,
    upload_limit: usize,
    limits: kizon_web::Limits,
    clock: kizon_app::clock::Clock,
) -> SocketAddr {
    let state = kizon_web::AppState::new(dir.to_owned(), true, upload_limit, Some(owner_key(dir)))
        .expect("state")
        .with_clock(clock);
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            sender.send(listener.local_addr().unwrap()).unwrap();
            kizon_web::serve_limited(listener, state, limits, std::future::pending())
                .await
                .unwrap();
        });
    });
    receiver.recv().expect("server address")
}

/// Item ids of a case, as the admin sees them.
pub fn item_ids(admin: &Client, case: &str) -> Vec<i64> {
    admin.get(&format!("/api/items?case={case}")).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

struct Silent;

impl kizon_app::ingest::Progress for Silent {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// The reader-study demo in `root/study` with a delivery of the biobank's added before its
/// dataset lock (`manifest` names the files and their cases), every finding on it accepted
/// with `why` (Japanese, English) as a data manager would, then finished; reader account `r1`
/// (R1) added with [`PASSWORD`].
pub fn reader_study_with_delivery(root: &Path, manifest: &Path, why: (&str, &str)) -> PathBuf {
    let dir = root.join("study");
    let mut start = demo::reader_study_start(&dir, "tester", false, &root.join("keys"))
        .expect("the demo starts");
    start
        .study
        .ingest(
            "tester",
            &kizon_app::ingest::IngestRequest {
                provider: "Kizon Demo Biobank".into(),
                manifest: Some(manifest.to_owned()),
                paths: Vec::new(),
                for_amendment: false,
            },
            &Silent,
        )
        .unwrap();
    start.study.check("tester").unwrap();
    for finding in start.study.findings().unwrap() {
        if finding.status.is_unresolved() {
            start
                .study
                .resolve(
                    "tester",
                    finding.id,
                    kizon_app::check::Decision::Accept,
                    kizon_app::text::Reason::new(why.0, Some(why.1)),
                    &[],
                )
                .unwrap();
        }
    }
    demo::reader_study_finish(start, &dir, "tester").expect("the demo finishes");
    let mut study = Study::open(&dir).unwrap();
    study.set_owner_key(owner_key(&dir));
    study
        .add_user("tester", "r1", Role::Reader, Some("R1"), PASSWORD)
        .unwrap();
    dir
}

/// [`reader_study_with_delivery`] of one file: `source` (a test file, kept unaltered) copied as
/// `name` into a delivery of its own, the case `case` its only row, its findings decided with
/// `why`.
pub fn reader_study_with_one_file(
    root: &Path,
    source: &Path,
    name: &str,
    case: &str,
    why: (&str, &str),
) -> PathBuf {
    let delivery = root.join("delivery");
    std::fs::create_dir_all(&delivery).unwrap();
    std::fs::copy(source, delivery.join(name)).unwrap();
    let manifest = delivery.join("manifest.csv");
    std::fs::write(
        &manifest,
        format!("case_id,path,collection_date\n{case},{name},2024-07-01\n"),
    )
    .unwrap();
    reader_study_with_delivery(root, &manifest, why)
}

/// The real video the reading tests read (`testdata/video/bikes.mp4`: 640×272, 250 frames).
pub fn bikes_mp4() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/video/bikes.mp4")
}

/// The reader-study demo with `bikes.mp4` delivered as case V-001, reader account `r1`.
pub fn reader_study_with_a_real_video(root: &Path) -> PathBuf {
    reader_study_with_one_file(
        root,
        &bikes_mp4(),
        "bikes.mp4",
        "V-001",
        (
            "公開の試験用動画（人物の識別情報を含まない）",
            "a public test video without personal identifiers",
        ),
    )
}
