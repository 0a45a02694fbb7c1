//! Opaque bearer secrets (session tokens, and the body of API keys): 43 random base62
//! characters, about 256 bits. Only their SHA-256 is ever stored.

use rand::RngExt;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

pub const SECRET_LEN: usize = 43;

#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretToken([redacted])")
    }
}

impl SecretToken {
    pub fn generate() -> Self {
        Self(random_base62(SECRET_LEN))
    }

    /// Accepts only strings that could have been generated, so garbage never reaches the database.
    pub fn parse(input: &str) -> Option<Self> {
        is_base62(input, SECRET_LEN).then(|| Self(input.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> String {
        sha256_hex(&self.0)
    }
}

/// Random characters from `[A-Za-z0-9]`, drawn from the thread-local CSPRNG.
pub fn random_base62(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

pub fn is_base62(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_hash_stably() {
        let t = SecretToken::generate();
        assert_eq!(t.expose().len(), SECRET_LEN);
        assert_eq!(SecretToken::parse(t.expose()), Some(t.clone()));
        assert_eq!(t.hash(), sha256_hex(t.expose()));
        assert_ne!(t.hash(), t.expose());
        assert_eq!(t.hash().len(), 64);
        assert!(!format!("{t:?}").contains(t.expose()));
    }

    #[test]
    fn parse_rejects_wrong_shapes() {
        assert!(SecretToken::parse("").is_none());
        assert!(SecretToken::parse(&"a".repeat(42)).is_none());
        assert!(SecretToken::parse(&format!("{}-", "a".repeat(42))).is_none());
    }
}
