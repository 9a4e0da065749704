//! UIDs replaced deterministically (PS3.15 E.1.1 action U), keyed by the hospital's secret.
//!
//! The new UID is `2.25.` followed by the decimal value of the first 128 bits of
//! HMAC-SHA256(secret, "kizon-uid-v1" ‖ 0 ‖ original) (PS3.5 B.2: a UID under the 2.25 root is
//! an integer of at most 128 bits; the HMAC is RFC 2104). The same original gives the same
//! replacement in every file and every run with the same secret, so Study, Series, Frame of
//! Reference and referenced SOP Instance UIDs keep pointing at each other; without the secret,
//! which never leaves the hospital's correspondence table, the original cannot be recovered or
//! confirmed by guessing.

use sha2::{Digest, Sha256};

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in message {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The replacement of `original` (trimmed of its padding) under `secret`.
pub fn replace_uid(secret: &[u8], original: &str) -> String {
    let mac = hmac_sha256(
        secret,
        &[
            b"kizon-uid-v1\0",
            original.trim_end_matches(['\0', ' ']).as_bytes(),
        ],
    );
    let value = u128::from_be_bytes(mac[..16].try_into().expect("16 bytes"));
    format!("2.25.{value}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc_4231_test_cases_1_and_6() {
        assert_eq!(
            hex(&hmac_sha256(&[0x0b; 20], &[b"Hi There"])),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn replacements_are_stable_valid_and_keyed() {
        let a = replace_uid(b"secret one", "1.2.840.113619.2.1.1.1\0");
        assert_eq!(a, replace_uid(b"secret one", "1.2.840.113619.2.1.1.1"));
        assert_ne!(a, replace_uid(b"secret two", "1.2.840.113619.2.1.1.1"));
        assert_ne!(a, replace_uid(b"secret one", "1.2.840.113619.2.1.1.2"));
        assert!(a.starts_with("2.25.") && a.len() <= 64, "{a}");
        let digits = &a[5..];
        assert!(digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0'));
    }
}
