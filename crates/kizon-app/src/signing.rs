//! The study's side of the owner's key: which key the study records, signing checkpoints in the
//! transaction that appends them, and checking every signature in `audit verify`.
//!
//! The public key is recorded in the ledger (`owner_public_key` in the detail of the `init`
//! entry, or of an `owner key` entry for a study made before kizon signed); that entry and every
//! entry of [`SIGNED_COMMANDS`] after it carry the owner's signature of their checkpoint
//! (sequence number and hash). Entries before the key was recorded are unsigned and said so.

use serde_json::json;

use crate::owner_key::{self, OwnerKey, SIGNED_COMMANDS};
use crate::{AppError, Study, VerifyReport};
use kizon_store::{LedgerEntry, Problem, StoreError, Tx};

/// The key field in a ledger entry's detail.
pub const PUBLIC_KEY_FIELD: &str = "owner_public_key";

/// How [`check_signatures`] begins the problem of a ledger that records no owner's key.
const NO_KEY: &str = "the study records no owner's key";

/// The owner's public key a ledger records, with the entry that records it.
pub fn recorded_public_key(entries: &[LedgerEntry]) -> Option<(i64, String)> {
    // From the first entry on: a row slipped in before it (seq 0 or below) records no one's key.
    entries.iter().filter(|e| e.seq >= 1).find_map(|e| {
        e.detail_json()
            .get(PUBLIC_KEY_FIELD)
            .and_then(|v| v.as_str())
            // 64 hex digits, or it is not a key (a tampered detail must not reach slicing).
            .map(|k| {
                let valid = k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit());
                (e.seq, if valid { k.to_owned() } else { "0".repeat(64) })
            })
    })
}

/// Appends the ledger entry for `command` (as [`Tx::record`] does) and, when the study has an
/// owner's key, signs its checkpoint in the same transaction: the one way a lock, amendment,
/// analysis or package is recorded.
pub(crate) fn record_signed(
    tx: &mut Tx<'_>,
    key: Option<&OwnerKey>,
    command: &str,
    summary: &str,
    detail: serde_json::Value,
) -> Result<LedgerEntry, StoreError> {
    let entry = tx.record(command, summary, detail)?;
    if let Some(key) = key {
        tx.put_signature(
            entry.seq,
            &key.public_hex(),
            &key.sign_checkpoint(entry.seq, &entry.hash),
        )?;
    }
    Ok(entry)
}

