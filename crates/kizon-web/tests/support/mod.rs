//! Test support: a real study (the demo's generated data), a real server on loopback, and a
//! small HTTP/1.1 client over `std::net::TcpStream` (also used to speak WebDriver).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use kizon_app::NewReader;
use kizon_app::Study;
use kizon_app::access::{Assign, Role};
use kizon_app::demo::{self, DemoStop};

pub const PASSWORD: &str = "correct horse battery";

/// A response as the client saw it.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The value a `Set-Cookie` header gives `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers_named("set-cookie")
            .into_iter()
            .filter_map(|c| c.split(';').next())
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }
}

/// One HTTP/1.1 request with `Connection: close`.
pub fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    request_from(None, address, method, path, headers, body)
}

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
    let mut stream = connect_from(source, address);
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // A server may refuse before reading a large body; a reset then is its answer, not an error.
    let _ = stream.write_all(body);
    parse_response(&read_response(&mut stream))
}

/// Reads one response: the head, then the body by its length or chunks (a peer such as
/// ChromeDriver may keep the connection open despite `Connection: close`), else to the end.
fn read_response(stream: &mut TcpStream) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut buffer = [0u8; 65536];
    let complete = |raw: &[u8]| -> bool {
        let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
            return false;
        };
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let body = &raw[split + 4..];
        if let Some(length) = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            return body.len() >= length;
        }
        if head.contains("transfer-encoding: chunked") {
            return body.ends_with(b"0\r\n\r\n");
        }
        false
    };
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                raw.extend_from_slice(&buffer[..n]);
                if complete(&raw) {
                    break;
                }
            }
        }
    }
    raw
}

fn parse_response(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {} bytes", raw.len()));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..end])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
    out
}

/// A signed-in client: its session cookie and CSRF token.
#[derive(Debug, Clone)]
pub struct Client {
    pub address: SocketAddr,
    pub session: String,
    pub csrf: String,
}

impl Client {
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

/// The login form's token and the cookie it is bound to.
pub fn login_token(address: SocketAddr) -> (String, String) {
    let page = request(address, "GET", "/login", &[], b"");
    let cookie = page.cookie("kizon_login").expect("login cookie");
    let text = page.text();
    let token = text
        .split("name=\"login_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("login token")
        .to_owned();
    (cookie, token)
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

/// A study built from the demo's generated data, stopped at `stop`, with one user per role
/// (`admin`, `dm`, `r1` reading as R1, `r2` as R2, `stat`, `audit`, `guest` an auditor) and R1 assigned C-001,
/// C-002 and C-003, R2 assigned C-003.
pub fn study(root: &Path, stop: DemoStop) -> PathBuf {
    let dir = root.join("study");
    demo::demo_in(&dir, "tester", false, DemoStop::Checked, &root.join("keys")).expect("demo");
    let mut study = Study::open(&dir).unwrap();
    study.set_owner_key(owner_key(&dir));
    for code in ["R1", "R2"] {
        study
            .add_reader(
                "tester",
                &NewReader {
                    code: code.into(),
                    qualification: "放射線診断専門医".into(),
                    qualification_en: None,
                    specialty: "chest".into(),
                    years_experience: 12,
                    independent: true,
                    declaration: None,
                },
            )
            .unwrap();
    }
    for (name, role, reader) in [
        ("admin", Role::Admin, None),
        ("dm", Role::DataManager, None),
        ("r1", Role::Reader, Some("R1")),
        ("r2", Role::Reader, Some("R2")),
        ("stat", Role::Statistician, None),
        ("audit", Role::Auditor, None),
        ("guest", Role::Auditor, None),
    ] {
        study
            .add_user("tester", name, role, reader, PASSWORD)
            .unwrap();
    }
    study
        .assign(
            "tester",
            "R1",
            &Assign::Cases(vec!["C-001".into(), "C-002".into(), "C-003".into()]),
        )
        .unwrap();
    study
        .assign("tester", "R2", &Assign::Cases(vec!["C-003".into()]))
        .unwrap();
    if stop == DemoStop::Complete {
        demo::settle_and_lock_dataset(&mut study, "tester").unwrap();
        demo::reference_to_analysis(&mut study, "tester").unwrap();
    }
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
    let state = kizon_web::AppState::new(dir.to_owned(), true, upload_limit, Some(owner_key(dir)))
        .expect("state");
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
