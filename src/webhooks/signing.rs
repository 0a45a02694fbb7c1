//! Standard Webhooks signatures: `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
//! where the key is the base64-decoded part of the `whsec_` secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::Secret;

const PREFIX: &str = "whsec_";
/// 24 random bytes: 192 bits, and a secret of 32 base64 characters without padding.
const KEY_BYTES: usize = 24;

/// An endpoint's signing key. `Debug` is redacted.
#[derive(Clone, Debug)]
pub struct WebhookSecret(Secret<Vec<u8>>);

impl WebhookSecret {
    pub fn generate() -> Self {
        Self(Secret::new(rand::random::<[u8; KEY_BYTES]>().to_vec()))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(Secret::new(bytes))
    }

    /// A `whsec_…` secret as shown to its owner.
    pub fn parse(text: &str) -> Option<Self> {
        let key = STANDARD.decode(text.strip_prefix(PREFIX)?).ok()?;
        (!key.is_empty()).then(|| Self::from_bytes(key))
    }

    pub fn bytes(&self) -> &[u8] {
        self.0.expose()
    }

    /// The secret as its owner sees it, once: `whsec_` + base64 of the key.
    pub fn reveal(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(self.0.expose()))
    }

    /// `v1,<base64 signature>` of one message.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.0.expose()).expect("HMAC takes any key length");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: one signature per key in force, space separated (during a
/// rotation the old and the new secret both sign).
pub fn signature_header(
    secrets: &[WebhookSecret],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| s.sign(msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_specs_published_test_vector() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            secret.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn generated_secrets_round_trip_and_rotation_signs_twice() {
        let a = WebhookSecret::generate();
        let text = a.reveal();
        assert!(text.starts_with("whsec_") && text.len() == 6 + 32, "{text}");
        let back = WebhookSecret::parse(&text).unwrap();
        assert_eq!(back.bytes(), a.bytes());
        assert!(!format!("{a:?}").contains(&text[6..]));
        let b = WebhookSecret::generate();
        let header = signature_header(&[b.clone(), a.clone()], "msg_1", 5, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(
            parts,
            [b.sign("msg_1", 5, b"{}"), a.sign("msg_1", 5, b"{}")]
        );
        assert!(WebhookSecret::parse("nope").is_none());
        assert!(WebhookSecret::parse("whsec_!!").is_none());
    }
}