/// Checks the owner's signatures of a ledger: `signatures` as (seq, public key, signature).
/// `trusted`: a public key from outside the study (the report's title page, the owner's file);
/// without it the recorded key is used and a note says so. Problems name their entry.
pub fn check_signatures(
    entries: &[LedgerEntry],
    signatures: &[(i64, String, String)],
    trusted: Option<&str>,
    problems: &mut Vec<Problem>,
    notes: &mut Vec<String>,
) {
    let recorded = recorded_public_key(entries);
    let key = match (&recorded, trusted) {
        (None, None) => {
            // `kizon init` records the key in the first entry: a ledger without one was made
            // before kizon signed, or had its key and signatures stripped (which needs no key at
            // all, and would otherwise pass as intact). Either way nothing vouches for it.
            if !entries.is_empty() {
                problems.push(Problem {
                    seq: None,
                    message: format!("{NO_KEY}: its ledger is not signed, so a chain recomputed by someone with the file (its key entry and signatures removed) cannot be told from the original; a study made before kizon signed records one with `kizon owner-key create` / 署名鍵が記録されていません"),
                });
            }
            return;
        }
        (None, Some(_)) => {
            problems.push(Problem {
                seq: None,
                message: "the ledger records no owner's key, but one was given with --public-key: the key's entry was removed, or this is another study".into(),
            });
            return;
        }
        (Some((seq, recorded)), Some(trusted)) if recorded != trusted => {
            problems.push(Problem {
                seq: Some(*seq),
                message: format!("entry {seq} records the owner's key {recorded}, not the key given with --public-key ({trusted}): the ledger was re-signed with another key"),
            });
            return;
        }
        (Some((_, recorded)), Some(_)) => recorded.clone(),
        (Some((seq, recorded)), None) => {
            notes.push(format!(
                "signatures checked against the owner's key recorded in entry {seq} ({recorded}); compare it with the key on the report's title page, or give it with --public-key"
            ));
            recorded.clone()
        }
    };
    let key_seq = recorded.as_ref().map_or(0, |(seq, _)| *seq);
    let by_seq: std::collections::BTreeMap<i64, (&str, &str)> = signatures
        .iter()
        .map(|(seq, public, signature)| (*seq, (public.as_str(), signature.as_str())))
        .collect();
    for entry in entries {
        // By its command, and by what it wrote: an entry that creates a lock, an amendment
        // or an analysis must be signed whatever it calls itself (the application decides what
        // is locked from those rows, not from command names).
        let must_sign = entry.seq == key_seq
            || (entry.seq > key_seq
                && (SIGNED_COMMANDS.contains(&entry.command.as_str())
                    || creates_signed_rows(entry)
                    || sets_a_password(entry)));
        let signed = by_seq.get(&entry.seq);
        let valid = signed.is_some_and(|(public, signature)| {
            *public == key && owner_key::verify_checkpoint(&key, entry.seq, &entry.hash, signature)
        });
        if signed.is_some() && !valid {
            problems.push(Problem {
                seq: Some(entry.seq),
                message: format!(
                    "entry {} (`{}`): the owner's signature does not match the entry: the entry was rewritten, or signed with another key",
                    entry.seq, entry.command
                ),
            });
        } else if signed.is_none() && must_sign {
            problems.push(Problem {
                seq: Some(entry.seq),
                message: format!(
                    "entry {} (`{}`) is not signed by the owner: its signature was removed, or the entry was put there without the key",
                    entry.seq, entry.command
                ),
            });
        }
    }
    let last = entries.last().map_or(0, |e| e.seq);
    for seq in by_seq.keys().filter(|seq| **seq > last) {
        problems.push(Problem {
            seq: Some(*seq),
            message: format!("a signature of entry {seq} remains, but the ledger ends at entry {last}: signed entries were removed"),
        });
    }
    if key_seq > 1 {
        notes.push(format!(
            "entries 1 to {} were written before the study had an owner's key and are not signed",
            key_seq - 1
        ));
    }
}

/// Whether `entry` vouches for a password hash (a `user add` or `user password` entry with its
/// digest): signed, so that an entry appended without the owner's key opens no account. Such
/// entries written before kizon recorded digests carry none and are not asked for a signature;
/// they vouch for nothing either (`Study::login`).
fn sets_a_password(entry: &LedgerEntry) -> bool {
    matches!(entry.command.as_str(), "user add" | "user password")
        && entry
            .detail_json()
            .get(kizon_store::PASSWORD_DIGEST_FIELD)
            .is_some()
}

/// Tables whose rows decide what is locked, amended and analysed.
pub const SIGNED_TABLES: &[&str] = &["locks", "amendments", "analyses"];

/// Whether `entry` created rows in one of [`SIGNED_TABLES`] (its detail's `rows`).
fn creates_signed_rows(entry: &LedgerEntry) -> bool {
    let detail = entry.detail_json();
    SIGNED_TABLES
        .iter()
        .any(|table| detail.pointer(&format!("/rows/{table}")).is_some())
}

impl Study {
    /// The owner's public key this study records, if any.
    pub fn owner_public_key(&self) -> Result<Option<String>, AppError> {
        Ok(recorded_public_key(&self.store.ledger()?).map(|(_, k)| k))
    }

