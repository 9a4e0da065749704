//! Data providers (Q3) and the evidence documents that explain their consent (Q6, Q9).

use std::path::Path;

pub use kizon_rules::{ConsentModel, EvidenceKind, ProviderKind, RegulatorAccess};
use kizon_store::{Evidence, NewProvider, Provider};
use serde_json::json;

use crate::{AppError, Study};

/// A provider to register, as the user gives it.
#[derive(Debug, Clone)]
pub struct ProviderInput {
    pub name: String,
    pub kind: ProviderKind,
    pub consent_model: ConsentModel,
    pub legal_basis: String,
    pub regulator_access: RegulatorAccess,
    /// The provider's signing key (64 hex digits), when it signs its hand-overs.
    pub public_key: Option<String>,
}

impl Study {
    pub fn add_provider(
        &mut self,
        actor: &str,
        input: &ProviderInput,
    ) -> Result<Provider, AppError> {
        let name = crate::text::name("the provider name", &input.name)?;
        crate::text::name(
            &format!("provider `{name}`: the legal basis"),
            &input.legal_basis,
        )?;
        if name.is_empty() {
            return Err(AppError::Refused {
                what: "the provider name is empty".into(),
                hint: "name the hospital, biobank or database, e.g. `kizon provider add \"Hospital A\" ...`".into(),
            });
        }
        if input.legal_basis.trim().is_empty() {
            return Err(AppError::Refused {
                what: format!("provider `{name}`: no legal basis for providing the data"),
                hint: "say on what basis the data is provided (Q3, Q6), e.g. --legal-basis \"倫理指針に基づくオプトアウト\"".into(),
            });
        }
        let new = NewProvider {
            name: name.to_owned(),
            kind: input.kind,
            consent_model: input.consent_model,
            legal_basis: input.legal_basis.trim().to_owned(),
            regulator_access: input.regulator_access,
        };
        let public_key = input
            .public_key
            .as_deref()
            .map(|key| crate::owner_key::read_public_key(key).map_err(not_a_provider_key(key)))
            .transpose()?;
        self.store.transact(actor, |tx| {
            let id = tx.insert_provider(&new)?;
            if let Some(key) = &public_key {
                tx.insert_provider_key(id, key)?;
            }
            tx.record(
                "provider add",
                &format!(
                    "provider `{}` added ({}, {}){}",
                    new.name,
                    new.kind,
                    new.consent_model,
                    if public_key.is_some() {
                        ", with its signing key"
                    } else {
                        ""
                    }
                ),
                json!({ "provider": &new, "public_key": public_key }),
            )
        })?;
        Ok(self
            .store
            .providers()?
            .into_iter()
            .find(|p| p.name == new.name)
            .expect("provider just added"))
    }

    /// Registers a signing key of `provider` (its hand-overs are then checked against it, and
    /// nothing unsigned from it is ingested). `given` is a `.pub` file or the 64 hex digits.
    pub fn add_provider_key(
        &mut self,
        actor: &str,
        provider: &str,
        given: &str,
    ) -> Result<String, AppError> {
        self.known_provider(provider)?;
        let key = crate::owner_key::read_public_key(given).map_err(not_a_provider_key(given))?;
        self.store.transact(actor, |tx| {
            let id = tx
                .provider_id(provider)?
                .expect("a known provider has an id");
            if tx.insert_provider_key(id, &key)? {
                tx.record(
                    "provider key",
                    &format!(
                        "signing key {}… registered for provider `{provider}`",
                        &key[..16]
                    ),
                    json!({ "provider": provider, "public_key": key }),
                )?;
            } else {
                tx.abandon();
            }
            Ok(())
        })?;
        Ok(key)
    }

    /// Every provider's registered signing keys.
    pub fn provider_keys(&self) -> Result<Vec<kizon_store::ProviderKey>, AppError> {
        Ok(self.store.provider_keys()?)
    }

