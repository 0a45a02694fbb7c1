//! Webhook signing secrets at rest: they sign every delivery, so unlike API keys they cannot be
//! kept as hashes. Sealed by the shared [`SealingCipher`] (`crypto/sealing.rs`) under the
//! webhook purpose's derived key, with the endpoint id as associated data.

use super::signing::WebhookSecret;
use crate::crypto::SealingCipher;
use crate::storage::signing::SigningKey;

#[derive(Clone, Debug)]
pub struct SecretCipher(SealingCipher);

impl SecretCipher {
    pub fn new(key: [u8; 32]) -> Self {
        Self(SealingCipher::new(key))
    }

    pub fn from_signing_key(key: &SigningKey) -> Self {
        Self(SealingCipher::derived(key, b"kanri-webhook-secrets-v1"))
    }

    /// `v1.` + base64(nonce ‖ ciphertext) of `secret`, bound to `endpoint_id`.
    pub fn seal(&self, endpoint_id: &str, secret: &WebhookSecret) -> String {
        self.0.seal(endpoint_id, secret.bytes())
    }

    /// The secret sealed for `endpoint_id`; `None` if it was tampered with, sealed for another
    /// row, or sealed under another key (the signing key changed).
    pub fn open(&self, endpoint_id: &str, text: &str) -> Option<WebhookSecret> {
        self.0
            .open(endpoint_id, text)
            .map(WebhookSecret::from_bytes)
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
    }
}