    /// Whether entry `seq` is as it was written (its hash) and signed by the owner's key the
    /// study records: read entry by entry, without the whole ledger (a login asks it).
    ///
    /// The key is the one this server unlocked, from outside the database, when there is one:
    /// a key row slipped into the ledger is then no one's. Without it, the key recorded by the
    /// first intact `init` or `owner key` entry (seq 1 on), and a ledger rewritten from its first
    /// entry on is caught only by `audit verify`, which checks the whole chain.
    pub(crate) fn entry_signed_by_owner(&self, seq: i64) -> Result<bool, AppError> {
        let Some(entry) = self.store.entry(seq)? else {
            return Ok(false);
        };
        let key = match &self.owner_key {
            Some(key) => key.public_hex(),
            None => {
                let candidates: Vec<LedgerEntry> = self
                    .store
                    .entries_mentioning(PUBLIC_KEY_FIELD)?
                    .into_iter()
                    .filter(|e| {
                        e.seq >= 1
                            && matches!(e.command.as_str(), "init" | "owner key")
                            && e.computed_hash() == e.hash
                    })
                    .collect();
                let Some((_, key)) = recorded_public_key(&candidates) else {
                    return Ok(false);
                };
                key
            }
        };
        Ok(entry.computed_hash() == entry.hash
            && self
                .store
                .signature_of(seq)?
                .is_some_and(|(public, signature)| {
                    public == key
                        && owner_key::verify_checkpoint(&key, seq, &entry.hash, &signature)
                }))
    }

    /// Uses `key` (already unlocked, e.g. by `kizon serve` at start) to sign this study's
    /// checkpoints.
    pub fn set_owner_key(&mut self, key: OwnerKey) {
        self.owner_key = Some(key);
    }

    /// Never ask for the passphrase (a server): what must be signed without a key is refused.
    pub fn never_ask_passphrase(&mut self) {
        self.may_ask_passphrase = false;
    }

    /// The unlocked owner's key for `purpose`, loaded from the key ring on first use; `None`
    /// for a study that records no key (made before kizon signed).
    ///
    /// The study is verified first ([`Study::refuse_unless_intact`]): the owner's signature
    /// vouches for the study as it stands, so it is never put on one that fails `audit verify`.
    pub(crate) fn signer(&mut self, purpose: &str) -> Result<Option<OwnerKey>, AppError> {
        self.signer_mending(purpose, &|_| false)
    }

    /// [`Study::signer`] for a use case that mends what `mended` names among verify's
    /// problems (its own account's password row): those do not refuse it.
    pub(crate) fn signer_mending(
        &mut self,
        purpose: &str,
        mended: &dyn Fn(&str) -> bool,
    ) -> Result<Option<OwnerKey>, AppError> {
        // A server without the key refuses at once, before a verify it would not use.
        self.refuse_without_key(purpose)?;
        self.refuse_unless_intact_but(purpose, mended)?;
        self.unlocked_signer(purpose)
    }

    /// [`Study::signer`] for a use case that has just verified the study itself (`verified`,
    /// in this same call): verified again only if the ledger moved on since.
    pub(crate) fn signer_after(
        &mut self,
        purpose: &str,
        verified: &VerifyReport,
    ) -> Result<Option<OwnerKey>, AppError> {
        self.refuse_without_key(purpose)?;
        if !verified.intact() || self.store.head()? != verified.head {
            self.refuse_unless_intact(purpose)?;
        }
        self.unlocked_signer(purpose)
    }

    /// Refuses `purpose` in a server whose owner's key is not unlocked, when the study records
    /// one (what must be signed cannot be).
    fn refuse_without_key(&self, purpose: &str) -> Result<(), AppError> {
        if self.owner_key.is_none()
            && !self.may_ask_passphrase
            && self.owner_public_key()?.is_some()
        {
            return Err(AppError::Refused {
                what: format!(
                    "{purpose}: the owner's key is not unlocked in this server, and the entry must be signed"
                ),
                hint: format!(
                    "restart `kizon serve` with {} set, or run it from the command line",
                    owner_key::PASSPHRASE_ENV
                ),
            });
        }
        Ok(())
    }

