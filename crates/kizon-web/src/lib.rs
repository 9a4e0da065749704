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

pub mod auth;
pub mod error;
pub mod i18n;
pub mod pages;
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
    )?;
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
    /// Connections served at once; further clients wait in the listen queue until one closes.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(300),
            max_connections: 256,
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
    let mut stop = std::pin::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.map_err(std::io::Error::other)?,
            () = &mut stop => return Ok(()),
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
            () = &mut stop => return Ok(()),
        };
        let app = app.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let mut request = request.map(axum::body::Body::new);
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
