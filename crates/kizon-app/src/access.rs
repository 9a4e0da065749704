//! Who may do what: users, roles, sessions, and the blinding of readers.
//!
//! The rules live here, not in the web server, so that every shell enforces the same ones:
//! - a **reader** sees only the cases assigned to them, only their images and waveforms (no
//!   clinical information, no device result, no other reader's read), and records their own
//!   reads (the blinding the Q&A's Q4 example and the notice's reference-standard
//!   requirements presuppose);
//! - the **statistician** and the **auditor** see device results and analyses only once the
//!   dataset and the reference standard are locked (results are seen after the locks, never
//!   before);
//! - the **data manager** handles providers, evidence, items and findings, never results;
//! - the **admin** manages users and assignments and may do what the others do, except reading.
//!
//! Passwords are stored as argon2id PHC strings (RFC 9106; OWASP's password storage cheat
//! sheet), outside the ledger's rows. A session token is 32 random bytes; only its SHA-256 is
//! stored, so a copy of the database does not hold live tokens.

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde::Serialize;
use serde_json::json;

use crate::{AppError, Study, sha256_hex};

/// How long a session lives without a new login (8 hours: one working day).
pub const SESSION_SECONDS: i64 = 8 * 3600;
/// The shortest password accepted (NIST SP 800-63B §5.1.1.2 asks for at least 8; we ask 10).
pub const MIN_PASSWORD_CHARS: usize = 10;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Admin,
    DataManager,
    Reader,
    Statistician,
    Auditor,
}

impl Role {
    pub const CHOICES: &'static str = "admin | data-manager | reader | statistician | auditor";

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::DataManager => "data-manager",
            Role::Reader => "reader",
            Role::Statistician => "statistician",
            Role::Auditor => "auditor",
        }
    }

    /// The role's name in Japanese.
    pub fn name_ja(self) -> &'static str {
        match self {
            Role::Admin => "管理者",
            Role::DataManager => "データマネージャー",
            Role::Reader => "読影者",
            Role::Statistician => "統計解析担当者",
            Role::Auditor => "監査担当者",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AppError;

    fn from_str(text: &str) -> Result<Role, AppError> {
        Ok(match text {
            "admin" => Role::Admin,
            "data-manager" => Role::DataManager,
            "reader" => Role::Reader,
            "statistician" => Role::Statistician,
            "auditor" => Role::Auditor,
            other => {
                return Err(AppError::InvalidValue {
                    what: "role".into(),
                    value: other.into(),
                    choices: Role::CHOICES.into(),
                });
            }
        })
    }
}

/// Something a user may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// The plan, each step's state, providers, cases, items and their metadata, findings.
    ViewStudy,
    /// Add providers' evidence documents.
    UploadEvidence,
    /// Decide on findings.
    ResolveFindings,
    /// The blinded reading workspace: one's own assigned cases.
    Read,
    /// Device results, analyses and reports (only after both locks; see [`Study::require`]).
    ViewResults,
    /// Run the analysis (reports are read with `ViewResults`).
    Analyze,
    /// The audit ledger.
    ViewAudit,
    /// Users and assignments.
    ManageUsers,
}

impl Permission {
    fn granted_to(self, role: Role) -> bool {
        use Permission::*;
        use Role::*;
        match self {
            ViewStudy => matches!(role, Admin | DataManager | Statistician | Auditor),
            UploadEvidence | ResolveFindings => matches!(role, Admin | DataManager),
            Read => role == Reader,
            ViewResults => matches!(role, Admin | Statistician | Auditor),
            Analyze => matches!(role, Admin | Statistician),
            ViewAudit => matches!(role, Admin | Auditor),
            ManageUsers => role == Admin,
        }
    }

    fn describe(self) -> (&'static str, &'static str) {
        use Permission::*;
        match self {
            ViewStudy => ("試験の閲覧", "viewing the study"),
            UploadEvidence => ("根拠資料の登録", "adding evidence documents"),
            ResolveFindings => ("疑義への対応", "deciding on findings"),
            Read => ("読影", "reading cases"),
            ViewResults => (
                "被験機器の結果・解析の閲覧",
                "viewing device results and analyses",
            ),
            Analyze => ("解析・報告書の作成", "running the analysis and reports"),
            ViewAudit => ("監査証跡の閲覧", "viewing the audit ledger"),
            ManageUsers => ("利用者の管理", "managing users"),
        }
    }
}

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub name: String,
    pub role: Role,
    /// For a reader: the panel reader code their reads are recorded under.
    pub reader_code: Option<String>,
}

