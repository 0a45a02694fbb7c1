//! Password policy and hashing. Hashing is synchronous and slow on purpose; callers run it
//! off the async runtime (see `services::passwords`).

use std::fmt;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::FieldError;

const MIN_CHARS: usize = 8;
const MAX_CHARS: usize = 256;

/// A password that meets the policy: 8 to 256 characters, nothing else. No composition rule
/// (NIST SP 800-63B: composition rules make passwords weaker in practice, and a length is
/// the one rule an OpenAPI schema states exactly, so a client can check before it sends).
/// Its `Debug` never shows the value.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl Password {
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let chars = input.chars().count();
        if chars > MAX_CHARS {
            return Err(FieldError::new(field, "must be at most 256 characters"));
        }
        if chars < MIN_CHARS {
            return Err(FieldError::new(field, "must be at least 8 characters"));
        }
        Ok(Self(input.to_string()))
    }

    /// A password offered at sign-in is checked against the stored hash as given; only the
    /// size cap applies, so that policy changes never lock anyone out.
    pub fn for_login(input: &str) -> Option<Self> {
        (input.chars().count() <= MAX_CHARS).then(|| Self(input.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    Match,
    /// Correct, but the hash is in a legacy format (bcrypt) and should be replaced.
    MatchNeedsRehash,
    Mismatch,
}

/// Hashes with argon2id and the crate's recommended parameters into a PHC string.
pub fn hash(password: &Password) -> anyhow::Result<String> {
    let hash = Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
    Ok(hash.to_string())
}

/// Checks a password against an argon2 PHC string or an imported bcrypt hash.
pub fn verify(password: &Password, stored: &str) -> Verification {
    let candidate = password.expose().as_bytes();
    if is_bcrypt(stored) {
        return match bcrypt::verify(candidate, stored) {
            Ok(true) => Verification::MatchNeedsRehash,
            _ => Verification::Mismatch,
        };
    }
    match PasswordHash::new(stored) {
        Ok(parsed)
            if Argon2::default()
                .verify_password(candidate, &parsed)
                .is_ok() =>
        {
            Verification::Match
        }
        _ => Verification::Mismatch,
    }
}

/// Spends the same work as a real verification, so an unknown account cannot be told apart
/// from a wrong password by timing.
pub fn verify_dummy(password: &Password) {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        hash(&Password("dummy-password-1".into())).expect("hashing a constant succeeds")
    });
    let _ = verify(password, &DUMMY);
}

fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|p| stored.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn policy() {
        assert!(Password::parse("password", "abcdefg1").is_ok());
        assert!(Password::parse("password", "пароль123").is_ok());
        assert!(Password::parse("password", "abc1").is_err());
        // Length is the rule; what the characters are is not.
        assert!(Password::parse("password", "abcdefgh").is_ok());
        assert!(Password::parse("password", "12345678").is_ok());
        assert!(Password::parse("password", "       é").is_ok());
        assert!(Password::parse("password", "abcdefg").is_err());
        // Characters, not bytes: 256 four-byte characters are a valid password.
        assert!(Password::parse("password", &"🙂".repeat(256)).is_ok());
        assert!(Password::parse("password", &"x".repeat(257)).is_err());
        assert!(!format!("{:?}", Password::parse("p", "abcdefg1").unwrap()).contains("abcdefg1"));
    }

    #[test]
    fn bcrypt_hashes_verify_and_ask_for_rehash() {
        let pw = Password::parse("password", "legacy-pass-9").unwrap();
        let stored = bcrypt::hash("legacy-pass-9", 4).unwrap();
        assert_eq!(verify(&pw, &stored), Verification::MatchNeedsRehash);
        let wrong = Password::parse("password", "legacy-pass-8").unwrap();
        assert_eq!(verify(&wrong, &stored), Verification::Mismatch);
        let y_variant = stored.replacen("$2b$", "$2y$", 1);
        assert_eq!(verify(&pw, &y_variant), Verification::MatchNeedsRehash);
    }

    #[test]
    fn garbage_hashes_never_match() {
        let pw = Password::parse("password", "abcdefg1").unwrap();
        for stored in ["", "abcdefg1", "$argon2id$nonsense", "$2b$04$short"] {
            assert_eq!(verify(&pw, stored), Verification::Mismatch, "{stored}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]
        #[test]
        fn stored_hash_never_equals_password_and_verifies(raw in "[a-z]{4,20}[0-9]{4,8}") {
            let pw = Password::parse("password", &raw).unwrap();
            let stored = hash(&pw).unwrap();
            prop_assert!(stored.starts_with("$argon2id$"));
            prop_assert!(!stored.contains(&raw));
            prop_assert_eq!(verify(&pw, &stored), Verification::Match);
            let other = Password::parse("password", &format!("{raw}x")).unwrap();
            prop_assert_eq!(verify(&other, &stored), Verification::Mismatch);
        }
    }
}
