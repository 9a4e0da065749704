//! Typed rows of the covered tables: inserting them inside a [`Tx`], reading them from a [`Store`].
//!
//! Values of the regulatory vocabulary (provider kinds, consent models, evidence kinds) are
//! stored as their study.toml spelling; the application layer parses them.

use crate::db::params;
use kizon_vocab::{ConsentModel, EvidenceKind, ProviderKind, RegulatorAccess};
use serde::Serialize;

use crate::words::{Spelled, word};
use crate::{Store, StoreError, Tx};

/// A data provider as the user registers it (Q3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewProvider {
    pub name: String,
    pub kind: ProviderKind,
    pub consent_model: ConsentModel,
    pub legal_basis: String,
    pub regulator_access: RegulatorAccess,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provider {
    pub id: i64,
    pub name: String,
    pub kind: ProviderKind,
    pub consent_model: ConsentModel,
    pub legal_basis: String,
    pub regulator_access: RegulatorAccess,
    pub ledger_seq: i64,
}

/// A provider's registered signing key (Ed25519, 64 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderKey {
    pub provider: String,
    pub public_key: String,
    pub ledger_seq: i64,
}

/// A signed hand-over accepted at ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handover {
    pub id: i64,
    pub provider: String,
    /// The SHA-256 of the manifest, a stored document.
    pub manifest: String,
    pub public_key: String,
    pub signature: String,
    pub files: i64,
    pub quarantined: i64,
    pub ledger_seq: i64,
}

/// An evidence document of a provider (Q9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub id: i64,
    pub provider: String,
    pub kind: EvidenceKind,
    pub document: String,
    pub size: i64,
    pub file_name: String,
    pub note: Option<String>,
    pub ledger_seq: i64,
}

/// A lock: the hash of what was fixed (the protocol, later the dataset and the reference).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lock {
    pub id: i64,
    pub kind: String,
    pub sha256: String,
    pub document: Option<String>,
    pub ledger_seq: i64,
}

/// A recorded change to something locked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Amendment {
    pub id: i64,
    pub lock_kind: String,
    pub old_sha256: String,
    pub new_sha256: String,
    pub reason: String,
    pub document: Option<String>,
    pub ledger_seq: i64,
    /// The reason in English, when given besides the text as written.
    pub reason_en: Option<String>,
}