impl Account {
    /// Whether the role grants `permission` (state-independent part of [`Study::require`]).
    pub fn may(&self, permission: Permission) -> bool {
        permission.granted_to(self.role)
    }

    /// Whether the account only reads (a blinded reader): its workspace is the reading
    /// worklist, nothing of the study around it.
    pub fn reads_only(&self) -> bool {
        self.may(Permission::Read) && !self.may(Permission::ViewStudy)
    }

    /// The name recorded in the ledger for this user's actions.
    pub fn actor(&self) -> String {
        format!("{} (web, {})", self.name, self.role)
    }
}

/// Login attempts allowed per user name from one address within [`LOGIN_WINDOW_SECONDS`].
pub const LOGIN_ATTEMPTS: u32 = 5;
/// Login attempts allowed from one address, whatever the names, within the window.
pub const LOGIN_ATTEMPTS_PER_ADDRESS: u32 = 30;
/// Login attempts allowed per user name from all addresses together within the window: a
/// slower, global limit, so that guessing from many addresses is bounded while one attacker's
/// address cannot lock the real user out.
pub const LOGIN_ATTEMPTS_PER_USER: u32 = 100;
/// The limiter's window: 15 minutes.
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;

/// A login attempt counted before its password was checked.
#[must_use]
pub struct LoginAttempt {
    limits: Vec<kizon_store::LoginLimit>,
}

/// A new session: the token goes to the browser (once), the CSRF token into every form.
#[derive(Debug, Clone)]
pub struct Login {
    pub account: Account,
    pub token: String,
    pub csrf: String,
    pub expires_at: i64,
}

/// Which cases to assign to a reader.
#[derive(Debug, Clone)]
pub enum Assign {
    /// Every case of the locked dataset (or, before the lock, every case without an unresolved
    /// exclusion).
    Dataset,
    Cases(Vec<String>),
}

/// `bytes` random bytes from the operating system, as lowercase hex (tokens, nonces).
pub fn random_hex(bytes: usize) -> Result<String, AppError> {
    let mut buffer = vec![0u8; bytes];
    fill_random(&mut buffer)?;
    Ok(kizon_store::ledger::hex(&buffer))
}

/// Fills `buffer` from the operating system's random source (tokens, keys, salts, nonces).
pub fn fill_random(buffer: &mut [u8]) -> Result<(), AppError> {
    getrandom::fill(buffer).map_err(|e| AppError::Refused {
        what: format!("the operating system's random source failed: {e}"),
        hint: "check /dev/urandom".into(),
    })
}

/// The session key that several servers on one study share (`kizon serve --session-key-file`):
/// 32 random bytes, as 64 hexadecimal digits, in a file only its owner may read. The file is
/// made (mode 0600) when it does not exist yet; each server then reads the same key, so a
/// session opened on one is valid on the others. The key is never in the study's database: a
/// session row written there by someone with the database still opens nothing.
pub fn session_key_file(path: &std::path::Path) -> Result<[u8; 32], AppError> {
    let io = |source: std::io::Error| AppError::Io {
        path: path.to_owned(),
        source,
    };
    let refused = |what: String| {
        AppError::Refused {
        what: format!("{}: {what}", path.display()),
        hint: "give a file that kizon made (a new path makes one), readable by its owner only (chmod 600)".into(),
    }
    };
    if std::fs::symlink_metadata(path).is_err() {
        let mut key = [0u8; 32];
        fill_random(&mut key)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                std::io::Write::write_all(
                    &mut file,
                    format!("{}\n", kizon_store::ledger::hex(&key)).as_bytes(),
                )
                .map_err(io)?;
                file.sync_all().map_err(io)?;
                return Ok(key);
            }
            // Another server made it at the same moment: read theirs (below).
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e)),
        }
    }
    let metadata = std::fs::symlink_metadata(path).map_err(io)?;
    if metadata.file_type().is_symlink() || !metadata.is_file() {
        return Err(refused(
            "not a plain file (a symbolic link is not followed)".into(),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(refused(format!(
                "the session key file may be read by others (mode {:o})",
                mode & 0o777
            )));
        }
        // Whoever owns the file knows the key: it must be this server's own user.
        if let Ok(me) = std::fs::metadata("/proc/self")
            && metadata.uid() != me.uid()
        {
            return Err(refused(format!(
                "the session key file belongs to another user (uid {})",
                metadata.uid()
            )));
        }
    }
    // A file another server is writing this moment may still be empty.
    let mut text = std::fs::read_to_string(path).map_err(io)?;
    for _ in 0..50 {
        if !text.trim().is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        text = std::fs::read_to_string(path).map_err(io)?;
    }
    let text = text.trim();
    text.bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then(|| crate::owner_key::unhex(text))
        .flatten()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| refused("not a session key (64 hexadecimal digits)".into()))
}

