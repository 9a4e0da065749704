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
}

/// Serves the study in `dir` until interrupted (Ctrl-C / SIGTERM). Blocks.
pub fn serve(
    dir: &Path,
    options: &ServeOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), kizon_app::AppError> {
    let state = AppState::new(dir.to_owned(), options.secure_cookies, options.upload_limit)?;
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
        axum::serve(
            listener,
            routes::router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| io_error(dir, e))
    })
}

/// Serves on an already bound listener (tests and benchmarks): returns when `stop` resolves.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        routes::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await
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
