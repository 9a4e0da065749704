//! Users of the web workspace, their credentials and sessions, and readers' case assignments.
//!
//! `users` and `assignments` are covered by the ledger (who may act, and which cases a reader
//! is given, are part of the study's record). `credentials` and `sessions` are not: a password
//! hash is a secret that must not travel into an evidence package, and a session is transient
//! login state. Both are replaced in place; every change to them is still an action recorded in
//! the ledger by the application layer (login, logout, password change), without the secret.
//!
//! A password hash is vouched for all the same: the entry that sets it (`user add`, `user
//! password`) records the SHA-256 of the hash it stored ([`PASSWORD_DIGEST_FIELD`]), and a
//! hash that is not the one the ledger last recorded for its user opens nothing
//! ([`Store::password_hash`]) and fails `verify`. Otherwise anyone with the database file could
//! copy a known hash into an administrator's row and sign in as them, with no trace. Those
//! entries are signed by the owner (kizon-app), so an entry appended without the key vouches
//! for nothing either; a password set before digests were recorded opens nothing until set
//! again.

use std::collections::BTreeMap;

use crate::db::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Store, StoreError, Tx, sqlite};

/// A user as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    /// `admin`, `data-manager`, `reader`, `statistician` or `auditor` (checked by the app).
    pub role: String,
    /// For a reader: the panel reader code (`readers.code`) their reads are recorded under.
    pub reader_code: Option<String>,
    pub ledger_seq: i64,
}

/// A live session, found by the SHA-256 of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_name: String,
    /// The per-session token every form must echo (CSRF).
    pub csrf: String,
    /// Unix seconds after which the session is void.
    pub expires_at: i64,
}

