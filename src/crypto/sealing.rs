//! Secrets at rest that cannot be kept as hashes because the server needs them back (a webhook
//! signing secret signs every delivery; a TOTP secret computes every code). They are encrypted
//! with ChaCha20-Poly1305 under a key derived from the server's signing key
//! (`KANRI_SIGNING_KEY`, or the data directory's on SQLite), one derived key per purpose, with
//! the owning row's identity as associated data so a ciphertext copied onto another row does
//! not decrypt.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::storage::signing::SigningKey;

/// Marks the format, so a later scheme can sit beside this one.
const VERSION: &str = "v1.";
const NONCE_BYTES: usize = 12;

#[derive(Clone)]
pub struct SealingCipher(ChaCha20Poly1305);

impl std::fmt::Debug for SealingCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingCipher([redacted])")
    }
}

impl SealingCipher {
    pub fn new(key: [u8; 32]) -> Self {
        Self(ChaCha20Poly1305::new(&Key::from(key)))
    }

    /// The cipher for one `purpose` (e.g. `b"kanri-totp-secrets-v1"`) under the signing key:
    /// two purposes never share a key.
    pub fn derived(key: &SigningKey, purpose: &[u8]) -> Self {
        Self::new(key.derive(purpose))
    }

    /// `v1.` + base64(nonce ‖ ciphertext) of `secret`, bound to `owner`.
    pub fn seal(&self, owner: &str, secret: &[u8]) -> String {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let payload = Payload {
            msg: secret,
            aad: owner.as_bytes(),
        };
        let sealed = self
            .0
            .encrypt(&Nonce::from(nonce), payload)
            .expect("encrypting a short secret cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION}{}", STANDARD.encode(out))
    }

    /// The secret sealed for `owner`; `None` if it was tampered with, sealed for another row,
    /// or sealed under another key (the signing key changed).
    pub fn open(&self, owner: &str, text: &str) -> Option<Vec<u8>> {
        let raw = STANDARD.decode(text.strip_prefix(VERSION)?).ok()?;
        if raw.len() <= NONCE_BYTES {
            return None;
        }
        let (nonce, sealed) = raw.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: sealed,
            aad: owner.as_bytes(),
        };
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        self.0.decrypt(&Nonce::from(nonce), payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_for_its_owner_and_key() {
        let cipher = SealingCipher::new([7; 32]);
        let secret = b"a secret of some length";
        let sealed = cipher.seal("row1", secret);
        assert!(!sealed.contains("secret"));
        assert_eq!(cipher.open("row1", &sealed).unwrap(), secret);
        assert!(cipher.open("row2", &sealed).is_none());
        assert!(SealingCipher::new([8; 32]).open("row1", &sealed).is_none());
        assert!(cipher.open("row1", "v1.AAAA").is_none());
        assert!(cipher.open("row1", "garbage").is_none());
        // A fresh nonce each time.
        assert_ne!(cipher.seal("row1", secret), sealed);
    }

    #[test]
    fn purposes_get_their_own_keys() {
        let key = SigningKey::new("k".repeat(40));
        let sealed = SealingCipher::derived(&key, b"one").seal("row", b"x");
        assert!(
            SealingCipher::derived(&key, b"two")
                .open("row", &sealed)
                .is_none()
        );
        assert!(
            SealingCipher::derived(&key, b"one")
                .open("row", &sealed)
                .is_some()
        );
    }
}