/// The argon2id PHC string of a password long enough to accept (argon2's default parameters:
/// m = 19 MiB, t = 2, p = 1, OWASP's recommended minimum).
fn password_hash(password: &str) -> Result<String, AppError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::Refused {
            what: format!("the password is shorter than {MIN_PASSWORD_CHARS} characters"),
            hint: "give a longer password on standard input (a passphrase of several words)".into(),
        });
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Refused {
            what: format!("the password could not be hashed: {e}"),
            hint: "try again".into(),
        })
}

fn forbidden(permission: Permission, account: &Account) -> AppError {
    let (ja, en) = permission.describe();
    AppError::Forbidden {
        what: format!(
            "{ja}は{}には許可されていません / {en} is not allowed to the role {}",
            account.role.name_ja(),
            account.role
        ),
        hint: "許可された役割のアカウントでログインするか、試験の管理者に依頼してください / sign in with an account whose role allows it, or ask the study's admin".into(),
    }
}

impl Study {
    /// Registers a user. A reader must be linked to a registered panel reader code; other roles
    /// must not be.
    pub fn add_user(
        &mut self,
        actor: &str,
        name: &str,
        role: Role,
        reader_code: Option<&str>,
        password: &str,
    ) -> Result<Account, AppError> {
        let name = name.trim();
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || "._-@".contains(c))
        {
            return Err(AppError::Refused {
                what: format!("`{name}` is not a user name"),
                hint: "use letters, digits and . _ - @, at most 64 characters (e.g. tanaka.h)"
                    .into(),
            });
        }
        let hash = password_hash(password)?;
        match (role, reader_code) {
            (Role::Reader, None) => {
                return Err(AppError::Refused {
                    what: "a reader needs the panel reader code their reads are recorded under"
                        .into(),
                    hint: "add --reader CODE (a code from `kizon readers list`)".into(),
                });
            }
            (Role::Reader, Some(code)) => self.require_panel_reader(code)?,
            (_, Some(_)) => {
                return Err(AppError::Refused {
                    what: format!("only a reader has a reader code, not the role {role}"),
                    hint: "drop --reader, or use --role reader".into(),
                });
            }
            (_, None) => {}
        }
        let key = self.signer("kizon user add")?;
        self.store.transact(actor, |tx| {
            tx.insert_user(name, role.as_str(), reader_code, &hash)?;
            crate::signing::record_signed(
                tx,
                key.as_ref(),
                "user add",
                &format!("user {name} added as {role}"),
                json!({ "name": name, "role": role.as_str(), "reader_code": reader_code, kizon_store::PASSWORD_DIGEST_FIELD: kizon_store::password_digest(&hash) }),
            )
        })?;
        Ok(Account {
            name: name.to_owned(),
            role,
            reader_code: reader_code.map(str::to_owned),
        })
    }

    /// Keys the stored digest of session tokens with `key`, a secret the server draws at start
    /// and keeps in memory: a session row written into the database by someone with the file
    /// (the `sessions` table is outside the ledger) then opens nothing, since its digest cannot
    /// be made without the key. Sessions end when the server restarts.
    pub fn set_session_key(&mut self, key: [u8; 32]) {
        self.session_key = Some(key);
    }

    /// What the `sessions` table holds for `token`: HMAC-SHA256 under the server's session key
    /// (RFC 2104), or plain SHA-256 without one.
    fn session_digest(&self, token: &str) -> String {
        match &self.session_key {
            Some(key) => kizon_store::ledger::hex(&hmac_sha256(key, token.as_bytes())),
            None => sha256_hex(token.as_bytes()),
        }
    }

    /// Counts a login attempt of `user` from `address` before its password is checked (see
    /// [`LOGIN_ATTEMPTS`] and the limits beside it). The count is in the study's database, so
    /// every server on the study shares it. Returns the attempt, to be settled with
    /// [`Study::login_settled`], or the seconds to wait.
    pub fn login_attempt(
        &mut self,
        user: &str,
        address: &str,
    ) -> Result<Result<LoginAttempt, u64>, AppError> {
        let limits = vec![
            kizon_store::LoginLimit {
                key: format!("pair:{address}|{user}"),
                attempts: LOGIN_ATTEMPTS,
            },
            kizon_store::LoginLimit {
                key: format!("addr:{address}"),
                attempts: LOGIN_ATTEMPTS_PER_ADDRESS,
            },
            kizon_store::LoginLimit {
                key: format!("user:{user}"),
                attempts: LOGIN_ATTEMPTS_PER_USER,
            },
        ];
        let now = self.clock.now().unix_timestamp();
        Ok(self
            .store
            .count_login_attempt(&limits, LOGIN_WINDOW_SECONDS, now)?
            .map(|()| LoginAttempt { limits }))
    }

    /// Settles a counted attempt: a success takes it back (and clears the name's count from
    /// that address); a failure leaves it counted.
    pub fn login_settled(
        &mut self,
        attempt: LoginAttempt,
        succeeded: bool,
    ) -> Result<(), AppError> {
        if succeeded {
            self.store.login_succeeded(&attempt.limits)?;
        }
        Ok(())
    }

    /// Every registered user.
    pub fn users(&self) -> Result<Vec<Account>, AppError> {
        self.store.users()?.into_iter().map(account).collect()
    }

    /// Checks a password and opens a session; `None` when the name or password is wrong (the
    /// caller does not learn which). The login is recorded in the ledger.
    pub fn login(&mut self, name: &str, password: &str) -> Result<Option<Login>, AppError> {
        let Some(user) = self.store.user(name)? else {
            // Hash anyway, so that an unknown name takes as long as a wrong password.
            let _ = Argon2::default().hash_password(password.as_bytes());
            return Ok(None);
        };
        // The hash the ledger last recorded for the user, in an entry signed by the owner:
        // a hash written into the table, or an entry appended without the owner's key, opens
        // nothing.
        // Every refusal below hashes as a wrong password does, so that timing tells a guesser
        // nothing.
        let refuse = || {
            let _ = Argon2::default().hash_password(password.as_bytes());
            Ok(None)
        };
        let Some((hash, vouching_entry)) = self.store.password_hash(name)? else {
            return refuse();
        };
        if !self.entry_signed_by_owner(vouching_entry)? {
            return refuse();
        }
        if Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_err()
        {
            return Ok(None);
        }
        // A deactivated account signs in no more (checked after the password, so that the
        // answer does not tell a guesser that the name exists).
        if !self.store.user_active(name)? {
            return Ok(None);
        }
        let account = account(user)?;
        let token = random_hex(32)?;
        let csrf = random_hex(32)?;
        let expires_at = kizon_store::now_unix() + SESSION_SECONDS;
        self.store.insert_session(
            &self.session_digest(&token),
            &kizon_store::Session {
                user_name: account.name.clone(),
                csrf: csrf.clone(),
                expires_at,
            },
        )?;
        let actor = account.actor();
        self.store.transact(&actor, |tx| {
            tx.record(
                "login",
                &format!("{} signed in", account.name),
                json!({ "user": account.name }),
            )
        })?;
        Ok(Some(Login {
            account,
            token,
            csrf,
            expires_at,
        }))
    }

    /// The account and CSRF token of a live session.
    pub fn session(&self, token: &str) -> Result<Option<(Account, String)>, AppError> {
        let Some(session) = self.store.session(&self.session_digest(token))? else {
            return Ok(None);
        };
        let Some(user) = self.store.user(&session.user_name)? else {
            return Ok(None);
        };
        if !self.store.user_active(&user.name)? {
            return Ok(None);
        }
        Ok(Some((account(user)?, session.csrf)))
    }

    /// Ends a session; recorded in the ledger.
    pub fn logout(&mut self, token: &str) -> Result<(), AppError> {
        let Some((account, _)) = self.session(token)? else {
            return Ok(());
        };
        self.store.delete_session(&self.session_digest(token))?;
        self.store.transact(&account.actor(), |tx| {
            tx.record(
                "logout",
                &format!("{} signed out", account.name),
                json!({ "user": account.name }),
            )
        })?;
        Ok(())
    }

    /// Deactivates a user (`active` false: no sign-in, their sessions end) or activates them
    /// again; recorded in the ledger. Nothing of what they did is touched.
    pub fn set_user_active(
        &mut self,
        actor: &str,
        name: &str,
        active: bool,
    ) -> Result<(), AppError> {
        if self.store.user(name)?.is_none() {
            return Err(AppError::Refused {
                what: format!("no user `{name}`"),
                hint: "list users with `kizon user list`".into(),
            });
        }
        if self.store.user_active(name)? == active {
            return Ok(());
        }
        let command = if active {
            "user activate"
        } else {
            "user deactivate"
        };
        self.store.transact(actor, |tx| {
            tx.insert_user_status(name, active)?;
            tx.record(
                command,
                &format!(
                    "user {name} {}",
                    if active {
                        "activated again"
                    } else {
                        "deactivated"
                    }
                ),
                json!({ "name": name, "active": active }),
            )
        })?;
        if !active {
            self.store.delete_sessions_of(name)?;
        }
        Ok(())
    }

    /// Every user with whether they are active.
    pub fn users_with_status(&self) -> Result<Vec<(Account, bool)>, AppError> {
        self.store
            .users()?
            .into_iter()
            .map(|u| {
                let active = self.store.user_active(&u.name)?;
                Ok((account(u)?, active))
            })
            .collect()
    }

    /// Replaces a user's password and ends their sessions.
    pub fn set_password(
        &mut self,
        actor: &str,
        name: &str,
        password: &str,
    ) -> Result<(), AppError> {
        if self.store.user(name)?.is_none() {
            return Err(AppError::Refused {
                what: format!("no user `{name}`"),
                hint: "list users with `kizon user list`".into(),
            });
        }
        let hash = password_hash(password)?;
        // Setting the password again is how a `credentials` row changed outside kizon is
        // mended: that account's problem does not stand in the way, every other one does.
        let key = self.signer_mending("kizon user passwd", &|message: &str| {
            message.starts_with(&format!("the password of `{name}` "))
                || message.starts_with(&format!("`credentials` holds a password for `{name}` "))
        })?;
        self.store.transact(actor, |tx| {
            tx.set_password_hash(name, &hash)?;
            crate::signing::record_signed(
                tx,
                key.as_ref(),
                "user password",
                &format!("password of {name} replaced"),
                json!({ "name": name, kizon_store::PASSWORD_DIGEST_FIELD: kizon_store::password_digest(&hash) }),
            )
        })?;
        self.store.delete_sessions_of(name)?;
        Ok(())
    }

    /// Refuses unless `account` may do `permission` now. Results need both locks as well.
    pub fn require(&self, account: &Account, permission: Permission) -> Result<(), AppError> {
        if !account.may(permission) {
            return Err(forbidden(permission, account));
        }
        if matches!(permission, Permission::ViewResults | Permission::Analyze)
            && account.role != Role::Admin
        {
            for (kind, ja) in [
                (crate::dataset::DATASET, "解析対象データセット"),
                (crate::reference::REFERENCE, "参照標準"),
            ] {
                if self.store.lock(kind)?.is_none() {
                    return Err(AppError::Forbidden {
                        what: format!(
                            "{ja}の固定前は被験機器の結果を閲覧できません / device results are shown only after the {kind} lock"
                        ),
                        hint: "データセットと参照標準が固定されると閲覧できます（kizon lock dataset、kizon lock reference）/ they are shown once the dataset and the reference standard are locked".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Assigns cases to a panel reader for blinded reading in the web workspace.
    pub fn assign(
        &mut self,
        actor: &str,
        reader_code: &str,
        which: &Assign,
    ) -> Result<usize, AppError> {
        self.require_panel_reader(reader_code)?;
        let cases: Vec<String> = match which {
            Assign::Dataset => match self.dataset()? {
                Some(dataset) => dataset.cases.iter().map(|c| c.id.clone()).collect(),
                None => self
                    .candidate_dataset()?
                    .0
                    .cases
                    .iter()
                    .map(|c| c.id.clone())
                    .collect(),
            },
            Assign::Cases(cases) => {
                self.refuse_going_back(reader_code, cases)?;
                let known: std::collections::BTreeSet<String> =
                    self.store.cases()?.into_iter().map(|c| c.id).collect();
                if let Some(unknown) = cases.iter().find(|c| !known.contains(*c)) {
                    return Err(AppError::Refused {
                        what: format!("no case `{unknown}` in the study"),
                        hint: "case ids are those of `kizon items`".into(),
                    });
                }
                cases.clone()
            }
        };
        self.refuse_going_back(reader_code, &cases)?;
        self.store
            .transact(actor, |tx| {
                let mut new = 0;
                for case in &cases {
                    if tx.insert_assignment(reader_code, case)? {
                        new += 1;
                    }
                }
                if new > 0 {
                    tx.record(
                        "readers assign",
                        &format!("{new} cases assigned to reader {reader_code}"),
                        json!({ "reader": reader_code, "cases": new }),
                    )?;
                }
                Ok(new)
            })
            .map_err(Into::into)
    }

    /// Refuses new cases for a reader who has started a reading session after the first: they
    /// would read the new cases in the first condition after having seen the later one (in an
    /// unaided-then-aided design, unaided after aided), and the washout would start again.
    fn refuse_going_back(&self, reader_code: &str, cases: &[String]) -> Result<(), AppError> {
        let sessions = self.reader_sessions(reader_code)?;
        let Some(reader_id) = self.store.reader_id(reader_code)? else {
            return Ok(());
        };
        let mut started_later = None;
        for session in sessions.iter().skip(1) {
            if self
                .store
                .reading_events_of(reader_id, &session.id)?
                .iter()
                .any(|e| e.event == "start")
            {
                started_later = Some(session.id.clone());
            }
        }
        let Some(session) = started_later else {
            return Ok(());
        };
        let assigned: std::collections::BTreeSet<String> =
            self.store.assignments(reader_code)?.into_iter().collect();
        if let Some(new) = cases.iter().find(|c| !assigned.contains(*c)) {
            return Err(AppError::Refused {
                what: format!(
                    "読影者 {reader_code} はセッション {session} を開始済みのため、症例 {new} を追加できません / reader {reader_code} has started session {session}: case {new} would be read in an earlier condition after the later one"
                ),
                hint: "assign new cases to readers who have not yet started a later session, or record the change as a protocol deviation and assign another reader".into(),
            });
        }
        Ok(())
    }

    /// Refuses a reader code the panel does not have.
    fn require_panel_reader(&self, code: &str) -> Result<(), AppError> {
        if self.store.readers()?.iter().any(|r| r.code == code) {
            return Ok(());
        }
        Err(AppError::Refused {
            what: format!("no panel reader `{code}`"),
            hint: "register the reader first: kizon readers add CODE --qualification ... --specialty ... --years N --independent".into(),
        })
    }

    /// Sets the reading sessions a reader takes part in (by the protocol's session ids): a
    /// reference panel reads in the panel's session, the readers of an MRMC study in theirs.
    /// A reader never assigned takes part in every session the protocol declares. A session
    /// the reader has opened a case or read in is never taken away (their reads stay where
    /// they were made); each change is a row and one ledger entry. Returns how many sessions
    /// changed.
    pub fn assign_sessions(
        &mut self,
        actor: &str,
        reader_code: &str,
        sessions: &[String],
    ) -> Result<usize, AppError> {
        self.require_panel_reader(reader_code)?;
        let declared = self.reading_plan()?.sessions();
        let ids = || {
            declared
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if sessions.is_empty() {
            return Err(AppError::Refused {
                what: format!("no session named for reader {reader_code}"),
                hint: format!("name one or more of the protocol's sessions: {}", ids()),
            });
        }
        if let Some(unknown) = sessions
            .iter()
            .find(|s| !declared.iter().any(|d| d.id == **s))
        {
            return Err(AppError::Refused {
                what: format!("no reading session `{unknown}` in the protocol"),
                hint: format!(
                    "the protocol's sessions ([[reading.sessions]] id): {}",
                    ids()
                ),
            });
        }
        let recorded = self.store.session_assignments(reader_code)?;
        let explicit = recorded.is_some();
        let before: Vec<String> = match recorded {
            Some(theirs) => theirs,
            None => declared.iter().map(|s| s.id.clone()).collect(),
        };
        let reads = self.store.reads_of(reader_code)?;
        let reader_id = self.store.reader_id(reader_code)?;
        for session in declared
            .iter()
            .filter(|s| before.contains(&s.id) && !sessions.contains(&s.id))
        {
            let role = crate::reading::session_role(session);
            // Only the start (the worklist shown, its seed drawn) leaves nothing to keep; a
            // case opened is a case seen in that condition.
            let opened = match reader_id {
                Some(id) => self
                    .store
                    .reading_events_of(id, &session.id)?
                    .iter()
                    .any(|e| e.event != crate::reading::event::START),
                None => false,
            };
            if opened || reads.iter().any(|r| r.role == role) {
                return Err(AppError::Refused {
                    what: format!(
                        "読影者 {reader_code} はセッション {0} で読影済みです / reader {reader_code} has read in session {0}: it stays theirs",
                        session.id
                    ),
                    hint: format!(
                        "keep it among the sessions: {},{}",
                        sessions.join(","),
                        session.id
                    ),
                });
            }
        }
        let changes: Vec<(&str, bool)> = declared
            .iter()
            .filter_map(|s| {
                let wanted = sessions.contains(&s.id);
                // The first assignment records every session, so that the rows alone tell the
                // reader's sessions.
                (!explicit || wanted != before.contains(&s.id)).then_some((s.id.as_str(), wanted))
            })
            .collect();
        if explicit && changes.is_empty() {
            return Ok(0);
        }
        self.store
            .transact(actor, |tx| {
                for (session, assigned) in &changes {
                    tx.insert_session_assignment(reader_code, session, *assigned)?;
                }
                let now: Vec<&str> = declared
                    .iter()
                    .map(|s| s.id.as_str())
                    .filter(|id| sessions.iter().any(|s| s == id))
                    .collect();
                tx.record(
                    "readers assign",
                    &format!(
                        "reader {reader_code} assigned reading sessions {}",
                        now.join(", ")
                    ),
                    json!({ "reader": reader_code, "sessions": now }),
                )?;
                Ok(changes.len())
            })
            .map_err(Into::into)
    }

    /// The reading sessions a reader takes part in, by id, in the protocol's order.
    pub fn reader_session_ids(&self, reader_code: &str) -> Result<Vec<String>, AppError> {
        self.require_panel_reader(reader_code)?;
        Ok(self
            .reader_sessions(reader_code)?
            .into_iter()
            .map(|s| s.id)
            .collect())
    }

    /// The cases assigned to a reader.
    pub fn assignments(&self, reader_code: &str) -> Result<Vec<String>, AppError> {
        Ok(self.store.assignments(reader_code)?)
    }
}

fn account(user: kizon_store::User) -> Result<Account, AppError> {
    Ok(Account {
        role: user.role.parse()?,
        name: user.name,
        reader_code: user.reader_code,
    })
}

/// HMAC-SHA256 (RFC 2104) with a 32-byte key: SHA-256 over the key padded with 0x36, the
/// message, then over the key padded with 0x5c and that inner digest.
fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut padded = [0u8; 64];
    padded[..32].copy_from_slice(key);
    let inner_pad: Vec<u8> = padded.iter().map(|b| b ^ 0x36).collect();
    let outer_pad: Vec<u8> = padded.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&inner_pad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(&outer_pad)
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod hmac_tests {
    /// The value from Python's
    /// `hmac.new(bytes(range(32)), b"kizon", hashlib.sha256).hexdigest()`.
    #[test]
    fn hmac_matches_an_independent_implementation() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        assert_eq!(
            kizon_store::ledger::hex(&super::hmac_sha256(&key, b"kizon")),
            "d37d7649f21423bc5cfb211bfcbb68e5238d57d67eccc09f674d6e63b9b9c410"
        );
    }
}
