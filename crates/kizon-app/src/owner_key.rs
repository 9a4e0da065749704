//! The study owner's signing key: an Ed25519 key kept outside the study folder, encrypted with a
//! passphrase, that signs each lock, amendment, analysis and package entry of the ledger.
//!
//! The hash chain alone shows that nothing was changed *unless the whole chain was recomputed*;
//! anyone with write access to `kizon.sqlite` can recompute it. A signature over an entry's
//! sequence number and hash ("checkpoint") cannot be recomputed without the private key, so
//! rewriting history up to a signed checkpoint needs the key (see ARCHITECTURE.md, threat model).
//!
//! Key file (JSON, `kizon-owner-key-v1`): the public key, and the 32-byte Ed25519 secret
//! encrypted with XChaCha20-Poly1305 (the public key as associated data) under a key derived
//! from the passphrase by Argon2id (RFC 9106; m = 19 MiB, t = 2, p = 1, as OWASP advises, 16-byte random salt).
//! Keys live in `$KIZON_HOME/keys/` (default `~/.kizon/keys/`), named by the first 16 hex digits
//! of the public key; `KIZON_OWNER_KEY` names another file. The passphrase comes from
//! `KIZON_PASSPHRASE` or is asked on the terminal, never from the command line.

use std::fs;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::error::io;

/// The key file's format tag.
pub const FORMAT: &str = "kizon-owner-key-v1";

/// Whose key a key file holds: the same file format (Argon2id, XChaCha20-Poly1305, Ed25519)
/// under its own format tag, so that one key is never taken for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// The study owner's key, signing ledger checkpoints (`kizon init`, `kizon owner-key`).
    Owner,
    /// A data provider's key, signing its hand-overs (`kizon provider keygen`, at the hospital).
    Provider,
}

impl KeyPurpose {
    fn format(self) -> &'static str {
        match self {
            KeyPurpose::Owner => FORMAT,
            KeyPurpose::Provider => "kizon-provider-key-v1",
        }
    }

    fn what(self) -> &'static str {
        match self {
            KeyPurpose::Owner => "the owner's key",
            KeyPurpose::Provider => "the provider's signing key",
        }
    }

    fn made_by(self) -> &'static str {
        match self {
            KeyPurpose::Owner => {
                "give the file written by `kizon init` or `kizon owner-key create`"
            }
            KeyPurpose::Provider => "give the PREFIX.key file written by `kizon provider keygen`",
        }
    }
}
/// The environment variable that holds the passphrase (for scripts and tests).
pub const PASSPHRASE_ENV: &str = "KIZON_PASSPHRASE";
/// The environment variable that names a key file outside the key ring.
pub const KEY_FILE_ENV: &str = "KIZON_OWNER_KEY";
/// The ledger commands whose entries the owner signs.
pub const SIGNED_COMMANDS: &[&str] = &[
    "owner key",
    "lock protocol",
    "amend",
    "lock dataset",
    "amend dataset",
    "lock reference",
    "analyze",
    "package",
];

const MIN_PASSPHRASE_CHARS: usize = 8;
const KDF_MEMORY_KIB: u32 = 19 * 1024;
const KDF_ITERATIONS: u32 = 2;

/// The key file as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyFile {
    format: String,
    public_key: String,
    kdf: String,
    kdf_memory_kib: u32,
    kdf_iterations: u32,
    kdf_parallelism: u32,
    salt: String,
    cipher: String,
    nonce: String,
    ciphertext: String,
}

/// An unlocked owner's key.
#[derive(Clone)]
pub struct OwnerKey {
    signing: SigningKey,
}

impl std::fmt::Debug for OwnerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OwnerKey({})", self.public_hex())
    }
}

