//! A file sealed with a passphrase: Argon2id (RFC 9106; m = 64 MiB, t = 3, p = 1) derives the
//! key, XChaCha20-Poly1305 encrypts and authenticates the contents with the format tag as
//! associated data. A wrong passphrase or a changed byte fails to open; nothing is half-read.
//! The correspondence table (対応表) is kept this way at the hospital.

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

/// Seals `plaintext` under `passphrase` and writes it to `path` atomically: a temporary file in
/// the same folder, synced, then renamed over the old one, so a kill leaves the old file or the
/// new one, never half of either.
pub fn write(
    path: &Path,
    format: &str,
    passphrase: &str,
    plaintext: &[u8],
) -> Result<(), AppError> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    crate::access::fill_random(&mut salt)?;
    crate::access::fill_random(&mut nonce)?;
    let key = derive(passphrase, &salt, MEMORY_KIB, ITERATIONS, 1)?;
    let cipher = XChaCha20Poly1305::new_from_slice(&key).expect("a 32-byte key");
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
        kdf_memory_kib: MEMORY_KIB,
        kdf_iterations: ITERATIONS,
        kdf_parallelism: 1,
        salt: hex(&salt),
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

/// Opens the sealed file at `path`; `what` names it in errors.
pub fn read(path: &Path, format: &str, passphrase: &str, what: &str) -> Result<Vec<u8>, AppError> {
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
    let key = derive(
        passphrase,
        &salt,
        envelope.kdf_memory_kib,
        envelope.kdf_iterations,
        envelope.kdf_parallelism,
    )?;
    let cipher = XChaCha20Poly1305::new_from_slice(&key).expect("a 32-byte key");
    cipher
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
        })
}

fn hex(bytes: &[u8]) -> String {
    kizon_store::ledger::hex(bytes)
}
