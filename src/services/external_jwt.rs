//! Session tokens of an outside identity provider (seed 002 signs its users in with Clerk):
//! a JWT signed by one of the provider's published keys (`jwks::KeySet`), from the configured
//! issuer, live (`exp`, `nbf`, 30 s of clock skew), and for the configured audience when there
//! is one. Its `sub` names the user identity sync created (`users.external_id`).

use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::jwks::{KeySet, ProviderClient};
use crate::config::ExternalJwtConfig;
use crate::error::AuthFailure;

/// Longer tokens are not a provider's session tokens.
const MAX_TOKEN_LEN: usize = 8 * 1024;
pub const LEEWAY_SECS: u64 = 30;

/// The claims Kanri reads; the signature covers the rest.
#[derive(Debug, Deserialize)]
pub struct ExternalClaims {
    pub sub: String,
    /// The provider's session id (Clerk's `sid`), when it sends one.
    pub sid: Option<String>,
}

pub struct ExternalJwt {
    config: ExternalJwtConfig,
    keys: KeySet,
}

/// Whether a bearer token is shaped like a JWT (three base64url parts, a JSON header), rather
/// than one of Kanri's opaque session tokens.
pub fn looks_like_jwt(token: &str) -> bool {
    token.len() <= MAX_TOKEN_LEN && token.starts_with("eyJ") && token.matches('.').count() == 2
}

impl ExternalJwt {
    pub fn new(config: ExternalJwtConfig) -> anyhow::Result<Self> {
        let keys = KeySet::new(
            config.jwks_url.clone(),
            ProviderClient::new()?,
            config.min_refetch,
        );
        Ok(Self { config, keys })
    }

    /// The token's claims, when it is the provider's, live and for us.
    pub async fn verify(&self, token: &str) -> Result<ExternalClaims, AuthFailure> {
        let invalid = AuthFailure::InvalidToken;
        if !looks_like_jwt(token) {
            return Err(invalid);
        }
        // The algorithm is replaced by the key's in `KeySet::verify`.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        match &self.config.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        let claims: ExternalClaims = self.keys.verify(token, validation).await.ok_or(invalid)?;
        if claims.sub.is_empty() || claims.sub.len() > 255 {
            return Err(invalid);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_jwt_shaped_tokens_are_tried() {
        assert!(looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"));
        assert!(!looks_like_jwt("Kram6FImy1abcdef"));
        assert!(!looks_like_jwt("eyJ.a"));
        assert!(!looks_like_jwt(&format!("eyJ{}.a.b", "x".repeat(9000))));
    }
}