impl OwnerKey {
    /// A new random key.
    pub fn generate() -> Result<OwnerKey, AppError> {
        let mut seed = [0u8; 32];
        crate::access::fill_random(&mut seed)?;
        Ok(OwnerKey {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// The public key, 64 hex digits.
    pub fn public_hex(&self) -> String {
        hex(&self.signing.verifying_key().to_bytes())
    }

    /// Signs the checkpoint of ledger entry `seq` with hash `hash`: 128 hex digits.
    pub fn sign_checkpoint(&self, seq: i64, hash: &str) -> String {
        let message = checkpoint_message(&self.public_hex(), seq, hash);
        hex(&self.signing.sign(message.as_bytes()).to_bytes())
    }

    /// Signs `message`: 128 hex digits.
    pub fn sign_bytes(&self, message: &[u8]) -> String {
        hex(&self.signing.sign(message).to_bytes())
    }

    /// Writes the key to `path` (a new file, owner-only), encrypted with `passphrase`.
    pub fn save(&self, path: &Path, passphrase: &str) -> Result<(), AppError> {
        self.save_for(path, passphrase, KeyPurpose::Owner)
    }

    /// Writes the key to `path` as a key of `purpose`.
    pub fn save_for(
        &self,
        path: &Path,
        passphrase: &str,
        purpose: KeyPurpose,
    ) -> Result<(), AppError> {
        if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(AppError::Refused {
                what: format!(
                    "the passphrase for {} is shorter than {MIN_PASSPHRASE_CHARS} characters",
                    purpose.what()
                ),
                hint: format!("choose a longer passphrase (in {PASSPHRASE_ENV} or at the prompt)"),
            });
        }
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 24];
        crate::access::fill_random(&mut salt)?;
        crate::access::fill_random(&mut nonce)?;
        let public = self.public_hex();
        let key = derive(passphrase, &salt, KDF_MEMORY_KIB, KDF_ITERATIONS, 1)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&key).expect("a 32-byte key");
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &self.signing.to_bytes(),
                    aad: public.as_bytes(),
                },
            )
            .expect("encryption of 32 bytes cannot fail");
        let file = KeyFile {
            format: purpose.format().into(),
            public_key: public,
            kdf: "argon2id".into(),
            kdf_memory_kib: KDF_MEMORY_KIB,
            kdf_iterations: KDF_ITERATIONS,
            kdf_parallelism: 1,
            salt: hex(&salt),
            cipher: "xchacha20poly1305".into(),
            nonce: hex(&nonce),
            ciphertext: hex(&ciphertext),
        };
        let mut bytes = serde_json::to_vec_pretty(&file).expect("key file serialises");
        bytes.push(b'\n');
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        // Written under a temporary name and renamed: a killed command leaves no half key.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        {
            use std::io::Write;
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut out = options.open(&tmp).map_err(io(&tmp))?;
            out.write_all(&bytes)
                .and_then(|()| out.sync_all())
                .map_err(io(&tmp))?;
        }
        if path.exists() {
            let _ = fs::remove_file(&tmp);
            return Err(AppError::Refused {
                what: format!("{}: a key file is already there", path.display()),
                hint: "keep the existing key; give another path".into(),
            });
        }
        fs::rename(&tmp, path).map_err(io(path))
    }

    /// Reads and decrypts the key file at `path`.
    pub fn unlock(path: &Path, passphrase: &str) -> Result<OwnerKey, AppError> {
        Self::unlock_for(path, passphrase, KeyPurpose::Owner)
    }

    /// Reads and decrypts the key file of `purpose` at `path`.
    pub fn unlock_for(
        path: &Path,
        passphrase: &str,
        purpose: KeyPurpose,
    ) -> Result<OwnerKey, AppError> {
        let bytes = fs::read(path).map_err(|e| AppError::Refused {
            what: format!("{}: {} cannot be read: {e}", path.display(), purpose.what()),
            hint: match purpose {
                KeyPurpose::Owner => format!(
                    "put the key file there, or name it with {KEY_FILE_ENV}=FILE (`kizon owner-key show` prints which key the study expects)"
                ),
                KeyPurpose::Provider => purpose.made_by().into(),
            },
        })?;
        let not_a_key = |why: String| AppError::Refused {
            what: format!("{}: not {}: {why}", path.display(), purpose.what()),
            hint: purpose.made_by().into(),
        };
        let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| not_a_key(e.to_string()))?;
        if file.format != purpose.format()
            || file.kdf != "argon2id"
            || file.cipher != "xchacha20poly1305"
        {
            return Err(not_a_key(format!("format {}", file.format)));
        }
        let salt = unhex(&file.salt).ok_or_else(|| not_a_key("salt".into()))?;
        let nonce: [u8; 24] = unhex(&file.nonce)
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| not_a_key("nonce".into()))?;
        let ciphertext = unhex(&file.ciphertext).ok_or_else(|| not_a_key("ciphertext".into()))?;
        if file.kdf_memory_kib > 4 * 1024 * 1024 || file.kdf_iterations > 64 {
            return Err(not_a_key("key derivation parameters out of range".into()));
        }
        let key = derive(
            passphrase,
            &salt,
            file.kdf_memory_kib,
            file.kdf_iterations,
            file.kdf_parallelism,
        )?;
        let cipher = XChaCha20Poly1305::new_from_slice(&key).expect("a 32-byte key");
        let secret = cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: file.public_key.as_bytes(),
                },
            )
            .map_err(|_| AppError::Refused {
                what: format!(
                    "{}: the passphrase does not open {}",
                    path.display(),
                    purpose.what()
                ),
                hint: format!("give the passphrase chosen when the key was made (in {PASSPHRASE_ENV} or at the prompt)"),
            })?;
        let seed: [u8; 32] = secret
            .try_into()
            .map_err(|_| not_a_key("secret length".into()))?;
        let key = OwnerKey {
            signing: SigningKey::from_bytes(&seed),
        };
        if key.public_hex() != file.public_key {
            return Err(not_a_key("its secret does not match its public key".into()));
        }
        Ok(key)
    }
}

