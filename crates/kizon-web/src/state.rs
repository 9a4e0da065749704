//! The server's shared state: where the study is, a pool of open studies (one SQLite
//! connection each), and the login rate limiter.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kizon_app::access::{Account, Permission};
use kizon_app::{AppError, Study};

use crate::error::WebError;

/// Failed logins allowed per user name within [`LOGIN_WINDOW`].
pub const LOGIN_ATTEMPTS: u32 = 5;
/// Failed logins allowed per client address (a hospital's users often share one NAT address).
pub const LOGIN_ATTEMPTS_PER_ADDRESS: u32 = 30;
/// The window of the login rate limit.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

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
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    /// Whether cookies carry `Secure` (true unless the operator serves plain HTTP beyond
    /// loopback behind nothing, which `serve` refuses to do silently).
    pub secure_cookies: bool,
    pub upload_limit: usize,
}

impl AppState {
    pub fn new(
        dir: PathBuf,
        secure_cookies: bool,
        upload_limit: usize,
    ) -> Result<AppState, AppError> {
        // Open once now, so that a wrong directory fails at start, not at the first request.
        let study = Study::open(&dir)?;
        study.prepare_search()?;
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
        Ok(AppState {
            inner: Arc::new(Inner {
                dir,
                pool: Mutex::new(vec![study]),
                permits: tokio::sync::Semaphore::new(workers),
                workers,
                failures: Mutex::new(HashMap::new()),
                secure_cookies,
                upload_limit,
            }),
        })
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
            let mut study = match pooled {
                Some(study) => study,
                None => Study::open(&inner.dir)?,
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

    /// Runs a use case for `account` once the application allows it `permission`
    /// (`Study::require`): the one guard every page and API view goes through.
    pub async fn guarded<T: Send + 'static>(
        &self,
        account: &Account,
        permission: Permission,
        work: impl FnOnce(&mut Study, &Account) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, WebError> {
        let account = account.clone();
        self.with_study(move |study| {
            study.require(&account, permission)?;
            work(study, &account)
        })
        .await
    }

    /// Whether logins for `keys` (user name, client address) are blocked now; returns the
    /// seconds to wait.
    pub fn login_blocked(&self, keys: &[String]) -> Option<u64> {
        let failures = self.inner.failures.lock().ok()?;
        keys.iter()
            .filter_map(|key| failures.get(key).map(|value| (key, value)))
            .filter(|(key, (count, since))| {
                let limit = if key.starts_with("addr:") {
                    LOGIN_ATTEMPTS_PER_ADDRESS
                } else {
                    LOGIN_ATTEMPTS
                };
                *count >= limit && since.elapsed() < LOGIN_WINDOW
            })
            .map(|(_, (_, since))| (LOGIN_WINDOW - since.elapsed()).as_secs() + 1)
            .max()
    }

    /// Counts a failed login against each key.
    pub fn login_failed(&self, keys: &[String]) {
        if let Ok(mut failures) = self.inner.failures.lock() {
            if failures.len() > 100_000 {
                failures.retain(|_, (_, since)| since.elapsed() < LOGIN_WINDOW);
            }
            for key in keys {
                let entry = failures.entry(key.clone()).or_insert((0, Instant::now()));
                if entry.1.elapsed() >= LOGIN_WINDOW {
                    *entry = (0, Instant::now());
                }
                entry.0 += 1;
            }
        }
    }

    /// A successful login clears the user name's count (not the address's).
    pub fn login_succeeded(&self, user_key: &str) {
        if let Ok(mut failures) = self.inner.failures.lock() {
            failures.remove(user_key);
        }
    }
}
