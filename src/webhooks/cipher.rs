//! Signing secrets at rest. They sign every delivery, so unlike API keys they cannot be kept as
//! hashes; they are encrypted with ChaCha20-Poly1305 under a key derived from the server's
//! signing key (`KANRI_SIGNING_KEY`, or the data directory's on SQLite), with the endpoint id
//! as associated data so a ciphertext copied onto another row does not decrypt. A database
//! dump alone therefore does not reveal them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use super::signing::WebhookSecret;
use crate::storage::signing::SigningKey;

/// Marks the format, so a later scheme can sit beside this one.
const VERSION: &str = "v1.";
const NONCE_BYTES: usize = 12;

#[derive(Clone)]
pub struct SecretCipher(ChaCha20Poly1305);

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretCipher([redacted])")
    }
}

impl SecretCipher {
    pub fn new(key: [u8; 32]) -> Self {
        Self(ChaCha20Poly1305::new(&Key::from(key)))
    }

    pub fn from_signing_key(key: &SigningKey) -> Self {
        Self::new(key.derive(b"kanri-webhook-secrets-v1"))
    }

    /// `v1.` + base64(nonce ‖ ciphertext) of `secret`, bound to `endpoint_id`.
    pub fn seal(&self, endpoint_id: &str, secret: &WebhookSecret) -> String {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let payload = Payload {
            msg: secret.bytes(),
            aad: endpoint_id.as_bytes(),
        };
        let sealed = self
            .0
            .encrypt(&Nonce::from(nonce), payload)
            .expect("encrypting a short secret cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION}{}", STANDARD.encode(out))
    }

    /// The secret sealed for `endpoint_id`; `None` if it was tampered with, sealed for another
    /// row, or sealed under another key (the signing key changed).
    pub fn open(&self, endpoint_id: &str, text: &str) -> Option<WebhookSecret> {
        let raw = STANDARD.decode(text.strip_prefix(VERSION)?).ok()?;
        if raw.len() <= NONCE_BYTES {
            return None;
        }
        let (nonce, sealed) = raw.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: sealed,
            aad: endpoint_id.as_bytes(),
        };
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        let key = self.0.decrypt(&Nonce::from(nonce), payload).ok()?;
        Some(WebhookSecret::from_bytes(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_for_its_row_and_key() {
        let cipher = SecretCipher::new([7; 32]);
        let secret = WebhookSecret::generate();
        let sealed = cipher.seal("ep1", &secret);
        assert!(!sealed.contains(&secret.reveal()[6..]));
        assert_eq!(cipher.open("ep1", &sealed).unwrap().bytes(), secret.bytes());
        assert!(cipher.open("ep2", &sealed).is_none());
        assert!(SecretCipher::new([8; 32]).open("ep1", &sealed).is_none());
        assert!(cipher.open("ep1", "v1.AAAA").is_none());
        assert!(cipher.open("ep1", "garbage").is_none());
        // A fresh nonce each time.
        assert_ne!(cipher.seal("ep1", &secret), sealed);
    }
}