impl Tx<'_> {
    /// Registers a user with their password hash; a name is registered once.
    pub fn insert_user(
        &mut self,
        name: &str,
        role: &str,
        reader_code: Option<&str>,
        password_hash: &str,
    ) -> Result<i64, StoreError> {
        let known: Option<i64> = self
            .sql()
            .query_row("SELECT id FROM users WHERE name = ?1", params![name], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        if known.is_some() {
            return Err(StoreError::Conflict(format!(
                "user `{name}` is already registered"
            )));
        }
        let seq = self.pending_seq();
        let id = self
            .sql()
            .insert_returning_id(
                "INSERT INTO users (name, role, reader_code, ledger_seq) VALUES (?1, ?2, ?3, ?4)",
                params![name, role, reader_code, seq],
            )
            .map_err(|e| self.err(e))?;
        self.set_password_hash(name, password_hash)?;
        Ok(id)
    }

    /// Records that a user is active again (`true`) or deactivated (`false`): the latest row
    /// decides; a user without one is active.
    pub fn insert_user_status(&mut self, name: &str, active: bool) -> Result<(), StoreError> {
        let seq = self.pending_seq();
        self.sql()
            .execute(
                "INSERT INTO user_status (user_name, active, ledger_seq) VALUES (?1, ?2, ?3)",
                params![name, i64::from(active), seq],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Sets (or replaces) a user's password hash. Outside the ledger's rows: see the module doc.
    pub fn set_password_hash(&mut self, name: &str, password_hash: &str) -> Result<(), StoreError> {
        self.sql()
            .execute(
                "INSERT INTO credentials (user_name, password_hash) VALUES (?1, ?2)
                 ON CONFLICT (user_name) DO UPDATE SET password_hash = excluded.password_hash",
                params![name, password_hash],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records a reader assigned to a reading session (`true`) or withdrawn from it.
    pub fn insert_session_assignment(
        &mut self,
        reader_code: &str,
        session: &str,
        assigned: bool,
    ) -> Result<(), StoreError> {
        let seq = self.pending_seq();
        self.sql()
            .execute(
                "INSERT INTO session_assignments (reader_code, session, assigned, ledger_seq)
                 VALUES (?1, ?2, ?3, ?4)",
                params![reader_code, session, i64::from(assigned), seq],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Assigns a case to a reader; returns false when it was assigned already.
    pub fn insert_assignment(
        &mut self,
        reader_code: &str,
        case_id: &str,
    ) -> Result<bool, StoreError> {
        let known: Option<i64> = self
            .sql()
            .prepare_cached("SELECT 1 FROM assignments WHERE reader_code = ?1 AND case_id = ?2")
            .and_then(|mut s| {
                s.query_row(params![reader_code, case_id], |r| r.get(0))
                    .optional()
            })
            .map_err(|e| self.err(e))?;
        if known.is_some() {
            return Ok(false);
        }
        let seq = self.pending_seq();
        self.sql()
            .prepare_cached(
                "INSERT INTO assignments (reader_code, case_id, ledger_seq) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![reader_code, case_id, seq]))
            .map_err(|e| self.err(e))?;
        Ok(true)
    }
}

impl Store {
    /// Every registered user, in order of registration.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        let mut statement = self
            .conn()
            .prepare("SELECT id, name, role, reader_code, ledger_seq FROM users ORDER BY id")
            .map_err(|e| self.err(e))?;
        statement
            .query_map(params![], user_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// Whether a user is active: the latest status recorded, active without one.
    pub fn user_active(&self, name: &str) -> Result<bool, StoreError> {
        let active: Option<i64> = self
            .conn()
            .prepare_cached(
                "SELECT active FROM user_status WHERE user_name = ?1 ORDER BY id DESC LIMIT 1",
            )
            .and_then(|mut s| s.query_row(params![name], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))?;
        Ok(active.is_none_or(|a| a != 0))
    }

    /// One user by name.
    pub fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.conn()
            .prepare_cached(
                "SELECT id, name, role, reader_code, ledger_seq FROM users WHERE name = ?1",
            )
            .and_then(|mut s| s.query_row(params![name], user_row).optional())
            .map_err(|e| self.err(e))
    }

    /// A user's password hash (PHC string) with the entry that vouches for it, when it is the
    /// one the ledger last recorded for them: a hash put there any other way is `None`, as if
    /// there were none, and so is one set before kizon recorded digests. The caller checks that
    /// entry's signature.
    pub fn password_hash(&self, name: &str) -> Result<Option<(String, i64)>, StoreError> {
        let (stored, recorded) = self.credentials_and_records()?;
        let Some(entry) = recorded.get(name) else {
            return Ok(None);
        };
        Ok(stored
            .into_iter()
            .find(|(user, hash)| user == name && vouched(Some(entry), hash) == Some(true))
            .map(|(_, hash)| (hash, entry.0)))
    }

    /// Every stored password hash (user name, PHC string), and per user the entry that last set
    /// their password with the digest it records (`None` in an entry written before kizon
    /// recorded digests). One statement, so one snapshot: a password changed meanwhile is seen
    /// either wholly before or wholly after.
    #[allow(clippy::type_complexity)]
    pub(crate) fn credentials_and_records(
        &self,
    ) -> Result<
        (
            Vec<(String, String)>,
            BTreeMap<String, (i64, Option<String>)>,
        ),
        StoreError,
    > {
        let rows: Vec<(i64, String, String)> = self.all(
            "SELECT 0, user_name, password_hash FROM credentials
             UNION ALL
             SELECT seq, '', detail FROM ledger WHERE command IN ('user add', 'user password')
             ORDER BY 1, 2",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let mut stored = Vec::new();
        let mut recorded = BTreeMap::new();
        for (seq, user, text) in rows {
            if seq == 0 {
                stored.push((user, text));
                continue;
            }
            let detail = text;
            let Ok(detail) = serde_json::from_str::<serde_json::Value>(&detail) else {
                continue;
            };
            if let Some(name) = detail.get("name").and_then(|n| n.as_str()) {
                let digest = detail
                    .get(PASSWORD_DIGEST_FIELD)
                    .and_then(|d| d.as_str())
                    .map(str::to_owned);
                recorded.insert(name.to_owned(), (seq, digest));
            }
        }
        Ok((stored, recorded))
    }

    /// The cases assigned to a reader, in case order.
    pub fn assignments(&self, reader_code: &str) -> Result<Vec<String>, StoreError> {
        let mut statement = self
            .conn()
            .prepare_cached(
                "SELECT case_id FROM assignments WHERE reader_code = ?1 ORDER BY case_id",
            )
            .map_err(|e| self.err(e))?;
        statement
            .query_map(params![reader_code], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// The reading sessions a reader is assigned to now (the latest row of each session
    /// decides), or `None` when none was ever recorded: every session the protocol declares.
    pub fn session_assignments(
        &self,
        reader_code: &str,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let mut statement = self
            .conn()
            .prepare_cached(
                "SELECT session, assigned FROM session_assignments WHERE reader_code = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows: Vec<(String, i64)> = statement
            .query_map(params![reader_code], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut now: Vec<String> = Vec::new();
        for (session, assigned) in rows {
            now.retain(|s| *s != session);
            if assigned != 0 {
                now.push(session);
            }
        }
        Ok(Some(now))
    }

    /// Whether a case is assigned to a reader.
    pub fn is_assigned(&self, reader_code: &str, case_id: &str) -> Result<bool, StoreError> {
        self.conn()
            .prepare_cached("SELECT 1 FROM assignments WHERE reader_code = ?1 AND case_id = ?2")
            .and_then(|mut s| {
                s.query_row(params![reader_code, case_id], |r| r.get::<i64>(0))
                    .optional()
            })
            .map(|found| found.is_some())
            .map_err(|e| self.err(e))
    }

    /// Stores a new session under the SHA-256 of its token (outside the ledger).
    pub fn insert_session(
        &mut self,
        token_sha256: &str,
        session: &Session,
    ) -> Result<(), StoreError> {
        // Expired sessions go when new ones come: the table stays as small as the live logins.
        let now = now_unix();
        self.conn()
            .execute("DELETE FROM sessions WHERE expires_at < ?1", params![now])
            .map_err(|e| self.err(e))?;
        self.conn()
            .execute(
                "INSERT INTO sessions (token_sha256, user_name, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![token_sha256, session.user_name, session.csrf, session.expires_at],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The live session for a token hash, if any and not expired.
    pub fn session(&self, token_sha256: &str) -> Result<Option<Session>, StoreError> {
        self.conn()
            .prepare_cached(
                "SELECT user_name, csrf, expires_at FROM sessions WHERE token_sha256 = ?1 AND expires_at >= ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![token_sha256, now_unix()], |r| {
                    Ok(Session {
                        user_name: r.get(0)?,
                        csrf: r.get(1)?,
                        expires_at: r.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// Ends a session (logout). Returns whether it existed.
    pub fn delete_session(&mut self, token_sha256: &str) -> Result<bool, StoreError> {
        self.conn()
            .execute(
                "DELETE FROM sessions WHERE token_sha256 = ?1",
                params![token_sha256],
            )
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// Ends every session of a user (after a password change).
    pub fn delete_sessions_of(&mut self, user_name: &str) -> Result<usize, StoreError> {
        self.conn()
            .execute(
                "DELETE FROM sessions WHERE user_name = ?1",
                params![user_name],
            )
            .map_err(|e| self.err(e))
    }
}

/// One limit of the login limiter: a key (an address and name, an address, a name) and the
/// attempts it allows in a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginLimit {
    pub key: String,
    pub attempts: u32,
}

impl Store {
    /// Counts a login attempt under every key of `limits` before its password is checked, in
    /// one immediate transaction, so that concurrent attempts (from any server on the study)
    /// cannot all pass the check first. `Err(seconds)`, with nothing counted, when a key has
    /// used its attempts within `window` seconds of `now`: the seconds until it may try again.
    /// Windows that ended are forgotten.
    pub fn count_login_attempt(
        &mut self,
        limits: &[LoginLimit],
        window: i64,
        now: i64,
    ) -> Result<Result<(), u64>, StoreError> {
        let db = self.db_path();
        let tx = self
            .conn
            .begin_locked(crate::db::LOGIN_LOCK)
            .map_err(|e| sqlite(&db, e))?;
        let counted = (|| {
            tx.execute(
                "DELETE FROM login_attempts WHERE since <= ?1",
                params![now - window],
            )?;
            let mut wait = None::<u64>;
            for limit in limits {
                let found: Option<(i64, i64)> = tx
                    .query_row(
                        "SELECT count, since FROM login_attempts WHERE key = ?1",
                        params![limit.key],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                if let Some((count, since)) = found
                    && count >= i64::from(limit.attempts)
                {
                    let left = (since + window - now).max(0) as u64 + 1;
                    wait = Some(wait.map_or(left, |w| w.max(left)));
                }
            }
            if let Some(wait) = wait {
                return Ok(Err(wait));
            }
            for limit in limits {
                tx.execute(
                    "INSERT INTO login_attempts (key, count, since) VALUES (?1, 1, ?2)
                     ON CONFLICT (key) DO UPDATE SET count = login_attempts.count + 1",
                    params![limit.key, now],
                )?;
            }
            Ok(Ok(()))
        })();
        let counted: Result<(), u64> = match counted {
            Ok(outcome) => outcome,
            Err(e) => return Err(sqlite(&db, e)),
        };
        tx.commit().map_err(|e| sqlite(&db, e))?;
        Ok(counted)
    }

    /// Settles a counted attempt that succeeded: the first key (the address and name) is
    /// cleared, and the attempt is taken back from the others. A failed attempt stays counted.
    pub fn login_succeeded(&mut self, limits: &[LoginLimit]) -> Result<(), StoreError> {
        let Some((first, others)) = limits.split_first() else {
            return Ok(());
        };
        let db = self.db_path();
        let tx = self
            .conn
            .begin_locked(crate::db::LOGIN_LOCK)
            .map_err(|e| sqlite(&db, e))?;
        tx.execute(
            "DELETE FROM login_attempts WHERE key = ?1",
            params![first.key],
        )
        .map_err(|e| sqlite(&db, e))?;
        for limit in others {
            tx.execute(
                "UPDATE login_attempts SET count = CASE WHEN count > 0 THEN count - 1 ELSE 0 END WHERE key = ?1",
                params![limit.key],
            )
            .map_err(|e| sqlite(&db, e))?;
        }
        tx.commit().map_err(|e| sqlite(&db, e))
    }
}

fn user_row(r: &crate::db::Row<'_>) -> crate::db::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
        reader_code: r.get(3)?,
        ledger_seq: r.get(4)?,
    })
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The field of a `user add` or `user password` entry's detail that holds the SHA-256 of the
/// password hash it stored.
pub const PASSWORD_DIGEST_FIELD: &str = "password_sha256";

/// What the ledger records of a stored password hash: the SHA-256 of its PHC string. The
/// string holds its own random salt, which the digest does not give away: the digest confirms
/// no guessed password, and may travel in an evidence package.
pub fn password_digest(password_hash: &str) -> String {
    crate::ledger::hex(&Sha256::digest(password_hash.as_bytes()))
}

/// Whether `hash` is the one `recorded` vouches for (`Some(false)`: it is not), or `None` when
/// the entry that set it was written before kizon recorded digests (it vouches for nothing).
pub(crate) fn vouched(recorded: Option<&(i64, Option<String>)>, hash: &str) -> Option<bool> {
    match recorded {
        None => Some(false),
        Some((_, None)) => None,
        Some((_, Some(digest))) => Some(*digest == password_digest(hash)),
    }
}
