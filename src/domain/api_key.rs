//! API keys: `sk_live_…` (secret, server-side) and `pk_live_…` (publishable, browser-safe),
//! each a prefix and 43 random base62 characters.

use super::secret_token::{SECRET_LEN, is_base62, random_base62, sha256_hex};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    Secret,
    Publishable,
}

impl KeyKind {
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Secret => "sk_live_",
            Self::Publishable => "pk_live_",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Publishable => "publishable",
        }
    }

    /// The kind a stored row names.
    pub fn from_db(value: &str) -> Option<Self> {
        match value {
            "secret" => Some(Self::Secret),
            "publishable" => Some(Self::Publishable),
            _ => None,
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    kind: KeyKind,
    full: String,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({})", self.hint())
    }
}

impl ApiKey {
    pub fn generate(kind: KeyKind) -> Self {
        Self {
            kind,
            full: format!("{}{}", kind.prefix(), random_base62(SECRET_LEN)),
        }
    }

    /// Parses a key exactly as issued; anything else (empty, bare prefix, a `Bearer ` left in,
    /// wrong length or alphabet) is rejected.
    pub fn parse(input: &str) -> Option<Self> {
        [KeyKind::Secret, KeyKind::Publishable]
            .into_iter()
            .find_map(|kind| {
                let body = input.strip_prefix(kind.prefix())?;
                is_base62(body, SECRET_LEN).then(|| Self {
                    kind,
                    full: input.to_string(),
                })
            })
    }

    /// Whether a credential looks like it was meant to be an API key (so a malformed one is
    /// reported as a bad key rather than a bad session token).
    pub fn looks_like_key(input: &str) -> bool {
        input.starts_with("sk_") || input.starts_with("pk_")
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    pub fn expose(&self) -> &str {
        &self.full
    }

    pub fn hash(&self) -> String {
        sha256_hex(&self.full)
    }

    /// Enough to recognise a key in a listing, not enough to use it: `sk_live_AbCd…wXyZ`.
    pub fn hint(&self) -> String {
        let body = &self.full[self.kind.prefix().len()..];
        format!(
            "{}{}…{}",
            self.kind.prefix(),
            &body[..4],
            &body[body.len() - 4..]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn generated_keys_have_prefix_and_are_unique() {
        let mut seen = HashSet::new();
        for i in 0..1000 {
            let kind = if i % 2 == 0 {
                KeyKind::Secret
            } else {
                KeyKind::Publishable
            };
            let key = ApiKey::generate(kind);
            assert!(key.expose().starts_with(kind.prefix()));
            assert_eq!(ApiKey::parse(key.expose()), Some(key.clone()));
            assert!(seen.insert(key.expose().to_string()), "duplicate key");
        }
    }

    #[test]
    fn malformed_keys_are_rejected() {
        let good = ApiKey::generate(KeyKind::Secret);
        for bad in [
            "".to_string(),
            "sk_".into(),
            "sk_live_".into(),
            "no_prefix".into(),
            "Bearer sk_live_abc".into(),
            "sk_live_abc".into(),
            format!("Bearer {}", good.expose()),
            format!("{} ", good.expose()),
            good.expose().replacen("sk_live_", "sk_test_", 1),
            format!("{}!", &good.expose()[..good.expose().len() - 1]),
        ] {
            assert!(ApiKey::parse(&bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn hint_and_debug_do_not_reveal_the_key() {
        let key = ApiKey::generate(KeyKind::Publishable);
        assert!(!format!("{key:?}").contains(key.expose()));
        assert!(key.hint().starts_with("pk_live_"));
        assert_eq!(key.hash().len(), 64);
    }

    proptest! {
        #[test]
        fn random_strings_are_not_keys(s in "\\PC{0,80}") {
            // A random string is a key only if it has exactly the issued shape.
            let shaped = (s.starts_with("sk_live_") || s.starts_with("pk_live_"))
                && s.len() == 8 + SECRET_LEN
                && s[8..].bytes().all(|b| b.is_ascii_alphanumeric());
            prop_assert_eq!(ApiKey::parse(&s).is_some(), shaped);
        }
    }
}
