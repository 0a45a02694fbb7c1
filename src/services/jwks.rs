//! An identity provider's published signing keys (a JWKS) and the HTTP client that reads
//! provider documents: shared by outside session tokens (`external_jwt`) and OIDC sign-in.
//!
//! The set is fetched on first use, kept for ten minutes, and fetched again early — at most
//! once per `min_refetch` — when a token names a key it does not hold, so a provider's key
//! rotation is picked up without a restart and a flood of made-up key ids cannot make the
//! server hammer the provider. URLs come from the operator's configuration, never a client.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::de::DeserializeOwned;
use tokio::sync::RwLock;

const KEYS_TTL: Duration = Duration::from_secs(600);
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

/// An https (or loopback http) client for a provider's documents and token endpoint.
#[derive(Clone)]
pub struct ProviderClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl ProviderClient {
    pub fn new() -> anyhow::Result<Self> {
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
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// GETs a JSON document.
    pub async fn get_json<T: DeserializeOwned>(&self, url: &str) -> anyhow::Result<T> {
        let request = hyper::Request::get(url.parse::<Uri>()?)
            .header("accept", "application/json")
            .body(Full::new(Bytes::new()))?;
        self.exchange(request).await
    }

    /// POSTs a form and reads a JSON answer (a token endpoint).
    pub async fn post_form<T: DeserializeOwned>(
        &self,
        url: &str,
        form: String,
        authorization: Option<String>,
    ) -> anyhow::Result<T> {
        let mut request = hyper::Request::post(url.parse::<Uri>()?)
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        self.exchange(request.body(Full::new(Bytes::from(form)))?)
            .await
    }

    async fn exchange<T: DeserializeOwned>(
        &self,
        request: hyper::Request<Full<Bytes>>,
    ) -> anyhow::Result<T> {
        let response = tokio::time::timeout(TIMEOUT, self.client.request(request)).await??;
        let status = response.status();
        let body = http_body_util::Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("reading the answer: {e}"))?
            .to_bytes();
        anyhow::ensure!(
            status.is_success(),
            "the provider answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        );
        Ok(serde_json::from_slice(&body)?)
    }
}

struct Cached {
    set: JwkSet,
    fetched_at: Instant,
}

/// One provider's signing keys, cached.
pub struct KeySet {
    url: String,
    client: ProviderClient,
    min_refetch: Duration,
    cached: RwLock<Option<Cached>>,
}

impl KeySet {
    pub fn new(url: String, client: ProviderClient, min_refetch: Duration) -> Self {
        // Tokens are checked with ring (jsonwebtoken has no backend of its own here).
        crate::crypto::jwt_ring::install();
        Self {
            url,
            client,
            min_refetch,
            cached: RwLock::new(None),
        }
    }

    /// The key `kid` and its algorithm, from the cached set or a fresh one.
    pub async fn key(&self, kid: &str) -> Option<(DecodingKey, Algorithm)> {
        {
            let cached = self.cached.read().await;
            if let Some(c) = cached.as_ref() {
                match usable(&c.set, kid) {
                    Some(found) if c.fetched_at.elapsed() < KEYS_TTL => return Some(found),
                    None if c.fetched_at.elapsed() < self.min_refetch => return None,
                    _ => {}
                }
            }
        }
        let mut cached = self.cached.write().await;
        // Another request may have fetched meanwhile.
        let recent = cached
            .as_ref()
            .is_some_and(|c| c.fetched_at.elapsed() < self.min_refetch);
        if !recent {
            match self.client.get_json::<JwkSet>(&self.url).await {
                Ok(set) => {
                    *cached = Some(Cached {
                        set,
                        fetched_at: Instant::now(),
                    })
                }
                Err(e) => {
                    tracing::warn!(error = %e, url = %self.url, "cannot fetch the identity provider's keys");
                    // Keep serving the keys held, and try again after `min_refetch`.
                    if let Some(c) = cached.as_mut() {
                        c.fetched_at = Instant::now()
                            .checked_sub(KEYS_TTL.saturating_sub(self.min_refetch))
                            .unwrap_or_else(Instant::now);
                    }
                }
            }
        }
        cached.as_ref().and_then(|c| usable(&c.set, kid))
    }

    /// Verifies a JWT signed by one of these keys — with the key's algorithm, never the
    /// token's, so a token cannot pick `none` or HMAC keyed with a public key — against
    /// `validation` (whose algorithm list is replaced), and returns its claims.
    pub async fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        mut validation: jsonwebtoken::Validation,
    ) -> Option<T> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let (key, algorithm) = self.key(header.kid.as_deref()?).await?;
        if header.alg != algorithm {
            return None;
        }
        validation.algorithms = vec![algorithm];
        match jsonwebtoken::decode::<T>(token, &key, &validation) {
            Ok(data) => Some(data.claims),
            Err(e) => {
                tracing::debug!(error = %e, "provider token refused");
                None
            }
        }
    }
}

/// The key with id `kid` as a verifying key with its algorithm; keys without a usable
/// algorithm (or meant for encryption) are skipped.
fn usable(set: &JwkSet, kid: &str) -> Option<(DecodingKey, Algorithm)> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, PublicKeyUse};
    let jwk = set.find(kid)?;
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return None;
    }
    let algorithm = match jwk.common.key_algorithm {
        Some(alg) => Algorithm::try_from(alg).ok()?,
        // Providers often leave `alg` out; the key type decides.
        None => match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => Algorithm::ES256,
                EllipticCurve::P384 => Algorithm::ES384,
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