/// The text an owner signs for ledger entry `seq` of the study with owner key `public_hex`.
pub fn checkpoint_message(public_hex: &str, seq: i64, hash: &str) -> String {
    format!("kizon-checkpoint-v1\n{public_hex}\n{seq}\n{hash}")
}

/// Whether `signature_hex` is a valid Ed25519 signature of `message` by `public_hex`
/// (strict verification: no malleable or small-order forms).
pub fn verify_bytes(public_hex: &str, message: &[u8], signature_hex: &str) -> bool {
    let Some(public) = unhex(public_hex).and_then(|b| <[u8; 32]>::try_from(b).ok()) else {
        return false;
    };
    let Some(signature) = unhex(signature_hex).and_then(|b| <[u8; 64]>::try_from(b).ok()) else {
        return false;
    };
    let Ok(verifying) = VerifyingKey::from_bytes(&public) else {
        return false;
    };
    verifying
        .verify_strict(message, &Signature::from_bytes(&signature))
        .is_ok()
}

/// Whether `signature_hex` is the owner's signature of entry `seq` with hash `hash`.
pub fn verify_checkpoint(public_hex: &str, seq: i64, hash: &str, signature_hex: &str) -> bool {
    let Some(public) = unhex(public_hex).and_then(|b| <[u8; 32]>::try_from(b).ok()) else {
        return false;
    };
    let Some(signature) = unhex(signature_hex).and_then(|b| <[u8; 64]>::try_from(b).ok()) else {
        return false;
    };
    let Ok(verifying) = VerifyingKey::from_bytes(&public) else {
        return false;
    };
    verifying
        .verify_strict(
            checkpoint_message(public_hex, seq, hash).as_bytes(),
            &Signature::from_bytes(&signature),
        )
        .is_ok()
}

/// Reads a public key given to `--public-key`: a key file (its `public_key`), a `.pub` file or
/// the 64 hex digits themselves.
pub fn read_public_key(given: &str) -> Result<String, AppError> {
    let path = Path::new(given);
    let text = if path.is_file() {
        fs::read_to_string(path).map_err(io(path))?
    } else {
        given.to_owned()
    };
    let candidate = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(value) => value
            .get("public_key")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned(),
        Err(_) => text.trim().trim_start_matches("ed25519:").to_owned(),
    };
    if candidate.len() == 64 && candidate.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(candidate.to_ascii_lowercase())
    } else {
        Err(AppError::Refused {
            what: format!(
                "{given}: not an owner's public key (64 hex digits, a .pub file or a key file)"
            ),
            hint: "give the key printed on the report's title page or by `kizon owner-key show`"
                .into(),
        })
    }
}

/// Where the owner's keys are kept: `$KIZON_HOME/keys`, by default `~/.kizon/keys`.
pub fn key_ring() -> PathBuf {
    let home = std::env::var_os("KIZON_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kizon")))
        .unwrap_or_else(|| PathBuf::from(".kizon"));
    home.join("keys")
}

