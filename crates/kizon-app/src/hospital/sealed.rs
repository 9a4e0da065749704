//! A file sealed with a passphrase: Argon2id (RFC 9106; m = 64 MiB, t = 3, p = 1) derives the
//! key, XChaCha20-Poly1305 encrypts and authenticates the contents with the format tag as
//! associated data. A wrong passphrase or a changed byte fails to open; nothing is half-read.
//! The correspondence table (対応表) is kept this way at the hospital.
//!
//! Opening a file gives its [`SealingKey`] too, so that the same command seals it again without
//! a second derivation (a tenth of a second each, serial, in every `kizon deidentify`): the salt
//! stays, the 192-bit nonce is drawn afresh for every sealing, as XChaCha20 allows.

use std::fs;
use std::io::Write;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::error::io;
use crate::owner_key::{derive, unhex};

const MEMORY_KIB: u32 = 64 * 1024;
const ITERATIONS: u32 = 3;

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    format: String,
    kdf: String,
    kdf_memory_kib: u32,
    kdf_iterations: u32,
    kdf_parallelism: u32,
    salt: String,
    cipher: String,
    nonce: String,
    ciphertext: String,
}

/// A key derived from a passphrase, with the salt and parameters it was derived with.
#[derive(Clone)]
pub struct SealingKey {
    salt: Vec<u8>,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    key: [u8; 32],
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)") // never the key
    }
}

impl SealingKey {
    /// A key for a new file: a fresh salt, the default parameters.
    pub fn new(passphrase: &str) -> Result<SealingKey, AppError> {
        let mut salt = [0u8; 16];
        crate::access::fill_random(&mut salt)?;
        Ok(SealingKey {
            key: derive(passphrase, &salt, MEMORY_KIB, ITERATIONS, 1)?,
            salt: salt.to_vec(),
            memory_kib: MEMORY_KIB,
            iterations: ITERATIONS,
            parallelism: 1,
        })
    }
}

/// Seals `plaintext` under `passphrase` (a fresh salt) and writes it to `path` atomically.
pub fn write(
    path: &Path,
    format: &str,
    passphrase: &str,
    plaintext: &[u8],
) -> Result<(), AppError> {
    write_with(path, format, &SealingKey::new(passphrase)?, plaintext)
}

/// Seals `plaintext` with `key` (a fresh nonce) and writes it to `path` atomically: a temporary
/// file in the same folder, synced, then renamed over the old one, so a kill leaves the old file
/// or the new one, never half of either.
pub fn write_with(
    path: &Path,
    format: &str,
    key: &SealingKey,
    plaintext: &[u8],
) -> Result<(), AppError> {
    let mut nonce = [0u8; 24];
    crate::access::fill_random(&mut nonce)?;
    let cipher = XChaCha20Poly1305::new_from_slice(&key.key).expect("a 32-byte key");
    let ciphertext = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: format.as_bytes(),
            },
        )
        .map_err(|_| AppError::Refused {
            what: format!("{}: the contents could not be encrypted", path.display()),
            hint: "report this as a defect of kizon".into(),
        })?;
    let envelope = Envelope {
        format: format.into(),
        kdf: "argon2id".into(),
        kdf_memory_kib: key.memory_kib,
        kdf_iterations: key.iterations,
        kdf_parallelism: key.parallelism,
        salt: hex(&key.salt),
        cipher: "xchacha20poly1305".into(),
        nonce: hex(&nonce),
        ciphertext: hex(&ciphertext),
    };
    let mut bytes = serde_json::to_vec_pretty(&envelope).expect("an envelope serialises");
    bytes.push(b'\n');
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    let tmp = parent.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .map_or("sealed".into(), |n| n.to_string_lossy()),
        std::process::id()
    ));
    {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut out = options.open(&tmp).map_err(io(&tmp))?;
        out.write_all(&bytes)
            .and_then(|()| out.sync_all())
            .map_err(io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io(path))?;
    if let Ok(dir) = fs::File::open(parent) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Opens the sealed file at `path`; `what` names it in errors. Returns the contents and the key
/// that opened them.
pub fn read(
    path: &Path,
    format: &str,
    passphrase: &str,
    what: &str,
) -> Result<(Vec<u8>, SealingKey), AppError> {
    let bytes = fs::read(path).map_err(io(path))?;
    let not_sealed = |why: &str| AppError::Refused {
        what: format!("{}: not {what}: {why}", path.display()),
        hint: "give the file kizon wrote (its first line is `{`, its format tag says what it is)"
            .into(),
    };
    let envelope: Envelope =
        serde_json::from_slice(&bytes).map_err(|e| not_sealed(&e.to_string()))?;
    if envelope.format != format
        || envelope.kdf != "argon2id"
        || envelope.cipher != "xchacha20poly1305"
    {
        return Err(not_sealed(&format!("format {}", envelope.format)));
    }
    if envelope.kdf_memory_kib > 4 * 1024 * 1024 || envelope.kdf_iterations > 64 {
        return Err(not_sealed("key derivation parameters out of range"));
    }
    let salt = unhex(&envelope.salt).ok_or_else(|| not_sealed("salt"))?;
    let nonce: [u8; 24] = unhex(&envelope.nonce)
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| not_sealed("nonce"))?;
    let ciphertext = unhex(&envelope.ciphertext).ok_or_else(|| not_sealed("ciphertext"))?;
    let key = SealingKey {
        key: derive(
            passphrase,
            &salt,
            envelope.kdf_memory_kib,
            envelope.kdf_iterations,
            envelope.kdf_parallelism,
        )?,
        salt,
        memory_kib: envelope.kdf_memory_kib,
        iterations: envelope.kdf_iterations,
        parallelism: envelope.kdf_parallelism,
    };
    let cipher = XChaCha20Poly1305::new_from_slice(&key.key).expect("a 32-byte key");
    let plain = cipher
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &ciphertext,
                aad: format.as_bytes(),
            },
        )
        .map_err(|_| AppError::Refused {
            what: format!(
                "{}: the passphrase does not open {what} (or the file was altered)",
                path.display()
            ),
            hint: "give the passphrase chosen when it was made; the file was not changed".into(),
        })?;
    Ok((plain, key))
}

fn hex(bytes: &[u8]) -> String {
    kizon_store::ledger::hex(bytes)
}