impl Tx<'_> {
    pub fn provider_id(&self, name: &str) -> Result<Option<i64>, StoreError> {
        use crate::db::OptionalExtension;
        self.sql()
            .query_row(
                "SELECT id FROM providers WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn insert_provider(&mut self, provider: &NewProvider) -> Result<i64, StoreError> {
        if self.provider_id(&provider.name)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "provider `{}` is already registered",
                provider.name
            )));
        }
        let seq = self.pending_seq();
        self.sql()
            .insert_returning_id(
                "INSERT INTO providers (name, kind, consent_model, legal_basis, regulator_access, ledger_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![provider.name, Spelled(provider.kind), Spelled(provider.consent_model), provider.legal_basis, Spelled(provider.regulator_access), seq],
            )
            .map_err(|e| self.err(e))
    }

    /// Registers `public_key` as a signing key of the provider; `false` when it already is.
    pub fn insert_provider_key(
        &mut self,
        provider_id: i64,
        public_key: &str,
    ) -> Result<bool, StoreError> {
        use crate::db::OptionalExtension;
        let known: Option<i64> = self
            .sql()
            .query_row(
                "SELECT id FROM provider_keys WHERE provider_id = ?1 AND public_key = ?2",
                params![provider_id, public_key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if known.is_some() {
            return Ok(false);
        }
        let seq = self.pending_seq();
        self.sql()
            .execute(
                "INSERT INTO provider_keys (provider_id, public_key, ledger_seq) VALUES (?1, ?2, ?3)",
                params![provider_id, public_key, seq],
            )
            .map_err(|e| self.err(e))?;
        Ok(true)
    }

    /// Records an accepted hand-over; `false` when its manifest was accepted before (a rerun).
    pub fn insert_handover(
        &mut self,
        provider_id: i64,
        manifest: &str,
        public_key: &str,
        signature: &str,
        files: i64,
        quarantined: i64,
    ) -> Result<bool, StoreError> {
        use crate::db::OptionalExtension;
        let known: Option<i64> = self
            .sql()
            .query_row(
                "SELECT id FROM handovers WHERE manifest = ?1",
                params![manifest],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if known.is_some() {
            return Ok(false);
        }
        let seq = self.pending_seq();
        self.sql()
            .execute(
                "INSERT INTO handovers (provider_id, manifest, public_key, signature, files, quarantined, ledger_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![provider_id, manifest, public_key, signature, files, quarantined, seq],
            )
            .map_err(|e| self.err(e))?;
        Ok(true)
    }

    pub fn insert_evidence(
        &mut self,
        provider_id: i64,
        kind: EvidenceKind,
        document: &str,
        file_name: &str,
        note: Option<&str>,
    ) -> Result<i64, StoreError> {
        let seq = self.pending_seq();
        self.sql()
            .insert_returning_id(
                "INSERT INTO evidence (provider_id, kind, document, file_name, note, ledger_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![provider_id, Spelled(kind), document, file_name, note, seq],
            )
            .map_err(|e| self.err(e))
    }

    pub fn insert_lock(
        &mut self,
        kind: &str,
        sha256: &str,
        document: Option<&str>,
    ) -> Result<i64, StoreError> {
        let seq = self.pending_seq();
        self.sql()
            .insert_returning_id(
                "INSERT INTO locks (kind, sha256, document, ledger_seq) VALUES (?1, ?2, ?3, ?4)",
                params![kind, sha256, document, seq],
            )
            .map_err(|e| self.err(e))
    }

    /// Records a protocol deviation; `case_ids` space-separated (empty: the study as a whole).
    pub fn insert_deviation(
        &mut self,
        description: &str,
        description_en: Option<&str>,
        case_ids: &[String],
    ) -> Result<i64, StoreError> {
        let seq = self.pending_seq();
        self.sql()
            .insert_returning_id(
                "INSERT INTO deviations (description, description_en, case_ids, ledger_seq) VALUES (?1, ?2, ?3, ?4)",
                params![description, description_en, case_ids.join(" "), seq],
            )
            .map_err(|e| self.err(e))
    }

    pub fn insert_amendment(
        &mut self,
        lock_kind: &str,
        old_sha256: &str,
        new_sha256: &str,
        reason: &str,
        reason_en: Option<&str>,
        document: Option<&str>,
    ) -> Result<i64, StoreError> {
        let seq = self.pending_seq();
        self.sql()
            .insert_returning_id(
                "INSERT INTO amendments (lock_kind, old_sha256, new_sha256, reason, document, ledger_seq, reason_en) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![lock_kind, old_sha256, new_sha256, reason, document, seq, reason_en],
            )
            .map_err(|e| self.err(e))
    }

    /// The lock of `kind`, read inside the transaction (so two commands cannot both lock).
    pub fn lock(&self, kind: &str) -> Result<Option<Lock>, StoreError> {
        query_lock(self.sql(), kind).map_err(|e| self.err(e))
    }

    /// Hash of `kind`'s content in force: the last amendment's, else the lock's.
    pub fn locked_hash(&self, kind: &str) -> Result<Option<String>, StoreError> {
        query_locked_hash(self.sql(), kind).map_err(|e| self.err(e))
    }
}

/// A protocol deviation the study team recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deviation {
    pub id: i64,
    pub description: String,
    pub description_en: Option<String>,
    /// The cases it concerns (empty: the study as a whole).
    pub case_ids: Vec<String>,
    pub ledger_seq: i64,
}

impl Store {
    pub fn deviations(&self) -> Result<Vec<Deviation>, StoreError> {
        self.all(
            "SELECT id, description, description_en, case_ids, ledger_seq FROM deviations ORDER BY id",
            |r| {
                Ok(Deviation {
                    id: r.get(0)?,
                    description: r.get(1)?,
                    description_en: r.get(2)?,
                    case_ids: r
                        .get::<String>(3)?
                        .split(' ')
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    ledger_seq: r.get(4)?,
                })
            },
        )
    }

    pub fn providers(&self) -> Result<Vec<Provider>, StoreError> {
        let mut statement = self
            .conn()
            .prepare("SELECT id, name, kind, consent_model, legal_basis, regulator_access, ledger_seq FROM providers ORDER BY id")
            .map_err(|e| self.err(e))?;
        statement
            .query_map(params![], |r| {
                Ok(Provider {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    kind: word(r, "providers", 2)?,
                    consent_model: word(r, "providers", 3)?,
                    legal_basis: r.get(4)?,
                    regulator_access: word(r, "providers", 5)?,
                    ledger_seq: r.get(6)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// Every provider's registered signing keys, in the order registered.
    pub fn provider_keys(&self) -> Result<Vec<ProviderKey>, StoreError> {
        let mut statement = self
            .conn()
            .prepare(
                "SELECT p.name, k.public_key, k.ledger_seq FROM provider_keys k
                 JOIN providers p ON p.id = k.provider_id ORDER BY k.id",
            )
            .map_err(|e| self.err(e))?;
        statement
            .query_map(params![], |r| {
                Ok(ProviderKey {
                    provider: r.get(0)?,
                    public_key: r.get(1)?,
                    ledger_seq: r.get(2)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// Every accepted hand-over, in the order accepted.
    pub fn handovers(&self) -> Result<Vec<Handover>, StoreError> {
        let mut statement = self
            .conn()
            .prepare(
                "SELECT h.id, p.name, h.manifest, h.public_key, h.signature, h.files, h.quarantined, h.ledger_seq
                 FROM handovers h JOIN providers p ON p.id = h.provider_id ORDER BY h.id",
            )
            .map_err(|e| self.err(e))?;
        statement
            .query_map(params![], |r| {
                Ok(Handover {
                    id: r.get(0)?,
                    provider: r.get(1)?,
                    manifest: r.get(2)?,
                    public_key: r.get(3)?,
                    signature: r.get(4)?,
                    files: r.get(5)?,
                    quarantined: r.get(6)?,
                    ledger_seq: r.get(7)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    pub fn evidence(&self) -> Result<Vec<Evidence>, StoreError> {
        let mut statement = self
            .conn()
            .prepare(
                "SELECT e.id, p.name, e.kind, e.document, d.size, e.file_name, e.note, e.ledger_seq
                 FROM evidence e JOIN providers p ON p.id = e.provider_id JOIN documents d ON d.sha256 = e.document
                 ORDER BY e.id",
            )
            .map_err(|e| self.err(e))?;
        statement
            .query_map(params![], |r| {
                Ok(Evidence {
                    id: r.get(0)?,
                    provider: r.get(1)?,
                    kind: word(r, "evidence", 2)?,
                    document: r.get(3)?,
                    size: r.get(4)?,
                    file_name: r.get(5)?,
                    note: r.get(6)?,
                    ledger_seq: r.get(7)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    pub fn lock(&self, kind: &str) -> Result<Option<Lock>, StoreError> {
        query_lock(self.conn(), kind).map_err(|e| self.err(e))
    }

    pub fn locked_hash(&self, kind: &str) -> Result<Option<String>, StoreError> {
        query_locked_hash(self.conn(), kind).map_err(|e| self.err(e))
    }

    pub fn amendments(&self) -> Result<Vec<Amendment>, StoreError> {
        let mut statement = self
            .conn()
            .prepare("SELECT id, lock_kind, old_sha256, new_sha256, reason, document, ledger_seq, reason_en FROM amendments ORDER BY id")
            .map_err(|e| self.err(e))?;
        statement
            .query_map(params![], |r| {
                Ok(Amendment {
                    id: r.get(0)?,
                    lock_kind: r.get(1)?,
                    old_sha256: r.get(2)?,
                    new_sha256: r.get(3)?,
                    reason: r.get(4)?,
                    document: r.get(5)?,
                    ledger_seq: r.get(6)?,
                    reason_en: r.get(7)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }
}

fn query_lock(conn: &crate::db::Db, kind: &str) -> crate::db::Result<Option<Lock>> {
    use crate::db::OptionalExtension;
    conn.query_row(
        "SELECT id, kind, sha256, document, ledger_seq FROM locks WHERE kind = ?1 ORDER BY id LIMIT 1",
        params![kind],
        |r| {
            Ok(Lock {
                id: r.get(0)?,
                kind: r.get(1)?,
                sha256: r.get(2)?,
                document: r.get(3)?,
                ledger_seq: r.get(4)?,
            })
        },
    )
    .optional()
}

fn query_locked_hash(conn: &crate::db::Db, kind: &str) -> crate::db::Result<Option<String>> {
    use crate::db::OptionalExtension;
    let amended: Option<String> = conn
        .query_row(
            "SELECT new_sha256 FROM amendments WHERE lock_kind = ?1 ORDER BY id DESC LIMIT 1",
            params![kind],
            |r| r.get(0),
        )
        .optional()?;
    match amended {
        Some(hash) => Ok(Some(hash)),
        None => Ok(query_lock(conn, kind)?.map(|lock| lock.sha256)),
    }
}
