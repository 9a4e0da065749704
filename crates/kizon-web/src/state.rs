//! The server's shared state: where the study is, a pool of open studies (one SQLite
//! connection each), and the session key. Nothing that another server on the study must
//! see is kept here: sessions, CSRF tokens and the login limiter are in the study's database.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kizon_app::{AppError, Study};

use crate::error::WebError;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    pool: Mutex<Vec<Study>>,
    /// At most this many use cases run at once (twice the cores): requests beyond wait their
    /// turn in order instead of all sharing the CPU, which keeps quick pages quick when a slow
    /// search is running (measured: see bench/web).
    permits: tokio::sync::Semaphore,
    workers: usize,
    /// Whether cookies carry `Secure` (true unless the operator serves plain HTTP beyond
    /// loopback behind nothing, which `serve` refuses to do silently).
    pub secure_cookies: bool,
    pub upload_limit: usize,
    /// The owner's key, unlocked at start, for the use cases that sign (an analysis run);
    /// without it they are refused, never asked for a passphrase on the server's terminal.
    owner_key: Option<kizon_app::owner_key::OwnerKey>,
    /// Drawn at start, or read from the key file the servers of a study share; kept out of
    /// the database: session digests are keyed with it.
    session_key: [u8; 32],
    /// Where the use cases read "now" (a set clock in tests: a washout passes without sleeping).
    clock: kizon_app::clock::Clock,
    /// The viewer's decode cache, one for every pooled study.
    frame_cache: kizon_app::frame_cache::FrameCache,
}

impl AppState {
    pub fn new(
        dir: PathBuf,
        secure_cookies: bool,
        upload_limit: usize,
        owner_key: Option<kizon_app::owner_key::OwnerKey>,
    ) -> Result<AppState, AppError> {
        // Open once now, so that a wrong directory fails at start, not at the first request.
        let mut study = Study::open(&dir)?;
        let mut session_key = [0u8; 32];
        kizon_app::access::fill_random(&mut session_key)?;
        prepare_signing(&mut study, owner_key.as_ref(), session_key);
        study.prepare_search()?;
        let frame_cache =
            kizon_app::frame_cache::FrameCache::new(kizon_app::frame_cache::DEFAULT_BUDGET_BYTES);
        study.set_frame_cache(frame_cache.clone());
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
        Ok(AppState {
            inner: Arc::new(Inner {
                dir,
                pool: Mutex::new(vec![study]),
                permits: tokio::sync::Semaphore::new(workers),
                workers,
                secure_cookies,
                upload_limit,
                owner_key,
                session_key,
                clock: kizon_app::clock::Clock::System,
                frame_cache,
            }),
        })
    }

    /// The same state reading "now" from `clock`. Called before serving: a state already shared
    /// keeps its clock.
    pub fn with_clock(mut self, clock: kizon_app::clock::Clock) -> AppState {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.clock = clock.clone();
            if let Ok(pool) = inner.pool.get_mut() {
                for study in pool.iter_mut() {
                    study.set_clock(clock.clone());
                }
            }
        }
        self
    }

    /// The same state keying session digests with `key`, shared with the other servers on the
    /// study (see [`kizon_app::access::session_key_file`]) instead of a key of its own. Called
    /// before serving, like [`AppState::with_clock`].
    pub fn with_session_key(mut self, key: [u8; 32]) -> AppState {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.session_key = key;
            if let Ok(pool) = inner.pool.get_mut() {
                for study in pool.iter_mut() {
                    study.set_session_key(key);
                }
            }
        }
        self
    }

    /// The same state with a decode cache of `budget_bytes` (`serve --frame-cache-mb`). Called
    /// before serving, like [`AppState::with_clock`].
    pub fn with_frame_cache(mut self, budget_bytes: u64) -> AppState {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.frame_cache = kizon_app::frame_cache::FrameCache::new(budget_bytes);
            if let Ok(pool) = inner.pool.get_mut() {
                for study in pool.iter_mut() {
                    study.set_frame_cache(inner.frame_cache.clone());
                }
            }
        }
        self
    }

    /// What the decode cache holds and how often it served.
    pub fn frame_cache_stats(&self) -> kizon_app::frame_cache::CacheStats {
        self.inner.frame_cache.stats()
    }

    pub fn secure_cookies(&self) -> bool {
        self.inner.secure_cookies
    }

    pub fn upload_limit(&self) -> usize {
        self.inner.upload_limit
    }

    /// Runs a use case on a pooled study, off the async threads (SQLite and decoding block).
    pub async fn with_study<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Study) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, WebError> {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| WebError::Internal)?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.pool.lock().map(|mut pool| pool.pop()).unwrap_or(None);
            // A study moved by `migrate-store` since it was pooled is opened where it is now:
            // the server follows the move (a stat and a small read per request).
            let mut study = match pooled {
                Some(study) if study.is_where_it_was() => study,
                _ => {
                    let mut study = Study::open(&inner.dir)?;
                    prepare_signing(&mut study, inner.owner_key.as_ref(), inner.session_key);
                    study.set_clock(inner.clock.clone());
                    study.set_frame_cache(inner.frame_cache.clone());
                    study
                }
            };
            let outcome = work(&mut study);
            if let Ok(mut pool) = inner.pool.lock()
                && pool.len() < inner.workers
            {
                pool.push(study);
            }
            outcome.map_err(WebError::from)
        })
        .await
        .map_err(|_| WebError::Internal)?
    }
}

fn prepare_signing(
    study: &mut Study,
    key: Option<&kizon_app::owner_key::OwnerKey>,
    session_key: [u8; 32],
) {
    study.set_session_key(session_key);
    match key {
        Some(key) => study.set_owner_key(key.clone()),
        None => study.never_ask_passphrase(),
    }
}
