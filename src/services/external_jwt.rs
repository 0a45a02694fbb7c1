//! Session tokens of an outside identity provider (seed 002 signs its users in with Clerk):
//! a JWT signed by one of the provider's published keys, from the configured issuer, live
//! (`exp`, `nbf`, 30 s of clock skew), and for the configured audience when there is one. Its
//! `sub` names the user identity sync created (`users.external_id`).
//!
//! The key set is fetched on first use, kept for ten minutes, and fetched again early — at
//! most once a minute — when a token names a key it does not hold, so a provider's key
//! rotation is picked up without a restart and a flood of made-up key ids cannot make the
//! server hammer the provider.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::RwLock;

use crate::config::ExternalJwtConfig;
use crate::error::AuthFailure;

const KEYS_TTL: Duration = Duration::from_secs(600);
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Longer tokens are not a provider's session tokens.
const MAX_TOKEN_LEN: usize = 8 * 1024;
const LEEWAY_SECS: u64 = 30;

/// The claims Kanri reads; the signature covers the rest.
#[derive(Debug, Deserialize)]
pub struct ExternalClaims {
    pub sub: String,
    /// The provider's session id (Clerk's `sid`), when it sends one.
    pub sid: Option<String>,
}

struct Keys {
    set: JwkSet,
    fetched_at: Instant,
}

pub struct ExternalJwt {
    config: ExternalJwtConfig,
    jwks_url: Uri,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
    keys: RwLock<Option<Keys>>,
}

/// Whether a bearer token is shaped like a JWT (three base64url parts, a JSON header), rather
/// than one of Kanri's opaque session tokens.
pub fn looks_like_jwt(token: &str) -> bool {
    token.len() <= MAX_TOKEN_LEN && token.starts_with("eyJ") && token.matches('.').count() == 2
}

impl ExternalJwt {
    pub fn new(config: ExternalJwtConfig) -> anyhow::Result<Self> {
        let jwks_url: Uri = config.jwks_url.parse()?;
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let roots =
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            config,
            jwks_url,
            client: Client::builder(TokioExecutor::new()).build(connector),
            keys: RwLock::new(None),
        })
    }

    /// The token's claims, when it is the provider's, live and for us.
    pub async fn verify(&self, token: &str) -> Result<ExternalClaims, AuthFailure> {
        let invalid = AuthFailure::InvalidToken;
        if !looks_like_jwt(token) {
            return Err(invalid);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid)?;
        let kid = header.kid.ok_or(invalid)?;
        let (key, algorithm) = self.key(&kid).await.ok_or(invalid)?;
        // The algorithm is the key's, never the token's: a token cannot pick HS256 with the
        // public key as its secret, or `none`.
        if header.alg != algorithm {
            return Err(invalid);
        }
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        match &self.config.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        let data =
            jsonwebtoken::decode::<ExternalClaims>(token, &key, &validation).map_err(|e| {
                tracing::debug!(error = %e, "outside session token refused");
                invalid
            })?;
        if data.claims.sub.is_empty() || data.claims.sub.len() > 255 {
            return Err(invalid);
        }
        Ok(data.claims)
    }

    /// The key `kid` and its algorithm, from the cached set or a fresh one.
    async fn key(&self, kid: &str) -> Option<(DecodingKey, Algorithm)> {
        {
            let keys = self.keys.read().await;
            if let Some(keys) = keys.as_ref() {
                let fresh = keys.fetched_at.elapsed() < KEYS_TTL;
                if let Some(found) = usable(&keys.set, kid) {
                    if fresh {
                        return Some(found);
                    }
                } else if keys.fetched_at.elapsed() < self.config.min_refetch {
                    return None;
                }
            }
        }
        let mut keys = self.keys.write().await;
        // Another request may have fetched meanwhile.
        let recent = keys
            .as_ref()
            .is_some_and(|k| k.fetched_at.elapsed() < self.config.min_refetch);
        if !recent {
            match self.fetch().await {
                Ok(set) => {
                    *keys = Some(Keys {
                        set,
                        fetched_at: Instant::now(),
                    })
                }
                Err(e) => {
                    tracing::warn!(error = %e, url = %self.jwks_url, "cannot fetch the identity provider's keys");
                    // Keep serving the keys held, if any.
                    if let Some(k) = keys.as_mut() {
                        k.fetched_at = Instant::now()
                            .checked_sub(KEYS_TTL.saturating_sub(self.config.min_refetch))
                            .unwrap_or_else(Instant::now);
                    }
                }
            }
        }
        keys.as_ref().and_then(|k| usable(&k.set, kid))
    }

    async fn fetch(&self) -> anyhow::Result<JwkSet> {
        let request = hyper::Request::get(self.jwks_url.clone())
            .header("accept", "application/json")
            .body(Empty::new())?;
        let response =
            tokio::time::timeout(Duration::from_secs(10), self.client.request(request)).await??;
        anyhow::ensure!(
            response.status().is_success(),
            "the key set answered {}",
            response.status()
        );
        let body = http_body_util::Limited::new(response.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("reading the key set: {e}"))?
            .to_bytes();
        Ok(serde_json::from_slice(&body)?)
    }
}

/// The key with id `kid` as a verifying key with its algorithm; keys without a usable
/// algorithm (or meant for encryption) are skipped.
fn usable(set: &JwkSet, kid: &str) -> Option<(DecodingKey, Algorithm)> {
    let jwk = set.find(kid)?;
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != jsonwebtoken::jwk::PublicKeyUse::Signature)
    {
        return None;
    }
    let algorithm = match jwk.common.key_algorithm {
        Some(alg) => Algorithm::try_from(alg).ok()?,
        // Providers often leave `alg` out; the key type decides.
        None => match &jwk.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
            jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                jsonwebtoken::jwk::EllipticCurve::P256 => Algorithm::ES256,
                jsonwebtoken::jwk::EllipticCurve::P384 => Algorithm::ES384,
                _ => return None,
            },
            _ => return None,
        },
    };
    // Symmetric keys are never published keys.
    if matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        return None;
    }
    Some((DecodingKey::from_jwk(jwk).ok()?, algorithm))
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

    #[test]
    fn symmetric_and_encryption_keys_are_never_used() {
        let set: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "oct", "kid": "h", "alg": "HS256", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "enc", "use": "enc", "crv": "P-256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "kid": "sig", "crv": "P-256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
        ]}))
        .unwrap();
        assert!(usable(&set, "h").is_none());
        assert!(usable(&set, "enc").is_none());
        assert_eq!(usable(&set, "sig").map(|(_, a)| a), Some(Algorithm::ES256));
        assert!(usable(&set, "missing").is_none());
    }
}
