//! A throwaway S3-compatible object store for tests and benchmarks: `moto_server` (PyPI's
//! `moto[server]`) on a free loopback port, its state in memory, killed when dropped. Never a
//! service. The program comes from `KIZON_MOTO_SERVER`, else the venv `tools/test` makes
//! (`target/test-tools/moto`), else the `PATH`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusty_s3::S3Action;

use crate::{ObjectsError, S3Location, S3Store};

/// The credentials a throwaway store is used with (moto accepts any).
pub const ACCESS_KEY: &str = "kizon-test-key";
pub const SECRET_KEY: &str = "kizon-test-secret";
const BUCKET: &str = "kizon-study";

/// A running throwaway store with one bucket.
pub struct ThrowawayS3 {
    child: Child,
    port: u16,
    prefixes: std::sync::atomic::AtomicU32,
}

impl ThrowawayS3 {
    /// Starts `moto_server` and creates the bucket; the error says what is missing or failed.
    /// A port taken by another process between choosing and binding it (tests start servers
    /// side by side) makes the server exit: it is started again on another port.
    pub fn start() -> Result<ThrowawayS3, String> {
        let program = program().ok_or(
            "moto_server was not found: run tools/test (it installs PyPI's moto[server] into target/test-tools/moto) or set KIZON_MOTO_SERVER",
        )?;
        let mut last_error = String::new();
        for _ in 0..5 {
            match ThrowawayS3::start_on_free_port(&program) {
                Ok(server) => return Ok(server),
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    fn start_on_free_port(program: &std::path::Path) -> Result<ThrowawayS3, String> {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
            listener.local_addr().map_err(|e| e.to_string())?.port()
        };
        let child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", program.display()))?;
        let mut server = ThrowawayS3 {
            child,
            port,
            prefixes: std::sync::atomic::AtomicU32::new(0),
        };
        // Ready when it answers as an S3 store (the bucket is made), not merely when the port
        // takes connections: another process could hold the port.
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("{} exited at start: {status}", program.display()));
            }
            let address = SocketAddr::from(([127, 0, 0, 1], port));
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                match server.store("").create_bucket() {
                    Ok(()) => return Ok(server),
                    Err(e) if started.elapsed() > Duration::from_secs(60) => {
                        return Err(format!("{} on port {port}: {e}", program.display()));
                    }
                    Err(_) => {}
                }
            } else if started.elapsed() > Duration::from_secs(60) {
                return Err(format!(
                    "{} did not listen on port {port} within 60 s",
                    program.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The endpoint, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A URL under a prefix no other caller of this server gets (one study each).
    pub fn new_study_url(&self) -> String {
        let n = self
            .prefixes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.url(&format!("study-{n}"))
    }

    /// The `s3://` URL of `prefix` in the bucket.
    pub fn url(&self, prefix: &str) -> String {
        format!(
            "s3://{BUCKET}/{prefix}?endpoint={}&region=us-east-1",
            self.endpoint()
        )
    }

    /// The environment a kizon process needs to use this store.
    pub fn env(&self) -> [(&'static str, &'static str); 2] {
        [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ]
    }

    /// A client for `prefix`, with the throwaway credentials.
    pub fn store(&self, prefix: &str) -> S3Store {
        let location = S3Location::parse(&self.url(prefix)).expect("a throwaway URL parses");
        S3Store::connect_with(location, rusty_s3::Credentials::new(ACCESS_KEY, SECRET_KEY))
            .expect("a throwaway store connects")
    }

    /// Replaces the object at `key` (from the bucket's root) behind kizon's back.
    pub fn overwrite(&self, key: &str, bytes: &[u8]) -> Result<(), ObjectsError> {
        let store = self.store("");
        let url = store
            .bucket
            .put_object(Some(&store.credentials), key)
            .sign(Duration::from_secs(60));
        let response = store
            .agent
            .put(url.as_str())
            .send(bytes)
            .map_err(|e| ObjectsError::Remote(e.to_string()))?;
        store.expect_success("PUT", "", response)
    }

    /// Deletes the object at `key` behind kizon's back.
    pub fn remove(&self, key: &str) -> Result<(), ObjectsError> {
        let store = self.store("");
        let url = store
            .bucket
            .delete_object(Some(&store.credentials), key)
            .sign(Duration::from_secs(60));
        let response = store
            .agent
            .delete(url.as_str())
            .call()
            .map_err(|e| ObjectsError::Remote(e.to_string()))?;
        store.expect_success("DELETE", "", response)
    }
}

impl Drop for ThrowawayS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn program() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("KIZON_MOTO_SERVER") {
        return Some(PathBuf::from(path));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/test-tools/moto/bin/moto_server");
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("moto_server"))
            .find(|candidate| candidate.is_file())
    })
}