    /// Every signed hand-over accepted at ingest.
    pub fn handovers(&self) -> Result<Vec<kizon_store::Handover>, AppError> {
        Ok(self.store.handovers()?)
    }

    pub fn providers(&self) -> Result<Vec<Provider>, AppError> {
        Ok(self.store.providers()?)
    }

    /// Stores `file` by its hash and registers it as `kind` evidence of `provider`.
    pub fn add_evidence(
        &mut self,
        actor: &str,
        provider: &str,
        kind: EvidenceKind,
        file: &Path,
        note: Option<&str>,
    ) -> Result<Evidence, AppError> {
        if !file.is_file() {
            return Err(AppError::Io {
                path: file.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        self.known_provider(provider)?;
        let file_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.display().to_string());
        self.record_evidence(actor, provider, kind, &file_name, note, |tx| {
            tx.put_document_file(file)
        })
    }

    /// Registers an uploaded document (the web workspace) as `kind` evidence of `provider`.
    pub fn add_evidence_bytes(
        &mut self,
        actor: &str,
        provider: &str,
        kind: EvidenceKind,
        file_name: &str,
        bytes: &[u8],
        note: Option<&str>,
    ) -> Result<Evidence, AppError> {
        // Only the last path component of what the browser sent, never a path.
        let file_name = file_name
            .rsplit(['/', '\\'])
            .next()
            .filter(|n| !n.trim().is_empty() && *n != "." && *n != "..")
            .unwrap_or("upload");
        self.known_provider(provider)?;
        self.record_evidence(actor, provider, kind, file_name, note, |tx| {
            tx.put_document_bytes(bytes)
        })
    }

    fn known_provider(&self, provider: &str) -> Result<(), AppError> {
        let known: Vec<String> = self
            .store
            .providers()?
            .into_iter()
            .map(|p| p.name)
            .collect();
        if known.iter().any(|k| k == provider) {
            return Ok(());
        }
        Err(AppError::UnknownProvider {
            name: provider.to_owned(),
            known,
        })
    }

    fn record_evidence(
        &mut self,
        actor: &str,
        provider: &str,
        kind: EvidenceKind,
        file_name: &str,
        note: Option<&str>,
        put: impl FnOnce(
            &mut kizon_store::Tx<'_>,
        ) -> Result<kizon_store::StoredDocument, kizon_store::StoreError>,
    ) -> Result<Evidence, AppError> {
        crate::text::name("the evidence file name", file_name)?;
        if let Some(note) = note {
            crate::text::name("the evidence note", note)?;
        }
        let id = self.store.transact(actor, |tx| {
            let provider_id = tx.provider_id(provider)?.expect("checked above");
            let document = put(tx)?;
            let id = tx.insert_evidence(provider_id, kind, &document.sha256, file_name, note)?;
            tx.record(
                "evidence add",
                &format!("{} for `{provider}`: {file_name}", kind.as_str()),
                json!({
                    "provider": provider,
                    "kind": kind.as_str(),
                    "file_name": file_name,
                    "sha256": document.sha256,
                    "size": document.size,
                    "note": note,
                }),
            )?;
            Ok(id)
        })?;
        Ok(self
            .store
            .evidence()?
            .into_iter()
            .find(|e| e.id == id)
            .expect("evidence just added"))
    }

    pub fn evidence(&self) -> Result<Vec<Evidence>, AppError> {
        Ok(self.store.evidence()?)
    }
}

/// The error for a `--public-key` that is not a provider's public key.
fn not_a_provider_key(given: &str) -> impl FnOnce(AppError) -> AppError + '_ {
    move |_| AppError::Refused {
        what: format!(
            "{given}: not a provider's public key (a .pub file from `kizon provider keygen`, or 64 hex digits)"
        ),
        hint:
            "give the PREFIX.pub file the hospital made with `kizon provider keygen --out PREFIX`"
                .into(),
    }
}