    /// The owner's key, unlocked, with no check of the study; its callers have refused a
    /// server without the key ([`Study::refuse_without_key`]) before verifying.
    fn unlocked_signer(&mut self, purpose: &str) -> Result<Option<OwnerKey>, AppError> {
        let Some(public) = self.owner_public_key()? else {
            return Ok(None);
        };
        if self.owner_key.is_none() {
            let path = owner_key::key_path(&public);
            let passphrase = owner_key::passphrase(purpose, false)?;
            self.owner_key = Some(OwnerKey::unlock(&path, &passphrase)?);
        }
        let key = self.owner_key.clone().expect("loaded above");
        if key.public_hex() != public {
            return Err(AppError::Refused {
                what: format!(
                    "the owner's key at hand ({}) is not the one this study records ({public})",
                    key.public_hex()
                ),
                hint: format!(
                    "use the study's key: {} (or name it with {})",
                    owner_key::key_path(&public).display(),
                    owner_key::KEY_FILE_ENV
                ),
            });
        }
        Ok(Some(key))
    }

    /// Refuses `purpose` unless the study passes `audit verify` (its ledger, the rows and
    /// documents the ledger covers, the head anchor and the owner's signatures). A row changed
    /// in place with its trigger dropped and put back passes the check every write makes
    /// (rows ahead of the ledger, the schema); signed into an analysis, a lock or a package it
    /// would be vouched for by the owner, and a package holds no rows to find it by.
    pub fn refuse_unless_intact(&self, purpose: &str) -> Result<(), AppError> {
        self.refuse_unless_intact_but(purpose, &|_| false)
    }

    /// [`Study::refuse_unless_intact`], with the problems `mended` names left out.
    fn refuse_unless_intact_but(
        &self,
        purpose: &str,
        mended: &dyn Fn(&str) -> bool,
    ) -> Result<(), AppError> {
        let report = self.verify(None)?;
        let standing: Vec<Problem> = report
            .problems
            .into_iter()
            .filter(|p| !mended(&p.message))
            .collect();
        refuse_problems(purpose, &standing)
    }

    /// Records `key` as the owner's key of a study that has none yet (made before kizon signed).
    pub fn adopt_owner_key(
        &mut self,
        actor: &str,
        key: &OwnerKey,
    ) -> Result<LedgerEntry, AppError> {
        if let Some(public) = self.owner_public_key()? {
            return Err(AppError::Refused {
                what: format!("the study already records an owner's key ({public})"),
                hint: "a study has one owner's key; `kizon owner-key show` prints it".into(),
            });
        }
        // Everything but the missing key, which is what this mends.
        let report = self.store.verify(None)?;
        refuse_problems("kizon owner-key create", &report.problems)?;
        let public = key.public_hex();
        let entry = self.store.transact(actor, |tx| {
            record_signed(
                tx,
                Some(key),
                "owner key",
                &format!("owner's signing key recorded: {}", &public[..16]),
                json!({ PUBLIC_KEY_FIELD: public }),
            )
        })?;
        self.owner_key = Some(key.clone());
        Ok(entry)
    }

    /// Checks the ledger, the rows and documents it covers, the head anchor and the owner's
    /// signatures. `public_key`: the owner's key from outside the study, when given.
    pub fn verify_signed(
        &self,
        expected_head: Option<&str>,
        public_key: Option<&str>,
    ) -> Result<VerifyReport, AppError> {
        let mut report = self.store.verify(expected_head)?;
        let entries = self.store.ledger()?;
        check_signatures(
            &entries,
            &self.store.signatures()?,
            public_key,
            &mut report.problems,
            &mut report.notes,
        );
        report.problems.sort_by_key(|p| p.seq.unwrap_or(i64::MAX));
        Ok(report)
    }
}

/// The refusal of `purpose` on a study with `problems` (none: no refusal).
pub(crate) fn refuse_problems(purpose: &str, problems: &[Problem]) -> Result<(), AppError> {
    let Some(first) = problems.first() else {
        return Ok(());
    };
    let more = match problems.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    Err(AppError::Refused {
        what: format!(
            "{purpose}: the study fails `kizon audit verify`: {}{more}",
            first.message
        ),
        hint: "the owner's signature is never put on a study that does not verify: run `kizon audit verify` to see every problem / 監査証跡の検証に失敗した試験には署名・記録しません（kizon audit verify で確認）".into(),
    })
}
