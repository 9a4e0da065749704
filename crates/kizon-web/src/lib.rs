//! The study team's workspace in the browser (`kizon serve`): server-rendered pages in Japanese
//! with an English switch, over the one application layer, kizon-app.
//!
//! This crate is a shell. It parses requests, finds the session, calls a kizon-app use case
//! and renders what comes back; who may see what (roles, the readers' blinding, results only
//! after the locks) is decided in kizon-app's `access` and `workspace` modules, so that the CLI
//! and the server cannot disagree.
//!
//! - [`routes`]: the URL map, the request log (route patterns only: nothing identifying) and
//!   the security headers (CSP, nosniff, no-store, frame-ancestors none).
//! - [`auth`]: session and CSRF handling at the edge (cookies, tokens, login CSRF).
//! - [`state`]: the pool of open studies and the login rate limiter.
//! - [`pages`]: the HTML, with maud (every interpolation escaped).

#![forbid(unsafe_code)]

pub mod auth;
pub mod error;
pub mod pages;
mod range;
pub mod routes;
pub mod state;

use std::net::SocketAddr;
use std::path::Path;

pub use state::AppState;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub bind: SocketAddr,
    /// Largest upload accepted, in bytes.
    pub upload_limit: usize,
    /// Mark cookies `Secure` (browsers accept them over http on loopback only).
    pub secure_cookies: bool,
    /// The owner's key, unlocked, for analyses run from the browser (signed like the CLI's).
    pub owner_key: Option<kizon_app::owner_key::OwnerKey>,
    /// The viewer's decode cache, in bytes (see [`kizon_app::frame_cache`]).
    pub frame_cache_bytes: u64,
    /// The session key shared by every server on the study; `None`: one of this server's own,
    /// and its sessions end when it stops.
    pub session_key: Option<[u8; 32]>,
}

/// Serves the study in `dir` until interrupted (Ctrl-C / SIGTERM). Blocks.
pub fn serve(
    dir: &Path,
    options: &ServeOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), kizon_app::AppError> {
    let state = AppState::new(
        dir.to_owned(),
        options.secure_cookies,
        options.upload_limit,
        options.owner_key.clone(),
    )?
    .with_frame_cache(options.frame_cache_bytes);
    let state = match options.session_key {
        Some(key) => state.with_session_key(key),
        None => state,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| io_error(dir, e))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.bind)
            .await
            .map_err(|e| kizon_app::AppError::Refused {
                what: format!("cannot listen on {}: {e}", options.bind),
                hint: "choose another address with --bind (e.g. 127.0.0.1:8081)".into(),
            })?;
        let address = listener.local_addr().map_err(|e| io_error(dir, e))?;
        ready(address);
        serve_limited(listener, state, Limits::default(), shutdown())
            .await
            .map_err(|e| io_error(dir, e))
    })
}

/// What one connection may cost the server: the defences against slow and idle clients.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request's head (request line and headers) must arrive within this time, from its first
    /// byte (hyper's `header_read_timeout`, also applied to an idle kept-alive connection): a
    /// client sending a header every few seconds, or half a request line and nothing, is dropped.
    pub header_timeout: std::time::Duration,
    /// A request's body and its handling must finish within this time (408 otherwise).
    pub request_timeout: std::time::Duration,
    /// A request's body must arrive within this time plus one second per
    /// [`Limits::min_body_rate`] bytes it declares: a client trickling a body byte by byte holds
    /// its connection for seconds, not minutes.
    pub body_grace: std::time::Duration,
    /// Bytes per second a body must at least arrive at.
    pub min_body_rate: u64,
    /// The largest body the deadline allows for (a larger one is refused by the handler).
    pub max_body_bytes: u64,
    /// Connections served at once; further clients wait in the listen queue until one closes.
    pub max_connections: usize,
    /// Connections from one address at once; more are closed at once, so that one client
    /// cannot take every connection.
    pub max_connections_per_address: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(3600),
            body_grace: std::time::Duration::from_secs(20),
            min_body_rate: 64 * 1024,
            max_body_bytes: 64 << 20,
            max_connections: 256,
            // Half: behind a reverse proxy every user comes from the proxy's address.
            max_connections_per_address: 128,
        }
    }
}

/// Serves on an already bound listener (tests and benchmarks): returns when `stop` resolves.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_limited(listener, state, Limits::default(), stop).await
}

/// Serves on `listener` within `limits` until `stop` resolves; connections open then finish
/// their current request.
pub async fn serve_limited(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: Limits,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower_service::Service;

    let app = routes::router(state);
    let connections = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let per_address = PerAddress::default();
    let mut stop = std::pin::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.map_err(std::io::Error::other)?,
            () = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Some(address_slot) = per_address.take(peer.ip(), limits.max_connections_per_address)
        else {
            drop(stream);
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _address_slot = address_slot;
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let declared = request
                        .headers()
                        .get(axum::http::header::CONTENT_LENGTH)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0);
                    // The client's own Content-Length sets the deadline, so it is capped: a body
                    // is never given more time than the largest upload at the minimum rate.
                    let declared = declared.min(limits.max_body_bytes);
                    let allowed = limits.body_grace
                        + std::time::Duration::from_secs(declared / limits.min_body_rate.max(1));
                    let mut request =
                        request.map(|body| axum::body::Body::new(TimedBody::new(body, allowed)));
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    let mut app = app.clone();
                    async move {
                        match tokio::time::timeout(limits.request_timeout, app.call(request)).await
                        {
                            Ok(response) => response,
                            Err(_) => Ok(axum::response::IntoResponse::into_response((
                                axum::http::StatusCode::REQUEST_TIMEOUT,
                                "要求の受信が時間内に終わりませんでした / the request took too long",
                            ))),
                        }
                    }
                },
            );
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    // Stop accepting, and let the connections open finish what they are doing: a command that
    // committed gets its answer. Idle kept-alive connections close at their header deadline.
    let _ = tokio::time::timeout(
        limits.header_timeout + std::time::Duration::from_secs(5),
        connections.acquire_many(limits.max_connections as u32),
    )
    .await;
    Ok(())
}

fn io_error(dir: &Path, source: std::io::Error) -> kizon_app::AppError {
    kizon_app::AppError::Io {
        path: dir.to_owned(),
        source,
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// Connections open per client address.
#[derive(Clone, Default)]
struct PerAddress(
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
);

/// One connection's place in [`PerAddress`], given back when it closes.
struct AddressSlot {
    counts: PerAddress,
    address: std::net::IpAddr,
}

impl PerAddress {
    fn take(&self, address: std::net::IpAddr, limit: usize) -> Option<AddressSlot> {
        let mut counts = self.0.lock().ok()?;
        let count = counts.entry(address).or_insert(0);
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            counts: self.clone(),
            address,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.counts.0.lock()
            && let Some(count) = counts.get_mut(&self.address)
        {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

/// A request body that fails once its deadline passes: the body-read timeout that hyper does
/// not have. The handler then answers 400 and the connection closes.
struct TimedBody {
    inner: hyper::body::Incoming,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl TimedBody {
    fn new(inner: hyper::body::Incoming, allowed: std::time::Duration) -> TimedBody {
        TimedBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(allowed)),
        }
    }
}

impl http_body::Body for TimedBody {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::future::Future;
        if self.inner.is_end_stream() {
            return std::task::Poll::Ready(None);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(Some(Err(
                "the request body did not arrive in time".into()
            )));
        }
        std::pin::Pin::new(&mut self.inner)
            .poll_frame(cx)
            .map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