/// The file that holds the key with public key `public_hex`: `KIZON_OWNER_KEY`, else the ring's.
pub fn key_path(public_hex: &str) -> PathBuf {
    match std::env::var_os(KEY_FILE_ENV) {
        Some(path) => PathBuf::from(path),
        None => key_ring().join(format!("{}.key", &public_hex[..16.min(public_hex.len())])),
    }
}

/// The passphrase: `KIZON_PASSPHRASE`, or asked on the terminal (twice when `confirm`).
pub fn passphrase(purpose: &str, confirm: bool) -> Result<String, AppError> {
    ask_passphrase(
        purpose,
        ("the owner's key", "署名鍵"),
        &[PASSPHRASE_ENV],
        confirm,
    )
}

/// A passphrase for `what` (English, Japanese): the first of `env` that is set, or asked on the
/// terminal (twice when `confirm`); never taken from the command line.
pub fn ask_passphrase(
    command: &str,
    what: (&str, &str),
    env: &[&str],
    confirm: bool,
) -> Result<String, AppError> {
    for name in env {
        if let Ok(value) = std::env::var(name) {
            return Ok(value);
        }
    }
    let (en, ja) = what;
    let no_terminal = || AppError::Refused {
        what: format!(
            "{command} needs the passphrase of {en}, and there is no terminal to ask it on"
        ),
        hint: format!(
            "set {} for scripts, or run the command in a terminal",
            env.first().copied().unwrap_or(PASSPHRASE_ENV)
        ),
    };
    let first = rpassword::prompt_password(format!(
        "{command}: passphrase of {en} / {ja}のパスフレーズ: "
    ))
    .map_err(|_| no_terminal())?;
    if confirm {
        let second = rpassword::prompt_password("again / 確認のためもう一度: ")
            .map_err(|_| no_terminal())?;
        if first != second {
            return Err(AppError::Refused {
                what: "the two passphrases differ".into(),
                hint: "run the command again and type the same passphrase twice".into(),
            });
        }
    }
    Ok(first)
}

pub(crate) fn derive(
    passphrase: &str,
    salt: &[u8],
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
) -> Result<[u8; 32], AppError> {
    let params =
        argon2::Params::new(memory_kib, iterations, parallelism, Some(32)).map_err(|e| {
            AppError::Refused {
                what: format!("the owner's key: key derivation parameters: {e}"),
                hint: "give the file written by `kizon init` or `kizon owner-key create`".into(),
            }
        })?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = [0u8; 32];
    argon
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|e| AppError::Refused {
            what: format!("the owner's key: key derivation failed: {e}"),
            hint: "give the file written by `kizon init` or `kizon owner-key create`".into(),
        })?;
    Ok(key)
}

fn hex(bytes: &[u8]) -> String {
    kizon_store::ledger::hex(bytes)
}

pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_key_opens_with_its_passphrase_only_and_signs_verifiably() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("owner.key");
        let key = OwnerKey::generate().unwrap();
        key.save(&path, "a long passphrase").unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&hex(&key.signing.to_bytes())));
        let opened = OwnerKey::unlock(&path, "a long passphrase").unwrap();
        assert_eq!(opened.public_hex(), key.public_hex());
        let error = OwnerKey::unlock(&path, "another passphrase").unwrap_err();
        assert!(error.to_string().contains("does not open"), "{error}");

        let hash = "ab".repeat(32);
        let signature = opened.sign_checkpoint(7, &hash);
        assert!(verify_checkpoint(&key.public_hex(), 7, &hash, &signature));
        assert!(!verify_checkpoint(&key.public_hex(), 8, &hash, &signature));
        assert!(!verify_checkpoint(
            &key.public_hex(),
            7,
            &"cd".repeat(32),
            &signature
        ));
        let other = OwnerKey::generate().unwrap();
        assert!(!verify_checkpoint(
            &other.public_hex(),
            7,
            &hash,
            &signature
        ));
        assert!(!verify_checkpoint(&key.public_hex(), 7, &hash, "00"));
    }

    #[test]
    fn short_passphrases_and_existing_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("owner.key");
        let key = OwnerKey::generate().unwrap();
        assert!(key.save(&path, "short").is_err());
        assert!(!path.exists());
        key.save(&path, "a long passphrase").unwrap();
        assert!(key.save(&path, "a long passphrase").is_err());
    }
}
